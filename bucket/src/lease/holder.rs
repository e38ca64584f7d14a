//! Who holds a bucket's lease: the record in the lease object, how a refused run names it, and
//! whether its process is known to be gone from this host (then it is taken over at once).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who holds a bucket's lease: what the lease object holds, and what a refused run is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseHolder {
    /// The run id (`runs/<id>/` in the journal).
    pub run: String,
    /// The person or principal (`user@host`, the dashboard's user, the Lambda ARN).
    pub who: String,
    /// `cli`, `dashboard` or `lambda`.
    pub source: String,
    pub host: String,
    pub since: DateTime<Utc>,
    /// Renewed while the run lasts; after it, another run may take the lease over.
    pub expires: DateTime<Utc>,
    /// The holder's process id on `host`: a holder on this host whose process is gone (killed)
    /// is taken over at once instead of after its expiry.
    #[serde(default)]
    pub pid: u32,
    /// The holder's PID namespace (`/proc/self/ns/pid`, e.g. `pid:[4026531836]`): containers
    /// sharing a host name (host networking) each see their own processes, so a pid missing
    /// here says nothing of another namespace's. Empty where unknown (then never "gone").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pid_ns: String,
    /// How long each write of the lease lasts without a renewal, in seconds: a taker compares
    /// it with the time since the server last wrote the lease, by the server's clock (hosts'
    /// clocks may disagree). Absent in leases written before: then `expires` decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<u64>,
    /// What holds the bucket, for anyone refused meanwhile. Absent in leases written before
    /// (then an apply or a restore).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<LeaseTask>,
}

/// What a lease is held for: everything that deletes, brings back or edits the bucket's
/// lifecycle rules takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeaseTask {
    /// `apply` from any front end.
    Apply,
    /// `restore --run` or History's Restore.
    Restore,
    /// `undo-window`: the rule for old versions.
    UndoWindow,
    /// Named by a newer s3-prune: still a holder (the lease is read, and holds).
    #[serde(other)]
    Other,
}

impl LeaseTask {
    /// What holds the bucket, in a sentence ("another apply holds this bucket"); a lease that
    /// does not say was written by an apply or a restore of an older s3-prune.
    pub fn name(task: Option<LeaseTask>) -> &'static str {
        match task {
            None | Some(LeaseTask::Apply) => "apply",
            Some(LeaseTask::Restore) => "restore",
            Some(LeaseTask::UndoWindow) => "undo-window change",
            Some(LeaseTask::Other) => "run",
        }
    }
}

impl LeaseHolder {
    /// Its process is known to be gone, seen from this process on `host`: the same host and
    /// PID namespace, and no such process here (a run killed on this machine).
    pub fn is_gone_from(&self, host: &str) -> bool {
        let me = LeaseHolder {
            host: host.to_string(),
            pid: std::process::id(),
            pid_ns: pid_namespace(),
            ..self.clone()
        };
        self.is_dead_here(&me)
    }

    /// Its process is known to be gone: same host and PID namespace, and no such process here.
    pub(super) fn is_dead_here(&self, me: &LeaseHolder) -> bool {
        self.host == me.host
            && !self.pid_ns.is_empty()
            && self.pid_ns == me.pid_ns
            && self.pid != 0
            && self.pid != me.pid
            && cfg!(target_os = "linux")
            && !std::path::Path::new(&format!("/proc/{}", self.pid)).exists()
    }
}

/// This process's PID namespace ([`LeaseHolder::pid_ns`]), with the machine's boot id (the
/// first namespace has the same number on every Linux machine, and two machines may share a
/// host name); empty where either cannot be read.
pub fn pid_namespace() -> String {
    let ns = std::fs::read_link("/proc/self/ns/pid").map(|p| p.display().to_string());
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id");
    match (boot, ns) {
        (Ok(boot), Ok(ns)) => format!("{}/{ns}", boot.trim()),
        _ => String::new(),
    }
}

impl std::fmt::Display for LeaseHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({} on {}, run {}) since {}, lease valid until {}",
            self.who,
            self.source,
            self.host,
            self.run,
            self.since.format("%Y-%m-%d %H:%M:%S UTC"),
            // The date too when it is not the start's: a lease valid for days (a foreign
            // one, or a holder whose clock runs fast) read as one already expired.
            if self.expires.date_naive() == self.since.date_naive() {
                self.expires.format("%H:%M:%S UTC").to_string()
            } else {
                self.expires.format("%Y-%m-%d %H:%M:%S UTC").to_string()
            }
        )
    }
}
