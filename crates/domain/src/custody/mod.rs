//! Devices in the contractor's care: serial notification (R7.1), return after the end (R10.3),
//! failure (R11), loss (R12), and whether a device may receive its configuration.
//!
//! Here: notifying a serial and whether a unit may serve (R7.1, R3.1, D6); replacing a device
//! after a failure or a loss in `replacement.rs` (R11, R12); devices coming back, or lost when
//! overdue, in `returns.rs` (R10.3, R12.3).

mod replacement;
mod returns;

pub use replacement::*;
pub use returns::*;

use jiff::civil::Date;

use crate::Refusal;
use crate::book::{Book, Contract, Device, DeviceState, Effect};
use crate::catalog::{ContractKind, DeviceType};
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
            format!("contract {} is not in service on {date}", contract.name()),
            format!("契約 {} は {date} に利用中ではありません", contract.name()),
        ));
    }
    Ok(contract_id)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::contract::tests::adapter;
    use jiff::civil::date;

    pub(crate) fn book() -> Book {
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
}
