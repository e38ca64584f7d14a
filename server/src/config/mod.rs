//! `s3-prune.toml`: a team's settings in a file, so command lines stay short.
//!
//! Found with `--config FILE`, else `$S3_PRUNE_CONFIG`, else `./s3-prune.toml`. Every key is the
//! default of the flag of the same name, so a flag given on the command line (or its
//! environment variable) wins; lists that only keep more (`pins`, `excludes`) are added to.
//! Unknown keys and bad values are errors that name the file, the key and its line.

mod check;
mod defaults;
mod keys;

pub use check::parse;
pub use keys::File;

use anyhow::{Context, Result};
use retention::{DeploymentId, Glob};
use std::path::{Path, PathBuf};

/// The file's name in the working directory.
pub const FILE_NAME: &str = "s3-prune.toml";

/// A loaded, checked configuration file.
#[derive(Debug)]
pub struct Config {
    /// Where it was read from, named in errors about its values.
    pub path: PathBuf,
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
/// A file not named on the command line says how to run without it.
pub fn find(args: &[std::ffi::OsString]) -> Result<Option<Config>> {
    if let Some(path) = given_path(args) {
        return load(&path).map(Some);
    }
    let (path, why) = match std::env::var_os("S3_PRUNE_CONFIG") {
        Some(p) => (PathBuf::from(p), "it is named by S3_PRUNE_CONFIG"),
        None if Path::new(FILE_NAME).is_file() => {
            (PathBuf::from(FILE_NAME), "it is in the working directory")
        }
        None => return Ok(None),
    };
    load(&path).map(Some).map_err(|e| {
        let e = format!("{e:#}");
        anyhow::anyhow!(
            "{}. (Read because {why}; to run without it, give --config /dev/null or set \
             S3_PRUNE_CONFIG=/dev/null.)",
            e.trim_end().trim_end_matches('.')
        )
    })
}

/// Reads and checks the configuration file at `path`.
pub fn load(path: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read the configuration file {} (given with --config or S3_PRUNE_CONFIG)",
            path.display()
        )
    })?;
    parse(path, &text)
}

impl Config {
    /// `policy.file`'s rules, when the file names one; an error names this file and the key.
    pub fn policy_rules(&self) -> Result<Option<retention::Rules>> {
        let Some(file) = &self.file.policy.file else {
            return Ok(None);
        };
        let shown = file.display().to_string();
        crate::args::load_policy(&shown)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{}: `policy.file` {shown}: {e}", self.path.display()))
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
mod tests;
