//! How people sign in to the dashboard: the hosts it answers to, the team's identity provider
//! (`--oidc-*`, `--role`) or else the access token, and a trusted proxy's user header.

use super::settings::served_keys;
use crate::args::ServeArgs;
use crate::auth::{self, Auth, AuthConfig};
use crate::oidc::roles::Roles;
use crate::oidc::{OidcSettings, Provider};
use anyhow::{Context, Result};
use axum::http::HeaderName;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Everything [`Auth`] checks a request against.
pub(super) struct SignIn {
    /// The team's identity provider; with one, there is no token.
    pub oidc: Option<Arc<Provider>>,
    pub token: Option<Token>,
    /// `--trust-user-header`.
    pub trust: Option<HeaderName>,
    /// `Host` values accepted, lower case.
    pub allowed_hosts: Vec<String>,
}

impl SignIn {
    /// The request guard's state, with the session limits of the arguments.
    pub fn auth(&self, args: &ServeArgs) -> Arc<Auth> {
        Arc::new(Auth::new(AuthConfig {
            token: self.token.as_ref().map(|t| t.value.clone()),
            oidc: self.oidc.clone(),
            trust_header: self.trust.clone(),
            trusted_proxies: args.trusted_proxies.clone(),
            allowed_hosts: self.allowed_hosts.clone(),
            session_idle: Duration::from_secs(args.session_idle.as_secs()),
            session_max: Duration::from_secs(args.session_max.as_secs()),
            secure_cookies: args
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://")),
        }))
    }
}

/// The access token, and whether it was made up now (then it is printed, once).
pub(super) struct Token {
    pub value: String,
    pub generated: bool,
}

/// `--trust-user-header`, checked as a header name.
pub(super) fn trusted_header(args: &ServeArgs) -> Result<Option<HeaderName>> {
    args.trust_user_header
        .as_deref()
        .map(HeaderName::try_from)
        .transpose()
        .context("--trust-user-header is not a valid header name")
}

/// `--allowed-hosts`, else the names of the address listened on.
pub(super) fn allowed_hosts(args: &ServeArgs, addr: SocketAddr) -> Result<Vec<String>> {
    if args.allowed_hosts.is_empty() {
        return auth::default_hosts(addr).map_err(anyhow::Error::msg);
    }
    Ok(args
        .allowed_hosts
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect())
}

/// The dashboard's address as people reach it: --public-url, else the first allowed host.
pub(super) fn home_url(args: &ServeArgs, allowed_hosts: &[String]) -> String {
    match &args.public_url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => format!(
            "http://{}",
            allowed_hosts.first().map_or("localhost", |h| h)
        ),
    }
}

/// The access token unless the team signs in through its identity provider or an
/// authenticating proxy (`team`): beside them it would be a way in past their sign-in, as an
/// admin, for anyone who reaches the port and reads the log it is printed to.
pub(super) fn token_unless_team(args: &ServeArgs, team: bool) -> Result<Option<Token>> {
    if team {
        return Ok(None);
    }
    access_token(args).map(Some)
}

/// The access token: from --token-file, else S3_PRUNE_TOKEN, else a new one (`generated`).
fn access_token(args: &ServeArgs) -> Result<Token> {
    let (value, generated) = match (&args.token_file, std::env::var("S3_PRUNE_TOKEN")) {
        (Some(path), _) => {
            let t = std::fs::read_to_string(path)
                .with_context(|| format!("reading --token-file {}", path.display()))?;
            (t.trim().to_string(), false)
        }
        (None, Ok(t)) if !t.trim().is_empty() => (t.trim().to_string(), false),
        _ => (auth::random_token(), true),
    };
    if value.len() < 16 {
        anyhow::bail!("the access token must be at least 16 characters");
    }
    Ok(Token { value, generated })
}

/// `--oidc-issuer`: the provider discovered (or a clear error naming it), the roles mapped.
pub(super) async fn team_sign_in(
    args: &ServeArgs,
    allowed_hosts: &[String],
) -> Result<Option<Arc<Provider>>> {
    let (Some(issuer), Some(client_id), Some(secret_file)) = (
        &args.oidc_issuer,
        &args.oidc_client_id,
        &args.oidc_client_secret_file,
    ) else {
        return Ok(None);
    };
    let client_secret = std::fs::read_to_string(secret_file)
        .with_context(|| {
            format!(
                "reading --oidc-client-secret-file {}",
                secret_file.display()
            )
        })?
        .trim()
        .to_string();
    let home = home_url(args, allowed_hosts);
    let settings = OidcSettings {
        issuer: issuer.clone(),
        client_id: client_id.clone(),
        client_secret,
        redirect: format!("{home}/auth/callback"),
        home,
        groups_claim: args.oidc_groups_claim.clone(),
        roles: roles(args, &served_keys(args))?,
    };
    let provider = Provider::discover(settings).await?;
    Ok(Some(Arc::new(provider)))
}

/// `--role ROLE=GROUP[@BUCKET]`: the groups of each role, for all buckets or one served one.
fn roles(args: &ServeArgs, served: &[String]) -> Result<Roles> {
    let mut roles = Roles::default();
    for r in &args.roles {
        // A viewer sees every bucket: "viewer on site-a" would let the group read all of them.
        if let (Some(b), app::wire::Role::Viewer) = (&r.bucket, r.role) {
            anyhow::bail!(
                "--role viewer={}@{b}: a viewer sees every bucket, so a viewer role on one bucket would let the group read all of them; give viewer=GROUP (every bucket), or deployer/admin on {b}",
                r.group
            );
        }
        let map = match &r.bucket {
            None => &mut roles.all,
            Some(b) if served.contains(b) => roles.buckets.entry(b.clone()).or_default(),
            Some(b) => anyhow::bail!(
                "--role {}={}@{b}: no --bucket {b} is served; name it as given to --bucket (NAME or NAME/PREFIX)",
                r.role.name(),
                r.group
            ),
        };
        let list = match r.role {
            app::wire::Role::Viewer => &mut map.viewer,
            app::wire::Role::Deployer => &mut map.deployer,
            app::wire::Role::Admin => &mut map.admin,
        };
        list.push(r.group.clone());
    }
    Ok(roles)
}
