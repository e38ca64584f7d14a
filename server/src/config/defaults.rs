//! The file's keys as flag defaults, by clap argument id: one value per flag, or a list.

use super::keys::{File, ServeKeys};
use super::{Config, FlagDefault};
use crate::oidc::roles::RoleMap;

/// A flag that takes one value, and that value when the file gives it.
type OneValue = (&'static str, Option<String>);

impl Config {
    /// Flag defaults, by clap argument id. `min_retain_days` becomes a `keep_within` default
    /// so that either flag on the command line overrides it.
    pub fn defaults(&self) -> Vec<FlagDefault> {
        let f = &self.file;
        let one = [scan_and_policy(f), serve(&f.serve)].concat();
        let one = one.into_iter().filter_map(|(id, v)| Some((id, vec![v?])));
        let lists = lists(f).into_iter().filter_map(|(id, v)| Some((id, v?)));
        one.chain(lists)
            .map(|(id, values)| FlagDefault { id, values })
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
        ("localstack", switch(f.localstack)),
        ("endpoint_url", f.endpoint_url.clone()),
        ("concurrency", f.concurrency.map(|c| c.to_string())),
        ("audit_db", path(&f.audit_db)),
        ("prefix", f.prefix.clone()),
        ("inventory", f.inventory.clone()),
        ("journal", f.journal.clone()),
        (
            "keep_within",
            f.policy
                .keep_within
                .clone()
                .or(f.policy.min_retain_days.map(|d| format!("{d}d"))),
        ),
        ("date_source", f.policy.date_source.clone()),
        ("purge_versions", switch(f.policy.purge_versions)),
        ("max_delete", f.guards.max_delete.map(|m| m.to_string())),
        ("live_pointer", f.guards.live_pointer.clone()),
        ("live_from", f.guards.live_from.clone()),
    ]
}

/// `[serve]` and `[serve.oidc]`.
fn serve(s: &ServeKeys) -> Vec<OneValue> {
    let o = s.oidc.as_ref();
    vec![
        ("addr", s.addr.clone()),
        ("read_only", switch(s.read_only)),
        (
            "token_file",
            s.token_file.as_ref().map(|p| p.display().to_string()),
        ),
        ("trust_user_header", s.trust_user_header.clone()),
        ("session_idle", s.session_idle.clone()),
        ("session_max", s.session_max.clone()),
        ("schedule", s.schedule.clone()),
        ("schedule_retain", s.schedule_retain.map(|r| r.to_string())),
        (
            "schedule_min_days",
            s.schedule_min_days.map(|d| d.to_string()),
        ),
        ("public_url", s.public_url.clone()),
        (
            "approval_key_file",
            s.approval_key_file
                .as_ref()
                .map(|p| p.display().to_string()),
        ),
        ("oidc_issuer", o.map(|o| o.issuer.clone())),
        ("oidc_client_id", o.map(|o| o.client_id.clone())),
        (
            "oidc_client_secret_file",
            o.map(|o| o.client_secret_file.display().to_string()),
        ),
        ("oidc_groups_claim", o.and_then(|o| o.groups_claim.clone())),
    ]
}

/// The flags that take a list.
fn lists(f: &File) -> Vec<(&'static str, Option<Vec<String>>)> {
    let s = &f.serve;
    vec![
        ("buckets", s.buckets.clone().or(one_bucket(f))),
        ("trusted_proxies", s.trusted_proxies.clone()),
        ("notify", f.notify.clone()),
        ("allowed_hosts", s.allowed_hosts.clone()),
        ("roles", roles(s)),
        ("approval_over", approval_over(s)),
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
