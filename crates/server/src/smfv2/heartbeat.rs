//! The SMFv2 UDP heartbeat (brief §3): one datagram of big-endian TLVs, the first an
//! HMAC-SHA1 over the whole packet with the MAC's own 20 bytes zeroed, the second the device's
//! Distribution ID, then the figures the device chose to send.
//!
//! A heartbeat carries no nonce and no time: a captured packet can be sent again. It is a
//! liveness hint (UP/DOWN and the latest figures), never proof of anything else, and never a
//! reason to change what a device may fetch.

use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;

use super::message::DistributionId;

/// The largest datagram the client sends (`libhb`): longer ones are not heartbeats.
pub const MAX_PACKET: usize = 1024;

/// Where the MAC sits: the value of the first TLV, bytes 4..24.
const MAC: std::ops::Range<usize> = 4..24;

const HMAC: u16 = 0x0001;
const DISTRIBUTION_ID: u16 = 0x0011;
const CPU: u16 = 0x0033;
const CPU_DETAIL: u16 = 0x0034;
const MEMORY: u16 = 0x0035;
const DISK: u16 = 0x0037;
const TRAFFIC: u16 = 0x0038;
const TRAFFIC_RATE: u16 = 0x0039;
const RADIO: u16 = 0x002c;

/// One CPU's utilisation, in percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Cpu {
    pub index: u16,
    pub utilisation: u8,
}

/// One CPU's time split, in percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CpuDetail {
    pub index: u16,
    pub idle: u8,
    pub interrupt: u8,
    pub user: u8,
    pub system: u8,
    pub other: u8,
}

/// Memory or a disk: bytes used and available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Usage {
    pub index: u16,
    pub used: u64,
    pub available: u64,
}

/// An interface's counters (or their per-second averages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Traffic {
    pub ifindex: u16,
    pub in_octets: u64,
    pub out_octets: u64,
    pub in_packets: u64,
    pub out_packets: u64,
    pub in_errors: u64,
    pub out_errors: u64,
}

/// A radio interface's signal figures, as the device reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Radio {
    pub ifindex: u16,
    pub misc: u8,
    pub max: u8,
    pub min: u8,
    pub avg: u8,
}

/// What a heartbeat says, MAC aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    pub distribution_id: DistributionId,
    pub figures: Figures,
}

/// The figures a device chose to send, each list by index; kept as JSON for the device.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Figures {
    pub cpus: Vec<Cpu>,
    pub cpu_details: Vec<CpuDetail>,
    pub memory: Vec<Usage>,
    pub disks: Vec<Usage>,
    pub traffic: Vec<Traffic>,
    pub traffic_rates: Vec<Traffic>,
    pub radios: Vec<Radio>,
}

/// Why a datagram is not a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeartbeatError {
    #[error("longer than {MAX_PACKET} bytes")]
    TooLong,
    #[error("a TLV runs past the end of the datagram")]
    Truncated,
    #[error("the first TLV is not a 20-byte HMAC")]
    NoMac,
    #[error("the second TLV is not a 16-byte Distribution ID")]
    NoDistributionId,
    #[error("TLV {kind:#06x} has length {length}, not {expected}")]
    BadLength {
        kind: u16,
        length: u16,
        expected: u16,
    },
    #[error("TLV {kind:#06x} repeats index {index}")]
    RepeatedIndex { kind: u16, index: u16 },
}

