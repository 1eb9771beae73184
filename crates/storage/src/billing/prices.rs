//! Price book (R14.1).

use super::*;

#[derive(sqlx::FromRow)]
pub(super) struct PriceRecord {
    key: String,
    contractor_id: String,
    effective_from: String,
    amount: i64,
}

pub(super) fn price_from_row(r: PriceRecord) -> Result<Price> {
    Ok(Price {
        key: r
            .key
            .parse()
            .map_err(|e: mpc_domain::price::UnknownPriceKey| {
                StorageError::Corrupt(e.to_string())
            })?,
        contractor_id: (!r.contractor_id.is_empty()).then_some(r.contractor_id),
        effective_from: date(&r.effective_from)?,
        amount: Yen(r.amount),
    })
}

/// Prices in key order: the list (`contractor` `Some("")`), one contractor's agreements, or
/// all (`None`).
pub async fn list_prices(conn: &mut AnyConnection, contractor: Option<&str>) -> Result<Vec<Price>> {
    let mut q = Sql::new("SELECT key, contractor_id, effective_from, amount FROM prices");
    if let Some(c) = contractor {
        q.push(" WHERE contractor_id = ").bind(c.to_owned());
    }
    q.push(" ORDER BY contractor_id, key, effective_from");
    let rows: Vec<PriceRecord> = q
        .query_as()?
        .fetch_all(conn)
        .await
        .map_err(StorageError::from)?;
    rows.into_iter().map(price_from_row).collect()
}

pub async fn price_book(conn: &mut AnyConnection) -> Result<PriceBook> {
    Ok(PriceBook::new(list_prices(conn, None).await?))
}

/// Sets prices (insert or replace the amount of the same key, contractor and day).
pub async fn upsert_prices(tx: &mut WriteTx, prices: &[Price]) -> Result<()> {
    for p in prices {
        mpc_domain::price::check_amount(&p.key.to_string(), p.amount.0)?;
        sqlx::query(
            "INSERT INTO prices (key, contractor_id, effective_from, amount, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (key, contractor_id, effective_from) DO UPDATE SET amount = excluded.amount, updated_at = excluded.updated_at",
        )
        .bind(p.key.to_string())
        .bind(p.contractor_id.clone().unwrap_or_default())
        .bind(p.effective_from.to_string())
        .bind(p.amount.0)
        .bind(now_micros())
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

pub async fn delete_price(
    tx: &mut WriteTx,
    key: PriceKey,
    contractor: Option<&str>,
    from: Date,
) -> Result<()> {
    let done = sqlx::query(
        "DELETE FROM prices WHERE key = $1 AND contractor_id = $2 AND effective_from = $3",
    )
    .bind(key.to_string())
    .bind(contractor.unwrap_or_default().to_owned())
    .bind(from.to_string())
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound.into());
    }
    Ok(())
}

/// The price book as CSV: `key,contractor_id,effective_from,amount,label,contractor_name`
/// (list prices have an empty contractor). The last two name the key, as 別紙1 does, and the
/// contractor (`contractor_name` looks a contractor's name up by id); [`prices_from_csv`]
/// reads a file with or without them.
pub fn prices_to_csv(prices: &[Price], contractor_name: impl Fn(&str) -> String) -> String {
    let mut out = String::from("key,contractor_id,effective_from,amount,label,contractor_name\n");
    for p in prices {
        let contractor = p.contractor_id.as_deref().unwrap_or("");
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            csv_field(&p.key.to_string()),
            csv_field(contractor),
            p.effective_from,
            p.amount.0,
            csv_field(&p.key.label_ja()),
            csv_field(&if contractor.is_empty() {
                String::new()
            } else {
                contractor_name(contractor)
            }),
        ));
    }
    out
}

pub(super) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// A bad row of a price CSV; `line` counts from 1, the header included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceRowError {
    pub line: usize,
    pub fault: PriceRowFault,
}

/// What is wrong with a row of a price CSV, told in English or Japanese (R14.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriceRowFault {
    /// Neither 4 nor 6 fields.
    FieldCount { found: usize },
    /// A key that names nothing in 別紙1.
    UnknownKey(mpc_domain::price::UnknownPriceKey),
    /// An `effective_from` that is not a day.
    Date(mpc_domain::calendar::CalendarError),
    /// An amount that is not a whole number.
    AmountNotWhole { given: String },
    /// A whole amount outside what the price book takes.
    Amount(mpc_domain::Refusal),
}

