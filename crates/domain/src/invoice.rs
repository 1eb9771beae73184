//! Invoices (B3): totals per tax rate with the consumption tax rounded once per rate, and the
//! issuer's qualified-invoice registration number.

use serde::{Deserialize, Serialize};

use jiff::civil::Date;

use crate::Refusal;
use crate::billing::Line;
use crate::calendar::Month;
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
    let tax = i128::from(taxable.0) * i128::from(STANDARD_RATE_PERCENT) / 100;
    let tax = Yen(i64::try_from(tax).expect("a tax is smaller than its taxable amount"));
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

/// An invoice's number as printed and quoted on a bank transfer (B3): `I-` and its serial,
/// at least six digits. Serials are given in order when a month is finalized and never
/// reused; a draft has none.
///
/// ```
/// assert_eq!(mpc_domain::invoice::number(123), "I-000123");
/// assert_eq!(mpc_domain::invoice::parse_number("I-000123"), Some(123));
/// ```
pub fn number(serial: i64) -> String {
    format!("I-{serial:06}")
}

/// The serial of an invoice number written as [`number`] writes it (`I-000123`, `i-123`).
pub fn parse_number(s: &str) -> Option<i64> {
    let digits = s.trim().strip_prefix(['I', 'i'])?.strip_prefix('-')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| *n > 0)
}

crate::state::states! {
    /// What an invoice row records (B4): a draft, replaced by every run of its month, until the
    /// month is finalized. Where it stands for its payer is its [`InvoiceState`].
    pub enum InvoiceStatus ("stored invoice status") {
        Draft = "draft",
        Finalized = "finalized",
    }
}

/// Where a month's billing stands (B4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonthState {
    /// No run has completed.
    Unbilled,
    /// Billed; runs may be repeated.
    Open,
    /// Its invoices are immutable.
    Finalized,
}

/// B4: a month may be billed, and billed again, until it is finalized.
///
/// # Errors
/// `B4` for a finalized month.
pub fn check_billable(month: Month, state: MonthState) -> Result<(), Refusal> {
    match state {
        MonthState::Finalized => Err(finalized(month)),
        MonthState::Unbilled | MonthState::Open => Ok(()),
    }
}

/// B4: a month is finalized once, after it was billed.
///
/// # Errors
/// `B4` for a month not billed yet or already finalized.
pub fn check_finalizable(month: Month, state: MonthState) -> Result<(), Refusal> {
    match state {
        MonthState::Open => Ok(()),
        MonthState::Finalized => Err(finalized(month)),
        MonthState::Unbilled => Err(Refusal::new(
            "B4",
            format!("{month} has not been billed yet"),
            format!("{month} はまだ請求処理されていません"),
        )),
    }
}

fn finalized(month: Month) -> Refusal {
    Refusal::new(
        "B4",
        format!(
            "{month} is finalized: its invoices are immutable; corrections go on a later invoice"
        ),
        format!("{month} は確定済みです。訂正は後続の請求書に記載されます"),
    )
}

/// B3: invoices name their issuer, so billing needs one.
///
/// # Errors
/// `B3` while no issuer is set.
pub fn require_issuer<T>(issuer: Option<T>) -> Result<T, Refusal> {
    issuer.ok_or_else(|| {
        Refusal::new(
            "B3",
            "set the issuer (name and qualified-invoice registration number) before billing",
            "請求書発行者（名称・登録番号）を設定してください",
        )
    })
}

/// Where an invoice stands (B5), serialized as `draft`, `issued`, `partly_paid`, `paid`,
/// `overdue`, `defaulted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceState {
    Draft,
    /// Finalized, nothing paid yet, not past its due date (unpaid).
    Issued,
    /// Finalized, paid in part, not past its due date.
    PartlyPaid,
    Paid,
    Overdue,
    /// Left unpaid by the party it was redirected to (R6.4).
    Defaulted,
}

impl InvoiceState {
    /// B5: a finalized invoice is paid once its payments reach its total, and overdue when
    /// its balance is still above zero after its due date (paid in part or not at all).
    pub fn of(
        finalized: bool,
        defaulted: bool,
        paid: Yen,
        total: Yen,
        due: Date,
        today: Date,
    ) -> Self {
        if !finalized {
            InvoiceState::Draft
        } else if defaulted {
            InvoiceState::Defaulted
        } else if paid >= total {
            InvoiceState::Paid
        } else if due < today {
            InvoiceState::Overdue
        } else if paid > Yen(0) {
            InvoiceState::PartlyPaid
        } else {
            InvoiceState::Issued
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceState::Draft => "draft",
            InvoiceState::Issued => "issued",
            InvoiceState::PartlyPaid => "partly_paid",
            InvoiceState::Paid => "paid",
            InvoiceState::Overdue => "overdue",
            InvoiceState::Defaulted => "defaulted",
        }
    }