/// Reads a datagram's TLVs. The MAC is not checked here: see [`verify`]. TLV types this
/// version does not know are skipped, so a newer firmware's extra figures do not silence it.
///
/// # Errors
/// [`HeartbeatError`] for a datagram that is too long, truncated, out of order, of a known
/// type with the wrong length, or with an index repeated within a type.
pub fn parse(packet: &[u8]) -> Result<Heartbeat, HeartbeatError> {
    if packet.len() > MAX_PACKET {
        return Err(HeartbeatError::TooLong);
    }
    let mut tlvs = Tlvs { rest: packet };
    match tlvs.next().transpose()? {
        Some((HMAC, value)) if value.len() == MAC.len() => {}
        _ => return Err(HeartbeatError::NoMac),
    }
    let distribution_id = match tlvs.next().transpose()? {
        Some((DISTRIBUTION_ID, value)) => DistributionId::from_bytes(
            value
                .try_into()
                .map_err(|_| HeartbeatError::NoDistributionId)?,
        ),
        _ => return Err(HeartbeatError::NoDistributionId),
    };
    let mut beat = Figures::default();
    let mut seen = std::collections::HashSet::new();
    for tlv in tlvs {
        let (kind, value) = tlv?;
        let expected = match kind {
            CPU => 3,
            CPU_DETAIL => 7,
            MEMORY | DISK => 18,
            TRAFFIC | TRAFFIC_RATE => 50,
            RADIO => 6,
            _ => continue,
        };
        if value.len() != expected {
            return Err(HeartbeatError::BadLength {
                kind,
                length: u16::try_from(value.len()).unwrap_or(u16::MAX),
                expected: u16::try_from(expected).unwrap_or(u16::MAX),
            });
        }
        let mut r = Reader(value);
        let index = r.u16();
        if !seen.insert((kind, index)) {
            return Err(HeartbeatError::RepeatedIndex { kind, index });
        }
        match kind {
            CPU => beat.cpus.push(Cpu {
                index,
                utilisation: r.u8(),
            }),
            CPU_DETAIL => beat.cpu_details.push(CpuDetail {
                index,
                idle: r.u8(),
                interrupt: r.u8(),
                user: r.u8(),
                system: r.u8(),
                other: r.u8(),
            }),
            MEMORY | DISK => {
                let usage = Usage {
                    index,
                    used: r.u64(),
                    available: r.u64(),
                };
                if kind == MEMORY {
                    beat.memory.push(usage);
                } else {
                    beat.disks.push(usage);
                }
            }
            TRAFFIC | TRAFFIC_RATE => {
                let traffic = Traffic {
                    ifindex: index,
                    in_octets: r.u64(),
                    out_octets: r.u64(),
                    in_packets: r.u64(),
                    out_packets: r.u64(),
                    in_errors: r.u64(),
                    out_errors: r.u64(),
                };
                if kind == TRAFFIC {
                    beat.traffic.push(traffic);
                } else {
                    beat.traffic_rates.push(traffic);
                }
            }
            _ => beat.radios.push(Radio {
                ifindex: index,
                misc: r.u8(),
                max: r.u8(),
                min: r.u8(),
                avg: r.u8(),
            }),
        }
    }
    Ok(Heartbeat {
        distribution_id,
        figures: beat,
    })
}

/// Whether `packet`'s MAC is the HMAC-SHA1 of the packet, with the MAC's bytes zeroed, keyed
/// with `passphrase` (brief §3). Compared in constant time.
#[must_use]
pub fn verify(packet: &[u8], passphrase: &[u8]) -> bool {
    if packet.len() < MAC.end || packet.len() > MAX_PACKET {
        return false;
    }
    mac(packet, passphrase).is_some_and(|mac| openssl::memcmp::eq(&mac, &packet[MAC]))
}

/// The HMAC-SHA1 of `packet` with its MAC bytes zeroed.
fn mac(packet: &[u8], passphrase: &[u8]) -> Option<Vec<u8>> {
    let mut zeroed = packet.to_vec();
    zeroed[MAC].fill(0);
    let key = PKey::hmac(passphrase).ok()?;
    let mut signer = Signer::new(MessageDigest::sha1(), &key).ok()?;
    signer.update(&zeroed).ok()?;
    signer.sign_to_vec().ok()
}

