//! `/console/mobile`: SIMs and their data use in a month.

use axum::extract::{Query, State};
use mpc_domain::catalog::{MobileUsageType, OptionKind};
use serde::Deserialize;

use crate::AppState;
use crate::app::mobile;
use crate::web::session::Section;
use crate::web::{Chrome, Session, WebResult, charts, render, short};

use super::{choose_contractor, contractor_of, contracts_of, describe, today};

#[derive(Deserialize)]
pub(super) struct MonthQuery {
    contractor: Option<String>,
    month: Option<String>,
}

/// One SIM's month as shown.
pub struct SimShown {
    pub contract: String,
    pub iccids: String,
    pub plan: String,
    pub used: String,
    pub limit: String,
    pub throttled: bool,
    pub chart: String,
}

#[derive(askama::Template)]
#[template(path = "web/contractor/mobile.html")]
struct MobilePage {
    c: Chrome,
    month: String,
    sims: Vec<SimShown>,
    groups: Vec<SimShown>,
}

/// `/console/mobile?month=`: each SIM's use in the month against its cap (R9.3), day by day.
pub(super) async fn mobile_use(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<MonthQuery>,
) -> WebResult {
    let lang = session.lang;
    let t = session.t();
    if let Some(to) = choose_contractor(&session, &q.contractor) {
        return Ok(to);
    }
    let contractor = contractor_of(&session, q.contractor.as_deref())?;
    let month = q
        .month
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| today()[..7].to_owned());
    let contracts = contracts_of(&state, &session, &contractor, None).await?;
    let caller = session.caller();
    let mut sims = Vec::new();
    for c in contracts
        .iter()
        .filter(|c| c.options.iter().any(|o| o.kind == OptionKind::MobileAccess))
    {
        let usage = mobile::contract_usage(&state, &caller, &c.id, Some(&month)).await?;
        for s in usage.sims {
            let plan = s
                .usage_type
                .as_deref()
                .and_then(|u| u.parse::<MobileUsageType>().ok())
                .map_or_else(
                    || "—".to_owned(),
                    |u| lang.pick(u.label_ja(), u.label_en()).to_owned(),
                );
            let days: Vec<u64> = s.days.iter().map(|d| d.bytes).collect();
            sims.push(SimShown {
                contract: format!(
                    "{} ({})",
                    describe(lang, c),
                    crate::web::contract_name(c.number, &c.label, &c.id)
                ),
                iccids: s.iccids.join(", "),
                plan,
                used: charts::gigabytes(s.used_bytes),
                limit: s
                    .cap_bytes
                    .map_or_else(|| "—".to_owned(), charts::gigabytes),
                throttled: s.throttle.is_some(),
                chart: charts::usage(&days, s.cap_bytes, t.mobile_use_chart, t.mobile_cap),
            });
        }
    }
    // Packet share groups: pooled use of the members against the pack in force (R9.6).
    let mut group_ids: Vec<String> = contracts
        .iter()
        .flat_map(|c| c.options.iter())
        .filter_map(|o| o.group_id.clone())
        .collect();
    group_ids.sort();
    group_ids.dedup();
    let mut groups = Vec::new();
    for g in group_ids {
        let usage = mobile::group_usage(&state, &caller, &g, Some(&month)).await?;
        let days: Vec<u64> = usage.days.iter().map(|d| d.bytes).collect();
        groups.push(SimShown {
            contract: format!("{} {}", t.field_group, short(&g)),
            iccids: usage
                .members
                .iter()
                .map(|m| short(&m.option_id))
                .collect::<Vec<_>>()
                .join(", "),
            plan: usage
                .pack_gb
                .map_or_else(|| "—".to_owned(), |gb| format!("{gb} GB")),
            used: charts::gigabytes(usage.used_bytes),
            limit: usage
                .pack_bytes
                .map_or_else(|| "—".to_owned(), charts::gigabytes),
            throttled: usage.members.iter().any(|m| m.throttle.is_some()),
            chart: charts::usage(&days, usage.pack_bytes, t.mobile_use_chart, t.mobile_pack),
        });
    }
    Ok(render(MobilePage {
        c: session.chrome(t.nav_mobile, Section::Mobile),
        month,
        sims,
        groups,
    }))
}
