//! SMFv2 (the ARMS call-home protocol): what mpc sends to and reads from devices that embed the
//! ARMS client library instead of speaking `/device/v1`.
//!
//! Only the message codec exists so far; the listener, push and heartbeat come later.

pub mod message;
