//! The web console under `/console`: server-rendered pages for operators and contractors, in
//! Japanese and English.
//!
//! Pages call the same handler functions as the REST API (with the signed-in user as the
//! caller), so every rule, permission check and journal entry is the API's; the console only
//! turns forms into requests and answers into HTML. Templates under `templates/web/` mirror the
//! modules here. htmx (vendored, no build step) swaps fragments where a round trip is enough.

pub mod charts;
mod contractor;
pub mod format;
pub mod i18n;
pub mod operator;
mod preset;
mod search;
mod session;

use axum::Router;
use axum::extract::{Path, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::AppState;
use crate::error::ApiError;
use i18n::{Lang, Msgs};
pub use session::Session;
use session::{Section, SeenSession};

/// Where the console lives.
pub const CONSOLE: &str = "/console";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(session::home))
        .route(
            "/console/login",
            get(session::login_form).post(session::login),
        )
        .route("/console/logout", post(session::logout))
        .route(
            "/console/password",
            get(session::password_form).post(session::change_password),
        )
        .route("/console/lang/{lang}", get(session::switch_language))
        .route("/console/assets/{file}", get(asset))
        .route("/console/search", get(search::page))
        .route("/console/{*rest}", get(no_such_page))
        .merge(contractor::router())
        .merge(preset::router())
        .merge(operator::router())
        .layer(axum::middleware::from_fn(guard))
}

/// The page around every console page: language, the signed-in user, navigation.
pub struct Chrome {
    pub lang: Lang,
    pub t: &'static Msgs,
    pub title: String,
    /// The signed-in user's name and role label; `None` on the sign-in page.
    pub user: Option<(String, &'static str)>,
    pub csrf: String,
    pub nav: Vec<NavLink>,
    /// This page's address in the other language.
    pub switch_href: String,
    /// This page's query without `page`, ready for `page=N` to be appended.
    pub query_without_page: String,
}

pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

impl Chrome {
    /// The chrome of a page seen by no one signed in.
    pub fn anonymous(lang: Lang, title: &str, here: &str) -> Chrome {
        Chrome {
            lang,
            t: lang.t(),
            title: title.to_owned(),
            user: None,
            csrf: String::new(),
            nav: Vec::new(),
            switch_href: switch_href(lang, here),
            query_without_page: String::new(),
        }
    }
}

/// The query of `here` without its `page` parameter, ending in `&` when not empty.
pub fn query_without_page(here: &str) -> String {
    let query = here.split_once('?').map_or("", |(_, q)| q);
    let mut kept: String = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("page="))
        .collect::<Vec<_>>()
        .join("&amp;");
    if !kept.is_empty() {
        kept.push_str("&amp;");
    }
    kept
}

fn switch_href(lang: Lang, here: &str) -> String {
    format!(
        "{CONSOLE}/lang/{}?next={}",
        lang.other().code(),
        urlencode(here)
    )
}

/// The last 8 characters of an id, enough to tell ids apart on a page: ids are UUID v7, whose
/// first characters are the same for everything made in the same hour.
pub fn short(id: &str) -> String {
    id.get(id.len().saturating_sub(8)..)
        .unwrap_or(id)
        .to_owned()
}

/// Who did something, as a person reads it: the username `name` the app found for a user, a
/// translated word for the command line, the system and the demo data, and the actor as
/// recorded otherwise.
pub fn actor_label(lang: Lang, actor: &str, name: Option<String>) -> String {
    let t = lang.t();
    match (name, actor) {
        (Some(name), _) => name,
        (None, "cli") => t.actor_cli.to_owned(),
        (None, "system") => t.actor_system.to_owned(),
        (None, "demo") => t.actor_demo.to_owned(),
        (None, _) => actor.to_owned(),
    }
}

/// A contract as people name it: its number and site label (`C-000123 本社`), or its id when
/// it has no number yet.
pub fn contract_name(
    number: Option<mpc_domain::contract_number::ContractNumber>,
    label: &str,
    id: &str,
) -> String {
    let number = number.map_or_else(|| id.to_owned(), |n| n.to_string());
    if label.is_empty() {
        number
    } else {
        format!("{number} {label}")
    }
}

/// The names of the contracts and options one page shows, looked up in bulk before the page
/// is built (one query for contracts, one for options), so rows never show ids.
pub struct Namer {
    lang: Lang,
    names: crate::app::contracts::Names,
}

