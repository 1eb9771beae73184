//! Resolving a batch's records to the option their SIM served on the record's Tokyo day.

use jiff::civil::Date;
use mpc_domain::calendar::{Month, tokyo_date};

use super::book::MobileBook;
use mpc_domain::mobile::RejectReason;

use crate::mobile::{Incoming, Rejection};
use crate::{Result, timestamp};

#[derive(sqlx::FromRow)]
pub(crate) struct StoredRecord {
    pub(crate) record_id: String,
    pub(crate) iccid: String,
    pub(crate) option_id: String,
    pub(crate) start_at: i64,
    pub(crate) end_at: i64,
    pub(crate) bytes_up: i64,
    pub(crate) bytes_down: i64,
}

/// A record resolved to the option its SIM served.
pub(crate) struct Resolved<'a> {
    pub(crate) r: &'a Incoming,
    pub(crate) option_id: &'a str,
    /// The Tokyo month of its start (D1).
    pub(crate) month: Month,
}

/// A batch's records resolved against a [`MobileBook`].
pub(crate) struct Resolution<'a> {
    pub(crate) resolved: Vec<Resolved<'a>>,
    pub(crate) rejected: Vec<Rejection>,
    pub(crate) duplicates: usize,
    pub(crate) corrected: usize,
}

/// Resolves `records` to the options their SIMs served on their Tokyo days, and keeps the last
/// of several lines with one record id.
pub(crate) fn resolve<'a>(book: &'a MobileBook, records: &'a [Incoming]) -> Result<Resolution<'a>> {
    let mut out = Resolution {
        resolved: Vec::with_capacity(records.len()),
        rejected: Vec::new(),
        duplicates: 0,
        corrected: 0,
    };
    let mut latest = foldhash::HashMap::<&str, usize>::with_capacity_and_hasher(
        records.len(),
        Default::default(),
    );
    for r in records {
        let day = tokyo_date(timestamp(r.start)?);
        let reject = |reason, detail: String| Rejection {
            line: r.line,
            record_id: Some(r.record_id.clone()),
            iccid: Some(r.iccid.clone()),
            reason,
            detail,
        };
        let Some(services) = book.services.get(r.iccid.as_str()) else {
            out.rejected.push(reject(
                RejectReason::UnknownSim,
                format!("no SIM {} is registered", r.iccid),
            ));
            continue;
        };
        let serving = services.iter().rev().find(|s| s.sim_covers(day));
        let Some(option_id) = serving
            .filter(|s| s.option_in_service(day))
            .map(|s| s.option_id.as_str())
        else {
            out.rejected.push(reject(
                RejectReason::OutsideOptionPeriod,
                format!(
                    "SIM {} serves no mobile access option in service on {day}",
                    r.iccid
                ),
            ));
            continue;
        };
        if let Some(&earlier) = latest.get(r.record_id.as_str()) {
            let e = out.resolved[earlier].r;
            if (&e.iccid, e.start, e.end, e.bytes_up, e.bytes_down)
                == (&r.iccid, r.start, r.end, r.bytes_up, r.bytes_down)
            {
                out.duplicates += 1;
            } else {
                out.corrected += 1;
                out.resolved[earlier] = Resolved {
                    r,
                    option_id,
                    month: Month::containing(day),
                };
            }
            continue;
        }
        latest.insert(&r.record_id, out.resolved.len());
        out.resolved.push(Resolved {
            r,
            option_id,
            month: Month::containing(day),
        });
    }
    Ok(out)
}

pub(crate) fn month_of(micros: i64) -> Result<Month> {
    Ok(Month::containing(tokyo_date(timestamp(micros)?)))
}

/// A SIM's service of an option, with the option's own period, parsed once per batch.
pub(crate) struct Service {
    pub(crate) option_id: String,
    pub(crate) from: Date,
    pub(crate) until: Option<Date>,
    /// `None` when the option is not a mobile access option.
    pub(crate) option_period: Option<(Date, Option<Date>)>,
}

impl Service {
    fn sim_covers(&self, day: Date) -> bool {
        self.from <= day && self.until.is_none_or(|u| day <= u)
    }

    fn option_in_service(&self, day: Date) -> bool {
        self.option_period
            .is_some_and(|(from, until)| from <= day && until.is_none_or(|u| day <= u))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ServiceRecord {
    pub(crate) iccid: String,
    pub(crate) option_id: String,
    pub(crate) from_on: String,
    pub(crate) until_on: Option<String>,
    pub(crate) kind: String,
    pub(crate) accepted_on: String,
    pub(crate) end_on: Option<String>,
}
