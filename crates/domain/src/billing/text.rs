//! What an invoice line says, kept as data (B1): the printed invoice writes it in Japanese, as
//! a qualified invoice must be written, and the console writes it in the reader's language.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{LineKind, proration_note, slashed};
use crate::calendar::Month;
use crate::money::Yen;
use crate::price::PriceKey;

/// What a line is, with what its words need: which fee, which month and days (D7), which
/// period of an early-termination charge (R15.1), how many days of 料金の減額 (R16.2), which
/// invoice a correction (B4) or a moved unpaid amount (R6.4) refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "text", rename_all = "snake_case")]
pub enum LineText {
    /// A fee of 別紙1 over the line's whole period: an initial fee, a whole month's fee, a
    /// one-time fee with the note it was charged with (user data).
    Fee {
        key: PriceKey,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// A monthly fee prorated by day (D7).
    Prorated {
        key: PriceKey,
        month: Month,
        days: i8,
        days_in_month: i8,
    },
    /// A packet share group's pack: GB in force × the per-GB price (R9.6).
    Pack { gb: u32, per_gb: Yen },
    /// An early-termination charge over the rest of the minimum period (R15.1).
    EarlyTermination { key: PriceKey, from: Date, to: Date },
    /// One month of an early-termination charge, as a quote lists it (R15.1, D7).
    EarlyTerminationMonth {
        key: PriceKey,
        month: Month,
        days: i8,
        days_in_month: i8,
    },
    /// 料金の減額 for `days` whole days of unavailability (R16.2).
    SlaReduction { days: i64 },
    /// The unpaid amount of a redirected invoice, owed by the management contractor (R6.4).
    MovedUnpaid { invoice: String },
    /// A correction of the line `of` on the finalized invoice of `month` (B4).
    Correction {
        month: Month,
        invoice: String,
        of: Box<LineText>,
    },
    /// A line whose Japanese words are all that is known (stored before lines kept their
    /// text as data, and not recognized).
    Words { kind: LineKind, ja: String },
}

impl LineText {
    /// The line as the invoice prints it (Japanese).
    pub fn ja(&self) -> String {
        match self {
            LineText::Fee { key, note: None } => key.label_ja(),
            LineText::Fee {
                key,
                note: Some(note),
            } => format!("{}（{note}）", key.label_ja()),
            LineText::Prorated {
                key,
                month,
                days,
                days_in_month,
            } => format!(
                "{}（{}）",
                key.label_ja(),
                proration_note(*month, *days, *days_in_month, false)
            ),
            LineText::Pack { gb, per_gb } => format!("パケットパック {gb}GB（{per_gb}/GB）"),
            LineText::EarlyTermination { key, from, to } => format!(
                "最低利用期間内解除調定金 {} {}〜{}",
                key.label_ja(),
                slashed(*from),
                slashed(*to)
            ),
            LineText::EarlyTerminationMonth {
                key,
                month,
                days,
                days_in_month,
            } => {
                let note = if days == days_in_month {
                    let first = month.first_day();
                    format!("{}年{}月分", first.year(), first.month())
                } else {
                    proration_note(*month, *days, *days_in_month, false)
                };
                format!("最低利用期間内解除調定金 {}（{note}）", key.label_ja())
            }
            LineText::SlaReduction { days } => {
                format!("料金の減額（SLA、利用不能 {days}日分、月額費用の{days}/30）")
            }
            LineText::MovedUnpaid { invoice } => {
                format!("請求書送付先の未払い分（請求書 {invoice}）")
            }
            LineText::Correction { month, invoice, of } => {
                format!("訂正（{month}分 請求書 {invoice}）{}", of.ja())
            }
            LineText::Words { ja, .. } => ja.clone(),
        }
    }

