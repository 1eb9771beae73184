//! Mobile data through the API: SIMs, usage ingestion, usage against caps and packs, throttle
//! decisions (R9.3, R9.6, R9.9). 1 GB = 10^9 bytes; times are Tokyo (+09:00).

#[path = "../common/mod.rs"]
mod common;
mod support;
mod throttles;
mod usage;
