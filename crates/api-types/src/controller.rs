//! The controller: presets and their revisions, the device inventory, monitoring, webhooks,
//! and what devices send when they call home.

use mpc_domain::catalog::{DeviceType, Item};
use mpc_domain::monitoring::ConnectionState;
use mpc_domain::preset::{DiffLine, MobileSettings, PresetParams};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A contract's preset parameters in force today. Secrets are masked unless asked for with
/// `reveal=true`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PresetView {
    pub contract_id: String,
    /// The contract's number (`C-000123`), beside `contract_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_number: Option<String>,
    pub item: Item,
    pub device_type: DeviceType,
    /// The current revision; none while the contract runs its item's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,
    pub params: PresetParams,
    pub revealed: bool,
}

/// The mobile line an SA-W2L's built-in module (`ta1`) dials for a mobile access option
/// (R6.5, R9.3). The network type is not given: it is the option's own (R9.5).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MobileLineBody {
    /// 1–100 of `-.0-9A-Za-z`, not starting with a digit.
    pub apn: String,
    /// The PPP id, 1–150 characters.
    pub id: String,
    /// The PPP password, 1–64 characters.
    pub password: String,
}

/// A mobile access option's line with the option's network type in force today. The password
/// is masked unless asked for with `reveal=true`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MobileLineView {
    pub option_id: String,
    pub contract_id: String,
    /// The contract's number (`C-000123`), beside `contract_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_number: Option<String>,
    /// None until the line is set.
    pub line: Option<MobileSettings>,
    /// After a change: the revision rendered with the line, none while the contract's preset
    /// parameters do not render yet (R17.1). Not shown when reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,
    pub revealed: bool,
}

/// One revision of a preset, without its content.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RevisionSummary {
    pub revision: i64,
    pub item: Item,
    /// `edit`, `rollback` (of `based_on`) or `item_change` (R8.1, from `based_on`).
    pub cause: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub based_on: Option<i64>,
    pub created_at: String,
    /// `user:<id>` or `system`.
    pub created_by: String,
    /// The username of the user who saved it; absent for `system` and the like.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RevisionList {
    pub contract_id: String,
    /// The contract's number (`C-000123`), beside `contract_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_number: Option<String>,
    /// Oldest first; the last is current.
    pub revisions: Vec<RevisionSummary>,
}

/// One revision with its parameters and the recipe configuration rendered from them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RevisionView {
    #[serde(flatten)]
    pub summary: RevisionSummary,
    pub params: PresetParams,
    /// The recipe text a device receives (secrets masked unless revealed).
    pub recipe: String,
    pub revealed: bool,
}

/// What changed in the recipe from one revision to another.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevisionDiff {
    pub from: i64,
    pub to: i64,
    pub changes: Vec<DiffLine>,
    pub revealed: bool,
}

/// The result of an inventory import.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InventoryImport {
    pub imported: usize,
}

/// A device of the inventory with its monitoring state.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MonitoredDevice {
    pub serial: String,
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contractor_id: Option<String>,
    /// `in_stock` (serving no contract), `never_connected` (assigned, never heard from), `up`
    /// or `down` (heard from once, silent for longer than the DOWN delay since).
    pub state: ConnectionState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_heartbeat: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_revision: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MonitoredDeviceList {
    pub devices: Vec<MonitoredDevice>,
    /// How many devices the filters find, on every page.
    pub total: i64,
    /// This page, from 1.
    pub page: u32,
    /// The next page, when there is one.
    pub next_page: Option<u32>,
}

/// A change of a device's monitoring state.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StateChangeView {
    /// `up` or `down`.
    pub state: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeviceHistory {
    pub serial: String,
    /// Oldest first.
    pub changes: Vec<StateChangeView>,
    /// What the SMFv2 listener told the unit, oldest first: each change, not every retry.
    #[serde(default)]
    pub smfv2_events: Vec<Smfv2EventView>,
    /// The figures of the unit's latest SMFv2 heartbeats, newest first (at most a day's
    /// worth at five-minute heartbeats; a week is kept).
    #[serde(default)]
    pub heartbeat_figures: Vec<HeartbeatFiguresView>,
}

/// The figures one SMFv2 heartbeat carried (brief §3), as the device sent them: lists
/// `cpus` (`index`, `utilisation` %), `cpu_details` (`idle`, `interrupt`, `user`, `system`,
/// `other` %), `memory` and `disks` (`used`, `available` bytes), `traffic` and
/// `traffic_rates` (octets, packets and errors in and out, per `ifindex`) and `radios`
/// (`misc`, `max`, `min`, `avg`); a list the device did not send is empty.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HeartbeatFiguresView {
    pub at: String,
    #[schema(value_type = Object)]
    pub figures: serde_json::Value,
}

/// One thing the SMFv2 listener told a unit.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Smfv2EventView {
    pub at: String,
    /// `ls.accepted`, `ls.refused`, `rs.accepted`, `rs.refused`, or of push over the tunnel:
    /// `push.confirmed`, `push.pull-config` (sent), `push.pull-config.answered`,
    /// `push.closed`, `push.refused`, `push.failed`.
    pub event: String,
    /// The rule that withheld the configuration (`R12.3`, …), for a refusal by a rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub detail: String,
}

/// An SMFv2 identity for a unit of the inventory; keys left out are generated.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSmfv2Identity {
    /// Eight groups of four upper-case hex digits, as printed on the unit.
    pub distribution_id: String,
    /// 8 to 64 printable ASCII characters without spaces; generated when left out.
    #[serde(default)]
    pub ls_key: Option<String>,
    /// 8 to 64 printable ASCII characters without spaces; generated when left out.
    #[serde(default)]
    pub rs_key: Option<String>,
    /// 8 to 256 printable ASCII characters without spaces; generated when left out.
    #[serde(default)]
    pub heartbeat_passphrase: Option<String>,
}

/// A unit's SMFv2 identity, without its keys.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Smfv2IdentityView {
    pub serial: String,
    pub distribution_id: String,
    pub created_at: String,
    /// When the keys were shown; none until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revealed_at: Option<String>,
}

/// A unit's SMFv2 keys, shown once to an operator (to provision the unit or its LS).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Smfv2Keys {
    pub serial: String,
    pub distribution_id: String,
    /// The Location Server password the unit is provisioned with.
    pub ls_key: String,
    /// The Resource Server password the LS hands the unit.
    pub rs_key: String,
    /// The key of the unit's heartbeat HMAC.
    pub heartbeat_passphrase: String,
}

/// A URL that receives a JSON POST on every device state change.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// An `http://` or `https://` URL.
    pub url: String,
}

/// The body of `POST /device/v1/status`: the heartbeat.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceStatus {
    /// 1–64 characters.
    pub firmware: String,
    pub uptime_seconds: u64,
    /// The revision the device runs (`X-MPC-Revision` of the config it applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_revision: Option<i64>,
}
