//! The operator's pages: work queues, contractors, the price book, billing runs, outages and
//! SLA claims, the device inventory, the fleet and the journal.
//!
//! Each page refuses contractors (403) before it reads anything, except `/console/sla`, which
//! shows a contractor its own claims. Reads and changes go through the use cases of
//! [`crate::app`], the ones the API calls, so the rules, permission checks and journal entries
//! are the same; pages build their typed inputs from forms and read typed outcomes.
//!
//! Tables sort with a `sort` query parameter (`name`, or `-name` for descending) from links in
//! their headers. Long lists (the queue, the fleet, the journal) are sorted and paged in the
//! query, in numbered pages with their counts ([`Numbered`]); the contractors page with the
//! API's cursor; short lists the API returns whole are sorted whole and paged here with an
//! offset cursor.

mod agreements;
mod billing;
pub(super) mod contractors;
mod fleet;
mod form;
mod inventory;
mod journal;
mod prices;
mod queue;
mod sla;

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use jiff::civil::Date;

use super::format;
use super::i18n::Lang;
use super::session::Section;
use super::{Chrome, Session, Shown, WebError, WebResult, render, short, urlencode};
use crate::AppState;
use crate::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/queue", get(queue::page))
        .route("/console/queue/counts", get(queue::counts_fragment))
        .route("/console/queue/requests/{id}", get(queue::request_page))
        .route("/console/queue/requests/{id}/accept", post(queue::accept))
        .route(
            "/console/queue/requests/{id}/preview",
            get(queue::preview_fragment),
        )
        .route("/console/queue/requests/{id}/reject", post(queue::reject))
        .route(
            "/console/queue/notice",
            get(queue::notice_form).post(queue::record_notice),
        )
        .route("/console/queue/devices/found", post(queue::device_found))
        .route("/console/queue/devices/sweep", post(queue::sweep))
        .route(
            "/console/queue/devices/{serial}/return",
            post(queue::device_returned),
        )
        .route(
            "/console/contractors",
            get(contractors::list).post(contractors::create),
        )
        .route("/console/contractors/{id}", get(contractors::page))
        .route(
            "/console/contractors/{id}/users",
            post(contractors::create_user),
        )
        .route(
            "/console/contractors/{id}/prices",
            get(agreements::page).post(agreements::save),
        )
        .route(
            "/console/contractors/{id}/prices/remove",
            post(agreements::remove),
        )
        .route(
            "/console/contractors/{id}/record",
            post(contractors::update_record),
        )
        .route(
            "/console/contractors/{id}/users/{user_id}/{action}",
            post(contractors::user_action),
        )
        .route("/console/prices", get(prices::page).post(prices::save))
        .route("/console/prices.csv", get(prices::csv))
        .route("/console/prices/import", post(prices::import))
        .route("/console/billing", get(billing::page))
        .route("/console/billing/runs", post(billing::run))
        .route("/console/billing/issuer", post(billing::issuer))
        .route("/console/billing/{month}", get(billing::month))
        .route("/console/billing/{month}/finalize", post(billing::finalize))
        .route(
            "/console/billing/{month}/lines.csv",
            get(billing::lines_csv),
        )
        .route("/console/sla", get(sla::page))
        .route("/console/sla/outages", post(sla::record_outage))
        .route("/console/sla/claims", post(sla::claim))
        .route("/console/sla/claims/{id}/approve", post(sla::approve))
        .route("/console/sla/claims/{id}/refuse", post(sla::refuse))
        .route(
            "/console/inventory",
            get(inventory::page).post(inventory::import),
        )
        .route("/console/fleet", get(fleet::list))
        .route("/console/fleet/{serial}", get(fleet::device))
        .route("/console/journal", get(journal::page))
}

/// The operator's dashboard as a handler of its own, to mount on any route; contractors get
/// 403. The console's `/console/dashboard` shows operators [`dashboard_page`].
pub async fn dashboard(State(state): State<AppState>, session: Session) -> WebResult {
    dashboard_page(&state, &session).await
}

/// The operator's dashboard: what waits, as cards linking to the queues. The console's
/// `/console/dashboard` shows it to operators; contractors get 403.
pub(crate) async fn dashboard_page(state: &AppState, session: &Session) -> WebResult {
    only_operators(session)?;
    let counts = queue::Counts::gather(state, session).await?;
    let invoices = super::invoice_counts(state, session).await?;
    Ok(render(DashboardPage {
        c: session.chrome(session.t().nav_dashboard, Section::Dashboard),
        counts,
        invoices,
    }))
}

#[derive(askama::Template)]
#[template(path = "web/operator/dashboard.html")]
struct DashboardPage {
    c: Chrome,
    counts: queue::Counts,
    invoices: Vec<super::format::StateCount>,
}

/// Refuses anyone but operators, as the API does (403).
fn only_operators(session: &Session) -> WebResult<()> {
    if session.is_operator() {
        Ok(())
    } else {
        Err(WebError(ApiError::operator_only()))
    }
}

/// A refused form answers 422 with the form again.
fn unprocessable(mut page: Response) -> Response {
    *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    page
}

