//! The controller through HTTP, on SQLite and PostgreSQL: presets and revisions, the
//! inventory, devices calling home (signatures, provisionability, ETags, billing start) and
//! monitoring with alert webhooks, and the mobile line of an SA-W2L.

#[path = "../common/mod.rs"]
mod common;
mod devices;
mod monitoring;
mod nodes;
mod presets;
mod support;
