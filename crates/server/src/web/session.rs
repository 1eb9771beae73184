//! Signing in and out, the session cookie, the per-session form token, password changes and
//! the language switch.
//!
//! The session cookie holds 256 random bits (only their SHA-256 is stored); it is `HttpOnly`,
//! `SameSite=Lax`, limited to `/console`, and `Secure` when the request came over TLS (directly
//! or through a proxy that says so in `X-Forwarded-Proto`). Failed sign-ins slow down further
//! tries from the same client address (`mpc_domain::account::after_failed_sign_in`); no account
//! is ever locked, and an unknown username is answered and counted exactly like a known one.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Extension, FromRequestParts, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use mpc_domain::access::Actor;
use mpc_storage::accounts::{self, User};
use mpc_storage::now_micros;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::i18n::{EN, JA, Lang, Msgs};
use super::{CONSOLE, Chrome, NavLink, Shown, WebError, WebResult, render, safe_next, see_other};
use crate::AppState;
use crate::app::session::{self, PasswordRefusal, SESSION_TTL_MICROS, SignIn};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::observability::REQUEST_ID_HEADER;

const SESSION_COOKIE: &str = "mpc_session";
const LANG_COOKIE: &str = "mpc_lang";

/// The language of a request: the switch's cookie, else the browser's preference.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    CookieJar::from_headers(headers)
        .get(LANG_COOKIE)
        .and_then(|c| Lang::parse(c.value()))
        .unwrap_or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map_or(Lang::Ja, Lang::from_accept_language)
        })
}

fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// The signed-in user of a console request. Pages that take it send anyone else to sign in,
/// and a user whose password is temporary to the password page ([`AnySession`] lets it in).
#[derive(Clone)]
pub struct Session {
    pub user: User,
    pub actor: Actor,
    pub lang: Lang,
    /// This request's path and query.
    pub here: String,
    secret: String,
    request_id: Option<String>,
}

/// A signed-in user whose console password may still be temporary: only the password page
/// and signing out take it. Every other page takes [`Session`], which first sends such a user
/// to the password page.
pub struct AnySession(pub Session);

impl FromRequestParts<AppState> for AnySession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let here = parts
            .uri
            .path_and_query()
            .map_or(CONSOLE.to_owned(), |p| p.to_string());
        let to_sign_in = || {
            Redirect::to(&format!("{CONSOLE}/login?next={}", super::urlencode(&here)))
                .into_response()
        };
        let Some(secret) = CookieJar::from_headers(&parts.headers)
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_owned())
        else {
            return Err(to_sign_in());
        };
        let user = match accounts::session_user(&state.store, &secret, now_micros()).await {
            Ok(Some(user)) => user,
            Ok(None) => return Err(to_sign_in()),
            Err(e) => return Err(WebError::from(e).into_response()),
        };
        let actor = user
            .actor()
            .map_err(|e| WebError::from(e).into_response())?;
        let session = Session {
            lang: lang_of(&parts.headers),
            request_id: parts
                .headers
                .get(REQUEST_ID_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            user,
            actor,
            here,
            secret,
        };
        if let Some(seen) = parts.extensions.get::<SeenSession>() {
            seen.keep(&session);
        }
        Ok(AnySession(session))
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    /// The session of a user free to use the console. One whose password is temporary is sent
    /// to the password page from any page it asks for (the page to come back to in `next`),
    /// and any other action is refused with 403 `password_change_required`.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let AnySession(session) = AnySession::from_request_parts(parts, state).await?;
        if !session.user.must_change_password() {
            return Ok(session);
        }
        if matches!(parts.method, Method::GET | Method::HEAD) {
            return Err(Redirect::to(&format!(
                "{CONSOLE}/password?next={}",
                super::urlencode(&session.here)
            ))
            .into_response());
        }
        Err(WebError(
            ApiError::new(
                StatusCode::FORBIDDEN,
                "password_change_required",
                EN.password_change_required,
            )
            .ja(JA.password_change_required),
        )
        .into_response())
    }
}

