//! `/console/dashboard`: what a contractor needs at a glance.

use axum::extract::State;
use mpc_api_types::contracts::RequestView;
use mpc_domain::book::Status;
use mpc_domain::invoice::InvoiceState;
use mpc_domain::monitoring::ConnectionState;
use mpc_domain::request::RequestStatus;

use crate::web::format;
use crate::web::i18n::Lang;
use crate::web::session::Section;
use crate::web::{Chrome, Session, WebResult, render};
use crate::{AppState, app};

use super::requests::{RequestRow, namer_for, request_row};
use super::{contractor_of, contracts_of, describe, today};

/// A coming date on the dashboard.
pub struct Coming {
    pub on: String,
    pub date: String,
    pub what: String,
    pub subject: String,
    pub href: String,
}

#[derive(askama::Template)]
#[template(path = "web/contractor/dashboard.html")]
struct Dashboard {
    c: Chrome,
    active: usize,
    up: usize,
    down: usize,
    pending: usize,
    unpaid: usize,
    /// Its finalized invoices per state (B5).
    invoices: Vec<format::StateCount>,
    coming: Vec<Coming>,
    /// Service adapters whose device cannot fetch its configuration today, and why (R7.1,
    /// R17.1 …).
    withheld: Vec<Withheld>,
    requests: Vec<RequestRow>,
}

struct Withheld {
    subject: String,
    href: String,
    code: String,
    reason: String,
}

/// `/console/dashboard`: what a contractor needs at a glance; operators see their own.
pub(super) async fn dashboard(State(state): State<AppState>, session: Session) -> WebResult {
    if session.is_operator() {
        return crate::web::operator::dashboard_page(&state, &session).await;
    }
    let t = session.t();
    let lang = session.lang;
    let contractor = contractor_of(&session, None)?;
    let today = today();
    let contracts = contracts_of(&state, &session, &contractor, None).await?;
    let monitored = app::monitoring::list(
        &state,
        &session.caller(),
        app::monitoring::Filter::default(),
    )
    .await?;
    let pending = pending_requests(&state, &session, &contractor).await?;
    let namer = namer_for(&state, &session, &pending[..pending.len().min(5)]).await?;
    let invoices = app::billing::invoices(&state, &session.caller(), None, None).await?;
    let mut coming = Vec::new();
    let mut add = |on: &String, what: &str, subject: String, href: String| {
        if **on >= *today {
            coming.push(Coming {
                on: on.clone(),
                date: format::date_text(lang, on),
                what: what.to_owned(),
                subject,
                href,
            });
        }
    };
    for c in &contracts {
        let href = format!("/console/contracts/{}", c.id);
        let subject = format!(
            "{} ({})",
            describe(lang, c),
            crate::web::contract_name(c.number, &c.label, &c.id)
        );
        if let Some(d) = &c.minimum_period_end {
            add(
                d,
                t.coming_minimum_period_end,
                subject.clone(),
                href.clone(),
            );
        }
        if let Some(e) = &c.ending {
            add(&e.on, t.coming_contract_end, subject.clone(), href.clone());
        }
        for change in c.items.iter().skip(1) {
            add(
                &change.from,
                t.coming_item_change,
                subject.clone(),
                href.clone(),
            );
        }
        for o in &c.options {
            let subject = format!(
                "{} — {subject}",
                lang.pick(o.kind.label_ja(), o.kind.label_en())
            );
            if let Some(d) = &o.minimum_period_end {
                add(
                    d,
                    t.coming_option_minimum_end,
                    subject.clone(),
                    href.clone(),
                );
            }
            for change in o.usage_types.iter().skip(1) {
                add(
                    &change.from,
                    t.coming_usage_type_change,
                    subject.clone(),
                    href.clone(),
                );
            }
            if let Some(e) = &o.ending {
                add(&e.on, t.coming_option_end, subject.clone(), href.clone());
            }
        }
    }
    let devices = app::devices::list(&state, &session.caller(), &contractor, None).await?;
    for d in &devices {
        if let Some(due) = &d.return_due {
            add(
                due,
                t.coming_return_due,
                d.serial.clone(),
                "/console/devices".into(),
            );
        }
    }
    let outages = app::sla::outages(&state, &session.caller()).await?;
    for o in outages.iter().filter(|o| o.qualifies) {
        add(
            &o.claim_deadline,
            t.coming_claim_deadline,
            o.description.clone(),
            "/console/sla".into(),
        );
    }
    coming.sort_by(|a, b| a.on.cmp(&b.on));
    Ok(render(Dashboard {
        c: session.chrome(t.nav_dashboard, Section::Dashboard),
        active: contracts
            .iter()
            .filter(|c| c.status == Status::Active)
            .count(),
        up: monitored
            .iter()
            .filter(|d| d.state == ConnectionState::Up)
            .count(),
        down: monitored
            .iter()
            .filter(|d| d.state == ConnectionState::Down)
            .count(),
        pending: pending.len(),
        // Drafts are not owed yet (B5): issued, partly paid and overdue invoices are.
        unpaid: invoices
            .iter()
            .filter(|i| i.status.parse().is_ok_and(InvoiceState::is_owed))
            .count(),
        invoices: crate::web::invoice_counts(&state, &session).await?,
        withheld: contracts
            .iter()
            .filter(|c| c.status != Status::Ended)
            .filter_map(|c| {
                let p = c.provisioning.as_ref().filter(|p| !p.provisionable)?;
                Some(Withheld {
                    subject: format!(
                        "{} ({})",
                        describe(lang, c),
                        crate::web::contract_name(c.number, &c.label, &c.id)
                    ),
                    href: format!("/console/contracts/{}", c.id),
                    code: p.code.clone().unwrap_or_default(),
                    reason: match lang {
                        Lang::Ja => p.reason_ja.clone(),
                        Lang::En => p.reason.clone(),
                    }
                    .unwrap_or_default(),
                })
            })
            .collect(),
        coming,
        requests: pending
            .iter()
            .take(5)
            .map(|r| request_row(lang, &namer, r))
            .collect(),
    }))
}

async fn pending_requests(
    state: &AppState,
    session: &Session,
    contractor: &str,
) -> WebResult<Vec<RequestView>> {
    let query = app::requests::Query {
        status: Some(RequestStatus::Pending.as_str().into()),
        kind: None,
        after: None,
        limit: Some(200),
    };
    Ok(
        app::requests::list(state, &session.caller(), contractor, &query)
            .await?
            .requests,
    )
}
