//! The parameters a contractor edits for each preset, and their validation (R17.1).
//!
//! Addresses are kept as the strings the contractor typed, so that a bad one can be named and
//! shown back; validation parses them into the [`Plan`] that rendering reads.

use std::collections::HashSet;
use std::fmt;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::model::max_sessions_limit;
use crate::account::FieldError;
use crate::catalog::DeviceType;

/// What replaces a secret in [`super::PresetParams::masked`].
pub const MASK: &str = "********";

/// `internet_gateway`: a private LAN reaching the Internet through one line (R2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InternetGateway {
    pub wan: Wan,
    pub lan: Lan,
    /// Whether the router answers the LAN's DNS queries, forwarding them to the line's servers.
    pub dns_forwarder: bool,
    /// The NTP server the router sets its clock from: an IPv4 address or a host name.
    pub ntp_server: Option<String>,
    /// Whether the LAN goes out under the line's address (NAPT).
    pub napt: bool,
}

/// `remote_access`: an Internet gateway that is also an L2TP/IPsec server (R2.1).
///
/// The gateway's fields are repeated rather than nested so that a field keeps its path, such as
/// `lan.dhcp_pool`, in both presets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RemoteAccess {
    pub wan: Wan,
    pub lan: Lan,
    pub dns_forwarder: bool,
    pub ntp_server: Option<String>,
    pub napt: bool,
    pub l2tp: L2tpServer,
}

/// `pppoe_termination`: a PPPoE line whose global address block is routed to the LAN (R2.1).
///
/// The router takes the block's first host address on the LAN and borrows it for the line
/// (unnumbered); nothing is translated (devices.md B.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PppoeTermination {
    pub wan: PppoeAccount,
    pub lan: GlobalLan,
    pub dns_forwarder: bool,
    pub ntp_server: Option<String>,
}

/// How the router reaches the Internet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Wan {
    Pppoe(PppoeAccount),
    /// An address, route and DNS servers from the line's DHCP server (IPoE).
    Dhcp,
}

/// The login of a PPPoE line.
///
/// Its limits are those devices.md A.2 gives for the mobile PPP interface; none were found for
/// PPPoE itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PppoeAccount {
    /// 1–150 characters.
    pub id: String,
    /// A secret of 1–64 characters.
    pub password: String,
}

/// A private LAN: the router's address on it and the DHCP server's pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Lan {
    /// The router's own address, e.g. `192.168.0.1`.
    pub address: String,
    /// 8–30.
    pub prefix_len: u8,
    /// Addresses handed out by DHCP; none turns the DHCP server off.
    pub dhcp_pool: Option<AddressRange>,
}

/// A global address block routed to the LAN, e.g. `203.0.113.8/29`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GlobalLan {
    /// The block's first address.
    pub network: String,
    /// 8–30.
    pub prefix_len: u8,
    pub dhcp_pool: Option<AddressRange>,
}

/// The addresses from `start` to `end`, both included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddressRange {
    pub start: String,
    pub end: String,
}

/// An L2TP/IPsec remote-access server (the recipe's `interface.pppac0`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct L2tpServer {
    /// The IPsec pre-shared key, a secret of 1–128 characters (no documented limit was found;
    /// 128 is this system's).
    pub pre_shared_key: String,
    /// Who may connect; names are unique.
    pub users: Vec<LocalUser>,
    /// The addresses given to connected clients.
    pub pool: AddressRange,
    /// The router's end of every tunnel (`interface.pppac0.ipv4.address`, mandatory).
    pub tunnel_address: String,
    /// At most this many clients at once; none means the model's limit
    /// ([`super::max_sessions_limit`]).
    pub max_sessions: Option<u16>,
}

/// A remote-access user of the server's local realm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LocalUser {
    /// 1–32 characters (devices.md A.1).
    pub name: String,
    /// A secret of 1–64 characters (devices.md A.1).
    pub password: String,
}

impl Default for InternetGateway {
    /// A DHCP line, the LAN `192.168.0.1/24` with a pool `.100`–`.199`, DNS forwarder and NAPT
    /// on: a working configuration for a line that needs no login.
    fn default() -> Self {
        Self {
            wan: Wan::Dhcp,
            lan: Lan {
                address: "192.168.0.1".into(),
                prefix_len: 24,
                dhcp_pool: Some(AddressRange {
                    start: "192.168.0.100".into(),
                    end: "192.168.0.199".into(),
                }),
            },
            dns_forwarder: true,
            ntp_server: None,
            napt: true,
        }
    }
}

