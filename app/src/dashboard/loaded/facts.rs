//! The facts of the scanned bucket at the top of the dashboard: which bucket (and a picker
//! when the server has several), its prefix, dates, versioning, undo, guards, and Rescan.

use crate::dashboard::browser::navigate_to_bucket;
use crate::dashboard::handovers::Handovers;
use crate::format;
use crate::last_successes::LastSuccesses;
use crate::wire::{BucketChoice, ScanView};
use leptos::prelude::*;
use retention::LiveRefs;

/// The bucket's facts and Rescan, then its lifecycle handovers.
#[component]
pub fn BucketFacts(
    view: ScanView,
    may_change: Signal<bool>,
    rescan: RwSignal<u32>,
) -> impl IntoView {
    let v = &view;
    let picker = (v.buckets.len() > 1).then(|| {
        view! { <BucketPicker choices=v.buckets.clone() current=v.bucket.key.clone() /> }
    });
    let facts = view! {
        <section class="meta" aria-label="Bucket">
            {picker}
            <dl>
                <div><dt>"Bucket"</dt><dd data-testid="bucket-name">{v.bucket.name.clone()}</dd></div>
                <div><dt>"Prefix"</dt><dd>{prefix_text(&v.bucket)}</dd></div>
                <div><dt>"Dates from"</dt><dd>{v.date_source.to_string()}</dd></div>
                <div><dt>"Versioning"</dt><dd>{v.inventory.versioning.to_string()}</dd></div>
                <div><dt>"Undo"</dt><dd data-testid="undo-window">{v.undo_window.clone()}</dd></div>
                {v.lifecycle_over.map(|n| view! {
                    <div><dt>"Big deployments"</dt><dd data-testid="lifecycle-over">{format!("over {n} objects: handed to S3 lifecycle expiration, not deleted by requests")}</dd></div>
                })}
                <div><dt>"Scanned"</dt><dd>{format!("{} UTC", format::date(&v.scanned_at))}</dd></div>
                {v.live_pointer.clone().map(|k| view! { <div><dt>"Live pointer"</dt><dd>{k}</dd></div> })}
                {v.inventory.live_from.as_ref().map(|r| view! {
                    <div><dt>"Live from"</dt><dd data-testid="live-from">{live_from_text(r)}</dd></div>
                })}
                <div><dt>"Guard"</dt><dd>{format!("max {} per apply", v.max_delete)}</dd></div>
                <div><dt>"Last success"</dt><dd data-testid="last-success"><LastSuccesses last=v.last_successes.clone() /></dd></div>
                {v.read_only.then(|| view! { <div><dt>"Mode"</dt><dd data-testid="read-only">"read-only"</dd></div> })}
            </dl>
            <button type="button" class="secondary" disabled=move || !may_change.get() on:click=move |_| rescan.update(|n| *n += 1)>"Rescan"</button>
        </section>
    };
    view! {
        {facts}
        <Handovers view />
    }
}

/// A choice of the server's buckets; choosing one loads its dashboard.
#[component]
fn BucketPicker(choices: Vec<BucketChoice>, current: String) -> impl IntoView {
    view! {
        <label class="picker">
            "Bucket "
            <select on:change=move |ev| navigate_to_bucket(&event_target_value(&ev))>
                {choices.into_iter().map(|c| {
                    let selected = c.key == current;
                    view! { <option value=c.key.clone() selected=selected>{c.key.clone()}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}

/// The prefix as shown: "(bucket root)" when there is none.
fn prefix_text(b: &BucketChoice) -> String {
    if b.prefix.is_empty() {
        "(bucket root)".to_string()
    } else {
        b.prefix.clone()
    }
}

/// `--live-from`'s page and the deployments it references, or "nothing".
fn live_from_text(r: &LiveRefs) -> String {
    let ids = r
        .ids
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{} → {}",
        r.key,
        if ids.is_empty() {
            "nothing".into()
        } else {
            ids
        }
    )
}
