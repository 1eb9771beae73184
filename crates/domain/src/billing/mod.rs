//! One contractor's invoice lines for one calendar month (B1, B2): initial, monthly
//! (day-prorated per D7, full month on some stops per R9.11), one-time, early-termination
//! (R15), SLA credits (R16) — each naming its contract, rule and period.

mod credits;
#[cfg(test)]
mod fixtures;
mod proration;
mod subjects;
mod text;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::book::{Book, ChargeEvent, Contract, Effect, PacketShareGroup};
use crate::calendar::Month;
use crate::eligibility::InvoiceRedirect;
use crate::money::Yen;
use crate::price::{MissingPrice, PriceBook, PriceKey};
use crate::sla::ApprovedCredit;
pub use text::{LineText, StoredLine};

/// What a line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    InitialFee,
    MonthlyFee,
    OneTimeFee,
    EarlyTermination,
    SlaCredit,
    /// A redirected invoice left unpaid, owed by the management contractor (R6.4).
    MovedUnpaid,
    /// A correction of a finalized invoice (B4).
    Adjustment,
}

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// The contractor the line is invoiced to (B1; differs from the holder under R6.3).
    pub account: String,
    /// The contractor holding the contract.
    pub contractor_id: String,
    /// The contract (or packet share group) the line belongs to.
    pub contract_id: String,
    /// The contract, option or group that caused it.
    pub subject_id: String,
    pub kind: LineKind,
    pub rule: String,
    pub price_key: Option<PriceKey>,
    /// What the line is, in Japanese, as the invoice prints it: [`LineText::ja`] of `text`.
    pub description: String,
    /// What the line is, as data, to be written in Japanese or English.
    pub text: LineText,
    pub period_from: Date,
    pub period_to: Date,
    /// Days billed and days of the month (D7), for prorated lines.
    pub days: Option<i8>,
    pub days_in_month: Option<i8>,
    /// The monthly fee or unit price the amount is computed from.
    pub unit_amount: Yen,
    pub amount: Yen,
    /// For adjustments and moved amounts: the invoice concerned.
    pub refers_to: Option<String>,
    /// The months a line sums, when it sums several (an early-termination charge, R15.1):
    /// each month's days and amount, adding up to the line's amount.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breakdown: Vec<LinePart>,
}

/// One month of a line that sums several (R15.1, D7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinePart {
    pub period_from: Date,
    pub period_to: Date,
    pub days: i8,
    pub days_in_month: i8,
    /// The monthly fee in force over the part.
    pub unit_amount: Yen,
    pub amount: Yen,
}

impl Line {
    /// The line month by month: its [`breakdown`](Line::breakdown) as lines of their own, or
    /// the line itself when it has none.
    pub fn monthly_parts(&self) -> Vec<Line> {
        if self.breakdown.is_empty() {
            return vec![self.clone()];
        }
        self.breakdown
            .iter()
            .map(|p| {
                let text = early_termination_month_text(self, p);
                Line {
                    description: text.ja(),
                    text,
                    period_from: p.period_from,
                    period_to: p.period_to,
                    days: Some(p.days),
                    days_in_month: Some(p.days_in_month),
                    unit_amount: p.unit_amount,
                    amount: p.amount,
                    breakdown: Vec::new(),
                    ..self.clone()
                }
            })
            .collect()
    }
}

/// Everything one contractor's month is billed from.
pub struct MonthInput<'a> {
    pub contractor_id: &'a str,
    pub month: Month,
    pub book: &'a Book,
    /// Charge events of the contractor (only those in the month are billed).
    pub charges: &'a [ChargeEvent],
    pub prices: &'a PriceBook,
    /// Redirects of this contractor's managements' invoices (R6.3).
    pub redirects: &'a [InvoiceRedirect],
    /// SLA credits approved in the month (R16.2).
    pub credits: &'a [ApprovedCredit],
}

struct Biller<'a> {
    input: &'a MonthInput<'a>,
    first: Date,
    last: Date,
    days_in_month: i8,
    lines: Vec<Line>,
    missing: Vec<MissingPrice>,
}

/// What a line is about: its contract (or group), the thing that caused it, and the rule.
#[derive(Clone, Copy)]
struct Subject<'s> {
    contract_id: &'s str,
    subject_id: &'s str,
}

