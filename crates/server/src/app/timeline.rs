//! A contract's life as business events with their effective dates: application (申込),
//! acceptance (承諾, R4.1), billing start (課金開始), item changes (R8.1), options added and
//! ended (R9), usage-type and network-type changes (R9.4, R9.5), failure replacement (R11),
//! loss (亡失, R12), cancellation (R13) — each with who did it.

use jiff::civil::Date;
use mpc_api_types::contracts::ContractView;
use mpc_domain::book::EndReason;
use mpc_domain::calendar::parse_date;
use mpc_domain::catalog::{Item, MobileUsageType, NetworkType, OptionKind};
use mpc_domain::request::{Request, RequestStatus};
use mpc_storage::StorageError;
use mpc_storage::contracts::requests::{self, RequestRecord};

use crate::AppState;
use crate::app::journal::Search;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

/// What happened to a contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Happening {
    /// 申込: the application was submitted.
    Applied,
    /// 承諾: the operator accepted it (R4.1).
    Accepted,
    /// 課金開始: billing started (R14.2).
    BillingStarted,
    /// 品目変更: the item changed to this one (R8.1).
    ItemChanged(Item),
    /// オプション追加 (R9.1).
    OptionAdded(OptionKind),
    /// An option ended (R9.10, R13.2).
    OptionEnded(OptionKind),
    /// 利用種別の変更 (R9.4).
    UsageTypeChanged(MobileUsageType),
    /// ネットワークタイプの変更 (R9.5).
    NetworkTypeChanged(NetworkType),
    /// シリアルナンバーの通知 (R7.1).
    SerialNotified(String),
    /// 故障交換: a failure reported and the device replaced (R11).
    FailureReplaced,
    /// 亡失 reported (R12).
    Lost,
    /// 解約: the cancellation notice arrived (R13.1).
    CancellationNotified,
    /// The contract ends (or ended) on the event's day, for this reason (R13).
    Ended(EndReason),
}

/// One event of a contract's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEvent {
    /// The day it takes (or took) effect.
    pub on: Date,
    pub happening: Happening,
    /// The actor who did it (`user:…`), when known.
    pub by: Option<String>,
    /// That actor's username, when the actor is a user.
    pub by_name: Option<String>,
}

