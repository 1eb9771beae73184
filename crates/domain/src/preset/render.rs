//! Rendering a preset's parameters into one model's recipe configuration (R2.2).

use std::iter;

use super::model::Model;
use super::params::{Checker, PlanWan};
use super::{MobileSettings, PresetParams, Recipe};
use crate::Refusal;
use crate::account::FieldError;
use crate::catalog::DeviceType;

/// The recipe configuration of a service adapter of model `device`, named `hostname`, from its
/// preset's parameters and, on an SA-W2L with a mobile access option, its mobile line.
///
/// What each preset sets follows devices.md B.1–B.3; per model, the WAN/LAN ports and
/// `interface.pppoe0.over` follow A.1–A.4 (see `Model`). Beyond those sections, by
/// inference:
/// - `remote_access` accepts L2TP on the WAN (and mobile) interface, offers MS-CHAPv2 and CHAP
///   as seil2recipe does, and with the DNS forwarder on, hands clients the tunnel end as their
///   DNS server and has the forwarder listen on `pppac0`; with NAPT on, the client pool is
///   translated like the LAN (B.2).
/// - A mobile line is `ppp0` on `ta1` (A.2) with a default route of distance 10, taken over
///   when the wired line's route is gone, and it always translates the LAN (and the client
///   pool), since the carrier gives one address. DNS sources then include `ipcp`.
/// - The IIJ management block of the official samples (B.0) is left out: this system is not
///   IIJ's service host.
///
/// # Errors
/// `R6.5` for a mobile line on a model other than SA-W2L; `R17.1` when the parameters, the
/// mobile settings or the host name are invalid, listing every bad field.
pub fn render(
    params: &PresetParams,
    device: DeviceType,
    mobile: Option<&MobileSettings>,
    hostname: &str,
) -> Result<Recipe, Refusal> {
    let model = Model::of(device);
    if mobile.is_some() && !model.mobile {
        return Err(Refusal::new(
            "R6.5",
            format!("a mobile line needs the SA-W2L's built-in module, not a {device}"),
            format!(
                "モバイル回線は SA-W2L の内蔵モジュールでのみ使えます({device} では使えません)"
            ),
        ));
    }
    let (plan, mut errors) = match params.plan(device) {
        Ok(plan) => (Some(plan), Vec::new()),
        Err(errors) => (None, errors),
    };
    if let Some(Err(e)) = mobile.map(MobileSettings::validate) {
        errors.extend(e);
    }
    let mut host = Checker::default();
    host.text("hostname", hostname, 255);
    if let Err(e) = host.finish(Some(())) {
        errors.extend(e);
    }
    let Some(plan) = plan.filter(|_| errors.is_empty()) else {
        return Err(invalid(&errors));
    };

    let lan = model.lan;
    let prefix = plan.lan.prefix();
    let mut r = Lines::default();
    r.set("hostname", hostname);
    r.set(
        format!("interface.{lan}.ipv4.address"),
        format!("{}/{prefix}", plan.router),
    );

    let (wan, gateway, dns_source) = match plan.wan {
        PlanWan::Pppoe {
            account,
            unnumbered,
        } => {
            r.set("interface.pppoe0.id", &account.id);
            r.set("interface.pppoe0.password", &account.password);
            if model.pppoe_over {
                r.set("interface.pppoe0.over", model.wan);
            }
            if unnumbered {
                r.set("interface.pppoe0.ipcp", "enable");
                r.set("interface.pppoe0.ipcp.address", "disable");
                r.set("interface.pppoe0.ipcp.dns", "enable");
                r.set("interface.pppoe0.ipv4.address", lan);
            }
            ("pppoe0", "pppoe0", "ipcp")
        }
        PlanWan::Dhcp => {
            r.set(format!("interface.{}.ipv4.address", model.wan), "dhcp");
            (model.wan, "dhcp", "dhcp")
        }
    };
    r.set("route.ipv4.0.destination", "default");
    r.set("route.ipv4.0.gateway", gateway);
    let mobile_out = mobile.map(|_| "ppp0");
    let dns_sources: Vec<_> = iter::once(dns_source)
        .chain(mobile.map(|_| "ipcp").filter(|&s| s != dns_source))
        .collect();
    r.set("resolver.service", "enable");
    for (i, source) in dns_sources.iter().enumerate() {
        r.set(format!("resolver.{i}.address"), *source);
    }

    if let Some(server) = plan.ntp_server {
        r.set("ntp.service", "enable");
        r.set("ntp.client.0.address", server);
    }

    if plan.dns_forwarder {
        r.set("dns-forwarder.service", "enable");
        for (i, source) in dns_sources.iter().enumerate() {
            r.set(format!("dns-forwarder.{i}.address"), *source);
        }
        let listen = iter::once(lan).chain(plan.l2tp.as_ref().map(|_| "pppac0"));
        for (i, interface) in listen.enumerate() {
            r.set(
                format!("dns-forwarder.listen.ipv4.{i}.interface"),
                interface,
            );
        }
    }

    if let Some(pool) = plan.dhcp_pool {
        r.set("dhcp.server.service", "enable");
        r.set("dhcp.server.0.interface", lan);
        r.set(
            "dhcp.server.0.pool.address",
            format!("{}/{prefix}", pool.start),
        );
        r.set("dhcp.server.0.pool.count", pool.count().to_string());
        if plan.dns_forwarder {
            r.set("dhcp.server.0.dns.0.address", plan.router.to_string());
        }
    }

    let private: Vec<_> = iter::once(plan.lan.to_string())
        .chain(plan.l2tp.as_ref().map(|l2tp| l2tp.pool.to_string()))
        .collect();
    let outs = plan.napt.then_some(wan).into_iter().chain(mobile_out);
    let napt = outs.flat_map(|out| private.iter().map(move |private| (out, private)));
    for (i, (out, private)) in napt.enumerate() {
        r.set(format!("nat.ipv4.napt.{i}.private"), private);
        r.set(format!("nat.ipv4.napt.{i}.interface"), out);
    }

    if let Some(l2tp) = &plan.l2tp {
        let ac = "interface.pppac0";
        r.set(format!("{ac}.ipv4.address"), l2tp.tunnel.to_string());
        r.set(format!("{ac}.l2tp.service"), "enable");
        r.set(
            format!("{ac}.l2tp.ipsec.preshared-key"),
            l2tp.pre_shared_key,
        );
        for (i, interface) in iter::once(wan).chain(mobile_out).enumerate() {
            let n = (i + 1) * 100;
            r.set(format!("{ac}.l2tp.accept.{n}.interface"), interface);
        }
        r.set(format!("{ac}.l2tp.authentication.100.method"), "mschapv2");
        r.set(format!("{ac}.l2tp.authentication.200.method"), "chap");
        for (i, user) in l2tp.users.iter().enumerate() {
            let user_key = format!("{ac}.authentication.100.user.{}", (i + 1) * 100);
            r.set(format!("{user_key}.name"), &user.name);
            r.set(format!("{user_key}.password"), &user.password);
        }
        r.set(
            format!("{ac}.ipcp.pool.100.address"),
            l2tp.pool.start.to_string(),
        );
        r.set(
            format!("{ac}.ipcp.pool.100.count"),
            l2tp.pool.count().to_string(),
        );
        if plan.dns_forwarder {
            r.set(
                format!("{ac}.ipcp.dns-server.0.ipv4.address"),
                l2tp.tunnel.to_string(),
            );
        }
        r.set(format!("{ac}.max-session"), l2tp.max_sessions.to_string());
    }

    if let Some(mobile) = mobile {
        r.set("interface.ppp0.dialup-device", "ta1");
        r.set("interface.ppp0.apn", &mobile.apn);
        r.set("interface.ppp0.id", &mobile.id);
        r.set("interface.ppp0.password", &mobile.password);
        r.set("interface.ppp0.auth-method", "auto");
        r.set("interface.ppp0.ipcp.dns", "enable");
        r.set("route.ipv4.1.destination", "default");
        r.set("route.ipv4.1.gateway", "ppp0");
        r.set("route.ipv4.1.distance", "10");
    }

    Ok(Recipe::new(r.0))
}

