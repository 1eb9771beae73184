//! `mpc`: the one binary of the Multi-Product Controller Service Preset system.
//!
//! Commands call the use cases of [`mpc_server::app`] as the command line
//! ([`Caller::command_line`](mpc_server::extract::Caller::command_line)), as the API and the
//! console do. Only set-up plumbing reaches storage itself: opening and migrating the
//! database, the secret key, the first operator of `mpc serve`, and the direct seeding of
//! `mpc demo seed` and `mpc simulate --setup` (see their modules).

mod accounts;
mod billing;
mod contracts;
mod demo;
mod mobile;
mod simulate;
mod simulate_smfv2;

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use mpc_server::{AppState, DOCS_PATH, OPENAPI_PATH, ServerConfig};
use mpc_storage::Store;

/// Contracts, billing and device control for managed routers (SEIL/X4, SA-W2L, SEIL CA10).
#[derive(Parser)]
#[command(name = "mpc", version, about, propagate_version = true)]
struct Cli {
    /// Database: sqlite://PATH (embedded, the default) or postgres://USER@HOST/DB.
    #[arg(
        long,
        global = true,
        env = "MPC_DATABASE_URL",
        default_value = "sqlite://mpc.db"
    )]
    database_url: String,

    /// Log format on standard error.
    #[arg(long, global = true, env = "MPC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (API, API docs, metrics); migrates the database first.
    Serve(ServeArgs),
    /// Create the database if missing and apply pending migrations.
    Migrate,
    /// Manage contractors (customer accounts).
    #[command(subcommand)]
    Contractor(ContractorCommand),
    /// Manage operator and contractor user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Submit, accept and reject contractors' requests (applications, changes, notices, reports).
    #[command(subcommand)]
    Request(contracts::RequestCommand),
    /// Show contracts as of a day, quote cancellations, record billing start.
    #[command(subcommand)]
    Contract(contracts::ContractCommand),
    /// Device custody: show, record returns and finds, sweep overdue returns.
    #[command(subcommand)]
    Device(contracts::DeviceCommand),
    /// Demo data for trying mpc out.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Simulated devices calling home (signed polls and heartbeats), for demos and load tests.
    Simulate(simulate::SimulateArgs),
    /// The price book: list prices and agreements (R14.1); CSV import and export.
    #[command(subcommand)]
    Price(billing::PriceCommand),
    /// Monthly billing: issuer, runs, finalization, invoices.
    #[command(subcommand)]
    Billing(billing::BillingCommand),
    /// Mobile data: bind SIMs, import usage records, throttle or release by hand (R9.3, R9.9).
    #[command(subcommand)]
    Mobile(mobile::MobileCommand),
    /// SMFv2 (the ARMS call-home protocol): the listener's certificates.
    #[command(subcommand)]
    Smfv2(Smfv2Command),
    /// Find contracts, devices, SIMs, contractors and invoices by part of their id, serial,
    /// ICCID, name or number (`I-000123`), case-insensitive.
    Search(contracts::SearchArgs),
}

#[derive(Subcommand)]
enum Smfv2Command {
    /// The SMFv2 listener's certificate authority.
    #[command(subcommand)]
    Ca(CaCommand),
    /// Print a unit's SMFv2 keys (Distribution ID, LS key, RS key, heartbeat passphrase) as
    /// tab-separated values, once: they are marked shown, and never shown again.
    Reveal {
        /// The unit's serial.
        serial: String,
    },
}

