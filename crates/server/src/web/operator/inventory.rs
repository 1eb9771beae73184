//! `/console/inventory`: devices into the inventory from CSV lines `serial,model,factory_secret`
//! through the inventory's use case — all or nothing, each refused line named with its reason.

use axum::extract::{Query, State};
use mpc_domain::catalog::DeviceType;
use serde::Deserialize;

use super::form::{OperatorForm, csrf_field};
use super::{field_problem, only_operators, refusal, render_form};
use crate::AppState;
use crate::app::inventory::{self, Upload};
use crate::app::monitoring;
use crate::web::session::Section;
use crate::web::{Chrome, Session, Shown, WebResult, see_other};

csrf_field!(ImportForm);

/// How many devices of a model the inventory holds, and how many serve a contractor.
pub struct ModelCount {
    pub model: &'static str,
    pub total: i64,
    pub assigned: i64,
}

/// A line the import refused.
pub struct Refused {
    pub line: String,
    pub reason: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    imported: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ImportForm {
    csrf: String,
    csv: String,
}

#[derive(askama::Template)]
#[template(path = "web/operator/inventory.html")]
struct InventoryPage {
    c: Chrome,
    imported: Option<usize>,
    models: Vec<ModelCount>,
    csv: String,
    problem: Option<Shown>,
    refused: Vec<Refused>,
}

pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<PageQuery>,
) -> WebResult {
    only_operators(&session)?;
    inventory_page(&state, &session, q.imported, String::new(), None).await
}

async fn inventory_page(
    state: &AppState,
    session: &Session,
    imported: Option<usize>,
    csv: String,
    problem: Option<Shown>,
) -> WebResult {
    let lang = session.lang;
    let mut models = Vec::new();
    for m in DeviceType::ALL {
        let of_model = monitoring::Filter {
            model: Some(m),
            ..monitoring::Filter::default()
        };
        let assigned = monitoring::Filter {
            assigned_only: true,
            ..of_model.clone()
        };
        models.push(ModelCount {
            model: lang.pick(m.label_ja(), m.label_en()),
            total: monitoring::count(state, &session.caller(), of_model).await?,
            assigned: monitoring::count(state, &session.caller(), assigned).await?,
        });
    }
    let refused = problem
        .as_ref()
        .map(|p| {
            p.fields
                .iter()
                .filter(|(f, _)| f.starts_with("line "))
                .map(|(f, m)| Refused {
                    line: f.trim_start_matches("line ").to_owned(),
                    reason: m.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let failed = problem.is_some();
    Ok(render_form(
        InventoryPage {
            c: session.chrome(session.t().nav_inventory, Section::Inventory),
            imported,
            models,
            csv,
            problem,
            refused,
        },
        failed,
    ))
}

pub async fn import(
    State(state): State<AppState>,
    OperatorForm { session, form }: OperatorForm<ImportForm>,
) -> WebResult {
    let lang = session.lang;
    let problem = if form.csv.trim().is_empty() {
        field_problem(lang, "csv", session.t().op_required)
    } else {
        match inventory::import(&state, &session.caller(), Upload::Text(&form.csv)).await {
            Ok(imported) => {
                return Ok(see_other(&format!(
                    "/console/inventory?imported={imported}"
                )));
            }
            Err(e) => refusal(lang, e)?,
        }
    };
    inventory_page(&state, &session, None, form.csv, Some(problem)).await
}
