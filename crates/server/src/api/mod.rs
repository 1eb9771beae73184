//! The HTTP API: `/api/v1` JSON resources plus operational endpoints.

pub(crate) mod health;
pub mod v1;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The byte order mark every CSV download starts with: Excel, Japanese Excel included, reads
/// a CSV file as UTF-8 only when it has one (and as Shift_JIS otherwise, garbling names). Every
/// CSV the service reads accepts it.
pub(crate) const CSV_BOM: &str = "\u{feff}";

/// A CSV document as a download named `filename` (the API's exports and the console's), UTF-8
/// with a byte order mark ([`CSV_BOM`]) so that it opens as written in Excel.
pub(crate) fn csv_download(body: String, filename: &str) -> Response {
    let body = if body.starts_with(CSV_BOM) {
        body
    } else {
        format!("{CSV_BOM}{body}")
    };
    download(body.into_response(), "text/csv; charset=utf-8", filename)
}

/// A PDF document as a download named `filename` (invoices, from the API and the console).
pub(crate) fn pdf_download(body: Vec<u8>, filename: &str) -> Response {
    download(body.into_response(), "application/pdf", filename)
}

fn download(mut r: Response, content_type: &'static str, filename: &str) -> Response {
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}
