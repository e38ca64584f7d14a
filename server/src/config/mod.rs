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
    /// The file's key it comes from, named when clap refuses the value.
    pub key: &'static str,
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
    /// A relative path is read from this file's folder (not the working directory), so the
    /// two files can sit side by side wherever the command runs.
    pub fn policy_rules(&self) -> Result<Option<retention::Rules>> {
        let Some(file) = &self.file.policy.file else {
            return Ok(None);
        };
        let folder = self.path.parent().unwrap_or(Path::new(""));
        let resolved = folder.join(file);
        crate::args::values::load_policy(&resolved.display().to_string())
            .map(Some)
            .map_err(|e| {
                let beside = match file.is_relative() {
                    true => format!(
                        " (read from {}: a relative path is read from the configuration file's \
                         folder)",
                        resolved.display()
                    ),
                    false => String::new(),
                };
                anyhow::anyhow!(
                    "{}: `policy.file` = {:?}{beside}: {e}. Fix the path or remove the key.",
                    self.path.display(),
                    file.display().to_string()
                )
            })
    }

    /// Refuses a value clap refuses as a default (`serve.addr = "nope"`) naming this file and
    /// its key, where clap would name the flag as if it had been typed. `cmd` is the command
    /// with [`Config::apply_to`] applied; every subcommand is tried with no arguments, so only
    /// the defaults (the file's) are parsed.
    pub fn check_defaults(&self, cmd: &clap::Command) -> Result<()> {
        use clap::error::{ContextKind, ContextValue, ErrorKind};
        let defaults = self.defaults();
        // Built, so that each argument shows as clap's errors name it (`--addr <ADDR>`).
        let mut cmd = cmd.clone();
        cmd.build();
        for sub in cmd.get_subcommands() {
            let Err(e) = cmd
                .clone()
                .try_get_matches_from(["s3-prune", sub.get_name()])
            else {
                continue;
            };
            if !matches!(
                e.kind(),
                ErrorKind::InvalidValue | ErrorKind::ValueValidation
            ) {
                continue;
            }
            let Some(ContextValue::String(flag)) = e.get(ContextKind::InvalidArg) else {
                continue;
            };
            let Some(arg) = sub.get_arguments().find(|a| a.to_string() == *flag) else {
                continue;
            };
            // A value from the flag's environment variable is not the file's.
            if arg.get_env().is_some_and(|v| std::env::var_os(v).is_some()) {
                continue;
            }
            let Some(d) = defaults.iter().find(|d| arg.get_id() == d.id) else {
                continue;
            };
            let why = match std::error::Error::source(&e) {
                Some(cause) => cause.to_string(),
                None => e.to_string(),
            };
            let why = why.trim_start_matches("error: ");
            let why = why.lines().next().unwrap_or_default().trim_end_matches('.');
            let value = match e.get(ContextKind::InvalidValue) {
                Some(ContextValue::String(v)) => format!("{v:?}: "),
                _ => String::new(),
            };
            anyhow::bail!(
                "{}: `{}`: {value}{why}. Fix the value or remove the key.",
                self.path.display(),
                d.key
            );
        }
        Ok(())
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
