//! The counts of what waits: cards on the dashboard and atop the queue, refreshed with htmx.

use axum::extract::State;
use mpc_domain::monitoring::ConnectionState;
use mpc_domain::sla::ClaimStatus;

use super::super::{month_label, only_operators};
use crate::AppState;
use crate::app::{fleet, journal, monitoring, requests};
use crate::web::session::Section;
use crate::web::{Chrome, Session, WebResult, render};

/// How much waits, for the dashboard and the top of the queue.
pub struct Counts {
    pub pending: i64,
    pub awaiting: i64,
    pub overdue: i64,
    /// Devices serving a contract that are DOWN.
    pub down: i64,
    /// Devices serving a contract never heard from.
    pub never_connected: i64,
    /// Devices serving a contract that are UP.
    pub up: i64,
    /// Devices serving no contract.
    pub in_stock: i64,
    pub claims: usize,
    /// The month of the latest billing run, as `YYYY-MM` and as people read it.
    pub latest_month: Option<(String, String)>,
}

impl Counts {
    /// Counts what waits, each in its query: nothing is loaded to be counted.
    pub async fn gather(state: &AppState, session: &Session) -> WebResult<Counts> {
        let caller = session.caller();
        let pending = requests::pending_count(state, &caller).await?;
        let awaiting = fleet::awaiting_return_counts(state, &caller).await?;
        Counts::with(state, session, pending, awaiting).await
    }

    /// The counts, given the pending requests and the devices awaiting return (all of them,
    /// and those overdue) as the queue's own pages counted them.
    pub(super) async fn with(
        state: &AppState,
        session: &Session,
        pending: i64,
        (awaiting, overdue): (i64, i64),
    ) -> WebResult<Counts> {
        let fleet = monitoring::state_counts(state, &session.caller()).await?;
        let count = |s: ConnectionState| {
            fleet
                .iter()
                .find(|(state, _)| *state == s)
                .map_or(0, |(_, n)| *n)
        };
        let claims = super::super::sla::all_claims(state, session)
            .await?
            .iter()
            .filter(|c| c.state == ClaimStatus::Pending)
            .count();
        let search = journal::Search {
            operation: Some("billing.run".into()),
            limit: Some(1),
            ..journal::Search::default()
        };
        let latest = journal::list(state, &session.caller(), search)
            .await?
            .entries
            .into_iter()
            .next()
            .and_then(|e| e.subject);
        Ok(Counts {
            pending,
            awaiting,
            overdue,
            down: count(ConnectionState::Down),
            never_connected: count(ConnectionState::NeverConnected),
            up: count(ConnectionState::Up),
            in_stock: count(ConnectionState::InStock),
            claims,
            latest_month: latest.map(|m| {
                let label = month_label(session.lang, &m);
                (m, label)
            }),
        })
    }
}

#[derive(askama::Template)]
#[template(path = "web/operator/queue/counts.html")]
struct CountsFragment {
    c: Chrome,
    counts: Counts,
}

/// `/console/queue/counts`: the counts alone, which the queue page refreshes with htmx.
pub async fn counts_fragment(State(state): State<AppState>, session: Session) -> WebResult {
    only_operators(&session)?;
    let counts = Counts::gather(&state, &session).await?;
    Ok(render(CountsFragment {
        c: session.chrome(session.t().nav_queue, Section::Queue),
        counts,
    }))
}
