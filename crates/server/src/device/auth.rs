//! How a device proves it is the unit with a given serial: an HMAC-SHA256 over the request,
//! keyed with the factory secret of the inventory.
//!
//! Headers:
//! - `X-MPC-Serial`: the device's serial number;
//! - `X-MPC-Timestamp`: the time of signing, whole seconds since the Unix epoch;
//! - `X-MPC-Nonce`: 8–64 characters of `[0-9A-Za-z_-]`, fresh for every request, so two
//!   identical requests within one second still differ;
//! - `X-MPC-Signature`: lowercase hex of HMAC-SHA256(factory secret, canonical string).
//!
//! The canonical string is seven lines joined by `\n`, with no trailing newline:
//!
//! ```text
//! MPC-HMAC-SHA256
//! <method, upper case>
//! <path, without query>
//! <timestamp, as sent>
//! <nonce, as sent>
//! <serial, as sent>
//! <lowercase hex SHA-256 of the body; of the empty string for GET>
//! ```
//!
//! A timestamp more than [`MAX_SKEW_SECS`] from the server's clock is refused, and so is a
//! signature already accepted within the window ([`ReplayGuard`]).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

pub const SERIAL_HEADER: &str = "x-mpc-serial";
pub const TIMESTAMP_HEADER: &str = "x-mpc-timestamp";
pub const NONCE_HEADER: &str = "x-mpc-nonce";
pub const SIGNATURE_HEADER: &str = "x-mpc-signature";
/// The revision of the configuration served, on `GET /device/v1/config`.
pub const REVISION_HEADER: &str = "x-mpc-revision";

/// How far a request's timestamp may be from the server's clock: 5 minutes.
pub const MAX_SKEW_SECS: i64 = 300;

type HmacSha256 = hmac::Hmac<Sha256>;

/// Whether a nonce has the form the protocol allows.
pub fn valid_nonce(nonce: &str) -> bool {
    (8..=64).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The string a device signs.
pub fn canonical(
    method: &str,
    path: &str,
    timestamp: &str,
    nonce: &str,
    serial: &str,
    body: &[u8],
) -> String {
    format!(
        "MPC-HMAC-SHA256\n{}\n{path}\n{timestamp}\n{nonce}\n{serial}\n{}",
        method.to_ascii_uppercase(),
        hex::encode(Sha256::digest(body))
    )
}

/// The signature of a request, as `X-MPC-Signature` carries it.
pub fn sign(secret: &[u8], canonical: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(canonical.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature` (hex) is the signature of `canonical` under `secret`, compared in
/// constant time.
pub fn verify(secret: &[u8], canonical: &str, signature: &str) -> bool {
    let Ok(tag) = hex::decode(signature) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(canonical.as_bytes());
    mac.verify_slice(&tag).is_ok()
}

/// Signatures accepted recently, to refuse a request sent again.
///
/// A signature can only verify while its timestamp is within ±[`MAX_SKEW_SECS`], so it must be
/// remembered for twice that. Two generations rotate every `2 × MAX_SKEW_SECS`, so every
/// signature is remembered at least that long. Memory is bounded: a generation holding
/// [`ReplayGuard::CAPACITY`] signatures rotates early, which under a flood larger than that per
/// ten minutes shortens the memory rather than growing without bound. The guard lives in the
/// process: with several server nodes, a request replayed to another node is not caught.
pub struct ReplayGuard {
    current: HashSet<[u8; 32]>,
    previous: HashSet<[u8; 32]>,
    rotated: Instant,
}

impl Default for ReplayGuard {
    fn default() -> Self {
        Self {
            current: HashSet::new(),
            previous: HashSet::new(),
            rotated: Instant::now(),
        }
    }
}

impl ReplayGuard {
    pub const CAPACITY: usize = 1 << 20;
    const GENERATION: Duration = Duration::from_secs(2 * MAX_SKEW_SECS as u64);

    /// Records a verified signature; false when it was seen before.
    pub fn first_use(&mut self, signature: &str) -> bool {
        let mut key = [0u8; 32];
        if hex::decode_to_slice(signature, &mut key).is_err() {
            return false;
        }
        if self.rotated.elapsed() >= Self::GENERATION || self.current.len() >= Self::CAPACITY {
            self.previous = std::mem::take(&mut self.current);
            self.rotated = Instant::now();
        }
        !self.previous.contains(&key) && self.current.insert(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_request_and_secret() {
        let c = canonical(
            "get",
            "/device/v1/config",
            "1700000000",
            "n0nce-01",
            "X4-1",
            b"",
        );
        assert_eq!(
            c,
            "MPC-HMAC-SHA256\nGET\n/device/v1/config\n1700000000\nn0nce-01\nX4-1\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let sig = sign(b"secret-0123456789", &c);
        assert!(verify(b"secret-0123456789", &c, &sig));
        assert!(!verify(b"secret-0123456780", &c, &sig));
        let other = canonical(
            "GET",
            "/device/v1/config",
            "1700000000",
            "n0nce-02",
            "X4-1",
            b"",
        );
        assert!(!verify(b"secret-0123456789", &other, &sig));
        assert!(!verify(b"secret-0123456789", &c, "zz"));
    }

    #[test]
    fn a_signature_is_accepted_once() {
        let mut guard = ReplayGuard::default();
        let sig = sign(b"k", "a");
        assert!(guard.first_use(&sig));
        assert!(!guard.first_use(&sig));
        assert!(guard.first_use(&sign(b"k", "b")));
    }
}
