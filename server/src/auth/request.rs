//! What a request says about itself: the access token in its query, its cookies, the trusted
//! proxy's user header, its Host and Origin — read and checked here; what follows from them
//! (sessions, sign-in) is `super`'s.

use super::http::local_path;
use super::Auth;
use app::wire::Person;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// Compares two secrets in time that does not depend on where they differ.
pub(super) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

pub(super) fn query_token(req: &Request) -> Option<&str> {
    req.uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("token=")))
}

/// The query without `token=…`, so the token does not stay in the address bar or history.
pub(super) fn without_token(query: &str) -> String {
    query
        .split('&')
        .filter(|kv| !kv.starts_with("token=") && !kv.is_empty())
        .collect::<Vec<_>>()
        .join("&")
}

/// A 303 to this request's path and query without the token, on this host.
pub(super) fn clean_redirect(req: &Request) -> Response {
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

/// DNS rebinding and CSRF: a request for a Host not allowed, or a state-changing request from
/// another origin, is refused.
pub(super) fn refused_host_or_origin(auth: &Auth, req: &Request) -> Option<Response> {
    // DNS rebinding: a page of another site resolving its name to us names its own Host.
    if !auth.host_allowed(req) {
        tracing::warn!(host = ?req.headers().get(header::HOST), "refused a request for a host not allowed");
        return Some(
            (
                StatusCode::MISDIRECTED_REQUEST,
                "this Host is not one the dashboard serves: add it with --allowed-host",
            )
                .into_response(),
        );
    }
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return None;
    }
    // CSRF: anything that is not a read must come from this very origin — over https, from its
    // https origin only (a page on plain http of the same name, served by someone on the path,
    // is another origin; browsers without schemeful same-site would send it the cookie).
    let header = |h| req.headers().get(h).and_then(|v| v.to_str().ok());
    let https = auth.over_https(req);
    let ok = match (header(header::ORIGIN), header(header::HOST)) {
        (Some(o), Some(h)) => o == format!("https://{h}") || (!https && o == format!("http://{h}")),
        _ => false,
    };
    if ok {
        return None;
    }
    tracing::warn!(path = %req.uri().path(), "refused a cross-origin or origin-less request");
    Some((StatusCode::FORBIDDEN, "cross-origin request refused").into_response())
}

/// A user header that is not believed, and why (the answer's text).
pub(super) struct NotTheProxy(pub(super) &'static str);

/// The trusted proxy's user, when the request carries the header: `Err` when it comes from
/// another peer, or twice.
pub(super) fn proxy_user(
    auth: &Auth,
    req: &Request,
    peer: SocketAddr,
) -> Result<Option<Person>, NotTheProxy> {
    let Some(h) = &auth.cfg.trust_header else {
        return Ok(None);
    };
    let Some(user) = req
        .headers()
        .get(h)
        // UTF-8, not only visible ASCII: a proxy passes "jörg" as its bytes (before, such a
        // person was refused as not signed in).
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
        .filter(|u| !u.is_empty())
    else {
        return Ok(None);
    };
    if !auth.cfg.trusted_proxies.contains(&peer.ip()) {
        tracing::warn!(%peer, "refused a user header from a peer that is not a trusted proxy");
        return Err(NotTheProxy(
            "the user header is only accepted from the trusted proxy",
        ));
    }
    // Two copies: a proxy that added its own beside the client's instead of replacing it.
    // Which one is the proxy's cannot be told, so neither is believed.
    if req.headers().get_all(h).iter().count() > 1 {
        tracing::warn!(%peer, header = %h, "refused a request carrying the user header twice");
        return Err(NotTheProxy(
            "the user header came twice: the proxy must replace a client's copy, not add its own",
        ));
    }
    Ok(Some(Person {
        name: user.to_string(),
        via: "proxy".into(),
        role: app::wire::Role::Admin,
        bucket_roles: Default::default(),
        account: String::new(),
    }))
}
