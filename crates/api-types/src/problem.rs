//! RFC 9457 problem details, the body of every error response.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An error, as `application/problem+json` (RFC 9457).
///
/// `code` is stable and machine-readable: a rule id such as `R13.1` when the regulation refuses
/// the change, otherwise a snake_case name such as `not_found` or `unknown_field`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: `code` carries the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// The HTTP status phrase.
    pub title: String,
    pub status: u16,
    /// What went wrong, in English.
    pub detail: String,
    /// The same in Japanese, where the problem comes from a rule of the regulation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_ja: Option<String>,
    #[schema(example = "R13.1")]
    pub code: String,
    /// The id of the request, as in the `x-request-id` response header and the server log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The fields at fault, for validation problems.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// One field of a request that is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
// Other crates build it only through `new`, which takes both languages.
#[non_exhaustive]
pub struct FieldProblem {
    pub field: String,
    /// What is wrong, in English.
    pub message: String,
    /// The same in Japanese; every problem this server sends has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_ja: Option<String>,
}

impl FieldProblem {
    /// The problem of `field`, in English and in Japanese.
    ///
    /// The only way to build one outside this crate: the console shows `message_ja` on its
    /// Japanese pages, so a problem without it would put English there.
    pub fn new(field: impl Into<String>, en: impl Into<String>, ja: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: en.into(),
            message_ja: Some(ja.into()),
        }
    }
}