/// The datagram a device would send for `beat`, signed with `passphrase`: for the simulator
/// and tests.
///
/// # Panics
/// Never for a heartbeat of the sizes a device sends; a packet over [`MAX_PACKET`] is a
/// caller's bug.
#[must_use]
pub fn encode(beat: &Heartbeat, passphrase: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let mut tlv = |kind: u16, value: &[u8]| {
        out.extend_from_slice(&kind.to_be_bytes());
        out.extend_from_slice(&u16::try_from(value.len()).unwrap_or(u16::MAX).to_be_bytes());
        out.extend_from_slice(value);
    };
    tlv(HMAC, &[0; 20]);
    tlv(DISTRIBUTION_ID, &beat.distribution_id.to_bytes());
    let beat = &beat.figures;
    for c in &beat.cpus {
        tlv(
            CPU,
            &[&c.index.to_be_bytes()[..], &[c.utilisation]].concat(),
        );
    }
    for c in &beat.cpu_details {
        let v = [c.idle, c.interrupt, c.user, c.system, c.other];
        tlv(CPU_DETAIL, &[&c.index.to_be_bytes()[..], &v].concat());
    }
    for (kind, list) in [(MEMORY, &beat.memory), (DISK, &beat.disks)] {
        for u in list {
            let v = [
                &u.index.to_be_bytes()[..],
                &u.used.to_be_bytes(),
                &u.available.to_be_bytes(),
            ];
            tlv(kind, &v.concat());
        }
    }
    for (kind, list) in [
        (TRAFFIC, &beat.traffic),
        (TRAFFIC_RATE, &beat.traffic_rates),
    ] {
        for t in list {
            let mut v = t.ifindex.to_be_bytes().to_vec();
            for n in [
                t.in_octets,
                t.out_octets,
                t.in_packets,
                t.out_packets,
                t.in_errors,
                t.out_errors,
            ] {
                v.extend_from_slice(&n.to_be_bytes());
            }
            tlv(kind, &v);
        }
    }
    for r in &beat.radios {
        tlv(
            RADIO,
            &[&r.ifindex.to_be_bytes()[..], &[r.misc, r.max, r.min, r.avg]].concat(),
        );
    }
    assert!(
        out.len() <= MAX_PACKET,
        "a heartbeat over {MAX_PACKET} bytes"
    );
    let mac = mac(&out, passphrase).unwrap_or_default();
    out[MAC].copy_from_slice(&mac);
    out
}

/// The TLVs of a datagram, in order.
struct Tlvs<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Tlvs<'a> {
    type Item = Result<(u16, &'a [u8]), HeartbeatError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let Some((head, rest)) = self.rest.split_first_chunk::<4>() else {
            self.rest = &[];
            return Some(Err(HeartbeatError::Truncated));
        };
        let kind = u16::from_be_bytes([head[0], head[1]]);
        let length = usize::from(u16::from_be_bytes([head[2], head[3]]));
        if rest.len() < length {
            self.rest = &[];
            return Some(Err(HeartbeatError::Truncated));
        }
        let (value, rest) = rest.split_at(length);
        self.rest = rest;
        Some(Ok((kind, value)))
    }
}

