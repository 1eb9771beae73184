//! `mpc`: the one binary of the Multi-Product Controller Service Preset system.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use mpc_domain::access::Role;
use mpc_domain::account;
use mpc_server::{AppState, DOCS_PATH, OPENAPI_PATH, ServerConfig};
use mpc_storage::accounts::{self, NewUser, Page};
use mpc_storage::{JournalEntry, Store};

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
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "MPC_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "MPC_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,
}

#[derive(Subcommand)]
enum ContractorCommand {
    /// Register a contractor; prints its id.
    Create {
        #[arg(long)]
        name: String,
    },
    /// List contractors (id, name).
    List,
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Operator,
    Contractor,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user account; prints its id.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The contractor a contractor user acts for.
        #[arg(long, required_if_eq("role", "contractor"))]
        contractor: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List user accounts (id, username, role, contractor).
    List,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Make an API token for a user and print its secret (shown only this once).
    Create {
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "cli")]
        label: String,
    },
    /// Revoke an API token by id.
    Revoke { id: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(&anyhow::Error::from(e)),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
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

async fn run(cli: Cli) -> anyhow::Result<()> {
    let url = cli.database_url.as_str();
    match cli.command {
        Command::Serve(args) => serve(url, args).await,
        Command::Migrate => {
            open(url).await?;
            println!("database {url} is up to date");
            Ok(())
        }
        Command::Contractor(cmd) => contractor(&open(url).await?, cmd).await,
        Command::User(cmd) => user(&open(url).await?, cmd).await,
        Command::Token(cmd) => token(&open(url).await?, cmd).await,
    }
}

async fn serve(url: &str, args: ServeArgs) -> anyhow::Result<()> {
    let store = open(url).await?;
    let config = ServerConfig {
        listen: args.listen,
        max_body_bytes: args.max_body_bytes,
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let base = format!("http://{}", listener.local_addr()?);
    println!(
        "mpc {} serving on {base} (database {url})",
        env!("CARGO_PKG_VERSION")
    );
    println!("  API docs:  {base}{DOCS_PATH}");
    println!("  OpenAPI:   {base}{OPENAPI_PATH}");
    if let Some((user, secret)) = accounts::bootstrap_operator(&store).await? {
        println!(
            "First start: created the operator account {:?}. Its API token, shown only this once:",
            user.username
        );
        println!("  {secret}");
    }
    mpc_server::serve(
        listener,
        AppState::new(store.clone()),
        &config,
        mpc_server::shutdown_signal(),
    )
    .await?;
    store.close().await;
    Ok(())
}

async fn contractor(store: &Store, cmd: ContractorCommand) -> anyhow::Result<()> {
    match cmd {
        ContractorCommand::Create { name } => {
            let name =
                account::text("name", &name, 200).map_err(|e| anyhow::anyhow!(e.message_en))?;
            let mut tx = store.write().await?;
            let c = accounts::create_contractor(&mut tx, &name).await?;
            tx.commit(
                JournalEntry::new("cli", "contractor.create")
                    .contractor(Some(&c.id))
                    .subject(&c.id)
                    .request(serde_json::json!({ "name": name })),
            )
            .await?;
            println!("{}", c.id);
        }
        ContractorCommand::List => {
            for c in each_page(
                |page| async move { accounts::list_contractors(store, None, None, &page).await },
                |c| c.id.clone(),
            )
            .await?
            {
                println!("{}\t{}", c.id, c.name);
            }
        }
    }
    Ok(())
}

async fn user(store: &Store, cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Create {
            username,
            role,
            contractor,
            display_name,
        } => {
            let username =
                account::username(&username).map_err(|e| anyhow::anyhow!(e.message_en))?;
            let display_name = account::text(
                "display_name",
                display_name.as_deref().unwrap_or(&username),
                100,
            )
            .map_err(|e| anyhow::anyhow!(e.message_en))?;
            let (role, contractor) = match (role, contractor) {
                (RoleArg::Operator, None) => (Role::Operator, None),
                (RoleArg::Operator, Some(_)) => {
                    bail!("an operator belongs to no contractor: drop --contractor")
                }
                (RoleArg::Contractor, None) => bail!("a contractor user needs --contractor ID"),
                (RoleArg::Contractor, Some(c)) => {
                    accounts::get_contractor(store, &c)
                        .await
                        .with_context(|| format!("contractor {c}"))?;
                    (Role::Contractor, Some(c))
                }
            };
            let mut tx = store.write().await?;
            let user = accounts::create_user(
                &mut tx,
                &NewUser {
                    username: &username,
                    display_name: &display_name,
                    role,
                    contractor_id: contractor.as_deref(),
                },
            )
            .await?;
            tx.commit(
                JournalEntry::new("cli", "user.create")
                    .contractor(contractor.as_deref())
                    .subject(&user.id)
                    .request(serde_json::json!({ "username": username, "role": role })),
            )
            .await?;
            println!("{}", user.id);
        }
        UserCommand::List => {
            for u in each_page(
                |page| async move { accounts::list_users(store, None, &page).await },
                |u| u.id.clone(),
            )
            .await?
            {
                println!(
                    "{}\t{}\t{}\t{}",
                    u.id,
                    u.username,
                    u.role,
                    u.contractor_id.as_deref().unwrap_or("-")
                );
            }
        }
    }
    Ok(())
}

async fn token(store: &Store, cmd: TokenCommand) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Create { username, label } => {
            let user = accounts::find_user_by_username(store, &username)
                .await
                .with_context(|| format!("user {username:?}"))?;
            let label =
                account::text("label", &label, 100).map_err(|e| anyhow::anyhow!(e.message_en))?;
            let mut tx = store.write().await?;
            let (token, secret) = accounts::issue_token(&mut tx, &user.id, &label).await?;
            tx.commit(
                JournalEntry::new("cli", "token.create")
                    .contractor(user.contractor_id.as_deref())
                    .subject(&token.id)
                    .request(serde_json::json!({ "username": username, "label": label })),
            )
            .await?;
            eprintln!(
                "token {} for {username}; the secret below is shown only this once:",
                token.id
            );
            println!("{secret}");
        }
        TokenCommand::Revoke { id } => {
            let token = accounts::get_token(store, &id)
                .await
                .with_context(|| format!("token {id}"))?;
            let user = accounts::get_user(store, &token.user_id).await?;
            let mut tx = store.write().await?;
            accounts::revoke_token(&mut tx, &id).await?;
            tx.commit(
                JournalEntry::new("cli", "token.revoke")
                    .contractor(user.contractor_id.as_deref())
                    .subject(&id),
            )
            .await?;
            println!("revoked {id}");
        }
    }
    Ok(())
}

/// Reads a whole listing page by page.
async fn each_page<T, F, Fut>(mut fetch: F, id: impl Fn(&T) -> String) -> anyhow::Result<Vec<T>>
where
    F: FnMut(Page) -> Fut,
    Fut: std::future::Future<Output = mpc_storage::Result<Vec<T>>>,
{
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let rows = fetch(Page {
            after: after.clone(),
            limit: 1000,
        })
        .await?;
        let Some(last) = rows.last() else { break };
        after = Some(id(last));
        let full = rows.len() == 1000;
        all.extend(rows);
        if !full {
            break;
        }
    }
    Ok(all)
}
