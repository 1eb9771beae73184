//! Changing a mobile access option: its usage type (R9.4), its network type (R9.5), and the
//! pack of its packet share group (R9.6).

use jiff::civil::Date;

use super::{GroupChoice, check_pack, join_for};
use crate::Refusal;
use crate::book::{Book, ChargeEvent, ChargeKind, ContractOption, Effect};
use crate::calendar::{first_of_next_month, is_last_day_of_month};
use crate::catalog::{MobileUsageType, NetworkType, OptionKind};
use crate::contract::{find_contract, refuse_date_order};
use crate::ending::{Cascade, not_found};

fn mobile_option<'a>(
    book: &'a Book,
    option_id: &str,
    on: Date,
) -> Result<&'a ContractOption, Refusal> {
    let option = book
        .option(option_id)
        .ok_or_else(|| not_found("option", option_id))?;
    if option.kind != OptionKind::MobileAccess {
        return Err(Refusal::new(
            "R9.3",
            "usage and network types belong to a mobile access option",
            "利用種別とネットワークタイプはモバイルアクセスオプションのものです",
        ));
    }
    if !option.is_active(on) {
        return Err(Refusal::new(
            "R9.3",
            format!(
                "the mobile access option of contract {} is not in service on {on}",
                book.contract_name(&option.contract_id)
            ),
            format!(
                "契約 {} のモバイルアクセスオプションは {on} に利用中ではありません",
                book.contract_name(&option.contract_id)
            ),
        ));
    }
    Ok(option)
}

/// Changes a SIM's usage type (R9.4).
///
/// The request may not be made on the last day of a calendar month. A change to or from a
/// monthly plan or `packet_share` takes effect on the first day of the month after acceptance;
/// other changes on acceptance. Moving to `packet_share` joins or founds a group (R6.7); moving
/// away leaves the group the day before, and the group stops that day if the SIM was its last
/// member (R9.7, read as the closure of R6.6).
///
/// # Errors
/// `R9.4`; `change_already_scheduled`; `no_change`; R6.6/R6.7 group refusals; `R13.3` when the
/// option ends before the change would take effect.
pub fn change_usage_type(
    book: &Book,
    option_id: &str,
    usage: MobileUsageType,
    group: Option<&GroupChoice>,
    requested_on: Date,
    accepted_on: Date,
) -> Result<Vec<Effect>, Refusal> {
    if is_last_day_of_month(requested_on) {
        return Err(Refusal::new(
            "R9.4",
            format!(
                "a usage-type change cannot be requested on the last day of a month ({requested_on})"
            ),
            format!("暦月末日（{requested_on}）に利用種別の変更を申し込むことはできません"),
        ));
    }
    if accepted_on < requested_on {
        return Err(refuse_date_order("acceptance", requested_on, accepted_on));
    }
    let option = mobile_option(book, option_id, accepted_on)?;
    if let Some((on, pending)) = option.usage_types.next_after(accepted_on) {
        return Err(Refusal::new(
            "change_already_scheduled",
            format!("a change to {pending} is already scheduled for {on}"),
            format!(
                "{on} からの{}への変更が既に予定されています",
                pending.label_ja()
            ),
        ));
    }
    let current = option.usage_type(accepted_on).unwrap_or(usage);
    if current == usage {
        return Err(Refusal::new(
            "no_change",
            format!("the usage type is already {usage}"),
            format!("利用種別は既に{}です", usage.label_ja()),
        ));
    }
    let from = if current.is_next_month_effective() || usage.is_next_month_effective() {
        first_of_next_month(accepted_on)
            .map_err(|_| not_found("month after", &accepted_on.to_string()))?
    } else {
        accepted_on
    };
    if let Some(end) = option.end_on().filter(|e| *e < from) {
        return Err(Refusal::new(
            "R13.3",
            format!("the option ends on {end}, before the change would take effect on {from}"),
            format!("オプションは変更の効力発生日 {from} より前の {end} に終了します"),
        ));
    }
    let contract = find_contract(book, &option.contract_id)?;
    let mut cascade = Cascade::new(book);
    let mut effects = vec![Effect::UsageTypeChanged {
        option_id: option_id.to_owned(),
        usage_type: usage,
        from,
    }];
    if current == MobileUsageType::PacketShare {
        let cause = crate::book::Ending {
            on: from.yesterday().unwrap_or(from),
            reason: crate::book::EndReason::Notice,
            notice_arrived_on: Some(requested_on),
            requested_on: None,
            exempt_from_early_termination: false,
        };
        cascade.leave_group(option_id, cause.on, &cause);
        effects.append(&mut cascade.effects);
    }
    effects.extend(join_for(
        book,
        &contract.contractor_id,
        option_id,
        usage,
        group,
        from,
    )?);
    Ok(effects)
}

