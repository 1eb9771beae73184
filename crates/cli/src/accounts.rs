//! `mpc contractor|user|token`: accounts and contractors' records, for first set-up and
//! recovery, through the same use cases as the API (which does the same with a token).

use anyhow::{anyhow, bail};
use mpc_api_types::accounts::{
    CreateContractor, CreateToken, CreateUser, Role, UpdateContractor, UserState,
};
use mpc_server::AppState;
use mpc_server::app::{self, Input, PageParams};
use mpc_server::error::ApiError;
use mpc_server::extract::Caller;

use crate::contracts::api_error;
use crate::{ContractorCommand, RoleArg, TokenCommand, UserCommand};

/// Every page of a listing, `limit` items at a time.
async fn all_pages<T, F, Fut>(mut fetch: F) -> anyhow::Result<Vec<T>>
where
    F: FnMut(PageParams) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>), ApiError>>,
{
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let (items, next) = fetch(PageParams {
            after: after.take(),
            limit: Some(app::MAX_LIMIT),
        })
        .await
        .map_err(api_error)?;
        all.extend(items);
        match next {
            Some(n) => after = Some(n),
            None => return Ok(all),
        }
    }
}

/// A user named by its username, or a one-line error.
async fn user_named(
    state: &AppState,
    caller: &Caller,
    username: &str,
) -> anyhow::Result<mpc_api_types::accounts::User> {
    app::users::by_username(state, caller, username)
        .await
        .map_err(|e| match e.status.as_u16() {
            404 => anyhow!("no user {username:?}"),
            _ => api_error(e),
        })
}

pub async fn contractor(state: &AppState, cmd: ContractorCommand) -> anyhow::Result<()> {
    let caller = Caller::command_line();
    match cmd {
        ContractorCommand::Create { name } => {
            let c =
                app::contractors::create(state, &caller, Input::Value(CreateContractor { name }))
                    .await
                    .map_err(api_error)?;
            println!("{}", c.id);
        }
        ContractorCommand::List => {
            let all = all_pages(|page| {
                let caller = &caller;
                async move {
                    let list = app::contractors::list(state, caller, None, &page).await?;
                    Ok((list.contractors, list.next_cursor))
                }
            })
            .await?;
            for c in all {
                println!("{}\t{}", c.id, c.name);
            }
        }
        ContractorCommand::Show { id } => {
            let c = app::contractors::get(state, &caller, &id)
                .await
                .map_err(api_error)?;
            print_record(&c);
        }
        ContractorCommand::Update {
            id,
            name,
            postal_code,
            address,
            contact_name,
            phone,
            billing_email,
        } => {
            let change = UpdateContractor {
                name,
                postal_code,
                address,
                contact_name,
                phone,
                billing_email,
            };
            let c = app::contractors::update(state, &caller, &id, Input::Value(change))
                .await
                .map_err(api_error)?;
            print_record(&c);
        }
    }
    Ok(())
}

/// A contractor's record, one `field<TAB>value` a line, `-` for what is not set.
fn print_record(c: &mpc_api_types::accounts::Contractor) {
    let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    println!("id\t{}", c.id);
    println!("name\t{}", c.name);
    println!("postal_code\t{}", shown(&c.postal_code));
    println!("address\t{}", shown(&c.address));
    println!("contact_name\t{}", shown(&c.contact_name));
    println!("phone\t{}", shown(&c.phone));
    println!("billing_email\t{}", shown(&c.billing_email));
}

pub async fn user(state: &AppState, cmd: UserCommand) -> anyhow::Result<()> {
    let caller = Caller::command_line();
    match cmd {
        UserCommand::Create {
            username,
            role,
            contractor,
            display_name,
        } => {
            let role = match (role, &contractor) {
                (RoleArg::Operator, None) => Role::Operator,
                (RoleArg::Operator, Some(_)) => {
                    bail!("an operator belongs to no contractor: drop --contractor")
                }
                (RoleArg::Contractor, None) => bail!("a contractor user needs --contractor ID"),
                (RoleArg::Contractor, Some(_)) => Role::Contractor,
            };
            let new = CreateUser {
                username,
                display_name,
                role,
                contractor_id: contractor,
            };
            let user = app::users::create(state, &caller, Input::Value(new))
                .await
                .map_err(api_error)?;
            println!("{}", user.id);
        }
        UserCommand::Password { username, generate } => {
            let user = user_named(state, &caller, &username).await?;
            if generate {
                let password = app::users::new_password(state, &caller, &user.id)
                    .await
                    .map_err(api_error)?;
                println!("{password}");
            } else {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                let password = line.trim_end_matches(['\r', '\n']);
                app::users::set_password(state, &caller, &user.id, password)
                    .await
                    .map_err(api_error)?;
            }
            // Beside the password, not in it: standard output holds the password alone.
            eprintln!(
                "{username}: a temporary password; the next console sign-in asks for their own"
            );
        }
        UserCommand::List => {
            let all = all_pages(|page| {
                let caller = &caller;
                async move {
                    let list = app::users::list(state, caller, None, &page).await?;
                    Ok((list.users, list.next_cursor))
                }
            })
            .await?;
            for u in all {
                let role = match u.role {
                    Role::Operator => "operator",
                    Role::Contractor => "contractor",
                };
                println!(
                    "{}\t{}\t{role}\t{}\t{}",
                    u.id,
                    u.username,
                    u.contractor_id.as_deref().unwrap_or("-"),
                    state_name(u.state)
                );
            }
        }
        UserCommand::Disable { username } => {
            let user = user_named(state, &caller, &username).await?;
            let user = app::users::disable(state, &caller, &user.id)
                .await
                .map_err(api_error)?;
            println!("{username}\t{}", state_name(user.state));
        }
        UserCommand::Enable { username } => {
            let user = user_named(state, &caller, &username).await?;
            let user = app::users::enable(state, &caller, &user.id)
                .await
                .map_err(api_error)?;
            println!("{username}\t{}", state_name(user.state));
        }
        UserCommand::Unlock { username } => {
            let user = user_named(state, &caller, &username).await?;
            let user = app::users::unlock(state, &caller, &user.id)
                .await
                .map_err(api_error)?;
            println!("{username}\t{}", state_name(user.state));
        }
    }
    Ok(())
}

fn state_name(state: UserState) -> &'static str {
    match state {
        UserState::Active => "active",
        UserState::Disabled => "disabled",
        UserState::Locked => "locked",
    }
}

pub async fn token(state: &AppState, cmd: TokenCommand) -> anyhow::Result<()> {
    let caller = Caller::command_line();
    match cmd {
        TokenCommand::Create { username, label } => {
            let user = user_named(state, &caller, &username).await?;
            let created = app::users::create_token(
                state,
                &caller,
                &user.id,
                Input::Value(CreateToken { label }),
            )
            .await
            .map_err(api_error)?;
            eprintln!(
                "token {} for {username}; the secret below is shown only this once:",
                created.token.id
            );
            println!("{}", created.secret);
        }
        TokenCommand::Revoke { id } => {
            let token = app::users::token(state, &caller, &id).await.map_err(|e| {
                match e.status.as_u16() {
                    404 => anyhow!("no token {id}"),
                    _ => api_error(e),
                }
            })?;
            app::users::revoke_token(state, &caller, &token.user_id, &id)
                .await
                .map_err(api_error)?;
            println!("revoked {id}");
        }
    }
    Ok(())
}
