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
