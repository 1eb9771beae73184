//! What rules return: the [`Effect`]s a book carries out, and the one-time charges they cause.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::{Contract, ContractOption, Ending, PacketShareGroup};
use crate::catalog::{DeviceType, Item, MobileUsageType, NetworkType};

/// A one-time fee that a change causes; billing prices it (R14.2, 別紙1 3).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeEvent {
    pub id: String,
    pub contract_id: String,
    pub kind: ChargeKind,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub occurred_on: Date,
    /// The device type the fee depends on (loss fees), when relevant.
    pub device_type: Option<DeviceType>,
    pub note: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeKind {
    /// R8.1: item change.
    ItemChange,
    /// R9.5: network type dynamic_ip → fixed_ip.
    NetworkTypeToFixed,
    /// R11.2: a failure the contractor caused.
    ContractorCausedFailure,
    /// R12.2: a lost device, including one not returned in time (R10.3).
    Loss,
}

impl ChargeKind {
    pub fn rule(self) -> &'static str {
        match self {
            ChargeKind::ItemChange => "R8.1",
            ChargeKind::NetworkTypeToFixed => "R9.5",
            ChargeKind::ContractorCausedFailure => "R11.2",
            ChargeKind::Loss => "R12.2",
        }
    }
}

/// One change decided by a rule.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    ContractCreated(Contract),
    BillingStartSet {
        contract_id: String,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
        on: Date,
    },
    ItemChanged {
        contract_id: String,
        item: Item,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
        from: Date,
    },
    ContractEnds {
        contract_id: String,
        ending: Ending,
    },
    OptionCreated(ContractOption),
    UsageTypeChanged {
        option_id: String,
        usage_type: MobileUsageType,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
        from: Date,
    },
    NetworkTypeChanged {
        option_id: String,
        network_type: NetworkType,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
        from: Date,
    },
    OptionEnds {
        option_id: String,
        ending: Ending,
    },
    GroupCreated(PacketShareGroup),
    PackChanged {
        group_id: String,
        gb: u32,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
        from: Date,
    },
    MemberJoined {
        group_id: String,
        option_id: String,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
        from: Date,
    },
    MemberLeft {
        group_id: String,
        option_id: String,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
        last_day: Date,
    },
    GroupEnds {
        group_id: String,
        ending: Ending,
    },
    Charge(ChargeEvent),
    /// A device starts serving a contract (R7.1 serial notification, R11.1 replacement).
    DeviceAssigned {
        serial: String,
        device_type: DeviceType,
        contract_id: String,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
        from: Date,
    },
    /// A device stops serving its contract and is to come back (R10.3, R11.1).
    DeviceReleased {
        serial: String,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
        last_day: Date,
        #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
        return_due: Option<Date>,
    },
    DeviceReturned {
        serial: String,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
        on: Date,
    },
    /// Reported lost, or not returned by its deadline (R10.3, R12.2).
    DeviceLost {
        serial: String,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
        on: Date,
    },
    /// A lost device turned up; it stays out of service (R12.3).
    DeviceFound {
        serial: String,
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
        on: Date,
    },
    /// A notified serial was corrected before any device fetched with it (R7.1): the device
    /// never served the contract, so its assignment is withdrawn, not ended.
    NotificationWithdrawn {
        serial: String,
        contract_id: String,
    },
}