impl Default for L2tpServer {
    /// The tunnel end `192.168.127.1` and a client pool in `192.168.128.0/24`, the values of
    /// devices.md B.2's example; no key, no users.
    fn default() -> Self {
        Self {
            pre_shared_key: String::new(),
            users: Vec::new(),
            pool: AddressRange {
                start: "192.168.128.1".into(),
                end: "192.168.128.254".into(),
            },
            tunnel_address: "192.168.127.1".into(),
            max_sessions: None,
        }
    }
}

impl Default for PppoeTermination {
    /// A `/29` block with the network still to be filled in, DNS forwarder on, no DHCP server:
    /// the hosts of a global block are usually numbered by hand.
    fn default() -> Self {
        Self {
            wan: PppoeAccount::default(),
            lan: GlobalLan {
                network: String::new(),
                prefix_len: 29,
                dhcp_pool: None,
            },
            dns_forwarder: true,
            ntp_server: None,
        }
    }
}

/// Validated parameters in the one shape rendering reads, whatever the preset.
pub(super) struct Plan<'a> {
    pub wan: PlanWan<'a>,
    pub lan: Subnet,
    pub router: Ipv4Addr,
    pub dhcp_pool: Option<Span>,
    pub dns_forwarder: bool,
    pub ntp_server: Option<&'a str>,
    pub napt: bool,
    pub l2tp: Option<PlanL2tp<'a>>,
}

pub(super) enum PlanWan<'a> {
    Pppoe {
        account: &'a PppoeAccount,
        /// Borrows the LAN address instead of asking the line for one (devices.md B.3).
        unnumbered: bool,
    },
    Dhcp,
}

pub(super) struct PlanL2tp<'a> {
    pub pre_shared_key: &'a str,
    pub users: &'a [LocalUser],
    pub pool: Span,
    pub tunnel: Ipv4Addr,
    pub max_sessions: u16,
}

/// An IPv4 network of prefix length 8–30.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Subnet {
    network: u32,
    prefix: u8,
}

