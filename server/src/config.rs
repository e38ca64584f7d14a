//! `s3-prune.toml`: a team's settings in a file, so command lines stay short.
//!
//! Found with `--config FILE`, else `$S3_PRUNE_CONFIG`, else `./s3-prune.toml`. Every key is the
//! default of the flag of the same name, so a flag given on the command line (or its
//! environment variable) wins; lists that only keep more (`pins`, `excludes`) are added to.
//! Unknown keys and bad values are errors that name the file, the key and its line.

use anyhow::{bail, Context, Result};
use retention::{DateSource, DeploymentId, Glob, Retain, Span};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The file's name in the working directory.
pub const FILE_NAME: &str = "s3-prune.toml";

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

/// A loaded, checked configuration file.
#[derive(Debug)]
pub struct Config {
    pub file: File,
    /// Checked values, kept so they are added after parsing.
    pub pins: Vec<DeploymentId>,
    pub excludes: Vec<Glob>,
}

/// One flag's default taken from the file: the clap argument id and its values.
pub struct FlagDefault {
    pub id: &'static str,
    pub values: Vec<String>,
}

/// `--config FILE` from the raw arguments (clap has not run yet: the file sets its defaults).
pub fn given_path(args: &[std::ffi::OsString]) -> Option<PathBuf> {
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let a = a.to_string_lossy();
        if a == "--" {
            break;
        }
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(v) = a.strip_prefix("--config=") {
            return Some(PathBuf::from(v));
        }
    }
    None
}

/// Finds and loads the configuration: `--config`, `$S3_PRUNE_CONFIG`, `./s3-prune.toml`.
pub fn find(args: &[std::ffi::OsString]) -> Result<Option<Config>> {
    let explicit =
        given_path(args).or_else(|| std::env::var_os("S3_PRUNE_CONFIG").map(PathBuf::from));
    match explicit {
        Some(path) => load(&path).map(Some),
        None if Path::new(FILE_NAME).is_file() => load(Path::new(FILE_NAME)).map(Some),
        None => Ok(None),
    }
}

pub fn load(path: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read the configuration file {} (given with --config or S3_PRUNE_CONFIG)",
            path.display()
        )
    })?;
    parse(path, &text)
}

pub fn parse(path: &Path, text: &str) -> Result<Config> {
    let file: File = toml::from_str(text)
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.to_string().trim_end()))?;
    let bad = |key: &str, e: &dyn std::fmt::Display| {
        anyhow::anyhow!(
            "{}: `{key}`: {e}. Fix the value or remove the key.",
            path.display()
        )
    };
    if let Some(r) = file.policy.retain {
        r.to_string()
            .parse::<Retain>()
            .map_err(|e| bad("policy.retain", &e))?;
    }
    if file.policy.file.is_some()
        && (file.policy.retain.is_some()
            || file.policy.min_retain_days.is_some()
            || file.policy.keep_within.is_some())
    {
        bail!(
            "{}: `policy.file` holds rules: leave out `policy.retain`, `policy.min_retain_days` \
             and `policy.keep_within`, which the rules replace",
            path.display()
        );
    }
    if file.policy.min_retain_days.is_some() && file.policy.keep_within.is_some() {
        bail!(
            "{}: `policy.min_retain_days` and `policy.keep_within` say the same thing: keep one",
            path.display()
        );
    }
    for (key, v) in [
        ("policy.keep_within", &file.policy.keep_within),
        ("serve.session_idle", &file.serve.session_idle),
        ("serve.session_max", &file.serve.session_max),
    ] {
        if let Some(v) = v {
            v.parse::<Span>().map_err(|e| bad(key, &e))?;
        }
    }
    if let Some(d) = &file.policy.date_source {
        d.parse::<DateSource>()
            .map_err(|e| bad("policy.date_source", &e))?;
    }
    if let Some(r) = file.serve.schedule_retain {
        r.to_string()
            .parse::<Retain>()
            .map_err(|e| bad("serve.schedule_retain", &e))?;
    }
    if file.concurrency.is_some_and(|c| !(1..=256).contains(&c)) {
        return Err(bad("concurrency", &"must be between 1 and 256"));
    }
    if file.localstack == Some(true) && file.endpoint_url.is_some() {
        bail!(
            "{}: `localstack = true` and `endpoint_url` both name the endpoint: keep one",
            path.display()
        );
    }
    let pins = file
        .guards
        .pins
        .iter()
        .map(|p| {
            p.parse::<DeploymentId>()
                .map_err(|e| bad("guards.pins", &e))
        })
        .collect::<Result<_>>()?;
    let excludes = file
        .guards
        .excludes
        .iter()
        .map(|g| g.parse::<Glob>().map_err(|e| bad("guards.excludes", &e)))
        .collect::<Result<_>>()?;
    if let Some(i) = &file.inventory {
        i.parse::<bucket::inventory::InventoryLocation>()
            .map_err(|e| bad("inventory", &e))?;
    }
    if let Some(j) = &file.journal {
        j.parse::<bucket::JournalLocation>()
            .map_err(|e| bad("journal", &e))?;
    }
    for u in file.notify.iter().flatten() {
        u.parse::<prune::WebhookUrl>()
            .map_err(|e| bad("notify", &e))?;
    }
    Ok(Config {
        file,
        pins,
        excludes,
    })
}

