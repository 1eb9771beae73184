//! Each preset's parameters checked into a [`Plan`] (R17.1).

use std::collections::HashSet;
use std::net::Ipv4Addr;

use crate::account::FieldError;
use crate::catalog::DeviceType;
use crate::preset::model::max_sessions_limit;

use super::checker::L2TP_POOL;
use super::*;

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
    pub(in crate::preset) fn plan(&self) -> Result<Plan<'_>, Vec<FieldError>> {
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
    pub(in crate::preset) fn plan(&self, device: DeviceType) -> Result<Plan<'_>, Vec<FieldError>> {
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
    pub(in crate::preset) fn plan(&self) -> Result<Plan<'_>, Vec<FieldError>> {
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
    use super::*;
    use crate::catalog::Item;
    use crate::preset::PresetParams;

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
