//! `/console/queue/requests/{id}`: one request, what it asks, and the forms to accept or reject it.

use axum::extract::{Path, Query, State};
use mpc_api_types::contracts::{DecisionView, RejectRequest};
use mpc_domain::request::{Acceptance, Request, RequestStatus};
use serde::Deserialize;

use super::super::form::{OperatorForm, csrf_field};
use super::super::{
    confirmed, contractor_names, date_field, field_problem, only_operators, refusal, render_form,
    unconfirmed,
};
use super::preview::{Outcome, PreviewForm, outcome, termination};
use crate::AppState;
use crate::app::support::today;
use crate::app::{Input, fleet, requests};
use crate::web::i18n::{Lang, request_kind};
use crate::web::session::Section;
use crate::web::{Chrome, Namer, Session, Shown, WebResult, actor_label, see_other};

csrf_field!(AcceptForm, RejectForm);

fn status_label(lang: Lang, status: RequestStatus) -> &'static str {
    let t = lang.t();
    match status {
        RequestStatus::Pending => t.request_pending,
        RequestStatus::Accepted => t.request_accepted,
        RequestStatus::Rejected => t.request_rejected,
        RequestStatus::Withdrawn => t.request_withdrawn,
    }
}

/// One thing a request names, with a link when it is a contract.
pub struct Fact {
    pub label: &'static str,
    pub value: String,
    pub href: Option<String>,
    /// What the value names, when it is an id.
    pub names: Names,
}

/// What kind of id a fact's value is, so it can be shown by name.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Names {
    Nothing,
    Contract,
    Option,
    Group,
}

fn fact(label: &'static str, value: impl Into<String>) -> Fact {
    Fact {
        label,
        value: value.into(),
        href: None,
        names: Names::Nothing,
    }
}

fn id_fact(label: &'static str, id: &str, names: Names) -> Fact {
    Fact {
        names,
        ..fact(label, id)
    }
}

fn contract_fact(label: &'static str, id: &str) -> Fact {
    Fact {
        href: Some(format!("/console/contracts/{id}")),
        ..id_fact(label, id, Names::Contract)
    }
}

/// The contract and option ids `facts` name, to be looked up in one go.
pub(super) fn named_ids<'a>(
    facts: impl IntoIterator<Item = &'a Fact>,
) -> (Vec<String>, Vec<String>) {
    let (mut contracts, mut options) = (Vec::new(), Vec::new());
    for f in facts {
        match f.names {
            Names::Contract => contracts.push(f.value.clone()),
            Names::Option => options.push(f.value.clone()),
            Names::Nothing | Names::Group => {}
        }
    }
    (contracts, options)
}

/// `facts` with contracts and options shown by name (`C-000123 本社`,
/// `モバイルアクセスオプション（C-000123）`) rather than by id.
pub(super) fn name_facts(facts: &mut [Fact], namer: &Namer) {
    for f in facts {
        match f.names {
            Names::Contract => f.value = namer.contract(&f.value),
            Names::Option => f.value = namer.option(&f.value),
            Names::Nothing | Names::Group => {}
        }
    }
}

