//! `mpc mobile`: SIMs, usage records and throttles (R9.3, R9.6, R9.9), through the same use
//! cases as the API.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use clap::{Subcommand, ValueEnum};
use jiff::Timestamp;
use mpc_api_types::mobile::{ManualThrottle, SimBinding};
use mpc_domain::calendar::parse_business_date;
use mpc_domain::mobile::{self, ManualAction};
use mpc_server::AppState;
use mpc_server::app::{self, Input};
use mpc_server::error::ApiError;
use mpc_server::extract::Caller;

use crate::contracts::api_error;

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

/// The one-line message of an answer, `no …` for a 404.
fn not_found(e: ApiError, what: String) -> anyhow::Error {
    match e.status.as_u16() {
        404 => anyhow!("no {what}"),
        _ => api_error(e),
    }
}

fn iccid(iccid: &str) -> anyhow::Result<&str> {
    if !mobile::is_iccid(iccid) {
        bail!("iccid must be 18 to 22 digits: {iccid:?}");
    }
    Ok(iccid)
}

pub async fn mobile(state: &AppState, cmd: MobileCommand) -> anyhow::Result<()> {
    let caller = Caller::command_line();
    match cmd {
        MobileCommand::Bind {
            iccid: i,
            option,
            from,
        } => {
            let from = parse_business_date(&from).map_err(|e| anyhow!("--from: {e}"))?;
            let binding = SimBinding {
                option_id: option.clone(),
                from: Some(from.to_string()),
            };
            let sim = app::mobile::bind_sim(state, &caller, iccid(&i)?, Input::Value(binding))
                .await
                .map_err(|e| not_found(e, format!("mobile access option {option}")))?;
            println!(
                "SIM {} serves {} from {}",
                sim.iccid, sim.option_id, sim.from
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
            import(state, &caller, &file, csv, batch_lines as usize).await?;
        }
        MobileCommand::Throttles { at } => {
            let at = match at {
                Some(at) => Some(
                    at.parse::<Timestamp>()
                        .map_err(|e| anyhow!("--at: {e}"))
                        .and_then(|at| {
                            mpc_domain::calendar::business_instant(at)
                                .map_err(|e| anyhow!("--at: {e}"))
                        })?
                        .to_string(),
                ),
                None => None,
            };
            let decisions = app::mobile::throttles(state, &caller, at.as_deref())
                .await
                .map_err(api_error)?;
            for d in decisions.decisions.into_iter().filter(|d| d.throttled) {
                let until = d.until.unwrap_or_default();
                let reason = d.reason.unwrap_or_default();
                println!(
                    "{}\t{}\t{}\t{until}\t{reason}",
                    d.iccid, d.option_id, d.source
                );
            }
        }
        MobileCommand::Throttle { iccid: i, reason } => {
            manual(state, &caller, iccid(&i)?, ManualAction::Throttle, reason).await?;
        }
        MobileCommand::Release { iccid: i, reason } => {
            manual(state, &caller, iccid(&i)?, ManualAction::Release, reason).await?;
        }
    }
    Ok(())
}

/// Ingests `file` `batch_lines` lines at a time, a transaction each, so memory stays bounded;
/// prints what each refused line was refused for, then the totals.
async fn import(
    state: &AppState,
    caller: &Caller,
    file: &Path,
    csv: bool,
    batch_lines: usize,
) -> anyhow::Result<()> {
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
    let name = file.display().to_string();
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
        let batch = app::mobile::UsageBatch {
            body: text.as_bytes(),
            format: Some(match csv {
                true => app::mobile::UsageFormat::Csv,
                false => app::mobile::UsageFormat::Ndjson,
            }),
            lines_before: before - usize::from(csv),
            file: Some(&name),
        };
        let s = app::mobile::ingest(state, caller, batch)
            .await
            .map_err(|e| anyhow!("{name}: {}", api_error(e)))?;
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
    state: &AppState,
    caller: &Caller,
    iccid: &str,
    action: ManualAction,
    reason: String,
) -> anyhow::Result<()> {
    let d = app::mobile::manual(
        state,
        caller,
        iccid,
        action,
        Input::Value(ManualThrottle { reason }),
    )
    .await
    .map_err(|e| not_found(e, format!("SIM {iccid}")))?;
    let until = d.until.unwrap_or_else(|| "released by hand".to_owned());
    match action {
        ManualAction::Throttle => println!("SIM {iccid} throttled until {until}"),
        ManualAction::Release => println!("SIM {iccid} released until {until}"),
    }
    Ok(())
}
