//! Finding anything by what people type: contracts, devices, SIMs, contractors, invoices.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a search finds, by kind, each kind limited to a few hits with its total; a
/// contractor user finds only its own things.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchResults {
    /// The query as searched (trimmed).
    pub query: String,
    /// The one thing the query names exactly (an invoice number `I-000123`, a whole contract
    /// id, serial or ICCID), when there is one: clients may open it directly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<Found>,
    pub contracts: HitGroup<ContractHit>,
    pub devices: HitGroup<DeviceHit>,
    pub sims: HitGroup<SimHit>,
    pub contractors: HitGroup<ContractorHit>,
    pub invoices: HitGroup<InvoiceHit>,
}

/// Hits of one kind: the first few, and how many there are in all.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HitGroup<T> {
    pub hits: Vec<T>,
    pub total: i64,
}

/// The kinds of things a search finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    Contract,
    Device,
    Sim,
    Contractor,
    Invoice,
}

impl SearchKind {
    pub const ALL: [SearchKind; 5] = [
        SearchKind::Contract,
        SearchKind::Device,
        SearchKind::Sim,
        SearchKind::Contractor,
        SearchKind::Invoice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SearchKind::Contract => "contract",
            SearchKind::Device => "device",
            SearchKind::Sim => "sim",
            SearchKind::Contractor => "contractor",
            SearchKind::Invoice => "invoice",
        }
    }

    pub fn parse(s: &str) -> Option<SearchKind> {
        SearchKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One thing named exactly by a query.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Found {
    pub kind: SearchKind,
    /// Its id: the contract's, invoice's or contractor's id, the device's serial, the ICCID.
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractHit {
    pub id: String,
    pub contractor_id: String,
    pub contractor_name: String,
    /// `management` or `service_adapter`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
    /// The contract number (`C-000123`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "C-000123")]
    pub number: Option<String>,
    /// The site label its contractor gives it; empty when none.
    #[serde(default)]
    pub label: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeviceHit {
    pub serial: String,
    pub model: String,
    /// The contractor holding it; absent for a device in the inventory never shipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contractor_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contractor_name: Option<String>,
}

/// A SIM's binding to a mobile access option (R9.3).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SimHit {
    pub iccid: String,
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    pub option_id: String,
    pub contract_id: String,
    /// The contract's number (`C-000123`), beside `contract_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_number: Option<String>,
    pub contractor_id: String,
    pub contractor_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractorHit {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceHit {
    pub id: String,
    /// `I-000123`; absent for a draft (B3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    pub month: String,
    pub account_id: String,
    pub recipient_name: String,
    /// Yen, tax included.
    pub total: i64,
    /// `draft` or `finalized` (B4).
    pub status: String,
}
