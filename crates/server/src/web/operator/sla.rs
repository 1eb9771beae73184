//! `/console/sla`: outages and SLA claims (R16). Operators record outages and approve or
//! refuse claims with a reason; a contractor sees its claims and the outages that touched its
//! contracts, and claims the credit of one (by the deadline, R16.3).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum_extra::extract::Form;
use mpc_api_types::billing::{DecideClaim, OutageView, RecordOutage, SubmitClaim};
use mpc_domain::sla::ClaimStatus;
use serde::Deserialize;

use super::form::{OperatorForm, csrf_field};
use super::{
    Pager, Sort, confirmed, contractor_names, date_field, field_problem, href, only_operators,
    page_of, pager, refusal, render_form, unconfirmed, when,
};
use crate::AppState;
use crate::app::contracts::Choice;
use crate::app::sla::{self, Claim, Decision};
use crate::app::support::MAX_LIMIT;
use crate::app::support::today;
use crate::app::{Input, journal};
use crate::error::ApiError;
use crate::web::i18n::Lang;
use crate::web::session::Section;
use crate::web::{Chrome, Namer, Session, Shown, WebError, WebResult, see_other};

csrf_field!(DecideForm, OutageForm);

/// Every contractor's claims, for operators. The API lists claims per contractor only, so the
/// operator's queue reads them from storage, after the same operator check the API makes.
pub async fn all_claims(state: &AppState, session: &Session) -> WebResult<Vec<Claim>> {
    only_operators(session)?;
    Ok(sla::all_claims(state, &session.caller()).await?)
}

/// The reasons operators gave for refusals, by claim id, from the journal the caller may read.
async fn refusal_reasons(
    state: &AppState,
    session: &Session,
) -> WebResult<HashMap<String, String>> {
    let search = journal::Search {
        operation: Some("sla_claim.refuse".into()),
        limit: Some(MAX_LIMIT),
        ..journal::Search::default()
    };
    let entries = journal::list(state, &session.caller(), search)
        .await?
        .entries;
    Ok(entries
        .into_iter()
        .filter_map(|e| {
            let how: DecideClaim = serde_json::from_value(e.request).ok()?;
            Some((e.subject?, how.reason?))
        })
        .collect())
}

fn claim_status(lang: Lang, state: ClaimStatus) -> (&'static str, &'static str) {
    let t = lang.t();
    match state {
        ClaimStatus::Pending => (t.op_claim_pending, "pending"),
        ClaimStatus::Approved => (t.op_claim_approved, "active"),
        ClaimStatus::Refused => (t.op_claim_refused, "ended"),
    }
}

pub struct OutageRow {
    pub id: String,
    pub number: String,
    pub learned: String,
    pub restored: String,
    pub operator_caused: bool,
    pub full_days: i64,
    pub qualifies: bool,
    pub window: String,
    /// The contracts it touched: id and name (`C-000123 本社`).
    pub contract_ids: Vec<(String, String)>,
    pub management_id: Option<(String, String)>,
    pub description: String,
    /// For a contractor: its service adapters the outage touched, which it may claim for
    /// (id and name).
    pub claimable: Vec<(String, String)>,
}

/// The contracts `outages` and `claims` name, looked up in one go.
async fn outage_namer(
    state: &AppState,
    session: &Session,
    outages: &[OutageView],
    claims: &[Claim],
) -> WebResult<Namer> {
    let ids: Vec<String> = outages
        .iter()
        .flat_map(|o| o.contract_ids.iter().chain(o.management_id.iter()).cloned())
        .chain(claims.iter().map(|c| c.contract_id.clone()))
        .collect();
    Namer::load(state, session, &ids, &[]).await
}

fn outage_row(lang: Lang, namer: &Namer, o: &OutageView) -> OutageRow {
    let named = |id: &String| (id.clone(), namer.contract(id));
    OutageRow {
        id: o.id.clone(),
        number: o.number.clone(),
        learned: when(lang, &o.learned_at),
        restored: when(lang, &o.restored_at),
        operator_caused: o.operator_caused,
        full_days: o.full_days,
        qualifies: o.qualifies,
        window: format!(
            "{} – {}",
            lang.date(&o.claimable_from),
            lang.date(&o.claim_deadline)
        ),
        contract_ids: o.contract_ids.iter().map(named).collect(),
        management_id: o.management_id.as_ref().map(named),
        description: o.description.clone(),
        claimable: Vec::new(),
    }
}

