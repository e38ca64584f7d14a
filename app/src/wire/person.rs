//! Who is signed in and what they may do: the person the dashboard names on every page and in
//! every record, and their role (from the identity provider's groups, or the access token).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a signed-in person may do; each role may do everything the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Previews, the timeline and History.
    Viewer,
    /// Apply, restore, pin and unpin, rescan.
    Deployer,
    /// Everything, for the people who run the dashboard.
    Admin,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Deployer => "deployer",
            Role::Admin => "admin",
        }
    }

    /// May start an apply, restore, pin or rescan.
    pub fn may_change(self) -> bool {
        self >= Role::Deployer
    }
}

/// A signed-in person, as the server's sign-in recorded them on the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// `email`, else `preferred_username`, else `sub` (OpenID Connect); `token` for the access
    /// token; the trusted proxy's user header.
    pub name: String,
    /// How they signed in: `oidc`, `token` or `proxy`.
    pub via: String,
    /// Their role on every bucket.
    pub role: Role,
    /// A higher role on some buckets (by `--bucket` key), from `--role ROLE=GROUP@BUCKET`.
    #[serde(default)]
    pub bucket_roles: BTreeMap<String, Role>,
    /// What names their account for good, whatever name it shows (`ISSUER#sub` for OpenID
    /// Connect; empty for the token and the proxy header): "nobody decides their own request"
    /// compares it too, so a changed email is still the same person. Kept on the server.
    #[serde(skip)]
    pub account: String,
}

/// [`Person::via`] of whoever holds the start-up access token.
pub const VIA_TOKEN: &str = "token";

impl Person {
    /// Whoever holds the start-up access token: one person running the dashboard for themself.
    pub fn token_holder() -> Self {
        Person {
            name: "token".into(),
            via: VIA_TOKEN.into(),
            role: Role::Admin,
            bucket_roles: BTreeMap::new(),
            account: String::new(),
        }
    }

    /// Their role on bucket `key` (`NAME` or `NAME/PREFIX`).
    pub fn role_in(&self, key: &str) -> Role {
        self.bucket_roles
            .get(key)
            .copied()
            .map_or(self.role, |r| r.max(self.role))
    }
}
