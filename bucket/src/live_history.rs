//! What the live pointer named before, and until when: the live grace's input. Two sources,
//! both best effort (a grace is a courtesy; what is live *now* is still read strictly):
//! - on a versioned bucket, the pointer object's earlier versions — each named a deployment
//!   until the next version replaced it;
//! - everywhere, `<prefix>.s3-prune/live-seen.json`, where every scan that reads the pointer
//!   records a change it sees (the time it first saw the new one is when the old one stopped).
//!   Only the values scans see are known there: on a bucket without versioning, a deployment
//!   the pointer named only between two scans gets no grace.
//!
//! A `live-seen.json` that is not one stops the scan, as a damaged dates file does: overwritten,
//! the deployments it remembers as live until recently would lose their grace. A change is
//! recorded only when the pointer names a deployment that exists (a mistyped `--prefix` leaves
//! no state folder behind).

use crate::scan::RESERVED;
use crate::{Bucket, S3Error};
use chrono::{DateTime, Utc};
use retention::{DeploymentId, WasLive};
use serde::{Deserialize, Serialize};

/// Earlier deployments the pointer's versions are read for (the newest ones: a grace is hours
/// or days) ...
const VERSIONS_READ: usize = 5;
/// ... reading at most this many versions: a pipeline that writes the same pointer on every
/// run leaves many versions naming one deployment.
const VERSIONS_READ_MAX: usize = 40;
/// Changes kept in `live-seen.json`.
const CHANGES_KEPT: usize = 20;
const SEEN: &str = "live-seen.json";

/// `live-seen.json`: the pointer, what it names now and since when, and what it named before.
#[derive(Debug, Default, Serialize, Deserialize)]
struct LiveSeen {
    pointer: String,
    current: Option<DeploymentId>,
    since: Option<DateTime<Utc>>,
    #[serde(default)]
    previous: Vec<WasLive>,
}

impl Bucket {
    /// The deployments `key` named before `live`, each with when it stopped; records a change
    /// of the pointer in `live-seen.json` on the way. With why the pointer's earlier versions
    /// could not be listed, if they could not (the plan warns: the grace knows less). `now`
    /// is S3's (a change is dated by it, not by a host whose clock may be days off).
    pub(crate) async fn live_history(
        &self,
        key: &str,
        live: &DeploymentId,
        versioned: bool,
        now: DateTime<Utc>,
    ) -> Result<(Vec<WasLive>, Option<String>), S3Error> {
        let (seen, versions) = futures::join!(self.observe_live(key, live, now), async {
            if versioned {
                self.pointer_versions(key).await
            } else {
                Ok(Vec::new())
            }
        });
        let mut seen = seen?;
        let unread = match versions {
            Ok(versions) => {
                seen.extend(versions);
                None
            }
            Err(e) => Some(e.to_string()),
        };
        seen.retain(|w| &w.id != live);
        Ok((seen, unread))
    }

