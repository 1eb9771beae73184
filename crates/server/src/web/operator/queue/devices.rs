//! The queue's device forms: a return, a lost device found, and the sweep of overdue returns;
//! each answers with the queue page.

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
    let serial = form.serial.trim().to_owned();
    if serial.is_empty() {
        let problem = field_problem(session.lang, "serial", session.t().op_required);
        return queue_page(
            &state,
            &session,
            &QueueQuery::default(),
            Some(problem),
            serial,
        )
        .await;
    }
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