/// Changes a SIM's network type on acceptance (R9.5).
///
/// `dynamic_ip → fixed_ip` carries a one-time fee (priced by the price book);
/// `fixed_ip → dynamic_ip` costs nothing by rule, so no charge is recorded.
///
/// # Errors
/// `no_change`; `R9.3` for a non-mobile or inactive option.
pub fn change_network_type(
    book: &Book,
    option_id: &str,
    network: NetworkType,
    accepted_on: Date,
    charge_id: &str,
) -> Result<Vec<Effect>, Refusal> {
    let option = mobile_option(book, option_id, accepted_on)?;
    if option.network_type(accepted_on) == Some(network) {
        return Err(Refusal::new(
            "no_change",
            format!("the network type is already {network}"),
            format!("ネットワークタイプは既に{}です", network.label_ja()),
        ));
    }
    let mut effects = vec![Effect::NetworkTypeChanged {
        option_id: option_id.to_owned(),
        network_type: network,
        from: accepted_on,
    }];
    if network == NetworkType::FixedIp {
        effects.push(Effect::Charge(ChargeEvent {
            id: charge_id.to_owned(),
            contract_id: option.contract_id.clone(),
            kind: ChargeKind::NetworkTypeToFixed,
            occurred_on: accepted_on,
            device_type: None,
            note: Some(option_id.to_owned()),
        }));
    }
    Ok(effects)
}

