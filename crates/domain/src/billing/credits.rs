//! SLA credits on the invoice (R16.2).

use crate::money::Yen;
use crate::price::PriceKey;
use crate::sla::ApprovedCredit;

use super::{Biller, LineKind, LineText, Subject};

impl Biller<'_> {
    /// SLA credits approved this month (R16.2): negative, capped per contract at its monthly
    /// fee.
    pub(super) fn credits(&mut self) {
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
            let text = LineText::SlaReduction {
                days: credit.full_days,
            };
            self.push(
                s,
                c.contractor_id.clone(),
                LineKind::SlaCredit,
                "R16.2",
                Some(key),
                text,
                (credit.outage_from, credit.outage_to),
                None,
                m,
                -amount,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::billing::fixtures::*;

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
}
