//! Validated parameters in the one shape rendering reads, and the address types it holds.

use std::fmt;
use std::net::Ipv4Addr;

use super::*;

/// Validated parameters in the one shape rendering reads, whatever the preset.
pub(in crate::preset) struct Plan<'a> {
    pub wan: PlanWan<'a>,
    pub lan: Subnet,
    pub router: Ipv4Addr,
    pub dhcp_pool: Option<Span>,
    pub dns_forwarder: bool,
    pub ntp_server: Option<&'a str>,
    pub napt: bool,
    pub l2tp: Option<PlanL2tp<'a>>,
}

pub(in crate::preset) enum PlanWan<'a> {
    Pppoe {
        account: &'a PppoeAccount,
        /// Borrows the LAN address instead of asking the line for one (devices.md B.3).
        unnumbered: bool,
    },
    Dhcp,
}

pub(in crate::preset) struct PlanL2tp<'a> {
    pub pre_shared_key: &'a str,
    pub users: &'a [LocalUser],
    pub pool: Span,
    pub tunnel: Ipv4Addr,
    pub max_sessions: u16,
}

/// An IPv4 network of prefix length 8–30.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::preset) struct Subnet {
    network: u32,
    prefix: u8,
}

impl Subnet {
    pub(super) fn containing(addr: Ipv4Addr, prefix: u8) -> Self {
        let mask = u32::MAX << (32 - u32::from(prefix));
        Self {
            network: u32::from(addr) & mask,
            prefix,
        }
    }

    pub fn network(self) -> Ipv4Addr {
        self.network.into()
    }

    pub fn prefix(self) -> u8 {
        self.prefix
    }

    pub(super) fn is_host(self, addr: Ipv4Addr) -> bool {
        let broadcast = self.network | (u32::MAX >> u32::from(self.prefix));
        (self.network + 1..broadcast).contains(&u32::from(addr))
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network(), self.prefix)
    }
}

/// A validated [`AddressRange`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::preset) struct Span {
    pub start: Ipv4Addr,
    pub end: Ipv4Addr,
}

impl Span {
    pub fn count(self) -> u32 {
        u32::from(self.end) - u32::from(self.start) + 1
    }

    pub(super) fn contains(self, addr: Ipv4Addr) -> bool {
        (self.start..=self.end).contains(&addr)
    }

    pub(super) fn overlaps(self, other: Span) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}
