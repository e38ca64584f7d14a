//! One batch on its way: the watch's record waited for, whether each of its deployments may
//! still go (asked once per deployment, just before its first batch is sent: [`Gates`]), the
//! DeleteObjects of what may go, and S3's answer told to the watch. `super` feeds the batches.

use super::batch::BatchAnswer;
use super::tally::Tagged;
use super::{BatchKey, BatchOutcome, Deletion, KeyFailure, Progress, Watch};
use crate::Bucket;
use retention::DeploymentId;
use std::collections::HashMap;
use std::sync::Arc;

/// Whether each deployment's keys may go, decided once — by the first batch holding any of them,
/// once the watch let it go ([`Watch::before_batch`]), just before it is sent — and kept for its
/// later batches, so a deployment goes whole or not at all. Its listing asked too, but its keys
/// may then wait seconds in the queue (behind batches in flight, or the run's start being
/// written): a pin, the live pointer or the live page that names it meanwhile still holds it.
/// (The watch answers from a reading it may have started beside that wait,
/// [`Watch::prefetch`], if that reading is fresh enough by then: `prune` takes one started at
/// most 0.5 s before.)
#[derive(Default)]
pub(super) struct Gates(
    std::sync::Mutex<HashMap<usize, Arc<tokio::sync::OnceCell<Option<String>>>>>,
);

impl Gates {
    /// Why deployment `i` must stay, asked of `watch` the first time only.
    async fn held(&self, i: usize, id: &DeploymentId, watch: &dyn Watch) -> Option<String> {
        let gate = {
            let mut gates = self.0.lock().unwrap_or_else(|e| e.into_inner());
            gates.entry(i).or_default().clone()
        };
        gate.get_or_init(|| watch.hold(id)).await.clone()
    }

    /// Whether deployment `i` was decided already.
    fn decided(&self, i: usize) -> bool {
        let gates = self.0.lock().unwrap_or_else(|e| e.into_inner());
        gates.get(&i).is_some_and(|g| g.initialized())
    }
}

/// What became of a batch: the keys sent and S3's answer; the keys of deployments held at the
/// last moment (not sent, by deployment: how many, and why). A batch the run stopped before
/// sending comes back with nothing sent: its keys stay unanswered.
pub(super) struct Sent {
    pub(super) batch: Vec<Tagged>,
    pub(super) answer: BatchAnswer,
    pub(super) held: Vec<(usize, u64, String)>,
}

impl Sent {
    /// A batch of which nothing went; `held`: what the pins held of it.
    fn nothing(held: Vec<(usize, u64, String)>) -> Sent {
        Sent {
            batch: Vec::new(),
            answer: BatchAnswer::default(),
            held,
        }
    }
}

/// S3 refused every key of a batch as not allowed: the role may not delete here, and every
/// later batch would be refused too (a million keys' failures on record, for nothing). Not
/// when the keys are under S3 Object Lock (S3 says `AccessDenied` for those too): that holds
/// those objects only, and a stop there left the other deployments whose batches had begun
/// partly deleted, on every run.
fn refused_whole(failed: &[KeyFailure], sent: usize) -> bool {
    // Per key, S3 says `AccessDenied: …`; a refused request is `access denied for …`.
    let denied = |e: &str| {
        let locked = e.to_ascii_lowercase().contains("object lock");
        !locked && (e.contains("AccessDenied") || e.starts_with("access denied"))
    };
    sent > 0 && failed.len() >= sent && failed.iter().all(|f| denied(&f.error))
}

/// Batch `n` was not sent (the run stopped first): answered as such, so no reader of the run
/// takes it for sent and unanswered.
pub(super) async fn answer_unsent(n: u64, watch: &dyn Watch) {
    if let Err(e) = watch.after_batch(n, &BatchOutcome::default()).await {
        tracing::warn!(batch = n, error = %e, "that the batch was not sent could not be recorded");
    }
}