/// What a request asks, field by field, in the page's language.
pub(super) fn facts(lang: Lang, r: &Request) -> Vec<Fact> {
    let t = lang.t();
    let requested = |d: &Option<jiff::civil::Date>| {
        d.map(|d| fact(t.op_requested_on, lang.date(&d.to_string())))
    };
    let mut out = Vec::new();
    match r {
        Request::ApplyContract {
            contract_kind,
            item,
            device_type,
            management_id,
            label,
        } => {
            out.push(fact(
                t.op_contract_kind,
                lang.pick(contract_kind.label_ja(), contract_kind.label_en()),
            ));
            if let Some(i) = item {
                out.push(fact(t.op_item, lang.pick(i.label_ja(), i.label_en())));
            }
            if let Some(d) = device_type {
                out.push(fact(
                    t.op_device_type,
                    lang.pick(d.label_ja(), d.label_en()),
                ));
            }
            if let Some(m) = management_id {
                out.push(contract_fact(t.op_management, m));
            }
            if let Some(l) = label.as_deref().filter(|l| !l.trim().is_empty()) {
                out.push(fact(t.contract_label, l.trim().to_owned()));
            }
        }
        Request::ChangeItem { contract_id, item } => {
            out.push(contract_fact(t.op_contract, contract_id));
            out.push(fact(t.op_item, lang.pick(item.label_ja(), item.label_en())));
        }
        Request::AddOption {
            contract_id,
            option_kind,
            install_address,
            usage_type,
            network_type,
            group,
        } => {
            out.push(contract_fact(t.op_contract, contract_id));
            out.push(fact(
                t.op_option_kind,
                lang.pick(option_kind.label_ja(), option_kind.label_en()),
            ));
            if let Some(a) = install_address {
                out.push(fact(t.op_install_address, a.clone()));
            }
            if let Some(u) = usage_type {
                out.push(fact(t.op_usage_type, lang.pick(u.label_ja(), u.label_en())));
            }
            if let Some(n) = network_type {
                out.push(fact(
                    t.op_network_type,
                    lang.pick(n.label_ja(), n.label_en()),
                ));
            }
            if let Some(g) = group.as_ref().and_then(|g| g.group_id.as_deref()) {
                out.push(id_fact(t.op_group, g, Names::Group));
            }
            if let Some(gb) = group.as_ref().and_then(|g| g.new_group_pack_gb) {
                out.push(fact(t.op_pack, format!("{gb} GB")));
            }
        }
        Request::ChangeUsageType {
            option_id,
            usage_type,
            ..
        } => {
            out.push(id_fact(t.op_option, option_id, Names::Option));
            out.push(fact(
                t.op_usage_type,
                lang.pick(usage_type.label_ja(), usage_type.label_en()),
            ));
        }
        Request::ChangeNetworkType {
            option_id,
            network_type,
        } => {
            out.push(id_fact(t.op_option, option_id, Names::Option));
            out.push(fact(
                t.op_network_type,
                lang.pick(network_type.label_ja(), network_type.label_en()),
            ));
        }
        Request::ChangePack { group_id, pack_gb } => {
            out.push(id_fact(t.op_group, group_id, Names::Group));
            out.push(fact(t.op_pack, format!("{pack_gb} GB")));
        }
        Request::CancelContract {
            contract_id,
            requested_on,
        } => {
            out.push(contract_fact(t.op_contract, contract_id));
            out.extend(requested(requested_on));
        }
        Request::StopOption {
            option_id,
            requested_on,
        } => {
            out.push(id_fact(t.op_option, option_id, Names::Option));
            out.extend(requested(requested_on));
        }
        Request::StopGroup {
            group_id,
            requested_on,
        } => {
            out.push(id_fact(t.op_group, group_id, Names::Group));
            out.extend(requested(requested_on));
        }
        Request::NotifySerial {
            contract_id,
            serial,
        } => {
            out.push(contract_fact(t.op_contract, contract_id));
            out.push(fact(t.op_serial, serial.clone()));
        }
        Request::ReportFailure {
            contract_id,
            description,
        } => {
            out.push(contract_fact(t.op_contract, contract_id));
            if let Some(d) = description {
                out.push(fact(t.op_description, d.clone()));
            }
        }
        Request::ReportLoss { contract_id } => out.push(contract_fact(t.op_contract, contract_id)),
    }
    out
}

/// The contract whose device accepting `request` replaces: that of a failure or loss report.
fn replaced_contract(request: &Request) -> Option<&str> {
    match request {
        Request::ReportFailure { contract_id, .. } | Request::ReportLoss { contract_id } => {
            Some(contract_id)
        }
        _ => None,
    }
}

