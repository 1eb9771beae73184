//! `/console/requests/new`: the form of a new request, one per kind.

use axum::extract::{Path, Query, State};
use axum_extra::extract::Form;
use mpc_api_types::contracts::ContractView;
use mpc_domain::book::Status;
use mpc_domain::catalog::{
    ContractKind, DeviceType, Item, MobileUsageType, NetworkType, OptionKind,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::api::v1::{contracts, requests};
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::web::i18n::Lang;
use crate::web::session::Section;
use crate::web::{Chrome, Session, Shown, WebError, WebResult, render, see_other, short};

use super::{contractor_of, contracts_of, describe, operator_suffix};

/// The request kinds made with the generic form (cancellation has its own page, after the
/// quote).
pub(super) const FORM_KINDS: &[&str] = &[
    "apply_contract",
    "change_item",
    "add_option",
    "change_usage_type",
    "change_network_type",
    "change_pack",
    "stop_option",
    "stop_group",
    "notify_serial",
    "report_failure",
    "report_loss",
];

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

/// The fields of a request kind, with the contractor's contracts, options and groups to choose
/// from.
fn fields_of(lang: Lang, kind: &str, contracts: &[ContractView]) -> Vec<Field> {
    let t = lang.t();
    let field = |name, label, kind, required| Field {
        name,
        label,
        kind,
        required,
        value: String::new(),
        error: None,
    };
    let open: Vec<&ContractView> = contracts
        .iter()
        .filter(|c| c.status != Status::Ended)
        .collect();
    let adapters = FieldKind::Select(
        open.iter()
            .filter(|c| c.kind == ContractKind::ServiceAdapter)
            .map(|c| {
                (
                    c.id.clone(),
                    format!("{} ({})", describe(lang, c), short(&c.id)),
                )
            })
            .collect(),
    );
    let managements = FieldKind::Select(
        std::iter::once((String::new(), "—".to_owned()))
            .chain(
                open.iter()
                    .filter(|c| c.kind == ContractKind::Management)
                    .map(|c| {
                        (
                            c.id.clone(),
                            format!("{} ({})", describe(lang, c), short(&c.id)),
                        )
                    }),
            )
            .collect(),
    );
    let options = |only: Option<OptionKind>| {
        FieldKind::Select(
            open.iter()
                .flat_map(|c| c.options.iter().map(move |o| (c, o)))
                .filter(|(_, o)| o.status != Status::Ended && only.is_none_or(|k| o.kind == k))
                .map(|(c, o)| {
                    (
                        o.id.clone(),
                        format!(
                            "{} — {} ({})",
                            lang.pick(o.kind.label_ja(), o.kind.label_en()),
                            describe(lang, c),
                            short(&o.id)
                        ),
                    )
                })
                .collect(),
        )
    };
    let groups = |optional: bool| {
        let mut ids: Vec<String> = open
            .iter()
            .flat_map(|c| c.options.iter())
            .filter_map(|o| o.group_id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        FieldKind::Select(
            optional
                .then(|| (String::new(), "—".to_owned()))
                .into_iter()
                .chain(ids.into_iter().map(|g| (g.clone(), short(&g))))
                .collect(),
        )
    };
    let items = FieldKind::Select(labelled(
        lang,
        &Item::ALL,
        Item::as_str,
        Item::label_ja,
        Item::label_en,
    ));
    let usage = |optional: bool| {
        FieldKind::Select(
            optional
                .then(|| (String::new(), "—".to_owned()))
                .into_iter()
                .chain(labelled(
                    lang,
                    &MobileUsageType::ALL,
                    MobileUsageType::as_str,
                    MobileUsageType::label_ja,
                    MobileUsageType::label_en,
                ))
                .collect(),
        )
    };
    let network = |optional: bool| {
        FieldKind::Select(
            optional
                .then(|| (String::new(), "—".to_owned()))
                .into_iter()
                .chain(labelled(
                    lang,
                    &NetworkType::ALL,
                    NetworkType::as_str,
                    NetworkType::label_ja,
                    NetworkType::label_en,
                ))
                .collect(),
        )
    };
    match kind {
        "apply_contract" => vec![
            field(
                "contract_kind",
                t.field_contract_kind,
                FieldKind::Select(labelled(
                    lang,
                    &ContractKind::ALL,
                    ContractKind::as_str,
                    ContractKind::label_ja,
                    ContractKind::label_en,
                )),
                true,
            ),
            field(
                "item",
                t.field_item,
                FieldKind::Select(
                    std::iter::once((String::new(), "—".to_owned()))
                        .chain(labelled(
                            lang,
                            &Item::ALL,
                            Item::as_str,
                            Item::label_ja,
                            Item::label_en,
                        ))
                        .collect(),
                ),
                false,
            ),
            field(
                "device_type",
                t.field_device_type,
                FieldKind::Select(
                    std::iter::once((String::new(), "—".to_owned()))
                        .chain(
                            DeviceType::ALL
                                .iter()
                                .map(|d| (d.as_str().to_owned(), d.as_str().to_owned())),
                        )
                        .collect(),
                ),
                false,
            ),
            field("management_id", t.field_management, managements, false),
        ],
        "change_item" => vec![
            field("contract_id", t.field_contract, adapters, true),
            field("item", t.field_item, items, true),
        ],
        "add_option" => vec![
            field("contract_id", t.field_contract, adapters, true),
            field(
                "option_kind",
                t.field_option_kind,
                FieldKind::Select(labelled(
                    lang,
                    &OptionKind::ALL,
                    OptionKind::as_str,
                    OptionKind::label_ja,
                    OptionKind::label_en,
                )),
                true,
            ),
            field(
                "install_address",
                t.field_install_address,
                FieldKind::Text,
                false,
            ),
            field("usage_type", t.field_usage_type, usage(true), false),
            field("network_type", t.field_network_type, network(true), false),
            field("group_id", t.field_join_group, groups(true), false),
            field(
                "new_group_pack_gb",
                t.field_new_group_pack,
                FieldKind::Number,
                false,
            ),
        ],
        "change_usage_type" => vec![
            field(
                "option_id",
                t.field_option,
                options(Some(OptionKind::MobileAccess)),
                true,
            ),
            field("usage_type", t.field_usage_type, usage(false), true),
            field("group_id", t.field_join_group, groups(true), false),
            field(
                "new_group_pack_gb",
                t.field_new_group_pack,
                FieldKind::Number,
                false,
            ),
        ],
        "change_network_type" => vec![
            field(
                "option_id",
                t.field_option,
                options(Some(OptionKind::MobileAccess)),
                true,
            ),
            field("network_type", t.field_network_type, network(false), true),
        ],
        "change_pack" => vec![
            field("group_id", t.field_group, groups(false), true),
            field("pack_gb", t.field_pack_gb, FieldKind::Number, true),
        ],
        "stop_option" => vec![
            field("option_id", t.field_option, options(None), true),
            field("requested_on", t.field_requested_on, FieldKind::Date, false),
        ],
        "stop_group" => vec![
            field("group_id", t.field_group, groups(false), true),
            field("requested_on", t.field_requested_on, FieldKind::Date, false),
        ],
        "notify_serial" => vec![
            field("contract_id", t.field_contract, adapters, true),
            field("serial", t.field_serial, FieldKind::Text, true),
        ],
        "report_failure" => vec![
            field("contract_id", t.field_contract, adapters, true),
            field("description", t.field_description, FieldKind::Text, false),
        ],
        "report_loss" => vec![field("contract_id", t.field_contract, adapters, true)],
        _ => Vec::new(),
    }
}

/// The API's JSON for a request form: empty fields are left out, numbers are numbers, and the
/// group fields make the `group` object.
fn request_json(kind: &str, form: &std::collections::HashMap<String, String>) -> Value {
    let mut body = Map::new();
    body.insert("kind".into(), Value::String(kind.to_owned()));
    let mut group = Map::new();
    for (k, v) in form {
        let v = v.trim();
        if v.is_empty() || k == "csrf" || k == "kind" || k == "contractor" {
            continue;
        }
        let value = match k.as_str() {
            "pack_gb" | "new_group_pack_gb" => v
                .parse::<u64>()
                .map_or_else(|_| Value::String(v.to_owned()), Value::from),
            _ => Value::String(v.to_owned()),
        };
        match k.as_str() {
            "group_id" if kind != "change_pack" && kind != "stop_group" => {
                group.insert(k.clone(), value);
            }
            "new_group_pack_gb" => {
                group.insert(k.clone(), value);
            }
            _ => {
                body.insert(k.clone(), value);
            }
        }
    }
    if !group.is_empty() {
        body.insert("group".into(), Value::Object(group));
    }
    Value::Object(body)
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
            contracts::get(
                State(state.clone()),
                session.caller(),
                Path(id.clone()),
                Params(contracts::AsOf { as_of: None }),
            )
            .await?
            .0
            .contractor_id,
        ),
        _ => q.contractor.clone(),
    };
    let contractor = contractor_of(&session, asked.as_deref())?;
    let kind = q.kind.unwrap_or_else(|| "change_item".into());
    let mut prefill = std::collections::HashMap::new();
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
    values: &std::collections::HashMap<String, String>,
    problem: Option<Shown>,
) -> WebResult {
    if !FORM_KINDS.contains(&kind) {
        return Err(WebError(ApiError::not_found()));
    }
    let lang = session.lang;
    let contracts = contracts_of(state, session, contractor, None).await?;
    let mut fields = fields_of(lang, kind, &contracts);
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

/// Submits a request made with the generic form; a refusal shows next to the form with its
/// rule.
pub(super) async fn submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> WebResult {
    session.check_csrf(form.get("csrf").map_or("", String::as_str))?;
    let contractor = contractor_of(&session, form.get("contractor").map(String::as_str))?;
    let kind = form.get("kind").cloned().unwrap_or_default();
    if !FORM_KINDS.contains(&kind.as_str()) {
        return Err(WebError(ApiError::not_found()));
    }
    let body = json!({ "request": request_json(&kind, &form) });
    match requests::submit(
        State(state.clone()),
        session.caller(),
        Path(contractor.clone()),
        JsonBody::from_json(&body),
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/console/requests?submitted=1{}",
            operator_suffix(&session, &contractor)
        ))),
        Err(e) => {
            let shown = Shown::of(session.lang, &e);
            request_form_page(&state, &session, &contractor, &kind, &form, Some(shown)).await
        }
    }
}
