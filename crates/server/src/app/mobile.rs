//! Mobile data use as SIM holders and operators read it: per SIM against its cap (R9.3), per
//! packet share group against its pack (R9.6), in a Tokyo month; and what operators do with
//! SIMs: binding them, ingesting their usage, throttling and releasing them by hand (R9.9).

use axum::http::StatusCode;
use jiff::Timestamp;
use mpc_api_types::mobile::{
    ContractMobileUsage, DayUse, GroupUsage, ManualThrottle, MemberUse, RejectedRecord, SimBinding,
    SimUse, SimView, ThrottleDecision, ThrottleDecisions, ThrottleView, UsageIngest,
};
use mpc_domain::calendar::Month;
use mpc_domain::catalog::OptionKind;
use mpc_domain::mobile::{self, Basis, ManualAction, MonthlyUse, Source, Throttle};
use mpc_storage::contracts::{self, Owned};
use mpc_storage::mobile as store;
use serde_json::json;

use super::Input;
use crate::AppState;
use crate::app::support::{Dates, holder, today};
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

/// A contract's mobile use in `month` (`YYYY-MM`, Tokyo; the current month when `None`): per
/// SIM, use against the cap and per day. A record counts in the month and on the day of its
/// start.
///
/// # Errors
/// 404 for a contract outside the caller's reach; 400 for a malformed month.
pub async fn contract_usage(
    state: &AppState,
    caller: &Caller,
    contract_id: &str,
    month: Option<&str>,
) -> ApiResult<ContractMobileUsage> {
    let crate::app::contracts::Resolved { id, owner } =
        crate::app::contracts::resolve(state, caller, contract_id).await?;
    let contract_id = id.as_str();
    let month = parse_month(month)?;
    let mut conn = state.store.conn().await?;
    let book = contracts::load_book(&mut conn, &owner).await?;
    let options: Vec<_> = book
        .options_of(contract_id)
        .filter(|o| o.kind == OptionKind::MobileAccess)
        .collect();
    let ids: Vec<String> = options.iter().map(|o| o.id.clone()).collect();
    let records = store::usage_of(&mut conn, &ids, month).await?;
    let mut sims = Vec::new();
    for o in options {
        let used = mobile::monthly_use(month, &records, |r| r.option_id == o.id);
        let last_day = o
            .end_on()
            .map_or(month.last_day(), |e| e.min(month.last_day()));
        let usage_type = o.usage_type(last_day);
        let mut iccids = Vec::new();
        for s in store::sims_of(&mut conn, &o.id).await? {
            if s.overlaps(month)? {
                iccids.push(s.iccid);
            }
        }
        sims.push(SimUse {
            option_id: o.id.clone(),
            iccids,
            usage_type: usage_type.map(|t| t.as_str().to_owned()),
            cap_bytes: usage_type.and_then(|t| t.monthly_cap_bytes()),
            used_bytes: used.total,
            days: days(&used),
            throttle: store::throttle_of(&mut conn, &o.id, month)
                .await?
                .map(throttle_view)
                .transpose()?,
        });
    }
    Ok(ContractMobileUsage {
        contract_id: contract_id.to_owned(),
        contract_number: crate::views::name_in(&book)(contract_id).0,
        month: month.to_string(),
        sims,
    })
}