impl Config {
    /// Flag defaults, by clap argument id. `min_retain_days` becomes a `keep_within` default
    /// so that either flag on the command line overrides it.
    pub fn defaults(&self) -> Vec<FlagDefault> {
        let f = &self.file;
        let mut out = Vec::new();
        let mut one = |id: &'static str, v: Option<String>| {
            if let Some(v) = v {
                out.push(FlagDefault {
                    id,
                    values: vec![v],
                });
            }
        };
        let flag = |b: Option<bool>| b.filter(|b| *b).map(|_| "true".to_string());
        one("localstack", flag(f.localstack));
        one("endpoint_url", f.endpoint_url.clone());
        one("concurrency", f.concurrency.map(|c| c.to_string()));
        one(
            "audit_db",
            f.audit_db.as_ref().map(|p| p.display().to_string()),
        );
        one("prefix", f.prefix.clone());
        one("inventory", f.inventory.clone());
        one("journal", f.journal.clone());
        one(
            "keep_within",
            f.policy
                .keep_within
                .clone()
                .or(f.policy.min_retain_days.map(|d| format!("{d}d"))),
        );
        one("date_source", f.policy.date_source.clone());
        one("purge_versions", flag(f.policy.purge_versions));
        one("max_delete", f.guards.max_delete.map(|m| m.to_string()));
        one("live_pointer", f.guards.live_pointer.clone());
        one("live_from", f.guards.live_from.clone());
        let s = &f.serve;
        one("addr", s.addr.clone());
        one("read_only", flag(s.read_only));
        one(
            "token_file",
            s.token_file.as_ref().map(|p| p.display().to_string()),
        );
        one("trust_user_header", s.trust_user_header.clone());
        one("session_idle", s.session_idle.clone());
        one("session_max", s.session_max.clone());
        one("schedule", s.schedule.clone());
        one("schedule_retain", s.schedule_retain.map(|r| r.to_string()));
        one(
            "schedule_min_days",
            s.schedule_min_days.map(|d| d.to_string()),
        );
        one("public_url", s.public_url.clone());

