//! The preset parameter editor of a service adapter (R17.1): a form per preset whose field names
//! are the parameters' dotted paths, so the validation's field errors land next to their inputs;
//! the rendered configuration; the revisions with a diff between any two, and rollback.
//!
//! Secrets are never sent to the browser: their inputs start empty and an empty secret keeps the
//! one in force.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum_extra::extract::Form;
use mpc_api_types::FieldProblem;
use mpc_domain::preset::{
    AddressRange, DiffLine, GlobalLan, InternetGateway, L2tpServer, Lan, LocalUser, PppoeAccount,
    PppoeTermination, PresetParams, RemoteAccess, Wan,
};
use serde::Deserialize;

use super::contractor::local_time;
use super::session::Section;
use super::{Chrome, Session, Shown, WebResult, render, see_other};
use crate::AppState;
use crate::app::{Input, presets};
use crate::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/contracts/{id}/preset", get(editor).post(save))
        .route("/console/contracts/{id}/preset/check", post(check))
        .route(
            "/console/contracts/{id}/preset/rollback/{revision}",
            post(rollback),
        )
}

/// The form's state: values by dotted path, the L2TP user names, and field errors.
pub struct FormState {
    pub preset: String,
    values: HashMap<String, String>,
    pub users: Vec<String>,
    errors: Vec<(String, String)>,
}

impl FormState {
    pub fn value(&self, path: &str) -> &str {
        self.values.get(path).map_or("", String::as_str)
    }

    pub fn on(&self, path: &str) -> bool {
        self.value(path) == "true"
    }

    pub fn error(&self, path: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| {
                f == path
                    || f.starts_with(&format!("{path}."))
                    || f.starts_with(&format!("{path}["))
            })
            .map(|(_, m)| m.as_str())
    }

    /// Reads the parameters into form values by dotted path; secrets are left empty.
    fn from_params(params: &PresetParams) -> FormState {
        let mut values = HashMap::new();
        let mut put = |path: &str, value: String| {
            values.insert(path.to_owned(), value);
        };
        let preset = params.item().as_str();
        put("preset", preset.to_owned());
        let range = |put: &mut dyn FnMut(&str, String), path: &str, r: &AddressRange| {
            put(&format!("{path}.start"), r.start.clone());
            put(&format!("{path}.end"), r.end.clone());
        };
        let mut users = Vec::new();
        match params {
            PresetParams::InternetGateway(InternetGateway {
                wan,
                lan,
                dns_forwarder,
                ntp_server,
                napt,
            })
            | PresetParams::RemoteAccess(RemoteAccess {
                wan,
                lan,
                dns_forwarder,
                ntp_server,
                napt,
                ..
            }) => {
                match wan {
                    Wan::Pppoe(account) => {
                        put("wan.type", "pppoe".into());
                        put("wan.id", account.id.clone());
                    }
                    Wan::Dhcp => put("wan.type", "dhcp".into()),
                }
                put("lan.address", lan.address.clone());
                put("lan.prefix_len", lan.prefix_len.to_string());
                if let Some(pool) = &lan.dhcp_pool {
                    range(&mut put, "lan.dhcp_pool", pool);
                }
                put("dns_forwarder", dns_forwarder.to_string());
                if let Some(ntp) = ntp_server {
                    put("ntp_server", ntp.clone());
                }
                put("napt", napt.to_string());
            }
            PresetParams::PppoeTermination(PppoeTermination {
                wan,
                lan,
                dns_forwarder,
                ntp_server,
            }) => {
                put("wan.id", wan.id.clone());
                put("lan.network", lan.network.clone());
                put("lan.prefix_len", lan.prefix_len.to_string());
                if let Some(pool) = &lan.dhcp_pool {
                    range(&mut put, "lan.dhcp_pool", pool);
                }
                put("dns_forwarder", dns_forwarder.to_string());
                if let Some(ntp) = ntp_server {
                    put("ntp_server", ntp.clone());
                }
            }
        }
        if let PresetParams::RemoteAccess(RemoteAccess { l2tp, .. }) = params {
            range(&mut put, "l2tp.pool", &l2tp.pool);
            put("l2tp.tunnel_address", l2tp.tunnel_address.clone());
            if let Some(max) = l2tp.max_sessions {
                put("l2tp.max_sessions", max.to_string());
            }
            users = l2tp.users.iter().map(|u| u.name.clone()).collect();
        }
        for secret in ["wan.password", "l2tp.pre_shared_key"] {
            put(secret, String::new());
        }
        if values.contains_key("lan.dhcp_pool.start") {
            values.insert("lan.dhcp".into(), "true".into());
        }
        FormState {
            preset: preset.to_owned(),
            users,
            values,
            errors: Vec::new(),
        }
    }

    /// The form as posted, for showing it again with its errors.
    fn from_form(preset: &str, form: &[(String, String)]) -> FormState {
        let mut values: HashMap<String, String> = HashMap::new();
        let mut users = Vec::new();
        for (k, v) in form {
            match k.as_str() {
                "l2tp.users.name" => users.push(v.clone()),
                "l2tp.users.password" | "csrf" => {}
                _ => {
                    values.insert(k.clone(), v.clone());
                }
            }
        }
        for secret in ["wan.password", "l2tp.pre_shared_key"] {
            values.insert(secret.to_owned(), String::new());
        }
        users.retain(|u| !u.trim().is_empty());
        FormState {
            preset: preset.to_owned(),
            values,
            users,
            errors: Vec::new(),
        }
    }
}

