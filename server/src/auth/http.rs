//! Small HTTP pieces the sign-in and its OpenID steps share, with no state of their own: a
//! request's cookie, a path kept on this host, a page of one message.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

/// The value of cookie `name` the request carries, if any.
pub(crate) fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// This site's path for a request path: one leading `/`, so `//evil.example/` (which a
/// browser reads as another host) stays on this host as `/evil.example/`.
pub(crate) fn local_path(path: &str) -> String {
    format!("/{}", path.trim_start_matches(['/', '\\']))
}

/// A page of one message (`msg`, HTML) under `title`.
pub(crate) fn page(status: StatusCode, title: &str, msg: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>s3-prune: {title}</title></head>\
         <body><h1>{title}</h1><p>{msg}</p></body></html>"
    );
    (status, Html(body)).into_response()
}
