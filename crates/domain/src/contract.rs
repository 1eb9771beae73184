//! Contracts: application and acceptance (R1–R4), billing start and minimum period (R5), item
//! change (R8).

use jiff::civil::Date;

use crate::Refusal;
use crate::book::{Book, ChargeEvent, ChargeKind, Contract, Effect, Timeline};
use crate::calendar::{Period, period_end};
use crate::catalog::{ContractKind, DeviceType, Item};

/// What a contractor applies for.
#[derive(Debug, Clone)]
pub struct Application {
    pub id: String,
    pub contractor_id: String,
    pub kind: ContractKind,
    pub item: Option<Item>,
    pub device_type: Option<DeviceType>,
    /// Service adapters: the management contract to be controlled under (R6.2).
    pub management_id: Option<String>,
    pub applied_on: Date,
    /// The site name the contractor gave (trimmed on acceptance; may be empty).
    pub label: String,
}

/// The management a service adapter would be controlled under, as storage found it.
#[derive(Debug, Clone)]
pub struct ManagementAccess<'a> {
    pub contract: &'a Contract,
    /// For another contractor's management: the day it consented to the designation (R6.2).
    pub consented_on: Option<Date>,
}

pub(crate) fn refuse_date_order(what: &str, earlier: Date, later: Date) -> Refusal {
    Refusal::new(
        "date_order",
        format!("{what}: {later} is before {earlier}"),
        format!("{what}: {later} は {earlier} より前の日付です"),
    )
}

/// Accepts an application on `accepted_on`, creating the contract.
///
/// R2.1, R3.1: a service adapter has exactly one item and one device type; R4.1: a management
/// has neither. R6.2: a service adapter is controlled under the contractor's own active
/// management, or another contractor's whose consent to the designation has been given.
///
/// # Errors
/// The refused rule; `date_order` when acceptance precedes the application.
pub fn accept_application(
    app: &Application,
    management: Option<ManagementAccess<'_>>,
    accepted_on: Date,
) -> Result<Vec<Effect>, Refusal> {
    if accepted_on < app.applied_on {
        return Err(refuse_date_order("acceptance", app.applied_on, accepted_on));
    }
    let items = match (app.kind, app.item, app.device_type) {
        (ContractKind::ServiceAdapter, Some(item), Some(_)) => {
            Timeline::starting(accepted_on, item)
        }
        (ContractKind::ServiceAdapter, None, _) => {
            return Err(Refusal::new(
                "R2.1",
                "a service-adapter contract needs an item (internet_gateway, remote_access or pppoe_termination)",
                "サービスアダプタの契約には品目の指定が必要です",
            ));
        }
        (ContractKind::ServiceAdapter, _, None) => {
            return Err(Refusal::new(
                "R3.1",
                "a service-adapter contract needs a device type (SEIL/X4, SA-W2L or SEIL CA10)",
                "サービスアダプタの契約には機器種別の指定が必要です",
            ));
        }
        (ContractKind::Management, None, None) => Timeline::default(),
        (ContractKind::Management, _, _) => {
            return Err(Refusal::new(
                "R4.1",
                "a management contract has no item or device type",
                "マネージメントの契約に品目・機器種別は指定できません",
            ));
        }
    };
    if app.kind == ContractKind::ServiceAdapter {
        check_management(app, management, accepted_on)?;
    } else if app.management_id.is_some() {
        return Err(Refusal::new(
            "R4.1",
            "a management contract is not controlled under another management",
            "マネージメントの契約に他のマネージメントは指定できません",
        ));
    }
    Ok(vec![Effect::ContractCreated(Contract {
        id: app.id.clone(),
        contractor_id: app.contractor_id.clone(),
        kind: app.kind,
        device_type: app.device_type,
        items,
        management_id: app.management_id.clone(),
        applied_on: app.applied_on,
        accepted_on,
        billing_start: None,
        ending: None,
        number: None,
        label: app.label.trim().to_owned(),
    })])
}

