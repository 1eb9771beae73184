//! Devices in the contractor's care: serial notification (R7.1), return after the end (R10.3),
//! failure (R11), loss (R12), and whether a device may receive its configuration.

use jiff::ToSpan;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::Refusal;
use crate::book::{Book, ChargeEvent, ChargeKind, Contract, Device, DeviceState, Effect};
use crate::catalog::{ContractKind, DeviceType, OptionKind};
use crate::contract::{find_contract, require_active};
use crate::ending::not_found;

/// Records the serial number the contractor notified for a service adapter (R7.1).
///
/// A device that was lost or found stays out of service (R12.3); one serving another contract
/// cannot serve this one; its model must be the contract's device type (R3.1).
///
/// A notified serial is corrected by notifying another one, as long as the contract never had
/// another device and no device fetched its configuration with the notified serial
/// (`current_fetched`): until then nothing was delivered, so the first notification is
/// withdrawn rather than ended. After that, only a failure or loss report replaces a device
/// (R11.1, R12).
///
/// # Errors
/// `R7.1`, `R12.3`, `R3.1`, `device_in_use`, `serial_already_notified`.
pub fn notify_serial(
    book: &Book,
    known: Option<&Device>,
    contract_id: &str,
    serial: &str,
    notified_on: Date,
    current_fetched: bool,
) -> Result<Vec<Effect>, Refusal> {
    let contract = find_contract(book, contract_id)?;
    if contract.kind != ContractKind::ServiceAdapter {
        return Err(Refusal::new(
            "R7.1",
            "serial numbers are notified for service-adapter contracts",
            "シリアルナンバーの通知はサービスアダプタの契約について行います",
        ));
    }
    require_active(contract, notified_on, "R7.1")?;
    let mut effects = Vec::new();
    if let Some(current) = book.device_of(contract_id, notified_on) {
        let first_device = book
            .devices
            .iter()
            .flat_map(|d| d.assignments.iter().map(move |a| (d, a)))
            .all(|(d, a)| a.contract_id != contract_id || d.serial == current.serial);
        if current_fetched || !first_device || current.serial.eq_ignore_ascii_case(serial.trim()) {
            return Err(Refusal::new(
                "serial_already_notified",
                format!(
                    "serial {} already serves this contract and has fetched its configuration; \
                     report a failure or loss to replace it",
                    current.serial
                ),
                format!(
                    "この契約には既にシリアルナンバー {} が通知され、設定が取得されています。\
                     交換には故障または亡失の届出が必要です",
                    current.serial
                ),
            ));
        }
        effects.push(Effect::NotificationWithdrawn {
            serial: current.serial.clone(),
            contract_id: contract_id.to_owned(),
        });
    }
    let device_type = contract
        .device_type
        .ok_or_else(|| not_found("device type", contract_id))?;
    effects.extend(assign(known, contract, serial, notified_on, device_type)?);
    Ok(effects)
}

fn assign(
    known: Option<&Device>,
    contract: &Contract,
    serial: &str,
    from: Date,
    device_type: crate::catalog::DeviceType,
) -> Result<Vec<Effect>, Refusal> {
    let serial = serial.trim();
    if serial.is_empty() || serial.len() > 64 {
        return Err(Refusal::new(
            "R7.1",
            "a serial number is 1 to 64 characters",
            "シリアルナンバーは1〜64文字です",
        ));
    }
    if let Some(device) = known {
        match device.state_on(from) {
            DeviceState::Lost | DeviceState::Found => {
                return Err(Refusal::new(
                    "R12.3",
                    format!("device {serial} was lost and may never be put back in service"),
                    format!("亡失した機器 {serial} は再びサービスに利用できません"),
                ));
            }
            DeviceState::InService => {
                return Err(Refusal::new(
                    "device_in_use",
                    format!("device {serial} serves another contract"),
                    format!("機器 {serial} は他の契約で利用中です"),
                ));
            }
            DeviceState::Stock | DeviceState::AwaitingReturn | DeviceState::Returned => {}
        }
        check_model(serial, device.device_type, device_type)?;
    }
    Ok(vec![Effect::DeviceAssigned {
        serial: serial.to_owned(),
        device_type,
        contract_id: contract.id.clone(),
        from,
    }])
}

