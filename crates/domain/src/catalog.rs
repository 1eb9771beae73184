//! What can be contracted: kinds (R1), items (R2), device types (R3) and options (R9).
//!
//! Each value has one wire name, used in JSON, in the database and in URLs, and a Japanese and an
//! English label for people. The Japanese labels are the regulation's own words
//! (`shared/seed/000_0142648f159c9aaf.txt`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A wire name that names no value of the catalog type it was read as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {input:?}, expected one of: {}", expected.join(", "))]
pub struct UnknownName {
    what: &'static str,
    input: String,
    expected: &'static [&'static str],
}

/// Defines a catalog enum from one table, so that its wire names, labels, `ALL`, `FromStr`,
/// `Display` and serde cannot disagree.
///
/// Each variant is written `Variant => ("wire name", "日本語", "English")`.
macro_rules! catalog_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident => ($wire:literal, $ja:literal, $en:literal),
            )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $(
                $(#[$variant_meta])*
                $variant,
            )+
        }

        impl $name {
            /// Every value, in the regulation's order.
            pub const ALL: [Self; [$($wire),+].len()] = [$(Self::$variant),+];

            const WIRE_NAMES: &'static [&'static str] = &[$($wire),+];

            /// The wire name, used in JSON, in the database and in URLs.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }

            /// The name the regulation gives it.
            pub fn label_ja(self) -> &'static str {
                match self {
                    $(Self::$variant => $ja,)+
                }
            }

            /// The English name shown in the console.
            pub fn label_en(self) -> &'static str {
                match self {
                    $(Self::$variant => $en,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;

            /// Reads a wire name, exactly as [`Self::as_str`] writes it.
            fn from_str(s: &str) -> Result<Self, UnknownName> {
                match s {
                    $($wire => Ok(Self::$variant),)+
                    _ => Err(UnknownName {
                        what: $what,
                        input: s.to_owned(),
                        expected: Self::WIRE_NAMES,
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(Self::WIRE_NAMES.iter().copied()))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer)?
                    .parse()
                    .map_err(serde::de::Error::custom)
            }
        }
    };
}

catalog_enum! {
    /// 種類: what a contract provides (R1.1, 第1条).
    pub enum ContractKind ("contract kind") {
        /// The controller tenant through which the contractor's service adapters are controlled.
        Management => ("management", "マネージメント", "Management"),
        /// One managed router.
        ServiceAdapter => ("service_adapter", "サービスアダプタ", "Service adapter"),
    }
}

catalog_enum! {
    /// 品目: the preset a service adapter's configuration is rendered from (R2.1, 第2条).
    pub enum Item ("item") {
        /// A basic router giving a private network Internet access.
        InternetGateway => (
            "internet_gateway",
            "インターネットゲートウェイルータ",
            "Internet gateway router"
        ),
        /// An Internet gateway router that is also a remote-access VPN server.
        RemoteAccess => ("remote_access", "リモートアクセスルータ", "Remote access router"),
        /// A router terminating a PPPoE connection service that gives global addresses.
        PppoeTermination => ("pppoe_termination", "PPPoE終端ルータ", "PPPoE termination router"),
    }
}

catalog_enum! {
    /// 機器種別: the model of a service adapter (R3.1, 第3条). Every item is offered on each.
    pub enum DeviceType ("device type") {
        SeilX4 => ("SEIL/X4", "SEIL/X4", "SEIL/X4"),
        SaW2l => ("SA-W2L", "SA-W2L", "SA-W2L"),
        SeilCa10 => ("SEIL CA10", "SEIL CA10", "SEIL CA10"),
    }
}

catalog_enum! {
    /// オプションサービス: the options of a service-adapter contract (R9.1, 第9条第2項).
    pub enum OptionKind ("option") {
        /// On-site replacement of a failed device at the registered address (R9.2).
        UltraSendback => (
            "ultra_sendback",
            "ウルトラセンドバックオプション",
            "Ultra send-back option"
        ),
        /// Mobile data through a SIM, on `SA-W2L` only (R6.5, R9.3).
        MobileAccess => ("mobile_access", "モバイルアクセスオプション", "Mobile access option"),
        /// Membership of a packet share group sharing a monthly packet pack (R9.6, R9.7).
        PacketShareGroup => (
            "packet_share_group",
            "パケットシェアグループオプション",
            "Packet share group option"
        ),
    }
}

