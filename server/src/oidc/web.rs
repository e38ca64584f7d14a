//! The two steps of a sign-in the browser sees: a page visit without a session goes to the
//! provider's login (`to_login`), and the provider's answer at `/auth/callback` becomes a
//! session (`callback`). Any failure is a page that says what happened and offers a retry —
//! never a panic, never a half-signed-in browser.

use super::{OidcError, Provider};
use crate::auth::http::{cookie, local_path, page};
use app::wire::Person;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

/// The cookie that binds a sign-in to the browser that started it (login CSRF). `Lax`: it must
/// come along on the provider's top-level redirect back to us. Over https it is a `__Host-`
/// cookie (`Secure`, `Path=/`, no `Domain`), which the browser takes only from this very host:
/// before, a sibling subdomain could set its own sign-in's binding for the parent domain and
/// send the person to that sign-in's callback, which then signed them in as someone else.
const BINDING: &str = "s3p_oidc";
const HOST_BINDING: &str = "__Host-s3p_oidc";

/// The binding cookie's name and path for people who come over https (`secure`) or not.
fn binding_place(secure: bool) -> (&'static str, &'static str) {
    if secure {
        (HOST_BINDING, "/")
    } else {
        (BINDING, "/auth/callback")
    }
}

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
    let (name, path) = binding_place(secure);
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={binding}; HttpOnly; SameSite=Lax; Path={path}; Max-Age=600{secure}")
}

/// The binding cookie removed, once the sign-in is done or failed.
fn binding_cleared(secure: bool) -> HeaderValue {
    let (name, path) = binding_place(secure);
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}=; HttpOnly; SameSite=Lax; Path={path}; Max-Age=0{secure}"
    ))
    .expect("a cookie header")
}

/// The sign-in's binding a request carries: over https only the `__Host-` cookie, which no
/// other host can have set.
fn binding_of(req: &Request, https: bool) -> Option<String> {
    cookie(req, binding_place(https).0).map(str::to_string)
}

/// What `callback` reads of the request (taken before any await: a request body is not `Sync`).
pub struct Answer {
    query: String,
    binding: Option<String>,
    /// The person came over https (the session cookie is then `Secure`).
    https: bool,
}

impl Answer {
    /// What `req` carries; `https`: the person came over https.
    pub fn of(req: &Request, https: bool) -> Self {
        Answer {
            query: req.uri().query().unwrap_or("").to_string(),
            binding: binding_of(req, https),
            https,
        }
    }
}

/// `GET /auth/callback?code=…&state=…`: the ID token checked, a session for the person
/// (`session` makes it from the person, their ID token and whether they came over https, and
/// answers its cookie), and on to where they were going.
pub async fn callback(
    provider: &Provider,
    answer: Answer,
    session: impl FnOnce(Person, String, bool) -> HeaderValue,
) -> Response {
    let query = answer.query.as_str();
    let param = |name: &str| {
        query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == name).then(|| percent_decode(v))
        })
    };
    if let Some(error) = param("error") {
        let why = param("error_description").unwrap_or(error);
        return failed(&OidcError::Provider(why), provider, answer.https);
    }
    let (Some(code), Some(state)) = (param("code"), param("state")) else {
        return failed(&OidcError::UnknownState, provider, answer.https);
    };
    match provider
        .finish(&code, &state, answer.binding.as_deref())
        .await
    {
        Ok(done) => {
            let session_cookie = session(done.person, done.id_token, answer.https);
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
            headers.append(header::SET_COOKIE, session_cookie);
            headers.append(header::SET_COOKIE, binding_cleared(answer.https));
            res
        }
        Err(e) => failed(&e, provider, answer.https),
    }
}

/// The error page: what went wrong, and a link that starts a new sign-in.
fn failed(e: &OidcError, provider: &Provider, https: bool) -> Response {
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
    res.headers_mut()
        .insert(header::SET_COOKIE, binding_cleared(https));
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

    /// Over https the binding is a `__Host-` cookie (the browser takes it only from this host,
    /// with `Path=/` and no `Domain`), and a plain `s3p_oidc` cookie — one a sibling subdomain
    /// can set for the parent domain — binds nothing: a sign-in of someone else's cannot be
    /// finished in this browser.
    #[test]
    fn over_https_only_a_binding_this_host_set_binds_a_sign_in() {
        let set = binding_cookie("b1", true);
        assert!(
            set.starts_with("__Host-s3p_oidc=b1;") && set.contains("; Path=/;"),
            "{set}"
        );
        assert!(!set.contains("Domain"), "{set}");
        let cleared = binding_cleared(true);
        assert!(
            cleared.to_str().unwrap().starts_with("__Host-s3p_oidc=; ")
                && cleared.to_str().unwrap().contains("; Path=/;"),
            "{cleared:?}"
        );
        let with = |cookies: &str| {
            axum::http::Request::builder()
                .uri("/auth/callback?code=c&state=s")
                .header(header::COOKIE, cookies)
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let planted = with("s3p_oidc=theirs");
        assert_eq!(binding_of(&planted, true), None, "planted by a sibling");
        assert_eq!(binding_of(&planted, false).as_deref(), Some("theirs"));
        let own = with("s3p_oidc=theirs; __Host-s3p_oidc=mine");
        assert_eq!(binding_of(&own, true).as_deref(), Some("mine"));
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
