//! Mobile data use as SIM holders and operators read it: per SIM against its cap (R9.3), per
//! packet share group against its pack (R9.6), in a Tokyo month.

use mpc_api_types::mobile::{
    ContractMobileUsage, DayUse, GroupUsage, MemberUse, SimUse, ThrottleView,
};
use mpc_domain::calendar::Month;
use mpc_domain::catalog::OptionKind;
use mpc_domain::mobile::{self, Basis, MonthlyUse, Throttle};
use mpc_storage::contracts::{self, Owned};
use mpc_storage::mobile as store;

use crate::AppState;
use crate::app::support::{holder, today};
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
    let owner = holder(state, caller, Owned::Contract, contract_id).await?;
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
        Some(m) => mpc_domain::calendar::parse_business_month(m)
            .map_err(|e| ApiError::bad_request("invalid_query", format!("month: {e}"))),
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