    /// The line in English, for the console's English pages.
    pub fn en(&self) -> String {
        match self {
            LineText::Fee { key, note: None } => key.label_en(),
            LineText::Fee {
                key,
                note: Some(note),
            } => format!("{} ({note})", key.label_en()),
            LineText::Prorated {
                key,
                month,
                days,
                days_in_month,
            } => format!(
                "{} ({})",
                key.label_en(),
                proration_note(*month, *days, *days_in_month, true)
            ),
            LineText::Pack { gb, per_gb } => format!("Packet pack {gb} GB ({per_gb}/GB)"),
            LineText::EarlyTermination { key, from, to } => format!(
                "Early-termination charge, {}, {} – {}",
                key.label_en(),
                slashed(*from),
                slashed(*to)
            ),
            LineText::EarlyTerminationMonth {
                key,
                month,
                days,
                days_in_month,
            } => {
                let note = if days == days_in_month {
                    month_en(*month)
                } else {
                    proration_note(*month, *days, *days_in_month, true)
                };
                format!("Early-termination charge, {} ({note})", key.label_en())
            }
            LineText::SlaReduction { days } => format!(
                "Fee reduction (SLA, {days} days unavailable, {days}/30 of the monthly fee)"
            ),
            LineText::MovedUnpaid { invoice } => {
                format!("Unpaid amount of the invoice recipient (invoice {invoice})")
            }
            LineText::Correction { month, invoice, of } => {
                format!("Correction (invoice {invoice} for {month}): {}", of.en())
            }
            LineText::Words { kind, .. } => kind_en(*kind).to_owned(),
        }
    }

    /// The text of a line stored with its Japanese words only, recovered from what the line
    /// keeps as data (kind, price, period, days) and, for what only the words held (a one-time
    /// fee's note, GB of a pack, days of a reduction, the invoice referred to), from the words
    /// themselves; [`LineText::Words`] when they are not recognized.
    pub fn recover(stored: &StoredLine<'_>) -> LineText {
        let words = || LineText::Words {
            kind: stored.kind,
            ja: stored.description.to_owned(),
        };
        let d = stored.description;
        let recovered = match (stored.kind, stored.price_key) {
            (LineKind::MonthlyFee, Some(PriceKey::GroupMonthlyPerGb)) => {
                let gb = between(d, "パケットパック ", "GB").and_then(|g| g.parse::<u32>().ok());
                gb.filter(|g| *g > 0).map(|gb| LineText::Pack {
                    gb,
                    per_gb: Yen(stored.unit_amount.0 / i64::from(gb)),
                })
            }
            (LineKind::MonthlyFee, Some(key)) => Some(match (stored.days, stored.days_in_month) {
                (Some(days), Some(days_in_month)) if days != days_in_month => LineText::Prorated {
                    key,
                    month: Month::containing(stored.period_from),
                    days,
                    days_in_month,
                },
                _ => LineText::Fee { key, note: None },
            }),
            (LineKind::InitialFee | LineKind::OneTimeFee, Some(key)) => {
                let label = key.label_ja();
                let note = d
                    .strip_prefix(label.as_str())
                    .and_then(|rest| rest.strip_prefix('（'))
                    .and_then(|rest| rest.strip_suffix('）'))
                    .map(str::to_owned);
                (d == label || note.is_some()).then_some(LineText::Fee { key, note })
            }
            (LineKind::EarlyTermination, Some(key)) => Some(LineText::EarlyTermination {
                key,
                from: stored.period_from,
                to: stored.period_to,
            }),
            (LineKind::SlaCredit, _) => between(d, "利用不能 ", "日分")
                .and_then(|n| n.parse().ok())
                .map(|days| LineText::SlaReduction { days }),
            (LineKind::MovedUnpaid, _) => {
                between(d, "（請求書 ", "）").map(|n| LineText::MovedUnpaid {
                    invoice: n.to_owned(),
                })
            }
            _ => None,
        };
        recovered.filter(|t| t.ja() == d).unwrap_or_else(words)
    }
}

/// What a stored line keeps besides its words, for [`LineText::recover`].
pub struct StoredLine<'a> {
    pub kind: LineKind,
    pub price_key: Option<PriceKey>,
    pub description: &'a str,
    pub period_from: Date,
    pub period_to: Date,
    pub days: Option<i8>,
    pub days_in_month: Option<i8>,
    pub unit_amount: Yen,
}

