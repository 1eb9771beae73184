//! Designated services (R6.1c), management designations (R6.2) and invoice redirects (R6.3).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DesignatedService {
    pub id: String,
    pub contractor_id: String,
    /// The operator's reference to the contract for the designated service.
    pub reference: String,
    pub registered_on: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DesignatedServiceList {
    pub designated_services: Vec<DesignatedService>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDesignatedService {
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Designation {
    pub id: String,
    pub rider_contractor_id: String,
    pub management_contract_id: String,
    /// The management's number (`C-000123`), beside `management_contract_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_contract_number: Option<String>,
    pub requested_on: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consented_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn_on: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub defaulted_dates: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DesignationList {
    pub designations: Vec<Designation>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDesignation {
    /// Another contractor's management contract to ride on (R6.2), by id (operators may give
    /// its number, `C-000123`).
    pub management_contract_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceRedirect {
    pub id: String,
    pub management_contract_id: String,
    /// The management's number (`C-000123`), beside `management_contract_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_contract_number: Option<String>,
    pub target_contractor_id: String,
    pub requested_on: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consented_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_on: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub defaulted_dates: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceRedirectList {
    pub invoice_redirects: Vec<InvoiceRedirect>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvoiceRedirect {
    /// A rider of this management (R6.2) or a service-adapter user it names.
    pub target_contractor_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_on: Option<String>,
}
