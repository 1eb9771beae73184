//! `/console/queue/notice`: a cancellation or stop that arrived on paper, recorded for its contractor.

use axum::extract::{Query, State};
use mpc_api_types::contracts::SubmitRequest;
use mpc_domain::request::{Acceptance, Request};
use serde::Deserialize;

use super::super::form::{OperatorForm, csrf_field};
use super::super::{
    confirmed, date_field, field_problem, only_operators, refusal, render_form, unconfirmed,
};
use crate::AppState;
use crate::app::support::today;
use crate::app::{self, Input, requests};
use crate::web::i18n::Lang;
use crate::web::session::Section;
use crate::web::{Chrome, Session, Shown, WebResult, see_other};
use mpc_domain::book::Status;

csrf_field!(NoticeForm);

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeForm {
    csrf: String,
    contractor_id: String,
    kind: String,
    target: String,
    requested_on: String,
    submitted_on: String,
    arrived_on: String,
    accept: String,
    confirm: String,
}

/// Something a notice may name: a contract, option or group of the contractor.
struct Target {
    /// What the form offers: a contract's number, or an option's or group's id.
    id: String,
    /// The id itself, which the form takes as well.
    key: String,
    /// The notice that names it: `cancel_contract`, `stop_option` or `stop_group`.
    kind: &'static str,
    label: String,
}