impl Subnet {
    fn containing(addr: Ipv4Addr, prefix: u8) -> Self {
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

    fn is_host(self, addr: Ipv4Addr) -> bool {
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
pub(super) struct Span {
    pub start: Ipv4Addr,
    pub end: Ipv4Addr,
}

impl Span {
    pub fn count(self) -> u32 {
        u32::from(self.end) - u32::from(self.start) + 1
    }

    fn contains(self, addr: Ipv4Addr) -> bool {
        (self.start..=self.end).contains(&addr)
    }

    fn overlaps(self, other: Span) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// The paths naming an address range and its two ends.
struct RangeFields {
    whole: &'static str,
    start: &'static str,
    end: &'static str,
}

const DHCP_POOL: RangeFields = RangeFields {
    whole: "lan.dhcp_pool",
    start: "lan.dhcp_pool.start",
    end: "lan.dhcp_pool.end",
};

const L2TP_POOL: RangeFields = RangeFields {
    whole: "l2tp.pool",
    start: "l2tp.pool.start",
    end: "l2tp.pool.end",
};

/// Collects every bad field rather than stopping at the first, so that the contractor sees
/// them all at once (R17.1).
#[derive(Default)]
pub(super) struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    pub fn error(&mut self, field: &'static str, en: String, ja: String) {
        self.errors.push(FieldError {
            field,
            message_en: en,
            message_ja: ja,
        });
    }

    /// Text of 1 to `max` characters without control characters, which a recipe line cannot
    /// carry. Spaces are kept: in a secret they count.
    pub fn text(&mut self, field: &'static str, value: &str, max: usize) {
        self.text_at(field, field, value, max);
    }

    /// As [`Checker::text`], for an element of a list: `shown` names the element, such as
    /// `l2tp.users[2].name`, while `field` stays the path of every element.
    fn text_at(&mut self, field: &'static str, shown: &str, value: &str, max: usize) {
        let len = value.chars().count();
        if len == 0 || len > max {
            self.error(
                field,
                format!("{shown} must be 1 to {max} characters"),
                format!("{shown} は1〜{max}文字で入力してください"),
            );
        } else if value.chars().any(char::is_control) {
            self.error(
                field,
                format!("{shown} must not contain control characters"),
                format!("{shown} に制御文字は使えません"),
            );
        }
    }

    fn address(&mut self, field: &'static str, value: &str) -> Option<Ipv4Addr> {
        let Ok(addr) = value.parse::<Ipv4Addr>() else {
            self.error(
                field,
                format!("{field} must be an IPv4 address such as 192.168.0.1, not {value:?}"),
                format!("{field} はIPv4アドレス(例: 192.168.0.1)で入力してください: {value:?}"),
            );
            return None;
        };
        if matches!(addr.octets()[0], 0 | 127 | 224..) {
            self.error(
                field,
                format!("{field} must be a unicast address, not {addr}"),
                format!("{field} にはユニキャストアドレスを指定してください: {addr}"),
            );
            return None;
        }
        Some(addr)
    }

    fn prefix_len(&mut self, field: &'static str, prefix: u8) -> Option<u8> {
        if (8..=30).contains(&prefix) {
            return Some(prefix);
        }
        self.error(
            field,
            format!("{field} must be 8 to 30, not {prefix}"),
            format!("{field} は8〜30で指定してください: {prefix}"),
        );
        None
    }

    fn range(&mut self, fields: &RangeFields, range: &AddressRange) -> Option<Span> {
        let start = self.address(fields.start, &range.start);
        let end = self.address(fields.end, &range.end);
        let (start, end) = (start?, end?);
        if start > end {
            self.error(
                fields.end,
                format!("{} must not come before {}", fields.end, fields.start),
                format!(
                    "{} は {} 以降のアドレスにしてください",
                    fields.end, fields.start
                ),
            );
            return None;
        }
        Some(Span { start, end })
    }

    /// A DHCP pool: inside the LAN's host addresses, and not holding the router's address.
    fn dhcp_pool(
        &mut self,
        pool: Option<&AddressRange>,
        lan: Option<(Subnet, Ipv4Addr)>,
    ) -> Option<Option<Span>> {
        let Some(pool) = pool else {
            return Some(None);
        };
        let span = self.range(&DHCP_POOL, pool)?;
        let (subnet, router) = lan?;
        let mut ok = true;
        for (field, addr) in [(DHCP_POOL.start, span.start), (DHCP_POOL.end, span.end)] {
            if !subnet.is_host(addr) {
                ok = false;
                self.error(
                    field,
                    format!("{field} must be a host address of the LAN {subnet}"),
                    format!("{field} はLAN {subnet} のホストアドレスにしてください"),
                );
            }
        }
        if span.contains(router) {
            ok = false;
            self.router_in(DHCP_POOL.whole, router);
        }
        ok.then_some(Some(span))
    }

    fn router_in(&mut self, field: &'static str, router: Ipv4Addr) {
        self.error(
            field,
            format!("{field} must not contain the router's LAN address {router}"),
            format!("{field} にルータのLANアドレス {router} を含めないでください"),
        );
    }

    /// An IPv4 address or a host name of letters, digits and hyphens.
    fn ntp_server(&mut self, value: Option<&str>) {
        let Some(value) = value else { return };
        if value.parse::<Ipv4Addr>().is_ok() {
            self.address("ntp_server", value);
            return;
        }
        let label = |l: &str| {
            (1..=63).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        let host = value.len() <= 253
            && value.split('.').all(label)
            && value
                .rsplit('.')
                .next()
                .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()));
        if !host {
            self.error(
                "ntp_server",
                format!("ntp_server must be an IPv4 address or a host name, not {value:?}"),
                format!("ntp_server にはIPv4アドレスかホスト名を指定してください: {value:?}"),
            );
        }
    }

    fn pppoe(&mut self, account: &PppoeAccount) {
        self.text("wan.id", &account.id, 150);
        self.text("wan.password", &account.password, 64);
    }

    pub fn finish<T>(self, value: Option<T>) -> Result<T, Vec<FieldError>> {
        match value {
            Some(value) if self.errors.is_empty() => Ok(value),
            _ => Err(self.errors),
        }
    }
}

/// Checks a WAN and private LAN, as internet_gateway and remote_access share them.
fn check_gateway<'a>(
    c: &mut Checker,
    wan: &'a Wan,
    lan: &Lan,
    ntp_server: Option<&'a str>,
) -> (PlanWan<'a>, Option<(Subnet, Ipv4Addr, Option<Span>)>) {
    let wan = match wan {
        Wan::Pppoe(account) => {
            c.pppoe(account);
            PlanWan::Pppoe {
                account,
                unnumbered: false,
            }
        }
        Wan::Dhcp => PlanWan::Dhcp,
    };
    let router = c.address("lan.address", &lan.address);
    let prefix = c.prefix_len("lan.prefix_len", lan.prefix_len);
    let subnet = router.zip(prefix).and_then(|(router, prefix)| {
        let subnet = Subnet::containing(router, prefix);
        if subnet.is_host(router) {
            return Some((subnet, router));
        }
        c.error(
            "lan.address",
            format!("lan.address must not be the network or broadcast address of {subnet}"),
            format!("lan.address に {subnet} のネットワーク/ブロードキャストアドレスは使えません"),
        );
        None
    });
    let pool = c.dhcp_pool(lan.dhcp_pool.as_ref(), subnet);
    c.ntp_server(ntp_server);
    let lan = subnet
        .zip(pool)
        .map(|((subnet, router), pool)| (subnet, router, pool));
    (wan, lan)
}

impl InternetGateway {
    pub(super) fn plan(&self) -> Result<Plan<'_>, Vec<FieldError>> {
        let mut c = Checker::default();
        let (wan, lan) = check_gateway(&mut c, &self.wan, &self.lan, self.ntp_server.as_deref());
        c.finish(lan.map(|(lan, router, dhcp_pool)| Plan {
            wan,
            lan,
            router,
            dhcp_pool,
            dns_forwarder: self.dns_forwarder,
            ntp_server: self.ntp_server.as_deref(),
            napt: self.napt,
            l2tp: None,
        }))
    }
}

