//! Reading usage records from NDJSON and CSV bodies: each line a record or a rejection.

use jiff::Timestamp;
use mpc_domain::mobile::{self, RejectReason};

use crate::Result;

/// A usage record as received, before its SIM is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// Its line in the body, from 1.
    pub line: usize,
    pub record_id: String,
    pub iccid: String,
    /// Microseconds since the epoch.
    pub start: i64,
    pub end: i64,
    pub bytes_up: i64,
    pub bytes_down: i64,
}

/// A record refused, with why; kept in `usage_rejections`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    pub line: usize,
    pub record_id: Option<String>,
    pub iccid: Option<String>,
    pub reason: RejectReason,
    pub detail: String,
}

impl Rejection {
    fn invalid(line: usize, detail: String) -> Rejection {
        Rejection {
            line,
            record_id: None,
            iccid: None,
            reason: RejectReason::Invalid,
            detail: clipped(&detail, MAX_DETAIL_CHARS),
        }
    }
}

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct IngestSummary {
    pub batch_id: String,
    pub accepted: usize,
    pub duplicates: usize,
    pub corrected: usize,
    pub rejected: Vec<Rejection>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JsonRecord {
    record_id: String,
    iccid: String,
    start: String,
    end: String,
    bytes_up: u64,
    bytes_down: u64,
}

/// Reads an instant: RFC 3339 with an offset, or a civil date-time taken as Tokyo time (D1).
fn instant(s: &str) -> Option<i64> {
    let ts = match s.parse::<Timestamp>() {
        Ok(ts) => ts,
        Err(_) => mobile::tokyo_instant(s.parse().ok()?).ok()?,
    };
    Some(ts.as_microsecond())
}

/// The longest reason kept with a rejected record (serde's messages quote the input).
const MAX_DETAIL_CHARS: usize = 500;

/// At most `max` characters of `s`: what a rejection keeps of a field too long to keep whole.
fn clipped(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn record(line: usize, r: JsonRecord) -> Result<Incoming, Rejection> {
    use mpc_domain::mobile::{MAX_ICCID_CHARS, MAX_RECORD_ID_CHARS};
    let bad = |detail: String| Rejection {
        line,
        record_id: Some(clipped(&r.record_id, MAX_RECORD_ID_CHARS)),
        iccid: Some(clipped(&r.iccid, MAX_ICCID_CHARS)),
        reason: RejectReason::Invalid,
        detail: clipped(&detail, MAX_DETAIL_CHARS),
    };
    if r.record_id.trim().is_empty() || r.iccid.trim().is_empty() {
        return Err(bad("record_id and iccid must not be empty".into()));
    }
    if r.record_id.chars().count() > MAX_RECORD_ID_CHARS {
        return Err(bad(format!(
            "record_id must be at most {MAX_RECORD_ID_CHARS} characters"
        )));
    }
    if r.iccid.chars().count() > MAX_ICCID_CHARS {
        return Err(bad(format!(
            "iccid must be at most {MAX_ICCID_CHARS} characters"
        )));
    }
    let (Some(start), Some(end)) = (instant(&r.start), instant(&r.end)) else {
        return Err(bad(format!(
            "start {:?} and end {:?} must be RFC 3339 instants or Tokyo date-times",
            clipped(&r.start, 64),
            clipped(&r.end, 64)
        )));
    };
    for (field, at) in [("start", start), ("end", end)] {
        let checked = Timestamp::from_microsecond(at)
            .map_err(|_| mpc_domain::calendar::CalendarError::OutOfRange)
            .and_then(mpc_domain::calendar::business_instant);
        if let Err(e) = checked {
            return Err(bad(format!("{field}: {e}")));
        }
    }
    if end < start {
        return Err(bad("the interval ends before it starts".into()));
    }
    let (Ok(bytes_up), Ok(bytes_down)) = (i64::try_from(r.bytes_up), i64::try_from(r.bytes_down))
    else {
        return Err(bad("byte counts above 2^63 - 1".into()));
    };
    Ok(Incoming {
        line,
        record_id: r.record_id,
        iccid: r.iccid,
        start,
        end,
        bytes_up,
        bytes_down,
    })
}

/// Reads JSON lines, one record object per line; blank lines are skipped.
pub fn parse_ndjson(text: &str) -> (Vec<Incoming>, Vec<Rejection>) {
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<JsonRecord>(raw) {
            Ok(r) => match record(line, r) {
                Ok(r) => ok.push(r),
                Err(e) => bad.push(e),
            },
            Err(e) => bad.push(Rejection::invalid(line, format!("not a usage record: {e}"))),
        }
    }
    (ok, bad)
}

/// The columns a usage CSV's header names, in any order.
pub const CSV_HEADER: &str = "record_id,iccid,start,end,bytes_up,bytes_down";

/// A usage CSV whose header does not name every column of [`CSV_HEADER`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the CSV header must name {CSV_HEADER}")]
pub struct HeaderLacksColumns;

/// Reads CSV with a header naming the columns of [`CSV_HEADER`] in any order; line numbers
/// count the header as line 1.
///
/// # Errors
/// [`HeaderLacksColumns`] when the header lacks a column.
pub fn parse_csv(text: &str) -> Result<(Vec<Incoming>, Vec<Rejection>), HeaderLacksColumns> {
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = lines
        .next()
        .map(|(_, h)| h.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let mut at = [0usize; 6];
    for (slot, name) in at.iter_mut().zip(CSV_HEADER.split(',')) {
        *slot = header
            .iter()
            .position(|h| *h == name)
            .ok_or(HeaderLacksColumns)?;
    }
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    for (i, raw) in lines {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = raw.split(',').map(str::trim).collect();
        if fields.len() != header.len() {
            bad.push(Rejection::invalid(
                line,
                format!("expected {} fields, found {}", header.len(), fields.len()),
            ));
            continue;
        }
        let bytes = |k: usize| fields[at[k]].parse::<u64>();
        let (Ok(bytes_up), Ok(bytes_down)) = (bytes(4), bytes(5)) else {
            bad.push(Rejection::invalid(
                line,
                "bytes_up and bytes_down must be whole numbers ≥ 0".into(),
            ));
            continue;
        };
        let r = JsonRecord {
            record_id: fields[at[0]].to_owned(),
            iccid: fields[at[1]].to_owned(),
            start: fields[at[2]].to_owned(),
            end: fields[at[3]].to_owned(),
            bytes_up,
            bytes_down,
        };
        match record(line, r) {
            Ok(r) => ok.push(r),
            Err(e) => bad.push(e),
        }
    }
    Ok((ok, bad))
}
