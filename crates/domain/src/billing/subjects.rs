//! What each contract, option, packet share group and charge event of the month bills, and
//! to whom (R6.3, R8.1, R9.1, R9.11, R14.2).

use jiff::civil::Date;

use crate::book::{ChargeEvent, ChargeKind, Contract, ContractOption, PacketShareGroup};
use crate::catalog::{ContractKind, MobileUsageType, OptionKind};
use crate::contract::minimum_period_end;
use crate::ending::option_minimum_period_end;
use crate::price::PriceKey;

use super::{
    Biller, LineKind, LineText, Subject, days_between, group_billing_start, management_account,
};

impl Biller<'_> {
    pub(super) fn contract(&mut self, c: &Contract) {
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

    pub(super) fn option(&mut self, c: &Contract, o: &ContractOption) {
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

    pub(super) fn group(&mut self, g: &PacketShareGroup) {
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
                let text = LineText::Pack { gb, per_gb };
                self.push(
                    s,
                    account.clone(),
                    LineKind::MonthlyFee,
                    "R9.6",
                    Some(PriceKey::GroupMonthlyPerGb),
                    text,
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

    pub(super) fn charge(&mut self, charge: &ChargeEvent) {
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
        let text = LineText::Fee {
            key,
            note: charge.note.clone(),
        };
        self.push(
            s,
            self.input.contractor_id.to_owned(),
            LineKind::OneTimeFee,
            charge.kind.rule(),
            Some(key),
            text,
            (charge.occurred_on, charge.occurred_on),
            None,
            m,
            m,
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::billing::fixtures::*;

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
