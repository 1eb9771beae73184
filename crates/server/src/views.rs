//! Turning a contractor's book and the engine's answers into the API's views (shared by the
//! HTTP handlers and the CLI).

use jiff::civil::Date;
use mpc_api_types::contracts::{
    AssignmentView, ChargeLineView, ContractView, Dated, DefaultedDates, DeviceView,
    EarlyTerminationView, EndingView, GroupView, ImpactView, MemberView, OptionView, Provisioning,
    QuoteView, RemainingDaysView, UnmetView,
};
use mpc_api_types::contracts::{Created, DecisionView, RequestView};
use mpc_domain::book::{
    Book, Contract, ContractOption, Device, Ending, PacketShareGroup, Timeline,
};
use mpc_domain::catalog::ContractKind;
use mpc_domain::contract::minimum_period_end;
use mpc_domain::eligibility::Unmet;
use mpc_domain::ending::option_minimum_period_end;
use mpc_domain::provisioning::contract_provisionable;
use mpc_storage::contracts::quote::Quote;
use mpc_storage::contracts::requests::{EngineError, RequestRecord};

fn text(d: Option<Date>) -> Option<String> {
    d.map(|d| d.to_string())
}

fn dated<T: Clone>(t: &Timeline<T>) -> Vec<Dated<T>> {
    t.entries()
        .iter()
        .map(|(from, value)| Dated {
            from: from.to_string(),
            value: value.clone(),
        })
        .collect()
}

pub fn ending(e: &Option<Ending>) -> Option<EndingView> {
    e.as_ref().map(|e| EndingView {
        on: e.on.to_string(),
        reason: e.reason,
        rule: e.reason.rule().to_owned(),
        notice_arrived_on: text(e.notice_arrived_on),
        requested_on: text(e.requested_on),
        exempt_from_early_termination: e.exempt_from_early_termination,
    })
}

/// A contract's number (`C-000123`) and site label (none when empty), by its id.
pub type NameOf<'a> = &'a dyn Fn(&str) -> (Option<String>, Option<String>);

/// [`NameOf`] for contracts in `book`: the book already holds their numbers and labels.
pub fn name_in(book: &Book) -> impl Fn(&str) -> (Option<String>, Option<String>) + '_ {
    |id| match book.contract(id) {
        Some(c) => (
            c.number.map(|n| n.to_string()),
            (!c.label.is_empty()).then(|| c.label.clone()),
        ),
        None => (None, None),
    }
}

pub fn option(book: &Book, o: &ContractOption, as_of: Date) -> OptionView {
    let billing_start = book
        .contract(&o.contract_id)
        .and_then(|c| o.billing_start(c));
    OptionView {
        id: o.id.clone(),
        contract_id: o.contract_id.clone(),
        contract_number: name_in(book)(&o.contract_id).0,
        kind: o.kind,
        status: o.status(as_of),
        applied_on: o.applied_on.to_string(),
        accepted_on: o.accepted_on.to_string(),
        billing_start: text(billing_start),
        minimum_period_end: text(option_minimum_period_end(billing_start)),
        install_address: o.install_address.clone(),
        usage_type: o.usage_type(as_of),
        usage_types: dated(&o.usage_types),
        network_type: o.network_type(as_of),
        network_types: dated(&o.network_types),
        group_id: book.group_of(&o.id, as_of).map(|g| g.id.clone()),
        ending: ending(&o.ending),
    }
}

pub fn contract(book: &Book, c: &Contract, as_of: Date) -> ContractView {
    let device = book.device_of(&c.id, as_of);
    let provisioning =
        (c.kind == ContractKind::ServiceAdapter).then(|| {
            match contract_provisionable(book, c, as_of) {
                Ok(()) => Provisioning {
                    provisionable: true,
                    code: None,
                    reason: None,
                    reason_ja: None,
                },
                Err(r) => Provisioning {
                    provisionable: false,
                    code: Some(r.rule.to_owned()),
                    reason: Some(r.message_en),
                    reason_ja: Some(r.message_ja),
                },
            }
        });
    ContractView {
        id: c.id.clone(),
        number: c.number,
        label: c.label.clone(),
        contractor_id: c.contractor_id.clone(),
        kind: c.kind,
        as_of: as_of.to_string(),
        status: c.status(as_of),
        device_type: c.device_type,
        item: c.item(as_of),
        items: dated(&c.items),
        management_id: c.management_id.clone(),
        // Another contractor's management is not in this book: the app layer names it.
        management_number: c
            .management_id
            .as_deref()
            .and_then(|m| book.contract(m)?.number)
            .map(|n| n.to_string()),
        applied_on: c.applied_on.to_string(),
        accepted_on: c.accepted_on.to_string(),
        billing_start: text(c.billing_start),
        minimum_period_end: text(minimum_period_end(c)),
        ending: ending(&c.ending),
        serial: device.map(|d| d.serial.clone()),
        provisioning,
        options: book
            .options_of(&c.id)
            .map(|o| option(book, o, as_of))
            .collect(),
    }
}

