//! Who may use the service (R6.1–R6.3) and what a termination would break (R6.8).
//!
//! Reading of Art. 6 §1 (see `shared/spec/regulation.md`): item (1) means a *management*
//! contract, since §2 lets a rider use another contractor's management instead of it.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::Refusal;
use crate::book::{Book, Contract};
use crate::catalog::{ContractKind, OptionKind};

/// A contractor's naming of another contractor's management for its service adapters (R6.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Designation {
    pub id: String,
    pub rider_contractor_id: String,
    pub management_contract_id: String,
    pub requested_on: Date,
    /// The day the management's contractor consented; the designation holds from then.
    pub consented_on: Option<Date>,
    pub withdrawn_on: Option<Date>,
}

impl Designation {
    pub fn holds_on(&self, date: Date) -> bool {
        self.consented_on.is_some_and(|c| c <= date) && self.withdrawn_on.is_none_or(|w| w > date)
    }
}

/// A management contractor's request that its management fees be invoiced to another party
/// (R6.3): effective once that party consented and the operator approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRedirect {
    pub id: String,
    pub management_contract_id: String,
    pub target_contractor_id: String,
    pub requested_on: Date,
    pub consented_on: Option<Date>,
    pub approved_on: Option<Date>,
    pub ended_on: Option<Date>,
}

impl InvoiceRedirect {
    /// Whether management fees of `date` go to the target (B1: from the approval date on).
    pub fn in_force_on(&self, date: Date) -> bool {
        self.consented_on.is_some()
            && self.approved_on.is_some_and(|a| a <= date)
            && self.ended_on.is_none_or(|e| e > date)
    }
}

/// Checks a contractor's designation of another contractor's management (R6.2).
///
/// `management` is `None` when no contract has the designated id: that is no management in
/// service either, and is refused as one, so a rider learns nothing of others' contract ids.
///
/// # Errors
/// `R6.2` when the contract is not another contractor's management in service on `on`.
pub fn check_designation(
    rider_contractor_id: &str,
    management: Option<&Contract>,
    on: Date,
) -> Result<(), Refusal> {
    let management = match management {
        Some(m) if m.kind == ContractKind::Management && m.is_active(on) => m,
        _ => {
            return Err(Refusal::new(
                "R6.2",
                "the designated contract is not a management in service",
                "指定された契約は利用中のマネージメントではありません",
            ));
        }
    };
    if management.contractor_id == rider_contractor_id {
        return Err(Refusal::new(
            "R6.2",
            "a contractor's own management needs no designation",
            "自らのマネージメントを指定する必要はありません",
        ));
    }
    Ok(())
}

/// Checks a management contractor's request to redirect its invoices (R6.3): the target is a
/// rider of this management (R6.2) or another contractor using service adapters.
///
/// # Errors
/// `R6.3` otherwise.
pub fn check_redirect(
    management: &Contract,
    target_contractor_id: &str,
    target_rides_it: bool,
    target_uses_adapters: bool,
) -> Result<(), Refusal> {
    if management.kind != ContractKind::Management {
        return Err(Refusal::new(
            "R6.3",
            "only management fees can be redirected",
            "請求書送付先の変更はマネージメントの料金に限られます",
        ));
    }
    if management.contractor_id == target_contractor_id
        || !(target_rides_it || target_uses_adapters)
    {
        return Err(Refusal::new(
            "R6.3",
            "invoices can go only to a rider of this management or to another contractor using service adapters",
            "請求書の送付先は、このマネージメントを利用する他の契約者又はサービスアダプタ利用者に限られます",
        ));
    }
    Ok(())
}

/// Consents to a designation or a redirect: only once, not before it was asked.
///
/// # Errors
/// `already_consented`; `date_order`.
pub fn consent(requested_on: Date, consented_on: Option<Date>, on: Date) -> Result<Date, Refusal> {
    if consented_on.is_some() {
        return Err(Refusal::new(
            "already_consented",
            "consent was already given",
            "既に同意済みです",
        ));
    }
    if on < requested_on {
        return Err(crate::contract::refuse_date_order(
            "consent",
            requested_on,
            on,
        ));
    }
    Ok(on)
}