/// The refusal of invalid parameters (R17.1): the system validates what the contractor edits.
fn invalid(errors: &[FieldError]) -> Refusal {
    let join = |message: fn(&FieldError) -> &str| {
        errors.iter().map(message).collect::<Vec<_>>().join("; ")
    };
    Refusal::new(
        "R17.1",
        format!(
            "the preset parameters are invalid: {}",
            join(|e| &e.message_en)
        ),
        format!(
            "プリセットのパラメータに誤りがあります: {}",
            join(|e| &e.message_ja)
        ),
    )
}

#[derive(Default)]
struct Lines(Vec<(String, String)>);

impl Lines {
    fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.push((key.into(), value.into()));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::net::Ipv4Addr;

    use proptest::prelude::*;

    use super::super::{
        AddressRange, DiffLine, GlobalLan, InternetGateway, L2tpServer, Lan, LocalUser,
        PppoeAccount, PppoeTermination, RemoteAccess, Wan, diff,
    };
    use super::*;
    use crate::catalog::{Item, NetworkType};

    const HOST: &str = "tsw12345678";

    fn slug(device: DeviceType) -> &'static str {
        match device {
            DeviceType::SeilX4 => "seil_x4",
            DeviceType::SaW2l => "sa_w2l",
            DeviceType::SeilCa10 => "seil_ca10",
        }
    }

    /// Realistic parameters: the default gateway on a DHCP line; a remote-access server on
    /// PPPoE whose secrets need quoting; a /29 on a PPPoE termination line.
    fn sample(item: Item) -> PresetParams {
        let ntp_server = Some("ntp.nict.jp".to_owned());
        match item {
            Item::InternetGateway => PresetParams::InternetGateway(InternetGateway {
                ntp_server,
                ..InternetGateway::default()
            }),
            Item::RemoteAccess => {
                let user = |name: &str, password: &str| LocalUser {
                    name: name.into(),
                    password: password.into(),
                };
                PresetParams::RemoteAccess(RemoteAccess {
                    wan: Wan::Pppoe(PppoeAccount {
                        id: "user01@example.ne.jp".into(),
                        password: r#"line "pass""#.into(),
                    }),
                    ntp_server,
                    l2tp: L2tpServer {
                        pre_shared_key: "pre shared key".into(),
                        users: vec![user("alice", "alice's pw"), user("bob", "パスワード")],
                        ..L2tpServer::default()
                    },
                    ..match PresetParams::default_for(Item::RemoteAccess) {
                        PresetParams::RemoteAccess(p) => p,
                        _ => unreachable!(),
                    }
                })
            }
            Item::PppoeTermination => PresetParams::PppoeTermination(PppoeTermination {
                wan: PppoeAccount {
                    id: "user01@example.iij.ad.jp".into(),
                    password: "secret".into(),
                },
                lan: GlobalLan {
                    network: "203.0.113.8".into(),
                    prefix_len: 29,
                    dhcp_pool: Some(AddressRange {
                        start: "203.0.113.10".into(),
                        end: "203.0.113.14".into(),
                    }),
                },
                dns_forwarder: true,
                ntp_server,
            }),
        }
    }

    fn mobile(network_type: NetworkType) -> MobileSettings {
        MobileSettings {
            apn: "iijmobile.biz".into(),
            id: "mobile@iij".into(),
            password: "iij".into(),
            network_type,
        }
    }

    #[test]
    fn r2_2_every_item_on_every_model() {
        for item in Item::ALL {
            for device in DeviceType::ALL {
                let recipe = render(&sample(item), device, None, HOST).unwrap();
                insta::assert_snapshot!(format!("{item}_{}", slug(device)), recipe.to_text());
            }
        }
    }

    #[test]
    fn mobile_line_on_sa_w2l() {
        for item in Item::ALL {
            let dynamic = mobile(NetworkType::DynamicIp);
            let recipe = render(&sample(item), DeviceType::SaW2l, Some(&dynamic), HOST).unwrap();
            insta::assert_snapshot!(format!("{item}_sa_w2l_mobile"), recipe.to_text());
            // devices.md has no key for the network type: a fixed address renders the same.
            let fixed = mobile(NetworkType::FixedIp);
            let same = render(&sample(item), DeviceType::SaW2l, Some(&fixed), HOST);
            assert_eq!(same, Ok(recipe));
        }
    }

    #[test]
    fn r6_5_mobile_only_on_sa_w2l() {
        let m = mobile(NetworkType::DynamicIp);
        for device in [DeviceType::SeilX4, DeviceType::SeilCa10] {
            let err = render(&sample(Item::InternetGateway), device, Some(&m), HOST).unwrap_err();
            assert_eq!(err.rule, "R6.5");
        }
    }

    #[test]
    fn r17_1_invalid_parameters_are_refused() {
        let p = PresetParams::default_for(Item::RemoteAccess);
        let bad_mobile = MobileSettings {
            apn: "9apn".into(),
            ..mobile(NetworkType::DynamicIp)
        };
        let err = render(&p, DeviceType::SaW2l, Some(&bad_mobile), "").unwrap_err();
        assert_eq!(err.rule, "R17.1");
        for field in ["l2tp.pre_shared_key", "mobile.apn", "hostname"] {
            assert!(err.message_en.contains(field), "{err}");
            assert!(err.message_ja.contains(field), "{err:?}");
        }
    }

    #[test]
    fn per_model_keys() {
        let ra = sample(Item::RemoteAccess);
        let get = |device, key| {
            let recipe = render(&ra, device, None, HOST).unwrap();
            recipe.get(key).map(str::to_owned)
        };
        // devices.md A.4: `over` exists only on the X4/CA10 line; A.3: CA10 uses ge4/ge5.
        assert_eq!(
            get(DeviceType::SeilX4, "interface.pppoe0.over").unwrap(),
            "ge0"
        );
        assert_eq!(get(DeviceType::SaW2l, "interface.pppoe0.over"), None);
        assert_eq!(
            get(DeviceType::SeilCa10, "interface.pppoe0.over").unwrap(),
            "ge4"
        );
        assert_eq!(
            get(DeviceType::SeilCa10, "interface.ge5.ipv4.address").unwrap(),
            "192.168.0.1/24"
        );
        // devices.md A.1–A.3: the session limit by default.
        assert_eq!(
            get(DeviceType::SeilX4, "interface.pppac0.max-session").unwrap(),
            "1024"
        );
        assert_eq!(
            get(DeviceType::SaW2l, "interface.pppac0.max-session").unwrap(),
            "256"
        );
        assert_eq!(
            get(DeviceType::SeilCa10, "interface.pppac0.max-session").unwrap(),
            "1024"
        );
    }

    #[test]
    fn revisions_diff_by_key() {
        let before = render(
            &sample(Item::InternetGateway),
            DeviceType::SeilX4,
            None,
            HOST,
        )
        .unwrap();
        let PresetParams::InternetGateway(mut p) = sample(Item::InternetGateway) else {
            unreachable!()
        };
        p.napt = false;
        p.ntp_server = Some("133.243.238.164".into());
        let after = render(
            &PresetParams::InternetGateway(p),
            DeviceType::SeilX4,
            None,
            HOST,
        )
        .unwrap();
        let s = |v: &str| v.to_owned();
        assert_eq!(
            diff(&before, &after),
            [
                DiffLine::Removed {
                    key: s("nat.ipv4.napt.0.interface"),
                    value: s("ge0")
                },
                DiffLine::Removed {
                    key: s("nat.ipv4.napt.0.private"),
                    value: s("192.168.0.0/24")
                },
                DiffLine::Changed {
                    key: s("ntp.client.0.address"),
                    old: s("ntp.nict.jp"),
                    new: s("133.243.238.164")
                },
            ]
        );
    }

    /// Printable ASCII (space, quotes and backslash included), a full-width space, é and kana.
    const TEXT: &str = "[ -~\u{3000}éあ-んア-ン]";

    fn text(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!("{TEXT}{{1,{max}}}")).unwrap()
    }

    fn ip(n: u32) -> String {
        Ipv4Addr::from(n).to_string()
    }

    fn account() -> impl Strategy<Value = PppoeAccount> {
        (text(40), text(64)).prop_map(|(id, password)| PppoeAccount { id, password })
    }

    fn ntp_server() -> impl Strategy<Value = Option<String>> {
        proptest::option::of(prop_oneof![
            Just("133.243.238.164".to_owned()),
            "[a-z]([a-z0-9-]{0,8}[a-z0-9])?\\.example\\.jp",
        ])
    }

    /// A LAN in 10.0.0.0/8 with the router at its first or last host and a pool in the rest.
    fn lan() -> impl Strategy<Value = Lan> {
        let picks = (
            any::<u32>(),
            any::<bool>(),
            any::<u32>(),
            any::<u32>(),
            any::<bool>(),
        );
        (16u8..=28, picks).prop_map(|(prefix_len, (bits, router_first, a, b, dhcp))| {
            let size = 1u32 << (32 - prefix_len);
            let network = ((10 << 24) | (bits & 0x00ff_ffff)) & !(size - 1);
            let (first, last) = (network + 1, network + size - 2);
            let (router, lo, hi) = if router_first {
                (first, first + 1, last)
            } else {
                (last, first, last - 1)
            };
            let start = lo + a % (hi - lo + 1);
            let end = start + b % (hi - start + 1);
            Lan {
                address: ip(router),
                prefix_len,
                dhcp_pool: dhcp.then(|| AddressRange {
                    start: ip(start),
                    end: ip(end),
                }),
            }
        })
    }

    fn gateway() -> impl Strategy<Value = InternetGateway> {
        let wan = prop_oneof![Just(Wan::Dhcp), account().prop_map(Wan::Pppoe)];
        (wan, lan(), any::<bool>(), ntp_server(), any::<bool>()).prop_map(
            |(wan, lan, dns_forwarder, ntp_server, napt)| InternetGateway {
                wan,
                lan,
                dns_forwarder,
                ntp_server,
                napt,
            },
        )
    }

    /// A server whose pool lies in 172.16.0.0/12, clear of the LAN, with the tunnel end beyond.
    fn l2tp() -> impl Strategy<Value = L2tpServer> {
        let users = proptest::collection::btree_map(text(32), text(64), 0..4);
        let sessions = proptest::option::of(1u16..=256);
        (text(128), users, 0u32..65536, 0u32..1024, sessions).prop_map(
            |(pre_shared_key, users, a, b, max_sessions): (_, BTreeMap<_, _>, _, _, _)| {
                let start = (172 << 24) | (16 << 16) | a;
                L2tpServer {
                    pre_shared_key,
                    users: users
                        .into_iter()
                        .map(|(name, password)| LocalUser { name, password })
                        .collect(),
                    pool: AddressRange {
                        start: ip(start),
                        end: ip(start + b),
                    },
                    tunnel_address: "172.31.0.1".into(),
                    max_sessions,
                }
            },
        )
    }

    /// A block in 203.0.0.0/8; the pool, if any, leaves out the router's first host.
    fn termination() -> impl Strategy<Value = PppoeTermination> {
        let picks = (any::<u32>(), any::<u32>(), any::<u32>(), any::<bool>());
        (account(), 24u8..=30, picks, any::<bool>(), ntp_server()).prop_map(
            |(wan, prefix_len, (bits, a, b, dhcp), dns_forwarder, ntp_server)| {
                let size = 1u32 << (32 - prefix_len);
                let network = ((203 << 24) | (bits & 0x00ff_ffff)) & !(size - 1);
                let (lo, hi) = (network + 2, network + size - 2);
                let start = lo + a % (hi - lo + 1);
                let end = start + b % (hi - start + 1);
                PppoeTermination {
                    wan,
                    lan: GlobalLan {
                        network: ip(network),
                        prefix_len,
                        dhcp_pool: dhcp.then(|| AddressRange {
                            start: ip(start),
                            end: ip(end),
                        }),
                    },
                    dns_forwarder,
                    ntp_server,
                }
            },
        )
    }

    fn params() -> impl Strategy<Value = PresetParams> {
        prop_oneof![
            gateway().prop_map(PresetParams::InternetGateway),
            (gateway(), l2tp()).prop_map(|(g, l2tp)| PresetParams::RemoteAccess(RemoteAccess {
                wan: g.wan,
                lan: g.lan,
                dns_forwarder: g.dns_forwarder,
                ntp_server: g.ntp_server,
                napt: g.napt,
                l2tp,
            })),
            termination().prop_map(PresetParams::PppoeTermination),
        ]
    }

    fn mobile_settings() -> impl Strategy<Value = MobileSettings> {
        let network_type = prop_oneof![Just(NetworkType::DynamicIp), Just(NetworkType::FixedIp)];
        (
            "[a-zA-Z.-][a-zA-Z0-9.-]{0,30}",
            text(40),
            text(64),
            network_type,
        )
            .prop_map(|(apn, id, password, network_type)| MobileSettings {
                apn,
                id,
                password,
                network_type,
            })
    }

    proptest! {
        // Failures are reported, not saved beside the crate.
        #![proptest_config(ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn rendered_text_reads_back_exactly(
            params in params(),
            device in proptest::sample::select(DeviceType::ALL.to_vec()),
            mobile in proptest::option::of(mobile_settings()),
            hostname in text(20),
        ) {
            let mobile = mobile.filter(|_| device == DeviceType::SaW2l);
            let recipe = render(&params, device, mobile.as_ref(), &hostname);
            prop_assert!(recipe.is_ok(), "{recipe:?}");
            let recipe = recipe.unwrap();
            prop_assert_eq!(recipe.get("hostname"), Some(hostname.as_str()));
            prop_assert_eq!(Recipe::from_text(&recipe.to_text()), Ok(recipe.clone()));
            prop_assert_eq!(render(&params, device, mobile.as_ref(), &hostname), Ok(recipe));
        }
    }
}
