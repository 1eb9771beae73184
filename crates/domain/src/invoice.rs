//! Invoices (B3): totals per tax rate with the consumption tax rounded once per rate, and the
//! issuer's qualified-invoice registration number.

use serde::{Deserialize, Serialize};

use crate::Refusal;
use crate::billing::Line;
use crate::money::Yen;

/// The standard consumption tax rate; nothing in 別紙1 is a reduced-rate (8%) item.
pub const STANDARD_RATE_PERCENT: i64 = 10;

/// The total of one tax rate on an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RateTotal {
    pub rate_percent: i64,
    /// Sum of the lines at this rate, tax excluded (credits netted, a qualified return invoice
    /// combined with the invoice).
    pub taxable: Yen,
    pub tax: Yen,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Totals {
    pub by_rate: Vec<RateTotal>,
    pub subtotal: Yen,
    pub tax: Yen,
    pub total: Yen,
}

/// B3: consumption tax computed once per rate per invoice on that rate's total, rounded down
/// to the yen (toward zero, so a net credit's tax is not rounded up in the issuer's favour).
pub fn totals(lines: &[Line]) -> Totals {
    totals_for(lines.iter().map(|l| l.amount).sum())
}

/// [`totals`] from the sum of an invoice's lines.
pub fn totals_for(taxable: Yen) -> Totals {
    let tax = Yen((i128::from(taxable.0) * i128::from(STANDARD_RATE_PERCENT) / 100) as i64);
    Totals {
        by_rate: vec![RateTotal {
            rate_percent: STANDARD_RATE_PERCENT,
            taxable,
            tax,
        }],
        subtotal: taxable,
        tax,
        total: taxable + tax,
    }
}

/// The largest single payment recorded (¥1,000,000,000,000): bounds every sum of payments.
pub const MAX_PAYMENT: Yen = Yen(1_000_000_000_000);

/// Checks a payment against an invoice (B5): recorded against finalized invoices only, a
/// positive whole number of yen up to [`MAX_PAYMENT`].
///
/// # Errors
/// `B5` naming what is wrong.
pub fn check_payment(invoice_finalized: bool, amount: i64) -> Result<Yen, Refusal> {
    if !invoice_finalized {
        return Err(Refusal::new(
            "B5",
            "payments are recorded against finalized invoices",
            "入金は確定済みの請求書に対して記録します",
        ));
    }
    if !(1..=MAX_PAYMENT.0).contains(&amount) {
        return Err(Refusal::new(
            "B5",
            format!(
                "amount: a payment is whole yen from 1 to {}, not {amount}",
                MAX_PAYMENT.0
            ),
            format!(
                "amount: 入金額は1円以上{}円以下の整数です（{amount}）",
                MAX_PAYMENT.0
            ),
        ));
    }
    Ok(Yen(amount))
}

/// Checks a qualified-invoice registration number: `T` and 13 digits (B3).
///
/// # Errors
/// `B3` otherwise.
pub fn check_registration_number(s: &str) -> Result<(), Refusal> {
    let ok = s.len() == 14 && s.starts_with('T') && s[1..].bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(Refusal::new(
            "B3",
            "a qualified-invoice registration number is T followed by 13 digits",
            "適格請求書発行事業者の登録番号は「T」と13桁の数字です",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::LineKind;
    use jiff::civil::date;

    fn line(amount: i64) -> Line {
        Line {
            account: "k".into(),
            contractor_id: "k".into(),
            contract_id: "c".into(),
            subject_id: "c".into(),
            kind: LineKind::MonthlyFee,
            rule: "D7".into(),
            price_key: None,
            description: String::new(),
            period_from: date(2026, 10, 1),
            period_to: date(2026, 10, 31),
            days: None,
            days_in_month: None,
            unit_amount: Yen(amount),
            amount: Yen(amount),
            refers_to: None,
        }
    }

    #[test]
    fn b3_tax_once_per_rate_on_the_total_not_per_line() {
        // Lines ¥1,548 + ¥1,548 + ¥1,549 = ¥4,645; tax floor(4645 × 10 / 100) = floor(464.5) = ¥464.
        // Per-line rounding would give 154 + 154 + 154 = ¥462.
        let t = totals(&[line(1548), line(1548), line(1549)]);
        assert_eq!(t.subtotal, Yen(4645));
        assert_eq!(t.tax, Yen(464));
        assert_eq!(t.total, Yen(5109));
        // A credit nets within the rate: ¥3,000 − ¥200 = ¥2,800; tax ¥280.
        assert_eq!(totals(&[line(3000), line(-200)]).tax, Yen(280));
        // A net credit: −¥155 → tax −¥15 (toward zero).
        assert_eq!(totals(&[line(-155)]).tax, Yen(-15));
    }

    #[test]
    fn b3_registration_number() {
        assert!(check_registration_number("T1234567890123").is_ok());
        for bad in [
            "1234567890123",
            "T123456789012",
            "T12345678901234",
            "t1234567890123",
            "T12345678901a3",
        ] {
            assert_eq!(
                check_registration_number(bad).unwrap_err().rule,
                "B3",
                "{bad}"
            );
        }
    }
}
