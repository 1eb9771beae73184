//! Options of a service-adapter contract (R9): adding them, changing a SIM's usage type and
//! network type, and packet share groups and their packs.
//!
//! Here: adding options and founding or joining groups (R6.5–R6.7, R9.2); changing a SIM's
//! usage type, network type or its group's pack in `changes.rs` (R9.3–R9.6).

mod changes;

pub use changes::*;

use jiff::civil::Date;

use crate::Refusal;
use crate::book::{Book, ContractOption, Effect, Membership, PacketShareGroup, Timeline};
use crate::catalog::{ContractKind, DeviceType, MobileUsageType, NetworkType, OptionKind};
use crate::contract::{find_contract, refuse_date_order, require_active};
use crate::ending::not_found;

/// The smallest packet pack, in GB (R9.6).
pub const MIN_PACK_GB: u32 = 50;

/// The largest packet pack this system takes, in GB (100 TB): bounds the pack's monthly fee
/// (per-GB price × GB) at entry.
pub const MAX_PACK_GB: u32 = 100_000;

/// The packet share group a `packet_share` SIM joins (R6.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupChoice {
    /// An existing group of the same contractor.
    Join { group_id: String },
    /// A new group with this SIM as its first member (R6.6 holds from its first day).
    Create { group_id: String, pack_gb: u32 },
}

/// An option applied for.
#[derive(Debug, Clone)]
pub struct NewOption {
    pub id: String,
    pub contract_id: String,
    pub kind: OptionKind,
    pub applied_on: Date,
    pub install_address: Option<String>,
    pub usage_type: Option<MobileUsageType>,
    pub network_type: Option<NetworkType>,
    pub group: Option<GroupChoice>,
}

/// Adds an option on acceptance (R9.1).
///
/// R9.2: `ultra_sendback` needs the installation address. R6.5: `mobile_access` only on an
/// `SA-W2L`; R9.3: it has a usage type and a network type; R6.7: a `packet_share` SIM joins or
/// founds a group; R6.6: only a `packet_share` SIM belongs to one. One option of each kind per
/// contract at a time.
///
/// # Errors
/// The refused rule; `date_order`; `duplicate_option`.
pub fn add_option(book: &Book, new: &NewOption, accepted_on: Date) -> Result<Vec<Effect>, Refusal> {
    if accepted_on < new.applied_on {
        return Err(refuse_date_order("acceptance", new.applied_on, accepted_on));
    }
    let contract = find_contract(book, &new.contract_id)?;
    if contract.kind != ContractKind::ServiceAdapter {
        return Err(Refusal::new(
            "R9.1",
            "options are added to service-adapter contracts",
            "オプションはサービスアダプタの契約に付加します",
        ));
    }
    require_active(contract, accepted_on, "R9.1")?;
    if book
        .options_of(&contract.id)
        .any(|o| o.kind == new.kind && o.end_on().is_none_or(|e| e >= accepted_on))
    {
        return Err(Refusal::new(
            "duplicate_option",
            format!("the contract already has a {} option", new.kind),
            format!("この契約には既に{}があります", new.kind.label_ja()),
        ));
    }
    let mut option = ContractOption {
        id: new.id.clone(),
        contract_id: new.contract_id.clone(),
        kind: new.kind,
        applied_on: new.applied_on,
        accepted_on,
        install_address: None,
        usage_types: Timeline::default(),
        network_types: Timeline::default(),
        ending: None,
    };
    let mut effects = Vec::new();
    match new.kind {
        OptionKind::UltraSendback => {
            let address = new
                .install_address
                .as_deref()
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .ok_or_else(|| {
                    Refusal::new(
                        "R9.2",
                        "the ultra send-back option needs the installation address staff bring the replacement to",
                        "ウルトラセンドバックオプションには代替機を届ける設置場所の指定が必要です",
                    )
                })?;
            option.install_address = Some(address.to_owned());
            effects.push(Effect::OptionCreated(option));
        }
        OptionKind::MobileAccess => {
            if contract.device_type != Some(DeviceType::SaW2l) {
                return Err(Refusal::new(
                    "R6.5",
                    "the mobile access option is available only on an SA-W2L",
                    "モバイルアクセスオプションは機器種別 SA-W2L の契約に限り利用できます",
                ));
            }
            let (Some(usage), Some(network)) = (new.usage_type, new.network_type) else {
                return Err(Refusal::new(
                    "R9.3",
                    "a mobile access option needs a usage type and a network type",
                    "モバイルアクセスオプションには利用種別とネットワークタイプの指定が必要です",
                ));
            };
            option.usage_types = Timeline::starting(accepted_on, usage);
            option.network_types = Timeline::starting(accepted_on, network);
            effects.push(Effect::OptionCreated(option));
            effects.extend(join_for(
                book,
                &contract.contractor_id,
                &new.id,
                usage,
                new.group.as_ref(),
                accepted_on,
            )?);
        }
        OptionKind::PacketShareGroup => {
            return Err(Refusal::new(
                "R6.6",
                "a packet share group is created together with its first packet_share SIM",
                "パケットシェアグループはパケットシェアプランのモバイルアクセスオプションと同時に申し込みます",
            ));
        }
    }
    Ok(effects)
}

