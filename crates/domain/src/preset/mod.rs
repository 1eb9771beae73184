//! Presets (R2.2): typed parameters rendered to recipe configuration.
//!
//! A service adapter's item decides its preset (R2.2). The contractor edits the preset's
//! parameters and the system validates them (R17.1); [`render`] turns valid parameters into
//! the recipe configuration the device fetches, per model (facts in
//! `shared/reference/devices.md`, cited by section).

pub mod check;
mod model;
mod params;
mod recipe;
mod render;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::Refusal;
use crate::account::FieldError;
use crate::book::{Contract, ContractOption};
use crate::catalog::{DeviceType, Item, NetworkType, OptionKind};

pub use model::max_sessions_limit;
pub use params::{
    AddressRange, GlobalLan, InternetGateway, L2tpServer, Lan, LocalUser, MASK, PppoeAccount,
    PppoeTermination, RemoteAccess, Wan,
};
pub use recipe::{DiffLine, ParseError, Recipe, diff};
pub use render::render;

use params::{Checker, Plan};

/// The parameters of one preset, tagged in JSON by `preset` with the item's wire name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "preset", rename_all = "snake_case")]
pub enum PresetParams {
    InternetGateway(InternetGateway),
    RemoteAccess(RemoteAccess),
    PppoeTermination(PppoeTermination),
}

/// The mobile line of an SA-W2L's built-in module (`ta1`), from its mobile access option
/// rather than from the preset (R6.5, R9.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MobileSettings {
    /// 1–100 of `-.0-9A-Za-z`, not starting with a digit (devices.md A.2).
    pub apn: String,
    /// 1–150 characters (devices.md A.2).
    pub id: String,
    /// A secret of 1–64 characters (devices.md A.2).
    pub password: String,
    /// Does not change the recipe: devices.md documents no key for it, the carrier handing the
    /// fixed address out over IPCP like a dynamic one.
    pub network_type: NetworkType,
}

impl PresetParams {
    /// The item whose preset these parameters are (R2.2).
    pub fn item(&self) -> Item {
        match self {
            Self::InternetGateway(_) => Item::InternetGateway,
            Self::RemoteAccess(_) => Item::RemoteAccess,
            Self::PppoeTermination(_) => Item::PppoeTermination,
        }
    }

    /// The parameters a new contract of `item` starts from.
    ///
    /// `internet_gateway` renders a working configuration as it is: DHCP line, LAN
    /// `192.168.0.1/24`, DHCP pool `.100`–`.199`, DNS forwarder and NAPT on. The others need
    /// what only the contractor knows, and [`PresetParams::validate`] names it: for
    /// `remote_access` the pre-shared key (and users to be of use), for `pppoe_termination`
    /// the PPPoE login and the global block's network.
    pub fn default_for(item: Item) -> Self {
        match item {
            Item::InternetGateway => Self::InternetGateway(InternetGateway::default()),
            Item::RemoteAccess => convert(&Self::default_for(Item::InternetGateway), item),
            Item::PppoeTermination => Self::PppoeTermination(PppoeTermination::default()),
        }
    }

    /// Checks the parameters for a device type (R17.1).
    ///
    /// # Errors
    /// Every bad field, named by its dotted path (`lan.dhcp_pool.end`; list elements as
    /// `l2tp.users[].name`, the message giving the index), in English and Japanese.
    pub fn validate(&self, device: DeviceType) -> Result<(), Vec<FieldError>> {
        self.plan(device).map(drop)
    }

    fn plan(&self, device: DeviceType) -> Result<Plan<'_>, Vec<FieldError>> {
        match self {
            Self::InternetGateway(p) => p.plan(),
            Self::RemoteAccess(p) => p.plan(device),
            Self::PppoeTermination(p) => p.plan(),
        }
    }

    /// The same parameters with every secret that is set (PPPoE password, pre-shared key,
    /// user passwords) replaced by [`MASK`], for showing them. An unset secret stays empty,
    /// so the masked view tells what still has to be filled in (R17.1).
    pub fn masked(&self) -> Self {
        let mask = |s: &mut String| {
            if !s.is_empty() {
                *s = MASK.to_owned();
            }
        };
        let mut p = self.clone();
        match &mut p {
            Self::InternetGateway(InternetGateway { wan, .. }) => {
                if let Wan::Pppoe(account) = wan {
                    mask(&mut account.password);
                }
            }
            Self::RemoteAccess(RemoteAccess { wan, l2tp, .. }) => {
                if let Wan::Pppoe(account) = wan {
                    mask(&mut account.password);
                }
                mask(&mut l2tp.pre_shared_key);
                l2tp.users.iter_mut().for_each(|u| mask(&mut u.password));
            }
            Self::PppoeTermination(PppoeTermination { wan, .. }) => mask(&mut wan.password),
        }
        p
    }
}