/// Approves an invoice redirect (R6.3): only after the target consented.
///
/// # Errors
/// `R6.3` without consent; `already_approved`; `date_order`.
pub fn approve_redirect(redirect: &InvoiceRedirect, on: Date) -> Result<Date, Refusal> {
    let Some(consented) = redirect.consented_on else {
        return Err(Refusal::new(
            "R6.3",
            "the invoice redirect needs the consent of the party named before approval",
            "請求書送付先の変更には送付先の同意が必要です",
        ));
    };
    if redirect.approved_on.is_some() {
        return Err(Refusal::new(
            "already_approved",
            "the redirect is already approved",
            "既に承諾済みです",
        ));
    }
    if on < consented {
        return Err(crate::contract::refuse_date_order(
            "approval", consented, on,
        ));
    }
    Ok(on)
}

/// One requirement of R6.1 that a contractor does not meet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmet {
    pub rule: &'static str,
    pub message_en: String,
    pub message_ja: String,
}

/// What eligibility is judged on for one contractor.
#[derive(Debug, Clone, Copy)]
pub struct Standing<'a> {
    pub contractor_id: &'a str,
    pub book: &'a Book,
    /// Designations made by this contractor (R6.2).
    pub designations: &'a [Designation],
    /// The management contracts those designations name.
    pub designated_managements: &'a [Contract],
    /// How many designated services (R6.1c) the contractor holds on the date.
    pub designated_services: usize,
}

/// The requirements of R6.1 the contractor does not meet on `date`; empty when eligible.
pub fn unmet(s: Standing<'_>, date: Date) -> Vec<Unmet> {
    let mut out = Vec::new();
    let own_management = s.book.contracts.iter().any(|c| {
        c.contractor_id == s.contractor_id
            && c.kind == ContractKind::Management
            && c.is_active(date)
    });
    let rides = s.designations.iter().any(|d| {
        d.holds_on(date)
            && s.designated_managements
                .iter()
                .any(|m| m.id == d.management_contract_id && m.is_active(date))
    });
    if !own_management && !rides {
        out.push(Unmet {
            rule: "R6.1",
            message_en: "no management contract, and no consented designation of another contractor's management (R6.2)".into(),
            message_ja: "マネージメントの契約、又は同意を得た他の契約者のマネージメントの指定がありません".into(),
        });
    }
    let sendback = s.book.contracts.iter().any(|c| {
        c.contractor_id == s.contractor_id
            && c.kind == ContractKind::ServiceAdapter
            && c.is_active(date)
            && s.book
                .options_of(&c.id)
                .any(|o| o.kind == OptionKind::UltraSendback && o.is_active(date))
    });
    if !sendback {
        out.push(Unmet {
            rule: "R6.1",
            message_en: "no service-adapter contract with the ultra send-back option".into(),
            message_ja:
                "ウルトラセンドバックオプションを利用するサービスアダプタの契約がありません".into(),
        });
    }
    if s.designated_services == 0 {
        out.push(Unmet {
            rule: "R6.1",
            message_en: "no contract for a designated service".into(),
            message_ja: "指定サービスの契約がありません".into(),
        });
    }
    out
}

/// What a termination would do to one contractor's eligibility (R6.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Impact {
    pub contractor_id: String,
    /// The first day the contractor would lack something.
    pub from: Date,
    pub newly_unmet: Vec<Unmet>,
    /// The contractor's contracts still in service that day, which it could no longer use.
    pub contracts: Vec<String>,
}

/// Compares a contractor's standing before and after a change, on the first day after it
/// (`from`): the requirements only the change breaks.
pub fn impact(before: Standing<'_>, after: Standing<'_>, from: Date) -> Option<Impact> {
    let was = unmet(before, from);
    let newly: Vec<Unmet> = unmet(after, from)
        .into_iter()
        .filter(|u| !was.contains(u))
        .collect();
    (!newly.is_empty()).then(|| Impact {
        contractor_id: after.contractor_id.to_owned(),
        from,
        newly_unmet: newly,
        contracts: after
            .book
            .contracts
            .iter()
            .filter(|c| c.contractor_id == after.contractor_id && c.is_active(from))
            .map(|c| c.id.clone())
            .collect(),
    })
}