pub struct ClaimLine {
    pub id: String,
    pub number: String,
    pub claimed_on: String,
    claimed_iso: String,
    pub contractor_id: String,
    pub contractor: String,
    pub contract_id: String,
    /// `C-000123 本社`.
    pub contract: String,
    pub outage: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub pending: bool,
    pub decided_on: String,
    pub reason: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    sort: String,
    after: String,
    done: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OutageForm {
    csrf: String,
    learned_at: String,
    restored_at: String,
    operator_caused: String,
    scope: String,
    contract_ids: String,
    management_id: String,
    description: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DecideForm {
    csrf: String,
    on: String,
    reason: String,
    confirm: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ClaimForm {
    csrf: String,
    outage_id: String,
    contract_id: String,
}

#[derive(askama::Template)]
#[template(path = "web/operator/sla.html")]
struct OperatorPage {
    c: Chrome,
    notice: Option<&'static str>,
    claims: Vec<ClaimLine>,
    sort: Sort,
    pager: Pager,
    today: String,
    /// The claim a refused decision was about, and the problem.
    decide_problem: Option<(String, Shown)>,
    outages: Vec<OutageRow>,
    outage: OutageForm,
    outage_problem: Option<Shown>,
    /// The contracts in service the outage form offers.
    adapters: Vec<Choice>,
    managements: Vec<Choice>,
}

#[derive(askama::Template)]
#[template(path = "web/operator/sla_contractor.html")]
struct ContractorPage {
    c: Chrome,
    notice: Option<&'static str>,
    claims: Vec<ClaimLine>,
    outages: Vec<OutageRow>,
    claim: ClaimForm,
    problem: Option<Shown>,
}

fn notice(lang: Lang, done: &str) -> Option<&'static str> {
    let t = lang.t();
    match done {
        "recorded" => Some(t.op_outage_recorded),
        "approved" => Some(t.op_claim_done_approved),
        "refused" => Some(t.op_claim_done_refused),
        "claimed" => Some(t.op_claim_done_submitted),
        _ => None,
    }
}

/// `/console/sla`: the operator's view for operators, the contractor's own for contractors.
pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<PageQuery>,
) -> WebResult {
    if session.is_operator() {
        operator_page(&state, &session, &q, None, OutageForm::default(), None).await
    } else {
        contractor_page(&state, &session, &q, ClaimForm::default(), None).await
    }
}

async fn outages(state: &AppState, session: &Session) -> WebResult<Vec<OutageView>> {
    Ok(sla::outages(state, &session.caller()).await?)
}

fn claim_lines(
    lang: Lang,
    namer: &Namer,
    claims: Vec<Claim>,
    outages: &[OutageView],
    names: &HashMap<String, String>,
    reasons: &HashMap<String, String>,
) -> Vec<ClaimLine> {
    claims
        .into_iter()
        .map(|c| {
            let (status, status_class) = claim_status(lang, c.state);
            let outage = outages
                .iter()
                .find(|o| o.id == c.outage_id)
                .map(|o| {
                    format!(
                        "{} {} – {} ({} {})",
                        o.number,
                        when(lang, &o.learned_at),
                        when(lang, &o.restored_at),
                        o.full_days,
                        lang.t().op_full_days
                    )
                })
                .unwrap_or_else(|| c.outage_id.clone());
            ClaimLine {
                number: c.number.to_string(),
                claimed_on: lang.date(&c.claimed_on),
                claimed_iso: c.claimed_on.clone(),
                contractor: names
                    .get(&c.contractor_id)
                    .cloned()
                    .unwrap_or_else(|| c.contractor_id.clone()),
                contractor_id: c.contractor_id,
                contract: namer.contract(&c.contract_id),
                contract_id: c.contract_id,
                outage,
                status,
                status_class,
                pending: c.state == ClaimStatus::Pending,
                decided_on: c
                    .decided_on
                    .as_deref()
                    .map(|d| lang.date(d))
                    .unwrap_or_default(),
                reason: reasons.get(&c.id).cloned().unwrap_or_default(),
                id: c.id,
            }
        })
        .collect()
}

async fn operator_page(
    state: &AppState,
    session: &Session,
    q: &PageQuery,
    decide_problem: Option<(String, Shown)>,
    outage: OutageForm,
    outage_problem: Option<Shown>,
) -> WebResult {
    let lang = session.lang;
    let claims = all_claims(state, session).await?;
    let outages = outages(state, session).await?;
    let names = contractor_names(
        state,
        session,
        claims.iter().map(|c| c.contractor_id.clone()).collect(),
    )
    .await?;
    let reasons = refusal_reasons(state, session).await?;
    let namer = outage_namer(state, session, &outages, &claims).await?;
    let choices = crate::app::contracts::in_service(state, &session.caller()).await?;
    let (managements, adapters) = choices.into_iter().partition(|c| c.management);
    let mut lines = claim_lines(lang, &namer, claims, &outages, &names, &reasons);
    // Claims to decide first, oldest first, unless asked otherwise.
    let sort = Sort::new(
        "sort",
        Some(&q.sort),
        &["status", "claimed", "contractor"],
        "/console/sla".into(),
    );
    sort.apply(&mut lines, |l, key| match key {
        "claimed" => (0, l.claimed_iso.clone()),
        "contractor" => (0, l.contractor.clone()),
        _ => (i64::from(!l.pending), l.claimed_iso.clone()),
    });
    let (claims, next) = page_of(lines, Some(&q.after));
    let pager = pager(
        &href("/console/sla", &[("sort", &q.sort)]),
        "after",
        Some(&q.after),
        next,
    );
    let failed = decide_problem.is_some() || outage_problem.is_some();
    Ok(render_form(
        OperatorPage {
            c: session.chrome(session.t().nav_sla, Section::Sla),
            notice: notice(lang, &q.done),
            claims,
            sort,
            pager,
            today: today().to_string(),
            decide_problem,
            outages: outages
                .iter()
                .map(|o| outage_row(lang, &namer, o))
                .collect(),
            outage,
            outage_problem,
            adapters,
            managements,
        },
        failed,
    ))
}

async fn contractor_page(
    state: &AppState,
    session: &Session,
    q: &PageQuery,
    claim: ClaimForm,
    problem: Option<Shown>,
) -> WebResult {
    let lang = session.lang;
    let own = session
        .contractor_id()
        .ok_or_else(|| WebError(ApiError::not_found()))?
        .to_owned();
    let claims = sla::claims(state, &session.caller(), &own).await?;
    let outages = outages(state, session).await?;
    let contracts = crate::app::contracts::list(state, &session.caller(), &own, None).await?;
    let reasons = refusal_reasons(state, session).await?;
    let names = HashMap::new();
    let namer = outage_namer(state, session, &outages, &claims).await?;
    let claims = claim_lines(lang, &namer, claims, &outages, &names, &reasons);
    let outages = outages
        .iter()
        .map(|o| {
            let mut row = outage_row(lang, &namer, o);
            row.claimable = contracts
                .iter()
                .filter(|k| k.kind == mpc_domain::catalog::ContractKind::ServiceAdapter)
                .filter(|k| {
                    o.contract_ids.contains(&k.id)
                        || (o.management_id.is_some() && k.management_id == o.management_id)
                })
                .map(|k| {
                    (
                        k.id.clone(),
                        crate::web::contract_name(k.number, &k.label, &k.id),
                    )
                })
                .collect();
            row
        })
        .collect();
    let failed = problem.is_some();
    Ok(render_form(
        ContractorPage {
            c: session.chrome(session.t().nav_sla, Section::Sla),
            notice: notice(lang, &q.done),
            claims,
            outages,
            claim,
            problem,
        },
        failed,
    ))
}

/// A `datetime-local` value read as Tokyo time (Japan keeps no summer time), as RFC 3339.
fn tokyo_instant(lang: Lang, field: &str, value: &str) -> Result<String, Shown> {
    let t = lang.t();
    if value.trim().is_empty() {
        return Err(field_problem(lang, field, t.op_required));
    }
    value
        .trim()
        .parse::<jiff::civil::DateTime>()
        .map(|dt| format!("{}+09:00", dt.strftime("%Y-%m-%dT%H:%M:%S")))
        .map_err(|_| field_problem(lang, field, t.op_invalid_datetime))
}

fn outage_request(lang: Lang, form: &OutageForm) -> Result<RecordOutage, Shown> {
    let t = lang.t();
    let mut request = RecordOutage {
        learned_at: tokyo_instant(lang, "learned_at", &form.learned_at)?,
        restored_at: tokyo_instant(lang, "restored_at", &form.restored_at)?,
        operator_caused: form.operator_caused == "yes",
        contract_ids: Vec::new(),
        management_id: None,
        description: form.description.trim().to_owned(),
    };
    if form.scope == "management" {
        let m = form.management_id.trim();
        if m.is_empty() {
            return Err(field_problem(lang, "management_id", t.op_required));
        }
        request.management_id = Some(m.to_owned());
    } else {
        request.contract_ids = form
            .contract_ids
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if request.contract_ids.is_empty() {
            return Err(field_problem(lang, "contract_ids", t.op_required));
        }
    }
    Ok(request)
}

/// `request` with every contract it names (a number such as `C-000123`, or an id) resolved
/// to its id; a name that finds no contract is the field's problem, and nothing is recorded.
async fn resolved(
    state: &AppState,
    session: &Session,
    request: Result<RecordOutage, Shown>,
) -> WebResult<Result<RecordOutage, Shown>> {
    let Ok(mut request) = request else {
        return Ok(request);
    };
    let lang = session.lang;
    let t = lang.t();
    let caller = session.caller();
    let unknown = |field: &str, named: &str| {
        field_problem(
            lang,
            field,
            &format!("{}{}{named}", t.op_no_such_contract, t.op_colon),
        )
    };
    let find = async |named: &str| match crate::app::contracts::resolve(state, &caller, named).await
    {
        Ok(r) => Ok(Some(r.id)),
        Err(e) if e.status.is_client_error() => Ok(None),
        Err(e) => Err(WebError(e)),
    };
    if let Some(m) = request.management_id.take() {
        match find(&m).await? {
            Some(id) => request.management_id = Some(id),
            None => return Ok(Err(unknown("management_id", &m))),
        }
    }
    let mut ids = Vec::with_capacity(request.contract_ids.len());
    for named in &request.contract_ids {
        match find(named).await? {
            Some(id) => ids.push(id),
            None => return Ok(Err(unknown("contract_ids", named))),
        }
    }
    request.contract_ids = ids;
    Ok(Ok(request))
}

pub async fn record_outage(
    State(state): State<AppState>,
    OperatorForm { session, form }: OperatorForm<OutageForm>,
) -> WebResult {
    let lang = session.lang;
    let problem = match resolved(&state, &session, outage_request(lang, &form)).await? {
        Ok(request) => {
            match sla::record_outage(&state, &session.caller(), Input::Value(request)).await {
                Ok(_) => return Ok(see_other("/console/sla?done=recorded#outages")),
                Err(e) => refusal(lang, e)?,
            }
        }
        Err(shown) => shown,
    };
    operator_page(
        &state,
        &session,
        &PageQuery::default(),
        None,
        form,
        Some(problem),
    )
    .await
}

async fn decide(
    state: AppState,
    session: Session,
    id: String,
    form: DecideForm,
    approve: bool,
) -> WebResult {
    let lang = session.lang;
    let problem = if !confirmed(&form.confirm) {
        unconfirmed(lang)
    } else if !approve && form.reason.trim().is_empty() {
        field_problem(lang, "reason", session.t().op_required)
    } else {
        match date_field(lang, "on", &form.on) {
            Err(shown) => shown,
            Ok(on) => {
                let reason = form.reason.trim();
                let how = DecideClaim {
                    on: on.map(|d| d.to_string()),
                    reason: (!reason.is_empty()).then(|| reason.to_owned()),
                };
                let decision = if approve {
                    Decision::Approve
                } else {
                    Decision::Refuse
                };
                match sla::decide(&state, &session.caller(), &id, decision, Input::Value(how)).await
                {
                    Ok(_) => {
                        let done = if approve { "approved" } else { "refused" };
                        return Ok(see_other(&format!("/console/sla?done={done}#claims")));
                    }
                    Err(e) => refusal(lang, e)?,
                }
            }
        }
    };
    operator_page(
        &state,
        &session,
        &PageQuery::default(),
        Some((id, problem)),
        OutageForm::default(),
        None,
    )
    .await
}

pub async fn approve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    OperatorForm { session, form }: OperatorForm<DecideForm>,
) -> WebResult {
    decide(state, session, id, form, true).await
}

pub async fn refuse(
    State(state): State<AppState>,
    Path(id): Path<String>,
    OperatorForm { session, form }: OperatorForm<DecideForm>,
) -> WebResult {
    decide(state, session, id, form, false).await
}

/// A contractor claims the credit of an outage for one of its service adapters.
pub async fn claim(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<ClaimForm>,
) -> WebResult {
    session.check_csrf(&form.csrf)?;
    let lang = session.lang;
    let problem = if form.contract_id.trim().is_empty() {
        field_problem(lang, "contract_id", session.t().op_required)
    } else {
        let new = SubmitClaim {
            outage_id: form.outage_id.clone(),
            claimed_on: None,
        };
        match sla::claim(
            &state,
            &session.caller(),
            form.contract_id.trim(),
            Input::Value(new),
        )
        .await
        {
            Ok(_) => return Ok(see_other("/console/sla?done=claimed")),
            Err(e) => refusal(lang, e)?,
        }
    };
    if session.is_operator() {
        return operator_page(
            &state,
            &session,
            &PageQuery::default(),
            None,
            OutageForm::default(),
            Some(problem),
        )
        .await;
    }
    contractor_page(&state, &session, &PageQuery::default(), form, Some(problem)).await
}
