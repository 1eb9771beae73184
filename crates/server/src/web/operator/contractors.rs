//! `/console/contractors`: finding and registering contractors; one contractor's record
//! (edited here), users (disabled, enabled, unlocked, given a new password shown once),
//! contracts and eligibility (R6.1), and new users with a console password shown once.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use mpc_api_types::accounts::{
    Contractor, CreateContractor, CreateContractorUser, UpdateContractor, UserState,
};
use serde::Deserialize;

use super::form::{OperatorForm, csrf_field};
use super::{
    Pager, Sort, field_problem, href, only_operators, page_of, pager, refusal, render_form, when,
};
use crate::AppState;
use crate::app::support::PageParams;
use crate::app::{Input, contractors, contracts, parties, users};
use crate::web::session::Section;
use crate::web::{Chrome, Session, Shown, WebResult, see_other};

csrf_field!(CreateForm, UserForm, RecordForm, ActionForm);

pub struct ContractorRow {
    pub id: String,
    pub name: String,
    pub registered: String,
    registered_iso: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    name: String,
    after: String,
    sort: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CreateForm {
    csrf: String,
    name: String,
}

#[derive(askama::Template)]
#[template(path = "web/operator/contractors.html")]
struct ListPage {
    c: Chrome,
    name: String,
    rows: Vec<ContractorRow>,
    sort: Sort,
    pager: Pager,
    new_name: String,
    problem: Option<Shown>,
}

pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<ListQuery>,
) -> WebResult {
    only_operators(&session)?;
    list_page(&state, &session, &q, String::new(), None).await
}

async fn list_page(
    state: &AppState,
    session: &Session,
    q: &ListQuery,
    new_name: String,
    problem: Option<Shown>,
) -> WebResult {
    let lang = session.lang;
    let name = q.name.trim();
    let paging = PageParams {
        after: (!q.after.is_empty()).then(|| q.after.clone()),
        limit: Some(super::PAGE as u32),
    };
    let name_given = (!name.is_empty()).then_some(name);
    let page = contractors::list(state, &session.caller(), name_given, &paging).await?;
    let mut rows: Vec<ContractorRow> = page
        .contractors
        .into_iter()
        .map(|c| ContractorRow {
            registered: when(lang, &c.created_at),
            registered_iso: c.created_at,
            id: c.id,
            name: c.name,
        })
        .collect();
    // The API pages in registration order; the order chosen here sorts the rows of this page.
    let sort = Sort::new(
        "sort",
        Some(&q.sort),
        &["registered", "name"],
        href(
            "/console/contractors",
            &[("name", name), ("after", &q.after)],
        ),
    );
    sort.apply(&mut rows, |r, key| match key {
        "name" => (0, r.name.clone()),
        _ => (0, r.registered_iso.clone()),
    });
    let base = href("/console/contractors", &[("name", name), ("sort", &q.sort)]);
    let pager = pager(&base, "after", Some(&q.after), page.next_cursor);
    let failed = problem.is_some();
    Ok(render_form(
        ListPage {
            c: session.chrome(session.t().nav_contractors, Section::Contractors),
            name: name.to_owned(),
            rows,
            sort,
            pager,
            new_name,
            problem,
        },
        failed,
    ))
}

pub async fn create(
    State(state): State<AppState>,
    OperatorForm { session, form }: OperatorForm<CreateForm>,
) -> WebResult {
    let new = CreateContractor {
        name: form.name.clone(),
    };
    match contractors::create(&state, &session.caller(), Input::Value(new)).await {
        Ok(c) => Ok(see_other(&format!("/console/contractors/{}", c.id))),
        Err(e) => {
            let problem = refusal(session.lang, e)?;
            list_page(
                &state,
                &session,
                &ListQuery::default(),
                form.name,
                Some(problem),
            )
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------
// One contractor

pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub registered: String,
    pub state: UserState,
    /// The state as the page says it, with until when a lock holds.
    pub state_text: String,
}

impl UserRow {
    pub fn state_class(&self) -> &'static str {
        match self.state {
            UserState::Active => "active",
            UserState::Disabled => "ended",
            UserState::Locked => "pending",
        }
    }

    pub fn is_disabled(&self) -> bool {
        self.state == UserState::Disabled
    }

    pub fn is_locked(&self) -> bool {
        self.state == UserState::Locked
    }
}

/// The contractor's record as the page shows it: `None` reads "not set".
pub struct RecordRow {
    pub label: &'static str,
    pub value: Option<String>,
}

/// The record's edit form, as typed.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RecordForm {
    csrf: String,
    pub name: String,
    pub postal_code: String,
    pub address: String,
    pub contact_name: String,
    pub phone: String,
    pub billing_email: String,
}

