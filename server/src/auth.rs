//! Who may use the dashboard. By default a random access token is printed at start-up (as
//! Jupyter does) and exchanged once for an HttpOnly, SameSite=Strict session cookie; sessions
//! end after an idle time and a maximum age, or at `/logout`. Optionally an authenticating
//! reverse proxy's user header is trusted — only from the proxy's own address — or people sign
//! in through the team's OpenID Connect provider (`crate::oidc`). Every request
//! must name an allowed Host (DNS rebinding), and every state-changing request must come from
//! the page's own origin (CSRF).

use crate::oidc::Provider;
use app::server::User;
use app::wire::Person;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) mod http;
mod request;

use http::{cookie, page};
#[cfg(test)]
use request::without_token;
use request::{clean_redirect, proxy_user, query_token, refused_host_or_origin, same, NotTheProxy};

/// The session cookie over plain http (a laptop, a trusted network).
const COOKIE: &str = "s3p_session";
/// The session cookie over https: the browser takes a `__Host-` cookie only from this very host,
/// `Secure` and for the whole site, so a sibling subdomain cannot plant its own session on the
/// dashboard's people (they would act, and be recorded, as the planter).
const HOST_COOKIE: &str = "__Host-s3p_session";

/// The session cookie's name for people who come over https (`secure`) or not.
fn cookie_name(secure: bool) -> &'static str {
    if secure {
        HOST_COOKIE
    } else {
        COOKIE
    }
}

/// How `serve` was told to authenticate.
pub struct AuthConfig {
    /// The access token; `None` when people sign in through the identity provider.
    pub token: Option<String>,
    /// The team's OpenID Connect provider.
    pub oidc: Option<Arc<Provider>>,
    pub trust_header: Option<HeaderName>,
    /// Peers whose `trust_header` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// `Host` values accepted, lower case.
    pub allowed_hosts: Vec<String>,
    pub session_idle: Duration,
    pub session_max: Duration,
    /// People reach the dashboard over https (`--public-url https://…`): the session cookie
    /// is `Secure`, never sent over plain http.
    pub secure_cookies: bool,
}

struct Session {
    created: Instant,
    last_seen: Instant,
    person: Person,
    /// The provider's ID token, for its sign-out.
    id_token: Option<String>,
}

impl Session {
    fn expired(&self, now: Instant, cfg: &AuthConfig) -> bool {
        now - self.last_seen > cfg.session_idle || now - self.created > cfg.session_max
    }
}

pub struct Auth {
    cfg: AuthConfig,
    sessions: Mutex<HashMap<String, Session>>,
}

/// 32 random bytes from the OS, hex-encoded.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the OS random source works");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The Hosts a listener is reached by when none are given: its address, and `localhost` on
/// loopback. Listening on every interface needs them named.
pub fn default_hosts(addr: SocketAddr) -> Result<Vec<String>, String> {
    let ip = addr.ip();
    if ip.is_unspecified() {
        return Err(format!(
            "listening on all interfaces ({addr}): name the host(s) people use to reach the \
             dashboard with --allowed-host (e.g. --allowed-host prune.internal:{})",
            addr.port()
        ));
    }
    let mut hosts = vec![addr.to_string()];
    if ip.is_loopback() {
        hosts.push(format!("localhost:{}", addr.port()));
    }
    Ok(hosts)
}

