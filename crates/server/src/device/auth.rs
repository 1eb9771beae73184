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
//! signature in any other form than 64 lowercase hex digits. A request is known by its serial,
//! timestamp and nonce ([`request_id`]): once one is accepted within the window, any other
//! with the same three is refused as a replay, whatever its signature ([`ReplayGuard`] in the
//! process; with several nodes also [`super::seen`]).

use std::collections::HashSet;

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

/// Whether a signature has the one form the protocol allows: 64 lowercase hex digits.
pub fn valid_signature(signature: &str) -> bool {
    signature.len() == 64
        && signature
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// What identifies a signed request for replay protection: SHA-256 of its serial, timestamp
/// and nonce. A nonce is fresh per request, so a second request with the same three is a
/// replay even when it signs another path or body.
pub fn request_id(serial: &str, timestamp: &str, nonce: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    for (i, part) in [serial, timestamp, nonce].into_iter().enumerate() {
        if i > 0 {
            h.update(b"\n");
        }
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

/// The parts of a request a device signs.
pub struct Request<'a> {
    pub method: &'a str,
    /// Without the query.
    pub path: &'a str,
    pub timestamp: &'a str,
    pub nonce: &'a str,
    pub serial: &'a str,
    pub body: &'a [u8],
}

/// Hex SHA-256 of the empty body, which every GET signs.
const EMPTY_DIGEST: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

impl Request<'_> {
    /// Passes the canonical string to `out` piece by piece, so the server can MAC it without
    /// building it.
    fn pieces(&self, mut out: impl FnMut(&[u8])) {
        let method = if self.method.bytes().any(|b| b.is_ascii_lowercase()) {
            std::borrow::Cow::Owned(self.method.to_ascii_uppercase())
        } else {
            std::borrow::Cow::Borrowed(self.method)
        };
        let mut hex_digest = [0u8; 64];
        let digest = if self.body.is_empty() {
            EMPTY_DIGEST.as_bytes()
        } else {
            hex::encode_to_slice(Sha256::digest(self.body), &mut hex_digest)
                .expect("64 hex digits fit");
            &hex_digest
        };
        let lines: [&[u8]; 7] = [
            b"MPC-HMAC-SHA256",
            method.as_bytes(),
            self.path.as_bytes(),
            self.timestamp.as_bytes(),
            self.nonce.as_bytes(),
            self.serial.as_bytes(),
            digest,
        ];
        for (i, line) in lines.into_iter().enumerate() {
            if i > 0 {
                out(b"\n");
            }
            out(line);
        }
    }

    /// The string a device signs.
    pub fn canonical(&self) -> String {
        let mut bytes = Vec::with_capacity(256);
        self.pieces(|p| bytes.extend_from_slice(p));
        String::from_utf8(bytes).expect("the pieces are text")
    }

    fn mac(&self, secret: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
        self.pieces(|p| mac.update(p));
        mac
    }

    /// Whether `signature` (lowercase hex) signs this request under `secret`, compared in
    /// constant time.
    pub fn verify(&self, secret: &[u8], signature: &str) -> bool {
        let mut tag = [0u8; 32];
        valid_signature(signature)
            && hex::decode_to_slice(signature, &mut tag).is_ok()
            && self.mac(secret).verify_slice(&tag).is_ok()
    }
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
    Request {
        method,
        path,
        timestamp,
        nonce,
        serial,
        body,
    }
    .canonical()
}

/// The signature of a request, as `X-MPC-Signature` carries it.
pub fn sign(secret: &[u8], canonical: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(canonical.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature` (lowercase hex) is the signature of `canonical` under `secret`,
/// compared in constant time.
pub fn verify(secret: &[u8], canonical: &str, signature: &str) -> bool {
    let mut tag = [0u8; 32];
    if !valid_signature(signature) || hex::decode_to_slice(signature, &mut tag).is_err() {
        return false;
    }
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(canonical.as_bytes());
    mac.verify_slice(&tag).is_ok()
}

/// What [`ReplayGuard::first_use`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Not seen within the window: recorded now.
    First,
    /// Accepted before: a replay.
    Replayed,
    /// The guard holds [`ReplayGuard::CAPACITY`] signatures: the request is refused rather than
    /// anything forgotten early.
    Full,
}

/// Requests accepted recently, to refuse a request sent again.
///
/// Requests are known by their [`request_id`]. A signature verifies only while its signed
/// timestamp is within ±[`MAX_SKEW_SECS`] of the server's clock, and a replay repeats that
/// timestamp. So ids are filed by their
/// timestamp, one bucket per second of the window, each kept exactly until its second is more
/// than [`MAX_SKEW_SECS`] in the past — then the timestamp check refuses the replay anyway —
/// and dropped whole: nothing is forgotten early and nothing is scanned.
///
/// A bucket keeps 48 bits of each id (another 4 pick its shard). A replay has the same
/// id, so it is always caught; a fresh request is refused only if its id matches one of the
/// same second and shard, fewer than once in 10^10 requests even at 100,000 a second. Ids arrive in
/// a small hash set and are settled, once a second, into a sorted array: 6 bytes each, so
/// the five minutes of signatures of a busy server fit in tens of megabytes.
///
/// Memory is bounded: when [`ReplayGuard::CAPACITY`] signatures are within the window, new
/// ones are refused ([`Use::Full`]) until older seconds expire; the guard never lets a replay
/// through to make room. The buckets are spread over shards by tag, so concurrent requests
/// rarely wait on one lock. The guard lives in the process: with several server nodes, what
/// one node accepted reaches the others through [`super::seen`].
pub struct ReplayGuard {
    shards: Vec<std::sync::Mutex<Shard>>,
}

/// Buckets for every second a request's timestamp may carry: `now ± MAX_SKEW_SECS`.
const SECONDS: usize = 2 * MAX_SKEW_SECS as usize + 1;
const SHARDS: usize = 16;

/// The part of a tag a bucket keeps.
type Fingerprint = [u8; 6];

/// Hashes a fingerprint by taking its bytes as they are: they are SHA-256 output, already
/// uniform, and only requests with verified signatures are filed, so no one without a
/// device's secret can choose them to collide.
#[derive(Default)]
struct FingerprintHasher(u64);

impl std::hash::Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        // Spread the bytes into the high bits too, which the table reads first.
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
}

type Fingerprints = HashSet<Fingerprint, std::hash::BuildHasherDefault<FingerprintHasher>>;

/// The tags signed in one second.
struct Bucket {
    second: i64,
    /// Tags not yet settled.
    recent: Fingerprints,
    /// Settled tags, sorted.
    settled: Box<[Fingerprint]>,
}

impl Bucket {
    fn new(second: i64) -> Self {
        Self {
            second,
            recent: Fingerprints::default(),
            settled: Box::new([]),
        }
    }

    fn len(&self) -> usize {
        self.recent.len() + self.settled.len()
    }

    fn contains(&self, tag: &Fingerprint) -> bool {
        self.recent.contains(tag) || self.settled.binary_search(tag).is_ok()
    }

    /// Merges the recent tags into the sorted ones once they are a quarter as many, so each
    /// tag is copied a few times over its life, not once a second.
    fn settle(&mut self) {
        if self.recent.len() < 64.max(self.settled.len() / 4) {
            return;
        }
        let mut recent: Vec<Fingerprint> = std::mem::take(&mut self.recent).into_iter().collect();
        recent.sort_unstable();
        let mut merged = Vec::with_capacity(self.settled.len() + recent.len());
        let (mut a, mut b) = (self.settled.iter().peekable(), recent.iter().peekable());
        while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
            if x <= y {
                merged.push(**x);
                a.next();
            } else {
                merged.push(**y);
                b.next();
            }
        }
        merged.extend(a);
        merged.extend(b);
        self.settled = merged.into_boxed_slice();
    }
}

struct Shard {
    /// Bucket `s mod SECONDS` holds the tags signed at second `s`, which it names.
    buckets: Vec<Bucket>,
    /// How many more signatures the shard may hold.
    room: usize,
    /// The `now` expired buckets were last dropped at.
    swept: i64,
}

impl Default for ReplayGuard {
    fn default() -> Self {
        Self::with_capacity(Self::CAPACITY)
    }
}

impl ReplayGuard {
    /// 2^23 signatures: 25,000 requests a second for the whole window fit, in about 70 MB.
    pub const CAPACITY: usize = 1 << 23;

    /// A guard holding at most `capacity` signatures (rounded up to a multiple of 16).
    pub fn with_capacity(capacity: usize) -> Self {
        let per_shard = capacity.div_ceil(SHARDS);
        Self {
            shards: (0..SHARDS)
                .map(|_| {
                    std::sync::Mutex::new(Shard {
                        buckets: (0..SECONDS).map(|_| Bucket::new(i64::MIN)).collect(),
                        room: per_shard,
                        swept: i64::MIN,
                    })
                })
                .collect(),
        }
    }

    /// Records the [`request_id`] of a verified request signed at `signed_at`, at `now` (both
    /// in Unix seconds). A timestamp outside the window counts as replayed: the caller refuses
    /// those before.
    pub fn first_use(&self, now: i64, signed_at: i64, tag: &[u8; 32]) -> Use {
        let mut key = Fingerprint::default();
        key.copy_from_slice(&tag[..6]);
        let shard = &self.shards[usize::from(tag[6]) % SHARDS];
        shard
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .first_use(now, signed_at, key)
    }
}

impl Shard {
    fn first_use(&mut self, now: i64, signed_at: i64, key: Fingerprint) -> Use {
        if (now - signed_at).abs() > MAX_SKEW_SECS {
            // Outside the window its bucket could be a live second's: never file it.
            return Use::Replayed;
        }
        if now != self.swept {
            self.sweep(now - MAX_SKEW_SECS);
            self.swept = now;
        }
        let slot = usize::try_from(signed_at.rem_euclid(SECONDS as i64)).expect("in range");
        let bucket = &mut self.buckets[slot];
        if bucket.second != signed_at {
            // An older second that shares the slot: expired, since both lie in the window.
            self.room += bucket.len();
            *bucket = Bucket::new(signed_at);
        }
        if bucket.contains(&key) {
            return Use::Replayed;
        }
        if self.room == 0 {
            return Use::Full;
        }
        bucket.recent.insert(key);
        self.room -= 1;
        Use::First
    }

    /// Drops the buckets of seconds before `oldest` and settles the others.
    fn sweep(&mut self, oldest: i64) {
        for bucket in &mut self.buckets {
            if bucket.second < oldest {
                if bucket.len() > 0 {
                    self.room += bucket.len();
                    *bucket = Bucket::new(i64::MIN);
                }
            } else {
                bucket.settle();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request id for tests: the SHA-256 of `s`.
    fn id_of(_key: &[u8], s: &str) -> [u8; 32] {
        Sha256::digest(s.as_bytes()).into()
    }

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
        // Only lowercase hex is the protocol's form (README: "the lowercase hex HMAC").
        assert!(!verify(b"secret-0123456789", &c, &sig.to_ascii_uppercase()));
        // The server MACs the pieces without building the string: same signature.
        let request = Request {
            method: "GET",
            path: "/device/v1/config",
            timestamp: "1700000000",
            nonce: "n0nce-01",
            serial: "X4-1",
            body: b"",
        };
        assert!(request.verify(b"secret-0123456789", &sig));
        assert!(!request.verify(b"secret-0123456780", &sig));
        assert!(!request.verify(b"secret-0123456789", &sig[..62]));
        assert!(!request.verify(b"secret-0123456789", &sig.to_ascii_uppercase()));
        let posted = Request {
            method: "post",
            path: "/device/v1/status",
            body: b"{}",
            ..request
        };
        let posted_sig = sign(b"k-0123456789abcdef", &posted.canonical());
        assert!(posted.canonical().starts_with("MPC-HMAC-SHA256\nPOST\n"));
        assert!(posted.verify(b"k-0123456789abcdef", &posted_sig));
    }

    #[test]
    fn a_signature_is_accepted_once() {
        let guard = ReplayGuard::default();
        let now = 1_700_000_000;
        let sig = id_of(b"k", "a");
        assert_eq!(guard.first_use(now, now, &sig), Use::First);
        assert_eq!(guard.first_use(now, now, &sig), Use::Replayed);
        assert_eq!(guard.first_use(now, now, &id_of(b"k", "b")), Use::First);
    }

    #[test]
    fn a_replay_is_caught_until_its_timestamp_leaves_the_window() {
        let guard = ReplayGuard::default();
        let signed = 1_700_000_000;
        // Signed at the window's far edge: it verifies until `signed + MAX_SKEW_SECS`.
        let first_seen = signed - MAX_SKEW_SECS;
        let sig = id_of(b"k", "edge");
        assert_eq!(guard.first_use(first_seen, signed, &sig), Use::First);
        // Other seconds come and go, reusing every bucket but this one's.
        for (i, now) in (first_seen..=signed + MAX_SKEW_SECS).enumerate() {
            let other = now - MAX_SKEW_SECS + (i as i64 % (2 * MAX_SKEW_SECS));
            let other_sig = id_of(b"k", &format!("other {i}"));
            if other != signed {
                assert_eq!(guard.first_use(now, other, &other_sig), Use::First);
            }
            assert_eq!(
                guard.first_use(now, signed, &sig),
                Use::Replayed,
                "at {now}"
            );
        }
        // Once the timestamp check refuses it, its bucket is free for the second that maps
        // there.
        let later = signed + SECONDS as i64;
        let now = later;
        assert_eq!(guard.first_use(now, later, &sig), Use::First);
    }

    #[test]
    fn settled_signatures_are_still_caught() {
        let guard = ReplayGuard::default();
        let signed = 1_700_000_000;
        let sigs: Vec<[u8; 32]> = (0..5000).map(|i| id_of(b"k", &i.to_string())).collect();
        for (i, sig) in sigs.iter().enumerate() {
            // A new second every 1000 requests sweeps, and settles what came before.
            let now = signed + i as i64 / 1000;
            assert_eq!(guard.first_use(now, signed, sig), Use::First);
        }
        let now = signed + 10;
        for sig in &sigs {
            assert_eq!(guard.first_use(now, signed, sig), Use::Replayed);
        }
        let shard = guard.shards[0].lock().unwrap();
        let bucket = &shard.buckets[usize::try_from(signed.rem_euclid(SECONDS as i64)).unwrap()];
        assert!(
            bucket.settled.len() > bucket.recent.len(),
            "most are settled"
        );
        assert!(bucket.settled.is_sorted());
    }

    #[test]
    fn a_full_guard_refuses_rather_than_forgets_and_frees_expired_seconds() {
        let guard = ReplayGuard::with_capacity(16 * 4);
        let now = 1_700_000_000;
        let sigs: Vec<[u8; 32]> = (0..1000).map(|i| id_of(b"k", &i.to_string())).collect();
        let mut accepted: Vec<&[u8; 32]> = Vec::new();
        for sig in &sigs {
            match guard.first_use(now, now, sig) {
                Use::First => accepted.push(sig),
                Use::Full => {}
                Use::Replayed => panic!("no signature repeats"),
            }
        }
        assert_eq!(accepted.len(), 64, "every shard filled to its share");
        for sig in &accepted {
            assert_eq!(guard.first_use(now, now, sig), Use::Replayed);
        }
        // When the second has left the window, its signatures no longer count.
        let later = now + MAX_SKEW_SECS + 1;
        assert_eq!(guard.first_use(later, later, &sigs[999]), Use::First);
        let fresh = id_of(b"k", "fresh");
        assert_eq!(guard.first_use(later, later, &fresh), Use::First);
    }
}