/// The text between `start` and the next `end` in `s`.
fn between<'s>(s: &'s str, start: &str, end: &str) -> Option<&'s str> {
    let rest = &s[s.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

/// "December 2026".
fn month_en(month: Month) -> String {
    let first = month.first_day();
    let name = MONTHS_EN[usize::try_from(first.month() - 1).unwrap_or(0)];
    format!("{name} {}", first.year())
}

pub(super) const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// What a line of `kind` is, in English.
fn kind_en(kind: LineKind) -> &'static str {
    match kind {
        LineKind::InitialFee => "Initial fee",
        LineKind::MonthlyFee => "Monthly fee",
        LineKind::OneTimeFee => "One-time fee",
        LineKind::EarlyTermination => "Early-termination charge",
        LineKind::SlaCredit => "Fee reduction (SLA)",
        LineKind::MovedUnpaid => "Unpaid amount of the invoice recipient",
        LineKind::Adjustment => "Correction",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{DeviceType, Item};

    fn date(y: i16, m: i8, d: i8) -> Date {
        jiff::civil::date(y, m, d)
    }

    const X4: PriceKey = PriceKey::AdapterMonthly(Item::InternetGateway, DeviceType::SeilX4);

    #[test]
    fn b1_a_line_reads_in_japanese_on_the_invoice_and_in_english_in_the_console() {
        let prorated = LineText::Prorated {
            key: X4,
            month: "2026-12".parse().unwrap(),
            days: 13,
            days_in_month: 31,
        };
        assert_eq!(
            prorated.ja(),
            "サービスアダプタ 月額費用（インターネットゲートウェイルータ / SEIL/X4）（2026年12月分 日割 13日/31日）"
        );
        assert_eq!(
            prorated.en(),
            "Service adapter, monthly fee (Internet gateway router / SEIL/X4) (December 2026, prorated 13 of 31 days)"
        );
        let reduction = LineText::SlaReduction { days: 2 };
        assert_eq!(
            reduction.ja(),
            "料金の減額（SLA、利用不能 2日分、月額費用の2/30）"
        );
        assert!(reduction.en().starts_with("Fee reduction (SLA, 2 days"));
        let correction = LineText::Correction {
            month: "2026-05".parse().unwrap(),
            invoice: "I-000012".into(),
            of: Box::new(reduction),
        };
        assert!(
            correction
                .ja()
                .starts_with("訂正（2026-05分 請求書 I-000012）料金の減額")
        );
        assert!(
            correction
                .en()
                .starts_with("Correction (invoice I-000012 for 2026-05): Fee reduction")
        );
    }

    #[test]
    fn b1_stored_words_are_read_back_as_data() {
        let stored = |kind, price_key, description: &str, days: Option<(i8, i8)>| {
            LineText::recover(&StoredLine {
                kind,
                price_key,
                description,
                period_from: date(2026, 12, 19),
                period_to: date(2026, 12, 31),
                days: days.map(|d| d.0),
                days_in_month: days.map(|d| d.1),
                unit_amount: Yen(3_000),
            })
        };
        let prorated = LineText::Prorated {
            key: X4,
            month: "2026-12".parse().unwrap(),
            days: 13,
            days_in_month: 31,
        };
        assert_eq!(
            stored(
                LineKind::MonthlyFee,
                Some(X4),
                &prorated.ja(),
                Some((13, 31))
            ),
            prorated
        );
        let fee = LineText::Fee {
            key: PriceKey::ItemChangeFee,
            note: Some("SEIL/X4 → SA-W2L".into()),
        };
        assert_eq!(
            stored(
                LineKind::OneTimeFee,
                Some(PriceKey::ItemChangeFee),
                &fee.ja(),
                None
            ),
            fee
        );
        // ¥3,000 for 3 GB: ¥1,000 per GB.
        let pack = LineText::Pack {
            gb: 3,
            per_gb: Yen(1_000),
        };
        assert_eq!(
            stored(
                LineKind::MonthlyFee,
                Some(PriceKey::GroupMonthlyPerGb),
                &pack.ja(),
                Some((31, 31))
            ),
            pack
        );
        let reduction = LineText::SlaReduction { days: 4 };
        assert_eq!(
            stored(LineKind::SlaCredit, Some(X4), &reduction.ja(), None),
            reduction
        );
        // Words that say something else are kept as they are.
        assert_eq!(
            stored(LineKind::MonthlyFee, Some(X4), "手書きの行", Some((31, 31))),
            LineText::Words {
                kind: LineKind::MonthlyFee,
                ja: "手書きの行".into()
            }
        );
    }
}