/// The business events of `contract_id`, oldest first (events of one day in the order they
/// happen: application before acceptance before billing start).
///
/// # Errors
/// 404 for a contract outside the caller's reach; the database's.
pub async fn timeline(
    state: &AppState,
    caller: &Caller,
    contract_id: &str,
) -> ApiResult<Vec<TimelineEvent>> {
    let c = super::contracts::get(state, caller, contract_id, None).await?;
    let options: Vec<String> = c.options.iter().map(|o| o.id.clone()).collect();
    let records = requests::requests_about(&state.store, &c.contractor_id, contract_id, &options)
        .await
        .map_err(ApiError::from)?;
    // Who ended what: an option stopped on request (R9.10), the contract cancelled (R13) or
    // lost (R12) — the operator who accepted the request.
    let mut stopped_by = std::collections::HashMap::new();
    let mut ended_by = None;
    let mut events = Vec::new();
    let day =
        |s: &str| parse_date(s).map_err(|e| ApiError::from(StorageError::Corrupt(e.to_string())));
    let mut apply: Option<&RequestRecord> = None;
    for r in &records {
        let Ok(request) = r.request() else { continue };
        let accepted = r.status == RequestStatus::Accepted;
        let decided = r.decided_on.as_deref().map(day).transpose()?;
        let by = || r.decided_by.clone();
        let option = request
            .subject()
            .and_then(|s| c.options.iter().find(|o| o.id == s));
        let about_contract = request.subject() == Some(contract_id);
        match (&request, decided) {
            (Request::ApplyContract { .. }, _)
                if r.decision
                    .as_deref()
                    .is_some_and(|d| d.contains(contract_id)) =>
            {
                apply = Some(r);
            }
            (Request::ChangeItem { item, .. }, Some(on)) if about_contract && accepted => {
                let on = c
                    .items
                    .iter()
                    .filter(|i| i.value == *item)
                    .filter_map(|i| parse_date(&i.from).ok())
                    .find(|from| *from >= on)
                    .unwrap_or(on);
                events.push(event(on, Happening::ItemChanged(*item), by()));
            }
            (Request::AddOption { option_kind, .. }, Some(on)) if about_contract && accepted => {
                let added = r
                    .decision
                    .as_deref()
                    .and_then(|d| c.options.iter().find(|o| d.contains(&o.id)));
                let on = match added {
                    Some(o) => day(&o.accepted_on)?,
                    None => on,
                };
                events.push(event(on, Happening::OptionAdded(*option_kind), by()));
            }
            (Request::ChangeUsageType { usage_type, .. }, Some(on)) if accepted => {
                if let Some(o) = option {
                    let on = dated_from(&o.usage_types, usage_type, on);
                    events.push(event(on, Happening::UsageTypeChanged(*usage_type), by()));
                }
            }
            (Request::ChangeNetworkType { network_type, .. }, Some(on)) if accepted => {
                if let Some(o) = option {
                    let on = dated_from(&o.network_types, network_type, on);
                    events.push(event(
                        on,
                        Happening::NetworkTypeChanged(*network_type),
                        by(),
                    ));
                }
            }
            (Request::NotifySerial { serial, .. }, Some(on)) if about_contract && accepted => {
                events.push(event(on, Happening::SerialNotified(serial.clone()), by()));
            }
            (Request::ReportFailure { .. }, Some(on)) if about_contract && accepted => {
                let on = r.decision.as_deref().and_then(replaced_on).unwrap_or(on);
                events.push(event(on, Happening::FailureReplaced, by()));
            }
            (Request::ReportLoss { .. }, Some(on)) if about_contract && accepted => {
                ended_by = ended_by.or_else(by);
                events.push(event(on, Happening::Lost, by()));
            }
            (Request::StopOption { option_id, .. }, Some(_)) if accepted => {
                stopped_by.insert(option_id.clone(), by());
            }
            (Request::CancelContract { .. }, _) if about_contract && accepted => {
                ended_by = by();
                let on = match c
                    .ending
                    .as_ref()
                    .and_then(|e| e.notice_arrived_on.as_deref())
                {
                    Some(arrived) => day(arrived)?,
                    None => day(&r.submitted_on)?,
                };
                events.push(event(
                    on,
                    Happening::CancellationNotified,
                    Some(r.submitted_by.clone()),
                ));
            }
            _ => {}
        }
    }
    // The contract's own dates, as its record keeps them.
    events.push(event(
        day(&c.applied_on)?,
        Happening::Applied,
        apply.map(|r| r.submitted_by.clone()),
    ));
    events.push(event(
        day(&c.accepted_on)?,
        Happening::Accepted,
        apply.and_then(|r| r.decided_by.clone()),
    ));
    if let Some(start) = &c.billing_start {
        events.push(event(
            day(start)?,
            Happening::BillingStarted,
            billing_start_actor(state, caller, &c).await?,
        ));
    }
    for o in &c.options {
        if let Some(ending) = &o.ending {
            // Stopped on its own, or ended with the contract (R13.2).
            let by = match stopped_by.get(&o.id) {
                Some(by) => by.clone(),
                None => ended_by.clone(),
            };
            events.push(event(day(&ending.on)?, Happening::OptionEnded(o.kind), by));
        }
    }
    if let Some(ending) = &c.ending {
        events.push(event(
            day(&ending.on)?,
            Happening::Ended(ending.reason),
            ended_by.clone(),
        ));
    }
    events.sort_by_key(|e| (e.on, rank(&e.happening)));
    let actors: Vec<&str> = events.iter().filter_map(|e| e.by.as_deref()).collect();
    let names = super::users::actor_names(state, &actors).await?;
    for e in &mut events {
        e.by_name = e.by.as_ref().and_then(|b| names.get(b)).cloned();
    }
    Ok(events)
}

fn event(on: Date, happening: Happening, by: Option<String>) -> TimelineEvent {
    TimelineEvent {
        on,
        happening,
        by,
        by_name: None,
    }
}

/// The order of events of one day.
fn rank(h: &Happening) -> u8 {
    match h {
        Happening::Applied => 0,
        Happening::Accepted => 1,
        Happening::BillingStarted => 2,
        Happening::CancellationNotified => 4,
        Happening::OptionEnded(_) => 5,
        Happening::Ended(_) => 6,
        _ => 3,
    }
}

/// The day `value` took effect in a dated history, at or after the acceptance `on`.
fn dated_from<T: PartialEq>(
    history: &[mpc_api_types::contracts::Dated<T>],
    value: &T,
    on: Date,
) -> Date {
    history
        .iter()
        .filter(|d| d.value == *value)
        .filter_map(|d| parse_date(&d.from).ok())
        .find(|from| *from >= on)
        .unwrap_or(on)
}

/// The day a replacement took over (R11.1): the `device_assigned` effect of the decision.
fn replaced_on(decision: &str) -> Option<Date> {
    let decision: serde_json::Value = serde_json::from_str(decision).ok()?;
    decision["effects"]
        .as_array()?
        .iter()
        .find(|e| e["effect"] == "device_assigned")
        .and_then(|e| parse_date(e["from"].as_str()?).ok())
}

/// Who set the contract's billing start (the journal's `contract.billing_start`).
async fn billing_start_actor(
    state: &AppState,
    caller: &Caller,
    c: &ContractView,
) -> ApiResult<Option<String>> {
    let page = super::journal::list(
        state,
        caller,
        Search {
            operation: Some("contract.billing_start".into()),
            contractor_id: Some(c.contractor_id.clone()),
            subject: Some(c.id.clone()),
            limit: Some(1),
            ..Search::default()
        },
    )
    .await?;
    Ok(page.entries.into_iter().next().map(|e| e.actor))
}
