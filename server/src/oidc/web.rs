//! The two steps of a sign-in the browser sees: a page visit without a session goes to the
//! provider's login (`to_login`), and the provider's answer at `/auth/callback` becomes a
//! session (`callback`). Any failure is a page that says what happened and offers a retry —
//! never a panic, never a half-signed-in browser.

use super::{OidcError, Provider};
use crate::auth::{cookie, local_path, page, Auth};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

/// The cookie that binds a sign-in to the browser that started it (login CSRF). `Lax`: it must
/// come along on the provider's top-level redirect back to us.
const BINDING: &str = "s3p_oidc";

/// A 303 to the provider's login page; the binding cookie set (`Secure` when people come over
/// https, as the session cookie).
pub fn to_login(provider: &Provider, req: &Request, secure: bool) -> Response {
    let path = local_path(req.uri().path());
    let return_to = match req.uri().query() {
        Some(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path,
    };
    let (url, binding) = provider.begin(&return_to);
    let mut res = StatusCode::SEE_OTHER.into_response();
    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&url) {
        headers.insert(header::LOCATION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&binding_cookie(&binding, secure)) {
        headers.insert(header::SET_COOKIE, v);
    }
    res
}

/// The binding cookie for sign-in `binding`.
fn binding_cookie(binding: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{BINDING}={binding}; HttpOnly; SameSite=Lax; Path=/auth/callback; Max-Age=600{secure}")
}

/// What `callback` reads of the request (taken before any await: a request body is not `Sync`).
pub struct Answer {
    query: String,
    binding: Option<String>,
    /// The person came over https (the session cookie is then `Secure`).
    https: bool,
}

impl Answer {
    pub fn of(req: &Request, auth: &Auth) -> Self {
        Answer {
            query: req.uri().query().unwrap_or("").to_string(),
            binding: cookie(req, BINDING).map(str::to_string),
            https: auth.over_https(req),
        }
    }
}

/// `GET /auth/callback?code=…&state=…`: the ID token checked, a session for the person, and on
/// to where they were going.
pub async fn callback(auth: &Auth, provider: &Provider, answer: Answer) -> Response {
    let query = answer.query.as_str();
    let param = |name: &str| {
        query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == name).then(|| percent_decode(v))
        })
    };
    if let Some(error) = param("error") {
        let why = param("error_description").unwrap_or(error);
        return failed(&OidcError::Provider(why), provider);
    }
    let (Some(code), Some(state)) = (param("code"), param("state")) else {
        return failed(&OidcError::UnknownState, provider);
    };
    match provider
        .finish(&code, &state, answer.binding.as_deref())
        .await
    {
        Ok(done) => {
            let sid = auth.sign_in(done.person, Some(done.id_token));
            // A page that moves on by itself: the session cookie is SameSite=Strict, and a
            // redirect chain that began on the provider's site would not carry it.
            let to = html_escape(&done.return_to);
            let mut res = Html(format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
                 <meta http-equiv=\"refresh\" content=\"0;url={to}\"><title>s3-prune: signed in</title></head>\
                 <body><p>Signed in. <a href=\"{to}\">Continue to s3-prune</a>.</p></body></html>"
            ))
            .into_response();
            let headers = res.headers_mut();
            headers.append(header::SET_COOKIE, auth.session_cookie(&sid, answer.https));
            headers.append(
                header::SET_COOKIE,
                HeaderValue::from_static(
                    "s3p_oidc=; HttpOnly; SameSite=Lax; Path=/auth/callback; Max-Age=0",
                ),
            );
            res
        }
        Err(e) => failed(&e, provider),
    }
}

/// The error page: what went wrong, and a link that starts a new sign-in.
fn failed(e: &OidcError, provider: &Provider) -> Response {
    tracing::warn!(issuer = provider.issuer(), error = %e, "sign-in failed");
    let status = if e.is_upstream() {
        StatusCode::BAD_GATEWAY
    } else {
        StatusCode::UNAUTHORIZED
    };
    let mut res = page(
        status,
        "Sign-in failed",
        &format!(
            "{} <a href=\"/\">Try again</a>.",
            html_escape(&e.to_string())
        ),
    );
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "s3p_oidc=; HttpOnly; SameSite=Lax; Path=/auth/callback; Max-Age=0",
        ),
    );
    res
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `%XX` and `+` in a query value.
fn percent_decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(x) => {
                        out.push(x);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binding_cookie_is_secure_when_people_come_over_https() {
        assert!(binding_cookie("b1", true).ends_with("; Secure"));
        assert!(!binding_cookie("b1", false).contains("Secure"));
        assert!(binding_cookie("b1", false).starts_with("s3p_oidc=b1; HttpOnly"));
    }

    #[test]
    fn query_values_are_decoded_and_markup_is_escaped() {
        assert_eq!(percent_decode("a%20b+c%2F"), "a b c/");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%é"), "%é");
        assert_eq!(
            html_escape("<a href=\"x\">&"),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
    }
}