/// How people sign in here, said under a refusal: the token's link, the proxy in front, or the
/// identity provider (a page visit goes there). Before, every page spoke of a `?token=` link
/// that an OpenID or proxy dashboard never printed.
fn how_to_sign_in(auth: &Auth) -> String {
    match (&auth.cfg.oidc, &auth.cfg.trust_header) {
        (Some(p), _) => format!(
            "People sign in through {}: <a href=\"/\">open the dashboard</a> to sign in.",
            html_escape(p.issuer())
        ),
        (None, Some(h)) => format!(
            "The proxy in front of the dashboard signs people in (its <code>{}</code> header): \
             open the dashboard through it.",
            html_escape(h.as_str())
        ),
        (None, None) => "Open the link that <code>s3-prune serve</code> printed at start-up (it \
                         ends in <code>?token=…</code>)."
            .into(),
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /logout`: a button that signs out by POST.
fn sign_out_page() -> Response {
    Html(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>s3-prune: sign out</title></head>\
         <body><h1>Sign out</h1><form method=\"post\" action=\"/logout\">\
         <button type=\"submit\">Sign out of s3-prune</button></form></body></html>",
    )
    .into_response()
}

fn unauthorized(auth: &Auth, msg: &str) -> Response {
    let msg = format!("{msg}</p><p>{}", how_to_sign_in(auth));
    page(StatusCode::UNAUTHORIZED, "Sign in to s3-prune", &msg)
}

impl Auth {
    pub fn new(cfg: AuthConfig) -> Self {
        Auth {
            cfg,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    fn host_allowed(&self, req: &Request) -> bool {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase);
        host.is_some_and(|h| self.cfg.allowed_hosts.contains(&h))
    }

    /// A live session's person, the session touched now (`Some(Ok)`); `Some(Err)` for an expired
    /// one, which is forgotten; `None` for none.
    fn session(&self, sid: &str) -> Option<Result<Person, ()>> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let s = sessions.get_mut(sid)?;
        if s.expired(now, &self.cfg) {
            sessions.remove(sid);
            return Some(Err(()));
        }
        s.last_seen = now;
        Some(Ok(s.person.clone()))
    }

    /// A new session for `person`; its id.
    pub(crate) fn sign_in(&self, person: Person, id_token: Option<String>) -> String {
        let sid = random_token();
        let now = Instant::now();
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        // Forget expired sessions so the map cannot grow without bound.
        sessions.retain(|_, s| !s.expired(now, &self.cfg));
        sessions.insert(
            sid.clone(),
            Session {
                created: now,
                last_seen: now,
                person,
                id_token,
            },
        );
        sid
    }

    /// Ends the session `sid`; the provider's ID token when it had one.
    fn sign_out(&self, sid: &str) -> Option<String> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.remove(sid).and_then(|s| s.id_token)
    }
}

impl Auth {
    /// Whether the person came over https: `--public-url https://…`, or a TLS-terminating proxy
    /// in front says so (`X-Forwarded-Proto: https`, `Forwarded: proto=https`). A client that
    /// claims it falsely only gets a cookie its own plain-http requests no longer carry.
    pub(crate) fn over_https(&self, req: &Request) -> bool {
        self.cfg.secure_cookies || forwarded_https(req)
    }

    /// The session cookie for session `sid` (`Secure` when people come over https).
    pub(crate) fn session_cookie(&self, sid: &str, secure: bool) -> HeaderValue {
        let name = cookie_name(secure);
        let secure = if secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{name}={sid}; HttpOnly; SameSite=Strict; Path=/{secure}"
        ))
        .expect("hex is a valid header value")
    }
}

/// `/logout`: a GET gets the button (a link on another site must not sign anyone out); the
/// same-origin POST ends the session, and the provider's too when it offers that.
fn sign_out(auth: &Auth, req: &Request) -> Response {
    if req.method() != Method::POST {
        return sign_out_page();
    }
    let name = cookie_name(auth.over_https(req));
    let id_token = cookie(req, name).and_then(|sid| auth.sign_out(sid));
    let provider_logout = id_token
        .zip(auth.cfg.oidc.as_ref())
        .and_then(|(t, p)| p.logout_url(&t));
    let mut res = match provider_logout {
        // A page that goes on by itself, not a 303: the dashboard's `form-action 'self'` would
        // stop a redirect of the sign-out form to another origin.
        Some(url) => {
            let url = url.replace('&', "&amp;").replace('"', "&quot;");
            Html(format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
                 <meta http-equiv=\"refresh\" content=\"0;url={url}\"><title>s3-prune: signed out</title></head>\
                 <body><p>You are signed out of s3-prune. <a href=\"{url}\">Sign out of the identity provider too</a>.</p></body></html>"
            ))
            .into_response()
        }
        // Behind a signing-in proxy the next visit is signed in again by it: said so.
        None if auth.cfg.trust_header.is_some() => page(
            StatusCode::OK,
            "Signed out",
            &format!(
                "Your s3-prune session has ended. {} Sign out of the proxy to leave.",
                how_to_sign_in(auth)
            ),
        ),
        None => page(
            StatusCode::OK,
            "Signed out",
            &format!("You are signed out of s3-prune. {}", how_to_sign_in(auth)),
        ),
    };
    let gone = match name {
        HOST_COOKIE => "__Host-s3p_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0; Secure",
        _ => "s3p_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
    };
    res.headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_static(gone));
    res
}

