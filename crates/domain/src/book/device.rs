//! Devices and where each is in its custody cycle (R7, R10–R12).

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::catalog::DeviceType;

/// Where a device is in its custody cycle (R7, R10–R12).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    /// Known but never assigned.
    Stock,
    InService,
    /// Replaced after a failure, or its contract ended: to be returned (R10.3, R11.1).
    AwaitingReturn,
    Returned,
    /// Reported lost or not returned in time (R12).
    Lost,
    /// Found after being lost: never in service again (R12.3).
    Found,
}

impl DeviceState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceState::Stock => "stock",
            DeviceState::InService => "in_service",
            DeviceState::AwaitingReturn => "awaiting_return",
            DeviceState::Returned => "returned",
            DeviceState::Lost => "lost",
            DeviceState::Found => "found",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            DeviceState::Stock,
            DeviceState::InService,
            DeviceState::AwaitingReturn,
            DeviceState::Returned,
            DeviceState::Lost,
            DeviceState::Found,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// A device serving a contract over a span of days, both inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub contract_id: String,
    pub from: Date,
    pub until: Option<Date>,
}

impl Assignment {
    pub fn covers(&self, date: Date) -> bool {
        self.from <= date && self.until.is_none_or(|u| date <= u)
    }
}

/// A service adapter unit, known by its serial number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub serial: String,
    pub device_type: DeviceType,
    pub assignments: Vec<Assignment>,
    /// The last day to return it (R10.3: contract end + 30 days, D4).
    pub return_due: Option<Date>,
    pub returned_on: Option<Date>,
    pub lost_on: Option<Date>,
    pub found_on: Option<Date>,
}

impl Device {
    /// A unit of the inventory that has served no contract yet.
    pub fn in_stock(serial: &str, device_type: DeviceType) -> Device {
        Device {
            serial: serial.to_owned(),
            device_type,
            assignments: Vec::new(),
            return_due: None,
            returned_on: None,
            lost_on: None,
            found_on: None,
        }
    }

    /// Where the device stands on `date`, from its dated history.
    pub fn state_on(&self, date: Date) -> DeviceState {
        let by = |d: Option<Date>| d.is_some_and(|d| d <= date);
        if by(self.found_on) {
            DeviceState::Found
        } else if by(self.lost_on) {
            DeviceState::Lost
        } else if self.assignments.iter().any(|a| a.covers(date)) {
            DeviceState::InService
        } else if by(self.returned_on) {
            DeviceState::Returned
        } else if self.assignments.iter().any(|a| a.from <= date) {
            DeviceState::AwaitingReturn
        } else {
            DeviceState::Stock
        }
    }

    /// The contract it serves on `date`.
    pub fn contract_on(&self, date: Date) -> Option<&str> {
        self.assignments
            .iter()
            .find(|a| a.covers(date))
            .map(|a| a.contract_id.as_str())
    }
}
