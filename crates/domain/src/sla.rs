//! SLA credits (R16): outages the operator caused, claims within three months, and the credit
//! of 1/30 of the monthly fee per full 24 hours.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::Refusal;
use crate::book::{Book, Contract};
use crate::calendar::{months_passed_deadline, tokyo_date};
use crate::catalog::ContractKind;
use crate::money::Yen;

crate::state::states! {
    /// Where an SLA credit claim stands (R16.2): pending until an operator approves or refuses
    /// it, once.
    pub enum ClaimStatus ("claim status") {
        Pending = "pending",
        Approved = "approved",
        Refused = "refused",
    }
}

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

/// Checks an outage as the operator records it (R16.1): service comes back no earlier than the
/// operator learned of it, and it names contracts that exist — service adapters, or for
/// `all_under_management` a management. `found(id)` looks a contract up.
///
/// # Errors
/// `R16.1` naming the field and what is wrong.
pub fn check_outage<'b>(
    outage: &Outage,
    found: impl Fn(&str) -> Option<&'b Contract>,
) -> Result<(), Refusal> {
    if outage.restored_at < outage.learned_at {
        return Err(Refusal::new(
            "R16.1",
            "restored_at: service cannot come back before the operator learned of the outage",
            "restored_at: 復旧時刻が認知時刻より前です",
        ));
    }
    let (field, ids, kind) = match &outage.affected {
        Affected::Contracts(ids) => ("contract_ids", ids.as_slice(), ContractKind::ServiceAdapter),
        Affected::AllUnderManagement(m) => (
            "management_id",
            std::slice::from_ref(m),
            ContractKind::Management,
        ),
    };
    if ids.is_empty() {
        return Err(Refusal::new(
            "R16.1",
            format!("{field}: an outage names the contracts it made unusable"),
            format!("{field}: 利用不能となった契約を指定してください"),
        ));
    }
    for id in ids {
        let contract = found(id);
        if contract.is_none_or(|c| c.kind != kind) {
            let name = contract.map_or_else(|| id.clone(), Contract::name);
            let what = match kind {
                ContractKind::ServiceAdapter => "service-adapter",
                ContractKind::Management => "management",
            };
            return Err(Refusal::new(
                "R16.1",
                format!("{field}: there is no {what} contract {name}"),
                format!("{field}: 契約 {name} は存在しないか対象外の契約です"),
            ));
        }
    }
    Ok(())
}

