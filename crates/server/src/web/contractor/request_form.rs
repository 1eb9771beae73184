//! `/console/requests/new`: the form of a new request, one per kind.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum_extra::extract::Form;
use mpc_api_types::contracts::{ContractView, SubmitRequest};
use mpc_domain::book::Status;
use mpc_domain::catalog::{
    ContractKind, DeviceType, Item, MobileUsageType, NetworkType, OptionKind,
};
use serde::Deserialize;

use crate::AppState;
use crate::app::{self, Input};
use crate::error::ApiError;
use crate::web::i18n::Lang;
use crate::web::session::Section;
use crate::web::{Chrome, Session, Shown, WebError, WebResult, render, see_other, short};

use super::{contractor_of, contracts_of, describe, operator_suffix};

mod kinds;

use kinds::{Posted, Source};

/// The request kinds made with the generic form (cancellation has its own page, after the
/// quote).
pub(super) fn form_kinds() -> impl Iterator<Item = &'static str> {
    kinds::kinds()
}

/// An input of a request form.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    pub value: String,
    pub error: Option<String>,
}

pub enum FieldKind {
    Text,
    Date,
    Number,
    Select(Vec<(String, String)>),
}

impl Field {
    pub fn is_select(&self) -> bool {
        matches!(self.kind, FieldKind::Select(_))
    }

    pub fn choices(&self) -> &[(String, String)] {
        match &self.kind {
            FieldKind::Select(c) => c,
            _ => &[],
        }
    }

    pub fn input_type(&self) -> &'static str {
        match self.kind {
            FieldKind::Date => "date",
            FieldKind::Number => "number",
            _ => "text",
        }
    }
}

fn labelled<T: Copy>(
    lang: Lang,
    all: &[T],
    wire: fn(T) -> &'static str,
    ja: fn(T) -> &'static str,
    en: fn(T) -> &'static str,
) -> Vec<(String, String)> {
    all.iter()
        .map(|v| (wire(*v).to_owned(), lang.pick(ja(*v), en(*v)).to_owned()))
        .collect()
}

/// The inputs of a request kind's form, with the contractor's contracts, options and groups
/// to choose from — of its contracts, only those `offered` for the kind
/// ([`app::contracts::offered`]); `None` for a kind the generic form does not make.
fn fields_of(
    lang: Lang,
    kind: &str,
    contracts: &[ContractView],
    offered: &[ContractView],
) -> Option<Vec<Field>> {
    let t = lang.t();
    let open: Vec<&ContractView> = contracts
        .iter()
        .filter(|c| c.status != Status::Ended)
        .collect();
    let contracts_of = |kind: ContractKind| {
        offered
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| {
                (
                    c.id.clone(),
                    format!(
                        "{} ({})",
                        describe(lang, c),
                        crate::web::contract_name(c.number, &c.label, &c.id)
                    ),
                )
            })
            .collect::<Vec<_>>()
    };
    let options = |only: Option<OptionKind>| {
        open.iter()
            .flat_map(|c| c.options.iter().map(move |o| (c, o)))
            .filter(|(_, o)| o.status != Status::Ended && only.is_none_or(|k| o.kind == k))
            .map(|(c, o)| {
                (
                    o.id.clone(),
                    format!(
                        "{} — {}",
                        crate::web::option_name(
                            lang,
                            o.kind,
                            c.number.map(|n| n.to_string()).as_deref()
                        ),
                        describe(lang, c),
                    ),
                )
            })
            .collect::<Vec<_>>()
    };
    let groups = || {
        let mut members: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for c in &open {
            for g in c.options.iter().filter_map(|o| o.group_id.clone()) {
                let number = c.number.map_or_else(|| short(&c.id), |n| n.to_string());
                members.entry(g).or_default().push(number);
            }
        }
        members
            .into_iter()
            .map(|(g, mut of)| {
                of.sort_by_key(|n| (n.len(), n.clone()));
                of.dedup();
                let name = crate::web::group_name(lang, &of);
                (g, name)
            })
            .collect::<Vec<_>>()
    };
    let choices = |source: Source| -> Option<Vec<(String, String)>> {
        Some(match source {
            Source::Text | Source::Date | Source::Number => return None,
            Source::Adapters => contracts_of(ContractKind::ServiceAdapter),
            Source::Managements => contracts_of(ContractKind::Management),
            Source::Options(only) => options(only),
            Source::Groups => groups(),
            Source::ContractKinds => labelled(
                lang,
                &ContractKind::ALL,
                ContractKind::as_str,
                ContractKind::label_ja,
                ContractKind::label_en,
            ),
            Source::Items => labelled(
                lang,
                &Item::ALL,
                Item::as_str,
                Item::label_ja,
                Item::label_en,
            ),
            Source::DeviceTypes => DeviceType::ALL
                .iter()
                .map(|d| (d.as_str().to_owned(), d.as_str().to_owned()))
                .collect(),
            Source::OptionKinds => labelled(
                lang,
                &OptionKind::ALL,
                OptionKind::as_str,
                OptionKind::label_ja,
                OptionKind::label_en,
            ),
            Source::UsageTypes => labelled(
                lang,
                &MobileUsageType::ALL,
                MobileUsageType::as_str,
                MobileUsageType::label_ja,
                MobileUsageType::label_en,
            ),
            Source::NetworkTypes => labelled(
                lang,
                &NetworkType::ALL,
                NetworkType::as_str,
                NetworkType::label_ja,
                NetworkType::label_en,
            ),
        })
    };
    let specs = kinds::specs(kind)?;
    Some(
        specs
            .iter()
            .map(|spec| Field {
                name: spec.name,
                label: (spec.label)(t),
                kind: match spec.source {
                    Source::Text => FieldKind::Text,
                    Source::Date => FieldKind::Date,
                    Source::Number => FieldKind::Number,
                    source => {
                        // A choice that may be left empty offers "—" first.
                        let none = (!spec.required).then(|| (String::new(), "—".to_owned()));
                        FieldKind::Select(
                            none.into_iter()
                                .chain(choices(source).unwrap_or_default())
                                .collect(),
                        )
                    }
                },
                required: spec.required,
                value: String::new(),
                error: None,
            })
            .collect(),
    )
}

