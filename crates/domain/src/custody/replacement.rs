//! Replacing a device: after a failure (R11) or a loss (R12), and taking a lost one out of
//! service at once (R12.3).

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::assign;
use crate::Refusal;
use crate::book::{Book, ChargeEvent, ChargeKind, Device, Effect};
use crate::catalog::OptionKind;
use crate::contract::{find_contract, require_active};

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
        let name = book.contract_name(contract_id);
        Refusal::new(
            "R12.1",
            format!("contract {name} has no device on {reported_on}"),
            format!("契約 {name} には {reported_on} に機器がありません"),
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
/// [`notify_serial`](super::notify_serial) for the replacement.
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
            format!(
                "contract {} has no device on {reported_on}",
                contract.name()
            ),
            format!(
                "契約 {} には {reported_on} に機器がありません",
                contract.name()
            ),
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

/// Records that a device came back. A device already treated as lost comes back as found: it
/// stays out of service and its loss fee stands (R12.3).
///
/// # Errors
#[cfg(test)]
mod tests {
    use super::*;
    use crate::custody::tests::book;
    use crate::custody::*;
    use jiff::civil::date;

    #[test]
    fn refusals_name_a_contract_by_its_number() {
        let mut b = book();
        b.contracts[0].number = crate::contract_number::ContractNumber::new(7);
        // a1 has no device yet (no serial notified): nothing to lose (R12.1), said with the
        // number people know, not the id.
        let r = report_loss(&b, "a1", date(2026, 5, 1)).unwrap_err();
        assert_eq!(r.rule, "R12.1");
        assert!(
            r.message_en.contains("contract C-000007 has"),
            "{}",
            r.message_en
        );
        assert!(
            r.message_ja.contains("契約 C-000007 には"),
            "{}",
            r.message_ja
        );
        // A contract without a number (a decision not yet written) keeps its id.
        let r = report_loss(&b, "a2", date(2026, 5, 1)).unwrap_err();
        assert!(r.message_en.contains("contract a2 has"), "{}", r.message_en);
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