#[derive(Subcommand)]
enum CaCommand {
    /// Make a CA (`CN=ARMS Root CA`, EC P-256) and a server certificate signed by it
    /// (`CN=Location Server mpc`) in DIR, as the SMFv2 client requires; keys are written 0600.
    /// Never overwrites.
    Init {
        /// The directory `mpc serve --smfv2-dir` then reads.
        #[arg(long)]
        dir: std::path::PathBuf,
        /// An IP address or host name of the listener, for the certificate's alternative names
        /// (the SMFv2 client checks none); repeatable.
        #[arg(long = "name")]
        names: Vec<String>,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "MPC_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "MPC_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,
    /// A device's first successful configuration fetch sets its contract's billing start
    /// date (R5.2).
    #[arg(long, env = "MPC_BILLING_START_ON_FIRST_FETCH")]
    billing_start_on_first_fetch: bool,
    /// Seconds without a heartbeat before a device is DOWN.
    #[arg(long, env = "MPC_DOWN_AFTER_SECS", default_value_t = 15 * 60)]
    down_after_secs: u64,
    /// Also serve SMFv2 devices (the ARMS Location and Resource Servers) on this address, over
    /// TLS 1.0 to 1.2 (see README); off unless given.
    #[arg(long, env = "MPC_SMFV2_LISTEN", requires = "smfv2_dir")]
    smfv2_listen: Option<SocketAddr>,
    /// The SMFv2 certificates: the directory `mpc smfv2 ca init` made.
    #[arg(long, env = "MPC_SMFV2_DIR")]
    smfv2_dir: Option<std::path::PathBuf>,
    /// The address devices reach the SMFv2 listener at (numeric IP:PORT); the listening
    /// address when not given.
    #[arg(long, env = "MPC_SMFV2_ADVERTISE")]
    smfv2_advertise: Option<SocketAddr>,
    /// Also receive SMFv2 heartbeats (UDP, HMAC-SHA1) on this address, e.g. 0.0.0.0:8053; off
    /// unless given.
    #[arg(long, env = "MPC_SMFV2_HEARTBEAT_LISTEN")]
    smfv2_heartbeat_listen: Option<SocketAddr>,
}

#[derive(Subcommand)]
pub enum ContractorCommand {
    /// Register a contractor; prints its id.
    Create {
        /// The contractor's name as invoices print it, e.g. `株式会社サンプル`.
        #[arg(long)]
        name: String,
    },
    /// List contractors (id, name).
    List,
    /// Show a contractor's record (name, postal code, address, contact, phone, billing e-mail).
    Show {
        /// The contractor's id.
        id: String,
    },
    /// Change a contractor's name or record. Options left out stay as they are; an empty
    /// value (`--phone ''`) clears the field.
    Update {
        /// The contractor's id.
        id: String,
        /// The name invoices print.
        #[arg(long)]
        name: Option<String>,
        /// `123-4567`.
        #[arg(long)]
        postal_code: Option<String>,
        /// The postal address, up to 200 characters (e.g. `東京都港区芝公園1-1-1`).
        #[arg(long)]
        address: Option<String>,
        /// The person to contact at the contractor.
        #[arg(long)]
        contact_name: Option<String>,
        /// Digits with optional hyphens, e.g. `03-1234-5678`.
        #[arg(long)]
        phone: Option<String>,
        /// Where invoices are sent by e-mail.
        #[arg(long)]
        billing_email: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Operator,
    Contractor,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user account; prints its id.
    Create {
        /// The name the user signs in with: 3 to 64 of `a-z 0-9 . _ -`.
        #[arg(long)]
        username: String,
        /// `operator` (runs the service) or `contractor` (acts for one contractor).
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The contractor a contractor user acts for.
        #[arg(long, required_if_eq("role", "contractor"))]
        contractor: Option<String>,
        /// The name the console shows; the username when omitted.
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List user accounts (id, username, role, contractor, state).
    List,
    /// Set a user's temporary console password: read from standard input (one line), or
    /// generated and printed with `--generate`. Ends the user's console sessions; its next
    /// console sign-in asks for its own password before anything else.
    Password {
        /// The user whose password is set.
        username: String,
        /// Generate a password and print it instead of reading one from standard input.
        #[arg(long)]
        generate: bool,
    },
    /// Disable a user: no sign-in, its console sessions end, its API tokens stop working.
    /// The last active operator cannot be disabled.
    Disable {
        /// The user to disable.
        username: String,
    },
    /// Enable a disabled user again.
    Enable {
        /// The user to enable.
        username: String,
    },
    /// Forget the failed console sign-ins that hold a username back.
    Unlock {
        /// The user whose failed sign-ins are forgotten.
        username: String,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Make an API token for a user and print its secret (shown only this once).
    Create {
        /// The user the token acts as.
        #[arg(long)]
        username: String,
        /// A name to tell the token by in listings, e.g. `billing-export`.
        #[arg(long, default_value = "cli")]
        label: String,
    },
    /// Revoke an API token by id.
    Revoke {
        /// The token's id, as `token create` printed it.
        id: String,
    },
}

#[derive(Subcommand)]
enum DemoCommand {
    /// Load a realistic demo data set dated around today (once per database).
    Seed {
        /// Date the data around this day instead of today.
        #[arg(long)]
        today: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    if matches!(cli.command, Command::Serve(_)) {
        limit_malloc_arenas();
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(&anyhow::Error::from(e)),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// Caps glibc's malloc at two arenas for the server, unless `MALLOC_ARENA_MAX` says otherwise.
/// glibc gives each thread that allocates an arena of its own (up to eight per core), and the
/// server's many short-lived allocations on runtime and SQLite threads leave each one with slack
/// it keeps: with 100,000 devices the server's peak RSS is about 15 MiB lower this way, at the
/// same request rate (BENCHMARKS.md).
#[allow(unsafe_code)]
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: called before the runtime starts any thread; mallopt only sets a limit.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

/// The database URL with its password, if any, replaced by `***`, for logs and the console.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Prints the error as one line: the CLI's whole answer to bad input.
fn fail(e: &anyhow::Error) -> ExitCode {
    let line = format!("{e:#}").replace('\n', " ");
    eprintln!("mpc: error: {line}");
    ExitCode::FAILURE
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn open(url: &str) -> anyhow::Result<Store> {
    Store::open(url)
        .await
        .with_context(|| format!("cannot open database {url}"))
}

/// The application the API serves, on this database, for commands that call its use cases
/// with [`Caller::command_line`](mpc_server::extract::Caller::command_line).
///
/// The secret key is `mpc serve`'s (`MPC_SECRET_KEY`, `MPC_SECRET_KEY_FILE` or the file beside
/// a SQLite database), so what the command line seals the server can open.
async fn app_state(url: &str) -> anyhow::Result<AppState> {
    let (key, _) = mpc_storage::controller::SecretKey::resolve(url)?;
    Ok(AppState::new(open(url).await?, key))
}

/// Like [`app_state`], for commands whose use cases neither seal nor open a secret (prices,
/// billing):
/// they work without the secret key (a PostgreSQL database with no key given), on a throwaway
/// key that nothing is sealed with.
async fn app_state_without_secrets(url: &str) -> anyhow::Result<AppState> {
    let key = mpc_storage::controller::SecretKey::resolve(url).map_or_else(
        |_| mpc_storage::controller::SecretKey::random(),
        |(key, _)| key,
    );
    Ok(AppState::new(open(url).await?, key))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let url = cli.database_url.as_str();
    match cli.command {
        Command::Serve(args) => serve(url, args).await,
        Command::Migrate => {
            open(url).await?;
            println!("database {url} is up to date");
            Ok(())
        }
        Command::Contractor(cmd) => {
            accounts::contractor(&app_state_without_secrets(url).await?, cmd).await
        }
        Command::User(cmd) => accounts::user(&app_state_without_secrets(url).await?, cmd).await,
        Command::Token(cmd) => accounts::token(&app_state_without_secrets(url).await?, cmd).await,
        Command::Request(cmd) => contracts::request(&app_state(url).await?, cmd).await,
        Command::Contract(cmd) => contracts::contract(&app_state(url).await?, cmd).await,
        Command::Device(cmd) => contracts::device(&app_state(url).await?, cmd).await,
        Command::Price(billing::PriceCommand::Keys) => {
            billing::print_keys();
            Ok(())
        }
        Command::Price(cmd) => billing::price(&app_state_without_secrets(url).await?, cmd).await,
        Command::Billing(cmd) => {
            billing::billing(&app_state_without_secrets(url).await?, cmd).await
        }
        Command::Mobile(cmd) => mobile::mobile(&app_state_without_secrets(url).await?, cmd).await,
        Command::Smfv2(Smfv2Command::Reveal { serial }) => {
            let state = app_state(url).await?;
            let caller = mpc_server::extract::Caller::command_line();
            let identity = mpc_server::app::inventory::reveal_smfv2(&state, &caller, &serial)
                .await
                .map_err(|e| match e.status.as_u16() {
                    404 => anyhow::anyhow!("{serial} has no SMFv2 identity"),
                    _ => contracts::api_error(e),
                })?;
            println!("distribution_id\tls_key\trs_key\theartbeat_passphrase");
            println!(
                "{}\t{}\t{}\t{}",
                identity.distribution_id,
                identity.ls_key,
                identity.rs_key,
                identity.heartbeat_passphrase
            );
            Ok(())
        }
        Command::Smfv2(Smfv2Command::Ca(CaCommand::Init { dir, names })) => {
            let files = mpc_server::smfv2::pki::init(&dir, &names)?;
            for f in files {
                println!("{}", f.display());
            }
            println!(
                "Serve with: mpc serve --smfv2-listen IP:PORT --smfv2-dir {} \
                 (keep {} offline once the server certificate is made)",
                dir.display(),
                mpc_server::smfv2::pki::CA_KEY_FILE
            );
            Ok(())
        }
        Command::Search(args) => {
            contracts::search(&app_state_without_secrets(url).await?, args).await
        }
        Command::Simulate(args) => simulate::run(url, args).await,
        Command::Demo(DemoCommand::Seed { today }) => {
            let today = match today {
                Some(d) => mpc_domain::calendar::parse_business_date(&d)?,
                None => contracts::today(),
            };
            // The inventory seals factory secrets with the key `mpc serve` will use; without
            // one (PostgreSQL with no key given) the demo's devices stay out of the inventory,
            // and the summary it prints says so and why.
            let key = match mpc_storage::controller::SecretKey::resolve(url) {
                Ok((key, _)) => Some(key),
                Err(e) => {
                    eprintln!("note: {e}; the demo's devices are not put in the inventory");
                    None
                }
            };
            demo::seed(&open(url).await?, key.as_ref(), today).await
        }
    }
}

async fn serve(url: &str, args: ServeArgs) -> anyhow::Result<()> {
    let store = open(url).await?;
    let config = ServerConfig {
        listen: args.listen,
        max_body_bytes: args.max_body_bytes,
        device: mpc_server::device::DeviceConfig {
            billing_start_on_first_fetch: args.billing_start_on_first_fetch,
            down_after: std::time::Duration::from_secs(args.down_after_secs),
            ..Default::default()
        },
    };
    let (secret_key, key_source) = mpc_storage::controller::SecretKey::resolve(url)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let base = format!("http://{}", listener.local_addr()?);
    let database = without_password(url);
    println!(
        "mpc {} serving on {base} (database {database})",
        env!("CARGO_PKG_VERSION")
    );
    tracing::info!(version = env!("CARGO_PKG_VERSION"), %base, %database, "serving");
    println!("  Console:   {base}{}", mpc_server::web::CONSOLE);
    println!("  API docs:  {base}{DOCS_PATH}");
    println!("  OpenAPI:   {base}{OPENAPI_PATH}");
    if let Some((user, secret)) = mpc_storage::accounts::bootstrap_operator(&store).await? {
        println!(
            "First start: created the operator account {:?}. Its API token, shown only this once:",
            user.username
        );
        println!("  {secret}");
        let password = mpc_storage::accounts::generate_password()?;
        // Printed on a terminal, it is temporary: the first sign-in asks for the operator's own.
        mpc_storage::accounts::reset_password(
            &store,
            &user.id,
            &password,
            mpc_storage::accounts::PasswordLife::Temporary,
            mpc_storage::JournalEntry::new("system", "user.bootstrap_password")
                .outcome(serde_json::json!({ "password_change_required": true })),
        )
        .await?;
        println!(
            "  Temporary console password of {:?} (the first sign-in asks for your own): {password}",
            user.username
        );
    }
    if let mpc_storage::controller::KeySource::Generated(path) = &key_source {
        println!(
            "First start: generated the key that encrypts secrets at rest: {} (keep it with the database)",
            path.display()
        );
    }
    let state = AppState::new(store.clone(), secret_key);
    // The heartbeat listener first: the RS names its address to devices.
    let heartbeats = match args.smfv2_heartbeat_listen {
        Some(listen) => Some(
            mpc_server::smfv2::udp::HeartbeatListener::bind(
                listen,
                state.clone(),
                config.device.clone(),
            )
            .await
            .with_context(|| format!("cannot receive SMFv2 heartbeats on {listen}"))?,
        ),
        None => None,
    };
    let heartbeat_addr = heartbeats
        .as_ref()
        .map(mpc_server::smfv2::udp::HeartbeatListener::local_addr)
        .transpose()?;
    let smfv2 = match (args.smfv2_listen, args.smfv2_dir) {
        (Some(listen), Some(dir)) => {
            let mut smfv2 = mpc_server::smfv2::listener::Smfv2Config::new(listen, dir);
            smfv2.advertise = args.smfv2_advertise;
            smfv2.heartbeats = heartbeat_addr;
            // Three heartbeats per DOWN delay at least, and at most one per five minutes.
            let third = (config.device.down_after / 3).as_secs().clamp(1, 300);
            smfv2.heartbeat_interval = u32::try_from(third).unwrap_or(300);
            let listener = mpc_server::smfv2::listener::Smfv2Listener::bind(
                &smfv2,
                state.clone(),
                config.device.clone(),
            )
            .await?;
            println!(
                "  SMFv2:     https://{} (LS; RS at {}; push tunnel at {}), TLS 1.0 to 1.2 \
                 allowed on this port",
                listener.local_addr()?,
                listener.rs_url(),
                listener.tunnel_url()
            );
            Some(tokio::spawn(listener.serve(std::future::pending())))
        }
        _ => None,
    };
    let heartbeats = match (heartbeats, heartbeat_addr) {
        (Some(heartbeats), Some(addr)) => {
            println!("  SMFv2:     heartbeats on udp://{addr}");
            Some(tokio::spawn(heartbeats.serve(std::future::pending())))
        }
        _ => None,
    };
    let demo = demo::spawn_keep_alive(store.clone(), config.device.down_after).await?;
    if demo.is_some() {
        println!("  Demo:      the demo devices seeded UP keep calling home while this runs");
    }
    let housekeeping = mpc_server::spawn_housekeeping(store.clone());
    let monitoring =
        mpc_server::device::monitor::spawn_monitoring(store.clone(), config.device.clone());
    let relay =
        mpc_server::device::monitor::spawn_throttle_relay(store.clone(), config.device.clone());
    mpc_server::serve(listener, state, &config, mpc_server::shutdown_signal()).await?;
    housekeeping.abort();
    for task in [smfv2, heartbeats, demo].into_iter().flatten() {
        task.abort();
    }
    monitoring.abort();
    relay.abort();
    store.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn a_database_password_is_never_printed() {
        assert_eq!(
            super::without_password("postgres://mpc:s3cret@db.example:5432/mpc"),
            "postgres://mpc:***@db.example:5432/mpc"
        );
        assert_eq!(
            super::without_password("postgres://mpc@db/mpc"),
            "postgres://mpc@db/mpc"
        );
        assert_eq!(
            super::without_password("sqlite://mpc.db"),
            "sqlite://mpc.db"
        );
    }

    /// Every flag and argument says what it takes (issue: the CLI explains itself), and those
    /// that take a date or a month say their format.
    #[test]
    fn every_argument_has_help_with_its_format() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") || arg.is_hide_set() {
                    continue;
                }
                let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
                let name = format!("{path} --{id}");
                if help.trim().is_empty() {
                    missing.push(format!("{name}: no help"));
                } else if arg.get_num_args().is_none_or(|n| n.takes_values())
                    && arg.get_action().takes_values()
                {
                    let takes_date = ["date", "on", "month", "from", "until", "since", "as_of"]
                        .iter()
                        .any(|w| id == *w || id.ends_with(&format!("_{w}")));
                    if takes_date && !help.contains("20") {
                        missing.push(format!("{name}: no example of its format"));
                    }
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "mpc", &mut missing);
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }
}
