//! Request extractors: the authenticated caller and a JSON body parsed on demand.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header, request::Parts};
use mpc_api_types::FieldProblem;
use mpc_domain::access::Actor;
use mpc_storage::{JournalEntry, accounts};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::observability::REQUEST_ID_HEADER;

/// The authenticated caller of an API request (`Authorization: Bearer <token>`).
pub struct Caller {
    pub actor: Actor,
    pub request_id: Option<String>,
    /// The `mpc` command line rather than a user (see [`Caller::command_line`]).
    command_line: bool,
}

impl Caller {
    /// A signed-in user (the API's token, the console's session).
    pub fn user(actor: Actor, request_id: Option<String>) -> Self {
        Caller {
            actor,
            request_id,
            command_line: false,
        }
    }

    /// The `mpc` command line: it runs with the database's own rights, so it acts as an
    /// operator named `cli`, and its journal rows (and the requests it submits or decides) name
    /// `cli` as their actor, as they always have, not a user.
    pub fn command_line() -> Self {
        Caller {
            actor: Actor::Operator {
                user_id: "cli".into(),
            },
            request_id: None,
            command_line: true,
        }
    }

    /// Who this caller is in the journal and on the requests it submits or decides:
    /// `user:<id>`, or `cli` for the command line.
    pub fn name(&self) -> String {
        if self.command_line {
            "cli".into()
        } else {
            format!("user:{}", self.actor.user_id())
        }
    }

    /// A journal entry for a change made by this caller.
    pub fn journal(&self, operation: &str) -> JournalEntry {
        JournalEntry::new(self.name(), operation).request_id(self.request_id.clone())
    }

    /// Refuses anyone but operators.
    pub fn require_operator(&self) -> ApiResult<()> {
        if self.actor.is_operator() {
            Ok(())
        } else {
            Err(ApiError::operator_only())
        }
    }

    /// Answers 404 for a contractor outside the caller's reach.
    pub fn require_contractor(&self, contractor_id: &str) -> ApiResult<()> {
        if self.actor.sees_contractor(contractor_id) {
            Ok(())
        } else {
            Err(ApiError::not_found())
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let unauthenticated = |detail: &str| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                detail.to_owned(),
            )
        };
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            unauthenticated("send an API token as `Authorization: Bearer <token>`")
        })?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthenticated("the Authorization header must be `Bearer <token>`"))?;
        let user = accounts::authenticate(&state.store, token)
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "the API token is unknown or revoked",
                )
            })?;
        if user.disabled_at.is_some() {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "account_disabled",
                "the user of this API token is disabled; an operator can enable it again",
            ));
        }
        let request_id = parts
            .headers
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Caller::user(user.actor()?, request_id))
    }
}

/// A JSON request body, read (within the body limit) but not yet parsed.
///
/// Handlers parse it only after checking that the caller may see the resources named in the
/// path, so a malformed body never reveals whether another contractor's resource exists.
pub struct JsonBody(Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> ApiResult<Self> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json")
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        let has_type = req.headers().contains_key(header::CONTENT_TYPE);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the request body is larger than the server accepts",
                )
            } else {
                ApiError::bad_request("unreadable_body", e.body_text())
            }
        })?;
        // A bare POST without body or content type stands for `{}`; anything sent must be JSON.
        if !is_json && (has_type || !bytes.is_empty()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as `Content-Type: application/json`",
            ));
        }
        Ok(JsonBody(bytes))
    }
}

impl JsonBody {
    /// A body made on the server (the console turning a form into the API's JSON).
    pub fn from_json(value: &Value) -> Self {
        JsonBody(Bytes::from(value.to_string()))
    }

    /// Parses the body as `T`, returning it with the body as JSON (for the journal).
    pub fn parse<T: DeserializeOwned>(&self) -> ApiResult<(T, Value)> {
        self.parse_json(false)
    }

    /// Like [`JsonBody::parse`], but an absent body reads as `{}`.
    pub fn parse_or_empty<T: DeserializeOwned>(&self) -> ApiResult<(T, Value)> {
        self.parse_json(true)
    }

    fn parse_json<T: DeserializeOwned>(&self, empty_is_object: bool) -> ApiResult<(T, Value)> {
        let bytes: &[u8] = if empty_is_object && self.0.is_empty() {
            b"{}"
        } else {
            &self.0
        };
        let value = strict_json(bytes)?;
        let parsed = T::deserialize(&value).map_err(|e| {
            let message = e.to_string();
            match message.strip_prefix("unknown field `") {
                Some(rest) => {
                    let field = rest.split('`').next().unwrap_or_default().to_owned();
                    let mut err = ApiError::unprocessable(
                        "unknown_field",
                        format!("unknown field `{field}`"),
                    );
                    err.errors.push(FieldProblem::new(
                        field,
                        message,
                        "この項目は受け付けられません",
                    ));
                    err
                }
                None => ApiError::unprocessable("invalid_body", message),
            }
        })?;
        Ok((parsed, value))
    }
}

/// Query parameters; a malformed or unknown parameter is a problem+json 400.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Params(q.0))
            .map_err(|e| {
                let text = e.body_text();
                // `Failed to deserialize query string: limit: invalid digit found in string`:
                // a paging parameter that is not a whole number is refused as one out of range.
                text.split(": ")
                    .nth(1)
                    .and_then(crate::app::support::unreadable_paging)
                    .unwrap_or_else(|| ApiError::bad_request("invalid_query", text))
            })
    }
}