/// Why a device is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplacementCause {
    /// R11: the contractor reported a failure; the failed unit is to be returned.
    Failure { contractor_caused: bool },
    /// R12: the contractor reported the device lost.
    Loss,
}

/// How the replacement reaches the contractor (R11.1).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Staff bring it to the registered address: the contract has `ultra_sendback` (R9.2).
    OnSite,
    /// By the operator's chosen means.
    Shipped,
}

/// The effects of replacing a contract's device, and how the replacement travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    pub effects: Vec<Effect>,
    pub delivery: Delivery,
}

/// Takes a reported-lost device out of service from the day the loss is reported (R12).
///
/// A lost device is in unknown hands, so it loses its configuration when the report is made,
/// not when the operator accepts it or ships a replacement; the report cannot be undone by
/// finding the device (R12.3). Nothing happens when the device is already lost.
///
/// # Errors
/// `R12.1` when the contract has no device on `reported_on`.
pub fn report_loss(
    book: &Book,
    contract_id: &str,
    reported_on: Date,
) -> Result<Vec<Effect>, Refusal> {
    let device = book.device_of(contract_id, reported_on).ok_or_else(|| {
        Refusal::new(
            "R12.1",
            format!("contract {contract_id} has no device on {reported_on}"),
            format!("契約 {contract_id} には {reported_on} に機器がありません"),
        )
    })?;
    Ok(if device.lost_on.is_some() {
        Vec::new()
    } else {
        vec![Effect::DeviceLost {
            serial: device.serial.clone(),
            on: reported_on,
        }]
    })
}

/// Accepts a loss report with no replacement (yet): the device is lost from the day it was
/// reported (R12.3) and its loss fee is charged (R12.2). A replacement may be notified later
/// like any serial (R7.1).
///
/// # Errors
/// `R12.1` when the contract has no device on `reported_on`.
pub fn accept_loss(
    book: &Book,
    contract_id: &str,
    reported_on: Date,
    charge_id: &str,
) -> Result<Vec<Effect>, Refusal> {
    let mut effects = report_loss(book, contract_id, reported_on)?;
    let device = book
        .device_of(contract_id, reported_on)
        .expect("report_loss found it");
    effects.push(Effect::Charge(ChargeEvent {
        id: charge_id.to_owned(),
        contract_id: contract_id.to_owned(),
        kind: ChargeKind::Loss,
        occurred_on: reported_on,
        device_type: Some(device.device_type),
        note: Some(device.serial.clone()),
    }));
    Ok(effects)
}

