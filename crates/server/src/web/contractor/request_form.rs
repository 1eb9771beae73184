//! `/console/requests/new`: the form of a new request, one per kind.

use std::collections::HashMap;
use std::str::FromStr;

use axum::extract::{Query, State};
use axum_extra::extract::Form;
use jiff::civil::Date;
use mpc_api_types::contracts::{ContractView, SubmitRequest};
use mpc_domain::book::Status;
use mpc_domain::calendar::parse_business_date;
use mpc_domain::catalog::{
    ContractKind, DeviceType, Item, MobileUsageType, NetworkType, OptionKind,
};
use mpc_domain::request::{GroupRequest, Request};
use serde::Deserialize;

use crate::AppState;
use crate::app::{self, Input};
use crate::error::ApiError;
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

/// A posted request form, read field by field into the domain's [`Request`]; a field that
/// does not read is named with what to fix.
struct Posted<'f> {
    lang: Lang,
    form: &'f HashMap<String, String>,
}

impl Posted<'_> {
    fn problem(&self, field: &str, message: &str) -> Shown {
        let mut shown = Shown::message(422, "invalid_field", self.lang.t().op_check_fields);
        shown.fields.push((field.to_owned(), message.to_owned()));
        shown
    }

    /// The field's text, trimmed; `None` when left empty.
    fn text(&self, name: &str) -> Option<String> {
        self.form
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    fn required(&self, name: &str) -> Result<String, Shown> {
        self.text(name)
            .ok_or_else(|| self.problem(name, self.lang.t().op_required))
    }

    /// One of a list (an item, a usage type …) by its wire name.
    fn choice<T: FromStr>(&self, name: &str) -> Result<Option<T>, Shown> {
        self.text(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| self.problem(name, self.lang.t().op_choose_from_list))
            })
            .transpose()
    }

    fn required_choice<T: FromStr>(&self, name: &str) -> Result<T, Shown> {
        self.choice(name)?
            .ok_or_else(|| self.problem(name, self.lang.t().op_choose_from_list))
    }

    fn number(&self, name: &str) -> Result<Option<u32>, Shown> {
        self.text(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| self.problem(name, self.lang.t().field_whole_number))
            })
            .transpose()
    }

    fn date(&self, name: &str) -> Result<Option<Date>, Shown> {
        self.text(name)
            .map(|v| {
                parse_business_date(&v)
                    .map_err(|_| self.problem(name, self.lang.t().op_invalid_date))
            })
            .transpose()
    }

    /// The packet share group a SIM joins or founds, when either field is given (R6.7).
    fn group(&self) -> Result<Option<GroupRequest>, Shown> {
        let group_id = self.text("group_id");
        let new_group_pack_gb = self.number("new_group_pack_gb")?;
        Ok(
            (group_id.is_some() || new_group_pack_gb.is_some()).then_some(GroupRequest {
                group_id,
                new_group_pack_gb,
            }),
        )
    }

    /// The request of `kind` the form describes.
    fn request(&self, kind: &str) -> Result<Request, Shown> {
        Ok(match kind {
            "apply_contract" => Request::ApplyContract {
                contract_kind: self.required_choice("contract_kind")?,
                item: self.choice("item")?,
                device_type: self.choice("device_type")?,
                management_id: self.text("management_id"),
            },
            "change_item" => Request::ChangeItem {
                contract_id: self.required("contract_id")?,
                item: self.required_choice("item")?,
            },
            "add_option" => Request::AddOption {
                contract_id: self.required("contract_id")?,
                option_kind: self.required_choice("option_kind")?,
                install_address: self.text("install_address"),
                usage_type: self.choice("usage_type")?,
                network_type: self.choice("network_type")?,
                group: self.group()?,
            },
            "change_usage_type" => Request::ChangeUsageType {
                option_id: self.required("option_id")?,
                usage_type: self.required_choice("usage_type")?,
                group: self.group()?,
            },
            "change_network_type" => Request::ChangeNetworkType {
                option_id: self.required("option_id")?,
                network_type: self.required_choice("network_type")?,
            },
            "change_pack" => Request::ChangePack {
                group_id: self.required("group_id")?,
                pack_gb: self
                    .number("pack_gb")?
                    .ok_or_else(|| self.problem("pack_gb", self.lang.t().op_required))?,
            },
            "stop_option" => Request::StopOption {
                option_id: self.required("option_id")?,
                requested_on: self.date("requested_on")?,
            },
            "stop_group" => Request::StopGroup {
                group_id: self.required("group_id")?,
                requested_on: self.date("requested_on")?,
            },
            "notify_serial" => Request::NotifySerial {
                contract_id: self.required("contract_id")?,
                serial: self.required("serial")?,
            },
            "report_failure" => Request::ReportFailure {
                contract_id: self.required("contract_id")?,
                description: self.text("description"),
            },
            "report_loss" => Request::ReportLoss {
                contract_id: self.required("contract_id")?,
            },
            _ => return Err(self.problem("kind", self.lang.t().op_choose_from_list)),
        })
    }
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
    Form(form): Form<HashMap<String, String>>,
) -> WebResult {
    session.check_csrf(form.get("csrf").map_or("", String::as_str))?;
    let contractor = contractor_of(&session, form.get("contractor").map(String::as_str))?;
    let kind = form.get("kind").cloned().unwrap_or_default();
    if !FORM_KINDS.contains(&kind.as_str()) {
        return Err(WebError(ApiError::not_found()));
    }
    let posted = Posted {
        lang: session.lang,
        form: &form,
    };
    let submitted = match posted.request(&kind) {
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
