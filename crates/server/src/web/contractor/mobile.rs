//! `/console/mobile`: SIMs and their data use in a month.

use std::collections::HashMap;

use axum::extract::{Query, State};
use jiff::Timestamp;
use jiff::civil::Date;
use mpc_api_types::mobile::{DayUse, ThrottleView};
use mpc_domain::calendar::{tokyo_date, tokyo_start_of_day, tokyo_time};
use mpc_domain::catalog::{MobileUsageType, OptionKind};
use serde::Deserialize;

use crate::AppState;
use crate::app::mobile;
use crate::web::format;
use crate::web::i18n::Lang;
use crate::web::session::Section;
use crate::web::{Chrome, Session, WebResult, charts, render, short};

use super::{choose_contractor, contractor_of, contracts_of, describe, today};

#[derive(Deserialize)]
pub(super) struct MonthQuery {
    contractor: Option<String>,
    month: Option<String>,
}

/// One day of a usage chart's numbers, as the table under it reads.
pub struct UsageRow {
    pub day: String,
    pub used: String,
    pub cumulative: String,
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
    /// The chart's numbers, day by day.
    pub table: Vec<UsageRow>,
}

/// A month's use as a chart and its table: each day of `month` (`YYYY-MM`) up to today,
/// with the day's use from `days` (zero when none), against `limit` (called `limit_label`),
/// with the earliest of `throttles` marked.
fn month_chart<'a>(
    lang: Lang,
    month: &str,
    days: &[DayUse],
    limit: Option<u64>,
    throttles: impl Iterator<Item = &'a ThrottleView>,
    limit_label: &str,
) -> (String, Vec<UsageRow>) {
    let t = lang.t();
    let now = Timestamp::now();
    let first = format!("{month}-01").parse::<Date>().ok();
    let Some((first, start)) = first.and_then(|f| Some((f, tokyo_start_of_day(f).ok()?))) else {
        return (String::new(), Vec::new());
    };
    let last = first.last_of_month().min(tokyo_date(now));
    let used: HashMap<&str, u64> = days.iter().map(|d| (d.date.as_str(), d.bytes)).collect();
    let mut shown = Vec::new();
    let mut table = Vec::new();
    let mut cumulative = 0u64;
    for day in first
        .series(jiff::Span::new().days(1))
        .take_while(|d| *d <= last)
    {
        let bytes = used.get(day.to_string().as_str()).copied().unwrap_or(0);
        cumulative = cumulative.saturating_add(bytes);
        table.push(UsageRow {
            day: format::date(lang, day),
            used: charts::gigabytes(bytes),
            cumulative: charts::gigabytes(cumulative),
        });
        shown.push(charts::UsageDay {
            label: day.strftime(t.chart_day).to_string(),
            bytes,
        });
    }
    let throttle = throttles
        .filter_map(|th| th.from.parse::<Timestamp>().ok())
        .min()
        .map(|from| charts::Tick {
            at: from.as_second(),
            label: tokyo_time(from).strftime(t.chart_instant).to_string(),
        });
    let labels = charts::UsageLabels {
        caption: t.mobile_use_chart,
        limit: limit_label,
        daily: t.chart_daily,
        cumulative: t.chart_cumulative,
        throttled: t.chart_throttled_from,
        megabytes: t.unit_mb,
        gigabytes: t.unit_gb,
    };
    let chart = charts::usage(&shown, start.as_second(), limit, throttle.as_ref(), &labels);
    (chart, table)
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
    // Each SIM's ICCIDs by its option, to name a group's members by them.
    let mut iccids_of: std::collections::HashMap<String, String> = Default::default();
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
            iccids_of.insert(s.option_id.clone(), s.iccids.join(", "));
            let (chart, table) = month_chart(
                lang,
                &month,
                &s.days,
                s.cap_bytes,
                s.throttle.iter(),
                t.mobile_cap,
            );
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
                chart,
                table,
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
        let (chart, table) = month_chart(
            lang,
            &month,
            &usage.days,
            usage.pack_bytes,
            usage.members.iter().filter_map(|m| m.throttle.as_ref()),
            t.mobile_pack,
        );
        groups.push(SimShown {
            contract: format!("{} {}", t.field_group, short(&g)),
            iccids: usage
                .members
                .iter()
                .map(|m| {
                    iccids_of
                        .get(&m.option_id)
                        .filter(|i| !i.is_empty())
                        .cloned()
                        .unwrap_or_else(|| {
                            contracts
                                .iter()
                                .find_map(|c| {
                                    c.options.iter().find(|o| o.id == m.option_id).map(|o| {
                                        crate::web::option_name(
                                            lang,
                                            o.kind,
                                            c.number.map(|n| n.to_string()).as_deref(),
                                        )
                                    })
                                })
                                .unwrap_or_else(|| "—".to_owned())
                        })
                })
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
            chart,
            table,
        });
    }
    Ok(render(MobilePage {
        c: session.chrome(t.nav_mobile, Section::Mobile),
        month,
        sims,
        groups,
    }))
}