struct RequestFacts {
    id: String,
    number: String,
    contractor_id: String,
    contractor: String,
    kind: String,
    status: &'static str,
    status_class: String,
    submitted_on: String,
    submitted_iso: String,
    submitted_by: String,
    decided_on: Option<String>,
    decided_iso: Option<String>,
    decided_by: Option<String>,
    facts: Vec<Fact>,
    decision: Option<DecisionView>,
    /// A rejection's reason.
    reason: Option<String>,
    pending: bool,
    notice: bool,
    replacement: bool,
    /// The contract whose device an acceptance replaces (a failure or loss report).
    replaced_contract: Option<String>,
    failure: bool,
    cancel: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AcceptForm {
    csrf: String,
    on: String,
    replacement_serial: String,
    replaced_on: String,
    contractor_caused: String,
    termination: String,
    confirm: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RejectForm {
    csrf: String,
    reason: String,
    confirm: String,
}

#[derive(askama::Template)]
#[template(path = "web/operator/queue/request.html")]
struct RequestPage {
    c: Chrome,
    r: RequestFacts,
    /// Before acceptance, what accepting with the form's choices would do; after, what it did.
    outcome: Option<Outcome>,
    /// Just accepted.
    done: bool,
    accept: AcceptForm,
    reject: RejectForm,
    accept_problem: Option<Shown>,
    reject_problem: Option<Shown>,
    /// The units the replacement serial offers (R11.1): in stock, of the contract's model.
    spares: Vec<String>,
}

async fn request_facts(state: &AppState, session: &Session, id: &str) -> WebResult<RequestFacts> {
    let lang = session.lang;
    let r = requests::get(state, &session.caller(), id).await?;
    let names = contractor_names(state, session, vec![r.contractor_id.clone()]).await?;
    let kind = r.request.kind();
    let mut facts = facts(lang, &r.request);
    let (contracts, options) = named_ids(&facts);
    name_facts(
        &mut facts,
        &Namer::load(state, session, &contracts, &options).await?,
    );
    Ok(RequestFacts {
        contractor: names
            .get(&r.contractor_id)
            .cloned()
            .unwrap_or_else(|| r.contractor_id.clone()),
        kind: request_kind(lang, &r.kind).to_owned(),
        status: status_label(lang, r.status),
        status_class: r.status.as_str().to_owned(),
        submitted_on: lang.date(&r.submitted_on),
        submitted_iso: r.submitted_on.clone(),
        submitted_by: actor_label(lang, &r.submitted_by, r.submitted_by_name.clone()),
        decided_on: r.decided_on.as_deref().map(|d| lang.date(d)),
        decided_iso: r.decided_on.clone(),
        decided_by: r
            .decided_by
            .as_deref()
            .map(|d| actor_label(lang, d, r.decided_by_name.clone())),
        facts,
        reason: r
            .decision
            .as_ref()
            .and_then(|d| d.reason())
            .map(str::to_owned),
        decision: r.decision,
        pending: r.status == RequestStatus::Pending,
        notice: r.request.is_notice(),
        replacement: matches!(kind, "report_failure" | "report_loss"),
        replaced_contract: replaced_contract(&r.request).map(str::to_owned),
        failure: kind == "report_failure",
        cancel: kind == "cancel_contract",
        contractor_id: r.contractor_id,
        number: r.number,
        id: r.id,
    })
}

#[allow(clippy::too_many_arguments)]
async fn request_view(
    state: &AppState,
    session: &Session,
    id: &str,
    accept: AcceptForm,
    reject: RejectForm,
    accept_problem: Option<Shown>,
    reject_problem: Option<Shown>,
    done: bool,
) -> WebResult {
    let mut r = request_facts(state, session, id).await?;
    let mut accept = accept;
    if accept.on.is_empty() && accept_problem.is_none() {
        // A notice takes effect from the day it arrived, by default the day it was submitted;
        // anything else is accepted today.
        accept.on = if r.notice {
            r.submitted_iso.clone()
        } else {
            today().to_string()
        };
    }
    let outcome = match r.decision.take() {
        _ if r.pending => {
            let form = PreviewForm {
                on: accept.on.clone(),
                termination: accept.termination.clone(),
                replacement_serial: accept.replacement_serial.clone(),
                replaced_on: accept.replaced_on.clone(),
                contractor_caused: accept.contractor_caused.clone(),
            };
            Some(outcome(state, session, id, &form).await?)
        }
        Some(DecisionView::Accepted(d)) => {
            let ids = d
                .eligibility_impact
                .iter()
                .map(|i| i.contractor_id.clone())
                .collect();
            let names = contractor_names(state, session, ids).await?;
            let namer = super::preview::namer(state, session, &d).await?;
            let on = r.decided_iso.clone().unwrap_or_default();
            Some(Outcome::of(session.lang, &on, &d, &names, &namer, true))
        }
        _ => None,
    };
    let spares = match &r.replaced_contract {
        Some(k) if r.pending => fleet::spares(state, &session.caller(), k, None).await?,
        _ => Vec::new(),
    };
    let failed = accept_problem.is_some() || reject_problem.is_some();
    let title = format!("{} {}", r.kind, r.number);
    Ok(render_form(
        RequestPage {
            c: session.chrome(&title, Section::Queue),
            r,
            outcome,
            done,
            accept,
            reject,
            accept_problem,
            reject_problem,
            spares,
        },
        failed,
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Done {
    done: String,
}

pub async fn request_page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> WebResult {
    only_operators(&session)?;
    request_view(
        &state,
        &session,
        &id,
        AcceptForm::default(),
        RejectForm::default(),
        None,
        None,
        q.done == "accepted",
    )
    .await
}

/// The replacement serial of `form` as the inventory writes it, when the request `id` replaces
/// a device and the serial names a unit that may replace it ([`fleet::spares`]); a serial typed
/// that names none is named at its field (R11.1).
async fn replacement_serial(
    state: &AppState,
    session: &Session,
    id: &str,
    form: &AcceptForm,
) -> WebResult<Result<String, Shown>> {
    let typed = form.replacement_serial.trim();
    if typed.is_empty() {
        return Ok(Ok(String::new()));
    }
    let caller = session.caller();
    let request = requests::get(state, &caller, id).await?;
    let Some(contract) = replaced_contract(&request.request) else {
        return Ok(Ok(typed.to_owned()));
    };
    Ok(fleet::spares(state, &caller, contract, Some(typed))
        .await?
        .pop()
        .ok_or_else(|| {
            field_problem(
                session.lang,
                "replacement_serial",
                session.t().op_replacement_not_spare,
            )
        }))
}

/// The acceptance, from the form.
fn acceptance(lang: Lang, form: &AcceptForm) -> Result<Acceptance, Shown> {
    if !confirmed(&form.confirm) {
        return Err(unconfirmed(lang));
    }
    let serial = form.replacement_serial.trim();
    Ok(Acceptance {
        on: date_field(lang, "on", &form.on)?,
        replaced_on: date_field(lang, "replaced_on", &form.replaced_on)?,
        replacement_serial: (!serial.is_empty()).then(|| serial.to_owned()),
        contractor_caused: form.contractor_caused == "yes",
        termination: termination(&form.termination)
            .map_err(|()| field_problem(lang, "termination", lang.t().op_choose_from_list))?,
    })
}

pub async fn accept(
    State(state): State<AppState>,
    Path(id): Path<String>,
    OperatorForm { session, form }: OperatorForm<AcceptForm>,
) -> WebResult {
    let lang = session.lang;
    let mut form = form;
    let checked = match replacement_serial(&state, &session, &id, &form).await? {
        Ok(serial) => {
            form.replacement_serial = serial;
            acceptance(lang, &form)
        }
        Err(shown) => Err(shown),
    };
    let problem = match checked {
        Ok(acceptance) => {
            match requests::accept(&state, &session.caller(), &id, Input::Value(acceptance)).await {
                Ok(_) => {
                    return Ok(see_other(&format!(
                        "/console/queue/requests/{id}?done=accepted"
                    )));
                }
                Err(e) => refusal(lang, e)?,
            }
        }
        Err(shown) => shown,
    };
    request_view(
        &state,
        &session,
        &id,
        form,
        RejectForm::default(),
        Some(problem),
        None,
        false,
    )
    .await
}

pub async fn reject(
    State(state): State<AppState>,
    Path(id): Path<String>,
    OperatorForm { session, form }: OperatorForm<RejectForm>,
) -> WebResult {
    let lang = session.lang;
    let problem = if confirmed(&form.confirm) {
        let reason = RejectRequest {
            reason: form.reason.clone(),
        };
        match requests::reject(&state, &session.caller(), &id, Input::Value(reason)).await {
            Ok(_) => return Ok(see_other("/console/queue?done=rejected")),
            Err(e) => refusal(lang, e)?,
        }
    } else {
        unconfirmed(lang)
    };
    request_view(
        &state,
        &session,
        &id,
        AcceptForm::default(),
        form,
        None,
        Some(problem),
        false,
    )
    .await
}