impl RemoteAccess {
    /// Besides the gateway's checks: the client pool must not overlap the DHCP pool nor hold
    /// the router's LAN address; the tunnel end lies outside both pools and differs from the
    /// router's LAN address; at most the model's sessions.
    pub(super) fn plan(&self, device: DeviceType) -> Result<Plan<'_>, Vec<FieldError>> {
        let mut c = Checker::default();
        let (wan, lan) = check_gateway(&mut c, &self.wan, &self.lan, self.ntp_server.as_deref());
        let l2tp = &self.l2tp;
        c.text("l2tp.pre_shared_key", &l2tp.pre_shared_key, 128);
        let mut names = HashSet::new();
        for (i, user) in l2tp.users.iter().enumerate() {
            let shown = format!("l2tp.users[{i}].name");
            c.text_at("l2tp.users[].name", &shown, &user.name, 32);
            let shown_password = format!("l2tp.users[{i}].password");
            c.text_at("l2tp.users[].password", &shown_password, &user.password, 64);
            if !names.insert(user.name.as_str()) {
                c.error(
                    "l2tp.users[].name",
                    format!("{shown}: the user name {:?} is already taken", user.name),
                    format!("{shown}: ユーザー名 {:?} が重複しています", user.name),
                );
            }
        }
        let pool = c.range(&L2TP_POOL, &l2tp.pool);
        let tunnel = c.address("l2tp.tunnel_address", &l2tp.tunnel_address);
        if let (Some(pool), Some((_, router, dhcp))) = (pool, lan) {
            if dhcp.is_some_and(|dhcp| dhcp.overlaps(pool)) {
                c.error(
                    L2TP_POOL.whole,
                    "l2tp.pool must not overlap lan.dhcp_pool".into(),
                    "l2tp.pool と lan.dhcp_pool が重ならないようにしてください".into(),
                );
            }
            if pool.contains(router) {
                c.router_in(L2TP_POOL.whole, router);
            }
        }
        if let Some(tunnel) = tunnel {
            let in_pool = pool.is_some_and(|pool| pool.contains(tunnel));
            let on_lan = lan.is_some_and(|(_, router, dhcp)| {
                router == tunnel || dhcp.is_some_and(|dhcp| dhcp.contains(tunnel))
            });
            if in_pool || on_lan {
                c.error(
                    "l2tp.tunnel_address",
                    "l2tp.tunnel_address must lie outside l2tp.pool and lan.dhcp_pool and differ from lan.address".into(),
                    "l2tp.tunnel_address は l2tp.pool と lan.dhcp_pool の外で、lan.address と異なるアドレスにしてください".into(),
                );
            }
        }
        let limit = max_sessions_limit(device);
        let max_sessions = match l2tp.max_sessions {
            None => Some(limit),
            Some(n) if (1..=limit).contains(&n) => Some(n),
            Some(n) => {
                c.error(
                    "l2tp.max_sessions",
                    format!("l2tp.max_sessions must be 1 to {limit} on {device}, not {n}"),
                    format!("l2tp.max_sessions は{device}では1〜{limit}で指定してください: {n}"),
                );
                None
            }
        };
        let l2tp = pool
            .zip(tunnel)
            .zip(max_sessions)
            .map(|((pool, tunnel), max_sessions)| PlanL2tp {
                pre_shared_key: &l2tp.pre_shared_key,
                users: &l2tp.users,
                pool,
                tunnel,
                max_sessions,
            });
        c.finish(lan.zip(l2tp).map(|((lan, router, dhcp_pool), l2tp)| Plan {
            wan,
            lan,
            router,
            dhcp_pool,
            dns_forwarder: self.dns_forwarder,
            ntp_server: self.ntp_server.as_deref(),
            napt: self.napt,
            l2tp: Some(l2tp),
        }))
    }
}