    /// Whether the payer owes something on it (B5): issued, paid in part or overdue. A
    /// draft is not owed yet; a defaulted invoice's amount moved to another invoice (R6.4).
    pub fn is_owed(self) -> bool {
        matches!(
            self,
            InvoiceState::Issued | InvoiceState::PartlyPaid | InvoiceState::Overdue
        )
    }

    /// What an invoice must be to stand in this state (B5), as [`InvoiceState::of`] decides:
    /// for a listing that selects invoices by state in its query rather than one by one.
    pub fn condition(self) -> StateCondition {
        let finalized = StateCondition {
            finalized: true,
            ..StateCondition::default()
        };
        let standing = StateCondition {
            defaulted: Some(false),
            ..finalized
        };
        let owing = StateCondition {
            paid_in_full: Some(false),
            ..standing
        };
        let not_due = StateCondition {
            past_due: Some(false),
            ..owing
        };
        match self {
            InvoiceState::Draft => StateCondition::default(),
            InvoiceState::Defaulted => StateCondition {
                defaulted: Some(true),
                ..finalized
            },
            InvoiceState::Paid => StateCondition {
                paid_in_full: Some(true),
                ..standing
            },
            InvoiceState::Overdue => StateCondition {
                past_due: Some(true),
                ..owing
            },
            InvoiceState::PartlyPaid => StateCondition {
                anything_paid: Some(true),
                ..not_due
            },
            InvoiceState::Issued => StateCondition {
                anything_paid: Some(false),
                ..not_due
            },
        }
    }

    pub const ALL: [InvoiceState; 6] = [
        InvoiceState::Draft,
        InvoiceState::Issued,
        InvoiceState::PartlyPaid,
        InvoiceState::Paid,
        InvoiceState::Overdue,
        InvoiceState::Defaulted,
    ];
}

impl std::fmt::Display for InvoiceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an invoice in one state is (B5), as [`InvoiceState::condition`] gives it: whether it
/// is finalized, and each other fact it must have (`Some`) or may have either way (`None`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateCondition {
    pub finalized: bool,
    /// Left unpaid by the party it was redirected to (R6.4).
    pub defaulted: Option<bool>,
    /// Its payments reach its total.
    pub paid_in_full: Option<bool>,
    /// Its due date is before today.
    pub past_due: Option<bool>,
    /// Something has been paid on it.
    pub anything_paid: Option<bool>,
}

impl StateCondition {
    /// Whether an invoice with these facts meets the condition.
    pub fn holds(
        &self,
        finalized: bool,
        defaulted: bool,
        paid: Yen,
        total: Yen,
        due: Date,
        today: Date,
    ) -> bool {
        let fits = |want: Option<bool>, fact: bool| want.is_none_or(|w| w == fact);
        self.finalized == finalized
            && fits(self.defaulted, defaulted)
            && fits(self.paid_in_full, paid >= total)
            && fits(self.past_due, due < today)
            && fits(self.anything_paid, paid > Yen(0))
    }
}

/// A text that names no invoice state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an invoice is draft, issued, partly_paid, paid, overdue or defaulted, not {0:?}")]
pub struct UnknownInvoiceState(pub String);

impl std::str::FromStr for InvoiceState {
    type Err = UnknownInvoiceState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InvoiceState::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownInvoiceState(s.to_owned()))
    }
}

