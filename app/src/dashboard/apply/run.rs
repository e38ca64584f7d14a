//! One apply from the browser's side: ask the server to start it, then follow its progress
//! until the report (or the reason it never started), and rescan once it ended.

use crate::api::{apply_status, start_apply};
use crate::dashboard::browser::sleep_ms;
use crate::dashboard::server_error;
use crate::wire::{ApplyOutcome, ApplyRequest, JobStatus};
use leptos::prelude::*;

/// How often the page asks how far the apply got.
const POLL_MS: u32 = 250;

/// Where the run's state shows on the page.
#[derive(Clone, Copy)]
pub struct Shown {
    pub job: RwSignal<Option<JobStatus>>,
    pub notice: RwSignal<Option<String>>,
    pub rescan: RwSignal<u32>,
}

impl Shown {
    fn ended(&self, notice: Option<String>) {
        self.job.set(None);
        self.notice.set(notice);
    }
}

/// Starts the confirmed apply (`objects` to delete) and follows it to its end.
pub fn run(req: ApplyRequest, objects: u64, shown: Shown) {
    shown.job.set(Some(JobStatus {
        deployments_done: 0,
        deployments_total: req.confirmed.len() as u64,
        objects_done: 0,
        objects_total: objects,
        report: None,
        error: None,
    }));
    shown.notice.set(None);
    leptos::task::spawn_local(async move {
        match start_apply(req).await {
            Ok(ApplyOutcome::Started { job }) => follow(job, shown).await,
            Ok(
                ApplyOutcome::Changed { message } | ApplyOutcome::AwaitingApproval { message, .. },
            ) => {
                shown.ended(Some(message));
                shown.rescan.update(|n| *n += 1);
            }
            Err(e) => shown.ended(Some(format!("Apply refused: {}", server_error(&e)))),
        }
    });
}

/// Polls job `job` until it reports, failed to start, or cannot be followed.
pub async fn follow(job: u64, shown: Shown) {
    loop {
        match apply_status(job).await {
            Ok(s) if s.error.is_some() => {
                return shown.ended(s.error.map(|e| format!("Apply refused: {e}")));
            }
            Ok(s) => {
                let done = s.report.is_some();
                shown.job.set(Some(s));
                if done {
                    shown.rescan.update(|n| *n += 1);
                    return;
                }
            }
            Err(e) => {
                let why = format!("Lost track of the apply: {}", server_error(&e));
                return shown.ended(Some(why));
            }
        }
        sleep_ms(POLL_MS).await;
    }
}