/// Bills one contractor's month. Lines come out in a stable order (contract, subject, kind,
/// period), so the same data gives the same invoice.
///
/// # Errors
/// Every price the book lacks for a day something is billed (R14.1): nothing is billed
/// without its price.
pub fn bill_month(input: &MonthInput<'_>) -> Result<Vec<Line>, Vec<MissingPrice>> {
    let mut b = Biller {
        input,
        first: input.month.first_day(),
        last: input.month.last_day(),
        days_in_month: input.month.days(),
        lines: Vec::new(),
        missing: Vec::new(),
    };
    for c in &input.book.contracts {
        b.contract(c);
    }
    for o in &input.book.options {
        if let Some(c) = input.book.contract(&o.contract_id) {
            b.option(c, o);
        }
    }
    for g in &input.book.groups {
        b.group(g);
    }
    for charge in input
        .charges
        .iter()
        .filter(|c| input.month.contains(c.occurred_on))
    {
        b.charge(charge);
    }
    b.credits();
    if !b.missing.is_empty() {
        b.missing.sort_by_key(|m| (m.key, m.on));
        b.missing.dedup();
        return Err(b.missing);
    }
    b.lines.sort_by(|x, y| {
        (
            &x.contract_id,
            &x.subject_id,
            x.kind,
            x.period_from,
            x.rule.as_str(),
            x.amount,
        )
            .cmp(&(
                &y.contract_id,
                &y.subject_id,
                y.kind,
                y.period_from,
                y.rule.as_str(),
                y.amount,
            ))
    });
    Ok(one_early_termination_line_each(b.lines))
}

/// R15.1 as the invoice shows it: one early-termination line per contract (or option, group)
/// and price, over the whole rest of the minimum period, its months kept as the line's
/// [`breakdown`](Line::breakdown). The amount is the sum of the months, each D7-prorated.
/// `lines` are sorted, so the months of one charge are adjacent.
fn one_early_termination_line_each(lines: Vec<Line>) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::with_capacity(lines.len());
    for l in lines {
        let part = LinePart {
            period_from: l.period_from,
            period_to: l.period_to,
            days: l.days.unwrap_or(0),
            days_in_month: l.days_in_month.unwrap_or(0),
            unit_amount: l.unit_amount,
            amount: l.amount,
        };
        if l.kind == LineKind::EarlyTermination {
            if let Some(last) = out.last_mut().filter(|last| {
                last.kind == LineKind::EarlyTermination
                    && last.account == l.account
                    && last.contract_id == l.contract_id
                    && last.subject_id == l.subject_id
                    && last.price_key == l.price_key
            }) {
                last.period_to = l.period_to;
                last.amount += l.amount;
                last.breakdown.push(part);
                last.text = early_termination_text(last);
                last.description = last.text.ja();
                continue;
            }
            let mut first = Line {
                days: None,
                days_in_month: None,
                breakdown: vec![part],
                ..l
            };
            first.text = early_termination_text(&first);
            first.description = first.text.ja();
            out.push(first);
        } else {
            out.push(l);
        }
    }
    out
}

/// 「最低利用期間内解除調定金 サービスアダプタ 月額費用（…） 2026/12/19〜2027/06/03」: what the charge
/// is for and the days it covers (R15.1).
fn early_termination_text(l: &Line) -> LineText {
    match l.price_key {
        Some(key) => LineText::EarlyTermination {
            key,
            from: l.period_from,
            to: l.period_to,
        },
        None => LineText::Words {
            kind: l.kind,
            ja: l.description.clone(),
        },
    }
}

/// 「最低利用期間内解除調定金 サービスアダプタ 月額費用（…）（2026年12月分 日割 13日/31日）」: one
/// month of an early-termination charge (R15.1), as a quote lists it.
fn early_termination_month_text(l: &Line, p: &LinePart) -> LineText {
    match l.price_key {
        Some(key) => LineText::EarlyTerminationMonth {
            key,
            month: Month::containing(p.period_from),
            days: p.days,
            days_in_month: p.days_in_month,
        },
        None => l.text.clone(),
    }
}

/// `2026/12/19`.
fn slashed(d: Date) -> String {
    format!("{:04}/{:02}/{:02}", d.year(), d.month(), d.day())
}

