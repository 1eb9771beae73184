//! `/console/contractors/{id}/prices`: one contractor's price agreements (R14.1) — each agreed
//! price beside the list price it replaces, a form to set or change one from a day on, and
//! removal — through the price book's use cases ([`prices::set`] with the contractor's part,
//! [`prices::remove`]).

use axum::extract::{Path, Query, State};
use jiff::civil::Date;
use mpc_api_types::billing::{PriceView, SetPrices};
use mpc_domain::money::Yen;
use mpc_domain::price::PriceKey;
use serde::Deserialize;

use super::form::{OperatorForm, csrf_field};
use super::prices::{price_groups, price_label};
use super::{date_field, field_problem, href, only_operators, refusal, render_form};
use crate::AppState;
use crate::app::support::today;
use crate::app::{Input, contractors, prices};
use crate::web::session::Section;
use crate::web::{Chrome, Session, Shown, WebResult, see_other};

csrf_field!(AgreementForm, RemoveForm);

/// An agreed price, with the list price it replaces today.
pub struct AgreementRow {
    pub key: String,
    pub label: String,
    pub from_iso: String,
    pub from: String,
    pub amount: String,
    pub list: String,
}

/// A product's keys for the form's choice.
pub struct KeyGroup {
    pub heading: String,
    pub keys: Vec<KeyChoice>,
}

pub struct KeyChoice {
    pub key: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    done: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AgreementForm {
    csrf: String,
    key: String,
    effective_from: String,
    amount: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RemoveForm {
    csrf: String,
    key: String,
    effective_from: String,
}

#[derive(askama::Template)]
#[template(path = "web/operator/agreements.html")]
struct AgreementsPage {
    c: Chrome,
    id: String,
    name: String,
    notice: Option<&'static str>,
    rows: Vec<AgreementRow>,
    groups: Vec<KeyGroup>,
    form: AgreementForm,
    problem: Option<Shown>,
}

pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> WebResult {
    only_operators(&session)?;
    let t = session.t();
    let notice = match q.done.as_str() {
        "saved" => Some(t.money_agreement_saved),
        "removed" => Some(t.money_agreement_removed),
        _ => None,
    };
    let form = AgreementForm {
        effective_from: today().to_string(),
        ..AgreementForm::default()
    };
    agreements_page(&state, &session, &id, notice, form, None).await
}

/// The list price of `key` in force on `on`.
fn list_price(list: &[PriceView], key: &str, on: Date) -> Option<i64> {
    let on = on.to_string();
    list.iter()
        .filter(|p| p.key == key && p.effective_from <= on)
        .max_by(|a, b| a.effective_from.cmp(&b.effective_from))
        .map(|p| p.amount)
}

async fn agreements_page(
    state: &AppState,
    session: &Session,
    id: &str,
    notice: Option<&'static str>,
    form: AgreementForm,
    problem: Option<Shown>,
) -> WebResult {
    let lang = session.lang;
    let contractor = contractors::get(state, &session.caller(), id).await?;
    let caller = session.caller();
    let list: Vec<PriceView> = prices::list(state, &caller, prices::Part::List)
        .await?
        .into_iter()
        .map(prices::view)
        .collect();
    let agreed = prices::list(state, &caller, prices::Part::Agreements(id)).await?;
    let today = today();
    let rows = agreed
        .into_iter()
        .map(|p| {
            let key = p.key.to_string();
            AgreementRow {
                label: price_label(lang, p.key),
                from_iso: p.effective_from.to_string(),
                from: lang.date(&p.effective_from.to_string()),
                amount: lang.yen(p.amount),
                list: list_price(&list, &key, today)
                    .map(|a| lang.yen(Yen(a)))
                    .unwrap_or_default(),
                key,
            }
        })
        .collect();
    let groups = price_groups(lang)
        .into_iter()
        .map(|(heading, keys)| KeyGroup {
            heading,
            keys: keys
                .into_iter()
                .map(|k| KeyChoice {
                    key: k.to_string(),
                    label: price_label(lang, k),
                    selected: form.key == k.to_string(),
                })
                .collect(),
        })
        .collect();
    let failed = problem.is_some();
    Ok(render_form(
        AgreementsPage {
            c: session.chrome(
                &format!("{} — {}", contractor.name, session.t().money_agreements),
                Section::Contractors,
            ),
            id: id.to_owned(),
            name: contractor.name,
            notice,
            rows,
            groups,
            form,
            problem,
        },
        failed,
    ))
}

/// Sets or changes an agreed price from a day on ([`prices::set`] with the contractor's id):
/// the same key and day replace the amount.
pub async fn save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    OperatorForm { session, form }: OperatorForm<AgreementForm>,
) -> WebResult {
    let lang = session.lang;
    let t = session.t();
    let amount = form.amount.trim().replace([',', '，'], "");
    let problem = if form.key.parse::<PriceKey>().is_err() {
        field_problem(lang, "key", t.money_choose_item)
    } else if amount.is_empty() {
        field_problem(lang, "amount", t.op_required)
    } else {
        match (
            date_field(lang, "effective_from", &form.effective_from),
            amount.parse::<i64>(),
        ) {
            (Err(p), _) => p,
            (Ok(None), _) => field_problem(lang, "effective_from", t.op_required),
            (_, Err(_)) => field_problem(lang, "amount", t.money_amount_limit),
            (Ok(Some(from)), Ok(yen)) => {
                let new = SetPrices {
                    prices: vec![PriceView {
                        key: form.key.clone(),
                        contractor_id: Some(id.clone()),
                        effective_from: from.to_string(),
                        amount: yen,
                    }],
                };
                match prices::set(&state, &session.caller(), Input::Value(new)).await {
                    Ok(_) => {
                        return Ok(see_other(&href(
                            &format!("/console/contractors/{id}/prices"),
                            &[("done", "saved")],
                        )));
                    }
                    Err(e) => {
                        let mut shown = refusal(lang, e)?;
                        // The use case names the row's fields `prices[0].…`; this form has one.
                        for (name, message) in shown.fields.iter_mut() {
                            if let Some(field) = name.strip_prefix("prices[0].").map(str::to_owned)
                            {
                                if field == "amount" {
                                    *message = t.money_amount_limit.to_owned();
                                }
                                *name = field;
                            }
                        }
                        shown
                    }
                }
            }
        }
    };
    agreements_page(&state, &session, &id, None, form, Some(problem)).await
}

/// Removes an agreed price ([`prices::remove`]); the list price, or an earlier agreement,
/// applies again.
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    OperatorForm { session, form }: OperatorForm<RemoveForm>,
) -> WebResult {
    match prices::remove(
        &state,
        &session.caller(),
        &id,
        &form.key,
        &form.effective_from,
    )
    .await
    {
        Ok(()) => Ok(see_other(&href(
            &format!("/console/contractors/{id}/prices"),
            &[("done", "removed")],
        ))),
        Err(e) => {
            let problem = refusal(session.lang, e)?;
            let form = AgreementForm {
                effective_from: today().to_string(),
                ..AgreementForm::default()
            };
            agreements_page(&state, &session, &id, None, form, Some(problem)).await
        }
    }
}
