//! The HTTP API: `/api/v1` JSON resources plus operational endpoints.

pub(crate) mod health;
pub mod v1;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// A CSV document as a download named `filename` (the API's exports and the console's).
pub(crate) fn csv_download(body: String, filename: &str) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}
