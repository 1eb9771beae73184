//! The queue's device forms: a return, a lost device found (picked from the lost devices),
//! and the sweep of overdue returns; each answers with the queue page.

use axum::extract::{Path, State};
use mpc_api_types::contracts::OnDate;
use serde::Deserialize;

use super::super::form::{OperatorForm, csrf_field};
use super::super::{confirmed, date_field, field_problem, refusal, unconfirmed};
use super::page::{QueueQuery, queue_page};
use crate::AppState;
use crate::app::{Input, fleet};
use crate::error::ApiError;
use crate::web::{Session, WebResult, see_other};

/// A lost device the found form offers: its serial, and what tells it apart
/// (`SEIL/X4 · 亡失 2026年10月1日 · C-000123`).
pub struct LostChoice {
    pub serial: String,
    pub label: String,
}

/// The devices a find may be recorded for: lost and not found since (R12.3).
pub(super) async fn lost_choices(
    state: &AppState,
    session: &Session,
) -> WebResult<Vec<LostChoice>> {
    let lang = session.lang;
    Ok(fleet::lost(state, &session.caller())
        .await?
        .into_iter()
        .map(|d| {
            let mut label = format!(
                "{} · {} {}",
                lang.pick(d.device_type.label_ja(), d.device_type.label_en()),
                lang.device_state(d.state),
                d.lost_on
                    .as_deref()
                    .map(|on| lang.date(on))
                    .unwrap_or_default()
            );
            if let Some(number) = d.assignments.last().and_then(|a| a.contract_number.clone()) {
                label = format!("{label} · {number}");
            }
            LostChoice {
                serial: d.serial,
                label,
            }
        })
        .collect())
}

csrf_field!(DeviceForm);

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DeviceForm {
    csrf: String,
    serial: String,
    on: String,
    confirm: String,
}

/// Records something about a device through `call`, then back to the queue; a refusal shows
/// above the devices.
async fn on_device<F, Fut>(
    state: &AppState,
    session: &Session,
    form: &DeviceForm,
    done: &str,
    call: F,
) -> WebResult
where
    F: FnOnce(Input<OnDate>) -> Fut,
    Fut: std::future::Future<Output = Result<(), ApiError>>,
{
    let lang = session.lang;
    let problem = if !confirmed(&form.confirm) {
        unconfirmed(lang)
    } else {
        match date_field(lang, "on", &form.on) {
            Err(shown) => shown,
            Ok(on) => {
                let on = OnDate {
                    on: on.map(|d| d.to_string()),
                };
                match call(Input::Value(on)).await {
                    Ok(()) => {
                        return Ok(see_other(&format!("/console/queue?done={done}#returns")));
                    }
                    Err(e) => refusal(lang, e)?,
                }
            }
        }
    };
    queue_page(
        state,
        session,
        &QueueQuery::default(),
        Some(problem),
        form.serial.clone(),
    )
    .await
}

pub async fn device_returned(
    State(state): State<AppState>,
    Path(serial): Path<String>,
    OperatorForm { session, form }: OperatorForm<DeviceForm>,
) -> WebResult {
    let caller = session.caller();
    on_device(&state, &session, &form, "returned", |payload| async {
        fleet::returned(&state, &caller, &serial, payload)
            .await
            .map(|_| ())
    })
    .await
}

pub async fn device_found(
    State(state): State<AppState>,
    OperatorForm { session, form }: OperatorForm<DeviceForm>,
) -> WebResult {
    let typed = form.serial.trim().to_owned();
    // Only a lost device may be found (R12.3): a serial not among them is named at the field.
    let lost = lost_choices(&state, &session).await?;
    let serial = match lost
        .into_iter()
        .find(|d| d.serial.eq_ignore_ascii_case(&typed))
    {
        Some(d) => d.serial,
        None => {
            let t = session.t();
            let why = if typed.is_empty() {
                t.op_required
            } else {
                t.op_found_not_lost
            };
            let problem = field_problem(session.lang, "serial", why);
            return queue_page(
                &state,
                &session,
                &QueueQuery::default(),
                Some(problem),
                typed,
            )
            .await;
        }
    };
    let caller = session.caller();
    on_device(&state, &session, &form, "found", |payload| async {
        fleet::found(&state, &caller, &serial, payload)
            .await
            .map(|_| ())
    })
    .await
}

pub async fn sweep(
    State(state): State<AppState>,
    OperatorForm { session, form }: OperatorForm<DeviceForm>,
) -> WebResult {
    let caller = session.caller();
    on_device(&state, &session, &form, "swept", |payload| async {
        fleet::sweep(&state, &caller, payload).await.map(|_| ())
    })
    .await
}
