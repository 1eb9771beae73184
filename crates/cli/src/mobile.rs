//! `mpc mobile`: SIMs, usage records and throttles on the database (R9.3, R9.6, R9.9).

use std::path::PathBuf;

use anyhow::{Context, anyhow, bail};
use clap::{Subcommand, ValueEnum};
use jiff::Timestamp;
use mpc_domain::calendar::parse_date;
use mpc_domain::mobile::{self, ManualAction, Source};
use mpc_storage::mobile as store;
use mpc_storage::{JournalEntry, StorageError, Store};

use crate::contracts::refusal;

#[derive(Subcommand)]
pub enum MobileCommand {
    /// Bind a SIM to a mobile access option from a day (R9.3); the SIM's earlier service and
    /// the option's earlier SIM end the day before.
    Bind {
        iccid: String,
        #[arg(long)]
        option: String,
        /// YYYY-MM-DD.
        #[arg(long)]
        from: String,
    },
    /// Ingest usage records from a file: CSV with a header (record_id, iccid, start, end,
    /// bytes_up, bytes_down) or JSON lines of the same fields; idempotent by record id.
    Import {
        file: PathBuf,
        /// Read by the file's extension when omitted: `.csv` is CSV, anything else JSON lines.
        #[arg(long, value_enum)]
        format: Option<UsageFormat>,
    },
    /// The SIMs throttled at an instant: ICCID, option, automatic or manual, until, why.
    Throttles {
        /// RFC 3339; now when omitted.
        #[arg(long)]
        at: Option<String>,
    },
    /// Throttle a SIM by hand until it is released (R9.9).
    Throttle {
        iccid: String,
        #[arg(long)]
        reason: String,
    },
    /// Release a SIM by hand until the next 1st, 00:00 Tokyo (R9.9).
    Release {
        iccid: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum UsageFormat {
    Csv,
    Ndjson,
}

/// Records per transaction when importing: a rerun after a failure skips what was stored.
const IMPORT_BATCH: usize = 100_000;

fn not_found(e: StorageError, what: String) -> anyhow::Error {
    match e {
        StorageError::NotFound => anyhow!("no {what}"),
        e => anyhow!(e),
    }
}

fn iccid(iccid: &str) -> anyhow::Result<&str> {
    if !mobile::is_iccid(iccid) {
        bail!("iccid must be 18 to 22 digits: {iccid:?}");
    }
    Ok(iccid)
}

pub async fn mobile(store: &Store, cmd: MobileCommand) -> anyhow::Result<()> {
    match cmd {
        MobileCommand::Bind {
            iccid: i,
            option,
            from,
        } => {
            let from = parse_date(&from).map_err(|e| anyhow!("--from: {e}"))?;
            let journal = JournalEntry::new("cli", "mobile.sim_bind").request(
                serde_json::json!({ "iccid": i, "option_id": option, "from": from.to_string() }),
            );
            let sim = store::bind_sim(store, iccid(&i)?, &option, from, journal)
                .await
                .map_err(|e| not_found(e, format!("mobile access option {option}")))?
                .map_err(refusal)?;
            println!(
                "SIM {} serves {} from {}",
                sim.iccid, sim.option_id, sim.from_on
            );
        }
        MobileCommand::Import { file, format } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let csv = match format {
                Some(f) => matches!(f, UsageFormat::Csv),
                None => file
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("csv")),
            };
            let (records, rejected) = if csv {
                store::parse_csv(&text).map_err(|e| anyhow!("{}: {e}", file.display()))?
            } else {
                store::parse_ndjson(&text)
            };
            drop(text);
            import(store, records, rejected).await?;
        }
        MobileCommand::Throttles { at } => {
            let at = match at {
                Some(at) => at.parse::<Timestamp>().map_err(|e| anyhow!("--at: {e}"))?,
                None => Timestamp::now(),
            };
            for d in store::decisions(&mut *store.conn().await?, at).await? {
                if !d.state.throttled {
                    continue;
                }
                let (source, reason) = match d.state.source {
                    Source::Manual => ("manual", d.manual.map(|m| m.reason)),
                    Source::Automatic => ("automatic", d.automatic.map(|t| t.basis.reason())),
                };
                let until = d.state.until.map(|u| u.to_string()).unwrap_or_default();
                let reason = reason.unwrap_or_default();
                println!("{}\t{}\t{source}\t{until}\t{reason}", d.iccid, d.option_id);
            }
        }
        MobileCommand::Throttle { iccid: i, reason } => {
            manual(store, iccid(&i)?, ManualAction::Throttle, &reason).await?;
        }
        MobileCommand::Release { iccid: i, reason } => {
            manual(store, iccid(&i)?, ManualAction::Release, &reason).await?;
        }
    }
    Ok(())
}

/// Ingests `records` a transaction per [`IMPORT_BATCH`]; prints what each refused line was
/// refused for, then the totals.
async fn import(
    store: &Store,
    records: Vec<store::Incoming>,
    mut rejected: Vec<store::Rejection>,
) -> anyhow::Result<()> {
    let (mut accepted, mut duplicates, mut corrected, mut refused) = (0, 0, 0, Vec::new());
    let mut records = records.into_iter().peekable();
    while records.peek().is_some() || !rejected.is_empty() {
        let batch: Vec<_> = records.by_ref().take(IMPORT_BATCH).collect();
        let journal = JournalEntry::new("cli", "mobile.usage_import")
            .request(serde_json::json!({ "lines": batch.len() + rejected.len() }));
        let s = store::ingest(store, batch, std::mem::take(&mut rejected), journal).await?;
        accepted += s.accepted;
        duplicates += s.duplicates;
        corrected += s.corrected;
        refused.extend(s.rejected);
    }
    for r in &refused {
        eprintln!("line {}: {}: {}", r.line, r.reason, r.detail);
    }
    println!(
        "{accepted} accepted, {duplicates} duplicates, {corrected} corrected, {} refused",
        refused.len()
    );
    Ok(())
}

async fn manual(
    store: &Store,
    iccid: &str,
    action: ManualAction,
    reason: &str,
) -> anyhow::Result<()> {
    let operation = match action {
        ManualAction::Throttle => "mobile.throttle",
        ManualAction::Release => "mobile.release",
    };
    let journal = JournalEntry::new("cli", operation)
        .request(serde_json::json!({ "iccid": iccid, "reason": reason }));
    let m = store::manual(store, iccid, action, reason, Timestamp::now(), journal)
        .await
        .map_err(|e| not_found(e, format!("SIM {iccid}")))?
        .map_err(refusal)?;
    let state = mobile::state_at(m.at, &[], Some(&m)).map_err(|e| anyhow!(e))?;
    let until = state
        .until
        .map_or("released by hand".to_owned(), |u| u.to_string());
    match action {
        ManualAction::Throttle => println!("SIM {iccid} throttled until {until}"),
        ManualAction::Release => println!("SIM {iccid} released until {until}"),
    }
    Ok(())
}
