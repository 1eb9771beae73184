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
    id: String,
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
    let lang = session.lang;
    let id = form.contractor_id.trim().to_owned();
    let mut contractor = None;
    let mut targets = Vec::new();
    if !id.is_empty()
        && let Ok(c) = app::contractors::get(state, &session.caller(), &id).await
    {
        contractor = Some(c.name);
        let caller = session.caller();
        for k in &app::contracts::list(state, &caller, &id, None).await? {
            let what = match (k.item, k.device_type) {
                (Some(i), Some(d)) => format!(
                    "{} ({} / {})",
                    lang.pick(k.kind.label_ja(), k.kind.label_en()),
                    lang.pick(i.label_ja(), i.label_en()),
                    lang.pick(d.label_ja(), d.label_en())
                ),
                _ => lang.pick(k.kind.label_ja(), k.kind.label_en()).to_owned(),
            };
            targets.push(Target {
                id: k.id.clone(),
                label: format!(
                    "{} {what} · {}",
                    lang.t().op_contract,
                    lang.status(k.status)
                ),
            });
            for o in &k.options {
                targets.push(Target {
                    id: o.id.clone(),
                    label: format!(
                        "{} {} · {}",
                        lang.t().op_option,
                        lang.pick(o.kind.label_ja(), o.kind.label_en()),
                        lang.status(o.status)
                    ),
                });
            }
        }
        for g in app::devices::groups(state, &caller, &id, None).await? {
            targets.push(Target {
                id: g.id.clone(),
                label: format!("{} · {}", lang.t().op_group, lang.status(g.status)),
            });
        }
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

pub async fn record_notice(
    State(state): State<AppState>,
    OperatorForm { session, form }: OperatorForm<NoticeForm>,
) -> WebResult {
    let lang = session.lang;
    let t = lang.t();
    let problem = match notice_request(lang, &form) {
        Ok(submission) => match requests::submit(
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
        Err(shown) => shown,
    };
    notice_page(&state, &session, form, Some(problem)).await
}
