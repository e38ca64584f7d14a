//! The scheduled job's environment, read strictly: numbers, switches and lists that say which
//! variable is wrong, and an `S3_PRUNE_*` variable the job does not read refused by name.

use anyhow::{anyhow, bail, Result};

/// A variable of the environment, unless unset or blank.
pub(crate) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A whole number from the environment; anything else is an error naming the variable.
pub(super) fn env_num(name: &str) -> Result<Option<u64>> {
    env(name)
        .map(|v| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| anyhow!("{name} must be a whole number ≥ 0 (got '{v}')"))
        })
        .transpose()
}

/// true/false (1/0, yes/no) from the environment; anything else is an error.
pub(crate) fn env_bool(name: &str) -> Result<Option<bool>> {
    env(name)
        .map(|v| match v.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => Ok(true),
            "0" | "false" | "no" => Ok(false),
            _ => Err(anyhow!("{name} must be true or false (got '{v}')")),
        })
        .transpose()
}

/// A comma-separated list from the environment, blank entries left out.
pub(super) fn env_list(name: &str) -> Option<Vec<String>> {
    env(name).map(|v| {
        v.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    })
}

/// A comma-separated list of ids or globs: an entry holding a space or `;` is a list written
/// with another separator (`d05 d06` is one pin that matches nothing, and d05 and d06 are
/// deleted), refused.
pub(super) fn env_ids(name: &str) -> Result<Option<Vec<String>>> {
    let list = env_list(name);
    for entry in list.iter().flatten() {
        if entry.contains(|c: char| c == ';' || c.is_whitespace()) {
            bail!(
                "{name}: '{entry}' holds a space or ';': separate ids with commas \
                 ({name}=a,b). A folder whose name has a space is pinned with `s3-prune pin`, \
                 which every run reads; nothing was done"
            );
        }
    }
    Ok(list)
}

/// A variable the scheduled job reads ([`crate::args::JOB_VARIABLES`], which also says what the
/// other commands take instead), or the log level every command reads.
fn known(name: &str) -> bool {
    crate::args::JOB_VARIABLES.iter().any(|(v, _)| *v == name) || name == "S3_PRUNE_LOG"
}

/// Looks like one of s3-prune's variables, whatever its case or its first `_`
/// (`s3_prune_dry_run`, `S3PRUNE_DRY_RUN`): a name the job reads only as written.
fn ours(name: &str) -> bool {
    let up = name.to_ascii_uppercase();
    up.starts_with("S3_PRUNE_") || up.starts_with("S3PRUNE")
}

/// An `S3_PRUNE_*` variable the job does not read is a setting that silently does nothing — a
/// misspelt dry-run variable made a dry run delete — so the start fails, naming the
/// variable and the nearest one it reads. So does one another command reads (a configuration
/// file's guards and pins would be ignored here).
pub(super) fn refuse_unknown_variables(names: impl Iterator<Item = String>) -> Result<()> {
    let mut unknown: Vec<String> = names.filter(|n| ours(n) && !known(n)).collect();
    unknown.sort();
    if let Some(other) = unknown
        .iter()
        .find(|n| crate::args::COMMAND_VARIABLES.contains(&n.as_str()))
    {
        bail!(
            "{other} is read by the CLI and the dashboard, not by the scheduled job: what it \
             names would be ignored here (a configuration file's guards and pins, say). Nothing \
             was done. Set the job's own variables instead (README, \"The scheduled job\"), or \
             remove it"
        );
    }
    let Some(first) = unknown.first() else {
        return Ok(());
    };
    let up = first
        .to_ascii_uppercase()
        .replacen("S3PRUNE", "S3_PRUNE", 1);
    let nearest = crate::args::JOB_VARIABLES
        .iter()
        .map(|(name, _)| name)
        .min_by_key(|k| edit_distance(&up, k))
        .expect("a known variable");
    let others = match unknown.len() {
        1 => String::new(),
        n => format!(" (and {} more: {})", n - 1, unknown[1..].join(", ")),
    };
    bail!(
        "{first} is not a setting of s3-prune{others}: did you mean {nearest}? Nothing was done. \
         Rename or remove it; the variables read are listed in README (\"The scheduled job\")"
    )
}

/// Levenshtein distance, for naming the variable a misspelt one meant.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}
