//! One contractor's invoice lines for one calendar month (B1, B2): initial, monthly
//! (day-prorated per D7, full month on some stops per R9.11), one-time, early-termination
//! (R15), SLA credits (R16) — each naming its contract, rule and period.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::book::{
    Book, ChargeEvent, ChargeKind, Contract, ContractOption, Effect, Ending, PacketShareGroup,
};
use crate::calendar::Month;
use crate::catalog::{ContractKind, MobileUsageType, OptionKind};
use crate::contract::minimum_period_end;
use crate::eligibility::InvoiceRedirect;
use crate::ending::{option_minimum_period_end, remaining_minimum_days};
use crate::money::Yen;
use crate::price::{MissingPrice, PriceBook, PriceKey};
use crate::sla::ApprovedCredit;

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
    /// What the line is, in Japanese, as the invoice prints it.
    pub description: String,
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
    Ok(b.lines)
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
        description: String,
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
            description,
            period_from: from,
            period_to: to,
            days: days.map(|d| d.0),
            days_in_month: days.map(|d| d.1),
            unit_amount: unit,
            amount,
            refers_to: None,
        });
    }

    /// An initial fee in the month of acceptance (R14.2).
    fn initial(&mut self, s: Subject<'_>, account: String, key: PriceKey, accepted_on: Date) {
        if !self.input.month.contains(accepted_on) {
            return;
        }
        if let Some(m) = self.price(key, accepted_on) {
            self.push(
                s,
                account,
                LineKind::InitialFee,
                "R14.2",
                Some(key),
                key.label_ja(),
                (accepted_on, accepted_on),
                None,
                m,
                m,
            );
        }
    }

    /// A monthly fee over the days of service in this month, split wherever the priced thing,
    /// its price or the account changes, each part D7-prorated (R14.2, D7).
    fn monthly(
        &mut self,
        s: Subject<'_>,
        service: (Date, Date),
        changes: &[Date],
        key_at: &dyn Fn(Date) -> PriceKey,
        account_at: &dyn Fn(Date) -> String,
    ) {
        let from = service.0.max(self.first);
        let to = service.1.min(self.last);
        if from > to {
            return;
        }
        let mut cuts: Vec<Date> = changes
            .iter()
            .copied()
            .chain(
                self.input
                    .prices
                    .change_days(self.input.contractor_id, from, to),
            )
            .filter(|d| *d > from && *d <= to)
            .collect();
        cuts.push(from);
        cuts.sort();
        cuts.dedup();
        let mut parts: Vec<(Date, Date, PriceKey, Yen, String)> = Vec::new();
        for (i, start) in cuts.iter().enumerate() {
            let end = cuts
                .get(i + 1)
                .map_or(to, |next| next.yesterday().unwrap_or(*next));
            let key = key_at(*start);
            let Some(m) = self.price(key, *start) else {
                continue;
            };
            let account = account_at(*start);
            match parts.last_mut() {
                Some(last) if last.2 == key && last.3 == m && last.4 == account => last.1 = end,
                _ => parts.push((*start, end, key, m, account)),
            }
        }
        for (start, end, key, m, account) in parts {
            let days = days_between(start, end);
            let amount = m.prorate(i64::from(days), i64::from(self.days_in_month));
            let description = if days == self.days_in_month {
                key.label_ja()
            } else {
                format!("{}（日割 {days}/{}日）", key.label_ja(), self.days_in_month)
            };
            self.push(
                s,
                account,
                LineKind::MonthlyFee,
                "D7",
                Some(key),
                description,
                (start, end),
                Some((days, self.days_in_month)),
                m,
                amount,
            );
        }
    }

    /// The early-termination charge, owed in the month of the end (R15.1): D7 month by month
    /// over the rest of the minimum period, counted after the last day already billed, each
    /// remaining day priced as the monthly fee would have priced it (the price in force that
    /// day, split where it changes). Nothing when the minimum period never ran: no billing
    /// start, or an end before it (R5.2).
    #[allow(clippy::too_many_arguments)]
    fn early_termination(
        &mut self,
        s: Subject<'_>,
        account: String,
        ending: &Ending,
        billed_through: Date,
        billing_start: Option<Date>,
        minimum_end: Option<Date>,
        key: PriceKey,
    ) {
        if ending.exempt_from_early_termination || !self.input.month.contains(ending.on) {
            return;
        }
        let counted_after = billed_through.max(ending.on);
        for r in remaining_minimum_days(billing_start, minimum_end, ending.on) {
            let from = r
                .month
                .first_day()
                .max(counted_after.tomorrow().unwrap_or(counted_after));
            let to = minimum_end.map_or(r.month.last_day(), |e| e.min(r.month.last_day()));
            if from > to {
                continue;
            }
            let mut cuts: Vec<Date> = self
                .input
                .prices
                .change_days(self.input.contractor_id, from, to)
                .into_iter()
                .filter(|d| *d > from && *d <= to)
                .collect();
            cuts.insert(0, from);
            cuts.sort();
            cuts.dedup();
            let mut parts: Vec<(Date, Date, Yen)> = Vec::new();
            for (i, start) in cuts.iter().enumerate() {
                let end = cuts
                    .get(i + 1)
                    .map_or(to, |next| next.yesterday().unwrap_or(*next));
                let Some(m) = self.price(key, *start) else {
                    continue;
                };
                match parts.last_mut() {
                    Some(last) if last.2 == m => last.1 = end,
                    _ => parts.push((*start, end, m)),
                }
            }
            for (part_from, part_to, m) in parts {
                let days = days_between(part_from, part_to);
                let amount = m.prorate(i64::from(days), i64::from(r.days_in_month));
                let description = format!(
                    "最低利用期間内解除調定金 {}（{} {}/{}日）",
                    key.label_ja(),
                    r.month,
                    days,
                    r.days_in_month
                );
                self.push(
                    s,
                    account.clone(),
                    LineKind::EarlyTermination,
                    "R15.1",
                    Some(key),
                    description,
                    (part_from, part_to),
                    Some((days, r.days_in_month)),
                    m,
                    amount,
                );
            }
        }
    }

    fn contract(&mut self, c: &Contract) {
        let s = Subject {
            contract_id: &c.id,
            subject_id: &c.id,
        };
        let redirects = self.input.redirects;
        let account_at = |d: Date| match c.kind {
            ContractKind::Management => management_account(redirects, c, d),
            ContractKind::ServiceAdapter => c.contractor_id.clone(),
        };
        let device = c.device_type;
        let key_at = |d: Date| match (c.kind, c.item(d), device) {
            (ContractKind::ServiceAdapter, Some(item), Some(device)) => {
                PriceKey::AdapterMonthly(item, device)
            }
            _ => PriceKey::ManagementMonthly,
        };
        let first_item = c
            .item(c.accepted_on)
            .or(c.items.entries().first().map(|(_, i)| *i));
        let initial_key = match (c.kind, first_item, device) {
            (ContractKind::ServiceAdapter, Some(item), Some(device)) => {
                PriceKey::AdapterInitial(item, device)
            }
            _ => PriceKey::ManagementInitial,
        };
        self.initial(s, account_at(c.accepted_on), initial_key, c.accepted_on);
        let Some(start) = c.billing_start else { return };
        let end = c.end_on().unwrap_or(self.last);
        let mut changes: Vec<Date> = c.items.entries().iter().map(|(d, _)| *d).collect();
        for r in self
            .input
            .redirects
            .iter()
            .filter(|r| r.management_contract_id == c.id)
        {
            changes.extend(r.approved_on);
            changes.extend(r.ended_on);
        }
        self.monthly(s, (start, end), &changes, &key_at, &account_at);
        if let Some(ending) = &c.ending {
            self.early_termination(
                s,
                account_at(ending.on),
                ending,
                ending.on,
                c.billing_start,
                minimum_period_end(c),
                key_at(ending.on),
            );
        }
    }

    fn option(&mut self, c: &Contract, o: &ContractOption) {
        let s = Subject {
            contract_id: &c.id,
            subject_id: &o.id,
        };
        let account = c.contractor_id.clone();
        let key_at = |d: Date| match o.kind {
            OptionKind::MobileAccess => PriceKey::MobileMonthly(
                o.network_type(d)
                    .unwrap_or(crate::catalog::NetworkType::DynamicIp),
                o.usage_type(d),
            ),
            _ => PriceKey::SendbackMonthly,
        };
        let initial_key = match o.kind {
            OptionKind::MobileAccess => PriceKey::MobileInitial(
                o.network_type(o.accepted_on)
                    .unwrap_or(crate::catalog::NetworkType::DynamicIp),
            ),
            _ => PriceKey::SendbackInitial,
        };
        self.initial(s, account.clone(), initial_key, o.accepted_on);
        let Some(start) = o.billing_start(c) else {
            return;
        };
        if o.end_on().is_some_and(|end| end < start) {
            // Stopped before its billing start: never billed, no minimum period (R5.2).
            return;
        }
        // R9.11: a monthly plan or packet_share SIM stopped before a month's last day pays
        // that month in full.
        let billed_through = |end: Date| {
            let full = o
                .usage_type(end)
                .is_some_and(MobileUsageType::is_full_month_on_stop);
            if full { end.last_of_month() } else { end }
        };
        let end = o.end_on().map_or(self.last, billed_through);
        let changes: Vec<Date> = o
            .usage_types
            .entries()
            .iter()
            .map(|(d, _)| *d)
            .chain(o.network_types.entries().iter().map(|(d, _)| *d))
            .collect();
        let account_at = |_: Date| account.clone();
        self.monthly(s, (start, end), &changes, &key_at, &account_at);
        if let Some(ending) = &o.ending {
            self.early_termination(
                s,
                account.clone(),
                ending,
                billed_through(ending.on),
                Some(start),
                option_minimum_period_end(Some(start)),
                key_at(ending.on),
            );
        }
    }

    fn group(&mut self, g: &PacketShareGroup) {
        let s = Subject {
            contract_id: &g.id,
            subject_id: &g.id,
        };
        let account = g.contractor_id.clone();
        self.initial(s, account.clone(), PriceKey::GroupInitial, g.accepted_on);
        let Some(start) = group_billing_start(self.input.book, g) else {
            return;
        };
        if g.end_on().is_some_and(|end| end < start) {
            return;
        }
        // R9.11 also holds for packet share groups.
        let end = g.end_on().map_or(self.last, |e| e.last_of_month());
        let account_at = |_: Date| account.clone();
        self.monthly(
            s,
            (start, end),
            &[],
            &|_| PriceKey::GroupMonthlyBase,
            &account_at,
        );
        // The pack: per-GB price × GB in force (packs change on the 1st only, R9.6).
        let from = start.max(self.first);
        let to = end.min(self.last);
        if from <= to {
            let gb = g.pack_gb(from).unwrap_or(0);
            if let Some(per_gb) = self.price(PriceKey::GroupMonthlyPerGb, from) {
                let m = per_gb.times(i64::from(gb));
                let days = days_between(from, to);
                let amount = m.prorate(i64::from(days), i64::from(self.days_in_month));
                let description = format!("パケットパック {gb}GB（{}/GB）", per_gb);
                self.push(
                    s,
                    account.clone(),
                    LineKind::MonthlyFee,
                    "R9.6",
                    Some(PriceKey::GroupMonthlyPerGb),
                    description,
                    (from, to),
                    Some((days, self.days_in_month)),
                    m,
                    amount,
                );
            }
        }
        if let Some(ending) = &g.ending {
            self.early_termination(
                s,
                account,
                ending,
                ending.on.last_of_month(),
                Some(start),
                option_minimum_period_end(Some(start)),
                PriceKey::GroupMonthlyBase,
            );
        }
    }

    fn charge(&mut self, charge: &ChargeEvent) {
        let key = match (charge.kind, charge.device_type) {
            (ChargeKind::ItemChange, _) => PriceKey::ItemChangeFee,
            (ChargeKind::NetworkTypeToFixed, _) => PriceKey::NetworkTypeToFixedFee,
            (ChargeKind::ContractorCausedFailure, _) => PriceKey::ContractorCausedFailureFee,
            (ChargeKind::Loss, Some(device)) => PriceKey::LossFee(device),
            (ChargeKind::Loss, None) => return,
        };
        let Some(m) = self.price(key, charge.occurred_on) else {
            return;
        };
        let s = Subject {
            contract_id: &charge.contract_id,
            subject_id: &charge.id,
        };
        let description = match &charge.note {
            Some(note) => format!("{}（{note}）", key.label_ja()),
            None => key.label_ja(),
        };
        self.push(
            s,
            self.input.contractor_id.to_owned(),
            LineKind::OneTimeFee,
            charge.kind.rule(),
            Some(key),
            description,
            (charge.occurred_on, charge.occurred_on),
            None,
            m,
            m,
        );
    }

    /// SLA credits approved this month (R16.2): negative, capped per contract at its monthly
    /// fee.
    fn credits(&mut self) {
        let mut by_contract: Vec<&ApprovedCredit> = self.input.credits.iter().collect();
        by_contract
            .sort_by(|a, b| (&a.contract_id, &a.claim_id).cmp(&(&b.contract_id, &b.claim_id)));
        let mut granted: Vec<(String, Yen)> = Vec::new();
        for credit in by_contract {
            let Some(c) = self.input.book.contract(&credit.contract_id) else {
                continue;
            };
            let (Some(item), Some(device)) = (c.item(credit.priced_on), c.device_type) else {
                continue;
            };
            let key = PriceKey::AdapterMonthly(item, device);
            let Some(m) = self.price(key, credit.priced_on) else {
                continue;
            };
            let so_far = granted
                .iter()
                .find(|(id, _)| *id == c.id)
                .map_or(Yen::ZERO, |(_, y)| *y);
            let amount = crate::sla::credit(m, credit.full_days).min(m - so_far);
            if amount <= Yen::ZERO {
                continue;
            }
            match granted.iter_mut().find(|(id, _)| *id == c.id) {
                Some((_, y)) => *y += amount,
                None => granted.push((c.id.clone(), amount)),
            }
            let s = Subject {
                contract_id: &c.id,
                subject_id: &credit.claim_id,
            };
            let description = format!(
                "料金の減額（SLA、利用不能 {}日分、月額費用の{}/30）",
                credit.full_days, credit.full_days
            );
            self.push(
                s,
                c.contractor_id.clone(),
                LineKind::SlaCredit,
                "R16.2",
                Some(key),
                description,
                (credit.outage_from, credit.outage_to),
                None,
                m,
                -amount,
            );
        }
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
        lines.extend(billed.into_iter().filter(|l| {
            l.kind == LineKind::EarlyTermination && ended.contains(&l.subject_id.as_str())
        }));
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
    use super::*;
    use crate::book::{Membership, Timeline};
    use crate::catalog::{DeviceType, Item, NetworkType};
    use crate::contract::tests::{adapter, management};
    use crate::ending::{Termination, cancel_contract, stop_option};
    use crate::price::Price;
    use crate::sla::ApprovedCredit;
    use jiff::civil::date;

    /// List prices used by every test (yen, tax excluded).
    fn prices() -> PriceBook {
        let from = date(2020, 1, 1);
        let p = |key, amount| Price {
            key,
            contractor_id: None,
            effective_from: from,
            amount: Yen(amount),
        };
        let mut list = vec![
            p(PriceKey::ManagementInitial, 20_000),
            p(PriceKey::ManagementMonthly, 10_000),
            p(PriceKey::SendbackInitial, 5_000),
            p(PriceKey::SendbackMonthly, 1_500),
            p(PriceKey::MobileInitial(NetworkType::DynamicIp), 3_000),
            p(PriceKey::MobileInitial(NetworkType::FixedIp), 3_000),
            p(PriceKey::MobileMonthly(NetworkType::DynamicIp, None), 1_000),
            p(PriceKey::MobileMonthly(NetworkType::FixedIp, None), 1_800),
            p(
                PriceKey::MobileMonthly(NetworkType::DynamicIp, Some(MobileUsageType::Plan30gb)),
                3_100,
            ),
            p(PriceKey::GroupInitial, 0),
            p(PriceKey::GroupMonthlyBase, 2_000),
            p(PriceKey::GroupMonthlyPerGb, 150),
            p(PriceKey::ItemChangeFee, 8_000),
            p(PriceKey::NetworkTypeToFixedFee, 2_000),
            p(PriceKey::ContractorCausedFailureFee, 30_000),
        ];
        for d in DeviceType::ALL {
            list.push(p(PriceKey::LossFee(d), 60_000));
            for i in Item::ALL {
                list.push(p(PriceKey::AdapterInitial(i, d), 10_000));
            }
        }
        // Monthly fees of the nine combinations differ so tests see which one applied.
        for (i, item) in Item::ALL.into_iter().enumerate() {
            for (j, device) in DeviceType::ALL.into_iter().enumerate() {
                list.push(p(
                    PriceKey::AdapterMonthly(item, device),
                    3_000 + 1_000 * i as i64 + 100 * j as i64,
                ));
            }
        }
        PriceBook::new(list)
    }

    fn bill(
        book: &Book,
        month: &str,
        charges: &[ChargeEvent],
        redirects: &[InvoiceRedirect],
        credits: &[ApprovedCredit],
    ) -> Vec<Line> {
        let prices = prices();
        bill_month(&MonthInput {
            contractor_id: "k1",
            month: month.parse().unwrap(),
            book,
            charges,
            prices: &prices,
            redirects,
            credits,
        })
        .unwrap()
    }

    fn monthly(lines: &[Line]) -> Vec<(Yen, Option<i8>)> {
        lines
            .iter()
            .filter(|l| l.kind == LineKind::MonthlyFee)
            .map(|l| (l.amount, l.days))
            .collect()
    }

    /// An internet_gateway SEIL/X4 (¥3,000/month) accepted and billed from `start`.
    fn x4(start: Date) -> Book {
        let mut c = adapter("a1", "k1", DeviceType::SeilX4, start);
        c.accepted_on = date(2020, 1, 1);
        Book {
            contracts: vec![c],
            ..Default::default()
        }
    }

    #[test]
    fn d7_billing_start_on_the_1st_the_31st_and_a_months_last_day() {
        // From 2026-04-01, a 30-day month: the whole ¥3,000.
        assert_eq!(
            monthly(&bill(&x4(date(2026, 4, 1)), "2026-04", &[], &[], &[])),
            [(Yen(3000), Some(30))]
        );
        // From 2026-01-31: 1 of 31 days → floor(3000 × 1 / 31) = floor(96.77) = ¥96.
        assert_eq!(
            monthly(&bill(&x4(date(2026, 1, 31)), "2026-01", &[], &[], &[])),
            [(Yen(96), Some(1))]
        );
        // From 2026-02-28, February 2026 has 28 days: floor(3000 × 1 / 28) = floor(107.14) = ¥107.
        assert_eq!(
            monthly(&bill(&x4(date(2026, 2, 28)), "2026-02", &[], &[], &[])),
            [(Yen(107), Some(1))]
        );
        // From 2028-02-15, a leap February of 29 days: 15 days → floor(3000 × 15 / 29) = floor(1551.72) = ¥1,551.
        assert_eq!(
            monthly(&bill(&x4(date(2028, 2, 15)), "2028-02", &[], &[], &[])),
            [(Yen(1551), Some(15))]
        );
        // From 2026-11-16 in a 30-day month: 15 days → 3000 × 15 / 30 = ¥1,500.
        assert_eq!(
            monthly(&bill(&x4(date(2026, 11, 16)), "2026-11", &[], &[], &[])),
            [(Yen(1500), Some(15))]
        );
        // Nothing before billing starts, nothing in an earlier month (R5.2).
        assert!(monthly(&bill(&x4(date(2026, 4, 1)), "2026-03", &[], &[], &[])).is_empty());
    }

    #[test]
    fn d7_start_and_end_in_the_same_month_with_early_termination() {
        // Billing from 2026-03-10; notice 2026-03-01 + 14 → ends 2026-03-15 (D6: the 15th is billed).
        let book = x4(date(2026, 3, 10));
        let book = book.with(
            &cancel_contract(&book, "a1", Termination::Notice, date(2026, 3, 1), None).unwrap(),
        );
        let lines = bill(&book, "2026-03", &[], &[], &[]);
        // March 10–15 = 6 of 31 days: floor(3000 × 6 / 31) = floor(580.6) = ¥580.
        assert_eq!(monthly(&lines), [(Yen(580), Some(6))]);
        // Minimum period 2026-03-10 … 2027-03-09 (D2). Remaining: Mar 16–31 = 16/31 → floor(1548.39) = ¥1,548;
        // Apr 2026 … Feb 2027 = 11 whole months × ¥3,000 = ¥33,000; Mar 1–9 2027 = 9/31 → floor(870.97) = ¥870.
        let etf: Vec<Yen> = lines
            .iter()
            .filter(|l| l.kind == LineKind::EarlyTermination)
            .map(|l| l.amount)
            .collect();
        assert_eq!(etf.len(), 13);
        assert_eq!(etf[0], Yen(1548));
        assert_eq!(etf[12], Yen(870));
        assert_eq!(etf.iter().copied().sum::<Yen>(), Yen(1548 + 33_000 + 870));
        assert!(
            lines
                .iter()
                .all(|l| l.kind != LineKind::EarlyTermination || l.rule == "R15.1")
        );
    }

    fn early_termination(lines: &[Line]) -> Vec<(&str, Date, Date, Yen)> {
        lines
            .iter()
            .filter(|l| l.kind == LineKind::EarlyTermination)
            .map(|l| (l.subject_id.as_str(), l.period_from, l.period_to, l.amount))
            .collect()
    }

    #[test]
    fn r15_1_a_price_change_in_the_remaining_period_splits_the_charge() {
        // Billing from 2026-04-01 (minimum period to 2027-03-31); notice 2026-10-01 asks for
        // 2026-10-31. The list price ¥3,000 becomes ¥3,600 from 2027-01-16, and the
        // contractor's agreement ¥2,400 applies from 2027-03-01.
        let book = x4(date(2026, 4, 1));
        let book = book.with(
            &cancel_contract(
                &book,
                "a1",
                Termination::Notice,
                date(2026, 10, 1),
                Some(date(2026, 10, 31)),
            )
            .unwrap(),
        );
        let key = PriceKey::AdapterMonthly(Item::InternetGateway, DeviceType::SeilX4);
        let list: Vec<Price> = vec![
            Price {
                key,
                contractor_id: None,
                effective_from: date(2027, 1, 16),
                amount: Yen(3_600),
            },
            Price {
                key,
                contractor_id: Some("k1".into()),
                effective_from: date(2027, 3, 1),
                amount: Yen(2_400),
            },
        ];
        let mut all: Vec<Price> = Vec::new();
        for k in PriceKey::all() {
            if let Ok(y) = prices().price("k1", k, date(2026, 10, 1)) {
                all.push(Price {
                    key: k,
                    contractor_id: None,
                    effective_from: date(2020, 1, 1),
                    amount: y,
                });
            }
        }
        all.extend(list);
        let book_prices = PriceBook::new(all);
        let lines = bill_month(&MonthInput {
            contractor_id: "k1",
            month: "2026-10".parse().unwrap(),
            book: &book,
            charges: &[],
            prices: &book_prices,
            redirects: &[],
            credits: &[],
        })
        .unwrap();
        let et = early_termination(&lines);
        // Nov, Dec 2026 at ¥3,000: 2 × 3,000 = ¥6,000.
        // Jan 2027: 1–15 at ¥3,000 → floor(3000 × 15 / 31) = floor(1451.6) = ¥1,451;
        //           16–31 at ¥3,600 → floor(3600 × 16 / 31) = floor(1858.1) = ¥1,858.
        // Feb 2027 at ¥3,600 = ¥3,600. Mar 2027 at the agreement ¥2,400 = ¥2,400.
        assert_eq!(
            et,
            [
                ("a1", date(2026, 11, 1), date(2026, 11, 30), Yen(3_000)),
                ("a1", date(2026, 12, 1), date(2026, 12, 31), Yen(3_000)),
                ("a1", date(2027, 1, 1), date(2027, 1, 15), Yen(1_451)),
                ("a1", date(2027, 1, 16), date(2027, 1, 31), Yen(1_858)),
                ("a1", date(2027, 2, 1), date(2027, 2, 28), Yen(3_600)),
                ("a1", date(2027, 3, 1), date(2027, 3, 31), Yen(2_400)),
            ]
        );
        let total: Yen = et.iter().map(|l| l.3).sum();
        assert_eq!(total, Yen(6_000 + 1_451 + 1_858 + 3_600 + 2_400));
    }

    #[test]
    fn r5_2_an_end_before_the_billing_start_owes_no_monthly_fee_and_no_early_termination() {
        // Billing start recorded as 2026-11-20; the contract ends 2026-11-15 (notice 11-01).
        let book = x4(date(2026, 11, 20));
        let book = book.with(
            &cancel_contract(&book, "a1", Termination::Notice, date(2026, 11, 1), None).unwrap(),
        );
        assert_eq!(
            book.contract("a1").unwrap().end_on(),
            Some(date(2026, 11, 15))
        );
        let lines = bill(&book, "2026-11", &[], &[], &[]);
        assert!(monthly(&lines).is_empty(), "{lines:?}");
        assert!(early_termination(&lines).is_empty(), "{lines:?}");
        // Ending on the billing start day itself: one day billed, the rest of the year owed:
        // Nov 20: floor(3000 × 1 / 30) = ¥100; Nov 21–30: floor(3000 × 10 / 30) = ¥1,000;
        // Dec 2026 … Oct 2027: 11 × ¥3,000 = ¥33,000; Nov 1–19 2027: floor(3000 × 19 / 30) = ¥1,900.
        let book = x4(date(2026, 11, 20));
        let book = book.with(
            &cancel_contract(
                &book,
                "a1",
                Termination::Notice,
                date(2026, 11, 1),
                Some(date(2026, 11, 20)),
            )
            .unwrap(),
        );
        let lines = bill(&book, "2026-11", &[], &[], &[]);
        assert_eq!(monthly(&lines), [(Yen(100), Some(1))]);
        let total: Yen = early_termination(&lines).iter().map(|l| l.3).sum();
        assert_eq!(total, Yen(1_000 + 33_000 + 1_900));
    }

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
    fn r15_2_no_early_termination_after_an_art_28_cancellation() {
        let book = x4(date(2026, 3, 10));
        let book = book.with(
            &cancel_contract(
                &book,
                "a1",
                Termination::GeneralTermsArt28Para3,
                date(2026, 3, 20),
                Some(date(2026, 3, 20)),
            )
            .unwrap(),
        );
        let lines = bill(&book, "2026-03", &[], &[], &[]);
        assert!(lines.iter().all(|l| l.kind != LineKind::EarlyTermination));
        // Mar 10–20 = 11 days: floor(3000 × 11 / 31) = floor(1064.5) = ¥1,064.
        assert_eq!(monthly(&lines), [(Yen(1064), Some(11))]);
    }

    #[test]
    fn r8_1_item_change_splits_the_month_and_charges_the_fee() {
        let book = x4(date(2026, 1, 1));
        let effects = crate::contract::change_item(
            &book,
            "a1",
            Item::PppoeTermination,
            date(2026, 6, 11),
            "ch1",
        )
        .unwrap();
        let charges: Vec<ChargeEvent> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::Charge(c) => Some(c.clone()),
                _ => None,
            })
            .collect();
        let book = book.with(&effects);
        let lines = bill(&book, "2026-06", &charges, &[], &[]);
        // internet_gateway X4 ¥3,000 for June 1–10 = 10/30 → ¥1,000;
        // pppoe_termination X4 ¥5,000 for June 11–30 = 20/30 → floor(3333.3) = ¥3,333.
        assert_eq!(
            monthly(&lines),
            [(Yen(1000), Some(10)), (Yen(3333), Some(20))]
        );
        let fee: Vec<_> = lines
            .iter()
            .filter(|l| l.kind == LineKind::OneTimeFee)
            .collect();
        assert_eq!((fee[0].amount, fee[0].rule.as_str()), (Yen(8000), "R8.1"));
    }

    fn w2l_with_sim(usage: MobileUsageType, accepted: Date) -> Book {
        let mut c = adapter("a1", "k1", DeviceType::SaW2l, date(2026, 1, 1));
        c.accepted_on = date(2020, 1, 1);
        let sim = crate::book::ContractOption {
            id: "m1".into(),
            contract_id: "a1".into(),
            kind: OptionKind::MobileAccess,
            applied_on: accepted,
            accepted_on: accepted,
            install_address: None,
            usage_types: Timeline::starting(accepted, usage),
            network_types: Timeline::starting(accepted, NetworkType::DynamicIp),
            ending: None,
        };
        Book {
            contracts: vec![c],
            options: vec![sim],
            ..Default::default()
        }
    }

    #[test]
    fn r9_11_a_plan_stopped_mid_month_pays_the_month_a_start_is_prorated() {
        // plan_30gb (dynamic ¥3,100) accepted 2026-04-11: initial ¥3,000 and April 11–30 = 20/30 → floor(2066.67) = ¥2,066.
        let book = w2l_with_sim(MobileUsageType::Plan30gb, date(2026, 4, 11));
        let april = bill(&book, "2026-04", &[], &[], &[]);
        let sim: Vec<_> = april
            .iter()
            .filter(|l| l.subject_id == "m1")
            .map(|l| (l.kind, l.amount))
            .collect();
        assert_eq!(
            sim,
            [
                (LineKind::InitialFee, Yen(3000)),
                (LineKind::MonthlyFee, Yen(2066))
            ]
        );
        // Stop: notice 2026-06-01 + 30 = 2026-07-01, requested 07-10 → ends 07-10, not a month end:
        // July is charged in full, ¥3,100 (R9.11) — not 10/31.
        let book = book
            .with(&stop_option(&book, "m1", date(2026, 6, 1), Some(date(2026, 7, 10))).unwrap());
        let july = bill(&book, "2026-07", &[], &[], &[]);
        let sim: Vec<_> = july
            .iter()
            .filter(|l| l.subject_id == "m1")
            .map(|l| (l.kind, l.amount, l.days))
            .collect();
        assert_eq!(sim, [(LineKind::MonthlyFee, Yen(3100), Some(31))]);
    }

    #[test]
    fn a_standard_sim_stopped_mid_month_is_prorated() {
        let book = w2l_with_sim(MobileUsageType::Standard, date(2026, 4, 1));
        // Notice 2026-06-01 → ends 2026-07-01 (+30). July 1 = 1/31 of ¥1,000 → floor(32.26) = ¥32.
        let book = book.with(&stop_option(&book, "m1", date(2026, 6, 1), None).unwrap());
        let july = bill(&book, "2026-07", &[], &[], &[]);
        let sim: Vec<_> = july
            .iter()
            .filter(|l| l.subject_id == "m1" && l.kind == LineKind::MonthlyFee)
            .map(|l| l.amount)
            .collect();
        assert_eq!(sim, [Yen(32)]);
    }

    #[test]
    fn r6_3_management_fees_go_to_the_redirect_target_from_approval() {
        let mut m = management("m1", "k1", date(2026, 1, 1));
        m.accepted_on = date(2020, 1, 1);
        let book = Book {
            contracts: vec![m],
            ..Default::default()
        };
        let redirect = InvoiceRedirect {
            id: "r1".into(),
            management_contract_id: "m1".into(),
            target_contractor_id: "k2".into(),
            requested_on: date(2026, 8, 1),
            consented_on: Some(date(2026, 8, 5)),
            approved_on: Some(date(2026, 8, 21)),
            ended_on: None,
        };
        let lines = bill(&book, "2026-08", &[], &[redirect], &[]);
        // ¥10,000: Aug 1–20 = 20/31 → floor(6451.6) = ¥6,451 to k1; Aug 21–31 = 11/31 → floor(3548.4) = ¥3,548 to k2.
        let got: Vec<_> = lines
            .iter()
            .map(|l| (l.account.as_str(), l.amount))
            .collect();
        assert_eq!(got, [("k1", Yen(6451)), ("k2", Yen(3548))]);
    }

    #[test]
    fn packet_share_group_base_and_pack() {
        let mut book = w2l_with_sim(MobileUsageType::PacketShare, date(2026, 5, 1));
        book.groups.push(PacketShareGroup {
            id: "g1".into(),
            contractor_id: "k1".into(),
            applied_on: date(2026, 5, 1),
            accepted_on: date(2026, 5, 1),
            packs: Timeline::starting(date(2026, 5, 1), 120),
            members: vec![Membership {
                option_id: "m1".into(),
                from: date(2026, 5, 1),
                until: None,
            }],
            ending: None,
        });
        let lines = bill(&book, "2026-06", &[], &[], &[]);
        let group: Vec<_> = lines
            .iter()
            .filter(|l| l.subject_id == "g1")
            .map(|l| (l.rule.as_str(), l.amount))
            .collect();
        // Base ¥2,000; pack 120 GB × ¥150 = ¥18,000.
        assert_eq!(group, [("D7", Yen(2000)), ("R9.6", Yen(18_000))]);
    }

    #[test]
    fn one_time_fees_and_loss() {
        let book = x4(date(2026, 1, 1));
        let charge = |id: &str, kind, on| ChargeEvent {
            id: id.into(),
            contract_id: "a1".into(),
            kind,
            occurred_on: on,
            device_type: Some(DeviceType::SeilX4),
            note: None,
        };
        let charges = [
            charge("c1", ChargeKind::Loss, date(2026, 9, 3)),
            charge("c2", ChargeKind::ContractorCausedFailure, date(2026, 9, 20)),
            charge("c3", ChargeKind::NetworkTypeToFixed, date(2026, 10, 1)),
        ];
        let lines = bill(&book, "2026-09", &charges, &[], &[]);
        let fees: Vec<_> = lines
            .iter()
            .filter(|l| l.kind == LineKind::OneTimeFee)
            .map(|l| (l.rule.as_str(), l.amount))
            .collect();
        assert_eq!(fees, [("R12.2", Yen(60_000)), ("R11.2", Yen(30_000))]);
    }

    #[test]
    fn r16_2_credits_are_negative_and_capped_at_the_monthly_fee() {
        let book = x4(date(2026, 1, 1));
        let credit = |id: &str, days| ApprovedCredit {
            claim_id: id.into(),
            contract_id: "a1".into(),
            full_days: days,
            priced_on: date(2026, 5, 2),
            outage_from: date(2026, 5, 2),
            outage_to: date(2026, 5, 4),
        };
        // 2 days: floor(3000 × 2 / 30) = ¥200. Then 29 days: ¥2,900, capped to 3,000 − 200 = ¥2,800.
        let lines = bill(
            &book,
            "2026-05",
            &[],
            &[],
            &[credit("s1", 2), credit("s2", 29)],
        );
        let credits: Vec<Yen> = lines
            .iter()
            .filter(|l| l.kind == LineKind::SlaCredit)
            .map(|l| l.amount)
            .collect();
        assert_eq!(credits, [Yen(-200), Yen(-2800)]);
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

    #[test]
    fn initial_fees_in_the_month_of_acceptance() {
        let mut c = adapter("a1", "k1", DeviceType::SeilCa10, date(2026, 5, 20));
        c.accepted_on = date(2026, 5, 14);
        c.items = Timeline::starting(date(2026, 5, 14), Item::InternetGateway);
        let book = Book {
            contracts: vec![c],
            ..Default::default()
        };
        let may = bill(&book, "2026-05", &[], &[], &[]);
        assert_eq!(may[0].kind, LineKind::InitialFee);
        assert_eq!(
            (may[0].amount, may[0].rule.as_str()),
            (Yen(10_000), "R14.2")
        );
        // SEIL CA10 internet_gateway ¥3,200 from 05-20: 12/31 → floor(1238.7) = ¥1,238.
        assert_eq!(monthly(&may), [(Yen(1238), Some(12))]);
        assert!(
            bill(&book, "2026-06", &[], &[], &[])
                .iter()
                .all(|l| l.kind != LineKind::InitialFee)
        );
    }
}