/// Where a request's session is kept once a page has read it, so that the page
/// [`guard`](super::guard) renders for an error keeps the user's navigation.
#[derive(Clone, Default)]
pub struct SeenSession(std::sync::Arc<std::sync::Mutex<Option<Session>>>);

impl SeenSession {
    fn keep(&self, session: &Session) {
        if let Ok(mut seen) = self.0.lock() {
            *seen = Some(session.clone());
        }
    }

    /// The session the request's page read, if any.
    pub fn take(&self) -> Option<Session> {
        self.0.lock().ok().and_then(|mut seen| seen.take())
    }
}

/// Sections of the navigation; each page names the one it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Dashboard,
    Contracts,
    Requests,
    Invoices,
    Devices,
    Mobile,
    Consents,
    Queue,
    Contractors,
    Prices,
    Billing,
    Sla,
    Inventory,
    Fleet,
    Journal,
    Account,
    Record,
    Search,
}

impl Session {
    /// The caller the use cases see: this user, with this request's id.
    pub fn caller(&self) -> Caller {
        Caller::user(self.actor.clone(), self.request_id.clone())
    }

    pub fn t(&self) -> &'static Msgs {
        self.lang.t()
    }

    pub fn is_operator(&self) -> bool {
        self.actor.is_operator()
    }

    /// The contractor a contractor user acts for; `None` for operators.
    pub fn contractor_id(&self) -> Option<&str> {
        self.user.contractor_id.as_deref()
    }

    /// The token every form of this session carries: derived from the session secret, so it
    /// needs no storage and dies with the session.
    pub fn csrf(&self) -> String {
        let digest = Sha256::digest(format!("csrf:{}", self.secret).as_bytes());
        hex::encode(&digest[..16])
    }

    /// Refuses a form whose token is not this session's.
    pub fn check_csrf(&self, token: &str) -> WebResult<()> {
        use subtle_eq::ct_eq;
        if ct_eq(token.as_bytes(), self.csrf().as_bytes()) {
            Ok(())
        } else {
            Err(WebError(
                ApiError::forbidden("the form's token does not match the session")
                    .ja(self.lang.t().csrf_failed),
            ))
        }
    }

    /// The page around a page of `section`; no navigation while the password is temporary,
    /// since every page but the password page is closed then.
    pub fn chrome(&self, title: &str, section: Section) -> Chrome {
        let t = self.t();
        let links: &[(Section, &'static str, &'static str)] = if self.user.must_change_password() {
            &[]
        } else if self.is_operator() {
            &[
                (Section::Dashboard, "/console/dashboard", t.nav_dashboard),
                (Section::Queue, "/console/queue", t.nav_queue),
                (
                    Section::Contractors,
                    "/console/contractors",
                    t.nav_contractors,
                ),
                (Section::Billing, "/console/billing", t.nav_billing),
                (Section::Prices, "/console/prices", t.nav_prices),
                (Section::Sla, "/console/sla", t.nav_sla),
                (Section::Inventory, "/console/inventory", t.nav_inventory),
                (Section::Fleet, "/console/fleet", t.nav_fleet),
                (Section::Journal, "/console/journal", t.nav_journal),
            ]
        } else {
            &[
                (Section::Dashboard, "/console/dashboard", t.nav_dashboard),
                (Section::Contracts, "/console/contracts", t.nav_contracts),
                (Section::Requests, "/console/requests", t.nav_requests),
                (Section::Devices, "/console/devices", t.nav_devices),
                (Section::Mobile, "/console/mobile", t.nav_mobile),
                (Section::Invoices, "/console/invoices", t.nav_invoices),
                (Section::Sla, "/console/sla", t.nav_sla),
                (Section::Consents, "/console/consents", t.nav_consents),
                (Section::Record, "/console/record", t.rec_nav),
            ]
        };
        Chrome {
            lang: self.lang,
            t,
            title: title.to_owned(),
            user: Some((
                self.user.display_name.clone(),
                if self.is_operator() {
                    t.role_operator
                } else {
                    t.role_contractor
                },
            )),
            csrf: self.csrf(),
            nav: links
                .iter()
                .map(|(s, href, label)| NavLink {
                    href,
                    label,
                    current: *s == section,
                })
                .collect(),
            switch_href: super::switch_href(self.lang, &self.here),
            query_without_page: super::query_without_page(&self.here),
        }
    }
}