/// Changes a group's packet pack from the first day of the next month (R9.6).
///
/// # Errors
/// `R9.6` below 50 GB or for a group not in service; `no_change`.
pub fn change_pack(
    book: &Book,
    group_id: &str,
    gb: u32,
    accepted_on: Date,
) -> Result<Vec<Effect>, Refusal> {
    check_pack(gb)?;
    let group = book
        .group(group_id)
        .ok_or_else(|| not_found("packet share group", group_id))?;
    let from = first_of_next_month(accepted_on)
        .map_err(|_| not_found("month after", &accepted_on.to_string()))?;
    if !group.is_active(accepted_on) || group.end_on().is_some_and(|e| e < from) {
        return Err(Refusal::new(
            "R9.6",
            format!("packet share group {group_id} is not in service from {from}"),
            format!("パケットシェアグループ {group_id} は {from} 以降利用されません"),
        ));
    }
    if group.pack_gb(from) == Some(gb) {
        return Err(Refusal::new(
            "no_change",
            format!("the pack is already {gb} GB from {from}"),
            format!("パケットパックは既に{gb}GBです"),
        ));
    }
    Ok(vec![Effect::PackChanged {
        group_id: group_id.to_owned(),
        gb,
        from,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ending::stop_option;
    use crate::option::tests::{mobile, w2l_book};
    use crate::option::*;
    use jiff::civil::date;

    #[test]
    fn r9_4_no_request_on_a_months_last_day_and_plans_wait_for_the_next_month() {
        let book = w2l_book();
        let book = book.with(
            &add_option(
                &book,
                &mobile("m1", "a1", MobileUsageType::Standard, None),
                date(2026, 4, 6),
            )
            .unwrap(),
        );
        // 2026-04-30 is April's last day.
        let err = change_usage_type(
            &book,
            "m1",
            MobileUsageType::Plan30gb,
            None,
            date(2026, 4, 30),
            date(2026, 4, 30),
        )
        .unwrap_err();
        assert_eq!(err.rule, "R9.4");
        // standard → backup: on acceptance.
        let e = change_usage_type(
            &book,
            "m1",
            MobileUsageType::Backup,
            None,
            date(2026, 4, 20),
            date(2026, 4, 21),
        )
        .unwrap();
        assert_eq!(
            book.with(&e)
                .option("m1")
                .unwrap()
                .usage_type(date(2026, 4, 21)),
            Some(MobileUsageType::Backup)
        );
        // standard → plan_30gb accepted 2026-04-21: from 2026-05-01.
        let e = change_usage_type(
            &book,
            "m1",
            MobileUsageType::Plan30gb,
            None,
            date(2026, 4, 20),
            date(2026, 4, 21),
        )
        .unwrap();
        let after = book.with(&e);
        let o = after.option("m1").unwrap();
        assert_eq!(
            o.usage_type(date(2026, 4, 30)),
            Some(MobileUsageType::Standard)
        );
        assert_eq!(
            o.usage_type(date(2026, 5, 1)),
            Some(MobileUsageType::Plan30gb)
        );
        let again = change_usage_type(
            &after,
            "m1",
            MobileUsageType::Plan10gb,
            None,
            date(2026, 4, 22),
            date(2026, 4, 22),
        )
        .unwrap_err();
        assert_eq!(again.rule, "change_already_scheduled");
    }

    #[test]
    fn r9_4_leaving_packet_share_leaves_the_group_and_the_last_one_stops_it() {
        let book = w2l_book();
        let on = date(2026, 4, 6);
        let create = Some(GroupChoice::Create {
            group_id: "g1".into(),
            pack_gb: 60,
        });
        let book = book.with(
            &add_option(
                &book,
                &mobile("m1", "a1", MobileUsageType::PacketShare, create),
                on,
            )
            .unwrap(),
        );
        let e = change_usage_type(
            &book,
            "m1",
            MobileUsageType::Plan50gb,
            None,
            date(2026, 4, 10),
            date(2026, 4, 10),
        )
        .unwrap();
        let after = book.with(&e);
        let g = after.group("g1").unwrap();
        // From plan: effective 2026-05-01, so the last packet_share day (and the group's) is 04-30.
        assert_eq!(g.end_on(), Some(date(2026, 4, 30)));
        assert_eq!(g.members[0].until, Some(date(2026, 4, 30)));
        assert!(packet_share_violations(&after, date(2026, 4, 30)).is_empty());
        assert!(packet_share_violations(&after, date(2026, 5, 1)).is_empty());
    }

    #[test]
    fn r9_5_network_type_fee_only_towards_fixed() {
        let book = w2l_book();
        let book = book.with(
            &add_option(
                &book,
                &mobile("m1", "a1", MobileUsageType::Standard, None),
                date(2026, 4, 6),
            )
            .unwrap(),
        );
        let e = change_network_type(&book, "m1", NetworkType::FixedIp, date(2026, 5, 10), "ch1")
            .unwrap();
        assert!(matches!(
            &e[1],
            Effect::Charge(ChargeEvent {
                kind: ChargeKind::NetworkTypeToFixed,
                ..
            })
        ));
        let book = book.with(&e);
        let back = change_network_type(
            &book,
            "m1",
            NetworkType::DynamicIp,
            date(2026, 6, 10),
            "ch2",
        )
        .unwrap();
        assert_eq!(back.len(), 1, "fixed → dynamic is free by rule: no charge");
        assert_eq!(
            change_network_type(&book, "m1", NetworkType::FixedIp, date(2026, 6, 10), "ch3")
                .unwrap_err()
                .rule,
            "no_change"
        );
    }

    #[test]
    fn r9_6_pack_changes_from_next_month_in_whole_gb_of_at_least_50() {
        let book = w2l_book();
        let create = Some(GroupChoice::Create {
            group_id: "g1".into(),
            pack_gb: 50,
        });
        let book = book.with(
            &add_option(
                &book,
                &mobile("m1", "a1", MobileUsageType::PacketShare, create),
                date(2026, 4, 6),
            )
            .unwrap(),
        );
        assert_eq!(
            change_pack(&book, "g1", 49, date(2026, 4, 15))
                .unwrap_err()
                .rule,
            "R9.6"
        );
        let after = book.with(&change_pack(&book, "g1", 120, date(2026, 4, 15)).unwrap());
        let g = after.group("g1").unwrap();
        assert_eq!(g.pack_gb(date(2026, 4, 30)), Some(50));
        assert_eq!(g.pack_gb(date(2026, 5, 1)), Some(120));
        // The member's stop ends the group too (R9.7): the stop of m1, arrival 04-20 + 30 = 05-20.
        let stopped = after.with(&stop_option(&after, "m1", date(2026, 4, 20), None).unwrap());
        assert_eq!(
            stopped.group("g1").unwrap().end_on(),
            Some(date(2026, 5, 20))
        );
    }
}