catalog_enum! {
    /// 利用種別: how a mobile access option is used and capped (R9.3).
    pub enum MobileUsageType ("mobile usage type") {
        Standard => ("standard", "通常", "Standard"),
        Backup => ("backup", "バックアップ用", "Backup"),
        Plan10gb => ("plan_10gb", "10GBプラン", "10 GB plan"),
        Plan30gb => ("plan_30gb", "30GBプラン", "30 GB plan"),
        Plan50gb => ("plan_50gb", "50GBプラン", "50 GB plan"),
        /// Draws on its packet share group's pack; requires membership of one (R6.7).
        PacketShare => ("packet_share", "パケットシェアプラン", "Packet share plan"),
    }
}

catalog_enum! {
    /// ネットワークタイプ: how a mobile access option is addressed (R9.3, R9.5).
    pub enum NetworkType ("network type") {
        DynamicIp => ("dynamic_ip", "動的IPアドレス", "Dynamic IP address"),
        FixedIp => ("fixed_ip", "固定IPアドレス", "Fixed IP address"),
    }
}

impl MobileUsageType {
    /// The monthly data cap of a `plan_*` usage type, in bytes; `None` for the others.
    ///
    /// Throttling tracks each SIM's monthly data use against this cap (R9.9); a `packet_share`
    /// SIM is measured against its group's pack instead. The regulation does not define a GB, so
    /// 1 GB is taken as 10^9 bytes.
    pub fn monthly_cap_bytes(self) -> Option<u64> {
        const GB: u64 = 1_000_000_000;
        match self {
            Self::Plan10gb => Some(10 * GB),
            Self::Plan30gb => Some(30 * GB),
            Self::Plan50gb => Some(50 * GB),
            Self::Standard | Self::Backup | Self::PacketShare => None,
        }
    }

    /// Whether a change to or from this usage type waits for the first day of the next calendar
    /// month.
    ///
    /// R9.4 (第9条第2項第2号(i)): the monthly plans and `packet_share` change only by calendar
    /// month; a change between other usage types takes effect on acceptance.
    pub fn is_next_month_effective(self) -> bool {
        matches!(
            self,
            Self::Plan10gb | Self::Plan30gb | Self::Plan50gb | Self::PacketShare
        )
    }

    /// Whether stopping a mobile access option of this usage type on a day other than a month's
    /// last day charges that month in full.
    ///
    /// R9.11 (第9条第6項): day-proration (D7) does not apply to such a stop. A start in
    /// mid-month is still prorated. The same holds for stopping a packet share group.
    pub fn is_full_month_on_stop(self) -> bool {
        matches!(
            self,
            Self::Plan10gb | Self::Plan30gb | Self::Plan50gb | Self::PacketShare
        )
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::fmt::Debug;

    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as DeError, StrDeserializer};

    use super::*;

    /// Checks every value of one catalog enum: its wire name reads back through `FromStr` and
    /// serde, `Display` writes the wire name, and wire names and labels are non-empty and
    /// distinct.
    fn check_catalog<T>(
        all: &[T],
        as_str: fn(T) -> &'static str,
        ja: fn(T) -> &'static str,
        en: fn(T) -> &'static str,
    ) where
        T: Copy
            + Debug
            + PartialEq
            + FromStr<Err = UnknownName>
            + fmt::Display
            + for<'de> Deserialize<'de>,
    {
        for &value in all {
            let wire = as_str(value);
            assert_eq!(wire.parse::<T>(), Ok(value));
            assert_eq!(value.to_string(), wire);
            let de: StrDeserializer<'_, DeError> = wire.into_deserializer();
            assert_eq!(T::deserialize(de), Ok(value));
        }
        for names in [as_str, ja, en] {
            let names: HashSet<_> = all.iter().map(|&v| names(v)).collect();
            assert_eq!(names.len(), all.len(), "{names:?}");
            assert!(names.iter().all(|n| !n.trim().is_empty()));
        }
    }

