//! The SIMs, options and groups a batch needs ([`MobileBook`]).

use std::collections::{BTreeSet, HashMap};

use mpc_domain::book::{Membership, Timeline};
use mpc_domain::catalog::MobileUsageType;

use super::resolve::{Service, ServiceRecord};
use super::totals::{rows_in, timelines};
use crate::contracts::{date, from_wire, opt_date};
use crate::{Result, StorageError, WriteTx};

/// What ingestion needs to know of SIMs, options and packet share groups.
#[derive(Default)]
pub(crate) struct MobileBook {
    /// The services of each SIM, oldest first.
    pub(crate) services: HashMap<String, Vec<Service>>,
    pub(crate) usage_types: HashMap<String, Timeline<MobileUsageType>>,
    /// The memberships of each group.
    pub(crate) members: HashMap<String, Vec<Membership>>,
    /// The groups each option was ever a member of.
    pub(crate) groups_of: HashMap<String, Vec<String>>,
    pub(crate) packs: HashMap<String, Timeline<u32>>,
}

/// Loads the part of the [`MobileBook`] that the SIMs in `iccids` reach, or all of it.
pub(crate) async fn load_mobile_book(
    tx: &mut WriteTx,
    iccids: Option<Vec<String>>,
) -> Result<MobileBook> {
    const SERVICES: &str = "SELECT s.iccid, s.option_id, s.from_on, s.until_on, o.kind, \
                            o.accepted_on, o.end_on FROM sims s JOIN options o ON o.id = s.option_id";
    let mut rows: Vec<ServiceRecord> = match &iccids {
        Some(iccids) => rows_in(tx, SERVICES, "s.iccid", iccids).await?,
        None => rows_in(tx, SERVICES, "", &[]).await?,
    };
    rows.sort_by(|a, b| (&a.iccid, &a.from_on).cmp(&(&b.iccid, &b.from_on)));
    let mut book = MobileBook::default();
    let mut options = BTreeSet::new();
    for r in rows {
        let option_period = match r.kind.as_str() {
            "mobile_access" => Some((date(&r.accepted_on)?, opt_date(r.end_on)?)),
            _ => None,
        };
        options.insert(r.option_id.clone());
        book.services.entry(r.iccid).or_default().push(Service {
            option_id: r.option_id,
            from: date(&r.from_on)?,
            until: opt_date(r.until_on)?,
            option_period,
        });
    }
    let options: Vec<String> = options.into_iter().collect();
    let scope = |column: &'static str| if iccids.is_some() { column } else { "" };
    let usage_rows = rows_in::<(String, String, String)>(
        tx,
        "SELECT option_id, effective_from, usage_type FROM option_usage_types",
        scope("option_id"),
        &options,
    )
    .await?;
    book.usage_types = timelines(
        usage_rows
            .into_iter()
            .map(|(o, from, t)| Ok((o, from, from_wire::<MobileUsageType>(&t)?)))
            .collect::<Result<_>>()?,
    )?;
    let groups: Vec<String> = rows_in::<(String,)>(
        tx,
        "SELECT DISTINCT group_id FROM group_members",
        scope("option_id"),
        &options,
    )
    .await?
    .into_iter()
    .map(|(g,)| g)
    .collect();
    for (group_id, option_id, from_on, until_on) in
        rows_in::<(String, String, String, Option<String>)>(
            tx,
            "SELECT group_id, option_id, from_on, until_on FROM group_members",
            scope("group_id"),
            &groups,
        )
        .await?
    {
        let groups_of = book.groups_of.entry(option_id.clone()).or_default();
        if !groups_of.contains(&group_id) {
            groups_of.push(group_id.clone());
        }
        book.members.entry(group_id).or_default().push(Membership {
            option_id,
            from: date(&from_on)?,
            until: opt_date(until_on)?,
        });
    }
    book.packs = timelines(
        rows_in::<(String, String, i64)>(
            tx,
            "SELECT group_id, effective_from, pack_gb FROM group_packs",
            scope("group_id"),
            &groups,
        )
        .await?
        .into_iter()
        .map(|(g, from, gb)| {
            let gb = u32::try_from(gb).map_err(|_| StorageError::Corrupt(format!("pack {gb}")))?;
            Ok((g, from, gb))
        })
        .collect::<Result<_>>()?,
    )?;
    Ok(book)
}