/// Renders a page whose form was refused: 422 when there is a problem, 200 otherwise.
fn render_form(page: impl askama::Template, failed: bool) -> Response {
    let page = render(page);
    if failed { unprocessable(page) } else { page }
}

/// A problem found by the console before calling the API: one field and its message.
fn field_problem(lang: Lang, field: &str, message: &str) -> Shown {
    let mut shown = Shown::message(422, "invalid_field", lang.t().op_check_fields);
    shown.fields.push((field.to_owned(), message.to_owned()));
    shown
}

/// Whether the "I have checked" box of an irreversible action was ticked.
fn confirmed(value: &str) -> bool {
    value == "yes"
}

/// The refusal of an irreversible form posted without its confirmation box.
fn unconfirmed(lang: Lang) -> Shown {
    field_problem(lang, "confirm", lang.t().op_confirm_required)
}

/// A `YYYY-MM-DD` form field: `None` when blank; a field problem when not a date within the
/// business dates.
fn date_field(lang: Lang, field: &str, value: &str) -> Result<Option<Date>, Shown> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    mpc_domain::calendar::parse_business_date(value)
        .map(Some)
        .map_err(|_| field_problem(lang, field, lang.t().op_invalid_date))
}

/// An instant of the API (RFC 3339) as people read it, in Tokyo time
/// ([`format::time_text`]).
fn when(lang: Lang, instant: &str) -> String {
    format::time_text(lang, instant)
}

/// A `YYYY-MM` month as people read it: `2026年10月` or `Oct 2026` ([`format::month_text`]).
fn month_label(lang: Lang, month: &str) -> String {
    format::month_text(lang, month)
}

/// An API refusal to show with its form; a failure of the server is the error page instead.
fn refusal(lang: Lang, e: ApiError) -> WebResult<Shown> {
    if e.status.is_server_error() {
        Err(e.into())
    } else {
        Ok(Shown::of(lang, &e))
    }
}

/// A console address with its query, leaving out empty values.
fn href(path: &str, params: &[(&str, &str)]) -> String {
    let query: Vec<String> = params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// Contractor names by id, for the rows of a page (operators see every contractor).
async fn contractor_names(
    state: &AppState,
    session: &Session,
    ids: Vec<String>,
) -> WebResult<HashMap<String, String>> {
    let mut names = HashMap::new();
    for id in ids {
        if names.contains_key(&id) {
            continue;
        }
        let name = match crate::app::contractors::get(state, &session.caller(), &id).await {
            Ok(c) => c.name,
            Err(e) if e.status == StatusCode::NOT_FOUND => id.clone(),
            Err(e) => return Err(e.into()),
        };
        names.insert(id, name);
    }
    Ok(names)
}

/// Every contractor, id and name, for the pickers of operators' forms and filters.
async fn contractor_choices(
    state: &AppState,
    session: &Session,
) -> WebResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut page = crate::app::support::PageParams {
        after: None,
        limit: Some(crate::app::support::MAX_LIMIT),
    };
    loop {
        let list = crate::app::contractors::list(state, &session.caller(), None, &page).await?;
        out.extend(list.contractors.into_iter().map(|c| (c.id, c.name)));
        match list.next_cursor {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    Ok(out)
}

/// Whether a request came from htmx for the fragment `target` of a page.
fn htmx_target(headers: &HeaderMap, target: &str) -> bool {
    headers.contains_key("hx-request")
        && !headers.contains_key("hx-history-restore-request")
        && headers
            .get("hx-target")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t == target)
}

/// The order of a table: a column key and a direction, from a query parameter, with the links
/// its headers carry.
pub struct Sort {
    param: &'static str,
    pub key: String,
    pub desc: bool,
    /// The page's address with every other parameter (none about paging: a new order starts
    /// at the first page).
    base: String,
}

impl Sort {
    /// Reads `value` (`key` or `-key`); anything but one of `keys` means the first of them.
    fn new(param: &'static str, value: Option<&str>, keys: &[&str], base: String) -> Sort {
        let value = value.unwrap_or_default();
        let (desc, key) = match value.strip_prefix('-') {
            Some(k) => (true, k),
            None => (false, value),
        };
        match keys.iter().find(|k| **k == key) {
            Some(k) => Sort {
                param,
                key: (*k).to_owned(),
                desc,
                base,
            },
            None => Sort {
                param,
                key: keys.first().copied().unwrap_or_default().to_owned(),
                desc: false,
                base,
            },
        }
    }

    /// The link of a column header: ascending, or descending when already ascending.
    pub fn href(&self, key: &str) -> String {
        let desc = self.key == key && !self.desc;
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!(
            "{}{sep}{}={}{key}",
            self.base,
            self.param,
            if desc { "-" } else { "" }
        )
    }

    /// The header's `aria-sort`.
    pub fn aria(&self, key: &str) -> &'static str {
        match (self.key == key, self.desc) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    }

    pub fn mark(&self, key: &str) -> &'static str {
        match (self.key == key, self.desc) {
            (false, _) => "",
            (true, false) => " ▲",
            (true, true) => " ▼",
        }
    }

    /// Sorts rows by the chosen column; `cell` gives a row's value for a column key (numbers
    /// in the first place, text in the second). Ties keep the API's order.
    fn apply<T>(&self, rows: &mut [T], cell: impl Fn(&T, &str) -> (i64, String)) {
        rows.sort_by(|a, b| {
            let order = cell(a, &self.key).cmp(&cell(b, &self.key));
            if self.desc { order.reverse() } else { order }
        });
    }
}

