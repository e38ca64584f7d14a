//! What the user asked for: how many to keep, for how long, how deployments are dated, and the
//! guards around them.

use crate::{DeploymentId, Glob, Span};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::num::NonZeroU64;
use std::str::FromStr;

/// How long a deployment that stopped being live is kept (`--live-grace`, default 24 h): open
/// tabs still load its files, and it is the rollback target.
pub const DEFAULT_LIVE_GRACE: Span = Span::from_secs(24 * 3600);

fn default_live_grace() -> Span {
    DEFAULT_LIVE_GRACE
}

/// Where a deployment's date comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DateSource {
    /// Newest LastModified among the deployment's objects.
    #[default]
    Newest,
    /// Oldest LastModified among the deployment's objects.
    Oldest,
    /// RFC 3339 value of user metadata `x-amz-meta-KEY` on the newest object.
    Meta(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateSourceError {
    #[error("date source '{0}': expected newest, oldest or meta:KEY")]
    Unknown(String),
    #[error("date source '{0}': the metadata key after 'meta:' may hold only letters, digits, '-' and '_'")]
    BadKey(String),
}

impl DateSource {
    /// The user metadata key to read, if any.
    pub fn meta_key(&self) -> Option<&str> {
        match self {
            DateSource::Meta(k) => Some(k),
            _ => None,
        }
    }
}

impl FromStr for DateSource {
    type Err = DateSourceError;
    fn from_str(s: &str) -> Result<Self, DateSourceError> {
        match s {
            "newest" => Ok(DateSource::Newest),
            "oldest" => Ok(DateSource::Oldest),
            _ => match s.strip_prefix("meta:") {
                Some(key)
                    if !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
                {
                    // S3 lower-cases user metadata names.
                    Ok(DateSource::Meta(key.to_ascii_lowercase()))
                }
                Some(_) => Err(DateSourceError::BadKey(s.into())),
                None => Err(DateSourceError::Unknown(s.into())),
            },
        }
    }
}
impl TryFrom<String> for DateSource {
    type Error = DateSourceError;
    fn try_from(s: String) -> Result<Self, DateSourceError> {
        s.parse()
    }
}
impl From<DateSource> for String {
    fn from(d: DateSource) -> String {
        d.to_string()
    }
}
impl fmt::Display for DateSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateSource::Newest => f.write_str("newest"),
            DateSource::Oldest => f.write_str("oldest"),
            DateSource::Meta(k) => write!(f, "meta:{k}"),
        }
    }
}

/// How a deployment's date was found; shown next to the date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateOrigin {
    Newest,
    Oldest,
    Meta,
    /// `meta:KEY` was asked for but absent or not a deploy date (unparsable, or before S3
    /// existed); `--meta-fallback` dated it by its objects.
    MetaFallback,
    /// `meta:KEY` was asked for but absent or not a deploy date (unparsable, or before S3
    /// existed), and no fallback was given: its date is unknown, so it is kept (shown at its
    /// newest object's date).
    Unknown,
    /// Its LastModified was reset (same content, new dates): the date first seen is used.
    Remembered,
}

/// What dates a deployment whose `meta:` date is absent or not a date (`--meta-fallback`);
/// without one it is kept, its date unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetaFallback {
    /// Its newest object's LastModified.
    Newest,
    /// Its oldest object's LastModified.
    Oldest,
}

impl FromStr for MetaFallback {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "newest" => Ok(MetaFallback::Newest),
            "oldest" => Ok(MetaFallback::Oldest),
            _ => Err(format!("'{s}': expected newest or oldest")),
        }
    }
}

impl fmt::Display for MetaFallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MetaFallback::Newest => "newest",
            MetaFallback::Oldest => "oldest",
        })
    }
}

/// How many of the newest deployments always survive: at least one, by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct Retain(NonZeroU64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("RETAIN must be at least 1: s3-prune always keeps the newest deployment (got {0})")]
    RetainZero(String),
    #[error("RETAIN must be a whole number ≥ 1 (got '{0}')")]
    RetainNotANumber(String),
    #[error("--min-retain-days must be a whole number ≥ 0 (got '{0}')")]
    DaysNotANumber(String),
    #[error("give either --min-retain-days or --keep-within, not both")]
    BothMinimums,
}

impl Retain {
    pub fn new(n: u64) -> Result<Self, PolicyError> {
        NonZeroU64::new(n)
            .map(Retain)
            .ok_or_else(|| PolicyError::RetainZero(n.to_string()))
    }
    pub fn get(self) -> u64 {
        self.0.get()
    }
}
impl FromStr for Retain {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Self, PolicyError> {
        let t = s.trim();
        if let Ok(n) = t.parse::<i128>() {
            if n <= 0 {
                return Err(PolicyError::RetainZero(t.into()));
            }
            // Anything beyond u64 keeps everything just as well as u64::MAX does.
            return Retain::new(u64::try_from(n).unwrap_or(u64::MAX));
        }
        Err(PolicyError::RetainNotANumber(t.into()))
    }
}
impl TryFrom<u64> for Retain {
    type Error = PolicyError;
    fn try_from(n: u64) -> Result<Self, PolicyError> {
        Retain::new(n)
    }
}
impl From<Retain> for u64 {
    fn from(r: Retain) -> u64 {
        r.get()
    }
}
impl fmt::Display for Retain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Parses `--min-retain-days`: a whole number of days ≥ 0.
pub fn parse_days(s: &str) -> Result<Span, PolicyError> {
    let t = s.trim();
    match t.parse::<u64>() {
        Ok(d) => Ok(Span::from_days(d)),
        Err(_) if t.parse::<i128>().is_ok_and(|n| n > 0) => Ok(Span::from_days(u64::MAX)),
        Err(_) => Err(PolicyError::DaysNotANumber(t.into())),
    }
}