/// Constant-time equality for short tokens.
mod subtle_eq {
    pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// `/console`: the dashboard when signed in.
pub async fn home(session: Result<Session, Response>) -> Response {
    match session {
        Ok(_) => see_other("/console/dashboard"),
        Err(to_sign_in) => to_sign_in,
    }
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "web/login.html")]
struct LoginPage {
    c: Chrome,
    next: String,
    username: String,
    problem: Option<Shown>,
}

pub async fn login_form(headers: HeaderMap, Query(q): Query<Next>) -> Response {
    let lang = lang_of(&headers);
    let next = safe_next(q.next.as_deref());
    render(LoginPage {
        c: Chrome::anonymous(
            lang,
            lang.t().sign_in,
            &format!("{CONSOLE}/login?next={}", super::urlencode(&next)),
        ),
        next,
        username: String::new(),
        problem: None,
    })
}

#[derive(Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
    next: Option<String>,
}

/// The address a console request came from: the peer's, or — when the peer is this machine (a
/// reverse proxy beside the server) — the last address the proxy added to `X-Forwarded-For`.
/// An IPv6 address counts as its /64 network, which one client usually holds whole.
fn client_address(headers: &HeaderMap, peer: Option<IpAddr>) -> String {
    let shown = |ip: IpAddr| match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or_else(String::new, |v4| v4.to_string()),
        IpAddr::V4(v4) => v4.to_string(),
    };
    let forwarded = || {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .and_then(|a| a.trim().parse::<IpAddr>().ok())
    };
    match peer {
        Some(ip) if !ip.is_loopback() => shown(ip),
        _ => forwarded()
            .or(peer)
            .map_or_else(|| "unknown".to_owned(), shown),
    }
}

pub async fn login(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<Credentials>,
) -> WebResult {
    let lang = lang_of(&headers);
    let t = lang.t();
    let next = safe_next(form.next.as_deref());
    let refuse = |problem: Shown| {
        let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::UNAUTHORIZED);
        let mut page = render(LoginPage {
            c: Chrome::anonymous(lang, t.sign_in, "/console/login"),
            next: next.clone(),
            username: form.username.clone(),
            problem: Some(problem),
        });
        *page.status_mut() = status;
        page
    };
    let address = client_address(&headers, peer.map(|Extension(ConnectInfo(a))| a.ip()));
    let tried = session::sign_in(&state, &address, &form.username, form.password.clone()).await?;
    let secret = match tried {
        SignIn::Opened { secret } => secret,
        SignIn::Throttled { seconds } => {
            let mut page = refuse(Shown::message(
                429,
                "too_many_sign_ins",
                &format!("{}{seconds}", t.too_many_sign_ins),
            ));
            if let Ok(v) = header::HeaderValue::from_str(&seconds.to_string()) {
                page.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return Ok(page);
        }
        SignIn::Refused => {
            return Ok(refuse(Shown::message(
                401,
                "bad_credentials",
                t.bad_credentials,
            )));
        }
        SignIn::Disabled => {
            return Ok(refuse(Shown::message(
                403,
                "account_disabled",
                t.rec_account_disabled,
            )));
        }
    };
    let cookie = Cookie::build((SESSION_COOKIE, secret))
        .path(CONSOLE)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(over_tls(&headers))
        .max_age(cookie::time::Duration::seconds(
            SESSION_TTL_MICROS / 1_000_000,
        ));
    Ok((jar.add(cookie), Redirect::to(&next)).into_response())
}

#[derive(Deserialize)]
pub struct Token {
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    AnySession(session): AnySession,
    jar: CookieJar,
    Form(form): Form<Token>,
) -> WebResult {
    session.check_csrf(&form.csrf)?;
    session::sign_out(&state, &session.caller(), &session.user, &session.secret).await?;
    let gone = Cookie::build(SESSION_COOKIE).path(CONSOLE);
    Ok((jar.remove(gone), Redirect::to("/console/login")).into_response())
}

