//! SMFv2 (the ARMS call-home protocol): what mpc sends to and reads from devices that embed the
//! ARMS client library instead of speaking `/device/v1`.
//!
//! The listener serves the Location Server and the Resource Server pulls on one TLS port of
//! its own; push over the HTTPS tunnel and the UDP heartbeat come later.

pub mod heartbeat;
pub mod http;
pub mod listener;
pub mod message;
pub mod pki;
pub mod udp;