/// Reads a JSON body, refusing what `serde_json::Value` would silently accept.
///
/// A duplicate key in an object is a 400 naming the key (`serde_json` keeps the last one, so a
/// client and a proxy or log could read different bodies), and any string longer than
/// [`MAX_TEXT_CHARS`](mpc_domain::account::MAX_TEXT_CHARS) or holding the NUL character (which
/// PostgreSQL cannot store) is a 422 naming its field; fields
/// with a narrower limit check it themselves. Nesting is bounded by `serde_json` (128 levels).
pub fn strict_json(bytes: &[u8]) -> ApiResult<Value> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde::de::DeserializeSeed::deserialize(Strict { path: "" }, &mut de)
        .and_then(|v| de.end().map(|()| v));
    value.map_err(|e| {
        let message = e.to_string();
        if let Some(key) = message.strip_prefix(DUPLICATE_KEY) {
            let key = key.split('\u{0}').next().unwrap_or_default().to_owned();
            let mut err = ApiError::bad_request(
                "duplicate_key",
                format!("the key `{key}` appears twice in one object"),
            )
            .ja(format!("キー `{key}` が同じオブジェクトに2回あります"));
            err.errors.push(FieldProblem::new(
                key,
                "duplicate key",
                "キーが重複しています",
            ));
            err
        } else if let Some(field) = message.strip_prefix(TOO_LONG) {
            let field = field.split('\u{0}').next().unwrap_or_default().to_owned();
            let max = mpc_domain::account::MAX_TEXT_CHARS;
            let mut err = ApiError::unprocessable(
                "invalid_field",
                format!("{field} must be at most {max} characters"),
            )
            .ja(format!("{field} は{max}文字以内で入力してください"));
            err.errors.push(FieldProblem::new(
                field,
                format!("at most {max} characters"),
                format!("{max}文字以内"),
            ));
            err
        } else if let Some(field) = message.strip_prefix(HOLDS_NUL) {
            let field = field.split('\u{0}').next().unwrap_or_default().to_owned();
            let mut err = ApiError::unprocessable(
                "invalid_field",
                format!("{field} must not contain the NUL character"),
            )
            .ja(format!("{field} に NUL 文字は使えません"));
            err.errors.push(FieldProblem::new(
                field,
                "must not contain NUL",
                "NUL 文字は使えません",
            ));
            err
        } else {
            ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
        }
    })
}

const DUPLICATE_KEY: &str = "\u{0}duplicate key ";
const TOO_LONG: &str = "\u{0}too long ";
const HOLDS_NUL: &str = "\u{0}holds NUL ";

/// Builds a [`Value`] like its own `Deserialize`, checking keys and string lengths on the way.
#[derive(Clone, Copy)]
struct Strict<'p> {
    path: &'p str,
}

impl<'de> serde::de::DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        if v.chars().count() > mpc_domain::account::MAX_TEXT_CHARS {
            return Err(E::custom(format!("{TOO_LONG}{}\u{0}", self.path)));
        }
        if v.contains('\u{0}') {
            return Err(E::custom(format!("{HOLDS_NUL}{}\u{0}", self.path)));
        }
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Value, E> {
        self.visit_str(&v)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        serde::de::DeserializeSeed::deserialize(self, d)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        use serde::de::Error;
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key_seed(Strict { path: self.path })? {
            let Value::String(key) = key else {
                return Err(A::Error::custom("object keys are strings"));
            };
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            if out.contains_key(&key) {
                return Err(A::Error::custom(format!("{DUPLICATE_KEY}{path}\u{0}")));
            }
            let value = map.next_value_seed(Strict { path: &path })?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// A text body (CSV, JSON lines) as text: UTF-8 without the NUL character, which PostgreSQL
/// cannot store in any field the lines name.
///
/// # Errors
/// 400 `unreadable_body` otherwise; `what` names the body in the message ("the CSV").
pub fn text_body<'b>(bytes: &'b [u8], what: &str) -> ApiResult<&'b str> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        ApiError::bad_request("unreadable_body", format!("{what} is not UTF-8"))
            .ja("送られた内容が UTF-8 ではありません")
    })?;
    if text.contains('\u{0}') {
        return Err(ApiError::bad_request(
            "unreadable_body",
            format!("{what} holds the NUL character"),
        )
        .ja("送られた内容に NUL 文字が含まれています"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_json_reads_what_serde_json_reads_and_refuses_what_it_hides() {
        let text = br#"{"a": [1, -2, 3.5, true, null, "x"], "b": {"c": "d"}}"#;
        let expected: Value = serde_json::from_slice(text).unwrap();
        assert_eq!(strict_json(text).unwrap(), expected);

        let twice = strict_json(br#"{"a": 1, "b": {"c": 1, "c": 2}}"#).unwrap_err();
        assert_eq!(
            (twice.status.as_u16(), &*twice.code),
            (400, "duplicate_key")
        );
        assert_eq!(twice.errors[0].field, "b.c");

        let long = format!(
            r#"{{"name": "{}"}}"#,
            "x".repeat(mpc_domain::account::MAX_TEXT_CHARS + 1)
        );
        let long = strict_json(long.as_bytes()).unwrap_err();
        assert_eq!((long.status.as_u16(), &*long.code), (422, "invalid_field"));
        assert_eq!(long.errors[0].field, "name");

        // Deep nesting is refused by serde_json's recursion limit, not by a stack overflow.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            strict_json(deep.as_bytes()).unwrap_err().code,
            "malformed_json"
        );
        assert_eq!(strict_json(b"{} {}").unwrap_err().code, "malformed_json");
    }
}
