//! The confirmation dialog: what will be deleted (the set frozen when it opened) from which
//! bucket and prefix, which of it goes to S3 lifecycle expiration (`serve --via-lifecycle`),
//! whether History can undo it, the lease's holder if another apply runs, and Delete only once
//! the bucket's name is typed.

use crate::dashboard::lease::{LeaseNotice, LeaseWatch};
use crate::format;
use leptos::prelude::*;

/// What the dialog confirms: the doomed set and its objects and bytes, as the preview had them
/// when it opened.
#[derive(Clone, Copy)]
pub struct Snapshot {
    pub doomed: RwSignal<Vec<retention::Doomed>>,
    /// Objects and bytes of `doomed`, and whether History can undo the run (the bucket keeps
    /// versions and the server does not purge them).
    pub totals: RwSignal<(u64, u64, bool)>,
    /// Said when the page's preview is hours old: time may have moved the plan on.
    pub stale: RwSignal<Option<String>>,
}

#[component]
pub fn ConfirmDialog(
    dialog: NodeRef<leptos::html::Dialog>,
    /// Named in the title with its prefix (`key`); its name is typed to confirm, as the server
    /// checks it.
    bucket: crate::wire::BucketChoice,
    snapshot: Snapshot,
    typed: RwSignal<String>,
    lease: LeaseWatch,
    /// Deployments of more objects than this are handed to S3 lifecycle expiration.
    lifecycle_over: Option<u64>,
    on_confirm: Callback<()>,
) -> impl IntoView {
    let close = move |_| {
        if let Some(d) = dialog.get_untracked() {
            d.close();
        }
    };
    let bucket_name = bucket.name;
    let expected = bucket_name.clone();
    let ready = move || typed.with(|t| t.trim() == expected) && lease.held.with(Option::is_none);
    let title = {
        let name = bucket.key;
        move || {
            let n = snapshot.doomed.with(|s| s.len() as u64);
            format!(
                "Delete {} from {}?",
                format::plural(n, "deployment", "deployments"),
                name
            )
        }
    };
    let desc = move || {
        let (o, b, undo) = snapshot.totals.get();
        format!(
            "{} · {}. {} The server re-checks the bucket first and deletes nothing if it changed.",
            format::plural(o, "object", "objects"),
            format::size(b),
            if undo {
                "History can undo it while the bucket keeps the old versions."
            } else {
                "This cannot be undone."
            }
        )
    };
    view! {
        <dialog node_ref=dialog class="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-desc">
            <h2 id="confirm-title">{title}</h2>
            <p id="confirm-desc">{desc}</p>
            <ul class="doomed" data-testid="doomed">
                {move || snapshot.doomed.get().into_iter().map(|d| view! {
                    <li><code>{d.id.to_string()}</code>{format!(" — {}, {}{}", format::plural(d.objects, "object", "objects"), format::size(d.bytes),
                        if lifecycle_over.is_some_and(|n| d.objects > n) { ": handed to S3 lifecycle expiration" } else { "" })}</li>
                }).collect_view()}
            </ul>
            {move || snapshot.stale.get().map(|m| view! { <p class="notice" data-testid="stale-preview">{m}</p> })}
            <LeaseNotice watch=lease />
            <label for="confirm-name">"Type the bucket name "<code>{bucket_name}</code>" to confirm"</label>
            <input id="confirm-name" type="text" autocomplete="off" spellcheck="false"
                prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) />
            <div class="actions">
                <button type="button" class="secondary" on:click=close>"Cancel"</button>
                <button type="button" class="danger" data-testid="confirm-apply" disabled=move || !ready() on:click=move |_| on_confirm.run(())>"Delete"</button>
            </div>
        </dialog>
    }
}
