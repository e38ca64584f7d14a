//! The bookkeeping of a deletion under way: each key tagged with its deployment, listings filed
//! into batches, answers booked per deployment, and the report made of it at the end.

use super::listing::{Key, Listed};
use super::report::{
    ChangedSincePlan, DeleteReport, DeploymentOutcome, KeyFailure, NewMarker, NewerKey, Progress,
};
use super::{BatchAnswer, BatchKey};
use retention::Doomed;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::time::Instant;

/// One key to delete, tagged with the deployment (index into the caller's list) it belongs to.
pub(super) type Tagged = (usize, Key);

/// A batch's keys with the deployment each belongs to, as the watch is told them.
pub(super) fn keys_of(batch: &[Tagged], doomed: &[Doomed]) -> Vec<BatchKey> {
    batch
        .iter()
        .map(|(i, (key, version_id))| BatchKey {
            deployment: doomed[*i].id.clone(),
            key: key.clone(),
            version_id: version_id.clone(),
        })
        .collect()
}

/// Per-deployment bookkeeping while its keys are in flight.
#[derive(Default)]
pub(super) struct Tally {
    listed: u64,
    deleted: u64,
    /// Keys sent but not yet answered; the deployment is done when listed and this is 0.
    open: u64,
    failed: Vec<KeyFailure>,
    skipped: Vec<NewerKey>,
    markers: Vec<NewMarker>,
    /// Its listing is complete (all its keys are in the pipeline).
    listed_ok: bool,
    held: Option<String>,
    changed: Option<ChangedSincePlan>,
}

