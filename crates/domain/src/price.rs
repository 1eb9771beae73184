//! The price book (R14.1, R14.3): list prices and per-contractor agreements, effective-dated.
//!
//! Every price is "the amount the operator shows the contractor separately" (別紙1), so none is
//! built in; the one exception is `fixed_ip → dynamic_ip`, 0 yen by the regulation itself
//! (R9.5), which therefore has no key and cannot be priced.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Refusal;
use crate::catalog::{DeviceType, Item, MobileUsageType, NetworkType};
use crate::money::Yen;

/// The largest price the book takes (¥100,000,000, tax excluded): far above anything 別紙1
/// prices, and low enough that no invoice of any size can overflow its arithmetic.
pub const MAX_PRICE: Yen = Yen(100_000_000);

/// Checks a price as typed, `field` naming where (R14.1): whole yen from 0 to [`MAX_PRICE`].
///
/// # Errors
/// `R14.1` naming the field and the limit.
pub fn check_amount(field: &str, amount: i64) -> Result<Yen, Refusal> {
    if (0..=MAX_PRICE.0).contains(&amount) {
        return Ok(Yen(amount));
    }
    Err(Refusal::new(
        "R14.1",
        format!(
            "{field}: a price is whole yen from 0 to {} (tax excluded), not {amount}",
            MAX_PRICE.0
        ),
        format!(
            "{field}: 料金は0円以上{}円以下の整数（税抜）です（{amount}）",
            MAX_PRICE.0
        ),
    ))
}

/// One priced thing of 別紙1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PriceKey {
    ManagementInitial,
    ManagementMonthly,
    AdapterInitial(Item, DeviceType),
    AdapterMonthly(Item, DeviceType),
    SendbackInitial,
    SendbackMonthly,
    MobileInitial(NetworkType),
    /// By network type, optionally refined per usage type (a refined price wins).
    MobileMonthly(NetworkType, Option<MobileUsageType>),
    GroupInitial,
    /// A packet share group's monthly fee is base + per GB × pack (R9.6).
    GroupMonthlyBase,
    GroupMonthlyPerGb,
    /// 別紙1 3(1), R8.1.
    ItemChangeFee,
    /// 別紙1 3(2)(i), R9.5.
    NetworkTypeToFixedFee,
    /// 別紙1 3(3), R11.2.
    ContractorCausedFailureFee,
    /// 別紙1 3(4), R12.2: per device type.
    LossFee(DeviceType),
}

impl PriceKey {
    /// Every key, in a stable order (for listings, exports and completeness checks).
    pub fn all() -> Vec<PriceKey> {
        let mut keys = vec![PriceKey::ManagementInitial, PriceKey::ManagementMonthly];
        for item in Item::ALL {
            for device in DeviceType::ALL {
                keys.push(PriceKey::AdapterInitial(item, device));
                keys.push(PriceKey::AdapterMonthly(item, device));
            }
        }
        keys.extend([PriceKey::SendbackInitial, PriceKey::SendbackMonthly]);
        for network in NetworkType::ALL {
            keys.push(PriceKey::MobileInitial(network));
            keys.push(PriceKey::MobileMonthly(network, None));
            for usage in MobileUsageType::ALL {
                keys.push(PriceKey::MobileMonthly(network, Some(usage)));
            }
        }
        keys.extend([
            PriceKey::GroupInitial,
            PriceKey::GroupMonthlyBase,
            PriceKey::GroupMonthlyPerGb,
            PriceKey::ItemChangeFee,
            PriceKey::NetworkTypeToFixedFee,
            PriceKey::ContractorCausedFailureFee,
        ]);
        keys.extend(DeviceType::ALL.map(PriceKey::LossFee));
        keys
    }