/// Reads big-endian numbers from a value whose length was checked.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .map_or(([0; N], &[][..]), |(h, r)| (*h, r));
        self.0 = rest;
        head
    }
    fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.take())
    }
    fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Heartbeat {
        Heartbeat {
            distribution_id: DistributionId::parse("0001-0000-0000-0001-0000-0000-0000-0001")
                .unwrap(),
            figures: Figures {
                cpus: vec![Cpu {
                    index: 0,
                    utilisation: 0x32,
                }],
                memory: vec![Usage {
                    index: 0,
                    used: 0x1_0000,
                    available: 0x8000,
                }],
                ..Figures::default()
            },
        }
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The brief's example (§3), TLV by TLV after the MAC: the Distribution ID, CPU 0 at 50 %,
    /// memory 0 with 65,536 bytes used and 32,768 available.
    #[test]
    fn encodes_the_briefs_example() {
        let packet = encode(&sample(), b"passphrase");
        assert_eq!(hex(&packet[..4]), "00010014");
        assert_eq!(
            hex(&packet[24..]),
            concat!(
                "0011",
                "0010",
                "0001",
                "00000000",
                "0001",
                "0000000000000001",
                "0033",
                "0003",
                "0000",
                "32",
                "0035",
                "0012",
                "0000",
                "0000000000010000",
                "0000000000008000",
            )
        );
        assert_eq!(parse(&packet).unwrap(), sample());
    }

    /// The MAC is HMAC-SHA1 keyed with the passphrase over the packet with the MAC zeroed:
    /// the expected value was computed apart, with Python's `hmac` module, over the packet of
    /// `encodes_the_briefs_example` with bytes 4..24 set to zero.
    #[test]
    fn the_mac_is_hmac_sha1_over_the_packet_with_the_mac_zeroed() {
        let packet = encode(&sample(), b"passphrase");
        assert_eq!(hex(&packet[MAC]), EXPECTED_MAC);
        assert!(verify(&packet, b"passphrase"));
        assert!(!verify(&packet, b"passphrasf"), "another key");
        for i in (0..packet.len()).filter(|i| !MAC.contains(i)) {
            let mut changed = packet.clone();
            changed[i] ^= 1;
            assert!(!verify(&changed, b"passphrase"), "byte {i} changed");
        }
        assert!(
            !verify(&packet[..20], b"passphrase"),
            "too short to hold a MAC"
        );
    }

    const EXPECTED_MAC: &str = "712db7e63a3665e821c54cd929e5dba713012f5d";

    #[test]
    fn malformed_datagrams_are_refused() {
        let packet = encode(&sample(), b"k");
        assert_eq!(
            parse(&packet[..packet.len() - 1]),
            Err(HeartbeatError::Truncated)
        );
        assert_eq!(parse(&packet[24..]), Err(HeartbeatError::NoMac));
        let mut no_id = packet[..24].to_vec();
        no_id.extend_from_slice(&packet[44..]);
        assert_eq!(parse(&no_id), Err(HeartbeatError::NoDistributionId));
        let mut twice = packet.clone();
        twice.extend_from_slice(&packet[44..51]);
        assert_eq!(
            parse(&twice),
            Err(HeartbeatError::RepeatedIndex {
                kind: CPU,
                index: 0
            })
        );
        let mut long = packet.clone();
        long.resize(MAX_PACKET + 1, 0);
        assert_eq!(parse(&long), Err(HeartbeatError::TooLong));
        let mut unknown = packet.clone();
        unknown.extend_from_slice(&[0x7f, 0x00, 0x00, 0x02, 0xab, 0xcd]);
        assert_eq!(
            parse(&unknown).unwrap(),
            sample(),
            "unknown types are skipped"
        );
    }

    proptest! {
        /// Any datagram: parse and verify answer without panicking.
        #[test]
        fn any_datagram_is_answered(bytes in proptest::collection::vec(any::<u8>(), 0..1100)) {
            let _ = parse(&bytes);
            let _ = verify(&bytes, b"k");
        }

        /// Every heartbeat a device can send reads back as sent and verifies.
        #[test]
        fn encoded_heartbeats_read_back(
            cpus in proptest::collection::btree_map(any::<u16>(), any::<u8>(), 0..4),
            disks in proptest::collection::btree_map(any::<u16>(), (any::<u64>(), any::<u64>()), 0..4),
            radios in proptest::collection::btree_map(any::<u16>(), any::<[u8; 4]>(), 0..4),
            traffic in proptest::collection::btree_map(any::<u16>(), any::<[u64; 6]>(), 0..4),
        ) {
            let mut beat = sample();
            let f = &mut beat.figures;
            f.cpus = cpus.into_iter().map(|(index, utilisation)| Cpu { index, utilisation }).collect();
            f.disks = disks.into_iter().map(|(index, (used, available))| Usage { index, used, available }).collect();
            f.radios = radios.into_iter().map(|(ifindex, [misc, max, min, avg])| Radio { ifindex, misc, max, min, avg }).collect();
            f.traffic = traffic.into_iter().map(|(ifindex, n)| Traffic {
                ifindex, in_octets: n[0], out_octets: n[1], in_packets: n[2], out_packets: n[3], in_errors: n[4], out_errors: n[5],
            }).collect();
            let packet = encode(&beat, b"secret");
            prop_assert_eq!(parse(&packet), Ok(beat));
            prop_assert!(verify(&packet, b"secret"));
        }
    }
}