/// Books one batch's answer to the deployments its keys came from: a key is deleted unless the
/// answer names it as failed; a deployment is done once every one of its keys is answered.
pub(super) fn book(tally: &mut [Tally], sent: &[Tagged], answer: BatchAnswer, progress: &Progress) {
    let BatchAnswer { failed, markers } = answer;
    let owner: HashMap<&str, usize> = sent.iter().map(|(i, (k, _))| (k.as_str(), *i)).collect();
    for m in markers {
        if let Some(&i) = owner.get(m.key.as_str()) {
            tally[i].markers.push(m);
        }
    }
    let mut sent_to: HashMap<usize, u64> = HashMap::new();
    for (i, _) in sent {
        *sent_to.entry(*i).or_default() += 1;
    }
    let mut failed_of: HashMap<usize, u64> = HashMap::new();
    for f in failed {
        // delete_batch reports only keys it was given; anything else is ignored.
        if let Some(&i) = owner.get(f.key.as_str()) {
            *failed_of.entry(i).or_default() += 1;
            tally[i].failed.push(f);
        }
    }
    for (i, n) in sent_to {
        let bad = failed_of.get(&i).copied().unwrap_or(0);
        let t = &mut tally[i];
        t.deleted += n - bad;
        t.open -= n;
        progress.objects_done.fetch_add(n - bad, Ordering::Relaxed);
        progress.objects_failed.fetch_add(bad, Ordering::Relaxed);
        if t.open == 0 && t.listed_ok {
            progress.deployments_done.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Deployment `i` was held just before `count` of its listed keys were sent (none of its keys
/// goes, [`super::Gates`]): those keys are not deleted, and it is reported held.
pub(super) fn hold_unsent(
    tally: &mut [Tally],
    i: usize,
    count: u64,
    reason: String,
    progress: &Progress,
) {
    let t = &mut tally[i];
    t.open -= count;
    t.held.get_or_insert(reason);
    if t.open == 0 && t.listed_ok {
        progress.deployments_done.fetch_add(1, Ordering::Relaxed);
    }
}

/// Files one listing message: keys into the batch being filled (full batches to `ready`),
/// a deployment's listing done, failed, held or changed since the plan, keys skipped as newer.
pub(super) fn file_listed(
    listed: Listed,
    tally: &mut [Tally],
    batch: &mut Vec<Tagged>,
    ready: &mut VecDeque<Vec<Tagged>>,
    batch_size: usize,
    progress: &Progress,
) {
    let done = || {
        progress.deployments_done.fetch_add(1, Ordering::Relaxed);
    };
    match listed {
        Listed::Keys { i, keys } => {
            let t = &mut tally[i];
            t.listed += keys.len() as u64;
            t.open += keys.len() as u64;
            for k in keys {
                batch.push((i, k));
                if batch.len() == batch_size {
                    ready.push_back(std::mem::take(batch));
                }
            }
        }
        Listed::Done { i, result: Ok(()) } => {
            tally[i].listed_ok = true;
            if tally[i].open == 0 {
                done();
            }
        }
        Listed::Done {
            i,
            result: Err(failure),
        } => {
            tally[i].failed.push(failure);
            done();
        }
        Listed::Held { i, reason } => {
            tally[i].held = Some(reason);
            done();
        }
        Listed::Changed { i, changed } => {
            tally[i].changed = Some(changed);
            done();
        }
        Listed::Newer { i, keys } => tally[i].skipped.extend(keys),
    }
}

/// The report of a deletion: per deployment what it listed, deleted, failed, skipped.
pub(super) fn report_of(
    doomed: &[Doomed],
    tally: Vec<Tally>,
    stopped: bool,
    start: Instant,
) -> DeleteReport {
    let mut report = DeleteReport {
        stopped,
        ..Default::default()
    };
    for (d, t) in doomed.iter().zip(tally) {
        report.deleted_objects += t.deleted;
        report.failed.extend(t.failed.iter().cloned());
        report.deployments.push(DeploymentOutcome {
            id: d.id.clone(),
            listed: t.listed,
            deleted: t.deleted,
            failed: t.failed,
            skipped: t.skipped,
            finished: t.listed_ok && t.open == 0,
            markers: t.markers,
            held: t.held,
            changed: t.changed,
        });
    }
    report.deployments.sort_by(|a, b| a.id.cmp(&b.id));
    report.duration_ms = start.elapsed().as_millis() as u64;
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tagged(i: usize, key: &str) -> Tagged {
        (i, (key.to_string(), None))
    }

    #[test]
    fn a_shared_batch_books_each_key_to_its_own_deployment() {
        let progress = Progress::default();
        let mut tally: Vec<Tally> = (0..3).map(|_| Tally::default()).collect();
        tally[0].open = 2;
        tally[1].open = 3;
        tally[2].open = 1;
        for t in &mut tally {
            t.listed_ok = true; // each listing is complete: done once its keys are answered
        }
        // The first batch carries all of deployment 0 and part of deployment 1.
        let sent = [
            tagged(0, "a/1"),
            tagged(0, "a/2"),
            tagged(1, "b/1"),
            tagged(1, "b/2"),
        ];
        let failed = vec![KeyFailure {
            key: "b/2".into(),
            version_id: None,
            error: "AccessDenied: no".into(),
        }];
        let markers = vec![NewMarker {
            key: "b/1".into(),
            version_id: "m1".into(),
        }];
        book(
            &mut tally,
            &sent,
            BatchAnswer { failed, markers },
            &progress,
        );
        assert_eq!(
            tally[1].markers[0].version_id, "m1",
            "a marker goes to its deployment"
        );
        assert_eq!(
            (tally[0].deleted, tally[0].open, tally[0].failed.len()),
            (2, 0, 0)
        );
        assert_eq!((tally[1].deleted, tally[1].open), (1, 1));
        assert_eq!(tally[1].failed[0].key, "b/2");
        assert_eq!(progress.deployments_done.load(Ordering::Relaxed), 1);
        assert_eq!(progress.objects_done.load(Ordering::Relaxed), 3);
        assert_eq!(progress.objects_failed.load(Ordering::Relaxed), 1);

        book(
            &mut tally,
            &[tagged(1, "b/3"), tagged(2, "c/1")],
            BatchAnswer::default(),
            &progress,
        );
        assert_eq!((tally[1].deleted, tally[1].open), (2, 0));
        assert_eq!((tally[2].deleted, tally[2].open), (1, 0));
        assert_eq!(progress.deployments_done.load(Ordering::Relaxed), 3);
        assert_eq!(progress.objects_done.load(Ordering::Relaxed), 5);
    }
}
