//! `serve`'s flags: the dashboard's address and buckets, its sign-in (token, OpenID Connect,
//! a trusted proxy), roles, the two-person rule, sessions.

use super::{
    load_policy, parse_served_bucket, AuditArgs, Endpoint, LifecycleArgs, LiveArgs, NotifyArgs,
};
use clap::Args;
use retention::{DateSource, DeploymentId, Glob, Retain, Span};

/// `serve`'s help for the flags of [`LiveArgs`]: shorter than plan's, which it points to.
fn serve_live_help(arg: clap::Arg) -> clap::Arg {
    let help = match arg.get_id().as_str() {
        "live_pointer" => {
            "Key of an object naming the live deployment (always kept; unreadable = no deletion)"
        }
        "live_from" => {
            "Key of a page of the site whose references name the live deployments (see plan)"
        }
        "inventory" => {
            "Plan from this S3 Inventory report instead of listing (one --bucket only; see plan)"
        }
        _ => return arg,
    };
    arg.help(help)
}

#[derive(Args, Debug, Clone)]
#[command(mut_args = serve_live_help)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000", env = "LEPTOS_SITE_ADDR")]
    pub addr: std::net::SocketAddr,
    /// A bucket to offer, optionally with a prefix: NAME or NAME/PREFIX (repeatable).
    #[arg(long = "bucket", value_name = "NAME[/PREFIX]", required = true)]
    pub buckets: Vec<String>,
    #[arg(long, default_value = "newest")]
    pub date_source: DateSource,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Refuse to apply a plan that deletes more deployments than this.
    #[arg(long, value_name = "N", default_value_t = retention::DEFAULT_MAX_DELETE)]
    pub max_delete: u64,
    /// Always keep this deployment (repeatable), in every preview and apply. Pins do not count
    /// towards RETAIN.
    #[arg(long = "pin", value_name = "ID")]
    pub pins: Vec<DeploymentId>,
    /// Leave deployments whose id matches this glob alone (repeatable), in every preview and
    /// apply: *, ?, [a-z].
    #[arg(long = "exclude", value_name = "GLOB")]
    pub excludes: Vec<Glob>,
    #[command(flatten)]
    pub lifecycle: LifecycleArgs,
    /// Rules from a policy file: the dashboard starts with them (a link's own policy wins).
    #[arg(long, value_name = "FILE", value_parser = load_policy)]
    pub policy: Option<retention::Rules>,
    /// Serve previews only: every apply is refused.
    #[arg(long)]
    pub read_only: bool,
    /// Serve Prometheus metrics (OpenMetrics text) on /metrics at this address, a listener of
    /// its own with no sign-in: per bucket deployments, bytes, overdue deployments, reclaimable
    /// bytes, each front end's last successful run, runs by status, lease held. Off by default.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// The two-person rule: an apply that would delete more than N deployments (0: every
    /// apply) becomes a request another deployer approves on the dashboard. BUCKET=N sets it
    /// for one --bucket (NAME or NAME/PREFIX as given there); repeatable.
    #[arg(long, value_name = "[BUCKET=]N", value_parser = parse_approval_over)]
    pub approval_over: Vec<ApprovalOver>,
    /// The key (a file of at least 16 bytes) this dashboard seals its approval requests with;
    /// it runs only requests sealed with it. Dashboards that take each other's requests need
    /// the same key. Default: `approval.key` beside the audit log, made on first use.
    #[arg(long, value_name = "FILE", env = "S3_PRUNE_APPROVAL_KEY_FILE")]
    pub approval_key_file: Option<std::path::PathBuf>,
    /// The scheduled job's expression, e.g. 'cron(0 3 * * ? *)': with --schedule-retain, the
    /// page forecasts what the next scheduled run will delete.
    #[arg(long, value_name = "EXPR", requires = "schedule_retain")]
    pub schedule: Option<String>,
    /// RETAIN of the scheduled job.
    #[arg(long, value_name = "N", requires = "schedule")]
    pub schedule_retain: Option<Retain>,
    /// --min-retain-days of the scheduled job.
    #[arg(long, value_name = "D", requires = "schedule")]
    pub schedule_min_days: Option<u64>,
    /// Read the access token from this file instead of generating one (also S3_PRUNE_TOKEN).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<std::path::PathBuf>,
    /// Sign people in through this OpenID Connect provider (its issuer URL, e.g.
    /// https://login.example.com/realms/eng) instead of the access token.
    #[arg(long, value_name = "URL", requires_all = ["oidc_client_id", "oidc_client_secret_file"], conflicts_with = "token_file")]
    pub oidc_issuer: Option<String>,
    /// This dashboard's client id at the provider.
    #[arg(long, value_name = "ID", requires = "oidc_issuer")]
    pub oidc_client_id: Option<String>,
    /// The file holding the client's secret at the provider.
    #[arg(long, value_name = "FILE", requires = "oidc_issuer")]
    pub oidc_client_secret_file: Option<std::path::PathBuf>,
    /// The ID token claim that lists a person's groups.
    #[arg(long, value_name = "CLAIM", default_value = "groups")]
    pub oidc_groups_claim: String,
    /// A group's role, as ROLE=GROUP with ROLE one of viewer, deployer, admin (repeatable);
    /// ROLE=GROUP@BUCKET gives it on one --bucket only (more, never less). A person gets the
    /// highest role of their groups; viewer when none has one.
    #[arg(long = "role", value_name = "ROLE=GROUP", value_parser = parse_role_group)]
    pub roles: Vec<RoleGroup>,
    /// The dashboard's address as people reach it (e.g. https://prune.example.com): the
    /// identity provider sends them back to its /auth/callback. Default: http:// and the
    /// first --allowed-host (or the listening address).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Trust this request header as the authenticated user, as set by an authenticating
    /// reverse proxy (oauth2-proxy: X-Forwarded-User). Needs --trusted-proxy. Not with
    /// --oidc-issuer: whoever the proxy passes would skip the sign-in and its roles.
    #[arg(
        long,
        value_name = "HEADER",
        requires = "trusted_proxies",
        conflicts_with = "oidc_issuer"
    )]
    pub trust_user_header: Option<String>,
    /// The address of that proxy (repeatable): a request carrying the user header from any
    /// other peer is refused.
    #[arg(long = "trusted-proxy", value_name = "IP")]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// A Host the dashboard is reached by, as `name` or `name:port` (repeatable). Requests for
    /// any other Host are refused (DNS rebinding). Default: the listening address, and
    /// localhost when it is a loopback address.
    #[arg(long = "allowed-host", value_name = "HOST")]
    pub allowed_hosts: Vec<String>,
    /// Sign a session out after this long without a request.
    #[arg(long, value_name = "DURATION", default_value = "8h")]
    pub session_idle: Span,
    /// Sign a session out this long after sign-in, however active.
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub session_max: Span,
    #[command(flatten)]
    pub audit: AuditArgs,
    #[command(flatten)]
    pub notify: NotifyArgs,
    #[command(flatten)]
    pub endpoint: Endpoint,
    /// Development only: serve the browser files from DIR/pkg (as `make site` writes them)
    /// instead of the ones built into this binary.
    #[arg(long, value_name = "DIR", env = "LEPTOS_SITE_ROOT")]
    pub site_root: Option<String>,
}

