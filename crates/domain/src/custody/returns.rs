//! Devices back after the end: returned, found, or lost when overdue (R10.3, R12.3).

use jiff::ToSpan;
use jiff::civil::Date;

use crate::Refusal;
use crate::book::{ChargeEvent, ChargeKind, Device, DeviceState, Effect};

/// The refusal for a serial its holder's book does not know (a 404 on the wire).
pub fn unknown_device() -> Refusal {
    Refusal::new("not_found", "no such device", "機器がありません")
}

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
#[cfg(test)]
mod tests {
    use super::*;
    use crate::custody::tests::book;
    use crate::custody::*;
    use crate::ending::{Termination, cancel_contract};
    use jiff::civil::date;

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
}
