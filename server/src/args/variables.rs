//! The `S3_PRUNE_*` environment variables: which commands read which, so the scheduled job can
//! refuse a misspelt one and the other commands can say when a job-only one is set in a shell.

/// The `S3_PRUNE_*` variables commands other than the scheduled job read (the job refuses
/// any name neither here nor in [`JOB_VARIABLES`]: a misspelt setting).
pub const COMMAND_VARIABLES: &[&str] = &[
    "S3_PRUNE_LOG",
    "S3_PRUNE_CONFIG",
    "S3_PRUNE_AUDIT_DB",
    "S3_PRUNE_TOKEN",
    "S3_PRUNE_APPROVAL_KEY_FILE",
];

/// Every variable the scheduled job reads, with what the other commands take instead: set in a
/// shell, they change nothing there (a pin in `S3_PRUNE_PINS` protects nothing a `plan` or
/// `apply` does), and a name the job finds in neither list fails its start.
pub const JOB_VARIABLES: &[(&str, &str)] = &[
    ("S3_PRUNE_BUCKET", "BUCKET"),
    ("S3_PRUNE_RETAIN", "RETAIN"),
    ("S3_PRUNE_MIN_RETAIN_DAYS", "--min-retain-days"),
    ("S3_PRUNE_KEEP_WITHIN", "--keep-within"),
    ("S3_PRUNE_PREFIX", "--prefix"),
    ("S3_PRUNE_DATE_SOURCE", "--date-source"),
    ("S3_PRUNE_META_FALLBACK", "--meta-fallback"),
    ("S3_PRUNE_LIVE_GRACE", "--live-grace"),
    ("S3_PRUNE_PINS", "--pin (or `s3-prune pin`)"),
    ("S3_PRUNE_EXCLUDES", "--exclude"),
    ("S3_PRUNE_LIVE_POINTER", "--live-pointer"),
    ("S3_PRUNE_LIVE_FROM", "--live-from"),
    ("S3_PRUNE_INVENTORY", "--inventory"),
    ("S3_PRUNE_MAX_DELETE", "--max-delete"),
    ("S3_PRUNE_PURGE_VERSIONS", "--purge-versions"),
    ("S3_PRUNE_DRY_RUN", "`plan`"),
    ("S3_PRUNE_POLICY", "--policy FILE"),
    ("S3_PRUNE_POLICY_KEY", "--policy FILE"),
    ("S3_PRUNE_NOTIFY", "--notify"),
    ("S3_PRUNE_VIA_LIFECYCLE", "--via-lifecycle"),
    ("S3_PRUNE_LIFECYCLE_THRESHOLD", "--lifecycle-threshold"),
    ("S3_PRUNE_JOURNAL", "--journal"),
    ("S3_PRUNE_ENDPOINT_URL", "--endpoint-url"),
    ("S3_PRUNE_LOCALSTACK", "--localstack"),
];

/// A note for each of the scheduled job's variables set in `vars` (names), for a command that
/// does not read them.
pub fn job_variables_ignored(vars: impl Iterator<Item = String>) -> Vec<String> {
    let mut notes: Vec<String> = vars
        .filter_map(|name| {
            let (_, instead) = JOB_VARIABLES.iter().find(|(v, _)| *v == name)?;
            Some(format!(
                "{name} is set, but only the scheduled job (`s3-prune lambda`) reads it: this \
                 command does not (it takes {instead})"
            ))
        })
        .collect();
    notes.sort();
    notes
}