impl MobileSettings {
    /// Checks the settings against the limits of `interface.ppp[]` (devices.md A.2).
    ///
    /// # Errors
    /// Every bad field, as `mobile.apn`, `mobile.id`, `mobile.password`.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut c = Checker::default();
        let apn = &self.apn;
        let apn_ok = (1..=100).contains(&apn.len())
            && apn
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            && !apn.starts_with(|c: char| c.is_ascii_digit());
        if !apn_ok {
            c.error(
                "mobile.apn",
                format!(
                    "mobile.apn must be 1 to 100 of - . 0-9 A-Z a-z, not starting with a digit: {apn:?}"
                ),
                format!(
                    "mobile.apn は「-」「.」英数字の1〜100文字で、数字以外で始めてください: {apn:?}"
                ),
            );
        }
        c.text("mobile.id", &self.id, 150);
        c.text("mobile.password", &self.password, 64);
        c.finish(Some(()))
    }

    /// The settings of `option`'s line on `date`: the contractor's APN, PPP id and password
    /// with the option's network type in force that day (R9.3, R9.5).
    ///
    /// The fields are not checked here; [`MobileSettings::validate`] does that.
    ///
    /// # Errors
    /// `R6.5` when `option` is not a `mobile_access` option of an SA-W2L contract; `R9.3` when
    /// the option is not in service on `date`.
    pub fn for_option(
        contract: &Contract,
        option: &ContractOption,
        date: Date,
        apn: String,
        id: String,
        password: String,
    ) -> Result<Self, Refusal> {
        if option.kind != OptionKind::MobileAccess
            || contract.device_type != Some(DeviceType::SaW2l)
        {
            return Err(Refusal::new(
                "R6.5",
                "a mobile line belongs only to the mobile access option of an SA-W2L contract",
                "モバイル回線の設定はSA-W2L契約のモバイルアクセスオプションにのみあります",
            ));
        }
        let network_type = option
            .network_type(date)
            .filter(|_| option.is_active(date))
            .ok_or_else(|| {
                Refusal::new(
                    "R9.3",
                    format!("the mobile access option is not in service on {date}"),
                    format!("{date} はモバイルアクセスオプションの提供期間外です"),
                )
            })?;
        Ok(Self {
            apn,
            id,
            password,
            network_type,
        })
    }

    /// The same settings with the password replaced by [`MASK`].
    pub fn masked(&self) -> Self {
        Self {
            password: MASK.to_owned(),
            ..self.clone()
        }
    }
}

