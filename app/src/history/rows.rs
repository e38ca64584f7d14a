//! One page of History's rows (a `<tbody>`), and below it, once asked for, the next page.

use super::details::RunDetailsView;
use super::restore::RestoreRun;
use crate::api::history;
use crate::format;
use crate::wire::{HistoryPage, PageStart, RunRow};
use leptos::prelude::*;
use std::collections::HashMap;

/// The restores seen so far, by the key of the run each undid: a restore is newer than its
/// run, so it is on the same page or an earlier one.
pub type Restores = StoredValue<HashMap<String, Vec<String>>>;

#[component]
pub fn RunsPage(
    page: HistoryPage,
    restores: Restores,
    reload: RwSignal<u32>,
    result: RwSignal<Option<Result<String, String>>>,
) -> impl IntoView {
    restores.update_value(|seen| {
        for r in &page.runs {
            if let Some(of) = &r.undid {
                seen.entry(of.clone()).or_default().push(r.label.clone());
            }
        }
    });
    // The next page, once asked for (and whether it is on its way).
    let older = RwSignal::new(None::<Result<HistoryPage, String>>);
    let asked = RwSignal::new(false);
    let fetch = move |start: PageStart| {
        asked.set(true);
        leptos::task::spawn_local(async move {
            let r = history(Some(start)).await;
            older.set(Some(r.map_err(|e| e.to_string())));
        });
    };
    let next = page.next.clone();
    let rows = page
        .runs
        .into_iter()
        .map(|r| {
            let undo = restores.with_value(|seen| undo_note(&r, seen));
            view! { <RunLine r undo reload result /> }
        })
        .collect_view();
    view! {
        <tbody>
            {rows}
            {move || (older.with(Option::is_none)).then(|| next.clone()).flatten().map(|start| view! {
                <tr class="older"><td colspan="10">
                    <button type="button" class="secondary" data-testid="older-runs" disabled=move || asked.get()
                        on:click=move |_| fetch(start.clone())>"Older runs"</button>
                </td></tr>
            })}
        </tbody>
        {move || older.get().map(|got| match got {
            Ok(page) => {
                let bad = (!page.unreadable.is_empty()).then(|| view! {
                    <tbody data-testid="unreadable-runs"><tr><td colspan="10">
                        {format!("Not readable as runs (skipped): {}", page.unreadable.iter().map(|u| format!("{}{}: {}", u.journal, u.name, u.problem)).collect::<Vec<_>>().join("; "))}
                    </td></tr></tbody>
                });
                let rows = if page.runs.is_empty() {
                    view! { <tbody><tr><td colspan="10" class="empty">"No older runs."</td></tr></tbody> }.into_any()
                } else {
                    view! { <RunsPage page restores reload result /> }.into_any()
                };
                view! { {bad}{rows} }.into_any()
            }
            Err(e) => view! { <tbody><tr><td colspan="10" class="error" role="alert">{e}</td></tr></tbody> }.into_any(),
        })}
    }
}

/// What the Undo column says for a run.
fn undo_note(r: &RunRow, restores: &HashMap<String, Vec<String>>) -> String {
    if let Some(of) = &r.restore_of {
        return format!("restore of {of}");
    }
    match restores.get(&r.key) {
        Some(by) => format!("restored by {}", by.join(", ")),
        None if r.restorable => r.undo_note.clone().unwrap_or("can be restored".into()),
        None => "no undo (unversioned bucket, purged, or nothing deleted)".into(),
    }
}

#[component]
fn RunLine(
    r: RunRow,
    undo: String,
    reload: RwSignal<u32>,
    result: RwSignal<Option<Result<String, String>>>,
) -> impl IntoView {
    let restore = r.restorable.then(|| view! { <RestoreRun run=r.handle.clone() bucket=r.bucket.clone() key=bucket_key(&r) reload result /> });
    view! {
        <tr class=if r.failures == 0 { "run ok" } else { "run failed" } data-run=r.handle.clone()>
            <td>{r.label.clone()}</td>
            <td>{format::date(&r.started_at)}</td>
            <td>{r.who.clone()}</td>
            <td>{r.source.clone()}</td>
            <td>{format!("{}/{}", r.bucket, r.prefix)}</td>
            <td>{format!("{} · {} · {}", format::plural(r.deployments, "deployment", "deployments"), format::plural(r.objects, "object", "objects"), format::size(r.bytes))}</td>
            <td>{r.failures}</td>
            <td><code>{r.plan.clone()}</code></td>
            <td class="undo"><span data-testid="undo-note">{undo}</span>{restore}</td>
            <td><RunDetailsView run=r.handle.clone() status=r.status.clone() /></td>
        </tr>
    }
}

/// A record's bucket as `--bucket` keys it: `NAME` or `NAME/PREFIX/`.
fn bucket_key(r: &RunRow) -> String {
    match r.prefix.trim_end_matches('/') {
        "" => r.bucket.clone(),
        p => format!("{}/{p}/", r.bucket),
    }
}