impl RecordForm {
    /// The form filled with the record as it stands.
    pub fn of(c: &Contractor) -> RecordForm {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        RecordForm {
            csrf: String::new(),
            name: c.name.clone(),
            postal_code: v(&c.postal_code),
            address: v(&c.address),
            contact_name: v(&c.contact_name),
            phone: v(&c.phone),
            billing_email: v(&c.billing_email),
        }
    }

    /// The change it asks for: every field as typed, blank clearing it; `name` only when
    /// `with_name` (the contractor's own page has no name field).
    pub fn change(&self, with_name: bool) -> UpdateContractor {
        UpdateContractor {
            name: with_name.then(|| self.name.clone()),
            postal_code: Some(self.postal_code.clone()),
            address: Some(self.address.clone()),
            contact_name: Some(self.contact_name.clone()),
            phone: Some(self.phone.clone()),
            billing_email: Some(self.billing_email.clone()),
        }
    }
}

/// The rows of a contractor's record, in the page's language.
pub fn record_rows(t: &'static crate::web::i18n::Msgs, c: &Contractor) -> Vec<RecordRow> {
    let row = |label, value: &Option<String>| RecordRow {
        label,
        value: value.clone(),
    };
    vec![
        row(t.rec_postal_code, &c.postal_code),
        row(t.rec_address, &c.address),
        row(t.rec_contact_name, &c.contact_name),
        row(t.rec_phone, &c.phone),
        row(t.rec_billing_email, &c.billing_email),
    ]
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    csrf: String,
}

/// What the contractor page shows besides the contractor: forms as typed, refusals, and a
/// password shown this once.
#[derive(Default)]
struct Shows {
    user_form: UserForm,
    /// A user just created and its console password.
    created: Option<(String, String)>,
    /// A user whose password was just reset, and the new password.
    reset: Option<(String, String)>,
    problem: Option<Shown>,
    /// The record's form as typed when it was refused.
    record_form: Option<RecordForm>,
    record_problem: Option<Shown>,
    /// A refused action on a user (disable, enable, unlock, reset).
    user_problem: Option<Shown>,
}

pub struct ContractRow {
    pub id: String,
    pub kind: &'static str,
    pub what: String,
    pub status: &'static str,
    pub status_class: String,
    pub accepted_on: String,
    accepted_iso: String,
    pub billing_start: String,
    pub ends_on: String,
    pub options: usize,
}