    /// Reads `live-seen.json` and, when the pointer names another deployment than it says,
    /// writes the change (the old one was live until `now`, S3's): every scan does, and an
    /// apply for each change it reads mid-run. Returns what it named before.
    pub async fn observe_live(
        &self,
        key: &str,
        live: &DeploymentId,
        now: DateTime<Utc>,
    ) -> Result<Vec<WasLive>, S3Error> {
        let seen = match self.read_state(SEEN).await {
            Ok(Some(body)) => {
                serde_json::from_slice::<LiveSeen>(&body).map_err(|e| S3Error::Pointer {
                    key: format!("{}{RESERVED}/{SEEN}", self.prefix),
                    problem: format!(
                        "it is not s3-prune's record of the live pointer ({e}): restore its \
                         previous version, or remove it to start recording afresh (the \
                         deployments it remembers as live until recently then lose their grace)"
                    ),
                })?
            }
            Ok(None) => LiveSeen::default(),
            // Not read, the deployments live until recently would lose their grace and be
            // planned like any other: the scan stops instead (as for `dates.json`).
            Err(e) => return Err(e),
        };
        let mut seen = if seen.pointer == key {
            seen
        } else {
            LiveSeen {
                pointer: key.to_string(),
                ..LiveSeen::default()
            }
        };
        if seen.current.as_ref() == Some(live) {
            return Ok(seen.previous);
        }
        // A pointer naming nothing here blocks the plan anyway; recording it would make a
        // state folder under a mistyped prefix. Not known (the listing failed): recorded, so
        // the deployment live until now keeps its grace.
        if matches!(self.folder_is_empty(live).await, Ok(true)) {
            return Ok(seen.previous);
        }
        if let Some(old) = seen.current.take() {
            seen.previous.insert(
                0,
                WasLive {
                    id: old,
                    until: now,
                },
            );
            seen.previous.truncate(CHANGES_KEPT);
        }
        seen.current = Some(live.clone());
        seen.since = Some(now);
        let body = serde_json::to_vec_pretty(&seen).expect("live-seen serializes");
        if let Err(e) = self.write_state(SEEN, body).await {
            tracing::info!(error = %e, "the live pointer's change could not be recorded in {RESERVED}/{SEEN}");
        }
        Ok(seen.previous)
    }

    /// The pointer's earlier versions, newest first: each named its deployment until the next
    /// version was written. An error when they cannot be listed.
    async fn pointer_versions(&self, key: &str) -> Result<Vec<WasLive>, S3Error> {
        let out = match self
            .client
            .list_object_versions()
            .bucket(&self.name)
            .prefix(key)
            .max_keys(1000)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let e = self.err(e, "s3:ListBucketVersions");
                tracing::warn!(error = %e, "the live pointer's earlier versions could not be listed: the live grace knows only what scans saw");
                return Err(e);
            }
        };
        let mut versions: Vec<(DateTime<Utc>, String)> = out
            .versions()
            .iter()
            .filter(|v| v.key() == Some(key))
            .filter_map(|v| {
                let at = DateTime::from_timestamp_millis(v.last_modified()?.to_millis().ok()?)?;
                Some((at, v.version_id()?.to_string()))
            })
            .collect();
        versions.sort_by_key(|v| std::cmp::Reverse(v.0));
        // Version k named its deployment until version k-1 replaced it; a deployment named by
        // several versions was live until the newest of them was replaced. Read a few at once,
        // until VERSIONS_READ deployments are known.
        let mut out: Vec<WasLive> = Vec::new();
        let pairs: Vec<_> = versions.windows(2).take(VERSIONS_READ_MAX).collect();
        for chunk in pairs.chunks(VERSIONS_READ) {
            let reads = chunk.iter().map(|pair| async move {
                let (replaced_at, older) = (pair[0].0, &pair[1].1);
                match self.read_pointer_version(key, older).await {
                    Ok(id) => Some(WasLive {
                        id,
                        until: replaced_at,
                    }),
                    Err(e) => {
                        tracing::warn!(error = %e, version = older, "an earlier version of the live pointer could not be read");
                        None
                    }
                }
            });
            for was in futures::future::join_all(reads).await.into_iter().flatten() {
                if !out.iter().any(|w| w.id == was.id) {
                    out.push(was);
                }
            }
            if out.len() > VERSIONS_READ {
                break;
            }
        }
        Ok(out)
    }

    async fn read_pointer_version(&self, key: &str, version: &str) -> Result<DeploymentId, String> {
        let out = self
            .client
            .get_object()
            .bucket(&self.name)
            .key(key)
            .version_id(version)
            .send()
            .await
            .map_err(|e| self.err(e, "s3:GetObjectVersion").to_string())?;
        let body = out.body.collect().await.map_err(|e| e.to_string())?;
        let text = String::from_utf8(body.into_bytes().to_vec()).map_err(|e| e.to_string())?;
        crate::state::parse_pointer(&text, &self.prefix)
    }
}
