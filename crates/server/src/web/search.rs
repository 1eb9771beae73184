//! `/console/search?q=`: anything by part of its id, serial, ICCID, name or number, from the
//! search box of every page's header ([`app::search::find`]).

use axum::extract::{Query, State};
use mpc_api_types::search::{Found, SearchKind, SearchResults};
use serde::Deserialize;

use crate::app::search::{self, SearchQuery};
use crate::web::i18n::{self, Lang};
use crate::web::session::Section;
use crate::web::{Chrome, Namer, Session, Shown, WebResult, render, see_other, short, urlencode};
use crate::{AppState, app};

#[derive(Deserialize)]
pub(super) struct SearchParams {
    q: Option<String>,
    kind: Option<String>,
    page: Option<u32>,
}

/// One thing found, as a link.
pub struct HitRow {
    pub href: String,
    pub label: String,
    pub detail: String,
}

/// The hits of one kind.
pub struct HitGroup {
    pub title: &'static str,
    pub shown: usize,
    pub total: i64,
    /// The link to all hits of this kind, when there are more than shown.
    pub more: Option<String>,
    pub rows: Vec<HitRow>,
}

/// A page of one kind: where it starts and ends, and the neighbouring pages.
pub struct Pages {
    pub range: String,
    pub previous: Option<u32>,
    pub next: Option<u32>,
}

#[derive(askama::Template)]
#[template(path = "web/search.html")]
struct SearchPage {
    c: Chrome,
    q: String,
    /// `q` percent-encoded for a link.
    q_query: String,
    problem: Option<Shown>,
    groups: Vec<HitGroup>,
    /// Set when one kind is paged: its pager.
    pages: Option<Pages>,
    nothing: bool,
}

/// Where a hit's page is: contracts, SIMs (their contract) and invoices have pages for both
/// sides; devices and contractors have operator pages, and a contractor's own list otherwise.
fn href(operator: bool, kind: SearchKind, id: &str, r: &SearchResults) -> String {
    match kind {
        SearchKind::Contract => format!("/console/contracts/{}", urlencode(id)),
        SearchKind::Invoice => format!("/console/invoices/{}", urlencode(id)),
        SearchKind::Sim => r.sims.hits.iter().find(|h| h.iccid == id).map_or_else(
            || "/console/mobile".to_owned(),
            |h| format!("/console/contracts/{}", urlencode(&h.contract_id)),
        ),
        SearchKind::Device if operator => {
            format!("/console/fleet/{}", urlencode(id).replace('/', "%2F"))
        }
        SearchKind::Device => "/console/devices".to_owned(),
        SearchKind::Contractor if operator => format!("/console/contractors/{}", urlencode(id)),
        SearchKind::Contractor => "/console/dashboard".to_owned(),
    }
}