impl PppoeTermination {
    /// Besides the PPPoE login and NTP server: `lan.network` is the block's first address, and
    /// a DHCP pool lies in the block without the router's address, its first host.
    pub(super) fn plan(&self) -> Result<Plan<'_>, Vec<FieldError>> {
        let mut c = Checker::default();
        c.pppoe(&self.wan);
        let network = c.address("lan.network", &self.lan.network);
        let prefix = c.prefix_len("lan.prefix_len", self.lan.prefix_len);
        let lan = network.zip(prefix).and_then(|(network, prefix)| {
            let subnet = Subnet::containing(network, prefix);
            if subnet.network() == network {
                return Some((subnet, Ipv4Addr::from(u32::from(network) + 1)));
            }
            c.error(
                "lan.network",
                format!("lan.network must be the block's first address, {subnet}"),
                format!("lan.network にはブロックの先頭アドレスを指定してください: {subnet}"),
            );
            None
        });
        let pool = c.dhcp_pool(self.lan.dhcp_pool.as_ref(), lan);
        c.ntp_server(self.ntp_server.as_deref());
        c.finish(lan.zip(pool).map(|((lan, router), dhcp_pool)| Plan {
            wan: PlanWan::Pppoe {
                account: &self.wan,
                unnumbered: true,
            },
            lan,
            router,
            dhcp_pool,
            dns_forwarder: self.dns_forwarder,
            ntp_server: self.ntp_server.as_deref(),
            napt: false,
            l2tp: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::PresetParams;
    use super::*;
    use crate::catalog::Item;

    fn fields(params: &PresetParams, device: DeviceType) -> Vec<&'static str> {
        match params.validate(device) {
            Ok(()) => Vec::new(),
            Err(errors) => {
                for e in &errors {
                    assert!(
                        !e.message_en.is_empty() && !e.message_ja.is_empty(),
                        "{e:?}"
                    );
                }
                errors.into_iter().map(|e| e.field).collect()
            }
        }
    }

    fn gateway(edit: impl FnOnce(&mut InternetGateway)) -> PresetParams {
        let mut p = InternetGateway::default();
        edit(&mut p);
        PresetParams::InternetGateway(p)
    }

    /// A remote-access server with two users, valid as it is.
    fn remote(edit: impl FnOnce(&mut RemoteAccess)) -> PresetParams {
        let PresetParams::RemoteAccess(mut p) = PresetParams::default_for(Item::RemoteAccess)
        else {
            unreachable!()
        };
        p.l2tp.pre_shared_key = "secret".into();
        p.l2tp.users = ["alice", "bob"]
            .map(|name| LocalUser {
                name: name.into(),
                password: "pw".into(),
            })
            .into();
        edit(&mut p);
        PresetParams::RemoteAccess(p)
    }

    fn range(start: &str, end: &str) -> Option<AddressRange> {
        Some(AddressRange {
            start: start.into(),
            end: end.into(),
        })
    }

    #[test]
    fn defaults_name_what_only_the_contractor_knows() {
        for device in DeviceType::ALL {
            let default = |item| fields(&PresetParams::default_for(item), device);
            assert_eq!(default(Item::InternetGateway), [] as [&str; 0]);
            assert_eq!(default(Item::RemoteAccess), ["l2tp.pre_shared_key"]);
            assert_eq!(
                default(Item::PppoeTermination),
                ["wan.id", "wan.password", "lan.network"]
            );
            assert_eq!(fields(&remote(|_| ()), device), [] as [&str; 0]);
        }
    }

    #[test]
    fn dhcp_pool_lies_in_the_lan_without_the_router() {
        let x4 = DeviceType::SeilX4;
        let outside = gateway(|p| p.lan.dhcp_pool = range("192.168.0.100", "192.168.1.10"));
        assert_eq!(fields(&outside, x4), ["lan.dhcp_pool.end"]);
        let broadcast = gateway(|p| p.lan.dhcp_pool = range("192.168.0.0", "192.168.0.255"));
        assert_eq!(
            fields(&broadcast, x4),
            ["lan.dhcp_pool.start", "lan.dhcp_pool.end", "lan.dhcp_pool"]
        );
        let router = gateway(|p| p.lan.dhcp_pool = range("192.168.0.1", "192.168.0.50"));
        assert_eq!(fields(&router, x4), ["lan.dhcp_pool"]);
        let reversed = gateway(|p| p.lan.dhcp_pool = range("192.168.0.199", "192.168.0.100"));
        assert_eq!(fields(&reversed, x4), ["lan.dhcp_pool.end"]);
        let off = gateway(|p| p.lan.dhcp_pool = None);
        assert_eq!(fields(&off, x4), [] as [&str; 0]);
    }

    #[test]
    fn bad_addresses_are_each_named() {
        let p = gateway(|p| {
            p.lan.address = "192.168.0.256".into();
            p.lan.prefix_len = 31;
            p.lan.dhcp_pool = range("192.168.0.010", "224.0.0.1");
            p.ntp_server = Some("ntp..example".into());
        });
        assert_eq!(
            fields(&p, DeviceType::SeilX4),
            [
                "lan.address",
                "lan.prefix_len",
                "lan.dhcp_pool.start",
                "lan.dhcp_pool.end",
                "ntp_server"
            ]
        );
        let network = gateway(|p| p.lan.address = "192.168.0.0".into());
        assert_eq!(fields(&network, DeviceType::SeilX4), ["lan.address"]);
        for ntp in ["ntp.nict.jp", "133.243.238.164"] {
            let ok = gateway(|p| p.ntp_server = Some(ntp.into()));
            assert_eq!(fields(&ok, DeviceType::SeilX4), [] as [&str; 0]);
        }
        let err = PresetParams::InternetGateway(InternetGateway {
            ntp_server: Some("1.2.3.999".into()),
            ..InternetGateway::default()
        })
        .validate(DeviceType::SeilX4)
        .unwrap_err();
        assert_eq!(
            err[0].message_en,
            r#"ntp_server must be an IPv4 address or a host name, not "1.2.3.999""#
        );
    }

    #[test]
    fn remote_access_pool_keeps_clear_of_the_lan() {
        let x4 = DeviceType::SeilX4;
        let overlap = remote(|p| {
            p.l2tp.pool = range("192.168.0.150", "192.168.0.250").unwrap();
        });
        assert_eq!(fields(&overlap, x4), ["l2tp.pool"]);
        let router = remote(|p| p.l2tp.pool = range("192.168.0.1", "192.168.0.20").unwrap());
        assert_eq!(fields(&router, x4), ["l2tp.pool"]);
        let tunnel = remote(|p| p.l2tp.tunnel_address = "192.168.128.7".into());
        assert_eq!(fields(&tunnel, x4), ["l2tp.tunnel_address"]);
        let tunnel = remote(|p| p.l2tp.tunnel_address = "192.168.0.1".into());
        assert_eq!(fields(&tunnel, x4), ["l2tp.tunnel_address"]);
    }

    #[test]
    fn users_are_unique_and_bounded() {
        let x4 = DeviceType::SeilX4;
        let user = |name: &str, password: &str| LocalUser {
            name: name.into(),
            password: password.into(),
        };
        let p = remote(|p| {
            p.l2tp.users = vec![
                user("alice", "pw"),
                user(&"n".repeat(33), "pw"),
                user("carol", &"p".repeat(65)),
                user("alice", "other"),
                user("", "pw"),
            ];
        });
        let err = p.validate(x4).unwrap_err();
        let got: Vec<_> = err
            .iter()
            .map(|e| (e.field, e.message_en.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "l2tp.users[].name",
                    "l2tp.users[1].name must be 1 to 32 characters"
                ),
                (
                    "l2tp.users[].password",
                    "l2tp.users[2].password must be 1 to 64 characters"
                ),
                (
                    "l2tp.users[].name",
                    "l2tp.users[3].name: the user name \"alice\" is already taken"
                ),
                (
                    "l2tp.users[].name",
                    "l2tp.users[4].name must be 1 to 32 characters"
                ),
            ]
        );
        // Thirty-two kana are 32 characters, though 96 bytes.
        let kana = remote(|p| p.l2tp.users = vec![user(&"ア".repeat(32), &"パ".repeat(64))]);
        assert_eq!(fields(&kana, x4), [] as [&str; 0]);
        let control = remote(|p| p.l2tp.pre_shared_key = "a\nb".into());
        assert_eq!(fields(&control, x4), ["l2tp.pre_shared_key"]);
    }

    #[test]
    fn max_sessions_up_to_the_model_limit() {
        let sessions = |n| remote(|p| p.l2tp.max_sessions = Some(n));
        for (device, limit) in [
            (DeviceType::SeilX4, 1024),
            (DeviceType::SeilCa10, 1024),
            (DeviceType::SaW2l, 256),
        ] {
            assert_eq!(fields(&sessions(limit), device), [] as [&str; 0]);
            assert_eq!(fields(&sessions(limit + 1), device), ["l2tp.max_sessions"]);
            assert_eq!(fields(&sessions(0), device), ["l2tp.max_sessions"]);
        }
        let err = sessions(300).validate(DeviceType::SaW2l).unwrap_err();
        assert_eq!(
            err[0].message_en,
            "l2tp.max_sessions must be 1 to 256 on SA-W2L, not 300"
        );
    }

    #[test]
    fn pppoe_termination_block() {
        let x4 = DeviceType::SeilX4;
        let block = |network: &str, prefix_len, dhcp_pool| {
            PresetParams::PppoeTermination(PppoeTermination {
                wan: PppoeAccount {
                    id: "user@example.iij.ad.jp".into(),
                    password: "pw".into(),
                },
                lan: GlobalLan {
                    network: network.into(),
                    prefix_len,
                    dhcp_pool,
                },
                ..PppoeTermination::default()
            })
        };
        assert_eq!(fields(&block("203.0.113.8", 29, None), x4), [] as [&str; 0]);
        assert_eq!(fields(&block("203.0.113.9", 29, None), x4), ["lan.network"]);
        assert_eq!(
            fields(&block("203.0.113.8", 31, None), x4),
            ["lan.prefix_len"]
        );
        let pool = range("203.0.113.10", "203.0.113.14");
        assert_eq!(fields(&block("203.0.113.8", 29, pool), x4), [] as [&str; 0]);
        // The router holds .9, the block's first host.
        let pool = range("203.0.113.9", "203.0.113.14");
        assert_eq!(
            fields(&block("203.0.113.8", 29, pool), x4),
            ["lan.dhcp_pool"]
        );
        let pool = range("203.0.113.10", "203.0.113.15");
        assert_eq!(
            fields(&block("203.0.113.8", 29, pool), x4),
            ["lan.dhcp_pool.end"]
        );
    }
}