/// Replaces the device of a contract after a failure (R11) or loss (R12) report.
///
/// The replacement takes over the contract from `replaced_on` and receives the same
/// configuration (R11.1). A failed unit is released and tracked until returned; a contractor-
/// caused failure is charged (R11.2). A lost unit is lost from the day it was reported and its
/// loss fee is charged (R12.2).
///
/// # Errors
/// `R11.1` when the contract has no device or is not in service; device refusals of
/// [`notify_serial`] for the replacement.
#[allow(clippy::too_many_arguments)]
pub fn replace_device(
    book: &Book,
    known_replacement: Option<&Device>,
    contract_id: &str,
    cause: ReplacementCause,
    reported_on: Date,
    replacement_serial: &str,
    replaced_on: Date,
    charge_id: &str,
) -> Result<Replacement, Refusal> {
    let contract = find_contract(book, contract_id)?;
    let rule = if cause == ReplacementCause::Loss {
        "R12.1"
    } else {
        "R11.1"
    };
    require_active(contract, replaced_on, rule)?;
    let old = book.device_of(contract_id, reported_on).ok_or_else(|| {
        Refusal::new(
            rule,
            format!("contract {contract_id} has no device on {reported_on}"),
            format!("契約 {contract_id} には {reported_on} に機器がありません"),
        )
    })?;
    if replaced_on < reported_on {
        return Err(crate::contract::refuse_date_order(
            "replacement",
            reported_on,
            replaced_on,
        ));
    }
    let device_type = old.device_type;
    let mut effects = Vec::new();
    let charge = |kind| {
        Effect::Charge(ChargeEvent {
            id: charge_id.to_owned(),
            contract_id: contract_id.to_owned(),
            kind,
            occurred_on: reported_on,
            device_type: Some(device_type),
            note: Some(old.serial.clone()),
        })
    };
    match cause {
        ReplacementCause::Failure { contractor_caused } => {
            effects.push(Effect::DeviceReleased {
                serial: old.serial.clone(),
                last_day: replaced_on.yesterday().unwrap_or(replaced_on),
                return_due: None,
            });
            if contractor_caused {
                effects.push(charge(ChargeKind::ContractorCausedFailure));
            }
        }
        ReplacementCause::Loss => {
            // Already lost when the report was submitted (R12.3).
            if old.lost_on.is_none() {
                effects.push(Effect::DeviceLost {
                    serial: old.serial.clone(),
                    on: reported_on,
                });
            }
            effects.push(charge(ChargeKind::Loss));
        }
    }
    effects.extend(assign(
        known_replacement,
        contract,
        replacement_serial,
        replaced_on,
        device_type,
    )?);
    let delivery = if book
        .options_of(contract_id)
        .any(|o| o.kind == OptionKind::UltraSendback && o.is_active(replaced_on))
    {
        Delivery::OnSite
    } else {
        Delivery::Shipped
    };
    Ok(Replacement { effects, delivery })
}

/// The refusal for a serial its holder's book does not know (a 404 on the wire).
pub fn unknown_device() -> Refusal {
    Refusal::new("not_found", "no such device", "機器がありません")
}

/// Records that a device came back. A device already treated as lost comes back as found: it
/// stays out of service and its loss fee stands (R12.3).
///
/// # Errors
/// `not_awaiting_return` when the device is in service or already returned.
pub fn record_return(device: &Device, returned_on: Date) -> Result<Vec<Effect>, Refusal> {
    match device.state_on(returned_on) {
        DeviceState::AwaitingReturn => Ok(vec![Effect::DeviceReturned {
            serial: device.serial.clone(),
            on: returned_on,
        }]),
        DeviceState::Lost => Ok(vec![Effect::DeviceFound {
            serial: device.serial.clone(),
            on: returned_on,
        }]),
        state => Err(Refusal::new(
            "not_awaiting_return",
            format!(
                "device {} is {} on {returned_on}, not awaiting return",
                device.serial,
                state.as_str()
            ),
            format!("機器 {} は返却待ちではありません", device.serial),
        )),
    }
}

/// Records that a lost device was found (R12.3): it never serves again.
///
/// # Errors
/// `R12.3` when the device is not lost.
pub fn record_found(device: &Device, found_on: Date) -> Result<Vec<Effect>, Refusal> {
    if device.state_on(found_on) != DeviceState::Lost {
        return Err(Refusal::new(
            "R12.3",
            format!("device {} is not lost", device.serial),
            format!("機器 {} は亡失していません", device.serial),
        ));
    }
    Ok(vec![Effect::DeviceFound {
        serial: device.serial.clone(),
        on: found_on,
    }])
}

/// Devices whose return deadline has passed by `today` without a return (R10.3): each is
/// treated as lost on the day after its deadline, with a loss fee (R12.2).
pub fn overdue_returns(
    devices: &[Device],
    contract_of: impl Fn(&Device) -> Option<String>,
    today: Date,
    charge_id: impl Fn(&Device) -> String,
) -> Vec<Effect> {
    let mut effects = Vec::new();
    for d in devices {
        let Some(due) = d.return_due else { continue };
        if due >= today || d.returned_on.is_some() || d.lost_on.is_some() {
            continue;
        }
        let Ok(lost_on) = due.checked_add(1.day()) else {
            continue;
        };
        effects.push(Effect::DeviceLost {
            serial: d.serial.clone(),
            on: lost_on,
        });
        if let Some(contract_id) = contract_of(d) {
            effects.push(Effect::Charge(ChargeEvent {
                id: charge_id(d),
                contract_id,
                kind: ChargeKind::Loss,
                occurred_on: lost_on,
                device_type: Some(d.device_type),
                note: Some(format!("{} not returned by {due}", d.serial)),
            }));
        }
    }
    effects
}