        if let Some(o) = &s.oidc {
            one("oidc_issuer", Some(o.issuer.clone()));
            one("oidc_client_id", Some(o.client_id.clone()));
            one(
                "oidc_client_secret_file",
                Some(o.client_secret_file.display().to_string()),
            );
            one("oidc_groups_claim", o.groups_claim.clone());
        }
        let mut over: Vec<String> = s.approval_over.iter().map(|n| n.to_string()).collect();
        for (b, n) in s.approval_over_for.iter().flatten() {
            over.push(format!("{b}={n}"));
        }
        let approval_over = (!over.is_empty()).then_some(over);
        let flags = |r: &crate::oidc::roles::RoleMap, at: &str| {
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
        };
        let mut role_flags: Vec<String> = s.roles.iter().flat_map(|r| flags(r, "")).collect();
        for (b, r) in s.bucket_roles.iter().flatten() {
            role_flags.extend(flags(r, &format!("@{b}")));
        }
        let roles = (!role_flags.is_empty()).then_some(role_flags);
        // `serve` offers `serve.buckets`, or else the one `bucket` (with its prefix).
        let one_bucket = f.bucket.as_ref().map(|b| match f.prefix.as_deref() {
            Some(p) if !p.is_empty() => vec![format!("{b}/{}", p.trim_end_matches('/'))],
            _ => vec![b.clone()],
        });
        for (id, list) in [
            ("buckets", &s.buckets.clone().or(one_bucket)),
            ("trusted_proxies", &s.trusted_proxies),
            ("notify", &f.notify),
            ("allowed_hosts", &s.allowed_hosts),
            ("roles", &roles),
            ("approval_over", &approval_over),
        ] {
            if let Some(values) = list.clone() {
                out.push(FlagDefault { id, values });
            }
        }
        out
    }

    /// The command with the file's values as flag defaults (`demo`, which writes into a
    /// bucket, takes only the endpoint). BUCKET and RETAIN are positional: clap mis-assigns
    /// positionals after one with a default, so `main` fills them in after parsing.
    pub fn apply_to(&self, mut cmd: clap::Command) -> clap::Command {
        let defaults = self.defaults();
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .collect();
        for name in names {
            let endpoint_only = name == "demo";
            cmd = cmd.mut_subcommand(&name, |mut sub| {
                for d in &defaults {
                    if endpoint_only
                        && !matches!(d.id, "localstack" | "endpoint_url" | "concurrency")
                    {
                        continue;
                    }
                    if sub.get_arguments().any(|a| a.get_id() == d.id) {
                        let values = d.values.clone();
                        sub = sub.mut_arg(d.id, move |a| a.default_values(values).required(false));
                    }
                }
                sub
            });
        }
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Config> {
        parse(Path::new("s3-prune.toml"), text)
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_it_and_its_line() {
        let e = parse_str("bucket = \"b\"\n[policy]\nretian = 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("retian"), "{e}");
        assert!(e.contains("line 3"), "{e}");
        assert!(e.contains("s3-prune.toml"), "{e}");
    }

    #[test]
    fn bad_values_name_the_key() {
        for (text, key) in [
            ("[policy]\nretain = 0", "policy.retain"),
            ("[policy]\nkeep_within = \"soon\"", "policy.keep_within"),
            ("[policy]\ndate_source = \"meta:\"", "policy.date_source"),
            ("[guards]\nexcludes = [\"[\"]", "guards.excludes"),
            ("[guards]\npins = [\"a/b\"]", "guards.pins"),
            ("concurrency = 0", "concurrency"),
            ("inventory = \"s3://b/x.json\"", "inventory"),
            ("journal = \"https://audit/\"", "journal"),
            ("[serve]\nsession_idle = \"x\"", "serve.session_idle"),
            (
                "[policy]\nmin_retain_days = 3\nkeep_within = \"3d\"",
                "policy.min_retain_days",
            ),
        ] {
            let e = parse_str(text).unwrap_err().to_string();
            assert!(e.contains(key), "{text}: {e}");
        }
        let e = parse_str("[policy]\nretain = \"x\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("retain") && e.contains("line 2"), "{e}");
    }

    #[test]
    fn min_retain_days_is_the_default_of_keep_within() {
        let c = parse_str("[policy]\nretain = 4\nmin_retain_days = 30\n").unwrap();
        let d = c.defaults();
        let get = |id: &str| d.iter().find(|d| d.id == id).map(|d| d.values.clone());
        assert_eq!(get("keep_within"), Some(vec!["30d".to_string()]));
        assert_eq!(get("retain"), None, "positional: filled in after parsing");
        let c = parse_str("bucket = \"b\"\nprefix = \"sites/\"\n").unwrap();
        let d = c.defaults();
        let buckets = d.iter().find(|d| d.id == "buckets").unwrap();
        assert_eq!(buckets.values, ["b/sites"], "serve offers the one bucket");
    }

    #[test]
    fn team_keys_become_the_serve_flags_defaults() {
        let c = parse_str(
            "[serve]\napproval_over = 5\n[serve.approval_over_for]\n\"site-a\" = 0\n\
             [serve.roles]\ndeployer = [\"release\"]\nviewer = [\"staff\", \"ops\"]\n\
             [serve.bucket_roles.\"site-a\"]\ndeployer = [\"web\"]\n\
             [serve.oidc]\nissuer = \"https://login.example.com\"\nclient_id = \"s3p\"\n\
             client_secret_file = \"/run/secret\"\n",
        )
        .unwrap();
        let d = c.defaults();
        let get = |id: &str| d.iter().find(|d| d.id == id).map(|d| d.values.clone());
        assert_eq!(
            get("approval_over"),
            Some(vec!["5".into(), "site-a=0".into()])
        );
        assert_eq!(
            get("roles"),
            Some(vec![
                "viewer=staff".into(),
                "viewer=ops".into(),
                "deployer=release".into(),
                "deployer=web@site-a".into()
            ])
        );
        assert_eq!(
            get("oidc_issuer"),
            Some(vec!["https://login.example.com".into()])
        );
        assert_eq!(
            get("oidc_client_secret_file"),
            Some(vec!["/run/secret".into()])
        );
    }

    #[test]
    fn config_is_found_in_the_arguments_before_clap_runs() {
        let args = |v: &[&str]| {
            v.iter()
                .map(Into::into)
                .collect::<Vec<std::ffi::OsString>>()
        };
        assert_eq!(
            given_path(&args(&["s3-prune", "plan", "--config", "x.toml"])),
            Some(PathBuf::from("x.toml"))
        );
        assert_eq!(
            given_path(&args(&["s3-prune", "--config=y.toml", "plan"])),
            Some(PathBuf::from("y.toml"))
        );
        assert_eq!(
            given_path(&args(&["s3-prune", "plan", "--", "--config"])),
            None
        );
    }
}
