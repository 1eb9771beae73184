//! The one error type of the HTTP layer, rendered as RFC 9457 problem details.
//!
//! Internal errors are logged with the request id and answered with a generic 500: no SQL or
//! stack text ever reaches a client.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mpc_api_types::{FieldProblem, Problem};
use mpc_domain::Refusal;
use mpc_domain::account::FieldError;
use mpc_storage::StorageError;

use crate::observability::current_request_id;

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub detail: String,
    pub detail_ja: Option<String>,
    pub errors: Vec<FieldProblem>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code: Cow::Borrowed(code),
            detail: detail.into(),
            detail_ja: None,
            errors: Vec::new(),
        }
    }

    /// Also the answer for anything that exists but is not the caller's to see.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such resource, or not yours to see",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn operator_only() -> Self {
        Self::forbidden("only operators may do this")
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed; the request id identifies it in the server log",
        )
    }

    pub fn ja(mut self, detail_ja: impl Into<String>) -> Self {
        self.detail_ja = Some(detail_ja.into());
        self
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: "about:blank".into(),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            detail_ja: self.detail_ja.clone(),
            code: self.code.clone().into_owned(),
            request_id: current_request_id(),
            errors: self.errors.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"mpc\""),
            );
        }
        response
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => ApiError::not_found(),
            StorageError::Conflict(detail) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", detail)
                    .ja("同じものがすでに登録されているため、受け付けられません")
            }
            StorageError::InvalidText => ApiError::bad_request(
                "invalid_text",
                "a text of the request holds the NUL character, which is not accepted",
            )
            .ja("NUL 文字を含む入力は受け付けられません"),
            e => {
                tracing::error!(error = %e, "storage failed");
                ApiError::internal()
            }
        }
    }
}

impl From<mpc_storage::contracts::requests::EngineError> for ApiError {
    fn from(e: mpc_storage::contracts::requests::EngineError) -> Self {
        match e {
            mpc_storage::contracts::requests::EngineError::Refused(r) => r.into(),
            mpc_storage::contracts::requests::EngineError::Storage(e) => e.into(),
        }
    }
}

/// A rule of the regulation refused the change: the code is the rule id. A refusal naming
/// something the contractor does not hold is a 404, as for any other unknown id.
impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        if r.rule == "not_found" {
            return ApiError::not_found();
        }
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: Cow::Borrowed(r.rule),
            detail: r.message_en,
            detail_ja: Some(r.message_ja),
            errors: Vec::new(),
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: Cow::Borrowed("invalid_field"),
            detail: e.message_en.clone(),
            detail_ja: Some(e.message_ja.clone()),
            errors: vec![FieldProblem::new(
                e.field.to_owned(),
                e.message_en,
                e.message_ja,
            )],
        }
    }
}
