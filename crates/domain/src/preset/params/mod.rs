//! The parameters a contractor edits for each preset, and their validation (R17.1).
//!
//! Addresses are kept as the strings the contractor typed, so that a bad one can be named and
//! shown back; validation parses them into the [`Plan`] that rendering reads.

mod checker;
mod plan;
mod validate;

pub(super) use checker::Checker;
pub(super) use plan::{Plan, PlanL2tp, PlanWan, Span, Subnet};

use serde::{Deserialize, Serialize};

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
