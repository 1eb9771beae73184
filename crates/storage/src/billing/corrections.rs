//! Corrections of finalized months (B4).

use super::*;

/// Recomputes a finalized month for the contractors whose books (or prices) changed after it
/// was finalized, and records each difference from what was invoiced — net of corrections
/// already made — as an adjustment for the account's next open invoice, citing the invoice it
/// corrects (B4). Running it again finds nothing new. Returns the adjustments made.
pub async fn correct(
    store: &Store,
    month: Month,
    journal: JournalEntry,
) -> Result<Vec<(String, Yen)>> {
    let mut conn = store.conn().await?;
    let Some((status, Some(run), finalized_at)) = month_status(&mut conn, month).await? else {
        return Ok(Vec::new());
    };
    if status != invoice::MonthState::Finalized {
        return Ok(Vec::new());
    }
    let finalized_at = finalized_at.unwrap_or(i64::MAX);
    let m = month.to_string();
    let prices_changed: Option<i64> = sqlx::query_scalar("SELECT MAX(updated_at) FROM prices")
        .fetch_one(&mut *conn)
        .await?;
    let contractors: Vec<String> = if prices_changed.is_some_and(|at| at > finalized_at) {
        sqlx::query_scalar("SELECT DISTINCT contractor_id FROM invoice_lines WHERE month = $1 AND run_id = $2 AND seq < 1000000000 ORDER BY contractor_id")
            .bind(m.clone())
            .bind(run.clone())
            .fetch_all(&mut *conn)
            .await?
    } else {
        sqlx::query_scalar(
            "SELECT contractor_id FROM book_changes WHERE changed_at > $1 ORDER BY contractor_id",
        )
        .bind(finalized_at)
        .fetch_all(&mut *conn)
        .await?
    };
    let prices = std::sync::Arc::new(price_book(&mut conn).await?);
    type Key = (String, String, String, String, String);
    let mut made = Vec::new();
    let mut differences: Vec<(String, LineText, Key, i64)> = Vec::new();
    for contractor_id in &contractors {
        let billed = bill_range(store, &prices, month, contractor_id, contractor_id).await?;
        if !billed.missing.is_empty() {
            return Err(BillingError::MissingPrices(billed.missing));
        }
        let mut diff: std::collections::BTreeMap<Key, (i64, LineText)> =
            std::collections::BTreeMap::new();
        for (_, lines) in &billed.lines {
            for l in lines {
                let key = (
                    l.account.clone(),
                    l.contract_id.clone(),
                    l.subject_id.clone(),
                    wire(&l.kind),
                    l.rule.clone(),
                );
                let e = diff.entry(key).or_insert((0, l.text.clone()));
                e.0 += l.amount.0;
            }
        }
        type Issued = (
            String,
            String,
            String,
            String,
            String,
            i64,
            String,
            Option<String>,
        );
        let issued: Vec<Issued> = sqlx::query_as(
            "SELECT account_id, contract_id, subject_id, kind, rule, amount, description, text FROM invoice_lines \
             WHERE month = $1 AND run_id = $2 AND contractor_id = $3 AND seq < 1000000000",
        )
        .bind(m.clone())
        .bind(run.clone())
        .bind(contractor_id.clone())
        .fetch_all(&mut *conn)
        .await?;
        for (account, contract, subject, kind, rule, amount, description, text) in issued {
            let text = match text.as_deref().map(serde_json::from_str) {
                Some(Ok(text)) => text,
                _ => LineText::Words {
                    kind: from_wire(&kind)?,
                    ja: description,
                },
            };
            let e = diff
                .entry((account, contract, subject, kind, rule))
                .or_insert((0, text));
            e.0 -= amount;
        }
        // Zero differences too: a correction already made may have to be taken back.
        for (key, (amount, text)) in diff {
            differences.push((contractor_id.clone(), text, key, amount));
        }
    }
    drop(conn);
    if differences.is_empty() {
        return Ok(made);
    }
    // Net of corrections already made, read under the month's lock: two runs correcting the
    // same month at once record each difference once.
    let mut tx = store.write().await?;
    tx.lock(&format!("billing:{month}")).await?;
    let today = mpc_domain::calendar::tokyo_date(jiff::Timestamp::now());
    let mut corrected: std::collections::HashMap<String, Vec<(Key, i64)>> =
        std::collections::HashMap::new();
    for (contractor_id, corrected_text, key, amount) in differences {
        if !corrected.contains_key(&contractor_id) {
            let rows: Vec<(String, String, String, String, String, i64)> = sqlx::query_as(
                "SELECT account_id, contract_id, corrects_subject, corrects_kind, rule, amount FROM pending_adjustments \
                 WHERE contractor_id = $1 AND kind = 'adjustment' AND refers_to LIKE $2",
            )
            .bind(contractor_id.clone())
            .bind(format!("{}-%", m.replace('-', "")))
            .fetch_all(tx.conn())
            .await?;
            corrected.insert(
                contractor_id.clone(),
                rows.into_iter()
                    .map(|(a, c, s, k, r, amount)| ((a, c, s, k, r), amount))
                    .collect(),
            );
        }
        let already: i64 = corrected[&contractor_id]
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, amount)| amount)
            .sum();
        let amount = amount - already;
        if amount == 0 {
            continue;
        }
        let (account, contract, subject, kind, rule) = key;
        let refers_to = invoice_id(month, &account);
        let serial: Option<Option<i64>> =
            sqlx::query_scalar("SELECT serial FROM invoices WHERE id = $1")
                .bind(refers_to.clone())
                .fetch_optional(tx.conn())
                .await?;
        let number = serial
            .flatten()
            .map_or_else(|| refers_to.clone(), invoice::number);
        let text = LineText::Correction {
            month,
            invoice: number,
            of: Box::new(corrected_text),
        };
        sqlx::query(
            "INSERT INTO pending_adjustments (id, account_id, contractor_id, contract_id, kind, rule, description, amount, \
             refers_to, corrects_subject, corrects_kind, created_on, period_from, period_to, text) \
             VALUES ($1, $2, $3, $4, 'adjustment', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(new_id())
        .bind(account.clone())
        .bind(contractor_id)
        .bind(contract)
        .bind(rule)
        .bind(text.ja())
        .bind(amount)
        .bind(refers_to)
        .bind(subject)
        .bind(kind)
        .bind(today.to_string())
        .bind(month.first_day().to_string())
        .bind(month.last_day().to_string())
        .bind(json(&text))
        .execute(tx.conn())
        .await?;
        made.push((account, Yen(amount)));
    }
    if made.is_empty() {
        return Ok(made);
    }
    tx.commit(
        journal
            .subject(&m)
            .outcome(serde_json::json!({ "adjustments": made.len() })),
    )
    .await?;
    Ok(made)
}