/// The parameters from the posted form, of the preset in force (`current`, revealed); an
/// empty secret keeps the one in force. A number field that holds no number of its range is
/// named with the reason.
fn params_of(
    form: &[(String, String)],
    current: &PresetParams,
) -> Result<PresetParams, FieldProblem> {
    let get = |k: &str| {
        form.iter()
            .rev()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let checked = |k: &str| form.iter().any(|(name, v)| name == k && v == "true");
    let secret = |k: &str, now: &str| {
        let typed = get(k);
        if typed.is_empty() {
            now.to_owned()
        } else {
            typed
        }
    };
    let prefix_len = || {
        let v = get("lan.prefix_len");
        v.parse::<u8>().map_err(|_| {
            FieldProblem::new(
                "lan.prefix_len",
                format!("expected a number from 0 to 255, not {v:?}"),
                format!("0〜255 の数値で入力してください（入力: {v}）"),
            )
        })
    };
    let optional = |k: &str| Some(get(k)).filter(|v| !v.is_empty());
    let pool = || {
        checked("lan.dhcp").then(|| AddressRange {
            start: get("lan.dhcp_pool.start"),
            end: get("lan.dhcp_pool.end"),
        })
    };
    let now_password = match current {
        PresetParams::InternetGateway(InternetGateway { wan, .. })
        | PresetParams::RemoteAccess(RemoteAccess { wan, .. }) => match wan {
            Wan::Pppoe(a) => a.password.clone(),
            Wan::Dhcp => String::new(),
        },
        PresetParams::PppoeTermination(p) => p.wan.password.clone(),
    };
    let pppoe = || PppoeAccount {
        id: get("wan.id"),
        password: secret("wan.password", &now_password),
    };
    if let PresetParams::PppoeTermination(_) = current {
        return Ok(PresetParams::PppoeTermination(PppoeTermination {
            wan: pppoe(),
            lan: GlobalLan {
                network: get("lan.network"),
                prefix_len: prefix_len()?,
                dhcp_pool: pool(),
            },
            dns_forwarder: checked("dns_forwarder"),
            ntp_server: optional("ntp_server"),
        }));
    }
    let wan = if get("wan.type") == "pppoe" {
        Wan::Pppoe(pppoe())
    } else {
        Wan::Dhcp
    };
    let lan = Lan {
        address: get("lan.address"),
        prefix_len: prefix_len()?,
        dhcp_pool: pool(),
    };
    let PresetParams::RemoteAccess(RemoteAccess { l2tp: now, .. }) = current else {
        return Ok(PresetParams::InternetGateway(InternetGateway {
            wan,
            lan,
            dns_forwarder: checked("dns_forwarder"),
            ntp_server: optional("ntp_server"),
            napt: checked("napt"),
        }));
    };
    let names = form
        .iter()
        .filter(|(k, _)| k == "l2tp.users.name")
        .map(|(_, v)| v.trim());
    let passwords = form
        .iter()
        .filter(|(k, _)| k == "l2tp.users.password")
        .map(|(_, v)| v.as_str());
    let users = names
        .zip(passwords)
        .filter(|(name, _)| !name.is_empty())
        .map(|(name, password)| {
            let kept = now.users.iter().find(|u| u.name == name);
            LocalUser {
                name: name.to_owned(),
                password: if password.is_empty() {
                    kept.map(|u| u.password.clone()).unwrap_or_default()
                } else {
                    password.to_owned()
                },
            }
        })
        .collect();
    let max_sessions = match get("l2tp.max_sessions") {
        v if v.is_empty() => None,
        v => Some(v.parse::<u16>().map_err(|_| {
            FieldProblem::new(
                "l2tp.max_sessions",
                format!("expected a number from 0 to 65535, not {v:?}"),
                format!("0〜65535 の数値で入力してください（入力: {v}）"),
            )
        })?),
    };
    Ok(PresetParams::RemoteAccess(RemoteAccess {
        wan,
        lan,
        dns_forwarder: checked("dns_forwarder"),
        ntp_server: optional("ntp_server"),
        napt: checked("napt"),
        l2tp: L2tpServer {
            pre_shared_key: secret("l2tp.pre_shared_key", &now.pre_shared_key),
            users,
            pool: AddressRange {
                start: get("l2tp.pool.start"),
                end: get("l2tp.pool.end"),
            },
            tunnel_address: get("l2tp.tunnel_address"),
            max_sessions,
        },
    }))
}

/// A revision as listed.
pub struct RevisionRow {
    pub number: i64,
    pub current: bool,
    pub cause: String,
    pub at: String,
    pub by: String,
}

/// One line of a diff as shown.
pub struct DiffRow {
    pub sign: &'static str,
    pub class: &'static str,
    pub text: String,
}

#[derive(askama::Template)]
#[template(path = "web/preset/editor.html")]
struct EditorPage {
    c: Chrome,
    id: String,
    /// The contract's number (`C-000123`), by which people name it.
    number: Option<String>,
    device: String,
    item: String,
    form: FormState,
    problem: Option<Shown>,
    saved: bool,
    revisions: Vec<RevisionRow>,
    current: Option<i64>,
    recipe: String,
    from: i64,
    to: i64,
    diff: Vec<DiffRow>,
}

#[derive(Deserialize)]
struct EditorQuery {
    saved: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
}

async fn editor(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<EditorQuery>,
) -> WebResult {
    let shown = presets::get(&state, &session.caller(), &id, false).await?;
    let form = FormState::from_params(&shown.params);
    page(
        &state,
        &session,
        &id,
        form,
        None,
        q.saved.is_some(),
        q.from,
        q.to,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    session: &Session,
    id: &str,
    form: FormState,
    problem: Option<Shown>,
    saved: bool,
    from: Option<i64>,
    to: Option<i64>,
) -> WebResult {
    let lang = session.lang;
    let t = session.t();
    let shown = presets::get(state, &session.caller(), id, false).await?;
    let revisions = presets::revisions(state, &session.caller(), id)
        .await?
        .revisions;
    let recipe = match shown.revision {
        Some(r) => {
            presets::revision(state, &session.caller(), id, r, false)
                .await?
                .recipe
        }
        None => String::new(),
    };
    let last = revisions.last().map_or(0, |r| r.revision);
    let to = to.unwrap_or(last);
    let from = from.unwrap_or((to - 1).max(1));
    let diff = if from >= 1 && to >= 1 && from != to {
        presets::diff_revisions(state, &session.caller(), id, (from, to), false)
            .await?
            .changes
            .into_iter()
            .flat_map(|d| match d {
                DiffLine::Added { key, value } => vec![DiffRow {
                    sign: "+",
                    class: "add",
                    text: format!("{key}: {value}"),
                }],
                DiffLine::Removed { key, value } => vec![DiffRow {
                    sign: "-",
                    class: "del",
                    text: format!("{key}: {value}"),
                }],
                DiffLine::Changed { key, old, new } => vec![
                    DiffRow {
                        sign: "-",
                        class: "del",
                        text: format!("{key}: {old}"),
                    },
                    DiffRow {
                        sign: "+",
                        class: "add",
                        text: format!("{key}: {new}"),
                    },
                ],
            })
            .collect()
    } else {
        Vec::new()
    };
    let failed = problem.is_some();
    let mut response = render(EditorPage {
        c: session.chrome(t.preset_editor, Section::Contracts),
        id: id.to_owned(),
        number: shown.contract_number.clone(),
        device: shown.device_type.as_str().to_owned(),
        item: lang
            .pick(shown.item.label_ja(), shown.item.label_en())
            .to_owned(),
        form,
        problem,
        saved,
        current: shown.revision,
        revisions: revisions
            .into_iter()
            .rev()
            .map(|r| RevisionRow {
                current: Some(r.revision) == shown.revision,
                number: r.revision,
                cause: super::i18n::revision_cause(lang, &r.cause).to_owned(),
                at: local_time(&r.created_at),
                by: super::actor_label(lang, &r.created_by, r.created_by_name),
            })
            .collect(),
        recipe,
        from,
        to,
        diff,
    });
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

fn csrf_of(form: &[(String, String)]) -> &str {
    form.iter()
        .find(|(k, _)| k == "csrf")
        .map_or("", |(_, v)| v.as_str())
}

/// The parameters in force, revealed, for keeping secrets left empty in the form.
async fn current(state: &AppState, session: &Session, id: &str) -> WebResult<PresetParams> {
    Ok(presets::get(state, &session.caller(), id, true)
        .await?
        .params)
}

/// The problem of a form field that holds no value of its kind, in both languages.
fn unreadable(field: FieldProblem) -> ApiError {
    let mut e = ApiError::unprocessable(
        "invalid_body",
        format!("{}: {}", field.field, field.message),
    )
    .ja(format!(
        "{}: {}",
        field.field,
        field.message_ja.as_deref().unwrap_or_default()
    ));
    e.errors.push(field);
    e
}

/// Saves the form as the next revision; field errors (R17.1) come back next to their fields.
async fn save(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> WebResult {
    session.check_csrf(csrf_of(&form))?;
    let now = current(&state, &session, &id).await?;
    let preset = now.item().as_str();
    let saved = match params_of(&form, &now) {
        Ok(params) => presets::put(&state, &session.caller(), &id, Input::Value(params)).await,
        Err(field) => Err(unreadable(field)),
    };
    match saved {
        Ok(_) => Ok(see_other(&format!(
            "/console/contracts/{id}/preset?saved=1"
        ))),
        Err(e) => {
            let shown = Shown::of(session.lang, &e);
            let mut state_of_form = FormState::from_form(preset, &form);
            state_of_form.errors = shown.fields.clone();
            page(
                &state,
                &session,
                &id,
                state_of_form,
                Some(shown),
                false,
                None,
                None,
            )
            .await
        }
    }
}

/// Checks the form without saving (htmx, on every change): the page again with the errors.
async fn check(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> WebResult {
    session.check_csrf(csrf_of(&form))?;
    let now = current(&state, &session, &id).await?;
    let shown = presets::get(&state, &session.caller(), &id, false).await?;
    let mut form_state = FormState::from_form(now.item().as_str(), &form);
    let problem = match params_of(&form, &now) {
        Ok(params) => match params.validate(shown.device_type) {
            Ok(()) => None,
            Err(errors) => {
                let lang = session.lang;
                form_state.errors = errors
                    .into_iter()
                    .map(|e| {
                        (
                            e.field.to_owned(),
                            lang.pick(&e.message_ja, &e.message_en).to_owned(),
                        )
                    })
                    .collect();
                Some(Shown::message(422, "R17.1", session.t().preset_invalid))
            }
        },
        Err(field) => {
            let shown = Shown::of(session.lang, &unreadable(field));
            form_state.errors = shown.fields.clone();
            Some(shown)
        }
    };
    Ok(render(CheckFragment {
        c: session.chrome(session.t().preset_editor, Section::Contracts),
        form: form_state,
        problem,
        paths: FIELD_PATHS,
    }))
}

/// Every field of the editor that can carry an error.
const FIELD_PATHS: &[&str] = &[
    "wan.id",
    "wan.password",
    "lan.network",
    "lan.address",
    "lan.prefix_len",
    "lan.dhcp_pool.start",
    "lan.dhcp_pool.end",
    "ntp_server",
    "l2tp.pre_shared_key",
    "l2tp.pool.start",
    "l2tp.pool.end",
    "l2tp.tunnel_address",
    "l2tp.max_sessions",
    "l2tp.users",
];

/// The answer to a check: the errors of every field and the summary, swapped in place by htmx
/// so the inputs (and what is being typed) stay as they are.
#[derive(askama::Template)]
#[template(path = "web/preset/check.html")]
struct CheckFragment {
    c: Chrome,
    form: FormState,
    problem: Option<Shown>,
    paths: &'static [&'static str],
}

#[derive(Deserialize)]
struct Csrf {
    csrf: String,
}

async fn rollback(
    State(state): State<AppState>,
    session: Session,
    Path((id, revision)): Path<(String, String)>,
    Form(form): Form<Csrf>,
) -> WebResult {
    session.check_csrf(&form.csrf)?;
    // A revision that is not a number names no revision, as in the API.
    let revision = revision
        .parse()
        .map_err(|_| crate::error::ApiError::not_found())?;
    presets::rollback(&state, &session.caller(), &id, revision).await?;
    Ok(see_other(&format!(
        "/console/contracts/{id}/preset?saved=1"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn pppoe_termination(password: &str) -> PresetParams {
        PresetParams::PppoeTermination(PppoeTermination {
            wan: PppoeAccount {
                id: "u@isp".into(),
                password: password.into(),
            },
            lan: GlobalLan {
                network: "203.0.113.8".into(),
                prefix_len: 29,
                dhcp_pool: None,
            },
            dns_forwarder: false,
            ntp_server: None,
        })
    }

    #[test]
    fn empty_secrets_keep_the_ones_in_force() {
        let current = pppoe_termination("old");
        let posted = form(&[
            ("wan.id", "u@isp"),
            ("wan.password", ""),
            ("lan.network", "203.0.113.8"),
            ("lan.prefix_len", "29"),
        ]);
        assert_eq!(params_of(&posted, &current), Ok(pppoe_termination("old")));
        let posted = form(&[
            ("wan.id", "u@isp"),
            ("wan.password", "new"),
            ("lan.network", "203.0.113.8"),
            ("lan.prefix_len", "29"),
        ]);
        assert_eq!(params_of(&posted, &current), Ok(pppoe_termination("new")));
        let not_a_number = form(&[("lan.prefix_len", "twenty")]);
        let refused = params_of(&not_a_number, &current).unwrap_err();
        assert_eq!(refused.field, "lan.prefix_len");
        assert!(refused.message_ja.unwrap().contains("0〜255"));
    }

    #[test]
    fn l2tp_users_pair_names_with_passwords() {
        let user = |name: &str, password: &str| LocalUser {
            name: name.into(),
            password: password.into(),
        };
        let current = PresetParams::RemoteAccess(RemoteAccess {
            wan: Wan::Dhcp,
            lan: Lan {
                address: "10.20.0.1".into(),
                prefix_len: 24,
                dhcp_pool: None,
            },
            dns_forwarder: true,
            ntp_server: None,
            napt: true,
            l2tp: L2tpServer {
                pre_shared_key: "psk".into(),
                users: vec![user("a", "pa")],
                pool: AddressRange {
                    start: "192.168.127.10".into(),
                    end: "192.168.127.20".into(),
                },
                tunnel_address: "192.168.127.1".into(),
                max_sessions: None,
            },
        });
        let posted = form(&[
            ("wan.type", "dhcp"),
            ("lan.prefix_len", "24"),
            ("l2tp.users.name", "a"),
            ("l2tp.users.password", ""),
            ("l2tp.users.name", "b"),
            ("l2tp.users.password", "pb"),
            ("l2tp.users.name", ""),
            ("l2tp.users.password", ""),
        ]);
        let Ok(PresetParams::RemoteAccess(p)) = params_of(&posted, &current) else {
            panic!("remote access parameters");
        };
        assert_eq!(p.l2tp.users, vec![user("a", "pa"), user("b", "pb")]);
        assert_eq!(p.l2tp.pre_shared_key, "psk");
        assert_eq!(p.wan, Wan::Dhcp);
    }

    #[test]
    fn the_form_shows_the_parameters_without_secrets() {
        let shown = FormState::from_params(&pppoe_termination("secret"));
        assert_eq!(shown.preset, "pppoe_termination");
        assert_eq!(shown.value("wan.id"), "u@isp");
        assert_eq!(shown.value("wan.password"), "");
        assert_eq!(shown.value("lan.prefix_len"), "29");
        assert!(!shown.on("lan.dhcp"));
        assert_eq!(shown.value("dns_forwarder"), "false");
    }
}
