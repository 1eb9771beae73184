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
use mpc_domain::preset::DiffLine;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::contractor::local_time;
use super::session::Section;
use super::{Chrome, Session, Shown, WebResult, render, see_other};
use crate::AppState;
use crate::app::{Input, presets};
use crate::extract::JsonBody;

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

    /// Reads the masked parameters' JSON into form values (secrets are left empty).
    fn from_params(params: &Value) -> FormState {
        let mut values = HashMap::new();
        flatten("", params, &mut values);
        let secrets = ["wan.password", "l2tp.pre_shared_key"];
        for s in secrets {
            values.insert(s.to_owned(), String::new());
        }
        if !params["lan"]["dhcp_pool"].is_null() {
            values.insert("lan.dhcp".into(), "true".into());
        }
        FormState {
            preset: params["preset"].as_str().unwrap_or_default().to_owned(),
            users: params["l2tp"]["users"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|u| u["name"].as_str().map(str::to_owned))
                .collect(),
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

fn flatten(prefix: &str, v: &Value, out: &mut HashMap<String, String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&path, v, out);
            }
        }
        Value::Null | Value::Array(_) => {}
        Value::String(s) => {
            out.insert(prefix.to_owned(), s.clone());
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

/// The parameters' JSON from the posted form; an empty secret takes the value in force from
/// `current` (the revealed parameters).
fn params_json(preset: &str, form: &[(String, String)], current: &Value) -> Value {
    let get = |k: &str| {
        form.iter()
            .rev()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let checked = |k: &str| form.iter().any(|(name, v)| name == k && v == "true");
    let secret = |k: &str, now: &Value| {
        let typed = get(k);
        if typed.is_empty() {
            now.as_str().unwrap_or_default().to_owned()
        } else {
            typed
        }
    };
    let number = |k: &str| {
        let v = get(k);
        v.parse::<i64>().map_or(Value::String(v), Value::from)
    };
    let optional = |k: &str| {
        let v = get(k);
        if v.is_empty() {
            Value::Null
        } else {
            Value::String(v)
        }
    };
    let pppoe = || {
        json!({
            "id": get("wan.id"),
            "password": secret("wan.password", &current["wan"]["password"]),
        })
    };
    let pool = if checked("lan.dhcp") {
        json!({"start": get("lan.dhcp_pool.start"), "end": get("lan.dhcp_pool.end")})
    } else {
        Value::Null
    };
    let mut p = Map::new();
    p.insert("preset".into(), json!(preset));
    match preset {
        "pppoe_termination" => {
            p.insert("wan".into(), pppoe());
            p.insert(
                "lan".into(),
                json!({"network": get("lan.network"), "prefix_len": number("lan.prefix_len"), "dhcp_pool": pool}),
            );
        }
        _ => {
            let wan = if get("wan.type") == "pppoe" {
                let mut w = pppoe();
                w["type"] = json!("pppoe");
                w
            } else {
                json!({"type": "dhcp"})
            };
            p.insert("wan".into(), wan);
            p.insert(
                "lan".into(),
                json!({"address": get("lan.address"), "prefix_len": number("lan.prefix_len"), "dhcp_pool": pool}),
            );
            p.insert("napt".into(), json!(checked("napt")));
        }
    }
    p.insert("dns_forwarder".into(), json!(checked("dns_forwarder")));
    p.insert("ntp_server".into(), optional("ntp_server"));
    if preset == "remote_access" {
        let names = form
            .iter()
            .filter(|(k, _)| k == "l2tp.users.name")
            .map(|(_, v)| v.trim());
        let passwords = form
            .iter()
            .filter(|(k, _)| k == "l2tp.users.password")
            .map(|(_, v)| v.as_str());
        let users: Vec<Value> = names
            .zip(passwords)
            .filter(|(name, _)| !name.is_empty())
            .map(|(name, password)| {
                let kept = current["l2tp"]["users"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|u| u["name"] == name)
                    .map(|u| u["password"].clone())
                    .unwrap_or(Value::String(String::new()));
                let password = if password.is_empty() {
                    kept
                } else {
                    json!(password)
                };
                json!({"name": name, "password": password})
            })
            .collect();
        let max_sessions = get("l2tp.max_sessions");
        p.insert(
            "l2tp".into(),
            json!({
                "pre_shared_key": secret("l2tp.pre_shared_key", &current["l2tp"]["pre_shared_key"]),
                "users": users,
                "pool": {"start": get("l2tp.pool.start"), "end": get("l2tp.pool.end")},
                "tunnel_address": get("l2tp.tunnel_address"),
                "max_sessions": if max_sessions.is_empty() { Value::Null } else { number("l2tp.max_sessions") },
            }),
        );
    }
    Value::Object(p)
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
    let form = FormState::from_params(&serde_json::to_value(&shown.params).unwrap_or_default());
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
                by: r.created_by,
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
async fn current(state: &AppState, session: &Session, id: &str) -> WebResult<(String, Value)> {
    let revealed = presets::get(state, &session.caller(), id, true).await?;
    let params = serde_json::to_value(&revealed.params).unwrap_or_default();
    Ok((
        params["preset"].as_str().unwrap_or_default().to_owned(),
        params,
    ))
}

/// Saves the form as the next revision; field errors (R17.1) come back next to their fields.
async fn save(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> WebResult {
    session.check_csrf(csrf_of(&form))?;
    let (preset, now) = current(&state, &session, &id).await?;
    let body = params_json(&preset, &form, &now);
    let body = Input::Body(JsonBody::from_json(&body));
    match presets::put(&state, &session.caller(), &id, body).await {
        Ok(_) => Ok(see_other(&format!(
            "/console/contracts/{id}/preset?saved=1"
        ))),
        Err(e) => {
            let shown = Shown::of(session.lang, &e);
            let mut state_of_form = FormState::from_form(&preset, &form);
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
    let (preset, now) = current(&state, &session, &id).await?;
    let shown = presets::get(&state, &session.caller(), &id, false).await?;
    let body = params_json(&preset, &form, &now);
    let mut form_state = FormState::from_form(&preset, &form);
    let problem = match serde_json::from_value::<mpc_domain::preset::PresetParams>(body) {
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
        Err(e) => Some(Shown::message(422, "invalid_body", &e.to_string())),
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

    #[test]
    fn empty_secrets_keep_the_ones_in_force() {
        let current = json!({"wan": {"id": "u@isp", "password": "old"}});
        let body = params_json(
            "pppoe_termination",
            &form(&[
                ("wan.id", "u@isp"),
                ("wan.password", ""),
                ("lan.network", "203.0.113.8"),
                ("lan.prefix_len", "29"),
            ]),
            &current,
        );
        assert_eq!(body["wan"]["password"], "old");
        assert_eq!(body["lan"]["prefix_len"], 29);
        assert!(body["lan"]["dhcp_pool"].is_null());
        let body = params_json(
            "pppoe_termination",
            &form(&[("wan.password", "new")]),
            &current,
        );
        assert_eq!(body["wan"]["password"], "new");
    }

    #[test]
    fn l2tp_users_pair_names_with_passwords() {
        let current =
            json!({"l2tp": {"pre_shared_key": "psk", "users": [{"name": "a", "password": "pa"}]}});
        let body = params_json(
            "remote_access",
            &form(&[
                ("wan.type", "dhcp"),
                ("l2tp.users.name", "a"),
                ("l2tp.users.password", ""),
                ("l2tp.users.name", "b"),
                ("l2tp.users.password", "pb"),
                ("l2tp.users.name", ""),
                ("l2tp.users.password", ""),
            ]),
            &current,
        );
        assert_eq!(
            body["l2tp"]["users"],
            json!([{"name": "a", "password": "pa"}, {"name": "b", "password": "pb"}])
        );
        assert_eq!(body["l2tp"]["pre_shared_key"], "psk");
        assert_eq!(body["wan"], json!({"type": "dhcp"}));
    }
}
