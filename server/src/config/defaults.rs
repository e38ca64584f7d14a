//! The file's keys as flag defaults, by clap argument id: one value per flag, or a list.

use super::keys::{File, ServeKeys};
use super::{Config, FlagDefault};
use crate::oidc::roles::RoleMap;

/// A flag that takes one value (its clap id), the file's key, and the value when the file
/// gives it.
type OneValue = (&'static str, &'static str, Option<String>);

impl Config {
    /// Flag defaults, by clap argument id. `min_retain_days` becomes a `keep_within` default
    /// so that either flag on the command line overrides it.
    pub fn defaults(&self) -> Vec<FlagDefault> {
        let f = &self.file;
        let one = [scan_and_policy(f), serve(&f.serve)].concat();
        let one = one
            .into_iter()
            .filter_map(|(id, key, v)| Some((id, key, vec![v?])));
        let lists = lists(f)
            .into_iter()
            .filter_map(|(id, key, v)| Some((id, key, v?)));
        one.chain(lists)
            .map(|(id, key, values)| FlagDefault { id, key, values })
            .collect()
    }
}

/// `"true"` for a switch that is on; off is no default at all.
fn switch(b: Option<bool>) -> Option<String> {
    b.filter(|b| *b).map(|_| "true".to_string())
}

/// The endpoint, the bucket's place, the policy and the guards.
fn scan_and_policy(f: &File) -> Vec<OneValue> {
    let path = |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.display().to_string());
    vec![
        ("localstack", "localstack", switch(f.localstack)),
        ("endpoint_url", "endpoint_url", f.endpoint_url.clone()),
        (
            "concurrency",
            "concurrency",
            f.concurrency.map(|c| c.to_string()),
        ),
        ("audit_db", "audit_db", path(&f.audit_db)),
        ("prefix", "prefix", f.prefix.clone()),
        ("inventory", "inventory", f.inventory.clone()),
        ("journal", "journal", f.journal.clone()),
        (
            "keep_within",
            keep_within_key(f),
            f.policy
                .keep_within
                .clone()
                .or(f.policy.min_retain_days.map(|d| format!("{d}d"))),
        ),
        (
            "date_source",
            "policy.date_source",
            f.policy.date_source.clone(),
        ),
        (
            "purge_versions",
            "policy.purge_versions",
            switch(f.policy.purge_versions),
        ),
        (
            "max_delete",
            "guards.max_delete",
            f.guards.max_delete.map(|m| m.to_string()),
        ),
        (
            "live_pointer",
            "guards.live_pointer",
            f.guards.live_pointer.clone(),
        ),
        ("live_from", "guards.live_from", f.guards.live_from.clone()),
    ]
}

/// `[serve]` and `[serve.oidc]`.
fn serve(s: &ServeKeys) -> Vec<OneValue> {
    let o = s.oidc.as_ref();
    vec![
        ("addr", "serve.addr", s.addr.clone()),
        ("read_only", "serve.read_only", switch(s.read_only)),
        (
            "token_file",
            "serve.token_file",
            s.token_file.as_ref().map(|p| p.display().to_string()),
        ),
        (
            "trust_user_header",
            "serve.trust_user_header",
            s.trust_user_header.clone(),
        ),
        ("session_idle", "serve.session_idle", s.session_idle.clone()),
        ("session_max", "serve.session_max", s.session_max.clone()),
        ("schedule", "serve.schedule", s.schedule.clone()),
        (
            "schedule_retain",
            "serve.schedule_retain",
            s.schedule_retain.map(|r| r.to_string()),
        ),
        (
            "schedule_min_days",
            "serve.schedule_min_days",
            s.schedule_min_days.map(|d| d.to_string()),
        ),
        ("public_url", "serve.public_url", s.public_url.clone()),
        (
            "approval_key_file",
            "serve.approval_key_file",
            s.approval_key_file
                .as_ref()
                .map(|p| p.display().to_string()),
        ),
        (
            "oidc_issuer",
            "serve.oidc.issuer",
            o.map(|o| o.issuer.clone()),
        ),
        (
            "oidc_client_id",
            "serve.oidc.client_id",
            o.map(|o| o.client_id.clone()),
        ),
        (
            "oidc_client_secret_file",
            "serve.oidc.client_secret_file",
            o.map(|o| o.client_secret_file.display().to_string()),
        ),
        (
            "oidc_groups_claim",
            "serve.oidc.groups_claim",
            o.and_then(|o| o.groups_claim.clone()),
        ),
    ]
}