#[derive(Deserialize)]
pub(super) struct NewRequestQuery {
    kind: Option<String>,
    contractor: Option<String>,
    contract_id: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "web/contractor/request_form.html")]
pub(super) struct RequestForm {
    c: Chrome,
    kind: String,
    /// Every kind the form makes, with its label: the kind is chosen first.
    kinds: Vec<(&'static str, &'static str)>,
    contractor: String,
    fields: Vec<Field>,
    problem: Option<Shown>,
}

pub(super) async fn request_form(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<NewRequestQuery>,
) -> WebResult {
    // An operator coming from a contract's page works for that contract's contractor.
    let asked = match (&q.contractor, &q.contract_id) {
        (None, Some(id)) if session.is_operator() => Some(
            app::contracts::get(&state, &session.caller(), id, None)
                .await?
                .contractor_id,
        ),
        _ => q.contractor.clone(),
    };
    let contractor = contractor_of(&session, asked.as_deref())?;
    let kind = q.kind.unwrap_or_else(|| "change_item".into());
    let mut prefill = HashMap::new();
    if let Some(c) = q.contract_id {
        prefill.insert("contract_id".to_owned(), c);
    }
    request_form_page(&state, &session, &contractor, &kind, &prefill, None).await
}

async fn request_form_page(
    state: &AppState,
    session: &Session,
    contractor: &str,
    kind: &str,
    values: &HashMap<String, String>,
    problem: Option<Shown>,
) -> WebResult {
    if kinds::specs(kind).is_none() {
        return Err(WebError(ApiError::not_found()));
    }
    let lang = session.lang;
    let contracts = contracts_of(state, session, contractor, None).await?;
    let asked = app::contracts::OfferedQuery {
        kind: kind.to_owned(),
        ..Default::default()
    };
    let offered = match app::contracts::offered(state, &session.caller(), contractor, &asked).await
    {
        Ok(offered) => offered,
        // A kind about options or groups, not contracts.
        Err(e) if e.status == axum::http::StatusCode::BAD_REQUEST => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let mut fields = fields_of(lang, kind, &contracts, &offered).ok_or_else(ApiError::not_found)?;
    for f in &mut fields {
        if let Some(v) = values.get(f.name) {
            f.value = v.clone();
        }
        f.error = problem
            .as_ref()
            .and_then(|p| {
                p.field(f.name)
                    .or_else(|| p.field(&format!("request.{}", f.name)))
            })
            .map(str::to_owned);
    }
    let failed = problem.is_some();
    let kind_label = crate::web::i18n::request_kind(lang, kind).to_owned();
    let mut page = render(RequestForm {
        c: session.chrome(&kind_label, Section::Requests),
        kind: kind.to_owned(),
        kinds: form_kinds()
            .map(|k| (k, crate::web::i18n::request_kind(lang, k)))
            .collect(),
        contractor: if session.is_operator() {
            contractor.to_owned()
        } else {
            String::new()
        },
        fields,
        problem,
    });
    if failed {
        *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page)
}

/// The error each input of a kind's form shows for `problem` (none when it has none).
fn field_errors(kind: &str, problem: Option<&Shown>) -> Vec<(&'static str, Option<String>)> {
    kinds::specs(kind)
        .unwrap_or_default()
        .iter()
        .map(|spec| {
            let error = problem.and_then(|p| {
                p.field(spec.name)
                    .or_else(|| p.field(&format!("request.{}", spec.name)))
                    .map(str::to_owned)
            });
            (spec.name, error)
        })
        .collect()
}

/// The request a posted form describes, checked as submitting it would check it.
async fn checked(
    state: &AppState,
    session: &Session,
    contractor: &str,
    kind: &str,
    form: &HashMap<String, String>,
) -> WebResult<Result<SubmitRequest, Shown>> {
    let posted = Posted {
        lang: session.lang,
        form,
    };
    let request = match kinds::read(kind, &posted) {
        Ok(request) => request,
        Err(shown) => return Ok(Err(shown)),
    };
    let submission = SubmitRequest {
        request,
        submitted_on: None,
        accept: None,
    };
    let input = Input::Value(submission.clone());
    match app::requests::check(state, &session.caller(), contractor, input).await {
        Ok(()) => Ok(Ok(submission)),
        Err(e) if e.status.is_server_error() => Err(e.into()),
        Err(e) => Ok(Err(Shown::of(session.lang, &e))),
    }
}

/// The answer to a check: the summary and the error of every input, swapped in place by htmx
/// so what is being typed stays as it is.
#[derive(askama::Template)]
#[template(path = "web/contractor/request_form/check.html")]
struct CheckFragment {
    c: Chrome,
    problem: Option<Shown>,
    fields: Vec<(&'static str, Option<String>)>,
}

/// Checks the form without submitting (htmx, on every change), as the preset editor does:
/// the inputs that do not read and the rule the request would break.
pub(super) async fn check(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult {
    session.check_csrf(form.get("csrf").map_or("", String::as_str))?;
    let contractor = contractor_of(&session, form.get("contractor").map(String::as_str))?;
    let kind = form.get("kind").cloned().unwrap_or_default();
    if kinds::specs(&kind).is_none() {
        return Err(WebError(ApiError::not_found()));
    }
    let problem = checked(&state, &session, &contractor, &kind, &form)
        .await?
        .err();
    Ok(render(CheckFragment {
        c: session.chrome(session.t().rf_check, Section::Requests),
        fields: field_errors(&kind, problem.as_ref()),
        problem,
    }))
}

/// Submits a request made with the generic form; a refusal shows next to the form with its
/// rule.
pub(super) async fn submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<HashMap<String, String>>,
) -> WebResult {
    session.check_csrf(form.get("csrf").map_or("", String::as_str))?;
    let contractor = contractor_of(&session, form.get("contractor").map(String::as_str))?;
    let kind = form.get("kind").cloned().unwrap_or_default();
    if kinds::specs(&kind).is_none() {
        return Err(WebError(ApiError::not_found()));
    }
    let posted = Posted {
        lang: session.lang,
        form: &form,
    };
    let submitted = match kinds::read(&kind, &posted) {
        Ok(request) => {
            let submission = SubmitRequest {
                request,
                submitted_on: None,
                accept: None,
            };
            app::requests::submit(
                &state,
                &session.caller(),
                &contractor,
                Input::Value(submission),
            )
            .await
            .map_err(|e| Shown::of(session.lang, &e))
        }
        Err(shown) => Err(shown),
    };
    match submitted {
        Ok(_) => Ok(see_other(&format!(
            "/console/requests?submitted=1{}",
            operator_suffix(&session, &contractor)
        ))),
        Err(shown) => {
            request_form_page(&state, &session, &contractor, &kind, &form, Some(shown)).await
        }
    }
}
