//! Reading `s3-prune.toml` and checking every value before any flag takes it: an error names
//! the file and the key (and, from TOML, the line).

use super::keys::{File, PolicyKeys};
use super::Config;
use anyhow::{bail, Result};
use retention::{DateSource, Retain, Span};
use std::fmt::Display;
use std::path::Path;

/// Parses and checks the file's text; `path` is named in every error.
pub fn parse(path: &Path, text: &str) -> Result<Config> {
    let file: File = toml::from_str(text)
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.to_string().trim_end()))?;
    check_policy(path, &file.policy)?;
    check_values(path, &file)?;
    let pins = parsed(path, "guards.pins", &file.guards.pins)?;
    let excludes = parsed(path, "guards.excludes", &file.guards.excludes)?;
    check_places(path, &file)?;
    Ok(Config {
        path: path.to_path_buf(),
        file,
        pins,
        excludes,
    })
}

/// The error for a bad value of `key`.
fn bad(path: &Path, key: &str, e: &dyn Display) -> anyhow::Error {
    anyhow::anyhow!(
        "{}: `{key}`: {e}. Fix the value or remove the key.",
        path.display()
    )
}

/// `[policy]`: a valid retain, and no two keys that say the same thing.
fn check_policy(path: &Path, policy: &PolicyKeys) -> Result<()> {
    if let Some(r) = policy.retain {
        r.to_string()
            .parse::<Retain>()
            .map_err(|e| bad(path, "policy.retain", &e))?;
    }
    if policy.file.is_some()
        && (policy.retain.is_some()
            || policy.min_retain_days.is_some()
            || policy.keep_within.is_some())
    {
        bail!(
            "{}: `policy.file` holds rules: leave out `policy.retain`, `policy.min_retain_days` \
             and `policy.keep_within`, which the rules replace",
            path.display()
        );
    }
    if policy.min_retain_days.is_some() && policy.keep_within.is_some() {
        bail!(
            "{}: `policy.min_retain_days` and `policy.keep_within` say the same thing: keep one",
            path.display()
        );
    }
    Ok(())
}

/// Durations, the date source, the schedule's retain, the buckets, the concurrency and the
/// endpoint.
fn check_values(path: &Path, file: &File) -> Result<()> {
    for (key, v) in [
        ("policy.keep_within", &file.policy.keep_within),
        ("serve.session_idle", &file.serve.session_idle),
        ("serve.session_max", &file.serve.session_max),
    ] {
        if let Some(v) = v {
            v.parse::<Span>().map_err(|e| bad(path, key, &e))?;
        }
    }
    if let Some(d) = &file.policy.date_source {
        d.parse::<DateSource>()
            .map_err(|e| bad(path, "policy.date_source", &e))?;
    }
    if let Some(r) = file.serve.schedule_retain {
        r.to_string()
            .parse::<Retain>()
            .map_err(|e| bad(path, "serve.schedule_retain", &e))?;
    }
    if let Some(b) = &file.bucket {
        crate::args::parse_bucket(b).map_err(|e| bad(path, "bucket", &e))?;
    }
    for b in file.serve.buckets.iter().flatten() {
        crate::args::parse_served_bucket(b).map_err(|e| bad(path, "serve.buckets", &e))?;
    }
    if file.concurrency.is_some_and(|c| !(1..=256).contains(&c)) {
        return Err(bad(path, "concurrency", &"must be between 1 and 256"));
    }
    if file.localstack == Some(true) && file.endpoint_url.is_some() {
        bail!(
            "{}: `localstack = true` and `endpoint_url` both name the endpoint: keep one",
            path.display()
        );
    }
    Ok(())
}

/// Every value of the list at `key`, parsed (`guards.pins`, `guards.excludes`).
fn parsed<T>(path: &Path, key: &str, values: &[String]) -> Result<Vec<T>>
where
    T: std::str::FromStr,
    T::Err: Display,
{
    values
        .iter()
        .map(|v| v.parse::<T>().map_err(|e| bad(path, key, &e)))
        .collect()
}

/// Where things are read from and sent to: the inventory report, the journal, the webhooks.
fn check_places(path: &Path, file: &File) -> Result<()> {
    if let Some(i) = &file.inventory {
        i.parse::<bucket::inventory::InventoryLocation>()
            .map_err(|e| bad(path, "inventory", &e))?;
    }
    if let Some(j) = &file.journal {
        j.parse::<bucket::JournalLocation>()
            .map_err(|e| bad(path, "journal", &e))?;
    }
    for u in file.notify.iter().flatten() {
        u.parse::<prune::WebhookUrl>()
            .map_err(|e| bad(path, "notify", &e))?;
    }
    if let Some(prefix) = &file.prefix {
        crate::args::parse_prefix(prefix).map_err(|e| bad(path, "prefix", &e))?;
        check_served_under(path, file, prefix.trim_matches('/'))?;
    }
    Ok(())
}

/// With a `prefix`, every command works under it — its deployments, pins, runs and lease — so
/// a `serve.buckets` entry without one would show the dashboard the bucket's root: another set
/// of deployments, pins and runs than `plan`, `apply` and `history` see. Refused, saying what
/// to write.
fn check_served_under(path: &Path, file: &File, prefix: &str) -> Result<()> {
    match at_root(file, file.serve.buckets.iter().flatten()) {
        Some(b) if !prefix.is_empty() => bail!(
            "{}: `serve.buckets` offers '{b}' at its root, but `prefix = \"{prefix}/\"` puts the \
             commands' deployments, pins, runs and lease under '{prefix}/': the dashboard and the \
             commands would not see the same deployments. Write \"{b}/{prefix}\" in \
             `serve.buckets` (each entry may name its own prefix), or give --prefix on the \
             command line instead of in the file",
            path.display()
        ),
        _ => Ok(()),
    }
}

/// The file's own `bucket` (another bucket's deployments may well sit at its root) among
/// `served` named without a prefix (`NAME`, or `NAME/`).
fn at_root<'a>(file: &File, served: impl IntoIterator<Item = &'a String>) -> Option<&'a str> {
    served.into_iter().find_map(|entry| {
        let (name, under) = entry.split_once('/').unwrap_or((entry, ""));
        (Some(name) == file.bucket.as_deref() && under.trim_matches('/').is_empty()).then_some(name)
    })
}

impl super::Config {
    /// `serve --bucket NAME` typed for the file's `bucket` while the file gives a `prefix`:
    /// refused as such a `serve.buckets` entry is ([`check_served_under`]) — typed, it replaced
    /// the file's entry and the dashboard planned and applied at the bucket's root, where the
    /// prefix is one deployment among others and none of the commands' pins are.
    pub fn refuse_typed_root(&self, typed: &[String]) -> Result<()> {
        let prefix = self
            .file
            .prefix
            .as_deref()
            .unwrap_or_default()
            .trim_matches('/');
        match at_root(&self.file, typed) {
            Some(b) if !prefix.is_empty() => bail!(
                "--bucket {b}: serves '{b}' at its root, but `prefix = \"{prefix}/\"` in {} puts \
                 the commands' deployments, pins, runs and lease under '{prefix}/': the \
                 dashboard and the commands would not see the same deployments. Give --bucket \
                 {b}/{prefix}",
                self.path.display()
            ),
            _ => Ok(()),
        }
    }
}