/// The proxy in front of the dashboard terminated TLS: its first `X-Forwarded-Proto`, or the
/// first `proto=` of `Forwarded`, is `https`.
fn forwarded_https(req: &Request) -> bool {
    let first = |name: header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(',')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
    };
    if first(header::HeaderName::from_static("x-forwarded-proto")).as_deref() == Some("https") {
        return true;
    }
    first(header::FORWARDED).is_some_and(|f| {
        f.split(';')
            .filter_map(|kv| kv.trim().split_once('='))
            .any(|(k, v)| k == "proto" && v.trim_matches('"') == "https")
    })
}

/// No session: the access token in the link signs in; with an identity provider, a page visit
/// goes to its login.
fn not_signed_in(auth: &Auth, req: &Request, expired: bool) -> Response {
    if let Some(p) = &auth.cfg.oidc {
        if req.method() == Method::GET {
            return crate::oidc::web::to_login(p, req, auth.over_https(req));
        }
        return unauthorized(auth, "You are not signed in: reload the page to sign in.");
    }
    match (query_token(req), &auth.cfg.token) {
        (Some(t), Some(token)) if req.method() == Method::GET && same(t, token) => {
            let sid = auth.sign_in(Person::token_holder(), None);
            let mut res = clean_redirect(req);
            res.headers_mut().insert(
                header::SET_COOKIE,
                auth.session_cookie(&sid, auth.over_https(req)),
            );
            res
        }
        (Some(_), _) => unauthorized(auth, "That access token is not valid."),
        (None, _) if expired => unauthorized(auth, "Your session has expired."),
        (None, _) => unauthorized(auth, "You are not signed in."),
    }
}

pub async fn guard(
    State(auth): State<Arc<Auth>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(refused) = refused_host_or_origin(&auth, &req) {
        return refused;
    }
    // The wasm, js and css hold no data: they load without a session. Only a plain file name
    // under /pkg/: `/pkg/x/../../?bucket=…` would otherwise reach the pages past the sign-in.
    let path = req.uri().path();
    let asset = path
        .strip_prefix("/pkg/")
        .is_some_and(|file| !file.contains('/') && !file.contains("..") && !file.contains('%'));
    if asset && matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    match (req.uri().path(), &auth.cfg.oidc) {
        ("/logout", _) => return sign_out(&auth, &req),
        ("/auth/callback", Some(p)) => {
            let answer = crate::oidc::web::Answer::of(&req, auth.over_https(&req));
            let session = |person, id_token, https| {
                let sid = auth.sign_in(person, Some(id_token));
                auth.session_cookie(&sid, https)
            };
            return crate::oidc::web::callback(p, answer, session).await;
        }
        _ => {}
    }
    match proxy_user(&auth, &req, peer) {
        Ok(Some(person)) => {
            req.extensions_mut().insert(User(person));
            return next.run(req).await;
        }
        Ok(None) => {}
        Err(NotTheProxy(why)) => return (StatusCode::FORBIDDEN, why).into_response(),
    }
    let name = cookie_name(auth.over_https(&req));
    let session = cookie(&req, name).and_then(|sid| auth.session(sid));
    match session {
        Some(Ok(person)) => {
            // Already signed in: a shared or bookmarked ?token= link leaves the address bar.
            if req.method() == Method::GET && query_token(&req).is_some() {
                return clean_redirect(&req);
            }
            req.extensions_mut().insert(User(person));
            next.run(req).await
        }
        Some(Err(())) => not_signed_in(&auth, &req, true),
        None => not_signed_in(&auth, &req, false),
    }
}

#[cfg(test)]
mod tests {
    use super::http::local_path;
    use super::*;

    #[test]
    fn helpers() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
        assert_eq!(
            without_token("token=x&bucket=b&retain=3"),
            "bucket=b&retain=3"
        );
        assert_eq!(without_token("token=x"), "");
        // A browser reads `//host/` as another site: the redirect never leaves this one.
        assert_eq!(local_path("//evil.example/"), "/evil.example/");
        assert_eq!(local_path("/\\evil.example/"), "/evil.example/");
        assert_eq!(local_path("/history"), "/history");
        assert_eq!(random_token().len(), 64);
        assert_ne!(random_token(), random_token());
    }

    #[test]
    fn default_hosts_name_the_listener() {
        let h = default_hosts("127.0.0.1:3000".parse().unwrap()).unwrap();
        assert_eq!(h, vec!["127.0.0.1:3000", "localhost:3000"]);
        assert_eq!(
            default_hosts("10.0.0.5:8080".parse().unwrap()).unwrap(),
            vec!["10.0.0.5:8080"]
        );
        assert!(default_hosts("0.0.0.0:3000".parse().unwrap())
            .unwrap_err()
            .contains("--allowed-host"));
    }
}
