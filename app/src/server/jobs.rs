//! The dashboard's apply jobs, as a page polls them for progress and report: each under an id
//! no earlier server's job had (a page polling across a restart is told its job is unknown, not
//! shown another person's run), kept for an hour after it ends, then forgotten.

use super::AppError;
use crate::wire::JobStatus;
use bucket::Progress;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an ended job's report stays to be polled: a page left open over lunch still gets
/// its report; a server running for months does not keep every run it ever made.
pub(super) const KEEP_ENDED: Duration = Duration::from_secs(3600);

/// One apply from this dashboard: what it will delete by requests, its live counters, and once
/// it has ended, how.
pub(super) struct Job {
    pub(super) deployments_total: u64,
    pub(super) objects_total: u64,
    pub(super) progress: Arc<Progress>,
    /// Set when the apply ended: how, or why it never started (nothing deleted), and when.
    outcome: Mutex<Option<(Instant, Result<Ended, String>)>>,
}

/// How an apply ended: its record, and why its end could not be recorded, if it could not.
#[derive(Clone)]
pub(super) struct Ended {
    pub(super) record: audit::Record,
    pub(super) unrecorded: Option<String>,
}

impl Job {
    pub(super) fn new(deployments_total: u64, objects_total: u64) -> Job {
        Job {
            deployments_total,
            objects_total,
            progress: Arc::new(Progress::default()),
            outcome: Mutex::new(None),
        }
    }

    pub(super) fn end(&self, outcome: Result<Ended, String>) {
        *self.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), outcome));
    }

    fn ended_before(&self, t: Instant) -> bool {
        let outcome = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        outcome.as_ref().is_some_and(|(at, _)| *at < t)
    }

    fn status(&self) -> JobStatus {
        let outcome = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        let (report, error) = match outcome.as_ref().map(|(_, o)| o) {
            Some(Ok(e)) => (
                Some(crate::wire::ApplyReport::of(
                    &e.record,
                    e.unrecorded.as_deref(),
                )),
                None,
            ),
            Some(Err(e)) => (None, Some(e.clone())),
            None => (None, None),
        };
        JobStatus {
            deployments_done: self.progress.deployments_done.load(Ordering::Relaxed),
            deployments_total: self.deployments_total,
            objects_done: self.progress.objects_done.load(Ordering::Relaxed),
            objects_total: self.objects_total,
            report,
            error,
        }
    }
}

/// The jobs of this server.
pub(super) struct Jobs {
    jobs: Mutex<HashMap<u64, Arc<Job>>>,
    next: AtomicU64,
    /// The server is shutting down: a job added now is asked to stop before it starts.
    stopping: AtomicBool,
}

impl Default for Jobs {
    /// Ids start at this server's start in milliseconds since 1970: above every id a server
    /// started earlier gave (unless it started more than one job a millisecond), and below
    /// 2^53, so the browser reads them exactly.
    fn default() -> Jobs {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_millis() as u64);
        Jobs::starting_at(ms)
    }
}

impl Jobs {
    fn starting_at(first: u64) -> Jobs {
        Jobs {
            jobs: Mutex::default(),
            next: AtomicU64::new(first.max(1)),
            stopping: AtomicBool::new(false),
        }
    }

    /// Adds `job` under a new id, forgetting the jobs that ended more than [`KEEP_ENDED`] ago.
    pub(super) fn add(&self, job: Arc<Job>) -> u64 {
        self.add_at(job, Instant::now())
    }

    fn add_at(&self, job: Arc<Job>, now: Instant) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(cut) = now.checked_sub(KEEP_ENDED) {
            jobs.retain(|_, j| !j.ended_before(cut));
        }
        jobs.insert(id, job.clone());
        drop(jobs);
        // After the insert: either [`Jobs::stop_all`] saw this job, or this sees its flag.
        if self.stopping.load(Ordering::SeqCst) {
            job.progress.request_stop();
        }
        id
    }

    /// Asks every job to stop after its requests in flight, and every job added from now on
    /// before it starts (an approval whose request had gone away may still launch one).
    pub(super) fn stop_all(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        for j in self.all() {
            j.progress.request_stop();
        }
    }

    /// Every job kept (running or ended).
    pub(super) fn all(&self) -> Vec<Arc<Job>> {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.values().cloned().collect()
    }

    pub(super) fn status(&self, id: u64) -> Result<JobStatus, AppError> {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let job = jobs.get(&id).cloned().ok_or_else(|| {
            AppError(format!(
                "no apply job {id} on this server: it ended more than an hour ago, or the \
                 server was restarted since. History has every run"
            ))
        })?;
        drop(jobs);
        Ok(job.status())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(job: &Job, at: Instant) {
        *job.outcome.lock().unwrap() = Some((at, Err("nothing deleted".into())));
    }

    #[test]
    fn ended_jobs_are_forgotten_an_hour_after_their_end_running_ones_never() {
        let jobs = Jobs::starting_at(1);
        let t0 = Instant::now();
        let (running, done) = (Arc::new(Job::new(1, 1)), Arc::new(Job::new(1, 1)));
        let running_id = jobs.add_at(running, t0);
        let done_id = jobs.add_at(done.clone(), t0);
        ended(&done, t0);
        jobs.add_at(Arc::new(Job::new(1, 1)), t0 + KEEP_ENDED / 2);
        assert!(
            jobs.status(done_id).is_ok(),
            "kept while its report may be polled"
        );
        jobs.add_at(
            Arc::new(Job::new(1, 1)),
            t0 + KEEP_ENDED + Duration::from_secs(1),
        );
        let gone = jobs.status(done_id).err().unwrap().0;
        assert!(gone.contains("History has every run"), "{gone}");
        assert!(
            jobs.status(running_id).is_ok(),
            "a running job is never forgotten"
        );
        assert_eq!(jobs.all().len(), 3);
    }

    #[test]
    fn a_restarted_server_gives_no_id_an_earlier_one_gave() {
        let before = Jobs::default();
        let (a, b) = (
            before.add(Arc::new(Job::new(1, 1))),
            before.add(Arc::new(Job::new(1, 1))),
        );
        std::thread::sleep(Duration::from_millis(5));
        let after = Jobs::default();
        let c = after.add(Arc::new(Job::new(1, 1)));
        assert!(c > a && c > b, "{c} after {a}, {b}");
        assert!(
            after.status(a).is_err(),
            "the page polling job {a} is told it is unknown"
        );
        assert!(c < 1 << 53, "read exactly by the browser");
    }
}