    /// What the key prices, in Japanese, as 別紙1 names it (for invoices).
    pub fn label_ja(self) -> String {
        match self {
            PriceKey::ManagementInitial => "マネージメント 初期費用".into(),
            PriceKey::ManagementMonthly => "マネージメント 月額費用".into(),
            PriceKey::AdapterInitial(i, d) => format!(
                "サービスアダプタ 初期費用（{} / {}）",
                i.label_ja(),
                d.label_ja()
            ),
            PriceKey::AdapterMonthly(i, d) => format!(
                "サービスアダプタ 月額費用（{} / {}）",
                i.label_ja(),
                d.label_ja()
            ),
            PriceKey::SendbackInitial => "ウルトラセンドバックオプション 初期費用".into(),
            PriceKey::SendbackMonthly => "ウルトラセンドバックオプション 月額費用".into(),
            PriceKey::MobileInitial(n) => {
                format!("モバイルアクセスオプション 初期費用（{}）", n.label_ja())
            }
            PriceKey::MobileMonthly(n, None) => {
                format!("モバイルアクセスオプション 月額費用（{}）", n.label_ja())
            }
            PriceKey::MobileMonthly(n, Some(u)) => {
                format!(
                    "モバイルアクセスオプション 月額費用（{} / {}）",
                    n.label_ja(),
                    u.label_ja()
                )
            }
            PriceKey::GroupInitial => "パケットシェアグループオプション 初期費用".into(),
            PriceKey::GroupMonthlyBase => "パケットシェアグループオプション 月額費用".into(),
            PriceKey::GroupMonthlyPerGb => {
                "パケットシェアグループオプション パケットパック（1GBあたり）".into()
            }
            PriceKey::ItemChangeFee => "品目変更 一時費用".into(),
            PriceKey::NetworkTypeToFixedFee => {
                "ネットワークタイプ変更（動的→固定） 一時費用".into()
            }
            PriceKey::ContractorCausedFailureFee => "サービスアダプタの故障等 一時費用".into(),
            PriceKey::LossFee(d) => format!("亡失負担金（{}）", d.label_ja()),
        }
    }
}

impl PriceKey {
    /// What the key prices, in English, for the console's English pages.
    pub fn label_en(self) -> String {
        match self {
            PriceKey::ManagementInitial => "Management, initial fee".into(),
            PriceKey::ManagementMonthly => "Management, monthly fee".into(),
            PriceKey::AdapterInitial(i, d) => format!(
                "Service adapter, initial fee ({} / {})",
                i.label_en(),
                d.label_en()
            ),
            PriceKey::AdapterMonthly(i, d) => format!(
                "Service adapter, monthly fee ({} / {})",
                i.label_en(),
                d.label_en()
            ),
            PriceKey::SendbackInitial => "Ultra send-back option, initial fee".into(),
            PriceKey::SendbackMonthly => "Ultra send-back option, monthly fee".into(),
            PriceKey::MobileInitial(n) => {
                format!("Mobile access option, initial fee ({})", n.label_en())
            }
            PriceKey::MobileMonthly(n, None) => {
                format!("Mobile access option, monthly fee ({})", n.label_en())
            }
            PriceKey::MobileMonthly(n, Some(u)) => format!(
                "Mobile access option, monthly fee ({} / {})",
                n.label_en(),
                u.label_en()
            ),
            PriceKey::GroupInitial => "Packet share group option, initial fee".into(),
            PriceKey::GroupMonthlyBase => "Packet share group option, monthly fee".into(),
            PriceKey::GroupMonthlyPerGb => "Packet share group option, packet pack (per GB)".into(),
            PriceKey::ItemChangeFee => "Item change, one-time fee".into(),
            PriceKey::NetworkTypeToFixedFee => {
                "Network type change (dynamic to fixed), one-time fee".into()
            }
            PriceKey::ContractorCausedFailureFee => {
                "Service adapter failure etc., one-time fee".into()
            }
            PriceKey::LossFee(d) => format!("Loss fee ({})", d.label_en()),
        }
    }
}

/// Dotted wire names: `management.monthly`, `adapter.monthly.remote_access.SEIL/X4`,
/// `mobile_access.monthly.fixed_ip.plan_30gb`, `fee.loss.SA-W2L`, …
impl fmt::Display for PriceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PriceKey::ManagementInitial => f.write_str("management.initial"),
            PriceKey::ManagementMonthly => f.write_str("management.monthly"),
            PriceKey::AdapterInitial(i, d) => write!(f, "adapter.initial.{i}.{d}"),
            PriceKey::AdapterMonthly(i, d) => write!(f, "adapter.monthly.{i}.{d}"),
            PriceKey::SendbackInitial => f.write_str("ultra_sendback.initial"),
            PriceKey::SendbackMonthly => f.write_str("ultra_sendback.monthly"),
            PriceKey::MobileInitial(n) => write!(f, "mobile_access.initial.{n}"),
            PriceKey::MobileMonthly(n, None) => write!(f, "mobile_access.monthly.{n}"),
            PriceKey::MobileMonthly(n, Some(u)) => write!(f, "mobile_access.monthly.{n}.{u}"),
            PriceKey::GroupInitial => f.write_str("packet_share_group.initial"),
            PriceKey::GroupMonthlyBase => f.write_str("packet_share_group.monthly.base"),
            PriceKey::GroupMonthlyPerGb => f.write_str("packet_share_group.monthly.per_gb"),
            PriceKey::ItemChangeFee => f.write_str("fee.item_change"),
            PriceKey::NetworkTypeToFixedFee => f.write_str("fee.network_type_to_fixed"),
            PriceKey::ContractorCausedFailureFee => f.write_str("fee.contractor_caused_failure"),
            PriceKey::LossFee(d) => write!(f, "fee.loss.{d}"),
        }
    }
}