    #[test]
    fn r1_contract_kinds() {
        check_catalog(
            &ContractKind::ALL,
            ContractKind::as_str,
            ContractKind::label_ja,
            ContractKind::label_en,
        );
        assert_eq!(ContractKind::ServiceAdapter.as_str(), "service_adapter");
    }

    #[test]
    fn r2_items() {
        check_catalog(&Item::ALL, Item::as_str, Item::label_ja, Item::label_en);
        assert_eq!(
            Item::ALL.map(Item::as_str),
            ["internet_gateway", "remote_access", "pppoe_termination"]
        );
    }

    #[test]
    fn r3_device_types() {
        check_catalog(
            &DeviceType::ALL,
            DeviceType::as_str,
            DeviceType::label_ja,
            DeviceType::label_en,
        );
        assert_eq!(
            DeviceType::ALL.map(DeviceType::as_str),
            ["SEIL/X4", "SA-W2L", "SEIL CA10"]
        );
    }

    #[test]
    fn r9_1_options() {
        check_catalog(
            &OptionKind::ALL,
            OptionKind::as_str,
            OptionKind::label_ja,
            OptionKind::label_en,
        );
        assert_eq!(
            OptionKind::ALL.map(OptionKind::as_str),
            ["ultra_sendback", "mobile_access", "packet_share_group"]
        );
    }

    #[test]
    fn r9_3_usage_and_network_types() {
        check_catalog(
            &MobileUsageType::ALL,
            MobileUsageType::as_str,
            MobileUsageType::label_ja,
            MobileUsageType::label_en,
        );
        assert_eq!(
            MobileUsageType::ALL.map(MobileUsageType::as_str),
            [
                "standard",
                "backup",
                "plan_10gb",
                "plan_30gb",
                "plan_50gb",
                "packet_share"
            ]
        );
        check_catalog(
            &NetworkType::ALL,
            NetworkType::as_str,
            NetworkType::label_ja,
            NetworkType::label_en,
        );
        assert_eq!(
            NetworkType::ALL.map(NetworkType::as_str),
            ["dynamic_ip", "fixed_ip"]
        );
    }

    #[test]
    fn unknown_names_say_what_was_expected() {
        let err = "seil_x4".parse::<DeviceType>().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"unknown device type "seil_x4", expected one of: SEIL/X4, SA-W2L, SEIL CA10"#
        );
        // Wire names are case-sensitive.
        assert!("Management".parse::<ContractKind>().is_err());
        let de: StrDeserializer<'_, DeError> = "plan_20gb".into_deserializer();
        assert!(MobileUsageType::deserialize(de).is_err());
    }

    #[test]
    fn r9_4_next_month_effective_usage_types() {
        use MobileUsageType::*;
        let next_month: Vec<_> = MobileUsageType::ALL
            .into_iter()
            .filter(|t| t.is_next_month_effective())
            .collect();
        assert_eq!(next_month, [Plan10gb, Plan30gb, Plan50gb, PacketShare]);
    }

    #[test]
    fn r9_11_full_month_on_stop_usage_types() {
        use MobileUsageType::*;
        let full_month: Vec<_> = MobileUsageType::ALL
            .into_iter()
            .filter(|t| t.is_full_month_on_stop())
            .collect();
        assert_eq!(full_month, [Plan10gb, Plan30gb, Plan50gb, PacketShare]);
    }

    #[test]
    fn r9_9_monthly_caps() {
        // 1 GB = 10^9 bytes.
        assert_eq!(
            MobileUsageType::Plan10gb.monthly_cap_bytes(),
            Some(10_000_000_000)
        );
        assert_eq!(
            MobileUsageType::Plan30gb.monthly_cap_bytes(),
            Some(30_000_000_000)
        );
        assert_eq!(
            MobileUsageType::Plan50gb.monthly_cap_bytes(),
            Some(50_000_000_000)
        );
        for uncapped in [
            MobileUsageType::Standard,
            MobileUsageType::Backup,
            MobileUsageType::PacketShare,
        ] {
            assert_eq!(uncapped.monthly_cap_bytes(), None);
        }
    }
}