pub fn group(g: &PacketShareGroup, as_of: Date) -> GroupView {
    GroupView {
        id: g.id.clone(),
        contractor_id: g.contractor_id.clone(),
        as_of: as_of.to_string(),
        status: g.status(as_of),
        accepted_on: g.accepted_on.to_string(),
        pack_gb: g.pack_gb(as_of),
        packs: dated(&g.packs),
        members: g
            .members
            .iter()
            .map(|m| MemberView {
                option_id: m.option_id.clone(),
                from: m.from.to_string(),
                until: text(m.until),
            })
            .collect(),
        ending: ending(&g.ending),
    }
}

pub fn device(d: &Device, as_of: Date, name_of: NameOf<'_>) -> DeviceView {
    let (contract_number, contract_label) = d.contract_on(as_of).map(name_of).unwrap_or_default();
    DeviceView {
        serial: d.serial.clone(),
        device_type: d.device_type,
        as_of: as_of.to_string(),
        state: d.state_on(as_of),
        contract_id: d.contract_on(as_of).map(str::to_owned),
        contract_number,
        contract_label,
        assignments: d
            .assignments
            .iter()
            .map(|a| AssignmentView {
                contract_id: a.contract_id.clone(),
                contract_number: name_of(&a.contract_id).0,
                from: a.from.to_string(),
                until: text(a.until),
            })
            .collect(),
        return_due: text(d.return_due),
        overdue: d.return_due.is_some_and(|due| due < as_of)
            && d.returned_on.is_none()
            && d.lost_on.is_none(),
        returned_on: text(d.returned_on),
        lost_on: text(d.lost_on),
        found_on: text(d.found_on),
    }
}

pub fn unmet_view(u: Unmet) -> UnmetView {
    UnmetView {
        rule: u.rule.to_owned(),
        message: u.message_en,
        message_ja: u.message_ja,
    }
}

pub fn quote(
    contract_id: String,
    arrived: Date,
    requested: Option<Date>,
    quote: Quote,
    defaulted_dates: DefaultedDates,
) -> QuoteView {
    QuoteView {
        contract_id,
        contract_number: None,
        contract_label: None,
        notice_arrived_on: arrived.to_string(),
        requested_on: text(requested),
        end_on: quote.end_on.to_string(),
        effects: quote.effects.clone(),
        exempt_from_early_termination: quote.exempt_from_early_termination,
        early_termination: quote
            .early_termination
            .into_iter()
            .map(|e| EarlyTerminationView {
                subject: e.subject,
                what: e.what,
                minimum_period_end: text(e.minimum_period_end),
                remaining: e
                    .remaining
                    .into_iter()
                    .map(|r| RemainingDaysView {
                        month: r.month.to_string(),
                        days: r.days,
                        days_in_month: r.days_in_month,
                    })
                    .collect(),
            })
            .collect(),
        eligibility_impact: quote
            .eligibility_impact
            .into_iter()
            .map(|i| ImpactView {
                contractor_id: i.contractor_id,
                from: i.from.to_string(),
                unmet: i.newly_unmet.into_iter().map(unmet_view).collect(),
                contracts: i.contracts,
            })
            .collect(),
        early_termination_charge: quote
            .charge
            .as_ref()
            .ok()
            .map(|lines| lines.iter().map(|l| l.amount).sum()),
        early_termination_lines: quote
            .charge
            .as_ref()
            .map(|lines| {
                lines
                    .iter()
                    .map(|l| ChargeLineView {
                        subject_id: l.subject_id.clone(),
                        description: l.description.clone(),
                        description_en: l.text.en(),
                        period_from: l.period_from.to_string(),
                        period_to: l.period_to.to_string(),
                        days: l.days,
                        days_in_month: l.days_in_month,
                        monthly_fee: l.unit_amount,
                        amount: l.amount,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        missing_prices: quote
            .charge
            .as_ref()
            .err()
            .map(|m| m.iter().map(ToString::to_string).collect())
            .unwrap_or_default(),
        defaulted_dates,
    }
}

pub fn request(
    row: RequestRecord,
    defaulted_dates: DefaultedDates,
) -> Result<RequestView, EngineError> {
    let status = row.status;
    let decision: Option<DecisionView> = row
        .decision
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok());
    Ok(RequestView {
        request: row.request()?,
        created: decision
            .as_ref()
            .map(|d| Created::by(d.effects()))
            .unwrap_or_default(),
        decision,
        number: row.number().to_string(),
        id: row.id,
        contractor_id: row.contractor_id,
        kind: row.kind,
        contract_number: None,
        contract_label: None,
        submitted_on: row.submitted_on,
        submitted_by: row.submitted_by,
        submitted_by_name: None,
        status,
        decided_on: row.decided_on,
        decided_by: row.decided_by,
        decided_by_name: None,
        defaulted_dates,
    })
}