/// How a D7-prorated month is written so that it cannot be read as a date:
/// 「2026年12月分 日割 13日/31日」, in English "December 2026, prorated 13 of 31 days".
pub fn proration_note(month: Month, days: i8, days_in_month: i8, english: bool) -> String {
    if english {
        let first = month.first_day();
        let name = text::MONTHS_EN[usize::try_from(first.month() - 1).unwrap_or(0)];
        format!(
            "{name} {}, prorated {days} of {days_in_month} days",
            first.year()
        )
    } else {
        let first = month.first_day();
        format!(
            "{}年{}月分 日割 {days}日/{days_in_month}日",
            first.year(),
            first.month()
        )
    }
}

fn management_account(redirects: &[InvoiceRedirect], contract: &Contract, on: Date) -> String {
    redirects
        .iter()
        .filter(|r| r.management_contract_id == contract.id && r.in_force_on(on))
        .max_by_key(|r| r.approved_on)
        .map_or_else(
            || contract.contractor_id.clone(),
            |r| r.target_contractor_id.clone(),
        )
}

impl Biller<'_> {
    fn price(&mut self, key: PriceKey, on: Date) -> Option<Yen> {
        match self.input.prices.price(self.input.contractor_id, key, on) {
            Ok(y) => Some(y),
            Err(m) => {
                self.missing.push(m);
                None
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        s: Subject<'_>,
        account: String,
        kind: LineKind,
        rule: &str,
        key: Option<PriceKey>,
        text: LineText,
        (from, to): (Date, Date),
        days: Option<(i8, i8)>,
        unit: Yen,
        amount: Yen,
    ) {
        self.lines.push(Line {
            account,
            contractor_id: self.input.contractor_id.to_owned(),
            contract_id: s.contract_id.to_owned(),
            subject_id: s.subject_id.to_owned(),
            kind,
            rule: rule.to_owned(),
            price_key: key,
            description: text.ja(),
            text,
            period_from: from,
            period_to: to,
            days: days.map(|d| d.0),
            days_in_month: days.map(|d| d.1),
            unit_amount: unit,
            amount,
            refers_to: None,
            breakdown: Vec::new(),
        });
    }
}

/// The early-termination charge a cancellation adds (R15.1), as the months of its ends will
/// bill it: the lines of the contracts, options and groups that `effects` end (the contract
/// and what ends with it, R13.2, R13.3, R9.7), and nothing of anything else that happens to
/// end in the same month. `after` is the book with `effects` applied.
///
/// # Errors
/// The prices the book lacks (R14.1).
pub fn termination_charge(
    contractor_id: &str,
    after: &Book,
    effects: &[Effect],
    prices: &PriceBook,
) -> Result<Vec<Line>, Vec<MissingPrice>> {
    let mut ended: Vec<&str> = Vec::new();
    let mut months: Vec<Month> = Vec::new();
    for e in effects {
        let (id, ending) = match e {
            Effect::ContractEnds {
                contract_id,
                ending,
            } => (contract_id, ending),
            Effect::OptionEnds { option_id, ending } => (option_id, ending),
            Effect::GroupEnds { group_id, ending } => (group_id, ending),
            _ => continue,
        };
        ended.push(id);
        months.push(Month::containing(ending.on));
    }
    months.sort();
    months.dedup();
    let mut lines = Vec::new();
    for month in months {
        let billed = bill_month(&MonthInput {
            contractor_id,
            month,
            book: after,
            charges: &[],
            prices,
            redirects: &[],
            credits: &[],
        })?;
        lines.extend(
            billed
                .iter()
                .filter(|l| {
                    l.kind == LineKind::EarlyTermination && ended.contains(&l.subject_id.as_str())
                })
                .flat_map(Line::monthly_parts),
        );
    }
    Ok(lines)
}

/// The days an effect takes hold on: the months whose bills it can change.
fn effect_day(e: &Effect) -> Option<Date> {
    Some(match e {
        Effect::ContractCreated(c) => c.accepted_on,
        Effect::OptionCreated(o) => o.accepted_on,
        Effect::GroupCreated(g) => g.accepted_on,
        Effect::BillingStartSet { on, .. } => *on,
        Effect::ItemChanged { from, .. }
        | Effect::UsageTypeChanged { from, .. }
        | Effect::NetworkTypeChanged { from, .. }
        | Effect::PackChanged { from, .. }
        | Effect::MemberJoined { from, .. } => *from,
        Effect::MemberLeft { last_day, .. } => *last_day,
        Effect::ContractEnds { ending, .. }
        | Effect::OptionEnds { ending, .. }
        | Effect::GroupEnds { ending, .. } => ending.on,
        Effect::Charge(c) => c.occurred_on,
        _ => return None,
    })
}

/// What a decision adds to or changes on the bills (R14.2): every line of the months its
/// `effects` take hold in that `after` (the book with `effects` applied, with the one-time
/// charges they cause) bills and `before` did not bill the same — initial fees, one-time fees
/// (R8.1, R9.5, R11.2, R12.2), monthly fees prorated from or to the day (D7, R9.11) and
/// early-termination charges month by month (R15.1). A preview of an acceptance shows these,
/// and the acceptance records them.
///
/// # Errors
/// The prices the book lacks in those months (R14.1).
pub fn decision_charges(
    contractor_id: &str,
    before: &Book,
    after: &Book,
    effects: &[Effect],
    prices: &PriceBook,
) -> Result<Vec<Line>, Vec<MissingPrice>> {
    let charges: Vec<ChargeEvent> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Charge(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    let mut months: Vec<Month> = effects
        .iter()
        .filter_map(effect_day)
        .map(Month::containing)
        .collect();
    months.sort();
    months.dedup();
    let mut lines = Vec::new();
    for month in months {
        let bill = |book: &Book, charges: &[ChargeEvent]| {
            bill_month(&MonthInput {
                contractor_id,
                month,
                book,
                charges,
                prices,
                redirects: &[],
                credits: &[],
            })
        };
        let was = bill(before, &[])?;
        let now = bill(after, &charges)?;
        lines.extend(
            now.into_iter()
                .filter(|l| !was.contains(l))
                .flat_map(|l| l.monthly_parts()),
        );
    }
    Ok(lines)
}

/// The days of `from..=to` (1 to 31 within a month, D7).
fn days_between(from: Date, to: Date) -> i8 {
    i8::try_from(to.since(from).map_or(0, |s| s.get_days()) + 1).unwrap_or(0)
}

/// When a packet share group's monthly fee starts: its acceptance, once one of its members
/// has started billing (R9.1).
pub fn group_billing_start(book: &Book, g: &PacketShareGroup) -> Option<Date> {
    g.members
        .iter()
        .filter_map(|m| {
            let o = book.option(&m.option_id)?;
            let c = book.contract(&o.contract_id)?;
            o.billing_start(c).map(|b| b.max(m.from))
        })
        .min()
        .map(|b| b.max(g.accepted_on))
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;

    #[test]
    fn r15_1_the_quote_holds_only_what_this_cancellation_ends() {
        // Two SEIL/X4 adapters (¥3,000) billed from 2026-04-01 (minimum period to 2027-03-31).
        let mut book = x4(date(2026, 4, 1));
        let mut second = adapter("a2", "k1", DeviceType::SeilX4, date(2026, 4, 1));
        second.accepted_on = date(2020, 1, 1);
        book.contracts.push(second);
        // a1's cancellation was accepted to end 2026-12-19.
        let book = book.with(
            &cancel_contract(
                &book,
                "a1",
                Termination::Notice,
                date(2026, 12, 1),
                Some(date(2026, 12, 19)),
            )
            .unwrap(),
        );
        // Quote for a2 ending 2026-12-25 in the same month.
        let effects = cancel_contract(
            &book,
            "a2",
            Termination::Notice,
            date(2026, 12, 1),
            Some(date(2026, 12, 25)),
        )
        .unwrap();
        let after = book.with(&effects);
        let quote = termination_charge("k1", &after, &effects, &prices()).unwrap();
        assert!(quote.iter().all(|l| l.subject_id == "a2"), "{quote:?}");
        // Dec 26–31: floor(3000 × 6 / 31) = floor(580.6) = ¥580; Jan–Mar 2027: 3 × ¥3,000.
        assert_eq!(
            quote.iter().map(|l| l.amount).sum::<Yen>(),
            Yen(580 + 9_000)
        );
        // The month's invoice holds both: a1 adds Dec 20–31 floor(3000 × 12 / 31) = ¥1,161 + ¥9,000.
        let month: Yen = early_termination(&bill(&after, "2026-12", &[], &[], &[]))
            .iter()
            .map(|l| l.3)
            .sum();
        assert_eq!(month, Yen(580 + 9_000 + 1_161 + 9_000));
    }

    #[test]
    fn r15_1_d7_a_decision_charges_the_days_it_changes_and_the_rest_of_the_minimum_period() {
        // A SEIL/X4 internet_gateway (¥3,000/month) billed from 2026-04-01: its minimum period
        // runs to 2027-03-31 (D2). Cancelled to end 2026-12-19.
        let book = x4(date(2026, 4, 1));
        let effects = cancel_contract(
            &book,
            "a1",
            Termination::Notice,
            date(2026, 12, 1),
            Some(date(2026, 12, 19)),
        )
        .unwrap();
        let after = book.with(&effects);
        let lines = super::decision_charges("k1", &book, &after, &effects, &prices()).unwrap();
        let got: Vec<(LineKind, Date, Date, Yen)> = lines
            .iter()
            .map(|l| (l.kind, l.period_from, l.period_to, l.amount))
            .collect();
        assert_eq!(
            got,
            vec![
                // December is billed to the end date: floor(3000 × 19 / 31) = floor(1838.7) = ¥1,838.
                (
                    LineKind::MonthlyFee,
                    date(2026, 12, 1),
                    date(2026, 12, 19),
                    Yen(1_838)
                ),
                // Dec 20–31: floor(3000 × 12 / 31) = floor(1161.3) = ¥1,161; then three whole
                // months at ¥3,000.
                (
                    LineKind::EarlyTermination,
                    date(2026, 12, 20),
                    date(2026, 12, 31),
                    Yen(1_161)
                ),
                (
                    LineKind::EarlyTermination,
                    date(2027, 1, 1),
                    date(2027, 1, 31),
                    Yen(3_000)
                ),
                (
                    LineKind::EarlyTermination,
                    date(2027, 2, 1),
                    date(2027, 2, 28),
                    Yen(3_000)
                ),
                (
                    LineKind::EarlyTermination,
                    date(2027, 3, 1),
                    date(2027, 3, 31),
                    Yen(3_000)
                ),
            ]
        );
        // Nothing is charged twice: the same cancellation on the book it made adds nothing.
        assert!(
            super::decision_charges("k1", &after, &after, &[], &prices())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn r8_1_an_item_change_charges_its_fee_and_prorates_both_items() {
        let book = x4(date(2026, 4, 1));
        let charge = ChargeEvent {
            id: "ch1".into(),
            contract_id: "a1".into(),
            kind: ChargeKind::ItemChange,
            occurred_on: date(2026, 12, 10),
            device_type: None,
            note: None,
        };
        let effects = vec![
            Effect::ItemChanged {
                contract_id: "a1".into(),
                item: Item::RemoteAccess,
                from: date(2026, 12, 10),
            },
            Effect::Charge(charge),
        ];
        let after = book.with(&effects);
        let lines = super::decision_charges("k1", &book, &after, &effects, &prices()).unwrap();
        let got: Vec<(LineKind, Date, Date, Yen)> = lines
            .iter()
            .map(|l| (l.kind, l.period_from, l.period_to, l.amount))
            .collect();
        assert_eq!(
            got,
            vec![
                // Dec 1–9 on internet_gateway: floor(3000 × 9 / 31) = floor(870.9) = ¥870.
                (
                    LineKind::MonthlyFee,
                    date(2026, 12, 1),
                    date(2026, 12, 9),
                    Yen(870)
                ),
                // Dec 10–31 on remote_access (¥4,000): floor(4000 × 22 / 31) = floor(2838.7) = ¥2,838.
                (
                    LineKind::MonthlyFee,
                    date(2026, 12, 10),
                    date(2026, 12, 31),
                    Yen(2_838)
                ),
                // The item-change fee of 別紙1 3(1).
                (
                    LineKind::OneTimeFee,
                    date(2026, 12, 10),
                    date(2026, 12, 10),
                    Yen(8_000)
                ),
            ]
        );
    }

    #[test]
    fn r14_1_a_missing_price_is_named_and_nothing_is_billed() {
        let book = x4(date(2026, 1, 1));
        let err = bill_month(&MonthInput {
            contractor_id: "k1",
            month: "2026-05".parse().unwrap(),
            book: &book,
            charges: &[],
            prices: &PriceBook::default(),
            redirects: &[],
            credits: &[],
        })
        .unwrap_err();
        assert_eq!(
            err[0].key,
            PriceKey::AdapterMonthly(Item::InternetGateway, DeviceType::SeilX4)
        );
        assert!(
            err[0]
                .to_string()
                .contains("adapter.monthly.internet_gateway.SEIL/X4")
        );
    }
}