fn check_management(
    app: &Application,
    management: Option<ManagementAccess<'_>>,
    on: Date,
) -> Result<(), Refusal> {
    // R6.1 (a) is the contractor's own management; R6.2 the consented use of another's.
    let Some(m) = management else {
        return Err(Refusal::new(
            "R6.1",
            "a service adapter needs a management to be controlled under: the contractor's own management contract (R6.1), or another contractor's by consented designation (R6.2)",
            "サービスアダプタには、自らのマネージメント契約（第6条第1項）又は同意を得て指定した他の契約者のマネージメント（第6条第2項）が必要です",
        ));
    };
    let own = m.contract.contractor_id == app.contractor_id;
    let rule = if own { "R6.1" } else { "R6.2" };
    if m.contract.kind != ContractKind::Management || !m.contract.is_active(on) {
        return Err(Refusal::new(
            rule,
            "the named management contract is not an active management",
            "指定されたマネージメントの契約は有効ではありません",
        ));
    }
    if !own && m.consented_on.is_none_or(|c| c > on) {
        return Err(Refusal::new(
            "R6.2",
            "another contractor's management may be used only after that contractor consents to the designation",
            "他の契約者のマネージメントは、その契約者の同意を得た後でなければ利用できません",
        ));
    }
    Ok(())
}

/// Sets the billing start date: the day the service is made available (R5.2).
///
/// # Errors
/// `billing_start_already_set`; `date_order` before acceptance; `R5.2` after the contract
/// ended.
pub fn set_billing_start(book: &Book, contract_id: &str, on: Date) -> Result<Vec<Effect>, Refusal> {
    let contract = find_contract(book, contract_id)?;
    if let Some(existing) = contract.billing_start {
        return Err(Refusal::new(
            "billing_start_already_set",
            format!("the billing start date is already {existing}"),
            format!("課金開始日は既に {existing} に設定されています"),
        ));
    }
    if on < contract.accepted_on {
        return Err(refuse_date_order("billing start", contract.accepted_on, on));
    }
    if contract.end_on().is_some_and(|end| on > end) {
        return Err(Refusal::new(
            "R5.2",
            "the service cannot be made available after the contract ends",
            "契約終了後に課金を開始することはできません",
        ));
    }
    Ok(vec![Effect::BillingStartSet {
        contract_id: contract_id.to_owned(),
        on,
    }])
}

/// The last day of a contract's minimum usage period, once billing has started.
///
/// R5.1: one month for a management, one year for a service adapter, counted from the billing
/// start date (D2).
pub fn minimum_period_end(contract: &Contract) -> Option<Date> {
    let length = match contract.kind {
        ContractKind::Management => Period::months(1),
        ContractKind::ServiceAdapter => Period::years(1),
    };
    contract
        .billing_start
        .and_then(|start| period_end(start, length).ok())
}

/// Changes a service adapter's item on acceptance of the request (R8.1).
///
/// The new item's fee applies from the acceptance date, the minimum period runs on unchanged,
/// and a one-time item-change fee is charged (recorded as a charge event for billing).
///
/// # Errors
/// `R8.1` for a management, an inactive contract or an unchanged item.
pub fn change_item(
    book: &Book,
    contract_id: &str,
    item: Item,
    accepted_on: Date,
    charge_id: &str,
) -> Result<Vec<Effect>, Refusal> {
    let contract = find_contract(book, contract_id)?;
    if contract.kind != ContractKind::ServiceAdapter {
        return Err(Refusal::new(
            "R8.1",
            "only a service-adapter contract has an item to change",
            "品目の変更はサービスアダプタの契約に限られます",
        ));
    }
    require_active(contract, accepted_on, "R8.1")?;
    if contract.item(accepted_on) == Some(item) {
        return Err(Refusal::new(
            "R8.1",
            format!("the item is already {item}"),
            format!("品目は既に{}です", item.label_ja()),
        ));
    }
    Ok(vec![
        Effect::ItemChanged {
            contract_id: contract_id.to_owned(),
            item,
            from: accepted_on,
        },
        Effect::Charge(ChargeEvent {
            id: charge_id.to_owned(),
            contract_id: contract_id.to_owned(),
            kind: ChargeKind::ItemChange,
            occurred_on: accepted_on,
            device_type: contract.device_type,
            note: Some(format!("→ {item}")),
        }),
    ])
}

pub(crate) fn find_contract<'a>(book: &'a Book, id: &str) -> Result<&'a Contract, Refusal> {
    book.contract(id).ok_or_else(|| {
        Refusal::new(
            "not_found",
            format!("no contract {id}"),
            format!("契約 {id} はありません"),
        )
    })
}