#[derive(askama::Template)]
#[template(path = "web/password.html")]
struct PasswordPage {
    c: Chrome,
    problem: Option<Shown>,
    done: bool,
    /// The password is temporary: the page says the user must choose their own first.
    required: bool,
    /// Where to go once a temporary password is replaced.
    next: String,
}

impl PasswordPage {
    fn of(session: &Session, next: &str, problem: Option<Shown>, done: bool) -> PasswordPage {
        let t = session.t();
        let required = session.user.must_change_password();
        PasswordPage {
            c: session.chrome(
                if required {
                    t.set_own_password
                } else {
                    t.change_password
                },
                Section::Account,
            ),
            problem,
            done,
            required,
            next: next.to_owned(),
        }
    }
}

/// `/console/password`: the user's own password; the only page open while it is temporary.
pub async fn password_form(AnySession(session): AnySession, Query(q): Query<Next>) -> Response {
    let next = safe_next(q.next.as_deref());
    render(PasswordPage::of(&session, &next, None, false))
}

#[derive(Deserialize)]
pub struct NewPassword {
    csrf: String,
    current: String,
    new: String,
    confirm: String,
    next: Option<String>,
}

/// Changes the user's own password. A temporary one replaced, the user goes on to the page it
/// was sent from; otherwise the page says it is done.
pub async fn change_password(
    State(state): State<AppState>,
    AnySession(session): AnySession,
    Form(form): Form<NewPassword>,
) -> WebResult {
    session.check_csrf(&form.csrf)?;
    let t = session.t();
    let next = safe_next(form.next.as_deref());
    let refused = |field: &str, message: &str| {
        let mut shown = Shown::message(422, "invalid_password", message);
        shown.fields.push((field.to_owned(), message.to_owned()));
        let mut page = render(PasswordPage::of(&session, &next, Some(shown), false));
        *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        page
    };
    let changed = session::change_password(
        &state,
        &session.caller(),
        (&session.user, &session.secret),
        form.current.clone(),
        form.new.clone(),
        &form.confirm,
    )
    .await?;
    match changed {
        Ok(()) if session.user.must_change_password() => Ok(see_other(&next)),
        Ok(()) => Ok(render(PasswordPage::of(&session, &next, None, true))),
        Err(PasswordRefusal::WrongCurrent) => Ok(refused("current", t.wrong_password)),
        Err(PasswordRefusal::Refused(e)) => Ok(refused(
            "new",
            session.lang.pick(&e.message_ja, &e.message_en),
        )),
        Err(PasswordRefusal::Mismatch) => Ok(refused("confirm", t.password_mismatch)),
    }
}

/// `/console/lang/{ja|en}?next=…`: remembers the language for a year and goes back.
pub async fn switch_language(
    Path(lang): Path<String>,
    Query(q): Query<Next>,
    jar: CookieJar,
) -> Response {
    let lang = Lang::parse(&lang).unwrap_or_default();
    let cookie = Cookie::build((LANG_COOKIE, lang.code()))
        .path("/")
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::days(365));
    (jar.add(cookie), Redirect::to(&safe_next(q.next.as_deref()))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_address_is_the_peer_or_what_a_local_proxy_saw() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().unwrap(),
        );
        let remote: IpAddr = "192.0.2.1".parse().unwrap();
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        // A remote peer's own address counts: it cannot choose another by a header.
        assert_eq!(client_address(&headers, Some(remote)), "192.0.2.1");
        // A proxy on this machine: the address it saw, the last one it added.
        assert_eq!(client_address(&headers, Some(local)), "198.51.100.7");
        assert_eq!(client_address(&HeaderMap::new(), Some(local)), "127.0.0.1");
        // IPv6 clients count by their /64.
        let v6: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        assert_eq!(client_address(&headers, Some(v6)), "2001:db8:1:2::/64");
    }
}
