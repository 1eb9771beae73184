//! `/console/queue/notice`: a cancellation or stop that arrived on paper, recorded for its contractor.

use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::form::{OperatorForm, csrf_field};
use super::super::{
    body, confirmed, date_field, field_problem, only_operators, refusal, render_form, unconfirmed,
};
use crate::AppState;
use crate::api::v1::support::today;
use crate::api::v1::{self, contractors, devices, requests};
use crate::extract::Params;
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
        && let Ok(c) =
            contractors::get(State(state.clone()), session.caller(), Path(id.clone())).await
    {
        contractor = Some(c.0.name);
        let list = v1::contracts::list(
            State(state.clone()),
            session.caller(),
            Path(id.clone()),
            Params(v1::contracts::AsOf { as_of: None }),
        )
        .await?
        .0;
        for k in &list.contracts {
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
        let groups = devices::groups(
            State(state.clone()),
            session.caller(),
            Path(id.clone()),
            Params(v1::contracts::AsOf { as_of: None }),
        )
        .await?
        .0;
        for g in groups.groups {
            targets.push(Target {
                id: g.id.clone(),
                label: format!("{} · {}", lang.t().op_group, lang.status(g.status)),
            });
        }
    }
    let failed = problem.is_some();
    Ok(render_form(
        NoticePage {
            c: session.chrome(session.t().op_notice_title, Section::Queue),
            form,
            contractor,
            targets,
            problem,
        },
        failed,
    ))
}

/// The submission the API takes, from the notice form.
fn notice_request(lang: Lang, form: &NoticeForm) -> Result<Value, Shown> {
    let t = lang.t();
    if form.contractor_id.trim().is_empty() {
        return Err(field_problem(lang, "contractor_id", t.op_required));
    }
    let target = form.target.trim();
    if target.is_empty() {
        return Err(field_problem(lang, "target", t.op_required));
    }
    let field = match form.kind.as_str() {
        "cancel_contract" => "contract_id",
        "stop_option" => "option_id",
        "stop_group" => "group_id",
        _ => return Err(field_problem(lang, "kind", t.op_choose_from_list)),
    };
    if !confirmed(&form.confirm) {
        return Err(unconfirmed(lang));
    }
    let mut request = json!({ "kind": form.kind, field: target });
    if let Some(d) = date_field(lang, "requested_on", &form.requested_on)? {
        request["requested_on"] = json!(d.to_string());
    }
    let mut submission = json!({ "request": request });
    if let Some(d) = date_field(lang, "submitted_on", &form.submitted_on)? {
        submission["submitted_on"] = json!(d.to_string());
    }
    let arrived = date_field(lang, "arrived_on", &form.arrived_on)?;
    if form.accept == "yes" {
        submission["accept"] = match arrived {
            Some(d) => json!({ "on": d.to_string() }),
            None => json!({}),
        };
    }
    Ok(submission)
}

pub async fn record_notice(
    State(state): State<AppState>,
    OperatorForm { session, form }: OperatorForm<NoticeForm>,
) -> WebResult {
    let lang = session.lang;
    let t = lang.t();
    let problem = match notice_request(lang, &form) {
        Ok(submission) => match requests::submit(
            State(state.clone()),
            session.caller(),
            Path(form.contractor_id.trim().to_owned()),
            body(submission),
        )
        .await
        {
            Ok((_, view)) => {
                return Ok(see_other(&format!("/console/queue/requests/{}", view.0.id)));
            }
            Err(e) if e.code == "not_found" => {
                // Either the contractor or what the notice names is unknown: say which.
                let contractor_known = contractors::get(
                    State(state.clone()),
                    session.caller(),
                    Path(form.contractor_id.trim().to_owned()),
                )
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