/// A price key that names nothing in 別紙1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown price key {0:?} (e.g. management.monthly, adapter.monthly.internet_gateway.SEIL/X4, fee.loss.SA-W2L; fixed_ip → dynamic_ip is 0 yen by rule R9.5 and has no price)"
)]
pub struct UnknownPriceKey(pub String);

impl UnknownPriceKey {
    /// The error in Japanese, for the console's Japanese pages.
    pub fn message_ja(&self) -> String {
        format!(
            "料金キー「{}」はありません（例: management.monthly、\
             adapter.monthly.internet_gateway.SEIL/X4、fee.loss.SA-W2L。\
             固定IPアドレスから動的IPアドレスへの変更は R9.5 により0円のため、料金キーはありません）",
            self.0
        )
    }
}

impl FromStr for PriceKey {
    type Err = UnknownPriceKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PriceKey::all()
            .into_iter()
            .find(|k| k.to_string() == s)
            .ok_or_else(|| UnknownPriceKey(s.to_owned()))
    }
}

impl Serialize for PriceKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PriceKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// One price: a list price (no contractor) or a contractor's agreement, from a day on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    pub key: PriceKey,
    pub contractor_id: Option<String>,
    pub effective_from: Date,
    pub amount: Yen,
}

/// A price the book lacks for a day something is billed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error(
    "no price {key} in force on {on} (list or agreement of contractor {contractor_id}) — R14.1"
)]
pub struct MissingPrice {
    pub key: PriceKey,
    pub contractor_id: String,
    pub on: Date,
}

impl MissingPrice {
    /// The gap in Japanese, naming the key as 別紙1 does.
    pub fn message_ja(&self) -> String {
        format!(
            "{on} に適用される「{label}」（{key}）の料金がありません（標準料金か、契約者 {c} \
             向けの料金が必要です）— R14.1",
            on = self.on,
            label = self.key.label_ja(),
            key = self.key,
            c = self.contractor_id,
        )
    }
}

/// Whose price (a contractor's agreement, or the list) for which key.
type Owner = (Option<String>, PriceKey);

/// All prices, indexed for lookups by key and day.
#[derive(Debug, Clone, Default)]
pub struct PriceBook {
    entries: HashMap<Owner, Vec<(Date, Yen)>>,
}

impl PriceBook {
    pub fn new(prices: impl IntoIterator<Item = Price>) -> Self {
        let mut entries: HashMap<Owner, Vec<(Date, Yen)>> = HashMap::new();
        for p in prices {
            entries
                .entry((p.contractor_id, p.key))
                .or_default()
                .push((p.effective_from, p.amount));
        }
        for list in entries.values_mut() {
            list.sort_by_key(|(d, _)| *d);
        }
        PriceBook { entries }
    }

    fn exact(&self, contractor: Option<&str>, key: PriceKey, on: Date) -> Option<Yen> {
        self.entries
            .get(&(contractor.map(str::to_owned), key))?
            .iter()
            .rev()
            .find(|(from, _)| *from <= on)
            .map(|(_, y)| *y)
    }

