//! Contracts, options, packet share groups, devices and requests, shown "as of" a day.

use std::collections::BTreeMap;

use mpc_domain::book::{ChargeKind, DeviceState, Effect, EndReason, Status};
use mpc_domain::catalog::{
    ContractKind, DeviceType, Item, MobileUsageType, NetworkType, OptionKind,
};
use mpc_domain::contract_number::ContractNumber;
use mpc_domain::custody::Delivery;
use mpc_domain::request::{Acceptance, Request, RequestStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Dates the server filled in with today's date in Japan because the request left them out.
pub type DefaultedDates = BTreeMap<String, String>;

/// When and why something ends (D6: the end date is its last day of service).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EndingView {
    pub on: String,
    pub reason: EndReason,
    /// The rule that makes this end, e.g. `R13.1` or `R9.7`.
    pub rule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_arrived_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_on: Option<String>,
    /// No early-termination charge (R15.2).
    pub exempt_from_early_termination: bool,
}

/// A value that holds from a date on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Dated<T> {
    pub from: String,
    pub value: T,
}

/// Whether the contract's device may fetch its configuration, and if not why (R7.1, R7.2).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Provisioning {
    pub provisionable: bool,
    /// The rule that withholds it, e.g. `R7.1` (serial not notified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_ja: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractView {
    pub id: String,
    /// The number people say and type; the API and the CLI take it wherever they take the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "C-000123")]
    pub number: Option<ContractNumber>,
    /// The site name its contractor gave it; empty when none.
    pub label: String,
    pub contractor_id: String,
    pub kind: ContractKind,
    /// The day this view describes.
    pub as_of: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<DeviceType>,
    /// The item in force on `as_of`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
    /// Every item with the day it took (or takes) effect.
    pub items: Vec<Dated<Item>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_id: Option<String>,
    /// The management's number (`C-000123`), also when it is another contractor's (R6.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_number: Option<String>,
    pub applied_on: String,
    pub accepted_on: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_start: Option<String>,
    /// Last day of the minimum usage period (R5.1), once billing started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_period_end: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ending: Option<EndingView>,
    /// The serial serving the contract on `as_of`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<Provisioning>,
    pub options: Vec<OptionView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractList {
    pub contracts: Vec<ContractView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OptionView {
    pub id: String,
    pub contract_id: String,
    /// The contract's number (`C-000123`), beside `contract_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_number: Option<String>,
    pub kind: OptionKind,
    pub status: Status,
    pub applied_on: String,
    pub accepted_on: String,
    /// R9.1: the later of acceptance and the contract's billing start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_start: Option<String>,
    /// R9.8: one month from the option's billing start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_period_end: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_type: Option<MobileUsageType>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usage_types: Vec<Dated<MobileUsageType>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_type: Option<NetworkType>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub network_types: Vec<Dated<NetworkType>>,
    /// The packet share group the SIM belongs to on `as_of`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ending: Option<EndingView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberView {
    pub option_id: String,
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupView {
    pub id: String,
    pub contractor_id: String,
    pub as_of: String,
    pub status: Status,
    pub accepted_on: String,
    /// The pack in force on `as_of`, in GB (R9.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack_gb: Option<u32>,
    pub packs: Vec<Dated<u32>>,
    pub members: Vec<MemberView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ending: Option<EndingView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupList {
    pub groups: Vec<GroupView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AssignmentView {
    pub contract_id: String,
    /// The contract's number (`C-000123`), beside `contract_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_number: Option<String>,
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeviceView {
    pub serial: String,
    pub device_type: DeviceType,
    pub as_of: String,
    pub state: DeviceState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_id: Option<String>,
    /// The number of the contract it serves (`C-000123`), beside `contract_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_number: Option<String>,
    /// The contract's site label; absent when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_label: Option<String>,
    pub assignments: Vec<AssignmentView>,
    /// Last day to return it (R10.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_due: Option<String>,
    /// Past its return deadline on `as_of` without a return.
    pub overdue: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeviceList {
    pub devices: Vec<DeviceView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChargeView {
    pub id: String,
    pub contract_id: String,
    /// The contract's number (`C-000123`), beside `contract_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_number: Option<String>,
    /// The contract's site label; absent when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_label: Option<String>,
    pub kind: ChargeKind,
    pub rule: String,
    pub occurred_on: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<DeviceType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChargeList {
    pub charges: Vec<ChargeView>,
}

/// A request to submit: what the contractor asks, and for operators optionally its acceptance.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    pub request: Request,
    /// The day the request was made (operators recording a paper form); contractors' requests
    /// are made today. Defaults to today in Japan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_on: Option<String>,
    /// Operators only: accept at once with these dates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<Acceptance>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RequestView {
    pub id: String,
    /// The number people quote (`REQ-000123`); routes taking the id take it too.
    pub number: String,
    pub contractor_id: String,
    pub kind: String,
    pub request: Request,
    /// The number of the contract the request is about (`C-000123`), beside `contract_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_number: Option<String>,
    /// That contract's site label; absent when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_label: Option<String>,
    pub submitted_on: String,
    /// Who submitted it, as the journal records actors (`user:<id>`, `cli`).
    pub submitted_by: String,
    /// The username of the user who submitted it; absent for `cli` and the like.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_by_name: Option<String>,
    pub status: RequestStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// The username of the user who decided it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by_name: Option<String>,
    /// What acceptance did (the effects of the rules) or why it was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionView>,
    /// What acceptance created, by id (also among `decision.effects`).
    #[serde(default, skip_serializing_if = "Created::is_empty")]
    pub created: Created,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub defaulted_dates: DefaultedDates,
}

/// A request's decision: what accepting it did, or why it was closed without effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum DecisionView {
    Accepted(AcceptedDecision),
    /// Rejected with the operator's reason, or withdrawn (no reason).
    Closed(ClosedDecision),
}

impl DecisionView {
    /// The effects of the rules; none for a closed request.
    pub fn effects(&self) -> &[Effect] {
        match self {
            DecisionView::Accepted(a) => &a.effects,
            DecisionView::Closed(_) => &[],
        }
    }

    /// The operator's reason for a rejection.
    pub fn reason(&self) -> Option<&str> {
        match self {
            DecisionView::Accepted(_) => None,
            DecisionView::Closed(c) => c.reason.as_deref(),
        }
    }
}

/// What accepting a request did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AcceptedDecision {
    /// The effects of the rules, in order.
    pub effects: Vec<Effect>,
    /// Failure and loss: how the replacement travels (R9.2).
    #[serde(default)]
    pub delivery: Option<Delivery>,
    /// Contractors the change leaves without what R6.1 requires (R6.8).
    #[serde(default)]
    pub eligibility_impact: Vec<EligibilityImpact>,
    /// What it adds to the bills, tax excluded (R14.2): initial and one-time fees, monthly
    /// fees prorated from or to the day (D7), early-termination charges month by month
    /// (R15.1). Absent for decisions recorded before charges were kept, or when a price was
    /// missing (`missing_prices`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charges: Option<Vec<crate::billing::LineView>>,
    /// The prices the book lacked to compute `charges` (R14.1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_prices: Vec<String>,
}

/// What accepting a pending request on a date would do, computed by the decision acceptance
/// runs and written nowhere: `decision` is what acceptance would record.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RequestPreview {
    pub request_id: String,
    /// The acceptance date (for a notice, the day it arrived) the preview is for.
    pub on: String,
    pub decision: AcceptedDecision,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub defaulted_dates: DefaultedDates,
}

/// A request closed without effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosedDecision {
    pub reason: Option<String>,
}

/// What a decision does to one contractor's eligibility (R6.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EligibilityImpact {
    pub contractor_id: String,
    /// The first day the contractor lacks something.
    pub from: String,
    pub newly_unmet: Vec<NewlyUnmet>,
    /// The contractor's contracts still in service that day, which it could no longer use.
    pub contracts: Vec<String>,
}

/// One requirement of R6.1 a decision makes a contractor miss.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewlyUnmet {
    pub rule: String,
    pub message_en: String,
    pub message_ja: String,
}

/// The contracts, options and packet share groups a decision created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Created {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contract_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub option_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_ids: Vec<String>,
}

