//! Typed use cases: each authorizes its caller, runs the domain through storage with its
//! journal row, and returns a typed outcome. The API, the console and the command line call
//! these, never one another's handlers.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiResult;
use crate::extract::JsonBody;

pub mod billing;
pub mod contracts;
pub mod devices;
pub mod mobile;
pub mod parties;
pub mod presets;
pub mod requests;

/// What a use case is asked to do: the API's JSON body, parsed only once the caller may see
/// what the path names (so a malformed body reveals nothing), or a value the console built.
pub enum Input<T> {
    Json(JsonBody),
    Value(T),
}

impl<T> From<JsonBody> for Input<T> {
    fn from(body: JsonBody) -> Self {
        Input::Json(body)
    }
}

impl<T: Serialize + DeserializeOwned> Input<T> {
    /// The value, with it as JSON for the journal.
    ///
    /// # Errors
    /// The API's 400/422 for a body that is not a `T`.
    pub fn read(self) -> ApiResult<(T, Value)> {
        match self {
            Input::Json(body) => body.parse(),
            Input::Value(v) => Ok(journal_json(v)),
        }
    }

    /// Like [`Input::read`], but an absent JSON body reads as `{}`.
    ///
    /// # Errors
    /// As [`Input::read`].
    pub fn read_or_empty(self) -> ApiResult<(T, Value)> {
        match self {
            Input::Json(body) => body.parse_or_empty(),
            Input::Value(v) => Ok(journal_json(v)),
        }
    }
}

fn journal_json<T: Serialize>(v: T) -> (T, Value) {
    let json = serde_json::to_value(&v).unwrap_or_default();
    (v, json)
}