/// The blast-radius guard every front end uses unless told otherwise (`--max-delete`).
pub const DEFAULT_MAX_DELETE: u64 = 100;

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub retain: Retain,
    /// Never delete a deployment younger than this (`--min-retain-days`, `--keep-within`).
    #[serde(default)]
    pub keep_within: Option<Span>,
    /// Always kept, not counted in `retain`.
    #[serde(default)]
    pub pins: Vec<DeploymentId>,
    /// Deployments matching any of these are not managed at all.
    #[serde(default)]
    pub excludes: Vec<Glob>,
    #[serde(default)]
    pub date_source: DateSource,
    /// Also remove old versions and delete markers of deleted deployments.
    #[serde(default)]
    pub purge_versions: bool,
    /// Blast-radius guard: a plan deleting more deployments than this may not be applied.
    #[serde(default)]
    pub max_delete: Option<u64>,
    /// A `meta:` date that is absent or not a date: dated by this instead of kept as unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_fallback: Option<MetaFallback>,
    /// A deployment that stopped being live less than this ago is kept (0: not at all).
    #[serde(default = "default_live_grace")]
    pub live_grace: Span,
    /// Rules (`--policy FILE`): when set, they decide instead of `retain` and `keep_within`,
    /// which then hold the smallest `retain` of any rule and nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<crate::Rules>,
}

impl Policy {
    pub fn new(retain: Retain) -> Self {
        Policy {
            retain,
            keep_within: None,
            pins: Vec::new(),
            excludes: Vec::new(),
            date_source: DateSource::Newest,
            purge_versions: false,
            max_delete: None,
            meta_fallback: None,
            live_grace: DEFAULT_LIVE_GRACE,
            rules: None,
        }
    }

    /// A policy decided by `rules`.
    pub fn with_rules(rules: crate::Rules) -> Self {
        let smallest = rules
            .as_slice()
            .iter()
            .map(|r| r.retain)
            .min()
            .expect("Rules is never empty");
        Policy {
            rules: Some(rules),
            ..Policy::new(smallest)
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(rules) = &self.rules {
            write!(f, "rules: {rules}")?;
        } else {
            write!(f, "keep newest {}", self.retain)?;
            if let Some(w) = self.keep_within {
                write!(f, ", and anything younger than {w}")?;
            }
        }
        if !self.pins.is_empty() {
            let pins: Vec<&str> = self.pins.iter().map(|p| p.as_str()).collect();
            write!(f, ", pinned: {}", pins.join(", "))?;
        }
        if !self.excludes.is_empty() {
            let ex: Vec<&str> = self.excludes.iter().map(|p| p.as_str()).collect();
            write!(f, ", not managed: {}", ex.join(", "))?;
        }
        write!(f, " (dates: {}", self.date_source)?;
        if let (DateSource::Meta(_), Some(by)) = (&self.date_source, self.meta_fallback) {
            write!(f, ", else the {by} object's")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retain_rejects_zero_negative_and_words() {
        assert!(matches!(
            "0".parse::<Retain>(),
            Err(PolicyError::RetainZero(_))
        ));
        assert!(matches!(
            "-1".parse::<Retain>(),
            Err(PolicyError::RetainZero(_))
        ));
        assert!(matches!(
            "two".parse::<Retain>(),
            Err(PolicyError::RetainNotANumber(_))
        ));
        assert_eq!("3".parse::<Retain>().unwrap().get(), 3);
        assert_eq!(
            "1000000000000".parse::<Retain>().unwrap().get(),
            1_000_000_000_000
        );
        assert_eq!(
            "99999999999999999999999".parse::<Retain>().unwrap().get(),
            u64::MAX
        );
        assert!(serde_json::from_str::<Retain>("0").is_err());
    }

    #[test]
    fn days_reject_negative_and_words() {
        assert!(parse_days("-1").is_err());
        assert!(parse_days("x").is_err());
        assert_eq!(parse_days("0").unwrap().as_secs(), 0);
        assert_eq!(parse_days("30").unwrap(), Span::from_days(30));
        assert_eq!(
            parse_days("1000000000").unwrap(),
            Span::from_days(1_000_000_000)
        );
    }

    #[test]
    fn date_sources_parse() {
        assert_eq!("newest".parse::<DateSource>().unwrap(), DateSource::Newest);
        assert_eq!("oldest".parse::<DateSource>().unwrap(), DateSource::Oldest);
        assert_eq!(
            "meta:Deployed-At".parse::<DateSource>().unwrap(),
            DateSource::Meta("deployed-at".into())
        );
        assert!("meta:".parse::<DateSource>().is_err());
        assert!("meta:a b".parse::<DateSource>().is_err());
        assert!("latest".parse::<DateSource>().is_err());
    }
}