/// Checks a contractor's claim for a credit (R16.2, R16.3, R7.2).
///
/// # Errors
/// `R16.2` when the outage does not qualify or the contract is not an affected service
/// adapter; `R7.2` when the contract's serial was not notified (R7.1) on some day of the
/// outage, when the service could be withheld with no liability; `R16.3` when the claim comes
/// after the deadline.
pub fn check_claim(
    outage: &Outage,
    book: &Book,
    contract: &Contract,
    claimed_on: Date,
) -> Result<(), Refusal> {
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
    if let Some(day) = unnotified_day(outage, book, &contract.id) {
        return Err(Refusal::new(
            "R7.2",
            format!(
                "no credit accrues for contract {}: its serial number was not notified on {day} (R7.1), so the service could be withheld with no liability",
                contract.id
            ),
            format!(
                "契約 {} は {day} にシリアルナンバーが通知されていなかったため（第7条第1項）、料金の減額の対象となりません",
                contract.id
            ),
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

/// A contract claims an outage's credit once (R16.2).
pub fn already_claimed() -> Refusal {
    Refusal::new(
        "R16.2",
        "this contract already claimed this outage",
        "この障害について既に請求済みです",
    )
}

impl ClaimStatus {
    /// Whether an operator approved or refused it already: a claim is decided once (R16.2).
    pub fn is_decided(self) -> bool {
        self != ClaimStatus::Pending
    }
}

/// A claim is decided once, on or after the day it was made (R16.2). `decided` is whether it
/// was already approved or refused.
///
/// # Errors
/// `R16.2` for a decided claim; `date_order` for a decision before the claim.
pub fn check_decision(decided: bool, claimed_on: Date, on: Date) -> Result<(), Refusal> {
    if decided {
        return Err(Refusal::new(
            "R16.2",
            "the claim is already decided",
            "この請求は処理済みです",
        ));
    }
    if on < claimed_on {
        return Err(Refusal::new(
            "date_order",
            "a claim cannot be decided before it was made",
            "請求日より前に処理できません",
        ));
    }
    Ok(())
}

/// The first Japan day of the outage on which `contract_id` had no notified serial (R7.1):
/// while the condition is unmet no credit accrues (R7.2).
fn unnotified_day(outage: &Outage, book: &Book, contract_id: &str) -> Option<Date> {
    let mut day = tokyo_date(outage.learned_at);
    let last = tokyo_date(outage.restored_at);
    while day <= last {
        if book.device_of(contract_id, day).is_none() {
            return Some(day);
        }
        day = day.tomorrow().ok()?;
    }
    None
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

    #[test]
    fn claim_states_are_written_as_they_always_were() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StrDeserializer};
        for state in ClaimStatus::ALL {
            assert_eq!(state.as_str().parse::<ClaimStatus>(), Ok(state));
            let de: StrDeserializer<'_, Error> = state.as_str().into_deserializer();
            assert_eq!(
                ClaimStatus::deserialize(de),
                Ok(state),
                "serde and text agree"
            );
        }
        assert!(!ClaimStatus::Pending.is_decided());
        assert!(ClaimStatus::Refused.is_decided());
        assert!("Pending".parse::<ClaimStatus>().is_err());
    }
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
        let book = notified(date(2026, 4, 1));
        let c = book.contract("a1").unwrap();
        assert!(check_claim(&o, &book, c, date(2026, 9, 1)).is_ok());
        assert_eq!(
            check_claim(&o, &book, c, date(2026, 9, 2))
                .unwrap_err()
                .rule,
            "R16.3"
        );
        let other = adapter("a2", "k1", DeviceType::SeilX4, date(2026, 4, 1));
        assert_eq!(
            check_claim(&o, &book, &other, date(2026, 6, 2))
                .unwrap_err()
                .rule,
            "R16.2"
        );
    }

    /// Contract a1 (SEIL/X4, from 2026-04-01) whose serial X1 was notified on `on`.
    fn notified(on: Date) -> Book {
        let mut book = Book {
            contracts: vec![adapter("a1", "k1", DeviceType::SeilX4, date(2026, 4, 1))],
            ..Default::default()
        };
        book.apply(&crate::book::Effect::DeviceAssigned {
            serial: "X1".into(),
            device_type: DeviceType::SeilX4,
            contract_id: "a1".into(),
            from: on,
        });
        book
    }

    #[test]
    fn r16_1_an_outage_names_contracts_that_exist() {
        let book = notified(date(2026, 4, 1));
        let found = |id: &str| book.contract(id);
        let o = outage("2026-05-01T00:00:00Z", "2026-05-03T00:00:00Z");
        assert!(check_outage(&o, found).is_ok());
        let mut ghost = o.clone();
        ghost.affected = Affected::Contracts(vec!["a1".into(), "nope".into()]);
        let r = check_outage(&ghost, found).unwrap_err();
        assert_eq!(r.rule, "R16.1");
        assert!(r.message_en.contains("contract_ids") && r.message_en.contains("nope"));
        ghost.affected = Affected::AllUnderManagement("a1".into());
        assert_eq!(
            check_outage(&ghost, found).unwrap_err().rule,
            "R16.1",
            "a1 is no management"
        );
        let backwards = outage("2026-05-03T00:00:00Z", "2026-05-01T00:00:00Z");
        assert_eq!(check_outage(&backwards, found).unwrap_err().rule, "R16.1");
    }

    #[test]
    fn r7_2_no_credit_while_the_serial_is_not_notified() {
        // Learned 2026-05-10 00:00 JST, restored 2026-05-13 00:00 JST: 3 full days, affecting a1.
        let o = outage("2026-05-09T15:00:00Z", "2026-05-12T15:00:00Z");
        let claimed = date(2026, 5, 20);
        // Never notified: refused, R7.2.
        let bare = Book {
            contracts: vec![adapter("a1", "k1", DeviceType::SeilX4, date(2026, 4, 1))],
            ..Default::default()
        };
        let r = check_claim(&o, &bare, bare.contract("a1").unwrap(), claimed).unwrap_err();
        assert_eq!(r.rule, "R7.2");
        assert!(r.message_en.contains("2026-05-10"), "{}", r.message_en);
        // Notified on the outage's second day: the first day was unmet, refused.
        let late = notified(date(2026, 5, 11));
        let r = check_claim(&o, &late, late.contract("a1").unwrap(), claimed).unwrap_err();
        assert_eq!(r.rule, "R7.2");
        // Notified before the outage: the claim stands.
        let early = notified(date(2026, 5, 1));
        assert!(check_claim(&o, &early, early.contract("a1").unwrap(), claimed).is_ok());
    }
}