/// A packet share group's pooled use in `month` against the pack in force (R9.6), per member
/// counting only the days it was a member.
///
/// # Errors
/// 404 for a group outside the caller's reach; 400 for a malformed month.
pub async fn group_usage(
    state: &AppState,
    caller: &Caller,
    group_id: &str,
    month: Option<&str>,
) -> ApiResult<GroupUsage> {
    let owner = holder(state, caller, Owned::Group, group_id).await?;
    let month = parse_month(month)?;
    let mut conn = state.store.conn().await?;
    let book = contracts::load_book(&mut conn, &owner).await?;
    let group = book.group(group_id).ok_or_else(ApiError::not_found)?;
    let mut ids: Vec<String> = group.members.iter().map(|m| m.option_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let records = store::usage_of(&mut conn, &ids, month).await?;
    let pooled = mobile::monthly_use(month, &records, |r| mobile::counts_for_group(group, r));
    let mut members = Vec::new();
    for id in ids {
        let used = mobile::monthly_use(month, &records, |r| {
            r.option_id == id && mobile::counts_for_group(group, r)
        });
        let throttle = store::throttle_of(&mut conn, &id, month)
            .await?
            .filter(|t| matches!(&t.basis, Basis::Pack { group_id: g } if *g == group_id))
            .map(throttle_view)
            .transpose()?;
        members.push(MemberUse {
            option_id: id,
            used_bytes: used.total,
            throttle,
        });
    }
    let pack_gb = group.pack_gb(month.last_day());
    Ok(GroupUsage {
        month: month.to_string(),
        pack_gb,
        pack_bytes: pack_gb.map(mobile::pack_bytes),
        used_bytes: pooled.total,
        days: days(&pooled),
        members,
        group_id: group_id.to_owned(),
    })
}

fn parse_month(month: Option<&str>) -> ApiResult<Month> {
    match month {
        Some(m) => mpc_domain::calendar::parse_business_month(m).map_err(|e| {
            ApiError::bad_request("invalid_query", format!("month: {e}"))
                .ja(format!("month: {}", e.message_ja()))
        }),
        None => Ok(Month::containing(today())),
    }
}

fn days(u: &MonthlyUse) -> Vec<DayUse> {
    u.days
        .iter()
        .map(|(date, bytes)| DayUse {
            date: date.to_string(),
            bytes: *bytes,
        })
        .collect()
}

fn throttle_view(t: Throttle) -> ApiResult<ThrottleView> {
    Ok(ThrottleView {
        from: t.from.to_string(),
        until: t.until.to_string(),
        basis: match t.basis {
            Basis::Cap { .. } => "cap",
            Basis::Pack { .. } => "pack",
        }
        .to_owned(),
        limit_bytes: t.limit,
        used_bytes: t.used,
    })
}

/// An ICCID: 18 to 22 digits (ITU-T E.118).
fn check_iccid(iccid: &str) -> ApiResult<()> {
    if mobile::is_iccid(iccid) {
        return Ok(());
    }
    Err(mpc_domain::account::FieldError {
        field: "iccid",
        message_en: format!("iccid must be 18 to 22 digits: {iccid:?}"),
        message_ja: "ICCID は18〜22桁の数字で指定してください".into(),
    }
    .into())
}

/// How usage records are written: JSON lines of `{record_id, iccid, start, end, bytes_up,
/// bytes_down}`, or CSV with a header naming those columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageFormat {
    Ndjson,
    Csv,
}

/// One batch of usage records to ingest.
#[derive(Debug, Clone, Copy)]
pub struct UsageBatch<'a> {
    /// The records as sent, UTF-8.
    pub body: &'a [u8],
    /// `None` for a format the service does not read.
    pub format: Option<UsageFormat>,
    /// Lines of the source before this batch, so that refused lines are numbered as in the
    /// source when it is sent in batches (a CSV batch still begins with its header, line 1).
    pub lines_before: usize,
    /// The file the records were read from, for the journal.
    pub file: Option<&'a str>,
}

/// Ingests usage records (operators), journaled as `mobile.usage_ingest`, away from the
/// request path. Records are idempotent by `record_id`: an identical re-send is a duplicate,
/// one with other values a correction. Bad records, unknown SIMs and records outside any
/// option period are refused line by line and kept for operators; the rest is stored.
///
/// # Errors
/// 403 for anyone but operators; 400 for a body that is not UTF-8; 415 for a format the
/// service does not read; 422 for a CSV header that lacks a column.
pub async fn ingest(
    state: &AppState,
    caller: &Caller,
    batch: UsageBatch<'_>,
) -> ApiResult<UsageIngest> {
    caller.require_operator()?;
    let text = crate::extract::text_body(batch.body, "the body")?;
    let (mut records, mut rejected) = match batch.format {
        Some(UsageFormat::Ndjson) => store::parse_ndjson(text),
        Some(UsageFormat::Csv) => store::parse_csv(text).map_err(|e| {
            ApiError::unprocessable("invalid_csv_header", e.to_string()).ja(format!(
                "CSVの見出し行には {} の各列が必要です",
                store::CSV_HEADER
            ))
        })?,
        None => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send usage as `application/x-ndjson` or `text/csv`",
            )
            .ja("利用記録は `application/x-ndjson` か `text/csv` で送ってください"));
        }
    };
    let shift = batch.lines_before;
    records.iter_mut().for_each(|r| r.line += shift);
    rejected.iter_mut().for_each(|r| r.line += shift);
    let lines = records.len() + rejected.len();
    let request = match batch.file {
        Some(file) => json!({ "file": file, "lines": lines }),
        None => json!({ "lines": lines }),
    };
    let journal = caller.journal("mobile.usage_ingest").request(request);
    let s = state
        .jobs
        .run(move |store| async move { store::ingest(&store, records, rejected, journal).await })
        .await?;
    Ok(UsageIngest {
        batch_id: s.batch_id,
        accepted: s.accepted as u64,
        duplicates: s.duplicates as u64,
        corrected: s.corrected as u64,
        rejected: s
            .rejected
            .into_iter()
            .map(|r| RejectedRecord {
                line: r.line as u64,
                record_id: r.record_id,
                iccid: r.iccid,
                reason: r.reason,
                detail: r.detail,
            })
            .collect(),
    })
}

