//! The fees a span of days bills: the initial fee, the D7-prorated monthly fee and the
//! early-termination charge over the rest of the minimum period (R14.2, D7, R15.1).

use jiff::civil::Date;

use crate::book::Ending;
use crate::ending::remaining_minimum_days;
use crate::money::Yen;
use crate::price::PriceKey;

use super::{Biller, LineKind, LineText, Subject, days_between};

impl Biller<'_> {
    /// An initial fee in the month of acceptance (R14.2).
    pub(super) fn initial(
        &mut self,
        s: Subject<'_>,
        account: String,
        key: PriceKey,
        accepted_on: Date,
    ) {
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
                LineText::Fee { key, note: None },
                (accepted_on, accepted_on),
                None,
                m,
                m,
            );
        }
    }

    /// A monthly fee over the days of service in this month, split wherever the priced thing,
    /// its price or the account changes, each part D7-prorated (R14.2, D7).
    pub(super) fn monthly(
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
            let text = if days == self.days_in_month {
                LineText::Fee { key, note: None }
            } else {
                LineText::Prorated {
                    key,
                    month: self.input.month,
                    days,
                    days_in_month: self.days_in_month,
                }
            };
            self.push(
                s,
                account,
                LineKind::MonthlyFee,
                "D7",
                Some(key),
                text,
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
    pub(super) fn early_termination(
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
                // Each month is joined into one line per charge (see `bill_month`).
                let text = LineText::Words {
                    kind: LineKind::EarlyTermination,
                    ja: String::new(),
                };
                self.push(
                    s,
                    account.clone(),
                    LineKind::EarlyTermination,
                    "R15.1",
                    Some(key),
                    text,
                    (part_from, part_to),
                    Some((days, r.days_in_month)),
                    m,
                    amount,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::billing::fixtures::*;

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
        let etf: Vec<Yen> = early_termination(&lines).iter().map(|l| l.3).collect();
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

    #[test]
    fn r15_1_one_early_termination_line_per_contract_with_its_period_and_months() {
        // Billing from 2026-03-10 (minimum period to 2027-03-09, D2); ends 2026-03-15.
        let book = x4(date(2026, 3, 10));
        let book = book.with(
            &cancel_contract(&book, "a1", Termination::Notice, date(2026, 3, 1), None).unwrap(),
        );
        let lines = bill(&book, "2026-03", &[], &[], &[]);
        let et: Vec<&Line> = lines
            .iter()
            .filter(|l| l.kind == LineKind::EarlyTermination)
            .collect();
        assert_eq!(et.len(), 1, "one line, not thirteen: {et:?}");
        let et = et[0];
        assert_eq!(
            (et.period_from, et.period_to),
            (date(2026, 3, 16), date(2027, 3, 9))
        );
        // ¥1,548 (Mar 16–31, 16/31) + 11 × ¥3,000 + ¥870 (Mar 1–9 2027, 9/31) = ¥35,418.
        assert_eq!(et.amount, Yen(35_418));
        assert_eq!(et.breakdown.len(), 13);
        assert_eq!(
            et.breakdown.iter().map(|p| p.amount).sum::<Yen>(),
            et.amount
        );
        assert_eq!(
            (et.breakdown[12].days, et.breakdown[12].days_in_month),
            (9, 31)
        );
        assert!(
            et.description
                .starts_with("最低利用期間内解除調定金 サービスアダプタ 月額費用")
                && et.description.ends_with(" 2026/03/16〜2027/03/09"),
            "{}",
            et.description
        );
        // Month by month again, as a quote shows it: the same thirteen amounts.
        let parts = et.monthly_parts();
        assert_eq!(parts.len(), 13);
        assert_eq!(parts[0].amount, Yen(1_548));
        assert_eq!(parts[0].days, Some(16));
    }

    #[test]
    fn d7_proration_is_written_so_it_cannot_be_read_as_a_date() {
        // From 2026-12-19: 13 of 31 days.
        let lines = bill(&x4(date(2026, 12, 19)), "2026-12", &[], &[], &[]);
        assert!(
            lines[0]
                .description
                .ends_with("（2026年12月分 日割 13日/31日）"),
            "{}",
            lines[0].description
        );
        let december = "2026-12".parse().unwrap();
        assert_eq!(
            super::super::proration_note(december, 13, 31, true),
            "December 2026, prorated 13 of 31 days"
        );
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
        let list = vec![
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
}
