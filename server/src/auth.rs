//! Who may use the dashboard. By default a random access token is printed at start-up (as
//! Jupyter does) and exchanged once for an HttpOnly, SameSite=Strict session cookie. Optionally
//! an authenticating reverse proxy's user header is trusted. Every state-changing request must
//! come from the page's own origin (CSRF).

use app::server::User;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

const COOKIE: &str = "s3p_session";

pub struct Auth {
    token: String,
    sessions: Mutex<HashSet<String>>,
    trust_header: Option<HeaderName>,
}

/// 32 random bytes from the OS, hex-encoded.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the OS random source works");
    b.iter().map(|x| format!("{x:02x}")).collect()
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

/// The query without `token=…`, so the token does not stay in the address bar or history.
fn without_token(query: &str) -> String {
    query
        .split('&')
        .filter(|kv| !kv.starts_with("token=") && !kv.is_empty())
        .collect::<Vec<_>>()
        .join("&")
}

fn unauthorized(msg: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>s3-prune: sign in</title></head>\
         <body><h1>Sign in to s3-prune</h1><p>{msg}</p><p>Open the link that <code>s3-prune serve</code> \
         printed at start-up (it ends in <code>?token=…</code>).</p></body></html>"
    );
    (StatusCode::UNAUTHORIZED, Html(body)).into_response()
}

impl Auth {
    pub fn new(token: String, trust_header: Option<HeaderName>) -> Self {
        Auth {
            token,
            sessions: Mutex::new(HashSet::new()),
            trust_header,
        }
    }
}

pub async fn guard(State(auth): State<Arc<Auth>>, mut req: Request, next: Next) -> Response {
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
    if let Some(h) = &auth.trust_header {
        if let Some(user) = req
            .headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .filter(|u| !u.is_empty())
        {
            let user = User(user.to_string());
            req.extensions_mut().insert(user);
            return next.run(req).await;
        }
    }
    if let Some(sid) = cookie(&req, COOKIE) {
        if auth.sessions.lock().unwrap().contains(sid) {
            req.extensions_mut().insert(User("token".into()));
            return next.run(req).await;
        }
    }
    let token = req
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("token=")));
    match token {
        Some(t) if req.method() == Method::GET && same(t, &auth.token) => {
            let sid = random_token();
            auth.sessions.lock().unwrap().insert(sid.clone());
            let rest = without_token(req.uri().query().unwrap_or(""));
            let location = if rest.is_empty() {
                req.uri().path().to_string()
            } else {
                format!("{}?{rest}", req.uri().path())
            };
            let mut res = StatusCode::SEE_OTHER.into_response();
            let h = res.headers_mut();
            h.insert(
                header::LOCATION,
                HeaderValue::from_str(&location).unwrap_or(HeaderValue::from_static("/")),
            );
            h.insert(
                header::SET_COOKIE,
                HeaderValue::from_str(&format!(
                    "{COOKIE}={sid}; HttpOnly; SameSite=Strict; Path=/"
                ))
                .expect("hex is a valid header value"),
            );
            res
        }
        Some(_) => unauthorized("That access token is not valid."),
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
        assert_eq!(random_token().len(), 64);
        assert_ne!(random_token(), random_token());
    }
}