/// R6.4: a finalized invoice carrying redirected management fees, not yet marked, can be
/// marked as left unpaid.
///
/// # Errors
/// `R6.4` otherwise.
pub fn check_default(
    finalized: bool,
    already_defaulted: bool,
    carries_redirected: bool,
) -> Result<(), Refusal> {
    if !finalized || already_defaulted {
        return Err(Refusal::new(
            "R6.4",
            "only a finalized invoice not yet marked defaulted can default",
            "確定済みで未処理の請求書のみ不払いとして扱えます",
        ));
    }
    if !carries_redirected {
        return Err(Refusal::new(
            "R6.4",
            "the invoice carries no redirected management fees",
            "この請求書に請求書送付先変更によるマネージメント料金はありません",
        ));
    }
    Ok(())
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

    #[test]
    fn b5_each_state_s_condition_holds_exactly_for_the_invoices_in_that_state() {
        let today = jiff::civil::date(2026, 10, 15);
        let total = Yen(33_000);
        for finalized in [false, true] {
            for defaulted in [false, true] {
                for paid in [Yen(0), Yen(1), Yen(32_999), total, Yen(40_000)] {
                    for due in [today.yesterday().unwrap(), today, today.tomorrow().unwrap()] {
                        let state = InvoiceState::of(finalized, defaulted, paid, total, due, today);
                        for candidate in InvoiceState::ALL {
                            assert_eq!(
                                candidate
                                    .condition()
                                    .holds(finalized, defaulted, paid, total, due, today),
                                candidate == state,
                                "{candidate:?} for {state:?}: finalized {finalized}, defaulted \
                                 {defaulted}, paid {paid:?}, due {due}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn invoice_states_are_written_as_they_always_were() {
        use serde::Deserialize;
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StrDeserializer};
        for state in InvoiceState::ALL {
            assert_eq!(state.as_str().parse::<InvoiceState>(), Ok(state));
            let de: StrDeserializer<'_, Error> = state.as_str().into_deserializer();
            assert_eq!(
                InvoiceState::deserialize(de),
                Ok(state),
                "serde and text agree"
            );
        }
        assert_eq!(InvoiceState::Paid.to_string(), "paid");
        assert!("PAID".parse::<InvoiceState>().is_err());
    }
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
            text: crate::billing::LineText::Words {
                kind: LineKind::MonthlyFee,
                ja: String::new(),
            },
            period_from: date(2026, 10, 1),
            period_to: date(2026, 10, 31),
            days: None,
            days_in_month: None,
            unit_amount: Yen(amount),
            amount: Yen(amount),
            refers_to: None,
            breakdown: Vec::new(),
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

    #[test]
    fn b4_a_month_is_billed_until_finalized_and_finalized_once() {
        let m: Month = "2026-10".parse().unwrap();
        assert!(check_billable(m, MonthState::Unbilled).is_ok());
        assert!(check_billable(m, MonthState::Open).is_ok());
        assert_eq!(
            check_billable(m, MonthState::Finalized).unwrap_err().rule,
            "B4"
        );
        assert!(check_finalizable(m, MonthState::Open).is_ok());
        assert_eq!(
            check_finalizable(m, MonthState::Unbilled).unwrap_err().rule,
            "B4"
        );
        assert_eq!(
            check_finalizable(m, MonthState::Finalized)
                .unwrap_err()
                .rule,
            "B4"
        );
    }

    #[test]
    fn b5_invoice_states() {
        let due = date(2026, 11, 30);
        let state =
            |fin, def, paid, today| InvoiceState::of(fin, def, Yen(paid), Yen(11_000), due, today);
        assert_eq!(state(false, false, 0, due), InvoiceState::Draft);
        assert_eq!(
            state(true, false, 0, due),
            InvoiceState::Issued,
            "due today is not overdue"
        );
        assert_eq!(
            state(true, false, 10_999, date(2026, 12, 1)),
            InvoiceState::Overdue
        );
        assert_eq!(
            state(true, false, 11_000, date(2026, 12, 1)),
            InvoiceState::Paid
        );
        assert_eq!(state(true, true, 0, due), InvoiceState::Defaulted);
        // ¥11,000 owed, ¥4,000 paid by the due date: 11,000 − 4,000 = ¥7,000 still owed.
        assert_eq!(state(true, false, 4_000, due), InvoiceState::PartlyPaid);
        // The day after the due date with ¥7,000 owed: overdue, paid in part or not.
        assert_eq!(
            state(true, false, 4_000, date(2026, 12, 1)),
            InvoiceState::Overdue
        );
        // Paid in full after the due date: 4,000 + 7,000 = 11,000 ≥ 11,000, paid.
        assert_eq!(
            state(true, false, 11_000, date(2027, 1, 5)),
            InvoiceState::Paid
        );
        // A net credit invoice (total −¥550) owes nothing: paid from the start.
        assert_eq!(
            InvoiceState::of(true, false, Yen(0), Yen(-550), due, date(2027, 1, 5)),
            InvoiceState::Paid
        );
        let owed: Vec<_> = InvoiceState::ALL
            .into_iter()
            .filter(|s| s.is_owed())
            .collect();
        assert_eq!(
            owed,
            [
                InvoiceState::Issued,
                InvoiceState::PartlyPaid,
                InvoiceState::Overdue
            ]
        );
    }

    #[test]
    fn b5_payments_and_r6_4_defaults() {
        assert_eq!(check_payment(false, 100).unwrap_err().rule, "B5");
        assert_eq!(check_payment(true, 0).unwrap_err().rule, "B5");
        assert_eq!(
            check_payment(true, 1_000_000_000_001).unwrap_err().rule,
            "B5"
        );
        assert_eq!(check_payment(true, 1_000_000_000_000), Ok(MAX_PAYMENT));
        assert_eq!(check_default(false, false, true).unwrap_err().rule, "R6.4");
        assert_eq!(check_default(true, true, true).unwrap_err().rule, "R6.4");
        assert_eq!(check_default(true, false, false).unwrap_err().rule, "R6.4");
        assert!(check_default(true, false, true).is_ok());
    }
}
