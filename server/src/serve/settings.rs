//! What `serve` serves, from its arguments: the buckets (checked against each other and
//! against the flags that name one), the development site root, and the app's [`ServeConfig`].

use crate::args::ServeArgs;
use anyhow::{Context, Result};
use app::server::{check_overlaps, parse_bucket_arg, ServeConfig};
use app::wire::BucketChoice;
use std::sync::Arc;

/// The `--bucket`s, parsed and not overlapping; `--approval-over BUCKET=N` and `--inventory`
/// must fit them.
pub(super) fn buckets(args: &ServeArgs) -> Result<Vec<BucketChoice>> {
    let buckets = args
        .buckets
        .iter()
        .map(|b| parse_bucket_arg(b).map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()
        .context("--bucket")?;
    check_overlaps(&buckets).map_err(anyhow::Error::msg)?;
    for a in &args.approval_over {
        if let Some(b) = a
            .bucket
            .as_ref()
            .filter(|b| !buckets.iter().any(|c| &c.key == *b))
        {
            anyhow::bail!(
                "--approval-over {b}={}: no --bucket {b} is served; name it as given to --bucket (NAME or NAME/PREFIX)",
                a.over
            );
        }
    }
    if args.live.inventory.is_some() && buckets.len() != 1 {
        anyhow::bail!(
            "--inventory reports on one bucket: give exactly one --bucket with it ({} given)",
            buckets.len()
        );
    }
    Ok(buckets)
}

/// The keys of the `--bucket`s that parse (as `--role ROLE=GROUP@BUCKET` names them).
pub(super) fn served_keys(args: &ServeArgs) -> Vec<String> {
    args.buckets
        .iter()
        .filter_map(|b| parse_bucket_arg(b).ok().map(|c| c.key))
        .collect()
}

/// With `--site-root`, the browser files must be built there.
pub(super) fn check_site_root(site_root: Option<&str>) -> Result<()> {
    if let Some(root) = site_root {
        let pkg = std::path::Path::new(root).join("pkg");
        if !pkg.join("s3-prune.js").exists() {
            anyhow::bail!(
                "--site-root {root}: the dashboard's browser files are missing in {}: build them with `make site`, or leave out --site-root to serve the ones built into this binary",
                pkg.display()
            );
        }
    }
    Ok(())
}

/// The one bucket's key, when only one is served (`/` is then its dashboard).
pub(super) fn only_bucket(buckets: &[BucketChoice]) -> Option<String> {
    (buckets.len() == 1).then(|| buckets[0].key.clone())
}

/// The app's settings; opens the audit log.
pub(super) fn serve_config(args: &ServeArgs, buckets: Vec<BucketChoice>) -> Result<ServeConfig> {
    Ok(ServeConfig {
        connect: args.endpoint.connect(),
        buckets,
        date_source: args.date_source.clone(),
        concurrency: args.endpoint.concurrency.into(),
        live_pointer: args.live.live_pointer.clone(),
        live_from: args.live.live_from.clone(),
        inventory: args.live.inventory.clone(),
        max_delete: args.max_delete,
        pins: args.pins.clone(),
        excludes: args.excludes.clone(),
        lifecycle_over: args.lifecycle.over(),
        read_only: args.read_only,
        audit: Some(Arc::new(args.audit.open()?)),
        notifier: args.notify.notifier(),
        schedule: args
            .schedule
            .clone()
            .zip(args.schedule_retain)
            .map(|(expression, retain)| app::wire::Schedule {
                expression,
                retain: retain.get(),
                min_days: args.schedule_min_days,
            }),
        rules: args.policy.clone(),
        // The last `--approval-over N` without a bucket, and each bucket's own.
        approval_over: args
            .approval_over
            .iter()
            .rev()
            .find(|a| a.bucket.is_none())
            .map(|a| a.over),
        approval_over_for: args
            .approval_over
            .iter()
            .filter_map(|a| a.bucket.clone().map(|b| (b, a.over)))
            .collect(),
        approval_key: approval_key(args)?,
    })
}

/// The key approval requests are sealed with: `--approval-key-file`, else `approval.key`
/// beside the audit log, made (32 random bytes, readable by its owner only) the first time.
fn approval_key(args: &ServeArgs) -> Result<prune::approval::ApprovalKey> {
    let given = args.approval_key_file.clone();
    let path = given.clone().unwrap_or_else(|| {
        let log = args
            .audit
            .audit_db
            .clone()
            .unwrap_or_else(audit::default_path);
        log.with_file_name("approval.key")
    });
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && given.is_none() => {
            make_key(&path)?
        }
        Err(e) => anyhow::bail!(
            "cannot read the approval key {}: {e} (--approval-key-file: a file of at least {} bytes, e.g. `head -c 32 /dev/urandom | base64 > FILE`)",
            path.display(),
            prune::approval::MIN_KEY
        ),
    };
    prune::approval::ApprovalKey::new(&bytes)
        .map_err(|e| anyhow::anyhow!("the approval key {}: {e}", path.display()))
}

/// Writes a new random key to `path` (never over an existing file) and returns it.
fn make_key(path: &std::path::Path) -> Result<Vec<u8>> {
    use std::io::Write as _;
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw)
        .map_err(|e| anyhow::anyhow!("no random source for the approval key: {e}"))?;
    let key: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut f) => {
            f.write_all(key.as_bytes())?;
            tracing::info!(path = %path.display(), "made this dashboard's approval key");
            Ok(key.into_bytes())
        }
        // Another `serve` made it meanwhile: use theirs, once it is written.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            for _ in 0..50 {
                let theirs = std::fs::read(path)?;
                if !theirs.is_empty() {
                    return Ok(theirs);
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Ok(std::fs::read(path)?)
        }
        Err(e) => Err(anyhow::anyhow!(
            "cannot write the approval key {}: {e} (give one with --approval-key-file)",
            path.display()
        )),
    }
}
