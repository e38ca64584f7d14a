//! The bucket's pending S3 lifecycle handovers (`--via-lifecycle`) and their age, and the
//! ones this scan withdrew because their folders are kept now (see `prune::expire`).

use crate::wire::ScanView;
use leptos::prelude::*;

#[component]
pub fn Handovers(view: ScanView) -> impl IntoView {
    let today = view.now.date_naive();
    let pending = view
        .handovers
        .iter()
        .filter(|e| e.state == audit::ExpiryState::Pending);
    let lines: Vec<String> = pending
        .map(|e| {
            let age = e
                .since
                .map(|d| format!(", handed over {} d ago", (today - d).num_days()))
                .unwrap_or_default();
            format!(
                "{}: S3 lifecycle is expiring it (rule '{}'{age})",
                e.deployment, e.rule
            )
        })
        .chain(
            view.handovers
                .iter()
                .filter(|e| e.state == audit::ExpiryState::Withdrawn)
                .map(|e| e.to_string()),
        )
        .collect();
    (!lines.is_empty() || view.handover_error.is_some()).then(|| {
        view! {
            <section class="handovers" aria-label="S3 lifecycle handovers" data-testid="handovers">
                <h2>"Handed to S3 lifecycle"</h2>
                <ul>{lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
                {view.handover_error.map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </section>
        }
    })
}
