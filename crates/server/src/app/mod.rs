//! Typed use cases: each authorizes its caller, runs the domain through storage with its
//! journal row, and returns a typed outcome. The API, the console and the command line call
//! these, never one another's handlers.

pub mod billing;
pub mod contractors;
pub mod contracts;
pub mod devices;
pub mod fleet;
pub mod inventory;
pub mod journal;
pub mod mobile;
pub mod monitoring;
pub mod parties;
pub mod presets;
pub mod prices;
pub mod requests;
pub mod search;
pub mod session;
pub mod sla;
pub(crate) mod support;
pub mod timeline;
pub mod users;

pub use support::{MAX_LIMIT, PageParams};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;

/// What a use case is asked to do: a JSON body as a client sent it, or a value the console
/// built from its form.
///
/// A use case reads it only after authorizing its caller, so a malformed body never tells
/// whether another contractor's resource exists. Either way it passes the same entry checks
/// ([`crate::extract::strict_json`]: lengths, NUL characters, unknown fields), and the journal
/// records it as JSON, as sent (a value's absent options are left out).
pub enum Input<T> {
    Body(JsonBody),
    Value(T),
}

impl<T> From<JsonBody> for Input<T> {
    fn from(body: JsonBody) -> Self {
        Input::Body(body)
    }
}

impl<T: Serialize + DeserializeOwned> Input<T> {
    /// The value, with the JSON the journal records.
    pub fn parse(self) -> ApiResult<(T, Value)> {
        self.body()?.parse()
    }

    /// Like [`Input::parse`], but an absent body reads as `{}`.
    pub fn parse_or_empty(self) -> ApiResult<(T, Value)> {
        self.body()?.parse_or_empty()
    }

    fn body(self) -> ApiResult<JsonBody> {
        Ok(match self {
            Input::Body(body) => body,
            Input::Value(value) => {
                let mut json = serde_json::to_value(value).map_err(|_| ApiError::internal())?;
                if let Value::Object(fields) = &mut json {
                    fields.retain(|_, v| !v.is_null());
                }
                JsonBody::from_json(&json)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use mpc_api_types::accounts::{CreateContractor, CreateContractorUser};
    use mpc_domain::account::MAX_TEXT_CHARS;
    use serde_json::json;

    use super::*;

    #[test]
    fn a_value_passes_the_checks_a_body_passes() {
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        let as_body =
            Input::<CreateContractor>::Body(JsonBody::from_json(&json!({ "name": long })))
                .parse()
                .unwrap_err();
        let as_value = Input::Value(CreateContractor { name: long })
            .parse()
            .unwrap_err();
        assert_eq!(as_value.status, as_body.status);
        assert_eq!(as_value.code, as_body.code);
        assert_eq!(as_value.errors.len(), 1);
        assert_eq!(as_value.errors[0].field, as_body.errors[0].field);
    }

    #[test]
    fn the_journal_records_a_value_without_its_absent_options() {
        let (user, raw) = Input::Value(CreateContractorUser {
            username: "yamada".into(),
            display_name: None,
        })
        .parse()
        .unwrap();
        assert_eq!(user.username, "yamada");
        assert_eq!(raw, json!({ "username": "yamada" }));
        // A body is recorded as sent, an explicit null included.
        let sent = json!({ "username": "yamada", "display_name": null });
        let (_, raw) = Input::<CreateContractorUser>::Body(JsonBody::from_json(&sent))
            .parse()
            .unwrap();
        assert_eq!(raw, sent);
    }
}