#[derive(askama::Template)]
#[template(path = "web/operator/queue/notice.html")]
struct NoticePage {
    c: Chrome,
    /// The contractors the contractor field offers: id and name.
    contractors: Vec<(String, String)>,
    form: NoticeForm,
    contractor: Option<String>,
    targets: Vec<Target>,
    problem: Option<Shown>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeQuery {
    contractor_id: String,
}

pub async fn notice_form(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<NoticeQuery>,
) -> WebResult {
    only_operators(&session)?;
    let today = today().to_string();
    let form = NoticeForm {
        contractor_id: q.contractor_id,
        kind: "cancel_contract".into(),
        submitted_on: today.clone(),
        arrived_on: today,
        accept: "yes".into(),
        ..NoticeForm::default()
    };
    notice_page(&state, &session, form, None).await
}

async fn notice_page(
    state: &AppState,
    session: &Session,
    form: NoticeForm,
    problem: Option<Shown>,
) -> WebResult {
    let id = form.contractor_id.trim().to_owned();
    let mut contractor = None;
    let mut targets = Vec::new();
    if !id.is_empty()
        && let Ok(c) = app::contractors::get(state, &session.caller(), &id).await
    {
        contractor = Some(c.name);
        targets = notice_targets(state, session, &id).await?;
    }
    let failed = problem.is_some();
    let contractors = super::super::contractor_choices(state, session).await?;
    Ok(render_form(
        NoticePage {
            contractors,
            c: session.chrome(session.t().op_notice_title, Section::Queue),
            form,
            contractor,
            targets,
            problem,
        },
        failed,
    ))
}

/// What a notice of the contractor `id` may name today: the contracts it may cancel
/// ([`app::contracts::offered`], R13.1) by number, and its options and packet share groups
/// neither ended nor already ending (R9.10). Contracts that ended are not offered.
async fn notice_targets(state: &AppState, session: &Session, id: &str) -> WebResult<Vec<Target>> {
    let lang = session.lang;
    let t = lang.t();
    let caller = session.caller();
    let what = |k: &mpc_api_types::contracts::ContractView| match (k.item, k.device_type) {
        (Some(i), Some(d)) => format!(
            "{} ({} / {})",
            lang.pick(k.kind.label_ja(), k.kind.label_en()),
            lang.pick(i.label_ja(), i.label_en()),
            lang.pick(d.label_ja(), d.label_en())
        ),
        _ => lang.pick(k.kind.label_ja(), k.kind.label_en()).to_owned(),
    };
    let cancellable = app::contracts::offered(
        state,
        &caller,
        id,
        &app::contracts::OfferedQuery {
            kind: "cancel_contract".into(),
            option_kind: None,
            as_of: None,
        },
    )
    .await?;
    let mut targets: Vec<Target> = cancellable
        .iter()
        .map(|k| Target {
            id: k.number.map_or_else(|| k.id.clone(), |n| n.to_string()),
            key: k.id.clone(),
            kind: "cancel_contract",
            label: format!(
                "{} {}{}{} · {}",
                t.op_contract,
                k.label,
                if k.label.is_empty() { "" } else { " " },
                what(k),
                lang.status(k.status)
            ),
        })
        .collect();
    let open = |status: Status, ending: bool| status != Status::Ended && !ending;
    for k in &app::contracts::list(state, &caller, id, None).await? {
        for o in k
            .options
            .iter()
            .filter(|o| open(o.status, o.ending.is_some()))
        {
            targets.push(Target {
                id: o.id.clone(),
                key: o.id.clone(),
                kind: "stop_option",
                label: format!(
                    "{} · {} · {}",
                    crate::web::option_name(
                        lang,
                        o.kind,
                        k.number.map(|n| n.to_string()).as_deref()
                    ),
                    what(k),
                    lang.status(o.status)
                ),
            });
        }
    }
    for g in app::devices::groups(state, &caller, id, None).await? {
        if open(g.status, g.ending.is_some()) {
            targets.push(Target {
                id: g.id.clone(),
                key: g.id.clone(),
                kind: "stop_group",
                label: format!("{} · {}", t.op_group, lang.status(g.status)),
            });
        }
    }
    Ok(targets)
}

/// The submission, from the notice form.
fn notice_request(lang: Lang, form: &NoticeForm) -> Result<SubmitRequest, Shown> {
    let t = lang.t();
    if form.contractor_id.trim().is_empty() {
        return Err(field_problem(lang, "contractor_id", t.op_required));
    }
    let target = form.target.trim();
    if target.is_empty() {
        return Err(field_problem(lang, "target", t.op_required));
    }
    let notice: fn(String, Option<jiff::civil::Date>) -> Request = match form.kind.as_str() {
        "cancel_contract" => |contract_id, requested_on| Request::CancelContract {
            contract_id,
            requested_on,
        },
        "stop_option" => |option_id, requested_on| Request::StopOption {
            option_id,
            requested_on,
        },
        "stop_group" => |group_id, requested_on| Request::StopGroup {
            group_id,
            requested_on,
        },
        _ => return Err(field_problem(lang, "kind", t.op_choose_from_list)),
    };
    if !confirmed(&form.confirm) {
        return Err(unconfirmed(lang));
    }
    let requested_on = date_field(lang, "requested_on", &form.requested_on)?;
    let submitted_on = date_field(lang, "submitted_on", &form.submitted_on)?;
    let arrived = date_field(lang, "arrived_on", &form.arrived_on)?;
    Ok(SubmitRequest {
        request: notice(target.to_owned(), requested_on),
        submitted_on: submitted_on.map(|d| d.to_string()),
        accept: (form.accept == "yes").then(|| Acceptance {
            on: arrived,
            ..Acceptance::default()
        }),
    })
}

/// Why the form's target is not one the notice may name, when the contractor is known (an
/// unknown contractor is the submission's to report).
async fn target_problem(
    state: &AppState,
    session: &Session,
    form: &NoticeForm,
) -> WebResult<Option<Shown>> {
    let id = form.contractor_id.trim();
    if app::contractors::get(state, &session.caller(), id)
        .await
        .is_err()
    {
        return Ok(None);
    }
    let typed = form.target.trim();
    let offered = notice_targets(state, session, id)
        .await?
        .into_iter()
        .any(|t| {
            t.kind == form.kind
                && (t.id.eq_ignore_ascii_case(typed) || t.key.eq_ignore_ascii_case(typed))
        });
    Ok((!offered).then(|| field_problem(session.lang, "target", session.t().op_no_such_target)))
}

pub async fn record_notice(
    State(state): State<AppState>,
    OperatorForm { session, form }: OperatorForm<NoticeForm>,
) -> WebResult {
    let lang = session.lang;
    let t = lang.t();
    let problem = match notice_request(lang, &form) {
        Ok(submission) => match target_problem(&state, &session, &form).await? {
            Some(shown) => shown,
            None => match requests::submit(
                &state,
                &session.caller(),
                form.contractor_id.trim(),
                Input::Value(submission),
            )
            .await
            {
                Ok(view) => {
                    return Ok(see_other(&format!("/console/queue/requests/{}", view.id)));
                }
                // A target that is neither a contract number nor an id names nothing either.
                Err(e) if e.code == "invalid_contract" => {
                    field_problem(lang, "target", t.op_no_such_target)
                }
                Err(e) if e.code == "not_found" => {
                    // Either the contractor or what the notice names is unknown: say which.
                    let contractor_known =
                        app::contractors::get(&state, &session.caller(), form.contractor_id.trim())
                            .await
                            .is_ok();
                    if contractor_known {
                        field_problem(lang, "target", t.op_no_such_target)
                    } else {
                        field_problem(lang, "contractor_id", t.op_no_such_contractor)
                    }
                }
                Err(e) => refusal(lang, e)?,
            },
        },
        Err(shown) => shown,
    };
    notice_page(&state, &session, form, Some(problem)).await
}
