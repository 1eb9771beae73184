//! SLA credits (R16): outages the operator caused, claims within three months, and the credit
//! of 1/30 of the monthly fee per full 24 hours.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::Refusal;
use crate::book::Contract;
use crate::calendar::{months_passed_deadline, tokyo_date};
use crate::catalog::ContractKind;
use crate::money::Yen;

/// An outage as the operator records it (R16.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outage {
    pub id: String,
    /// When the operator learned of it: the 24 hours run from here.
    pub learned_at: Timestamp,
    pub restored_at: Timestamp,
    pub operator_caused: bool,
    /// The service-adapter contracts made totally unusable, or every adapter under a management.
    pub affected: Affected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "scope", content = "ids")]
pub enum Affected {
    Contracts(Vec<String>),
    AllUnderManagement(String),
}

impl Outage {
    /// Full 24 hours of unusable time counted from when the operator learned of it (R16.2).
    pub fn full_days(&self) -> i64 {
        let hours = self.restored_at.duration_since(self.learned_at).as_hours();
        (hours / 24).max(0)
    }

    /// Whether the outage entitles affected contracts to a credit (R16.2): caused by the
    /// operator and lasting 24 consecutive hours or more.
    pub fn qualifies(&self) -> bool {
        self.operator_caused && self.full_days() >= 1
    }

    /// The day a claim first becomes possible: the Japan date on which the 24 hours were
    /// completed (R16.3, D1).
    pub fn claimable_on(&self) -> Date {
        let completed = self
            .learned_at
            .checked_add(SignedDuration::from_hours(24))
            .unwrap_or(self.learned_at);
        tokyo_date(completed)
    }

    /// The last day to claim (R16.3, D5): three months after the claim became possible.
    pub fn claim_deadline(&self) -> Date {
        let from = self.claimable_on();
        months_passed_deadline(from, 3).unwrap_or(from)
    }

    pub fn affects(&self, contract: &Contract) -> bool {
        match &self.affected {
            Affected::Contracts(ids) => ids.contains(&contract.id),
            Affected::AllUnderManagement(m) => {
                contract.management_id.as_deref() == Some(m.as_str())
            }
        }
    }
}

/// Checks a contractor's claim for a credit (R16.2, R16.3).
///
/// # Errors
/// `R16.2` when the outage does not qualify or the contract is not an affected service
/// adapter; `R16.3` when the claim comes after the deadline.
pub fn check_claim(outage: &Outage, contract: &Contract, claimed_on: Date) -> Result<(), Refusal> {
    if !outage.qualifies() {
        return Err(Refusal::new(
            "R16.2",
            "only a total outage caused by the operator lasting 24 hours or more from when it learned of it earns a credit",
            "当社の責に帰すべき事由により利用不能時間が24時間以上継続した場合に限り減額されます",
        ));
    }
    if contract.kind != ContractKind::ServiceAdapter || !outage.affects(contract) {
        return Err(Refusal::new(
            "R16.2",
            "the credit is for service-adapter contracts the outage made unusable",
            "減額の対象は利用不能となったサービスアダプタの契約です",
        ));
    }
    let deadline = outage.claim_deadline();
    if claimed_on > deadline {
        return Err(Refusal::new(
            "R16.3",
            format!("the claim had to be made by {deadline}"),
            format!("減額の請求期限（{deadline}）を過ぎています"),
        ));
    }
    if claimed_on < outage.claimable_on() {
        return Err(Refusal::new(
            "R16.3",
            format!("a claim is possible from {}", outage.claimable_on()),
            format!("{} から請求できます", outage.claimable_on()),
        ));
    }
    Ok(())
}

/// R16.2 (別紙3): floor(M × n / 30) for n full 24 hours of a monthly fee M.
pub fn credit(monthly_fee: Yen, full_days: i64) -> Yen {
    monthly_fee.fraction(full_days, 30)
}

/// A claim the operator approved, as billing needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovedCredit {
    pub claim_id: String,
    pub contract_id: String,
    pub full_days: i64,
    /// The day whose monthly fee the credit is 1/30 of: the day the outage began (Japan).
    pub priced_on: Date,
    pub outage_from: Date,
    pub outage_to: Date,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::DeviceType;
    use crate::contract::tests::adapter;
    use jiff::civil::date;

    fn outage(learned: &str, restored: &str) -> Outage {
        Outage {
            id: "o1".into(),
            learned_at: learned.parse().unwrap(),
            restored_at: restored.parse().unwrap(),
            operator_caused: true,
            affected: Affected::Contracts(vec!["a1".into()]),
        }
    }

    #[test]
    fn r16_2_one_thirtieth_per_full_24_hours() {
        // 23 h 59 min: no credit.
        assert!(!outage("2026-05-01T00:00:00Z", "2026-05-01T23:59:00Z").qualifies());
        // 71 h: 2 full days → floor(3000 × 2 / 30) = ¥200.
        let o = outage("2026-05-01T00:00:00Z", "2026-05-03T23:00:00Z");
        assert_eq!(o.full_days(), 2);
        assert_eq!(credit(Yen(3000), o.full_days()), Yen(200));
        // ¥4,980 × 1 / 30 = 166 → ¥166.
        assert_eq!(credit(Yen(4980), 1), Yen(166));
    }

    #[test]
    fn r16_3_claims_within_three_months_of_the_day_it_became_possible() {
        // Learned 2026-05-31 20:00 JST (11:00Z); 24 h complete 2026-06-01 20:00 JST → claimable
        // from 2026-06-01; deadline 3 months later, 2026-09-01 (D5).
        let o = outage("2026-05-31T11:00:00Z", "2026-06-02T11:00:00Z");
        assert_eq!(o.claimable_on(), date(2026, 6, 1));
        assert_eq!(o.claim_deadline(), date(2026, 9, 1));
        let c = adapter("a1", "k1", DeviceType::SeilX4, date(2026, 4, 1));
        assert!(check_claim(&o, &c, date(2026, 9, 1)).is_ok());
        assert_eq!(
            check_claim(&o, &c, date(2026, 9, 2)).unwrap_err().rule,
            "R16.3"
        );
        let other = adapter("a2", "k1", DeviceType::SeilX4, date(2026, 4, 1));
        assert_eq!(
            check_claim(&o, &other, date(2026, 6, 2)).unwrap_err().rule,
            "R16.2"
        );
    }
}
