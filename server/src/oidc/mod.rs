//! Team sign-in through the company's OpenID Connect provider (Okta, Entra ID, Google,
//! Keycloak, Dex…): the authorization code flow with PKCE. At start the provider is discovered
//! (its endpoints and keys), and again when an ID token is signed by a key not among them (the
//! provider rotated its keys; at most every 10 s); a visitor without a session is sent to its
//! login page with a one-time `state`, `nonce` and PKCE challenge, kept in their browser in a
//! sealed cookie ([`pending`]); the answer at `/auth/callback` is exchanged for an ID token whose signature, issuer,
//! audience, expiry and nonce are checked by `openidconnect`. The person is the token's `email`
//! (unless the provider says it is not verified), else `preferred_username`, else `sub`; their
//! role comes from the groups claim (`roles`).

mod http;
mod pending;
pub mod roles;
pub mod web;

use app::wire::Person;
use http::Http;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreIdToken};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, LogoutRequest, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout,
    RedirectUrl, Scope, SignatureVerificationError, TokenResponse,
};
use pending::{Pending, Sealer};
use roles::Roles;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
/// The provider's keys are read again (an ID token signed by a key not known here: the
/// provider rotated its keys) at most this often, so a flood of such tokens costs the provider
/// one discovery a period.
const KEYS_READ_AT_MOST_EVERY: Duration = Duration::from_secs(10);

/// What `serve --oidc-*` (or `[serve.oidc]`) configures.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Where the provider sends people back: this dashboard's `/auth/callback`.
    pub redirect: String,
    /// The dashboard's own address, where a sign-out returns.
    pub home: String,
    /// The ID token claim that lists the person's groups.
    pub groups_claim: String,
    pub roles: Roles,
}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the OpenID provider at {issuer} could not be reached or read ({detail}): check --oidc-issuer and that the provider is up")]
    Discovery { issuer: String, detail: String },
    #[error("{0}")]
    Config(String),
    #[error("this sign-in is unknown or too old (it may have been used already): sign in again")]
    UnknownState,
    #[error("the identity provider refused the sign-in: {0}")]
    Provider(String),
    #[error("the identity provider's ID token was refused: {0}")]
    BadToken(String),
    #[error("the identity provider's ID token was refused: it is signed by a key the provider does not publish (its keys were read again): sign in again, or check --oidc-issuer")]
    UnknownKey,
    #[error("{0} is in no group this dashboard lets in (its [serve.roles] name viewer, deployer and admin groups): ask whoever runs it to add one of your groups")]
    NotLetIn(String),
}

impl OidcError {
    /// A fault on the provider's side (worth a retry) rather than in what the browser sent.
    pub fn is_upstream(&self) -> bool {
        matches!(self, OidcError::Discovery { .. } | OidcError::Provider(_))
    }
}

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A finished sign-in.
pub struct SignedIn {
    pub person: Person,
    pub id_token: String,
    /// Where the person was going (a path on this site).
    pub return_to: String,
}

/// The provider this dashboard signs people in with.
pub struct Provider {
    settings: OidcSettings,
    /// Its endpoints and keys as last discovered (again when a token names a key not in them).
    client: RwLock<Arc<Client>>,
    /// When its keys were last read again, if they were; held while they are read, so sign-ins
    /// that meet the same new key wait for that one reading.
    keys_read: tokio::sync::Mutex<Option<Instant>>,
    http: Http,
    end_session: Option<openidconnect::EndSessionUrl>,
    /// Seals the sign-ins in progress into their browsers' binding cookies.
    sealer: Sealer,
}

