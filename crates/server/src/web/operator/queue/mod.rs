//! `/console/queue`: what waits for an operator — pending requests to accept or reject, paper
//! notices to record for a contractor, devices waiting for preset parameters, devices awaiting
//! return and overdue returns. One module per page or partial, beside its template in
//! `templates/web/operator/queue/`.

mod counts;
mod devices;
mod notice;
mod page;
mod preview;
mod request;

pub use counts::{Counts, counts_fragment};
pub use devices::{device_found, device_returned, sweep};
pub use notice::{notice_form, record_notice};
pub use page::page;
pub use preview::preview_fragment;
pub use request::{accept, reject, request_page};

use mpc_api_types::contracts::{DeviceView, RequestView};

use crate::AppState;
use crate::app::requests;
use crate::app::support::MAX_LIMIT;
use crate::web::{Session, WebResult};

/// Every pending request, oldest first (the API's order), through all its pages.
async fn pending(state: &AppState, session: &Session) -> WebResult<Vec<RequestView>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let query = requests::Query {
            status: Some("pending".into()),
            kind: None,
            after: after.take(),
            limit: Some(MAX_LIMIT),
        };
        let page = requests::queue(state, &session.caller(), None, &query).await?;
        out.extend(page.requests);
        match page.next_cursor {
            Some(c) => after = Some(c),
            None => return Ok(out),
        }
    }
}

/// Devices released from their contracts and not back yet, as of today.
async fn awaiting(state: &AppState, session: &Session) -> WebResult<Vec<DeviceView>> {
    Ok(crate::app::fleet::awaiting_return(state, &session.caller(), None).await?)
}