impl Created {
    /// The ids of what `effects` create, in order.
    pub fn by(effects: &[Effect]) -> Created {
        let mut created = Created::default();
        for e in effects {
            match e {
                Effect::ContractCreated(c) => created.contract_ids.push(c.id.clone()),
                Effect::OptionCreated(o) => created.option_ids.push(o.id.clone()),
                Effect::GroupCreated(g) => created.group_ids.push(g.id.clone()),
                _ => {}
            }
        }
        created
    }

    pub fn is_empty(&self) -> bool {
        self.contract_ids.is_empty() && self.option_ids.is_empty() && self.group_ids.is_empty()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RequestList {
    pub requests: Vec<RequestView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    pub reason: String,
}

/// A contract's new site label: at most 60 characters, trimmed, no control characters; empty
/// removes it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractPatch {
    pub label: String,
}

/// A date the operator records (billing start, return, find, sweep); today in Japan if omitted.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OnDate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UnmetView {
    pub rule: String,
    pub message: String,
    pub message_ja: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EligibilityView {
    pub contractor_id: String,
    pub as_of: String,
    pub eligible: bool,
    pub unmet: Vec<UnmetView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImpactView {
    pub contractor_id: String,
    /// The first day the contractor would lack what it needs.
    pub from: String,
    pub unmet: Vec<UnmetView>,
    /// Its contracts still in service that day, which it could no longer use.
    pub contracts: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RemainingDaysView {
    /// `YYYY-MM`.
    pub month: String,
    pub days: i8,
    pub days_in_month: i8,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EarlyTerminationView {
    /// The contract or option that ends before its minimum period is over.
    pub subject: String,
    /// `contract`, or the option kind.
    pub what: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_period_end: Option<String>,
    /// The days the early-termination charge covers, month by month (R15.1, D7).
    pub remaining: Vec<RemainingDaysView>,
}

/// What cancelling would do, computed without changing anything.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuoteView {
    pub contract_id: String,
    /// The number of the contract it names (`C-000123`), beside `contract_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_number: Option<String>,
    /// That contract's site label; absent when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_label: Option<String>,
    pub notice_arrived_on: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_on: Option<String>,
    /// The last day of service (R13.1, D6).
    pub end_on: String,
    /// Everything that would end with it (R13.2, R13.3, R9.7) and devices to return (R10.3).
    pub effects: Vec<Effect>,
    /// No early-termination charge: cancelled under Art. 28 §2/§3 (R15.2).
    pub exempt_from_early_termination: bool,
    pub early_termination: Vec<EarlyTerminationView>,
    /// The early-termination charge in yen, tax excluded (R15.1): the sum of
    /// `early_termination_lines`. Absent when the price book lacks a price (`missing_prices`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_termination_charge: Option<mpc_domain::money::Yen>,
    /// The charge month by month, as the invoice of the end month will show it.
    pub early_termination_lines: Vec<ChargeLineView>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_prices: Vec<String>,
    /// Contractors the end would leave without what R6.1 requires (R6.8).
    pub eligibility_impact: Vec<ImpactView>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub defaulted_dates: DefaultedDates,
}

/// One early-termination line of a quote.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChargeLineView {
    pub subject_id: String,
    /// What the line is, in Japanese, as the invoice will print it.
    pub description: String,
    /// What the line is, in English.
    pub description_en: String,
    pub period_from: String,
    pub period_to: String,
    pub days: Option<i8>,
    pub days_in_month: Option<i8>,
    /// The monthly fee the days are a share of (D7).
    pub monthly_fee: mpc_domain::money::Yen,
    pub amount: mpc_domain::money::Yen,
}

/// The effects a record had.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecordResult {
    pub effects: Vec<Effect>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub defaulted_dates: DefaultedDates,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_decision_reads_and_writes_the_shapes_stored_for_accepted_and_closed_requests() {
        let accepted = json!({"effects": [{"effect": "device_returned", "serial": "X4-1", "on": "2026-05-01"}],
                              "delivery": null, "eligibility_impact": []});
        let decision: DecisionView = serde_json::from_value(accepted.clone()).unwrap();
        assert_eq!(decision.effects().len(), 1);
        assert_eq!(serde_json::to_value(&decision).unwrap(), accepted);
        for closed in [json!({"reason": "duplicate"}), json!({"reason": null})] {
            let decision: DecisionView = serde_json::from_value(closed.clone()).unwrap();
            assert!(decision.effects().is_empty());
            assert_eq!(serde_json::to_value(&decision).unwrap(), closed);
        }
    }
}
