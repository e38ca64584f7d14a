//! The shape of `s3-prune.toml`: one struct per table, unknown keys refused.

use serde::Deserialize;
use std::path::PathBuf;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub localstack: Option<bool>,
    pub endpoint_url: Option<String>,
    pub concurrency: Option<u16>,
    pub audit_db: Option<PathBuf>,
    pub bucket: Option<String>,
    pub prefix: Option<String>,
    /// Webhooks told after every apply and restore (`--notify`).
    pub notify: Option<Vec<String>>,
    /// Plan from this S3 Inventory report instead of listing (`--inventory`).
    pub inventory: Option<String>,
    /// Keep the run journal in `s3://BUCKET/PATH/` instead of beside the deployments
    /// (`--journal`).
    pub journal: Option<String>,
    #[serde(default)]
    pub policy: PolicyKeys,
    #[serde(default)]
    pub guards: GuardKeys,
    #[serde(default)]
    pub serve: ServeKeys,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyKeys {
    /// A policy file (rules) instead of `retain`.
    pub file: Option<PathBuf>,
    pub retain: Option<u64>,
    pub min_retain_days: Option<u64>,
    pub keep_within: Option<String>,
    pub date_source: Option<String>,
    pub purge_versions: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardKeys {
    pub max_delete: Option<u64>,
    pub live_pointer: Option<String>,
    pub live_from: Option<String>,
    #[serde(default)]
    pub pins: Vec<String>,
    #[serde(default)]
    pub excludes: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeKeys {
    pub addr: Option<String>,
    pub buckets: Option<Vec<String>>,
    pub read_only: Option<bool>,
    pub token_file: Option<PathBuf>,
    pub trust_user_header: Option<String>,
    pub trusted_proxies: Option<Vec<String>>,
    pub allowed_hosts: Option<Vec<String>>,
    pub session_idle: Option<String>,
    pub session_max: Option<String>,
    pub schedule: Option<String>,
    pub schedule_retain: Option<u64>,
    pub schedule_min_days: Option<u64>,
    /// The dashboard's address as people reach it (`--public-url`).
    pub public_url: Option<String>,
    /// The two-person rule (`--approval-over N`).
    pub approval_over: Option<u64>,
    /// The two-person rule per bucket (`--approval-over BUCKET=N`): `{ "site-a" = 0 }`.
    pub approval_over_for: Option<std::collections::BTreeMap<String, u64>>,
    /// What approval requests are sealed with (`--approval-key-file`).
    pub approval_key_file: Option<PathBuf>,
    /// Team sign-in through an OpenID Connect provider (`--oidc-*`).
    pub oidc: Option<OidcKeys>,
    /// The identity provider's groups of each role (`--role ROLE=GROUP`).
    pub roles: Option<crate::oidc::roles::RoleMap>,
    /// More on some buckets (`--role ROLE=GROUP@BUCKET`): `[serve.bucket_roles."site-a"]`.
    pub bucket_roles: Option<std::collections::BTreeMap<String, crate::oidc::roles::RoleMap>>,
}

/// `[serve.oidc]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcKeys {
    pub issuer: String,
    pub client_id: String,
    pub client_secret_file: PathBuf,
    pub groups_claim: Option<String>,
}
