//! What an apply shows while it runs and when it ends: the progress bar, then the report —
//! deleted, left whole, left untouched, newer objects left in place, failures.

use crate::format;
use crate::wire::JobStatus;
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
fn Report(record: audit::Record) -> impl IntoView {
    let r = record;
    let class = if r.is_complete() {
        "report ok"
    } else {
        "report failed"
    };
    let headline = format!(
        "Deleted {} from {} in {:.1} s{}.",
        format::plural(r.deleted_objects, "object", "objects"),
        format::plural(r.deleted.len() as u64, "deployment", "deployments"),
        r.duration_ms as f64 / 1000.0,
        r.id.map(|id| format!(" (audit record #{id})"))
            .unwrap_or_default()
    );
    let stopped = r.status == audit::Status::Interrupted;
    view! {
        <div class=class role="status" data-testid="report">
            <p>{headline}</p>
            {stopped.then(|| view! {
                <p>"Stopped (the server shut down): no deletion was started after the stop. Apply again to finish."</p>
            })}
            <LeftAlone record=r.clone() />
            <Leftovers record=r />
        </div>
    }
}

/// Deployments the run did not touch: changed since the plan (left whole), or pinned / gone
/// live mid-run (left untouched).
#[component]
fn LeftAlone(record: audit::Record) -> impl IntoView {
    let r = record;
    (!r.changed.is_empty() || !r.held.is_empty()).then(|| view! {
        <ul class="held" data-testid="left-whole">
            {r.changed.iter().map(|c| view! { <li><code>{c.deployment.clone()}</code>{format!(": left whole, {}.", c.reason)}</li> }).collect_view()}
            {r.held.iter().map(|h| view! { <li><code>{h.deployment.clone()}</code>{format!(": left untouched, {}.", h.reason)}</li> }).collect_view()}
        </ul>
    })
}

/// Objects newer than the preview left in place, and objects that failed (the first 100 each).
#[component]
fn Leftovers(record: audit::Record) -> impl IntoView {
    let r = record;
    let skipped = format!(
        "{} newer than the preview appeared while a deployment was deleted, left in place:",
        format::plural(r.skipped.len() as u64, "object", "objects")
    );
    let failed = format!(
        "{} failed:",
        format::plural(r.failures.len() as u64, "object", "objects")
    );
    view! {
        {(!r.skipped.is_empty()).then(|| view! {
            <p>{skipped}</p>
            <ul class="failures">
                {r.skipped.iter().take(100).map(|k| view! { <li><code>{k.key.clone()}</code></li> }).collect_view()}
            </ul>
        })}
        {(!r.failures.is_empty()).then(|| view! {
            <p>{failed}</p>
            <ul class="failures">
                {r.failures.iter().take(100).map(|f| view! { <li><code>{f.key.clone()}</code>": "{f.error.clone()}</li> }).collect_view()}
            </ul>
        })}
    }
}