    /// The price of `key` for `contractor` on `on`: its agreement if it has one in force
    /// (R14.1), else the list price; a mobile monthly price refined by usage type wins over the
    /// network type's.
    pub fn price(&self, contractor: &str, key: PriceKey, on: Date) -> Result<Yen, MissingPrice> {
        let candidates: &[PriceKey] = &match key {
            PriceKey::MobileMonthly(n, Some(u)) => {
                vec![
                    PriceKey::MobileMonthly(n, Some(u)),
                    PriceKey::MobileMonthly(n, None),
                ]
            }
            k => vec![k],
        };
        candidates
            .iter()
            .find_map(|k| {
                self.exact(Some(contractor), *k, on)
                    .or_else(|| self.exact(None, *k, on))
            })
            .ok_or_else(|| MissingPrice {
                key,
                contractor_id: contractor.to_owned(),
                on,
            })
    }

    /// Days in `from..=to` on which some price the contractor may pay changes: billing splits
    /// a month's fee there (D7 per price).
    pub fn change_days(&self, contractor: &str, from: Date, to: Date) -> Vec<Date> {
        let mut days: Vec<Date> = self
            .entries
            .iter()
            .filter(|((c, _), _)| c.as_deref().is_none_or(|c| c == contractor))
            .flat_map(|(_, list)| list.iter().map(|(d, _)| *d))
            .filter(|d| *d > from && *d <= to)
            .collect();
        days.sort();
        days.dedup();
        days
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn r14_1_prices_are_bounded_where_they_are_typed() {
        assert_eq!(check_amount("amount", 0), Ok(Yen(0)));
        assert_eq!(check_amount("amount", 100_000_000), Ok(MAX_PRICE));
        for bad in [-1, 100_000_001, i64::MAX, i64::MIN] {
            let r = check_amount("prices[0].amount", bad).unwrap_err();
            assert_eq!(r.rule, "R14.1");
            assert!(
                r.message_en.contains("prices[0].amount") && r.message_en.contains("100000000")
            );
        }
    }

    #[test]
    fn keys_read_back_and_are_distinct() {
        let all = PriceKey::all();
        for k in &all {
            assert_eq!(k.to_string().parse::<PriceKey>().unwrap(), *k);
        }
        let mut names: Vec<String> = all.iter().map(ToString::to_string).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len());
        assert!(
            "fee.network_type_to_dynamic".parse::<PriceKey>().is_err(),
            "R9.5: 0 yen by rule"
        );
    }

    #[test]
    fn r14_1_an_agreement_overrides_the_list_from_its_day() {
        let key = PriceKey::AdapterMonthly(Item::RemoteAccess, DeviceType::SaW2l);
        let book = PriceBook::new([
            Price {
                key,
                contractor_id: None,
                effective_from: date(2026, 1, 1),
                amount: Yen(5000),
            },
            Price {
                key,
                contractor_id: Some("k1".into()),
                effective_from: date(2026, 5, 1),
                amount: Yen(4500),
            },
        ]);
        assert_eq!(book.price("k1", key, date(2026, 4, 30)), Ok(Yen(5000)));
        assert_eq!(book.price("k1", key, date(2026, 5, 1)), Ok(Yen(4500)));
        assert_eq!(book.price("k2", key, date(2026, 5, 1)), Ok(Yen(5000)));
        let missing = book.price("k1", key, date(2025, 12, 31)).unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("adapter.monthly.remote_access.SA-W2L")
        );
        assert_eq!(
            book.change_days("k1", date(2026, 5, 1), date(2026, 5, 31)),
            Vec::<Date>::new()
        );
        assert_eq!(
            book.change_days("k1", date(2026, 4, 1), date(2026, 5, 31)),
            vec![date(2026, 5, 1)]
        );
    }

    #[test]
    fn a_usage_type_price_refines_the_network_type_price() {
        let base = PriceKey::MobileMonthly(NetworkType::FixedIp, None);
        let plan = PriceKey::MobileMonthly(NetworkType::FixedIp, Some(MobileUsageType::Plan30gb));
        let book = PriceBook::new([
            Price {
                key: base,
                contractor_id: None,
                effective_from: date(2026, 1, 1),
                amount: Yen(1200),
            },
            Price {
                key: plan,
                contractor_id: None,
                effective_from: date(2026, 1, 1),
                amount: Yen(3800),
            },
        ]);
        assert_eq!(book.price("k", plan, date(2026, 2, 1)), Ok(Yen(3800)));
        let standard =
            PriceKey::MobileMonthly(NetworkType::FixedIp, Some(MobileUsageType::Standard));
        assert_eq!(book.price("k", standard, date(2026, 2, 1)), Ok(Yen(1200)));
    }
}