impl PriceRowFault {
    pub fn message_en(&self) -> String {
        match self {
            PriceRowFault::FieldCount { found } => format!(
                "expected 4 fields (key,contractor_id,effective_from,amount) and optionally \
                 label,contractor_name, found {found}"
            ),
            PriceRowFault::UnknownKey(e) => e.to_string(),
            PriceRowFault::Date(e) => format!("effective_from: {e}"),
            PriceRowFault::AmountNotWhole { given } => {
                format!("amount {given:?} is not a whole number of yen (R14.1)")
            }
            PriceRowFault::Amount(r) => r.message_en.clone(),
        }
    }

    pub fn message_ja(&self) -> String {
        match self {
            PriceRowFault::FieldCount { found } => format!(
                "項目数が正しくありません。key,contractor_id,effective_from,amount の4項目\
                 （label,contractor_name を加えた6項目も可）が必要です（{found}項目あります）"
            ),
            PriceRowFault::UnknownKey(e) => e.message_ja(),
            PriceRowFault::Date(e) => format!("effective_from: {}", e.message_ja()),
            PriceRowFault::AmountNotWhole { given } => {
                format!("amount「{given}」は円単位の整数ではありません（R14.1）")
            }
            PriceRowFault::Amount(r) => r.message_ja.clone(),
        }
    }
}

impl std::fmt::Display for PriceRowFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message_en())
    }
}

/// Reads price CSV as written by [`prices_to_csv`], with or without its name columns (the
/// names are not read back: the key and the contractor's id say what a row prices) and with or
/// without the byte order mark Excel writes; every bad row is reported with its line number,
/// and nothing is taken unless all rows are good.
pub fn prices_from_csv(text: &str) -> std::result::Result<Vec<Price>, Vec<PriceRowError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut prices = Vec::new();
    let mut errors = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || (n == 0 && trimmed.starts_with("key,")) {
            continue;
        }
        let mut bad = |fault| errors.push(PriceRowError { line, fault });
        let fields = split_csv(trimmed);
        if fields.len() != 4 && fields.len() != 6 {
            bad(PriceRowFault::FieldCount {
                found: fields.len(),
            });
            continue;
        }
        let key = match fields[0].parse::<PriceKey>() {
            Ok(k) => k,
            Err(e) => {
                bad(PriceRowFault::UnknownKey(e));
                continue;
            }
        };
        let from = match mpc_domain::calendar::parse_business_date(&fields[2]) {
            Ok(d) => d,
            Err(e) => {
                bad(PriceRowFault::Date(e));
                continue;
            }
        };
        let amount = match fields[3].parse::<i64>() {
            Ok(a) => match mpc_domain::price::check_amount("amount", a) {
                Ok(a) => a,
                Err(r) => {
                    bad(PriceRowFault::Amount(r));
                    continue;
                }
            },
            Err(_) => {
                bad(PriceRowFault::AmountNotWhole {
                    given: fields[3].clone(),
                });
                continue;
            }
        };
        prices.push(Price {
            key,
            contractor_id: (!fields[1].is_empty()).then(|| fields[1].clone()),
            effective_from: from,
            amount,
        });
    }
    if errors.is_empty() {
        Ok(prices)
    } else {
        Err(errors)
    }
}

pub(super) fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields.into_iter().map(|f| f.trim().to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_csv_names_every_bad_row_with_what_is_wrong() {
        let csv = "key,contractor_id,effective_from,amount\n\
                   management.monthly,,2026-04-01,3000\n\
                   not.a.key,,2026-04-01,5\n\
                   management.monthly,,2026-02-30,5\n\
                   management.monthly,,2026-04-01,3.5\n\
                   management.monthly,,2026-04-01,100000001\n\
                   management.monthly,,2026-04-01\n\
                   management.monthly,,1900-01-01,3000\n";
        let errors = prices_from_csv(csv).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7, 8]);
        assert!(matches!(&errors[0].fault, PriceRowFault::UnknownKey(k) if k.0 == "not.a.key"));
        assert!(matches!(errors[1].fault, PriceRowFault::Date(_)));
        assert!(matches!(
            errors[2].fault,
            PriceRowFault::AmountNotWhole { .. }
        ));
        assert!(matches!(&errors[3].fault, PriceRowFault::Amount(r) if r.rule == "R14.1"));
        assert_eq!(errors[4].fault, PriceRowFault::FieldCount { found: 3 });
        // A real date outside the days the service handles, as the JSON import refuses it.
        assert!(matches!(
            &errors[5].fault,
            PriceRowFault::Date(mpc_domain::calendar::CalendarError::OutsideBusinessDates { .. })
        ));
        let japanese = |t: &str| t.chars().any(|c| ('\u{3040}'..='\u{9fff}').contains(&c));
        for e in &errors {
            let (en, ja) = (e.fault.message_en(), e.fault.message_ja());
            assert!(!japanese(&en) && japanese(&ja), "{en} / {ja}");
        }
    }
}