/// The records an ingestion refused, with their lines and reasons, as kept for operators.
///
/// # Errors
/// 403 for anyone but operators.
pub async fn rejections(
    state: &AppState,
    caller: &Caller,
    batch_id: &str,
) -> ApiResult<Vec<RejectedRecord>> {
    caller.require_operator()?;
    let rows = store::rejections(&mut *state.store.conn().await?, batch_id).await?;
    Ok(rows
        .into_iter()
        .map(|r| RejectedRecord {
            line: u64::try_from(r.line).unwrap_or_default(),
            record_id: r.record_id,
            iccid: r.iccid,
            reason: r.reason,
            detail: r.detail,
        })
        .collect())
}

/// Binds a SIM to a `mobile_access` option of an SA-W2L contract from a day, today when
/// omitted (operators), journaled as `mobile.sim_bind`. The SIM's earlier service, and the
/// option's earlier SIM, end the day before (R9.3).
///
/// # Errors
/// 404 to anyone but operators and for an option that is no mobile access option; 422 for a
/// malformed ICCID or date, or with the rule the binding breaks.
pub async fn bind_sim(
    state: &AppState,
    caller: &Caller,
    iccid: &str,
    input: Input<SimBinding>,
) -> ApiResult<SimView> {
    if !caller.actor.is_operator() {
        return Err(ApiError::not_found());
    }
    let (body, raw) = input.parse()?;
    check_iccid(iccid)?;
    let from = Dates::default().or_today("from", body.from.as_deref())?;
    let row = store::bind_sim(
        &state.store,
        iccid,
        &body.option_id,
        from,
        caller.journal("mobile.sim_bind").request(raw),
    )
    .await??;
    Ok(SimView {
        iccid: row.iccid,
        option_id: row.option_id,
        from: row.from_on,
        until: row.until_on,
    })
}

/// The throttle decisions in force at `at` (an RFC 3339 instant; now when `None`), operators
/// only: every SIM throttled automatically or by hand, or released by hand.
///
/// # Errors
/// 403 for anyone but operators; 400 for a malformed instant or one outside the business
/// dates.
pub async fn throttles(
    state: &AppState,
    caller: &Caller,
    at: Option<&str>,
) -> ApiResult<ThrottleDecisions> {
    caller.require_operator()?;
    let at = match at {
        Some(s) => s
            .parse::<Timestamp>()
            .map_err(|_| format!("at {s:?} is not an RFC 3339 instant"))
            .and_then(|at| {
                mpc_domain::calendar::business_instant(at).map_err(|e| format!("at: {e}"))
            })
            .map_err(|detail| ApiError::bad_request("invalid_query", detail))?,
        None => Timestamp::now(),
    };
    let decisions = store::decisions(&mut *state.store.conn().await?, at)
        .await?
        .into_iter()
        .map(|d| ThrottleDecision {
            iccid: d.iccid,
            option_id: d.option_id,
            throttled: d.state.throttled,
            source: match d.state.source {
                Source::Automatic => "automatic",
                Source::Manual => "manual",
            }
            .to_owned(),
            until: d.state.until.map(|u| u.to_string()),
            reason: match d.state.source {
                Source::Manual => d.manual.map(|m| m.reason),
                Source::Automatic => d.automatic.map(|t| t.basis.reason()),
            },
        })
        .collect();
    Ok(ThrottleDecisions {
        at: at.to_string(),
        decisions,
    })
}

/// Throttles a SIM by hand until released by hand, or releases it until 00:00 Tokyo on the
/// next 1st (operators), with a reason, journaled as `mobile.throttle` or `mobile.release` and
/// published as an event (R9.9).
///
/// # Errors
/// 404 to anyone but operators and for an unknown SIM; 422 for a missing reason (R9.9).
pub async fn manual(
    state: &AppState,
    caller: &Caller,
    iccid: &str,
    action: ManualAction,
    input: Input<ManualThrottle>,
) -> ApiResult<ThrottleDecision> {
    if !caller.actor.is_operator() {
        return Err(ApiError::not_found());
    }
    let (body, raw) = input.parse()?;
    let at = Timestamp::now();
    let operation = match action {
        ManualAction::Throttle => "mobile.throttle",
        ManualAction::Release => "mobile.release",
    };
    let m = store::manual(
        &state.store,
        iccid,
        action,
        &body.reason,
        at,
        caller.journal(operation).request(raw),
    )
    .await??;
    let option_id = store::sim(&mut *state.store.conn().await?, iccid)
        .await?
        .last()
        .map(|s| s.option_id.clone())
        .unwrap_or_default();
    let state = mobile::state_at(at, &[], Some(&m)).map_err(|_| ApiError::internal())?;
    Ok(ThrottleDecision {
        iccid: iccid.to_owned(),
        option_id,
        throttled: state.throttled,
        source: "manual".to_owned(),
        until: state.until.map(|u| u.to_string()),
        reason: Some(m.reason),
    })
}
