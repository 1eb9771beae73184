//! `/console/journal`: searching the record of every accepted change by operation, actor,
//! contractor, subject and days, newest first, in numbered pages with their total.

use axum::extract::{Query, State};
use serde::Deserialize;

use super::{Numbered, contractor_names, href, only_operators, when};
use crate::AppState;
use crate::app::journal;
use crate::web::actor_label;
use crate::web::session::Section;
use crate::web::{Chrome, Session, WebResult, render};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SearchQuery {
    operation: String,
    actor: String,
    contractor_id: String,
    subject: String,
    from: String,
    to: String,
    page: String,
    /// Entries a page (50 unless given; refused beyond the most allowed).
    per_page: String,
}

pub struct EntryRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub actor_href: String,
    pub operation: String,
    pub operation_href: String,
    /// The contractor's id and name.
    pub contractor: Option<(String, String)>,
    /// The subject and the search for it.
    pub subject: Option<(String, String)>,
    pub request_id: Option<String>,
    pub request: Option<String>,
    pub outcome: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "web/operator/journal.html")]
struct JournalPage {
    c: Chrome,
    /// The contractors the contractor field offers: id and name.
    contractors: Vec<(String, String)>,
    /// Why the contractor field names none of them.
    contractor_error: Option<&'static str>,
    q: SearchQuery,
    entries: Vec<EntryRow>,
    /// `41–60 of 312`; empty when nothing matches.
    pager: Numbered,
}

fn pretty(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::Object(o) if o.is_empty() => None,
        v => serde_json::to_string_pretty(v).ok(),
    }
}

pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<SearchQuery>,
) -> WebResult {
    only_operators(&session)?;
    let lang = session.lang;
    let given = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let search = journal::Search {
        operation: given(&q.operation),
        actor: given(&q.actor),
        contractor_id: given(&q.contractor_id),
        subject: given(&q.subject),
        before: None,
        from: given(&q.from),
        to: given(&q.to),
        limit: Some(
            q.per_page
                .trim()
                .parse::<u32>()
                .unwrap_or(super::PAGE as u32),
        ),
    };
    let number = q.page.trim().parse::<u32>().unwrap_or(1).max(1);
    let page = journal::page(&state, &session.caller(), search, number).await?;
    let base = href(
        "/console/journal",
        &[
            ("operation", q.operation.trim()),
            ("actor", q.actor.trim()),
            ("contractor_id", q.contractor_id.trim()),
            ("subject", q.subject.trim()),
            ("from", q.from.trim()),
            ("to", q.to.trim()),
            ("per_page", q.per_page.trim()),
        ],
    );
    let sep = if base.contains('?') { '&' } else { '?' };
    let link = |n: u32| format!("{base}{sep}page={n}");
    let pager = Numbered::new(
        lang,
        (page.first, page.entries.len(), page.total),
        (page.previous, page.next),
        link,
    );
    let names = contractor_names(
        &state,
        &session,
        page.entries
            .iter()
            .filter_map(|e| e.contractor_id.clone())
            .collect(),
    )
    .await?;
    let entries = page
        .entries
        .into_iter()
        .map(|e| EntryRow {
            seq: e.seq,
            at: when(lang, &e.at),
            // A user's entries are searched by username, as a person would type it.
            actor_href: href(
                "/console/journal",
                &[("actor", e.actor_name.as_deref().unwrap_or(&e.actor))],
            ),
            actor: actor_label(lang, &e.actor, e.actor_name.clone()),
            operation_href: href("/console/journal", &[("operation", &e.operation)]),
            operation: e.operation,
            contractor: e.contractor_id.map(|k| {
                let name = names.get(&k).cloned().unwrap_or_else(|| k.clone());
                (k, name)
            }),
            subject: e.subject.map(|s| {
                let h = href("/console/journal", &[("subject", &s)]);
                (s, h)
            }),
            request_id: e.request_id,
            request: pretty(&e.request),
            outcome: pretty(&e.outcome),
        })
        .collect();
    let contractors = super::contractor_choices(&state, &session).await?;
    let contractor_error = given(&q.contractor_id)
        .filter(|k| !contractors.iter().any(|(id, _)| id == k))
        .map(|_| session.t().op_no_such_contractor);
    Ok(render(JournalPage {
        contractors,
        contractor_error,
        c: session.chrome(session.t().nav_journal, Section::Journal),
        q,
        entries,
        pager,
    }))
}