/// The parameters of preset `to` for a contract changing its item (R8.1).
///
/// Every parameter both presets have is kept — line, LAN and DHCP pool, DNS forwarder, NTP
/// server, NAPT between `internet_gateway` and `remote_access`; the PPPoE login, DNS forwarder
/// and NTP server with `pppoe_termination`, whose global LAN shares nothing with a private
/// one. The rest comes from [`PresetParams::default_for`]. A DHCP line has no PPPoE login to
/// keep, so `pppoe_termination` then starts without one.
pub fn convert(params: &PresetParams, to: Item) -> PresetParams {
    use PresetParams as P;
    let gateway = match params {
        P::InternetGateway(p) => p.clone(),
        P::RemoteAccess(p) => InternetGateway {
            wan: p.wan.clone(),
            lan: p.lan.clone(),
            dns_forwarder: p.dns_forwarder,
            ntp_server: p.ntp_server.clone(),
            napt: p.napt,
        },
        P::PppoeTermination(p) => InternetGateway {
            wan: Wan::Pppoe(p.wan.clone()),
            dns_forwarder: p.dns_forwarder,
            ntp_server: p.ntp_server.clone(),
            ..InternetGateway::default()
        },
    };
    match (params, to) {
        (_, Item::InternetGateway) => P::InternetGateway(gateway),
        (P::RemoteAccess(p), Item::RemoteAccess) => P::RemoteAccess(p.clone()),
        (_, Item::RemoteAccess) => P::RemoteAccess(RemoteAccess {
            wan: gateway.wan,
            lan: gateway.lan,
            dns_forwarder: gateway.dns_forwarder,
            ntp_server: gateway.ntp_server,
            napt: gateway.napt,
            l2tp: L2tpServer::default(),
        }),
        (P::PppoeTermination(p), Item::PppoeTermination) => P::PppoeTermination(p.clone()),
        (_, Item::PppoeTermination) => P::PppoeTermination(PppoeTermination {
            wan: match gateway.wan {
                Wan::Pppoe(account) => account,
                Wan::Dhcp => PppoeAccount::default(),
            },
            dns_forwarder: gateway.dns_forwarder,
            ntp_server: gateway.ntp_server,
            ..PppoeTermination::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> PppoeAccount {
        PppoeAccount {
            id: "user@example.ne.jp".into(),
            password: "line secret".into(),
        }
    }

    fn remote() -> RemoteAccess {
        RemoteAccess {
            wan: Wan::Pppoe(account()),
            lan: Lan {
                address: "10.1.2.254".into(),
                prefix_len: 23,
                dhcp_pool: Some(AddressRange {
                    start: "10.1.2.10".into(),
                    end: "10.1.2.99".into(),
                }),
            },
            dns_forwarder: false,
            ntp_server: Some("ntp.nict.jp".into()),
            napt: false,
            l2tp: L2tpServer {
                pre_shared_key: "psk".into(),
                users: vec![LocalUser {
                    name: "alice".into(),
                    password: "pw".into(),
                }],
                max_sessions: Some(10),
                ..L2tpServer::default()
            },
        }
    }

    #[test]
    fn r8_1_convert_keeps_shared_parameters() {
        let ra = remote();
        let PresetParams::InternetGateway(ig) = convert(
            &PresetParams::RemoteAccess(ra.clone()),
            Item::InternetGateway,
        ) else {
            panic!("not an internet gateway")
        };
        assert_eq!(
            ig,
            InternetGateway {
                wan: ra.wan.clone(),
                lan: ra.lan.clone(),
                dns_forwarder: false,
                ntp_server: Some("ntp.nict.jp".into()),
                napt: false,
            }
        );
        // Back again: the gateway's parameters survive, the server starts from its defaults.
        let back = convert(&PresetParams::InternetGateway(ig), Item::RemoteAccess);
        assert_eq!(
            back,
            PresetParams::RemoteAccess(RemoteAccess {
                l2tp: L2tpServer::default(),
                ..ra.clone()
            })
        );

        let PresetParams::PppoeTermination(pt) = convert(
            &PresetParams::RemoteAccess(ra.clone()),
            Item::PppoeTermination,
        ) else {
            panic!("not a PPPoE termination")
        };
        assert_eq!(
            pt,
            PppoeTermination {
                wan: account(),
                dns_forwarder: false,
                ntp_server: Some("ntp.nict.jp".into()),
                ..PppoeTermination::default()
            }
        );
        let PresetParams::InternetGateway(ig) =
            convert(&PresetParams::PppoeTermination(pt), Item::InternetGateway)
        else {
            panic!("not an internet gateway")
        };
        assert_eq!(ig.wan, Wan::Pppoe(account()));
        assert_eq!(ig.lan, InternetGateway::default().lan);

        // A DHCP line has no login to carry over.
        let dhcp = PresetParams::default_for(Item::InternetGateway);
        let PresetParams::PppoeTermination(pt) = convert(&dhcp, Item::PppoeTermination) else {
            panic!("not a PPPoE termination")
        };
        assert_eq!(pt.wan, PppoeAccount::default());

        for item in Item::ALL {
            let p = PresetParams::default_for(item);
            assert_eq!(p.item(), item);
            assert_eq!(convert(&p, item), p);
        }
        let p = PresetParams::RemoteAccess(ra);
        assert_eq!(convert(&p, Item::RemoteAccess), p);
    }

    #[test]
    fn masked_hides_every_secret_and_nothing_else() {
        let p = PresetParams::RemoteAccess(remote()).masked();
        let PresetParams::RemoteAccess(m) = &p else {
            panic!("not a remote access")
        };
        assert_eq!(
            m.wan,
            Wan::Pppoe(PppoeAccount {
                id: "user@example.ne.jp".into(),
                password: MASK.into(),
            })
        );
        assert_eq!(m.l2tp.pre_shared_key, MASK);
        assert_eq!(m.l2tp.users[0].name, "alice");
        assert_eq!(m.l2tp.users[0].password, MASK);
        assert_eq!(m.lan, remote().lan);
        let pt = convert(&p, Item::PppoeTermination).masked();
        let PresetParams::PppoeTermination(pt) = pt else {
            panic!("not a PPPoE termination")
        };
        assert_eq!(pt.wan.password, MASK);
        let dhcp = PresetParams::default_for(Item::InternetGateway);
        assert_eq!(dhcp.masked(), dhcp);
        // R17.1: an unset secret is not shown as set.
        let mut unset = remote();
        unset.l2tp.pre_shared_key.clear();
        let PresetParams::RemoteAccess(m) = PresetParams::RemoteAccess(unset).masked() else {
            panic!("not a remote access")
        };
        assert_eq!(m.l2tp.pre_shared_key, "");
        assert_eq!(m.l2tp.users[0].password, MASK);

        let mobile = MobileSettings {
            apn: "iijmobile.jp".into(),
            id: "mobile@iij".into(),
            password: "iij".into(),
            network_type: NetworkType::DynamicIp,
        };
        assert_eq!(mobile.masked().password, MASK);
        assert_eq!(mobile.masked().apn, mobile.apn);
    }

    #[test]
    fn mobile_settings_follow_the_ppp_interface_limits() {
        let mobile = |apn: &str, id: &str, password: &str| MobileSettings {
            apn: apn.into(),
            id: id.into(),
            password: password.into(),
            network_type: NetworkType::FixedIp,
        };
        let fields = |m: MobileSettings| match m.validate() {
            Ok(()) => Vec::new(),
            Err(errors) => errors.into_iter().map(|e| e.field).collect(),
        };
        assert_eq!(fields(mobile("iijmobile.jp", "id", "pw")), [] as [&str; 0]);
        assert_eq!(
            fields(mobile("a-b.c", &"i".repeat(150), "p")),
            [] as [&str; 0]
        );
        assert_eq!(
            fields(mobile("1apn", &"i".repeat(151), &"p".repeat(65))),
            ["mobile.apn", "mobile.id", "mobile.password"]
        );
        assert_eq!(fields(mobile("a_b", "id", "pw")), ["mobile.apn"]);
        assert_eq!(fields(mobile(&"a".repeat(101), "id", "pw")), ["mobile.apn"]);
    }

    #[test]
    fn r6_5_r9_3_a_mobile_line_is_a_mobile_access_options_in_service() {
        use crate::book::Timeline;
        let day = |s: &str| s.parse::<Date>().unwrap();
        let contract = |device| Contract {
            id: "c".into(),
            contractor_id: "k".into(),
            kind: crate::catalog::ContractKind::ServiceAdapter,
            device_type: Some(device),
            items: Timeline::starting(day("2026-04-01"), Item::InternetGateway),
            management_id: None,
            applied_on: day("2026-04-01"),
            accepted_on: day("2026-04-01"),
            billing_start: None,
            ending: None,
            number: None,
            label: String::new(),
        };
        let mut option = ContractOption {
            id: "o".into(),
            contract_id: "c".into(),
            kind: OptionKind::MobileAccess,
            applied_on: day("2026-04-01"),
            accepted_on: day("2026-04-01"),
            install_address: None,
            usage_types: Timeline::starting(
                day("2026-04-01"),
                crate::catalog::MobileUsageType::Standard,
            ),
            network_types: Timeline::starting(day("2026-04-01"), NetworkType::DynamicIp),
            ending: None,
        };
        // R9.5: a change to a fixed address from May on; the line takes the type of its day.
        option
            .network_types
            .set_from(day("2026-05-01"), NetworkType::FixedIp);
        let line = |c: &Contract, o: &ContractOption, on: &str| {
            MobileSettings::for_option(c, o, day(on), "apn".into(), "id".into(), "pw".into())
        };
        let w2l = contract(DeviceType::SaW2l);
        assert_eq!(
            line(&w2l, &option, "2026-04-30").unwrap().network_type,
            NetworkType::DynamicIp
        );
        assert_eq!(
            line(&w2l, &option, "2026-05-01").unwrap().network_type,
            NetworkType::FixedIp
        );
        assert_eq!(line(&w2l, &option, "2026-03-31").unwrap_err().rule, "R9.3");
        assert_eq!(
            line(&contract(DeviceType::SeilX4), &option, "2026-04-30")
                .unwrap_err()
                .rule,
            "R6.5"
        );
        option.kind = OptionKind::UltraSendback;
        assert_eq!(line(&w2l, &option, "2026-04-30").unwrap_err().rule, "R6.5");
    }

    #[test]
    fn wire_form_of_the_defaults() {
        insta::assert_json_snapshot!(Item::ALL.map(PresetParams::default_for));
        insta::assert_json_snapshot!(
            "remote_access_masked",
            PresetParams::RemoteAccess(remote()).masked()
        );
    }
}