impl Namer {
    /// Looks up `contracts` and `options` (ids) for `session`'s user.
    pub async fn load(
        state: &AppState,
        session: &Session,
        contracts: &[String],
        options: &[String],
    ) -> WebResult<Self> {
        let names =
            crate::app::contracts::names(state, &session.caller(), contracts, options).await?;
        Ok(Namer {
            lang: session.lang,
            names,
        })
    }

    /// `C-000123 本社`, or the id of a contract not found.
    pub fn contract(&self, id: &str) -> String {
        self.names.contracts.get(id).map_or_else(
            || id.to_owned(),
            |n| contract_name(Some(n.number), &n.label, id),
        )
    }

    /// `C-000123` alone, or the id of a contract not found.
    pub fn number(&self, id: &str) -> String {
        self.names
            .contracts
            .get(id)
            .map_or_else(|| id.to_owned(), |n| n.number.to_string())
    }

    /// `モバイルアクセスオプション（C-000123）` / `Mobile access option (C-000123)`, or the id
    /// of an option not found.
    pub fn option(&self, id: &str) -> String {
        self.names.options.get(id).map_or_else(
            || id.to_owned(),
            |n| option_name(self.lang, n.kind, Some(&n.contract.number.to_string())),
        )
    }

    /// Whatever `id` names: a contract, an option, or (a packet share group, which has no
    /// number) the last characters of its id.
    pub fn any(&self, id: &str) -> String {
        if self.names.contracts.contains_key(id) {
            self.contract(id)
        } else if self.names.options.contains_key(id) {
            self.option(id)
        } else {
            short(id)
        }
    }

    /// An option of `kind` on `contract_id` (one not written yet, say) named as [`Self::option`]
    /// names one; its kind alone when the contract is not found.
    pub fn option_of(&self, kind: mpc_domain::catalog::OptionKind, contract_id: &str) -> String {
        let number = self
            .names
            .contracts
            .get(contract_id)
            .map(|n| n.number.to_string());
        option_name(self.lang, kind, number.as_deref())
    }
}

/// An option by its kind and its contract's number: `モバイルアクセスオプション（C-000123）`.
pub fn option_name(
    lang: Lang,
    kind: mpc_domain::catalog::OptionKind,
    number: Option<&str>,
) -> String {
    let kind = lang.pick(kind.label_ja(), kind.label_en());
    match (number, lang) {
        (None, _) => kind.to_owned(),
        (Some(n), Lang::Ja) => format!("{kind}（{n}）"),
        (Some(n), Lang::En) => format!("{kind} ({n})"),
    }
}

/// A packet share group as people know it, by the contracts whose options share it:
/// `パケットシェアグループ（C-000005・C-000006）`; the group has no number of its own.
pub fn group_name(lang: Lang, members: &[String]) -> String {
    let label = lang.t().op_group;
    match lang {
        Lang::Ja => format!("{label}（{}）", members.join("・")),
        Lang::En => format!("{label} ({})", members.join(", ")),
    }
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Renders a page, or a plain 500 when the template fails.
pub fn render(page: impl askama::Template) -> Response {
    match page.render() {
        Ok(html) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console template failed");
            ApiError::internal().into_response()
        }
    }
}

/// A problem as the console shows it: the rule or error code and the message in the page's
/// language, with field messages by field name.
pub struct Shown {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub fields: Vec<(String, String)>,
}

impl Shown {
    pub fn of(lang: Lang, e: &ApiError) -> Shown {
        let t = lang.t();
        let message = match (lang, e.status, &e.detail_ja) {
            (_, StatusCode::NOT_FOUND, _) => t.not_found.to_owned(),
            (_, StatusCode::FORBIDDEN, ja) if e.code == "forbidden" => match (lang, ja) {
                _ if e.detail.contains("operators") => t.forbidden.to_owned(),
                (Lang::Ja, Some(ja)) => ja.clone(),
                _ => e.detail.clone(),
            },
            (Lang::Ja, _, Some(ja)) => ja.clone(),
            _ => e.detail.clone(),
        };
        Shown {
            status: e.status.as_u16(),
            code: e.code.to_string(),
            message,
            fields: e
                .errors
                .iter()
                .map(|f| {
                    let m = match (lang, &f.message_ja) {
                        (Lang::Ja, Some(ja)) => ja.clone(),
                        _ => f.message.clone(),
                    };
                    (f.field.clone(), m)
                })
                .collect(),
        }
    }

