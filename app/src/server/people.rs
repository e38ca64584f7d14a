//! Who acts: the signed-in person of a request as the auth layer recorded it, the name the
//! records carry, and the role checks every server function makes before it changes anything.

use super::state;
use leptos::prelude::*;

/// Who acts, as the records name them: the person, and how they signed in.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub via: Option<String>,
    /// Their account for good ([`crate::wire::Person::account`]), when their sign-in gives one.
    pub account: Option<String>,
}

impl From<&str> for Actor {
    fn from(name: &str) -> Self {
        Actor {
            name: name.to_string(),
            via: None,
            account: None,
        }
    }
}

impl From<&crate::wire::Person> for Actor {
    fn from(p: &crate::wire::Person) -> Self {
        Actor {
            name: p.name.clone(),
            via: Some(p.via.clone()),
            account: (!p.account.is_empty()).then(|| p.account.clone()),
        }
    }
}

impl Actor {
    /// How they decide an approval request: the token names nobody.
    pub fn decider(&self) -> prune::approval::Decider<'_> {
        prune::approval::Decider {
            name: &self.name,
            account: self.account.as_deref(),
            by_token: self.via.as_deref() == Some(crate::wire::VIA_TOKEN),
        }
    }
}

/// Who is signed in, as the server's auth layer recorded it on the request.
#[derive(Debug, Clone)]
pub struct User(pub crate::wire::Person);

/// The signed-in person of this request; `None` when the auth layer recorded nobody.
pub async fn signed_in() -> Option<crate::wire::Person> {
    leptos_axum::extract::<axum::Extension<User>>()
        .await
        .ok()
        .map(|axum::Extension(User(p))| p)
}

/// The name the records carry for this request's person.
pub async fn current_user() -> String {
    signed_in()
        .await
        .map_or_else(|| "unknown".into(), |p| p.name)
}

/// This request's person if their role on bucket `bucket` (a `--bucket` key or name; `None`:
/// the first) is at least `role`; otherwise the request is refused (401, 403).
pub async fn require_in(
    bucket: Option<&str>,
    role: crate::wire::Role,
) -> Result<crate::wire::Person, ServerFnError> {
    let p = require(crate::wire::Role::Viewer).await?;
    let key = state()?
        .choice(bucket)
        .map(|c| c.key.clone())
        .map_err(|e| ServerFnError::new(e.0))?;
    if p.role_in(&key) >= role {
        return Ok(p);
    }
    if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
        r.set_status(axum::http::StatusCode::FORBIDDEN);
    }
    tracing::warn!(who = %p.name, bucket = %key, needs = role.name(), "refused a request the role does not allow on this bucket");
    Err(ServerFnError::new(format!(
        "{} signed in as {} on {key}: this needs the {} role there (an admin maps your group to it in [serve.roles])",
        p.name,
        p.role_in(&key).name(),
        role.name()
    )))
}

/// This request's person if their role is at least `role`; otherwise the request is refused
/// (401 nobody signed in, 403 a role too small), whatever the page showed.
pub async fn require(role: crate::wire::Role) -> Result<crate::wire::Person, ServerFnError> {
    use axum::http::StatusCode;
    let refuse = |status: StatusCode, msg: String| {
        if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
            r.set_status(status);
        }
        Err(ServerFnError::new(msg))
    };
    match signed_in().await {
        None => refuse(StatusCode::UNAUTHORIZED, "not signed in".into()),
        Some(p) if p.role < role => {
            tracing::warn!(who = %p.name, role = p.role.name(), needs = role.name(), "refused a request the role does not allow");
            refuse(
                StatusCode::FORBIDDEN,
                format!(
                    "{} signed in as {}: this needs the {} role (an admin maps your group to it in [serve.roles])",
                    p.name,
                    p.role.name(),
                    role.name()
                ),
            )
        }
        Some(p) => Ok(p),
    }
}