/// The flags that take a list, as [`OneValue`].
fn lists(f: &File) -> Vec<(&'static str, &'static str, Option<Vec<String>>)> {
    let s = &f.serve;
    vec![
        (
            "buckets",
            buckets_key(f),
            s.buckets.clone().or(one_bucket(f)),
        ),
        (
            "trusted_proxies",
            "serve.trusted_proxies",
            s.trusted_proxies.clone(),
        ),
        ("notify", "notify", f.notify.clone()),
        (
            "allowed_hosts",
            "serve.allowed_hosts",
            s.allowed_hosts.clone(),
        ),
        ("roles", roles_key(s), roles(s)),
        ("approval_over", approval_over_key(s), approval_over(s)),
    ]
}

/// `serve` offers `serve.buckets`, or else the one `bucket` (with its prefix).
fn one_bucket(f: &File) -> Option<Vec<String>> {
    f.bucket.as_ref().map(|b| match f.prefix.as_deref() {
        Some(p) if !p.is_empty() => vec![format!("{b}/{}", p.trim_end_matches('/'))],
        _ => vec![b.clone()],
    })
}

/// `--approval-over`: `N` for every bucket, then `BUCKET=N` for each named one.
fn approval_over(s: &ServeKeys) -> Option<Vec<String>> {
    let mut over: Vec<String> = s.approval_over.iter().map(|n| n.to_string()).collect();
    for (b, n) in s.approval_over_for.iter().flatten() {
        over.push(format!("{b}={n}"));
    }
    (!over.is_empty()).then_some(over)
}

/// `--role`: `ROLE=GROUP` for `[serve.roles]`, then `ROLE=GROUP@BUCKET` per bucket.
fn roles(s: &ServeKeys) -> Option<Vec<String>> {
    let mut flags: Vec<String> = s.roles.iter().flat_map(|r| role_flags(r, "")).collect();
    for (b, r) in s.bucket_roles.iter().flatten() {
        flags.extend(role_flags(r, &format!("@{b}")));
    }
    (!flags.is_empty()).then_some(flags)
}

/// One role map's flags, viewers first; `at` is `""` or `@BUCKET`.
fn role_flags(r: &RoleMap, at: &str) -> Vec<String> {
    let each = |role: &str, groups: &[String]| {
        groups
            .iter()
            .map(|g| format!("{role}={g}{at}"))
            .collect::<Vec<_>>()
    };
    [
        each("viewer", &r.viewer),
        each("deployer", &r.deployer),
        each("admin", &r.admin),
    ]
    .concat()
}

/// The key `--keep-within`'s default comes from.
fn keep_within_key(f: &File) -> &'static str {
    match f.policy.keep_within {
        Some(_) => "policy.keep_within",
        None => "policy.min_retain_days",
    }
}

/// The key `--bucket`'s defaults come from.
fn buckets_key(f: &File) -> &'static str {
    match f.serve.buckets {
        Some(_) => "serve.buckets",
        None => "bucket",
    }
}

/// The keys `--role`'s defaults come from.
fn roles_key(s: &ServeKeys) -> &'static str {
    match (&s.roles, &s.bucket_roles) {
        (Some(_), Some(_)) => "serve.roles` or `serve.bucket_roles",
        (None, Some(_)) => "serve.bucket_roles",
        _ => "serve.roles",
    }
}

/// The keys `--approval-over`'s defaults come from.
fn approval_over_key(s: &ServeKeys) -> &'static str {
    match (&s.approval_over, &s.approval_over_for) {
        (Some(_), Some(_)) => "serve.approval_over` or `serve.approval_over_for",
        (None, Some(_)) => "serve.approval_over_for",
        _ => "serve.approval_over",
    }
}