/// Links to the first and the next page of a table.
#[derive(Default)]
pub struct Pager {
    pub first: Option<String>,
    pub next: Option<String>,
}

/// The pager of a table paged in the query: where its rows sit among all of them, and the
/// addresses of the pages either side.
#[derive(Default)]
pub struct Numbered {
    /// `41–60 of 312`; empty when nothing matches.
    pub range: String,
    pub previous: Option<String>,
    pub next: Option<String>,
}

impl Numbered {
    /// The pager of a page showing `shown` rows from the `first`th (from 1) of `total`, with
    /// the numbers of the pages either side; `at` gives the address of a page by number.
    fn new(
        lang: Lang,
        (first, shown, total): (i64, usize, i64),
        (previous, next): (Option<u32>, Option<u32>),
        at: impl Fn(u32) -> String,
    ) -> Numbered {
        Numbered {
            range: if total > 0 {
                super::i18n::range_of(lang, first, first + shown as i64 - 1, total)
            } else {
                String::new()
            },
            previous: previous.map(&at),
            next: next.map(&at),
        }
    }
}

/// A page number from a query: anything but a whole number from 1 means the first page.
fn page_number(value: Option<&str>) -> u32 {
    value
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|p| *p > 0)
        .unwrap_or(1)
}

/// Rows shown per page.
const PAGE: usize = 50;

/// One page of rows the API returned whole: `after` is the offset of the page (the previous
/// page's next cursor). Returns the page and the next cursor.
fn page_of<T>(mut rows: Vec<T>, after: Option<&str>) -> (Vec<T>, Option<String>) {
    let start = after
        .and_then(|a| a.parse::<usize>().ok())
        .unwrap_or(0)
        .min(rows.len());
    let end = (start + PAGE).min(rows.len());
    let next = (end < rows.len()).then(|| end.to_string());
    rows.truncate(end);
    rows.drain(..start);
    (rows, next)
}

/// The pager of a page: `first` when not on the first page, `next` when the API or
/// [`page_of`] gave a cursor; `base` holds every other parameter.
fn pager(base: &str, param: &str, after: Option<&str>, next: Option<String>) -> Pager {
    let sep = if base.contains('?') { '&' } else { '?' };
    Pager {
        first: after.filter(|a| !a.is_empty()).map(|_| base.to_owned()),
        next: next.map(|n| format!("{base}{sep}{param}={}", urlencode(&n))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_links_toggle_and_keep_other_parameters() {
        let s = Sort::new(
            "sort",
            Some("name"),
            &["date", "name"],
            "/console/x?q=a".into(),
        );
        assert_eq!(s.href("name"), "/console/x?q=a&sort=-name");
        assert_eq!(s.href("date"), "/console/x?q=a&sort=date");
        assert_eq!((s.aria("name"), s.aria("date")), ("ascending", "none"));
        let unknown = Sort::new("sort", Some("-colour"), &["date", "name"], "/p".into());
        assert_eq!((unknown.key.as_str(), unknown.desc), ("date", false));
        let mut rows = vec![(2, "b"), (1, "c"), (3, "a")];
        Sort::new("sort", Some("-n"), &["n"], "/p".into())
            .apply(&mut rows, |r, _| (r.0, String::new()));
        assert_eq!(rows, vec![(3, "a"), (2, "b"), (1, "c")]);
    }

    #[test]
    fn pages_of_fifty_with_offset_cursors() {
        let rows: Vec<usize> = (0..120).collect();
        let (first, next) = page_of(rows.clone(), None);
        assert_eq!((first.len(), next.as_deref()), (50, Some("50")));
        let (last, next) = page_of(rows.clone(), Some("100"));
        assert_eq!((last, next), ((100..120).collect::<Vec<_>>(), None));
        let (beyond, _) = page_of(rows, Some("999"));
        assert!(beyond.is_empty());
        let p = pager("/console/x?q=a", "after", Some("50"), Some("100".into()));
        assert_eq!(p.first.as_deref(), Some("/console/x?q=a"));
        assert_eq!(p.next.as_deref(), Some("/console/x?q=a&after=100"));
    }

    #[test]
    fn instants_read_in_tokyo_time() {
        assert_eq!(when(Lang::En, "2026-03-31T15:30:00Z"), "1 Apr 2026 00:30");
        assert_eq!(when(Lang::Ja, "2026-03-31T15:30:00Z"), "2026年4月1日 00:30");
        assert_eq!(
            href("/console/fleet", &[("state", "down"), ("model", "")]),
            "/console/fleet?state=down"
        );
        assert_eq!(month_label(Lang::Ja, "2026-10"), "2026年10月");
        assert_eq!(month_label(Lang::En, "2026-10"), "Oct 2026");
    }
}