/// Checks that the unit `serial`, a `model`, may serve a contract of device type `expected`:
/// a contract is for one model (R3.1), whether the unit is notified or calls home.
///
/// # Errors
/// `R3.1` naming both models.
pub fn check_model(serial: &str, model: DeviceType, expected: DeviceType) -> Result<(), Refusal> {
    if model == expected {
        return Ok(());
    }
    Err(Refusal::new(
        "R3.1",
        format!("device {serial} is a {model}, the contract's device type is {expected}"),
        format!("機器 {serial} は {model} で、契約の機器種別 {expected} と異なります"),
    ))
}

/// Why a device may not fetch its configuration on `date`, or `Ok` when it may.
///
/// R7.1: the contract's serial must be notified (the device must be the one serving the
/// contract); D6: through the end date inclusive; R11.1: a replaced unit no longer serves;
/// R12.3: a lost or found unit never serves.
///
/// # Errors
/// The rule that withholds the configuration.
pub fn provisionable(book: &Book, serial: &str, date: Date) -> Result<String, Refusal> {
    let device = book.device(serial).ok_or_else(|| {
        Refusal::new(
            "R7.1",
            format!("serial {serial} has not been notified for any contract"),
            format!("シリアルナンバー {serial} は通知されていません"),
        )
    })?;
    match device.state_on(date) {
        DeviceState::Lost | DeviceState::Found => {
            return Err(Refusal::new(
                "R12.3",
                format!("device {serial} was lost and is out of service"),
                format!("機器 {serial} は亡失扱いのため利用できません"),
            ));
        }
        DeviceState::InService => {}
        DeviceState::AwaitingReturn | DeviceState::Returned => {
            let replaced = device.assignments.iter().any(|a| {
                a.until.is_some_and(|u| u < date)
                    && book
                        .contract(&a.contract_id)
                        .is_some_and(|c| c.end_on().is_none_or(|e| e > a.until.unwrap_or(e)))
            });
            return Err(if replaced {
                Refusal::new(
                    "R11.1",
                    format!("device {serial} was replaced"),
                    format!("機器 {serial} は交換済みです"),
                )
            } else {
                Refusal::new(
                    "D6",
                    format!("the contract of device {serial} has ended"),
                    format!("機器 {serial} の契約は終了しています"),
                )
            });
        }
        DeviceState::Stock => {
            return Err(Refusal::new(
                "R7.1",
                format!("serial {serial} serves no contract yet"),
                format!("シリアルナンバー {serial} はまだ契約に割り当てられていません"),
            ));
        }
    }
    let contract_id = device.contract_on(date).unwrap_or_default().to_owned();
    let contract = find_contract(book, &contract_id)?;
    if !contract.is_active(date) {
        return Err(Refusal::new(
            "D6",
            format!("contract {contract_id} is not in service on {date}"),
            format!("契約 {contract_id} は {date} に利用中ではありません"),
        ));
    }
    Ok(contract_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::tests::adapter;
    use crate::ending::{Termination, cancel_contract};
    use jiff::civil::date;

    fn book() -> Book {
        Book {
            contracts: vec![
                adapter("a1", "k1", DeviceType::SeilCa10, date(2026, 4, 1)),
                adapter("a2", "k1", DeviceType::SeilX4, date(2026, 4, 1)),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn r7_1_no_serial_no_configuration() {
        let b = book();
        assert_eq!(
            provisionable(&b, "CA-1", date(2026, 4, 2))
                .unwrap_err()
                .rule,
            "R7.1"
        );
        let b = b.with(&notify_serial(&b, None, "a1", "CA-1", date(2026, 4, 2), false).unwrap());
        assert_eq!(provisionable(&b, "CA-1", date(2026, 4, 2)).unwrap(), "a1");
        assert_eq!(
            provisionable(&b, "CA-1", date(2026, 4, 1))
                .unwrap_err()
                .rule,
            "R7.1",
            "not before notification"
        );
        let again =
            notify_serial(&b, b.device("CA-1"), "a2", "CA-1", date(2026, 4, 3), false).unwrap_err();
        assert_eq!(again.rule, "device_in_use");
    }

    #[test]
    fn r3_1_the_device_model_must_match() {
        let mut b = book();
        b.apply(&Effect::DeviceAssigned {
            serial: "CA-1".into(),
            device_type: DeviceType::SeilCa10,
            contract_id: "a1".into(),
            from: date(2026, 4, 2),
        });
        b.apply(&Effect::DeviceReleased {
            serial: "CA-1".into(),
            last_day: date(2026, 4, 3),
            return_due: None,
        });
        b.apply(&Effect::DeviceReturned {
            serial: "CA-1".into(),
            on: date(2026, 4, 4),
        });
        assert_eq!(
            notify_serial(&b, b.device("CA-1"), "a2", "CA-1", date(2026, 4, 5), false)
                .unwrap_err()
                .rule,
            "R3.1"
        );
    }

    #[test]
    fn r3_1_a_unit_in_stock_of_another_model_is_refused_when_notified() {
        let b = book();
        let stock = Device::in_stock("X4-9", DeviceType::SeilX4);
        let r = notify_serial(&b, Some(&stock), "a1", "X4-9", date(2026, 4, 2), false).unwrap_err();
        assert_eq!(r.rule, "R3.1");
        assert!(r.message_en.contains("SEIL/X4") && r.message_en.contains("SEIL CA10"));
        assert!(notify_serial(&b, Some(&stock), "a2", "X4-9", date(2026, 4, 2), false).is_ok());
    }

    #[test]
    fn r3_1_a_unit_calling_home_must_be_the_contract_s_model() {
        assert!(check_model("CA-1", DeviceType::SeilCa10, DeviceType::SeilCa10).is_ok());
        let r = check_model("X4-9", DeviceType::SeilX4, DeviceType::SeilCa10).unwrap_err();
        assert_eq!(r.rule, "R3.1");
        assert!(r.message_en.contains("X4-9") && r.message_en.contains("SEIL/X4"));
    }

    #[test]
    fn r7_1_a_serial_no_device_fetched_with_can_be_corrected() {
        let b = book();
        let b = b.with(&notify_serial(&b, None, "a1", "CA-1", date(2026, 4, 2), false).unwrap());
        // Mistyped: no device fetched with CA-1, so notifying CA-2 replaces the notification.
        let fixed = notify_serial(&b, None, "a1", "CA-2", date(2026, 4, 3), false).unwrap();
        let after = b.with(&fixed);
        assert_eq!(
            provisionable(&after, "CA-2", date(2026, 4, 3)).unwrap(),
            "a1"
        );
        assert_eq!(
            provisionable(&after, "CA-1", date(2026, 4, 3))
                .unwrap_err()
                .rule,
            "R7.1"
        );
        let withdrawn = after.device("CA-1").unwrap();
        assert_eq!(withdrawn.state_on(date(2026, 4, 3)), DeviceState::Stock);
        assert!(withdrawn.assignments.is_empty(), "it never served");
        // Once a device fetched its configuration with CA-1, only R11/R12 replace it.
        let r = notify_serial(&b, None, "a1", "CA-2", date(2026, 4, 3), true).unwrap_err();
        assert_eq!(r.rule, "serial_already_notified");
        // The same serial again (in any letter case) corrects nothing.
        let r = notify_serial(&b, b.device("CA-1"), "a1", "ca-1", date(2026, 4, 3), false);
        assert_eq!(r.unwrap_err().rule, "serial_already_notified");
    }

    #[test]
    fn r11_1_a_replacement_unit_is_not_corrected_by_a_notification() {
        let mut b = book();
        for e in [
            Effect::DeviceAssigned {
                serial: "CA-1".into(),
                device_type: DeviceType::SeilCa10,
                contract_id: "a1".into(),
                from: date(2026, 4, 2),
            },
            Effect::DeviceReleased {
                serial: "CA-1".into(),
                last_day: date(2026, 4, 9),
                return_due: None,
            },
            Effect::DeviceAssigned {
                serial: "CA-3".into(),
                device_type: DeviceType::SeilCa10,
                contract_id: "a1".into(),
                from: date(2026, 4, 10),
            },
        ] {
            b.apply(&e);
        }
        let r = notify_serial(&b, None, "a1", "CA-2", date(2026, 4, 11), false).unwrap_err();
        assert_eq!(r.rule, "serial_already_notified");
    }

    #[test]
    fn d6_r10_3_served_through_the_end_day_then_due_back_then_lost() {
        let b = book();
        let b = b.with(&notify_serial(&b, None, "a1", "CA-1", date(2026, 4, 2), false).unwrap());
        // Notice 2026-05-01 → ends 2026-05-15 (R13.1); return due 2026-06-14 (D4).
        let b = b
            .with(&cancel_contract(&b, "a1", Termination::Notice, date(2026, 5, 1), None).unwrap());
        assert!(provisionable(&b, "CA-1", date(2026, 5, 15)).is_ok());
        assert_eq!(
            provisionable(&b, "CA-1", date(2026, 5, 16))
                .unwrap_err()
                .rule,
            "D6"
        );
        let d = b.device("CA-1").unwrap();
        assert_eq!(d.state_on(date(2026, 5, 16)), DeviceState::AwaitingReturn);
        // Still within the deadline on 06-14: nothing happens.
        assert!(
            overdue_returns(
                &b.devices,
                |_| Some("a1".into()),
                date(2026, 6, 14),
                |_| "ch".into()
            )
            .is_empty()
        );
        // On 06-15 it is overdue: lost on 06-15 with a loss fee (R12.2).
        let e = overdue_returns(
            &b.devices,
            |_| Some("a1".into()),
            date(2026, 6, 15),
            |_| "ch".into(),
        );
        assert_eq!(
            e[0],
            Effect::DeviceLost {
                serial: "CA-1".into(),
                on: date(2026, 6, 15)
            }
        );
        assert!(
            matches!(&e[1], Effect::Charge(ChargeEvent { kind: ChargeKind::Loss, occurred_on, .. }) if *occurred_on == date(2026, 6, 15))
        );
        let b = b.with(&e);
        // It turns up later: found, never in service again (R12.3).
        let b = b.with(&record_return(b.device("CA-1").unwrap(), date(2026, 7, 1)).unwrap());
        let found = b.device("CA-1").unwrap();
        assert_eq!(found.state_on(date(2026, 7, 1)), DeviceState::Found);
        assert_eq!(
            notify_serial(&b, Some(found), "a2", "CA-1", date(2026, 7, 2), false)
                .unwrap_err()
                .rule,
            "R12.3"
        );
    }

    #[test]
    fn r11_failure_replacement_takes_over_and_the_failed_unit_stops() {
        let b = book();
        let b = b.with(&notify_serial(&b, None, "a1", "CA-1", date(2026, 4, 2), false).unwrap());
        let r = replace_device(
            &b,
            None,
            "a1",
            ReplacementCause::Failure {
                contractor_caused: true,
            },
            date(2026, 5, 1),
            "CA-2",
            date(2026, 5, 3),
            "ch1",
        )
        .unwrap();
        assert_eq!(r.delivery, Delivery::Shipped);
        assert!(r.effects.iter().any(|e| matches!(
            e,
            Effect::Charge(ChargeEvent {
                kind: ChargeKind::ContractorCausedFailure,
                ..
            })
        )));
        let b = b.with(&r.effects);
        assert_eq!(provisionable(&b, "CA-2", date(2026, 5, 3)).unwrap(), "a1");
        assert!(
            provisionable(&b, "CA-1", date(2026, 5, 2)).is_ok(),
            "until the replacement arrives"
        );
        assert_eq!(
            provisionable(&b, "CA-1", date(2026, 5, 3))
                .unwrap_err()
                .rule,
            "R11.1"
        );
    }

    #[test]
    fn r12_3_a_reported_loss_withdraws_the_device_at_once_with_or_without_replacement() {
        let b = book();
        let b = b.with(&notify_serial(&b, None, "a1", "CA-1", date(2026, 4, 2), false).unwrap());
        // Reported on 05-01: lost that day, before anyone accepts the report.
        let b = b.with(&report_loss(&b, "a1", date(2026, 5, 1)).unwrap());
        assert_eq!(
            provisionable(&b, "CA-1", date(2026, 5, 1))
                .unwrap_err()
                .rule,
            "R12.3"
        );
        assert!(report_loss(&b, "a1", date(2026, 5, 1)).unwrap().is_empty());
        // Accepted without a replacement: still lost, the loss fee charged once (R12.2).
        let accepted = accept_loss(&b, "a1", date(2026, 5, 1), "ch1").unwrap();
        assert!(matches!(
            accepted.as_slice(),
            [Effect::Charge(ChargeEvent { kind: ChargeKind::Loss, occurred_on, .. })]
                if *occurred_on == date(2026, 5, 1)
        ));
        let b = b.with(&accepted);
        assert_eq!(
            provisionable(&b, "CA-1", date(2026, 7, 1))
                .unwrap_err()
                .rule,
            "R12.3"
        );
        // The contract has no device after the loss day: a new serial may be notified.
        assert!(b.device_of("a1", date(2026, 5, 2)).is_none());
        let b = b.with(&notify_serial(&b, None, "a1", "CA-2", date(2026, 5, 2), false).unwrap());
        assert_eq!(provisionable(&b, "CA-2", date(2026, 5, 2)).unwrap(), "a1");
    }

    #[test]
    fn r12_1_a_replacement_after_a_reported_loss_does_not_lose_it_twice() {
        let b = book();
        let b = b.with(&notify_serial(&b, None, "a1", "CA-1", date(2026, 4, 2), false).unwrap());
        let b = b.with(&report_loss(&b, "a1", date(2026, 5, 1)).unwrap());
        let r = replace_device(
            &b,
            None,
            "a1",
            ReplacementCause::Loss,
            date(2026, 5, 1),
            "CA-2",
            date(2026, 5, 3),
            "ch1",
        )
        .unwrap();
        assert!(
            !r.effects
                .iter()
                .any(|e| matches!(e, Effect::DeviceLost { .. }))
        );
        let b = b.with(&r.effects);
        assert_eq!(
            provisionable(&b, "CA-1", date(2026, 5, 2))
                .unwrap_err()
                .rule,
            "R12.3"
        );
        assert_eq!(provisionable(&b, "CA-2", date(2026, 5, 3)).unwrap(), "a1");
    }

    #[test]
    fn r12_loss_is_charged_and_the_lost_unit_never_serves() {
        let b = book();
        let b = b.with(&notify_serial(&b, None, "a1", "CA-1", date(2026, 4, 2), false).unwrap());
        let r = replace_device(
            &b,
            None,
            "a1",
            ReplacementCause::Loss,
            date(2026, 5, 1),
            "CA-2",
            date(2026, 5, 2),
            "ch1",
        )
        .unwrap();
        assert!(r.effects.iter().any(|e| matches!(
            e,
            Effect::Charge(ChargeEvent {
                kind: ChargeKind::Loss,
                device_type: Some(DeviceType::SeilCa10),
                ..
            })
        )));
        let b = b.with(&r.effects);
        assert_eq!(
            provisionable(&b, "CA-1", date(2026, 5, 1))
                .unwrap_err()
                .rule,
            "R12.3"
        );
        let b = b.with(&record_found(b.device("CA-1").unwrap(), date(2026, 6, 1)).unwrap());
        assert_eq!(
            provisionable(&b, "CA-1", date(2026, 6, 2))
                .unwrap_err()
                .rule,
            "R12.3"
        );
    }
}
