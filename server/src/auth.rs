//! Who may use the dashboard. By default a random access token is printed at start-up (as
//! Jupyter does) and exchanged once for an HttpOnly, SameSite=Strict session cookie; sessions
//! end after an idle time and a maximum age, or at `/logout`. Optionally an authenticating
//! reverse proxy's user header is trusted — only from the proxy's own address. Every request
//! must name an allowed Host (DNS rebinding), and every state-changing request must come from
//! the page's own origin (CSRF).

use app::server::User;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const COOKIE: &str = "s3p_session";

/// How `serve` was told to authenticate.
pub struct AuthConfig {
    pub token: String,
    pub trust_header: Option<HeaderName>,
    /// Peers whose `trust_header` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// `Host` values accepted, lower case.
    pub allowed_hosts: Vec<String>,
    pub session_idle: Duration,
    pub session_max: Duration,
}

struct Session {
    created: Instant,
    last_seen: Instant,
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

/// Compares without leaking where the first difference is.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn query_token(req: &Request) -> Option<&str> {
    req.uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("token=")))
}

/// The query without `token=…`, so the token does not stay in the address bar or history.
fn without_token(query: &str) -> String {
    query
        .split('&')
        .filter(|kv| !kv.starts_with("token=") && !kv.is_empty())
        .collect::<Vec<_>>()
        .join("&")
}

/// This site's path for a request path: one leading `/`, so `//evil.example/` (which a
/// browser reads as another host) stays on this host as `/evil.example/`.
fn local_path(path: &str) -> String {
    format!("/{}", path.trim_start_matches(['/', '\\']))
}

/// A 303 to this request's path and query without the token, on this host.
fn clean_redirect(req: &Request) -> Response {
    let rest = without_token(req.uri().query().unwrap_or(""));
    let path = local_path(req.uri().path());
    let location = if rest.is_empty() {
        path
    } else {
        format!("{path}?{rest}")
    };
    let mut res = StatusCode::SEE_OTHER.into_response();
    res.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&location).unwrap_or(HeaderValue::from_static("/")),
    );
    res
}

fn page(status: StatusCode, title: &str, msg: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>s3-prune: {title}</title></head>\
         <body><h1>{title}</h1><p>{msg}</p><p>Open the link that <code>s3-prune serve</code> \
         printed at start-up (it ends in <code>?token=…</code>).</p></body></html>"
    );
    (status, Html(body)).into_response()
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

fn unauthorized(msg: &str) -> Response {
    page(StatusCode::UNAUTHORIZED, "Sign in to s3-prune", msg)
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

    /// A live session: touched now. An expired one is forgotten.
    fn session_alive(&self, sid: &str) -> Option<bool> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let s = sessions.get_mut(sid)?;
        if s.expired(now, &self.cfg) {
            sessions.remove(sid);
            return Some(false);
        }
        s.last_seen = now;
        Some(true)
    }

    fn sign_in(&self) -> String {
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
            },
        );
        sid
    }
}

pub async fn guard(
    State(auth): State<Arc<Auth>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    // DNS rebinding: a page of another site resolving its name to us names its own Host.
    if !auth.host_allowed(&req) {
        tracing::warn!(host = ?req.headers().get(header::HOST), "refused a request for a host not allowed");
        return (
            StatusCode::MISDIRECTED_REQUEST,
            "this Host is not one the dashboard serves: add it with --allowed-host",
        )
            .into_response();
    }
    // The wasm, js and css hold no data: they load without a session.
    if req.uri().path().starts_with("/pkg/") && matches!(*req.method(), Method::GET | Method::HEAD)
    {
        return next.run(req).await;
    }
    // CSRF: anything that is not a read must come from this very origin.
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok());
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok());
        let ok = match (origin, host) {
            (Some(o), Some(h)) => o == format!("http://{h}") || o == format!("https://{h}"),
            _ => false,
        };
        if !ok {
            tracing::warn!(path = %req.uri().path(), "refused a cross-origin or origin-less request");
            return (StatusCode::FORBIDDEN, "cross-origin request refused").into_response();
        }
    }
    if req.uri().path() == "/logout" && req.method() == Method::GET {
        // Signing out changes state: only a POST from this origin does it (a link on another
        // site must not). A GET gets the button.
        return sign_out_page();
    }
    if req.uri().path() == "/logout" && req.method() == Method::POST {
        if let Some(sid) = cookie(&req, COOKIE) {
            auth.sessions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(sid);
        }
        let mut res = page(
            StatusCode::OK,
            "Signed out",
            "You are signed out of s3-prune.",
        );
        res.headers_mut().insert(
            header::SET_COOKIE,
            HeaderValue::from_static("s3p_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
        );
        return res;
    }
    if let Some(h) = &auth.cfg.trust_header {
        if let Some(user) = req
            .headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .filter(|u| !u.is_empty())
        {
            if !auth.cfg.trusted_proxies.contains(&peer.ip()) {
                tracing::warn!(%peer, "refused a user header from a peer that is not a trusted proxy");
                return (
                    StatusCode::FORBIDDEN,
                    "the user header is only accepted from the trusted proxy",
                )
                    .into_response();
            }
            let user = User(user.to_string());
            req.extensions_mut().insert(user);
            return next.run(req).await;
        }
    }
    let mut expired = false;
    if let Some(sid) = cookie(&req, COOKIE) {
        match auth.session_alive(sid) {
            Some(true) => {
                // Already signed in: a shared or bookmarked ?token= link leaves the address bar.
                if req.method() == Method::GET && query_token(&req).is_some() {
                    return clean_redirect(&req);
                }
                req.extensions_mut().insert(User("token".into()));
                return next.run(req).await;
            }
            Some(false) => expired = true,
            None => {}
        }
    }
    match query_token(&req) {
        Some(t) if req.method() == Method::GET && same(t, &auth.cfg.token) => {
            let sid = auth.sign_in();
            let mut res = clean_redirect(&req);
            res.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_str(&format!(
                    "{COOKIE}={sid}; HttpOnly; SameSite=Strict; Path=/"
                ))
                .expect("hex is a valid header value"),
            );
            res
        }
        Some(_) => unauthorized("That access token is not valid."),
        None if expired => unauthorized("Your session has expired."),
        None => unauthorized("You are not signed in."),
    }
}

#[cfg(test)]
mod tests {
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
