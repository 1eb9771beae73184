//! `mpc mobile`: SIMs, usage records and throttles on the database (R9.3, R9.6, R9.9).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use clap::{Subcommand, ValueEnum};
use jiff::Timestamp;
use mpc_domain::calendar::parse_business_date;
use mpc_domain::mobile::{self, ManualAction, Source};
use mpc_storage::mobile as store;
use mpc_storage::{JournalEntry, StorageError, Store};

use crate::contracts::refusal;

#[derive(Subcommand)]
pub enum MobileCommand {
    /// Bind a SIM to a mobile access option from a day (R9.3); the SIM's earlier service and
    /// the option's earlier SIM end the day before.
    Bind {
        /// The SIM's ICCID: 18 to 22 digits.
        iccid: String,
        /// The id of the mobile access option the SIM serves.
        #[arg(long)]
        option: String,
        /// The first day of the binding, `YYYY-MM-DD` (e.g. 2026-12-05).
        #[arg(long)]
        from: String,
    },
    /// Ingest usage records from a file: CSV with a header (record_id, iccid, start, end,
    /// bytes_up, bytes_down) or JSON lines of the same fields; idempotent by record id.
    Import {
        /// The usage file to read.
        file: PathBuf,
        /// Read by the file's extension when omitted: `.csv` is CSV, anything else JSON lines.
        #[arg(long, value_enum)]
        format: Option<UsageFormat>,
        /// Lines per transaction: a rerun after a failure skips the records stored.
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..))]
        batch_lines: u32,
    },
    /// The SIMs throttled at an instant: ICCID, option, automatic or manual, until, why.
    Throttles {
        /// An RFC 3339 instant (e.g. 2026-12-05T09:00:00+09:00); now when omitted.
        #[arg(long)]
        at: Option<String>,
    },
    /// Throttle a SIM by hand until it is released (R9.9).
    Throttle {
        /// The SIM's ICCID: 18 to 22 digits.
        iccid: String,
        /// Why, as the journal and the contractor will read it.
        #[arg(long)]
        reason: String,
    },
    /// Release a SIM by hand until the next 1st, 00:00 Tokyo (R9.9).
    Release {
        /// The SIM's ICCID: 18 to 22 digits.
        iccid: String,
        /// Why, as the journal and the contractor will read it.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum UsageFormat {
    Csv,
    Ndjson,
}

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
            let from = parse_business_date(&from).map_err(|e| anyhow!("--from: {e}"))?;
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
        MobileCommand::Import {
            file,
            format,
            batch_lines,
        } => {
            let csv = match format {
                Some(f) => matches!(f, UsageFormat::Csv),
                None => file
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("csv")),
            };
            import(store, &file, csv, batch_lines as usize).await?;
        }
        MobileCommand::Throttles { at } => {
            let at = match at {
                Some(at) => at
                    .parse::<Timestamp>()
                    .map_err(|e| anyhow!("--at: {e}"))
                    .and_then(|at| {
                        mpc_domain::calendar::business_instant(at).map_err(|e| anyhow!("--at: {e}"))
                    })?,
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

/// Ingests `file` `batch_lines` lines at a time, a transaction each, so memory stays bounded;
/// prints what each refused line was refused for, then the totals.
async fn import(store: &Store, file: &Path, csv: bool, batch_lines: usize) -> anyhow::Result<()> {
    let cannot = || format!("cannot read {}", file.display());
    let mut lines = BufReader::new(File::open(file).with_context(cannot)?).lines();
    // Each CSV chunk is parsed with the header in front, as its line 1.
    let header = match csv {
        true => Some(
            lines
                .next()
                .transpose()
                .with_context(cannot)?
                .unwrap_or_default(),
        ),
        false => None,
    };
    let mut before = usize::from(csv);
    let (mut accepted, mut duplicates, mut corrected, mut refused) = (0, 0, 0, 0);
    loop {
        let mut text = header
            .as_ref()
            .map_or_else(String::new, |h| format!("{h}\n"));
        let mut read = 0;
        for line in lines.by_ref().take(batch_lines) {
            let line = line.with_context(|| format!("{}: line {}", cannot(), before + read + 1))?;
            text.push_str(&line);
            text.push('\n');
            read += 1;
        }
        if read == 0 {
            break;
        }
        let (mut records, mut rejected) = match csv {
            true => store::parse_csv(&text).map_err(|e| anyhow!("{}: {e}", file.display()))?,
            false => store::parse_ndjson(&text),
        };
        let shift = before - usize::from(csv);
        records.iter_mut().for_each(|r| r.line += shift);
        rejected.iter_mut().for_each(|r| r.line += shift);
        let journal = JournalEntry::new("cli", "mobile.usage_import")
            .request(serde_json::json!({ "file": file.display().to_string(), "lines": read }));
        let s = store::ingest(store, records, rejected, journal).await?;
        for r in &s.rejected {
            eprintln!("line {}: {}: {}", r.line, r.reason, r.detail);
        }
        accepted += s.accepted;
        duplicates += s.duplicates;
        corrected += s.corrected;
        refused += s.rejected.len();
        before += read;
    }
    println!(
        "{accepted} accepted, {duplicates} duplicates, {corrected} corrected, {refused} refused"
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
