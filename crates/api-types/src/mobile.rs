//! Mobile data: SIMs, usage ingestion, usage views and throttle decisions (R9.3, R9.6, R9.9).
//! Bytes are integers; 1 GB is 10^9 bytes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Binds a SIM to a `mobile_access` option from a day (operators).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimBinding {
    pub option_id: String,
    /// `YYYY-MM-DD` (Japan time); today when omitted.
    #[serde(default)]
    pub from: Option<String>,
}

/// A SIM's service of an option, both days inclusive.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SimView {
    pub iccid: String,
    pub option_id: String,
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// A record refused at ingestion, with its line in the body (from 1).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RejectedRecord {
    pub line: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iccid: Option<String>,
    pub reason: mpc_domain::mobile::RejectReason,
    /// What is wrong, in English (it may quote the record).
    pub detail: String,
}

/// What an ingestion batch did: new records, identical re-sends, corrections (same record id,
/// other values: the new values replace the old), and refused records.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UsageIngest {
    pub batch_id: String,
    pub accepted: u64,
    pub duplicates: u64,
    pub corrected: u64,
    pub rejected: Vec<RejectedRecord>,
}

/// Bytes counted on one Tokyo day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DayUse {
    pub date: String,
    pub bytes: u64,
}

/// An automatic throttle of a month (R9.9).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ThrottleView {
    pub from: String,
    pub until: String,
    /// `cap` or `pack`.
    pub basis: String,
    pub limit_bytes: u64,
    /// The month's use when the limit was exceeded.
    pub used_bytes: u64,
}

/// A mobile access option's use in a Tokyo month against its cap.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SimUse {
    pub option_id: String,
    /// The SIMs that served the option in the month.
    pub iccids: Vec<String>,
    /// The usage type on the month's last day of service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_type: Option<String>,
    /// `plan_*` only; `packet_share` SIMs count against their group's pack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_bytes: Option<u64>,
    pub used_bytes: u64,
    pub days: Vec<DayUse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<ThrottleView>,
}

/// A contract's mobile use in a month.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractMobileUsage {
    pub contract_id: String,
    /// The contract's number (`C-000123`), beside `contract_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_number: Option<String>,
    pub month: String,
    pub sims: Vec<SimUse>,
}

/// A member's use that counts for the group: records on days it was a member.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberUse {
    pub option_id: String,
    pub used_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<ThrottleView>,
}

/// A packet share group's pooled use in a month against the pack in force (R9.6).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GroupUsage {
    pub group_id: String,
    pub month: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack_gb: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack_bytes: Option<u64>,
    pub used_bytes: u64,
    pub days: Vec<DayUse>,
    pub members: Vec<MemberUse>,
}

/// A SIM's throttle decision at an instant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ThrottleDecision {
    pub iccid: String,
    pub option_id: String,
    pub throttled: bool,
    /// `automatic` or `manual`.
    pub source: String,
    /// When the state ends by itself, if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ThrottleDecisions {
    pub at: String,
    pub decisions: Vec<ThrottleDecision>,
}

/// A change of a SIM's throttle decisions. `throttle`: restrict from `from` until `until`;
/// `withdrawn`: a correction cancelled the month's throttle; `manual_throttle` and
/// `manual_release`: an operator's action at `from` (R9.9).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ThrottleEvent {
    pub seq: i64,
    pub iccid: String,
    pub option_id: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ThrottleEvents {
    pub events: Vec<ThrottleEvent>,
    /// Pass as `after` to read on; the same cursor when nothing happened.
    pub cursor: i64,
}

/// A manual throttle or release (operators, R9.9).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualThrottle {
    pub reason: String,
}
