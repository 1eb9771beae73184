//! Records, options and groups the mobile tests share.

pub(super) use jiff::Timestamp;
pub(super) use jiff::civil::Date;

pub(super) use crate::book::{ContractOption, Membership, PacketShareGroup, Timeline};
pub(super) use crate::calendar::Month;
pub(super) use crate::catalog::{MobileUsageType, OptionKind};

pub(super) use super::*;
pub(super) use crate::catalog::NetworkType;
pub(super) use jiff::civil::date;

pub(super) fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub(super) fn option(id: &str, usage_type: MobileUsageType) -> ContractOption {
    ContractOption {
        id: id.into(),
        contract_id: "c".into(),
        kind: OptionKind::MobileAccess,
        applied_on: date(2026, 1, 1),
        accepted_on: date(2026, 1, 1),
        install_address: None,
        usage_types: Timeline::starting(date(2026, 1, 1), usage_type),
        network_types: Timeline::starting(date(2026, 1, 1), NetworkType::DynamicIp),
        ending: None,
    }
}

/// A record of `bytes` over the 15 minutes starting at `start` (an RFC 3339 instant).
pub(super) fn rec(option_id: &str, start: &str, bytes: u64) -> Usage {
    let start = ts(start);
    Usage {
        option_id: option_id.into(),
        start,
        end: start + jiff::SignedDuration::from_mins(15),
        bytes,
    }
}

pub(super) fn april() -> Month {
    "2026-04".parse().unwrap()
}

pub(super) fn group(packs: &[(Date, u32)], members: Vec<Membership>) -> PacketShareGroup {
    PacketShareGroup {
        id: "g".into(),
        contractor_id: "k".into(),
        applied_on: date(2026, 1, 1),
        accepted_on: date(2026, 1, 1),
        packs: Timeline::from_entries(packs.to_vec()),
        members,
        ending: None,
    }
}

pub(super) fn member(option_id: &str, from: Date, until: Option<Date>) -> Membership {
    Membership {
        option_id: option_id.into(),
        from,
        until,
    }
}

/// April's records of `s` in order: each 1 GB, ending 04-01 00:15, 01:15, … JST.
pub(super) fn hourly(option_id: &str, hours: usize) -> Vec<Usage> {
    (0..hours)
        .map(|h| {
            let start = ts("2026-03-31T15:00:00Z") + jiff::SignedDuration::from_hours(h as i64);
            Usage {
                end: start + jiff::SignedDuration::from_mins(15),
                ..rec(option_id, &start.to_string(), GB)
            }
        })
        .collect()
}

/// The use of `records` ending before `until`.
pub(super) fn counted(records: &[Usage], until: Timestamp) -> Counted {
    Counted {
        bytes: records
            .iter()
            .filter(|r| r.end < until)
            .map(|r| r.bytes)
            .sum(),
        until,
    }
}