/// Whether `contract` is one a request of `kind` (its wire name) can be about on `on`: the
/// contracts a request form offers, so that nothing the rules would refuse for the contract
/// alone is offered.
///
/// An application names a management that has not ended to run under (R6.2); a cancellation,
/// a contract that has not ended and is not already ending (R13.1); every other request about
/// a contract, a service adapter in service that day (R8.1 item change, R9.1 options, R7.1
/// serial notification, R11.1 failure, R12.1 loss). The mobile access option is offered on
/// `SA-W2L` adapters only (R6.5).
pub fn offered_for(
    contract: &Contract,
    kind: &str,
    option_kind: Option<OptionKind>,
    on: Date,
) -> bool {
    use crate::book::Status;
    use crate::catalog::DeviceType;
    let open = contract.status(on) != Status::Ended;
    match kind {
        "apply_contract" => open && contract.kind == ContractKind::Management,
        "cancel_contract" => open && contract.ending.is_none(),
        "change_item" | "add_option" | "notify_serial" | "report_failure" | "report_loss" => {
            contract.kind == ContractKind::ServiceAdapter
                && contract.is_active(on)
                && (option_kind != Some(OptionKind::MobileAccess)
                    || contract.device_type == Some(DeviceType::SaW2l))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::{ContractOption, Timeline};
    use crate::catalog::DeviceType;
    use crate::contract::tests::{adapter, management};
    use crate::ending::{Termination, cancel_contract};
    use jiff::civil::date;

    fn sendback(id: &str, contract: &str) -> ContractOption {
        ContractOption {
            id: id.into(),
            contract_id: contract.into(),
            kind: OptionKind::UltraSendback,
            applied_on: date(2026, 4, 1),
            accepted_on: date(2026, 4, 1),
            install_address: Some("東京都".into()),
            usage_types: Timeline::default(),
            network_types: Timeline::default(),
            ending: None,
        }
    }

    #[test]
    fn r6_5_r13_1_forms_offer_only_the_contracts_a_request_can_be_about() {
        let on = date(2026, 6, 1);
        let m = management("m1", "k1", date(2026, 4, 1));
        let x4 = adapter("x4", "k1", DeviceType::SeilX4, date(2026, 4, 1));
        let w2l = adapter("w2l", "k1", DeviceType::SaW2l, date(2026, 4, 1));
        // Mobile access only on SA-W2L (R6.5); the other option on either.
        let mobile = Some(OptionKind::MobileAccess);
        assert!(!offered_for(&x4, "add_option", mobile, on));
        assert!(offered_for(&w2l, "add_option", mobile, on));
        let sendback = Some(OptionKind::UltraSendback);
        assert!(offered_for(&x4, "add_option", sendback, on));
        // A management is no subject of an item change, only a place to run under.
        assert!(!offered_for(&m, "change_item", None, on));
        assert!(offered_for(&m, "apply_contract", None, on));
        assert!(!offered_for(&x4, "apply_contract", None, on));
        // A contract already ending is not cancelled twice (R13.1), and an ended one is
        // offered for nothing.
        let book = Book {
            contracts: vec![x4.clone()],
            ..Book::default()
        };
        let ending = book.with(
            &cancel_contract(&book, "x4", Termination::Notice, date(2026, 5, 1), None).unwrap(),
        );
        let ending = ending.contract("x4").unwrap();
        assert!(offered_for(&x4, "cancel_contract", None, on));
        assert!(!offered_for(
            ending,
            "cancel_contract",
            None,
            date(2026, 5, 10)
        ));
        assert!(offered_for(
            ending,
            "report_failure",
            None,
            date(2026, 5, 10)
        ));
        assert!(!offered_for(ending, "report_failure", None, on));
    }

    #[test]
    fn r6_1_each_requirement_is_reported() {
        let book = Book {
            contracts: vec![
                management("m1", "k1", date(2026, 4, 1)),
                adapter("a1", "k1", DeviceType::SeilX4, date(2026, 4, 1)),
            ],
            options: vec![sendback("s1", "a1")],
            ..Default::default()
        };
        let s = Standing {
            contractor_id: "k1",
            book: &book,
            designations: &[],
            designated_managements: &[],
            designated_services: 1,
        };
        assert!(unmet(s, date(2026, 4, 2)).is_empty());
        let none = Standing {
            designated_services: 0,
            ..s
        };
        assert_eq!(unmet(none, date(2026, 4, 2)).len(), 1);
        let bare = Book::default();
        assert_eq!(
            unmet(Standing { book: &bare, ..s }, date(2026, 4, 2)).len(),
            2
        );
    }

    #[test]
    fn r6_2_only_another_contractors_management_in_service_is_designated() {
        let m1 = management("m1", "k1", date(2026, 4, 1));
        let a1 = adapter("a1", "k1", DeviceType::SeilCa10, date(2026, 4, 1));
        assert_eq!(check_designation("k2", Some(&m1), date(2026, 4, 1)), Ok(()));
        // Before its acceptance, an adapter, an unknown id and one's own management: all R6.2.
        for (rider, contract, on) in [
            ("k2", Some(&m1), date(2026, 3, 31)),
            ("k2", Some(&a1), date(2026, 4, 1)),
            ("k2", None, date(2026, 4, 1)),
            ("k1", Some(&m1), date(2026, 4, 1)),
        ] {
            let r = check_designation(rider, contract, on).unwrap_err();
            assert_eq!(r.rule, "R6.2");
        }
        let unknown = check_designation("k2", None, date(2026, 4, 1)).unwrap_err();
        assert_eq!(
            unknown.message_en,
            "the designated contract is not a management in service"
        );
    }

    #[test]
    fn r6_2_a_rider_relies_on_the_consented_management_and_r6_8_reports_its_end() {
        let host = Book {
            contracts: vec![management("m1", "host", date(2026, 4, 1))],
            ..Default::default()
        };
        let rider = Book {
            contracts: vec![adapter("a1", "rider", DeviceType::SaW2l, date(2026, 4, 1))],
            options: vec![sendback("s1", "a1")],
            ..Default::default()
        };
        let d = Designation {
            id: "d1".into(),
            rider_contractor_id: "rider".into(),
            management_contract_id: "m1".into(),
            requested_on: date(2026, 4, 1),
            consented_on: Some(date(2026, 4, 2)),
            withdrawn_on: None,
        };
        let standing = |managements| Standing {
            contractor_id: "rider",
            book: &rider,
            designations: std::slice::from_ref(&d),
            designated_managements: managements,
            designated_services: 1,
        };
        assert_eq!(
            unmet(standing(&host.contracts), date(2026, 4, 1)).len(),
            1,
            "before consent"
        );
        assert!(unmet(standing(&host.contracts), date(2026, 4, 2)).is_empty());

        // The host cancels its management: notice 2026-05-01 → ends 2026-05-15.
        let after = host.with(
            &cancel_contract(&host, "m1", Termination::Notice, date(2026, 5, 1), None).unwrap(),
        );
        let hit = impact(
            standing(&host.contracts),
            standing(&after.contracts),
            date(2026, 5, 16),
        )
        .unwrap();
        assert_eq!(hit.contractor_id, "rider");
        assert_eq!(hit.newly_unmet[0].rule, "R6.1");
    }

    #[test]
    fn r6_3_redirect_needs_consent_then_approval() {
        let mut r = InvoiceRedirect {
            id: "r1".into(),
            management_contract_id: "m1".into(),
            target_contractor_id: "k2".into(),
            requested_on: date(2026, 4, 1),
            consented_on: None,
            approved_on: None,
            ended_on: None,
        };
        assert_eq!(
            approve_redirect(&r, date(2026, 4, 3)).unwrap_err().rule,
            "R6.3"
        );
        r.consented_on = Some(consent(r.requested_on, r.consented_on, date(2026, 4, 2)).unwrap());
        assert_eq!(
            consent(r.requested_on, r.consented_on, date(2026, 4, 2))
                .unwrap_err()
                .rule,
            "already_consented"
        );
        r.approved_on = Some(approve_redirect(&r, date(2026, 4, 5)).unwrap());
        assert!(!r.in_force_on(date(2026, 4, 4)));
        assert!(r.in_force_on(date(2026, 4, 5)));
    }
}