/// The group effects of a SIM that is `packet_share` from `from` on (R6.6, R6.7).
fn join_for(
    book: &Book,
    contractor_id: &str,
    option_id: &str,
    usage: MobileUsageType,
    choice: Option<&GroupChoice>,
    from: Date,
) -> Result<Vec<Effect>, Refusal> {
    match (usage, choice) {
        (MobileUsageType::PacketShare, None) => Err(Refusal::new(
            "R6.7",
            "a packet_share SIM must join a packet share group (name one or create one)",
            "パケットシェアプランにはパケットシェアグループの指定が必要です",
        )),
        (MobileUsageType::PacketShare, Some(GroupChoice::Join { group_id })) => {
            let group = book
                .group(group_id)
                .filter(|g| g.contractor_id == contractor_id)
                .ok_or_else(|| not_found("packet share group", group_id))?;
            if !group.is_active(from) {
                return Err(Refusal::new(
                    "R6.7",
                    format!("packet share group {group_id} is not in service on {from}"),
                    format!("パケットシェアグループ {group_id} は {from} に利用中ではありません"),
                ));
            }
            Ok(vec![Effect::MemberJoined {
                group_id: group_id.clone(),
                option_id: option_id.to_owned(),
                from,
            }])
        }
        (MobileUsageType::PacketShare, Some(GroupChoice::Create { group_id, pack_gb })) => {
            check_pack(*pack_gb)?;
            Ok(vec![Effect::GroupCreated(PacketShareGroup {
                id: group_id.clone(),
                contractor_id: contractor_id.to_owned(),
                applied_on: from,
                accepted_on: from,
                packs: Timeline::starting(from, *pack_gb),
                members: vec![Membership {
                    option_id: option_id.to_owned(),
                    from,
                    until: None,
                }],
                ending: None,
            })])
        }
        (_, Some(_)) => Err(Refusal::new(
            "R6.6",
            "only a packet_share SIM belongs to a packet share group",
            "パケットシェアグループに加入できるのはパケットシェアプランのみです",
        )),
        (_, None) => Ok(Vec::new()),
    }
}

fn check_pack(gb: u32) -> Result<(), Refusal> {
    if gb < MIN_PACK_GB {
        return Err(Refusal::new(
            "R9.6",
            format!("a packet pack is at least {MIN_PACK_GB} GB in whole GB, not {gb} GB"),
            format!("パケットパックは{MIN_PACK_GB}GB以上、1GB単位です"),
        ));
    }
    if gb > MAX_PACK_GB {
        return Err(Refusal::new(
            "R9.6",
            format!("pack_gb: a packet pack is at most {MAX_PACK_GB} GB, not {gb} GB"),
            format!("パケットパックは{MAX_PACK_GB}GBまでです（{gb}GB）"),
        ));
    }
    Ok(())
}