impl Provider {
    /// Discovers the provider (endpoints, keys) or says which issuer could not be reached.
    pub async fn discover(settings: OidcSettings) -> Result<Provider, OidcError> {
        let discovery = |detail: String| OidcError::Discovery {
            issuer: settings.issuer.clone(),
            detail,
        };
        let http = Http::new().map_err(|e| discovery(e.to_string()))?;
        let (client, end_session) = discover_client(&settings, &http).await?;
        Ok(Provider {
            settings,
            client: RwLock::new(Arc::new(client)),
            keys_read: tokio::sync::Mutex::new(None),
            http,
            end_session,
            sealer: Sealer::new(),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    fn client(&self) -> Arc<Client> {
        self.client
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The provider as it is now, after `used` did not know a token's key: read again unless
    /// another sign-in did so meanwhile (then that reading) or within
    /// [`KEYS_READ_AT_MOST_EVERY`] (then as it stands).
    async fn keys_again(&self, used: &Arc<Client>) -> Result<Arc<Client>, OidcError> {
        let mut last = self.keys_read.lock().await;
        let now = self.client();
        if !Arc::ptr_eq(&now, used) || last.is_some_and(|at| at.elapsed() < KEYS_READ_AT_MOST_EVERY)
        {
            return Ok(now);
        }
        // A failed reading counts too: a provider that is down is not asked on every sign-in.
        *last = Some(Instant::now());
        tracing::info!(issuer = %self.settings.issuer, "an ID token signed by a key not known here: reading the provider's keys again");
        let (client, _) = discover_client(&self.settings, &self.http).await?;
        let client = Arc::new(client);
        *self.client.write().unwrap_or_else(|e| e.into_inner()) = client.clone();
        Ok(client)
    }

    /// Starts a sign-in: the provider's login address, and the binding cookie's value.
    pub fn begin(&self, return_to: &str) -> (String, String) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = self
            .client()
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("groups".into()))
            .set_pkce_challenge(challenge)
            .url();
        let pending = Pending::new(
            state.secret().clone(),
            verifier.secret().clone(),
            nonce.secret().clone(),
            return_to,
        );
        let binding = self.sealer.seal(&pending);
        (url.to_string(), binding)
    }

    /// Finishes a sign-in from the provider's answer (`code`, `state`) in the browser that
    /// carries `binding`: the ID token checked, the person and their role.
    pub async fn finish(
        &self,
        code: &str,
        state: &str,
        binding: Option<&str>,
    ) -> Result<SignedIn, OidcError> {
        let p = binding
            .and_then(|b| self.sealer.open(b, state))
            .ok_or(OidcError::UnknownState)?;
        let nonce = Nonce::new(p.nonce.clone());
        let answer = self
            .client()
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| OidcError::Config(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(p.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Provider(error_chain(&e)))?;
        let token = answer
            .id_token()
            .ok_or_else(|| OidcError::BadToken("the answer holds no ID token".into()))?;
        let used = self.client();
        let person = match self.person_in(&used, token, &nonce) {
            // The provider rotated its signing keys since they were read: once more, with its
            // keys as they are now.
            Err(OidcError::UnknownKey) => {
                let now = self.keys_again(&used).await?;
                self.person_in(&now, token, &nonce)?
            }
            other => other?,
        };
        Ok(SignedIn {
            person,
            id_token: token.to_string(),
            return_to: p.return_to,
        })
    }

    /// The person an ID token names, once its signature, issuer, audience, expiry and nonce
    /// hold.
    fn person_in(
        &self,
        client: &Client,
        token: &CoreIdToken,
        nonce: &Nonce,
    ) -> Result<Person, OidcError> {
        let claims = token
            .claims(&client.id_token_verifier(), nonce)
            .map_err(|e| match e {
                ClaimsVerificationError::SignatureVerification(
                    SignatureVerificationError::NoMatchingKey,
                ) => OidcError::UnknownKey,
                e => OidcError::BadToken(error_chain(&e)),
            })?;
        // An email the provider says it has not verified (a self-service edit on Keycloak,
        // some Dex connectors) could name a colleague: not taken. Absent, it is (Entra ID
        // sends none).
        let name = claims
            .email()
            .filter(|_| claims.email_verified() != Some(false))
            .map(|e| e.as_str().to_string())
            .or_else(|| claims.preferred_username().map(|u| u.as_str().to_string()))
            .unwrap_or_else(|| claims.subject().as_str().to_string());
        // The signature was checked above: the payload's other claims are the provider's.
        let groups = roles::groups_in(&token.to_string(), &self.settings.groups_claim);
        if !self.settings.roles.admits(&groups) {
            tracing::warn!(who = %name, groups = ?groups, "not let in: in no group a role names");
            return Err(OidcError::NotLetIn(name));
        }
        let (role, bucket_roles) = self.settings.roles.of(&groups);
        tracing::info!(who = %name, role = role.name(), ?bucket_roles, groups = ?groups, "signed in through the identity provider");
        Ok(Person {
            name,
            via: "oidc".into(),
            role,
            bucket_roles,
            account: format!("{}#{}", claims.issuer().as_str(), claims.subject().as_str()),
        })
    }

    /// Where to send a person who signed out, so the provider ends its session too (when it
    /// offers RP-initiated logout).
    pub fn logout_url(&self, id_token: &str) -> Option<String> {
        let end = self.end_session.clone()?;
        let token: CoreIdToken = id_token.parse().ok()?;
        let mut req = LogoutRequest::from(end)
            .set_id_token_hint(&token)
            .set_client_id(ClientId::new(self.settings.client_id.clone()));
        if let Ok(home) = PostLogoutRedirectUrl::new(self.settings.home.clone()) {
            req = req.set_post_logout_redirect_uri(home);
        }
        Some(req.http_get_url().to_string())
    }
}

/// The provider's endpoints and keys, read from its discovery document, as a client of it;
/// and where it ends sessions, if it says.
async fn discover_client(
    settings: &OidcSettings,
    http: &Http,
) -> Result<(Client, Option<openidconnect::EndSessionUrl>), OidcError> {
    let discovery = |detail: String| OidcError::Discovery {
        issuer: settings.issuer.clone(),
        detail,
    };
    let issuer = IssuerUrl::new(settings.issuer.clone()).map_err(|e| discovery(e.to_string()))?;
    let metadata = ProviderMetadataWithLogout::discover_async(issuer, http)
        .await
        .map_err(|e| discovery(error_chain(&e)))?;
    let end_session = metadata.additional_metadata().end_session_endpoint.clone();
    let redirect = RedirectUrl::new(settings.redirect.clone())
        .map_err(|e| OidcError::Config(format!("--oidc-redirect-url: {e}")))?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(settings.client_id.clone()),
        Some(ClientSecret::new(settings.client_secret.clone())),
    )
    .set_redirect_uri(redirect);
    Ok((client, end_session))
}

/// An error and its causes on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}
