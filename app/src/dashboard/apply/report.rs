//! What an apply shows while it runs and when it ends: the progress bar, then the report —
//! deleted, handed to S3 lifecycle expiration, left whole, left untouched, newer objects left in
//! place, failures.

use crate::format;
use crate::wire::{ApplyReport, JobStatus};
use leptos::prelude::*;

/// The progress of a running apply, or its report once it ended.
#[component]
pub fn Outcome(status: JobStatus) -> impl IntoView {
    match status.report {
        None => view! { <Progress status /> }.into_any(),
        Some(record) => view! { <Report record /> }.into_any(),
    }
}

#[component]
fn Progress(status: JobStatus) -> impl IntoView {
    let s = status;
    view! {
        <div class="progress" role="status" data-testid="progress">
            <progress max=s.objects_total.max(1) value=s.objects_done></progress>
            <span>{format!("Deleting: {} of {} deployments, {} of {} objects",
                s.deployments_done, s.deployments_total, s.objects_done, s.objects_total)}</span>
        </div>
    }
}

#[component]
fn Report(record: ApplyReport) -> impl IntoView {
    let r = record;
    let class = if r.complete {
        "report ok"
    } else {
        "report failed"
    };
    let headline = format!(
        "Deleted {} from {} in {:.1} s{}.",
        format::plural(r.objects, "object", "objects"),
        format::plural(r.deployments, "deployment", "deployments"),
        r.duration_ms as f64 / 1000.0,
        r.id.map(|id| format!(" (audit record #{id})"))
            .unwrap_or_default()
    );
    let left_alone = (!r.left_alone.is_empty()).then(|| view! {
        <ul class="held" data-testid="left-whole">
            {r.left_alone.iter().map(|l| view! { <li><code>{l.deployment.clone()}</code>{format!(": {}.", l.what)}</li> }).collect_view()}
        </ul>
    });
    view! {
        <div class=class role="status" data-testid="report">
            <p>{headline}</p>
            {r.unrecorded.clone().map(|why| view! {
                <p data-testid="unrecorded">{format!(
                    "Its end could not be recorded in the bucket's journal or this server's log ({why}): \
                     History may show the run as still running. Check that this server may write there."
                )}</p>
            })}
            {r.stopped.then(|| view! {
                <p>"Stopped (the server shut down): no deletion was started after the stop. Apply again to finish."</p>
            })}
            {left_alone}
            <Leftovers report=r />
        </div>
    }
}

/// Objects newer than the preview left in place, and objects that failed (the first
/// [`crate::wire::REPORT_LINES`] each; History has every one).
#[component]
fn Leftovers(report: ApplyReport) -> impl IntoView {
    let r = report;
    let skipped = format!(
        "{} newer than the preview appeared while a deployment was deleted, left in place:",
        format::plural(r.skipped_total, "object", "objects")
    );
    let failed = format!(
        "{} failed:",
        format::plural(r.failures_total, "object", "objects")
    );
    view! {
        {(r.skipped_total > 0).then(|| view! {
            <p>{skipped}</p>
            <ul class="failures">
                {r.skipped.iter().map(|k| view! { <li><code>{k.clone()}</code></li> }).collect_view()}
            </ul>
        })}
        {(r.failures_total > 0).then(|| view! {
            <p>{failed}</p>
            <ul class="failures">
                {r.failures.iter().map(|f| view! { <li><code>{f.key.clone()}</code>": "{f.error.clone()}</li> }).collect_view()}
            </ul>
        })}
    }
}