/// One `--role ROLE=GROUP`.
#[derive(Debug, Clone)]
pub struct RoleGroup {
    pub role: app::wire::Role,
    pub group: String,
    /// `@BUCKET`: on that bucket only.
    pub bucket: Option<String>,
}

/// `NAME` or `NAME/PREFIX` (with or without its last `/`) as `--bucket` keys it, so a setting
/// for a bucket with a prefix finds it (`NAME/PREFIX/`).
fn served_key(bucket: &str) -> Result<String, String> {
    parse_served_bucket(bucket.trim())?;
    app::server::parse_bucket_arg(bucket.trim()).map(|c| c.key)
}

fn parse_role_group(s: &str) -> Result<RoleGroup, String> {
    use app::wire::Role;
    let (role, group) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not ROLE=GROUP (e.g. deployer=release-managers)"))?;
    let role = match role.trim() {
        "viewer" => Role::Viewer,
        "deployer" => Role::Deployer,
        "admin" => Role::Admin,
        other => {
            return Err(format!(
                "unknown role '{other}': the roles are viewer, deployer and admin"
            ))
        }
    };
    let (group, bucket) = match group.rsplit_once('@') {
        Some((g, b)) => (g, Some(served_key(b)?)),
        None => (group, None),
    };
    if group.trim().is_empty() {
        return Err(format!("'{s}' names no group"));
    }
    Ok(RoleGroup {
        role,
        group: group.trim().to_string(),
        bucket,
    })
}

/// One `--approval-over [BUCKET=]N`.
#[derive(Debug, Clone)]
pub struct ApprovalOver {
    /// `None`: every bucket without its own.
    pub bucket: Option<String>,
    pub over: u64,
}

fn parse_approval_over(s: &str) -> Result<ApprovalOver, String> {
    let (bucket, n) = match s.rsplit_once('=') {
        Some((b, n)) => (Some(served_key(b)?), n),
        None => (None, s),
    };
    let over = n.trim().parse::<u64>().map_err(|_| {
        format!("'{s}' is not N or BUCKET=N (a number of deployments, e.g. 5 or site-a=0)")
    })?;
    Ok(ApprovalOver { bucket, over })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A setting for a bucket with a prefix names it as `--bucket` keys it, with or without the
    /// prefix's last `/`: before, both were cut to `NAME/PREFIX`, which no served key matched, so
    /// no per-bucket role or approval rule could be given to such a bucket.
    #[test]
    fn per_bucket_settings_find_a_bucket_with_a_prefix() {
        let served = app::server::parse_bucket_arg("site/sites").unwrap().key;
        for given in ["site/sites", "site/sites/", " site/sites "] {
            let r = parse_role_group(&format!("deployer=web@{given}")).unwrap();
            assert_eq!(r.bucket.as_deref(), Some(served.as_str()), "{given}");
            let a = parse_approval_over(&format!("{given}=0")).unwrap();
            assert_eq!(a.bucket.as_deref(), Some(served.as_str()), "{given}");
        }
        let plain = parse_role_group("admin=ops@site-a").unwrap();
        assert_eq!(plain.bucket.as_deref(), Some("site-a"));
    }
}
