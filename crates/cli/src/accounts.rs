//! `mpc contractor|user|token`: accounts, straight on the database (for first set-up and
//! recovery; the API does the same with a token).

use anyhow::{Context, bail};
use mpc_domain::access::Role;
use mpc_domain::account;
use mpc_storage::accounts::{self, NewUser};
use mpc_storage::{JournalEntry, Store};

use crate::{ContractorCommand, RoleArg, TokenCommand, UserCommand, each_page};

pub async fn contractor(store: &Store, cmd: ContractorCommand) -> anyhow::Result<()> {
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

pub async fn user(store: &Store, cmd: UserCommand) -> anyhow::Result<()> {
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
        UserCommand::Password { username, generate } => {
            let user = accounts::find_user_by_username(store, &username)
                .await
                .map_err(|_| anyhow::anyhow!("no user {username:?}"))?;
            let password = if generate {
                accounts::generate_password()?
            } else {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                line.trim_end_matches(['\r', '\n']).to_owned()
            };
            account::password(&password).map_err(|e| anyhow::anyhow!(e.message_en))?;
            accounts::reset_password(
                store,
                &user.id,
                &password,
                JournalEntry::new("cli", "user.password"),
            )
            .await?;
            if generate {
                println!("{password}");
            }
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

pub async fn token(store: &Store, cmd: TokenCommand) -> anyhow::Result<()> {
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
