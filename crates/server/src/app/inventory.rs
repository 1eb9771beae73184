//! The device inventory (operators): devices enter it from the maker's CSV before any
//! contractor can be assigned one, each with its SMFv2 identity when it speaks SMFv2.

use axum::http::StatusCode;
use mpc_api_types::FieldProblem;
use mpc_api_types::controller::{NewSmfv2Identity, Smfv2IdentityView, Smfv2Keys};
use mpc_storage::controller::{self, LineError};
use mpc_storage::smfv2::{self, ColumnFault, Secret};

use super::Input;
use crate::AppState;
use crate::app::support::instant;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

/// An inventory file as it arrived.
pub enum Upload<'a> {
    /// An HTTP body with its declared media type, which must be `text/csv`.
    Body {
        content_type: Option<&'a str>,
        bytes: &'a [u8],
    },
    /// Text typed or pasted into a form.
    Text(&'a str),
}

fn refused(errors: Vec<LineError>) -> ApiError {
    let mut e = ApiError::unprocessable(
        "invalid_inventory",
        format!("{} bad line(s); nothing was imported", errors.len()),
    )
    .ja("誤りのある行があるため、何も取り込んでいません");
    e.errors = errors
        .into_iter()
        .map(|l| {
            FieldProblem::new(
                format!("line {}", l.line),
                l.fault.message_en(),
                l.fault.message_ja(),
            )
        })
        .collect();
    e
}

/// The 409 of a unit's identity that cannot be given, or keys that cannot be shown again.
fn conflict(refused: smfv2::Refused) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "conflict", refused.message_en()).ja(refused.message_ja())
}

/// Imports devices into the inventory from CSV lines `serial,model,factory_secret`
/// (operators), journaled as `device.inventory_import`. Returns how many were imported.
///
/// All or nothing: any bad line refuses the whole file, each bad line named in the problem's
/// `errors` as `line N` with its reason in English and Japanese ([`controller::LineFault`]). Serials are
/// matched without regard to letter case (R7.1: a contractor notifies a serial as printed, in
/// whichever case), so two that differ only by case are one device, and a file naming both, or
/// one the inventory holds in another case, is refused.
///
/// # Errors
/// 403 for anyone but operators; 415 for a body that is not `text/csv`; 400 for one that is
/// not UTF-8; 422 for an empty file or bad lines.
pub async fn import(state: &AppState, caller: &Caller, upload: Upload<'_>) -> ApiResult<usize> {
    caller.require_operator()?;
    let text = match upload {
        Upload::Body {
            content_type,
            bytes,
        } => {
            let is_csv = content_type
                .and_then(|v| v.split(';').next())
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv"));
            if !is_csv {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "send the inventory as `Content-Type: text/csv`",
                )
                .ja("在庫のCSVは `Content-Type: text/csv` で送ってください"));
            }
            crate::extract::text_body(bytes, "the CSV")?
        }
        Upload::Text(text) => crate::extract::text_body(text.as_bytes(), "the CSV")?,
    };
    let rows = controller::parse_inventory(text).map_err(refused)?;
    if rows.is_empty() {
        return Err(ApiError::unprocessable(
            "empty_inventory",
            "the file holds no device: nothing to import",
        )
        .ja("取り込む機器がありません"));
    }
    let serials: Vec<&str> = rows.iter().map(|r| r.serial.as_str()).collect();
    let journal = caller
        .journal("device.inventory_import")
        .request(serde_json::json!({ "serials": serials }));
    let key = state.secret_key.clone();
    let imported = state
        .jobs
        .run(move |store| async move {
            controller::import_inventory(&store, &key, &rows, journal).await
        })
        .await?
        .map_err(refused)?;
    state.devices.invalidate_all();
    Ok(imported)
}

/// Gives a unit of the inventory its SMFv2 identity (operators), journaled as
/// `device.smfv2_identity_create`: its Distribution ID and keys, those left out generated,
/// sealed at rest and shown once by [`reveal_smfv2`]. The keys stay out of the journal.
///
/// # Errors
/// 404 to anyone but an operator and for a serial not in the inventory; 409 when the unit has
/// an identity or another unit holds the Distribution ID; 422 for a malformed identity.
pub async fn create_smfv2(
    state: &AppState,
    caller: &Caller,
    serial: &str,
    input: Input<NewSmfv2Identity>,
) -> ApiResult<Smfv2IdentityView> {
    if !caller.actor.is_operator() {
        return Err(ApiError::not_found());
    }
    let (body, _) = input.parse()?;
    let columns = [
        body.distribution_id.as_str(),
        body.ls_key.as_deref().unwrap_or(""),
        body.rs_key.as_deref().unwrap_or(""),
        body.heartbeat_passphrase.as_deref().unwrap_or(""),
    ];
    let identity = match smfv2::Identity::from_columns(&columns) {
        Ok(Some(identity)) => identity,
        Ok(None) => {
            let (en, ja) = (
                "a distribution ID is required",
                "ディストリビューションIDを指定してください",
            );
            let mut e = ApiError::unprocessable("invalid_smfv2_identity", en).ja(ja);
            e.errors.push(FieldProblem::new("distribution_id", en, ja));
            return Err(e);
        }
        Err(fault) => {
            let field = match fault {
                ColumnFault::Secret(Secret::LsKey) => "ls_key",
                ColumnFault::Secret(Secret::RsKey) => "rs_key",
                ColumnFault::Secret(Secret::HeartbeatPassphrase) => "heartbeat_passphrase",
                _ => "distribution_id",
            };
            let (en, ja) = (fault.message_en(), fault.message_ja());
            let mut e =
                ApiError::unprocessable("invalid_smfv2_identity", en.clone()).ja(ja.clone());
            e.errors.push(FieldProblem::new(field, en, ja));
            return Err(e);
        }
    };
    let journal = caller.journal("device.smfv2_identity_create");
    smfv2::create(&state.store, &state.secret_key, serial, &identity, journal)
        .await?
        .map_err(conflict)?;
    let summary = smfv2::summary(&mut *state.store.conn().await?, serial)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok(Smfv2IdentityView {
        created_at: instant(summary.created_at)?,
        revealed_at: summary.revealed_at.map(instant).transpose()?,
        serial: summary.serial,
        distribution_id: summary.distribution_id,
    })
}

/// Shows a unit's SMFv2 keys, once (operators), journaled as `device.smfv2_reveal`: they are
/// marked shown as they are read.
///
/// # Errors
/// 404 when the unit has no SMFv2 identity, and to anyone but an operator (the keys are no
/// contractor's to see); 409 when they were shown before.
pub async fn reveal_smfv2(state: &AppState, caller: &Caller, serial: &str) -> ApiResult<Smfv2Keys> {
    if !caller.actor.is_operator() {
        return Err(ApiError::not_found());
    }
    let journal = caller.journal("device.smfv2_reveal");
    let identity = smfv2::reveal(&state.store, &state.secret_key, serial, journal)
        .await?
        .map_err(conflict)?;
    Ok(Smfv2Keys {
        serial: serial.to_owned(),
        distribution_id: identity.distribution_id,
        ls_key: identity.ls_key,
        rs_key: identity.rs_key,
        heartbeat_passphrase: identity.heartbeat_passphrase,
    })
}
