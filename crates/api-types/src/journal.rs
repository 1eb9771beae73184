//! The journal of accepted changes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One accepted change.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JournalEntry {
    pub seq: i64,
    pub at: String,
    /// `user:<id>`, `cli` or `system`.
    pub actor: String,
    /// The username of the user `actor` names; absent for `cli`, `system` and the like.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[schema(example = "contractor.create")]
    pub operation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contractor_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The request body as received, secrets redacted.
    pub request: serde_json::Value,
    pub outcome: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JournalPage {
    pub entries: Vec<JournalEntry>,
    /// Pass as `before` to read older entries; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<i64>,
}
