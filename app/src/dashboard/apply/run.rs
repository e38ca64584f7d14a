//! One apply from the browser's side: ask the server to start it, then follow its progress
//! until the report (or the reason it never started), and rescan once it ended. A refusal is
//! the server's answer (nothing started); a request or reply lost on the way is not one: the
//! run may be going, so the page says where to look and rescans, and a lost progress poll is
//! asked again for a while before the page gives up following.

use crate::api::{apply_status, start_apply};
use crate::dashboard::browser::sleep_ms;
use crate::dashboard::{server_error, SIGNED_OUT};
use crate::wire::{ApplyOutcome, ApplyRequest, JobStatus};
use leptos::prelude::*;

/// How often the page asks how far the apply got.
const POLL_MS: u32 = 250;
/// How long the page keeps asking through failed polls (waiting longer after each) before it
/// stops following the run.
const PATIENCE_MS: u32 = 30_000;

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

    /// `e` failed a request that may have started a run (`what`: what may have happened): the page
    /// cannot tell, so it says where to look and rescans (the lease and the bucket as they are).
    /// The server's own answer is a refusal: `refused` then, nothing started.
    pub fn unsure(&self, e: &ServerFnError, refused: &str, what: &str) {
        let m = server_error(e);
        self.ended(Some(match e {
            // The server's answer, or its sign-in page: refused, nothing started.
            ServerFnError::ServerError(_) => format!("{refused}: {m}"),
            _ if m == SIGNED_OUT => format!("{refused}: {m}"),
            _ => format!(
                "No answer from the server ({m}): {what} all the same. The page was scanned \
                 again; History lists every run."
            ),
        }));
        self.rescan.update(|n| *n += 1);
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
            Err(e) => shown.unsure(&e, "Apply refused", "the apply may have started"),
        }
    });
}

/// Polls job `job` until it reports or failed to start; a failed poll is asked again, later
/// each time, for [`PATIENCE_MS`] before the page stops following (the run may still go on).
pub async fn follow(job: u64, shown: Shown) {
    let (mut wait, mut failing) = (POLL_MS, 0);
    loop {
        match apply_status(job).await {
            Ok(s) if s.error.is_some() => {
                // Refused by the engine (the lease held elsewhere, a changed bucket): the page
                // shows the bucket and its lease as they are now.
                shown.ended(s.error.map(|e| format!("Apply refused: {e}")));
                return shown.rescan.update(|n| *n += 1);
            }
            Ok(s) => {
                let done = s.report.is_some();
                shown.job.set(Some(s));
                if done {
                    shown.rescan.update(|n| *n += 1);
                    return;
                }
                (wait, failing) = (POLL_MS, 0);
            }
            // The server's own answer (no such job: it restarted, and its numbers begin
            // again) or the sign-in page is final; only a poll lost on the way is asked again.
            Err(e)
                if failing >= PATIENCE_MS
                    || matches!(e, ServerFnError::ServerError(_))
                    || server_error(&e) == SIGNED_OUT =>
            {
                let m = server_error(&e);
                shown.ended(Some(format!(
                    "Lost track of the apply ({m}): it may still be running. History shows how \
                     it ends; the page was scanned again."
                )));
                return shown.rescan.update(|n| *n += 1);
            }
            Err(_) => {
                failing += wait;
                wait = (wait * 2).min(4_000);
            }
        }
        sleep_ms(wait).await;
    }
}