/// The invariants R6.6 and R6.7 on `date`: every `packet_share` SIM in exactly one group, every
/// active group with at least one `packet_share` member. Returns what is broken.
pub fn packet_share_violations(book: &Book, date: Date) -> Vec<Refusal> {
    let mut out = Vec::new();
    for o in book.options.iter().filter(|o| o.is_active(date)) {
        let groups = book
            .groups
            .iter()
            .filter(|g| {
                g.members
                    .iter()
                    .any(|m| m.option_id == o.id && m.covers(date))
            })
            .count();
        let share = o.usage_type(date) == Some(MobileUsageType::PacketShare);
        if share && groups != 1 {
            out.push(Refusal::new(
                "R6.7",
                format!("SIM option {} is in {groups} groups", o.id),
                "パケットシェアプランはグループに1つだけ所属します",
            ));
        }
        if !share && groups > 0 {
            out.push(Refusal::new(
                "R6.6",
                format!("option {} is in a group without packet_share", o.id),
                "パケットシェアプラン以外はグループに所属できません",
            ));
        }
    }
    for g in book.groups.iter().filter(|g| g.is_active(date)) {
        if g.members_on(date).next().is_none() {
            out.push(Refusal::new(
                "R6.6",
                format!("group {} has no member on {date}", g.id),
                "パケットシェアグループにメンバーがありません",
            ));
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::contract::tests::adapter;
    use jiff::civil::date;

    pub(crate) fn w2l_book() -> Book {
        Book {
            contracts: vec![
                adapter("a1", "k1", DeviceType::SaW2l, date(2026, 4, 1)),
                adapter("a2", "k1", DeviceType::SaW2l, date(2026, 4, 1)),
                adapter("x4", "k1", DeviceType::SeilX4, date(2026, 4, 1)),
            ],
            ..Default::default()
        }
    }

    pub(crate) fn mobile(
        id: &str,
        contract: &str,
        usage: MobileUsageType,
        group: Option<GroupChoice>,
    ) -> NewOption {
        NewOption {
            id: id.into(),
            contract_id: contract.into(),
            kind: OptionKind::MobileAccess,
            applied_on: date(2026, 4, 5),
            install_address: None,
            usage_type: Some(usage),
            network_type: Some(NetworkType::DynamicIp),
            group,
        }
    }

    #[test]
    fn r6_5_mobile_only_on_sa_w2l() {
        let book = w2l_book();
        let err = add_option(
            &book,
            &mobile("m", "x4", MobileUsageType::Standard, None),
            date(2026, 4, 6),
        )
        .unwrap_err();
        assert_eq!(err.rule, "R6.5");
        assert!(
            add_option(
                &book,
                &mobile("m", "a1", MobileUsageType::Standard, None),
                date(2026, 4, 6)
            )
            .is_ok()
        );
    }

    #[test]
    fn r9_2_send_back_needs_an_address() {
        let book = w2l_book();
        let mut new = NewOption {
            kind: OptionKind::UltraSendback,
            install_address: Some("  ".into()),
            ..mobile("s", "a1", MobileUsageType::Standard, None)
        };
        assert_eq!(
            add_option(&book, &new, date(2026, 4, 6)).unwrap_err().rule,
            "R9.2"
        );
        new.install_address = Some("大阪府大阪市北区1-1".into());
        let book = book.with(&add_option(&book, &new, date(2026, 4, 6)).unwrap());
        assert_eq!(
            add_option(&book, &new, date(2026, 4, 7)).unwrap_err().rule,
            "duplicate_option"
        );
    }

    #[test]
    fn r6_6_r6_7_packet_share_needs_a_group_and_groups_need_packet_share() {
        let book = w2l_book();
        let on = date(2026, 4, 6);
        assert_eq!(
            add_option(
                &book,
                &mobile("m1", "a1", MobileUsageType::PacketShare, None),
                on
            )
            .unwrap_err()
            .rule,
            "R6.7"
        );
        let join = Some(GroupChoice::Join {
            group_id: "g1".into(),
        });
        assert_eq!(
            add_option(
                &book,
                &mobile("m1", "a1", MobileUsageType::Plan10gb, join.clone()),
                on
            )
            .unwrap_err()
            .rule,
            "R6.6"
        );
        let small = Some(GroupChoice::Create {
            group_id: "g1".into(),
            pack_gb: 49,
        });
        assert_eq!(
            add_option(
                &book,
                &mobile("m1", "a1", MobileUsageType::PacketShare, small),
                on
            )
            .unwrap_err()
            .rule,
            "R9.6"
        );

        let create = Some(GroupChoice::Create {
            group_id: "g1".into(),
            pack_gb: 50,
        });
        let book = book.with(
            &add_option(
                &book,
                &mobile("m1", "a1", MobileUsageType::PacketShare, create),
                on,
            )
            .unwrap(),
        );
        let book = book.with(
            &add_option(
                &book,
                &mobile("m2", "a2", MobileUsageType::PacketShare, join),
                on,
            )
            .unwrap(),
        );
        let g = book.group("g1").unwrap();
        assert_eq!(g.members_on(on).count(), 2);
        assert_eq!(g.pack_gb(on), Some(50));
        assert!(packet_share_violations(&book, on).is_empty());
    }
}
