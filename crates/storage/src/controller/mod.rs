//! The controller's records: the device inventory, preset revisions, device status with its
//! UP/DOWN history, and alert webhooks.
//!
//! Secrets never rest in clear: factory secrets, preset parameters, mobile line passwords and
//! the recipes rendered from them (which carry the PPPoE password, pre-shared key, user and
//! mobile passwords) are sealed
//! with XChaCha20-Poly1305 under a [`SecretKey`], each bound to its row by associated data so
//! a ciphertext copied to another row does not open.
//!
//! A contract without a stored revision runs the defaults of its item
//! ([`PresetParams::default_for`]); the first parameter change stores revision 1. Defaults are
//! thus applied lazily on first write, so reading never writes — except when an item change
//! (R8.1) has taken effect since the last revision: [`follow_item`] then stores the converted
//! parameters as a new revision.
//!
//! [`PresetParams::default_for`]: mpc_domain::preset::PresetParams::default_for

mod figures;
mod inventory;
mod key;
mod mobile_lines;
mod revisions;
mod seen;
mod status;
mod webhooks;

pub use figures::*;
pub use inventory::*;
pub use key::*;
pub use mobile_lines::*;
pub use revisions::*;
pub use seen::*;
pub use status::*;
pub use webhooks::*;