pub struct Unmet {
    pub rule: String,
    pub message: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    users_after: String,
    sort: String,
    after: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UserForm {
    csrf: String,
    username: String,
    display_name: String,
}

#[derive(askama::Template)]
#[template(path = "web/operator/contractor.html")]
struct ContractorPage {
    c: Chrome,
    id: String,
    name: String,
    record: Vec<RecordRow>,
    record_form: RecordForm,
    record_problem: Option<Shown>,
    user_problem: Option<Shown>,
    /// A user whose password was just reset, and the new password, shown this once.
    reset: Option<(String, String)>,
    registered: String,
    eligible: bool,
    as_of: String,
    unmet: Vec<Unmet>,
    users: Vec<UserRow>,
    users_pager: Pager,
    contracts: Vec<ContractRow>,
    sort: Sort,
    pager: Pager,
    user_form: UserForm,
    /// A user just created and its console password, shown this once.
    created: Option<(String, String)>,
    problem: Option<Shown>,
}

pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> WebResult {
    only_operators(&session)?;
    contractor_page(&state, &session, &id, &q, Shows::default()).await
}

async fn contractor_page(
    state: &AppState,
    session: &Session,
    id: &str,
    q: &PageQuery,
    shows: Shows,
) -> WebResult {
    let Shows {
        user_form,
        created,
        reset,
        problem,
        record_form,
        record_problem,
        user_problem,
    } = shows;
    let lang = session.lang;
    let contractor = contractors::get(state, &session.caller(), id).await?;
    let eligibility = parties::eligibility(state, &session.caller(), id, None).await?;
    let users_paging = PageParams {
        after: (!q.users_after.is_empty()).then(|| q.users_after.clone()),
        limit: Some(super::PAGE as u32),
    };
    let user_page = users::list_of_contractor(state, &session.caller(), id, &users_paging).await?;
    let contracts = contracts::list(state, &session.caller(), id, None).await?;

    let here = format!("/console/contractors/{id}");
    let users_pager = pager(
        &href(&here, &[("sort", &q.sort), ("after", &q.after)]),
        "users_after",
        Some(&q.users_after),
        user_page.next_cursor,
    );
    let mut rows: Vec<ContractRow> = contracts
        .into_iter()
        .map(|k| ContractRow {
            kind: lang.pick(k.kind.label_ja(), k.kind.label_en()),
            what: match (k.item, k.device_type) {
                (Some(i), Some(d)) => format!(
                    "{} / {}",
                    lang.pick(i.label_ja(), i.label_en()),
                    lang.pick(d.label_ja(), d.label_en())
                ),
                _ => String::new(),
            },
            status: lang.status(k.status),
            status_class: format!("{:?}", k.status).to_lowercase(),
            accepted_on: lang.date(&k.accepted_on),
            accepted_iso: k.accepted_on.clone(),
            billing_start: k
                .billing_start
                .as_deref()
                .map(|d| lang.date(d))
                .unwrap_or_default(),
            ends_on: k
                .ending
                .as_ref()
                .map(|e| lang.date(&e.on))
                .unwrap_or_default(),
            options: k.options.len(),
            id: k.id,
        })
        .collect();
    let sort = Sort::new(
        "sort",
        Some(&q.sort),
        &["accepted", "kind", "status"],
        href(&here, &[("users_after", &q.users_after)]),
    );
    sort.apply(&mut rows, |r, key| match key {
        "kind" => (0, format!("{}{}", r.kind, r.what)),
        "status" => (0, r.status.to_owned()),
        _ => (0, r.accepted_iso.clone()),
    });
    let (contracts, next) = page_of(rows, Some(&q.after));
    let pager = pager(
        &href(&here, &[("users_after", &q.users_after), ("sort", &q.sort)]),
        "after",
        Some(&q.after),
        next,
    );
    let failed = problem.is_some() || record_problem.is_some() || user_problem.is_some();
    let t = session.t();
    let mut page = render_form(
        ContractorPage {
            c: session.chrome(&contractor.name, Section::Contractors),
            record: record_rows(t, &contractor),
            record_form: record_form.unwrap_or_else(|| RecordForm::of(&contractor)),
            record_problem,
            user_problem,
            reset: reset.clone(),
            name: contractor.name,
            id: contractor.id,
            registered: when(lang, &contractor.created_at),
            eligible: eligibility.eligible,
            as_of: lang.date(&eligibility.as_of),
            unmet: eligibility
                .unmet
                .into_iter()
                .map(|u| Unmet {
                    message: lang.pick(&u.message_ja, &u.message).to_owned(),
                    rule: u.rule,
                })
                .collect(),
            users: user_page
                .users
                .into_iter()
                .map(|u| UserRow {
                    registered: when(lang, &u.created_at),
                    state_text: match (u.state, &u.locked_until) {
                        (UserState::Active, _) => t.rec_active.to_owned(),
                        (UserState::Disabled, _) => t.rec_disabled.to_owned(),
                        (UserState::Locked, Some(until)) => format!(
                            "{} {}",
                            t.rec_locked,
                            t.rec_locked_until.replace("{time}", &when(lang, until))
                        ),
                        (UserState::Locked, None) => t.rec_locked.to_owned(),
                    },
                    state: u.state,
                    id: u.id,
                    username: u.username,
                    display_name: u.display_name,
                })
                .collect(),
            users_pager,
            contracts,
            sort,
            pager,
            user_form,
            created: created.clone(),
            problem,
        },
        failed,
    );
    if created.is_some() || reset.is_some() {
        // The password is in this answer only: no cache may keep it.
        page.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(page)
}

/// Creates a contractor's user and gives it a console password, shown once on the answer.
pub async fn create_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    OperatorForm { session, form }: OperatorForm<UserForm>,
) -> WebResult {
    let lang = session.lang;
    if form.username.trim().is_empty() {
        let problem = field_problem(lang, "username", session.t().op_required);
        return contractor_page(
            &state,
            &session,
            &id,
            &PageQuery::default(),
            Shows {
                user_form: form,
                problem: Some(problem),
                ..Shows::default()
            },
        )
        .await;
    }
    let display_name = form.display_name.trim();
    let new = CreateContractorUser {
        username: form.username.trim().to_owned(),
        display_name: (!display_name.is_empty()).then(|| display_name.to_owned()),
    };
    let user = match users::create_for_contractor(&state, &session.caller(), &id, Input::Value(new))
        .await
    {
        Ok(user) => user,
        Err(e) => {
            let problem = refusal(lang, e)?;
            return contractor_page(
                &state,
                &session,
                &id,
                &PageQuery::default(),
                Shows {
                    user_form: form,
                    problem: Some(problem),
                    ..Shows::default()
                },
            )
            .await;
        }
    };
    let password = users::new_password(&state, &session.caller(), &user.id).await?;
    contractor_page(
        &state,
        &session,
        &id,
        &PageQuery::default(),
        Shows {
            created: Some((user.username, password)),
            ..Shows::default()
        },
    )
    .await
}

/// Saves the contractor's record and name; a refusal shows the form again as typed.
pub async fn update_record(
    State(state): State<AppState>,
    Path(id): Path<String>,
    OperatorForm { session, form }: OperatorForm<RecordForm>,
) -> WebResult {
    let change = Input::Value(form.change(true));
    match contractors::update(&state, &session.caller(), &id, change).await {
        Ok(_) => Ok(see_other(&format!("/console/contractors/{id}"))),
        Err(e) => {
            let problem = refusal(session.lang, e)?;
            contractor_page(
                &state,
                &session,
                &id,
                &PageQuery::default(),
                Shows {
                    record_form: Some(form),
                    record_problem: Some(problem),
                    ..Shows::default()
                },
            )
            .await
        }
    }
}

/// Disables, enables or unlocks one of the contractor's users, or gives it a new password
/// shown this once.
pub async fn user_action(
    State(state): State<AppState>,
    Path((id, user_id, action)): Path<(String, String, String)>,
    OperatorForm { session, .. }: OperatorForm<ActionForm>,
) -> WebResult {
    let caller = session.caller();
    // The user must be this contractor's: another's is not found here.
    let user = users::get(&state, &caller, &user_id).await?;
    if user.contractor_id.as_deref() != Some(id.as_str()) {
        return Err(crate::error::ApiError::not_found().into());
    }
    let done = match action.as_str() {
        "disable" => users::disable(&state, &caller, &user_id).await.map(drop),
        "enable" => users::enable(&state, &caller, &user_id).await.map(drop),
        "unlock" => users::unlock(&state, &caller, &user_id).await.map(drop),
        "password" => {
            let reset = users::reset_password(&state, &caller, &user_id).await?;
            return contractor_page(
                &state,
                &session,
                &id,
                &PageQuery::default(),
                Shows {
                    reset: Some((user.username, reset.password)),
                    ..Shows::default()
                },
            )
            .await;
        }
        _ => Err(crate::error::ApiError::not_found()),
    };
    match done {
        Ok(()) => Ok(see_other(&format!("/console/contractors/{id}#users-h"))),
        Err(e) => {
            let problem = refusal(session.lang, e)?;
            contractor_page(
                &state,
                &session,
                &id,
                &PageQuery::default(),
                Shows {
                    user_problem: Some(problem),
                    ..Shows::default()
                },
            )
            .await
        }
    }
}
