//! The retention policy of s3-prune, as a pure function.
//!
//! [`plan`] takes what a scan saw ([`Inventory`]), what the user asked for ([`Policy`]) and the
//! current time, and returns a [`Plan`]: for every deployment keep or delete and *why*. Nothing
//! here does IO, so the CLI, the dashboard (in the browser, compiled to wasm) and the scheduled
//! job all decide with exactly this code.

mod glob;
mod inventory;
mod plan;
mod policy;
mod policy_file;
mod rules;
mod span;
mod spec;

pub use glob::{Glob, GlobError};
pub use inventory::{
    Deployment, DeploymentId, IdError, Inventory, LiveRefs, LooseObjects, Pin, Remembered,
    Versioning, WasLive,
};
pub use plan::{
    plan, Action, Block, Dated, Doomed, Entry, Ordered, Plan, Reason, RuleSummary, Scope, Summary,
    Totals, Warning,
};
pub use policy::{
    parse_days, DateOrigin, DateSource, DateSourceError, MetaFallback, Policy, PolicyError, Retain,
    DEFAULT_LIVE_GRACE, DEFAULT_MAX_DELETE,
};
#[cfg(feature = "file")]
pub use policy_file::parse_policy;
pub use policy_file::{policy_to_toml, PolicyFileError, MAX_POLICY_BYTES};
pub use rules::{
    GroupPattern, Rule, RuleError, RuleName, Rules, MAX_PATTERN_CHARS, MAX_PATTERN_COMPILED,
    MAX_RULES,
};
pub use span::{human_age, human_size, minute_utc, Span, SpanError};
pub use spec::{PolicySpec, SpecError, Widening};