fn groups(
    lang: Lang,
    operator: bool,
    namer: &Namer,
    r: &SearchResults,
    paged: bool,
) -> Vec<HitGroup> {
    let t = lang.t();
    let more = |kind: SearchKind, shown: usize, total: i64| {
        (!paged && total > shown as i64).then(|| {
            format!(
                "/console/search?q={}&kind={}",
                urlencode(&r.query),
                kind.as_str()
            )
        })
    };
    let group = |title, kind, total, rows: Vec<HitRow>| HitGroup {
        title,
        shown: rows.len(),
        total,
        more: more(kind, rows.len(), total),
        rows,
    };
    let mut out = vec![
        group(
            t.search_contracts,
            SearchKind::Contract,
            r.contracts.total,
            r.contracts
                .hits
                .iter()
                .map(|h| HitRow {
                    href: href(operator, SearchKind::Contract, &h.id, r),
                    label: format!(
                        "{} {}",
                        t.contract,
                        [h.number.as_deref().unwrap_or(&h.id), h.label.as_str()]
                            .into_iter()
                            .filter(|s| !s.is_empty())
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    detail: [
                        Some(i18n::contract_kind(lang, &h.kind).to_owned()),
                        h.device_type.clone(),
                        Some(h.contractor_name.clone()),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · "),
                })
                .collect(),
        ),
        group(
            t.search_devices,
            SearchKind::Device,
            r.devices.total,
            r.devices
                .hits
                .iter()
                .map(|h| HitRow {
                    href: href(operator, SearchKind::Device, &h.serial, r),
                    label: h.serial.clone(),
                    detail: format!(
                        "{} · {}",
                        h.model,
                        h.contractor_name
                            .as_deref()
                            .unwrap_or(t.search_in_inventory)
                    ),
                })
                .collect(),
        ),
        group(
            t.search_sims,
            SearchKind::Sim,
            r.sims.total,
            r.sims
                .hits
                .iter()
                .map(|h| HitRow {
                    href: format!("/console/contracts/{}", urlencode(&h.contract_id)),
                    label: h.iccid.clone(),
                    detail: format!(
                        "{} {} · {} – {} · {}",
                        t.contract,
                        namer.contract(&h.contract_id),
                        h.from,
                        h.until.as_deref().unwrap_or(""),
                        h.contractor_name
                    ),
                })
                .collect(),
        ),
        group(
            t.search_contractors,
            SearchKind::Contractor,
            r.contractors.total,
            r.contractors
                .hits
                .iter()
                .map(|h| HitRow {
                    href: href(operator, SearchKind::Contractor, &h.id, r),
                    label: h.name.clone(),
                    detail: short(&h.id),
                })
                .collect(),
        ),
        group(
            t.search_invoices,
            SearchKind::Invoice,
            r.invoices.total,
            r.invoices
                .hits
                .iter()
                .map(|h| HitRow {
                    href: href(operator, SearchKind::Invoice, &h.id, r),
                    label: h
                        .number
                        .clone()
                        .unwrap_or_else(|| t.invoice_draft.to_owned()),
                    detail: format!(
                        "{} · {} · {}",
                        h.month,
                        h.recipient_name,
                        lang.yen(mpc_domain::money::Yen(h.total))
                    ),
                })
                .collect(),
        ),
    ];
    out.retain(|g| g.total > 0);
    out
}

/// `/console/search?q=&kind=&page=`: a few hits of each kind with their totals and a link to
/// the rest, or a page of one kind; a query naming one thing exactly (an invoice number, a
/// whole serial …) opens it.
pub(super) async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(p): Query<SearchParams>,
) -> WebResult {
    let lang = session.lang;
    let t = session.t();
    let q = p.q.unwrap_or_default();
    let kind = p.kind.as_deref().and_then(SearchKind::parse);
    let mut page = SearchPage {
        c: session.chrome(t.search_title, Section::Search),
        q: q.trim().to_owned(),
        q_query: urlencode(q.trim()),
        problem: None,
        groups: Vec::new(),
        pages: None,
        nothing: false,
    };
    if page.q.is_empty() {
        return Ok(render(page));
    }
    let query = SearchQuery {
        q,
        kind,
        page: p.page,
        per_page: None,
    };
    let r = match app::search::find(&state, &session.caller(), &query).await {
        Ok(r) => r,
        Err(e) if e.status.is_client_error() => {
            page.problem = Some(Shown::of(lang, &e));
            return Ok(render(page));
        }
        Err(e) => return Err(e.into()),
    };
    if let (Some(Found { kind: k, id }), None) = (&r.exact, kind) {
        return Ok(see_other(&href(session.is_operator(), *k, id, &r)));
    }
    let sim_contracts: Vec<String> = r.sims.hits.iter().map(|h| h.contract_id.clone()).collect();
    let namer = Namer::load(&state, &session, &sim_contracts, &[]).await?;
    page.groups = groups(lang, session.is_operator(), &namer, &r, kind.is_some());
    page.nothing = page.groups.is_empty();
    if let Some(g) = page.groups.first().filter(|_| kind.is_some()) {
        let number = p.page.unwrap_or(1).max(1);
        let per_page = i64::from(search::DEFAULT_PER_PAGE);
        let first = i64::from(number - 1) * per_page;
        page.pages = Some(Pages {
            range: i18n::range_of(lang, first + 1, first + g.shown as i64, g.total),
            previous: (number > 1).then(|| number - 1),
            next: (first + (g.shown as i64) < g.total).then_some(number + 1),
        });
    }
    Ok(render(page))
}