impl Bucket {
    /// One batch: `watch` waited for (refused: not sent, every key failed, the run stops); then, unless the run was stopped meanwhile, whether each of its deployments may
    /// still go ([`Gates`]), the DeleteObjects of what may go, and its answer told to `watch`
    /// (refused: the run stops).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn send_watched(
        &self,
        batch: Vec<Tagged>,
        n: u64,
        keys: Vec<BatchKey>,
        how: Deletion,
        watch: &dyn Watch,
        progress: &Progress,
        gates: &Gates,
    ) -> Sent {
        let mut deployments: Vec<(usize, &DeploymentId)> = Vec::new();
        for ((i, _), k) in batch.iter().zip(&keys) {
            if !deployments.iter().any(|(j, _)| j == i) {
                deployments.push((*i, &k.deployment));
            }
        }
        if deployments.iter().any(|(i, _)| !gates.decided(*i)) {
            watch.prefetch();
        }
        let recorded = watch.before_batch(n, &keys).await;
        if let Err(e) = recorded {
            tracing::error!(batch = n, error = %e, "the run could not be recorded before this batch: not sent, stopping");
            progress.request_stop();
            // Answered as unsent, so no reader takes it for sent.
            answer_unsent(n, watch).await;
            let failed = keys
                .into_iter()
                .map(|k| KeyFailure {
                    key: k.key,
                    version_id: k.version_id,
                    error: format!("not sent: {e}"),
                })
                .collect();
            return Sent {
                batch,
                answer: BatchAnswer {
                    failed,
                    markers: Vec::new(),
                },
                held: Vec::new(),
            };
        }
        if progress.stop_requested() {
            // Stopped (a lost lease, a journal write failed, Ctrl-C) while this batch waited
            // for the watch: it is not sent.
            answer_unsent(n, watch).await;
            return Sent::nothing(Vec::new());
        }
        // Asked once the watch let it go (that may have taken seconds), just before sending.
        let holds =
            futures::future::join_all(deployments.iter().map(|(i, id)| gates.held(*i, id, watch)))
                .await;
        let mut held = Vec::new();
        for ((i, id), reason) in deployments.iter().zip(holds) {
            if let Some(reason) = reason {
                let count = batch.iter().filter(|(j, _)| j == i).count() as u64;
                tracing::warn!(deployment = %id, reason, "held since it was listed: none of it is sent");
                held.push((*i, count, reason));
            }
        }
        if progress.stop_requested() {
            // Stopped while the pins were read again: not sent either (what they hold is
            // still reported as held).
            answer_unsent(n, watch).await;
            return Sent::nothing(held);
        }
        let (batch, keys): (Vec<Tagged>, Vec<BatchKey>) = batch
            .into_iter()
            .zip(keys)
            .filter(|((i, _), _)| !held.iter().any(|(j, _, _)| j == i))
            .unzip();
        if batch.is_empty() {
            // Answered (nothing was sent), so no reader of the run takes it for sent.
            if let Err(e) = watch.after_batch(n, &BatchOutcome::default()).await {
                tracing::error!(batch = n, error = %e, "the batch's answer could not be recorded: stopping");
                progress.request_stop();
            }
            return Sent::nothing(held);
        }
        let pairs: Vec<(String, Option<String>)> = batch.iter().map(|(_, k)| k.clone()).collect();
        let mut answer = self
            .delete_batch(&pairs, how == Deletion::Marked, progress)
            .await;
        if refused_whole(&answer.failed, pairs.len()) {
            let actions = match pairs.iter().any(|(_, v)| v.is_some()) {
                true => "s3:DeleteObject and s3:DeleteObjectVersion",
                false => "s3:DeleteObject",
            };
            let why = format!(
                "S3 refused every key of batch {n} (AccessDenied): grant {actions} on \
                 arn:aws:s3:::{}/{}* to whoever runs s3-prune (or lift the bucket policy's Deny \
                 or the Object Lock that refuses it); no new batch was sent after it",
                self.name,
                self.prefix()
            );
            tracing::error!(batch = n, "{why}");
            progress.refuse(why);
        }
        let owner: HashMap<&str, &DeploymentId> = keys
            .iter()
            .map(|k| (k.key.as_str(), &k.deployment))
            .collect();
        let outcome = BatchOutcome {
            markers: answer
                .markers
                .iter()
                .filter_map(|m| Some(((*owner.get(m.key.as_str())?).clone(), m.clone())))
                .collect(),
            failed: answer.failed.clone(),
        };
        if let Err(e) = watch.after_batch(n, &outcome).await {
            tracing::error!(batch = n, error = %e, "the batch's answer could not be recorded: stopping");
            progress.request_stop();
        } else if watch.records_markers() {
            answer.markers.clear();
        }
        Sent {
            batch,
            answer,
            held,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{refused_whole, KeyFailure};

    fn failed(error: &str) -> KeyFailure {
        KeyFailure {
            key: "d/index.html".into(),
            version_id: None,
            error: error.into(),
        }
    }

    /// A batch of keys under Object Lock is refused key by key with `AccessDenied` too; it
    /// does not stop the run as a role without s3:DeleteObject does.
    #[test]
    fn keys_under_object_lock_do_not_stop_the_run() {
        let denied = failed("AccessDenied: Access Denied");
        assert!(refused_whole(&[denied.clone(), denied], 2));
        let locked = failed("AccessDenied: Access Denied because object protected by object lock.");
        assert!(!refused_whole(&[locked.clone(), locked], 2));
        assert!(
            !refused_whole(&[failed("AccessDenied: Access Denied")], 2),
            "one of two"
        );
    }
}