    pub fn message(status: u16, code: &str, message: &str) -> Shown {
        Shown {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
            fields: Vec::new(),
        }
    }

    /// Whether the code is a rule's id (`R13.1`, `D7`, `B4`), shown as the rule, rather than
    /// a protocol code (`not_found`, `csrf`), shown as an error code.
    pub fn is_rule(&self) -> bool {
        let mut chars = self.code.chars();
        matches!(chars.next(), Some('R' | 'D' | 'B'))
            && chars.next().is_some_and(|c| c.is_ascii_digit())
    }

    /// The message for one field, if the problem names it.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(f, _)| f == name || f.ends_with(&format!(".{name}")))
            .map(|(_, m)| m.as_str())
    }
}

/// An API error met while serving a page; [`guard`] renders it as an error page in the
/// visitor's language.
pub struct WebError(pub ApiError);

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> Self {
        WebError(e)
    }
}

impl From<mpc_storage::StorageError> for WebError {
    fn from(e: mpc_storage::StorageError) -> Self {
        WebError(e.into())
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.0.status;
        let mut response = status.into_response();
        response
            .extensions_mut()
            .insert(std::sync::Arc::new(self.0));
        response
    }
}

pub type WebResult<T = Response> = Result<T, WebError>;

#[derive(askama::Template)]
#[template(path = "web/error.html")]
struct ErrorPage {
    c: Chrome,
    problem: Shown,
}

/// Refuses cross-site form posts (the browser's `Sec-Fetch-Site`, or an `Origin` of another
/// host), on top of the per-session token every form carries; renders [`WebError`]s as pages.
async fn guard(mut req: Request, next: Next) -> Response {
    let lang = session::lang_of(req.headers());
    let here = req
        .uri()
        .path_and_query()
        .map_or(CONSOLE.to_owned(), |p| p.to_string());
    if req.method() == Method::POST && cross_site(&req) {
        let problem = Shown::message(403, "csrf", lang.t().csrf_failed);
        let mut page = render(ErrorPage {
            c: Chrome::anonymous(lang, lang.t().error_title, &here),
            problem,
        });
        *page.status_mut() = StatusCode::FORBIDDEN;
        return page;
    }
    let seen = SeenSession::default();
    req.extensions_mut().insert(seen.clone());
    let response = next.run(req).await;
    match response.extensions().get::<std::sync::Arc<ApiError>>() {
        Some(e) => {
            // The signed-in user keeps their menu; no navigation link is the current one.
            let c = seen.take().map_or_else(
                || Chrome::anonymous(lang, lang.t().error_title, &here),
                |session| session.chrome(lang.t().error_title, Section::Account),
            );
            let mut page = render(ErrorPage {
                c,
                problem: Shown::of(lang, e),
            });
            *page.status_mut() = e.status;
            page
        }
        None => response,
    }
}

/// Any other console address: a 404 page with the user's navigation.
async fn no_such_page(_session: Session) -> WebResult {
    Err(ApiError::not_found().into())
}

fn cross_site(req: &Request) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin.split_once("://").map(|(_, h)| h) != Some(host),
        (Some(_), None) => true,
        (None, _) => false,
    }
}

const HTMX: &str = include_str!("../../assets/htmx-2.0.11.min.js");
const CSS: &str = include_str!("../../assets/console.css");

/// The console's static files, cached for a day (their names change with their versions).
async fn asset(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "htmx-2.0.11.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        "console.css" => (CSS, "text/css; charset=utf-8"),
        _ => return WebError(ApiError::not_found()).into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}

/// Where a redirect after a form may go: a console page, never another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/console") && !n.starts_with("//") && !n.contains('\\') => {
            n.to_owned()
        }
        _ => CONSOLE.to_owned(),
    }
}

/// A 303 to another console page (after a form post).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Finalized invoices per state (B5), each linking to the invoice list filtered by it.
pub(crate) async fn invoice_counts(
    state: &AppState,
    session: &Session,
) -> WebResult<Vec<format::StateCount>> {
    Ok(crate::app::billing::state_counts(state, &session.caller())
        .await?
        .into_iter()
        .map(|(s, count)| format::StateCount {
            badge: format::invoice_state(session.lang, s),
            href: format!("/console/invoices?state={}", s.as_str()),
            count,
        })
        .collect())
}
