//! SMFv2 (the ARMS call-home protocol): what mpc sends to and reads from devices that embed the
//! ARMS client library instead of speaking `/device/v1`.
//!
//! The listener serves the Location Server and the Resource Server pulls, and the HTTPS
//! tunnel devices receive pushes through, on one TLS port of its own; heartbeats come over
//! UDP to a listener of their own.

pub mod chunk;
pub mod heartbeat;
pub mod http;
pub mod listener;
pub mod message;
pub mod pki;
pub mod push;
pub mod tunnel;
pub mod udp;