pub(crate) fn require_active(
    contract: &Contract,
    on: Date,
    rule: &'static str,
) -> Result<(), Refusal> {
    if contract.is_active(on) {
        Ok(())
    } else {
        Err(Refusal::new(
            rule,
            format!("contract {} is not in service on {on}", contract.id),
            format!("契約 {} は {on} に利用中ではありません", contract.id),
        ))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use jiff::civil::date;

    pub fn management(id: &str, contractor: &str, accepted_on: Date) -> Contract {
        Contract {
            id: id.into(),
            contractor_id: contractor.into(),
            kind: ContractKind::Management,
            device_type: None,
            items: Timeline::default(),
            management_id: None,
            applied_on: accepted_on,
            accepted_on,
            billing_start: Some(accepted_on),
            ending: None,
            number: None,
            label: String::new(),
        }
    }

    pub fn adapter(
        id: &str,
        contractor: &str,
        device_type: DeviceType,
        billing_start: Date,
    ) -> Contract {
        Contract {
            id: id.into(),
            contractor_id: contractor.into(),
            kind: ContractKind::ServiceAdapter,
            device_type: Some(device_type),
            items: Timeline::starting(billing_start, Item::InternetGateway),
            management_id: Some("m1".into()),
            applied_on: billing_start,
            accepted_on: billing_start,
            billing_start: Some(billing_start),
            ending: None,
            number: None,
            label: String::new(),
        }
    }

    fn application(
        kind: ContractKind,
        item: Option<Item>,
        device_type: Option<DeviceType>,
    ) -> Application {
        Application {
            id: "c1".into(),
            contractor_id: "k1".into(),
            kind,
            item,
            device_type,
            management_id: Some("m1".into()),
            applied_on: date(2026, 4, 1),
            label: " 本社 ".into(),
        }
    }

    #[test]
    fn r2_r3_a_service_adapter_needs_item_and_device_type() {
        let m = management("m1", "k1", date(2026, 3, 1));
        let access = || {
            Some(ManagementAccess {
                contract: &m,
                consented_on: None,
            })
        };
        let on = date(2026, 4, 3);
        let err = accept_application(
            &application(ContractKind::ServiceAdapter, None, Some(DeviceType::SaW2l)),
            access(),
            on,
        )
        .unwrap_err();
        assert_eq!(err.rule, "R2.1");
        let err = accept_application(
            &application(ContractKind::ServiceAdapter, Some(Item::RemoteAccess), None),
            access(),
            on,
        )
        .unwrap_err();
        assert_eq!(err.rule, "R3.1");
        let ok = accept_application(
            &application(
                ContractKind::ServiceAdapter,
                Some(Item::RemoteAccess),
                Some(DeviceType::SaW2l),
            ),
            access(),
            on,
        )
        .unwrap();
        let Effect::ContractCreated(c) = &ok[0] else {
            panic!()
        };
        assert_eq!(
            (c.accepted_on, c.item(on), c.billing_start),
            (on, Some(Item::RemoteAccess), None)
        );
        // The site label as given, trimmed; the number is storage's to give.
        assert_eq!((c.label.as_str(), c.number), ("本社", None));
    }

    #[test]
    fn r4_1_a_management_has_no_item() {
        let mut app = application(ContractKind::Management, Some(Item::InternetGateway), None);
        app.management_id = None;
        assert_eq!(
            accept_application(&app, None, date(2026, 4, 1))
                .unwrap_err()
                .rule,
            "R4.1"
        );
    }

    #[test]
    fn r6_2_another_contractors_management_needs_consent() {
        let other = management("m1", "k2", date(2026, 3, 1));
        let app = application(
            ContractKind::ServiceAdapter,
            Some(Item::InternetGateway),
            Some(DeviceType::SeilX4),
        );
        let without = accept_application(
            &app,
            Some(ManagementAccess {
                contract: &other,
                consented_on: None,
            }),
            date(2026, 4, 2),
        );
        assert_eq!(without.unwrap_err().rule, "R6.2");
        let later = accept_application(
            &app,
            Some(ManagementAccess {
                contract: &other,
                consented_on: Some(date(2026, 4, 5)),
            }),
            date(2026, 4, 2),
        );
        assert_eq!(later.unwrap_err().rule, "R6.2");
        assert!(
            accept_application(
                &app,
                Some(ManagementAccess {
                    contract: &other,
                    consented_on: Some(date(2026, 4, 2))
                }),
                date(2026, 4, 2)
            )
            .is_ok()
        );
    }

    #[test]
    fn r6_1_a_service_adapter_without_any_management_cites_r6_1() {
        let app = application(
            ContractKind::ServiceAdapter,
            Some(Item::InternetGateway),
            Some(DeviceType::SeilX4),
        );
        // Neither an own management nor a designation: R6.1 (a) is what is missing.
        assert_eq!(
            accept_application(&app, None, date(2026, 4, 2))
                .unwrap_err()
                .rule,
            "R6.1"
        );
        // Its own management, ended: still R6.1; another's, unconsented: R6.2 (above).
        let mut own = management("m0", &app.contractor_id, date(2026, 3, 1));
        own.ending = Some(crate::book::Ending {
            on: date(2026, 3, 31),
            reason: crate::book::EndReason::Notice,
            notice_arrived_on: Some(date(2026, 3, 10)),
            requested_on: None,
            exempt_from_early_termination: false,
        });
        let ended = accept_application(
            &app,
            Some(ManagementAccess {
                contract: &own,
                consented_on: None,
            }),
            date(2026, 4, 2),
        );
        assert_eq!(ended.unwrap_err().rule, "R6.1");
    }

    #[test]
    fn acceptance_cannot_precede_the_application() {
        let app = application(ContractKind::Management, None, None);
        let app = Application {
            management_id: None,
            ..app
        };
        assert_eq!(
            accept_application(&app, None, date(2026, 3, 31))
                .unwrap_err()
                .rule,
            "date_order"
        );
    }

    #[test]
    fn r5_1_minimum_periods_run_from_billing_start() {
        // Management: 1 month from 2026-01-31 → February has no 31st → ends 2026-02-28 (D2).
        let m = management("m1", "k1", date(2026, 1, 31));
        assert_eq!(minimum_period_end(&m), Some(date(2026, 2, 28)));
        // Service adapter: 1 year from 2026-04-10 → ends 2027-04-09.
        let a = adapter("a1", "k1", DeviceType::SeilX4, date(2026, 4, 10));
        assert_eq!(minimum_period_end(&a), Some(date(2027, 4, 9)));
        // No billing start, no minimum period (R5.2).
        let pending = Contract {
            billing_start: None,
            ..a
        };
        assert_eq!(minimum_period_end(&pending), None);
    }

    #[test]
    fn r5_2_billing_start_is_set_once_within_the_contract() {
        let mut c = adapter("a1", "k1", DeviceType::SeilX4, date(2026, 4, 10));
        c.billing_start = None;
        let book = Book {
            contracts: vec![c],
            ..Default::default()
        };
        assert_eq!(
            set_billing_start(&book, "a1", date(2026, 4, 9))
                .unwrap_err()
                .rule,
            "date_order"
        );
        let effects = set_billing_start(&book, "a1", date(2026, 4, 20)).unwrap();
        let book = book.with(&effects);
        assert_eq!(book.contracts[0].billing_start, Some(date(2026, 4, 20)));
        assert_eq!(
            set_billing_start(&book, "a1", date(2026, 4, 21))
                .unwrap_err()
                .rule,
            "billing_start_already_set"
        );
    }

    #[test]
    fn r8_1_item_change_applies_from_acceptance_with_a_fee_and_keeps_the_minimum_period() {
        let book = Book {
            contracts: vec![adapter("a1", "k1", DeviceType::SaW2l, date(2026, 4, 10))],
            ..Default::default()
        };
        let effects =
            change_item(&book, "a1", Item::RemoteAccess, date(2026, 6, 15), "ch1").unwrap();
        let after = book.with(&effects);
        let c = &after.contracts[0];
        assert_eq!(c.item(date(2026, 6, 14)), Some(Item::InternetGateway));
        assert_eq!(c.item(date(2026, 6, 15)), Some(Item::RemoteAccess));
        assert_eq!(minimum_period_end(c), Some(date(2027, 4, 9)));
        assert!(
            matches!(&effects[1], Effect::Charge(ChargeEvent { kind: ChargeKind::ItemChange, occurred_on, .. }) if *occurred_on == date(2026, 6, 15))
        );
        assert_eq!(
            change_item(&after, "a1", Item::RemoteAccess, date(2026, 6, 20), "ch2")
                .unwrap_err()
                .rule,
            "R8.1"
        );
    }
}
