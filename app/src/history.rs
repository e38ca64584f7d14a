//! The History page: every apply (and restore) on record, newest first; runs on a versioned
//! bucket can be restored from here.

mod restore;

use crate::api::history;
use crate::format;
use crate::sign_out::SignOut;
use leptos::prelude::*;
use restore::RestoreRun;
use std::collections::HashMap;

/// How a run is named: `#N` in this server's audit log, else its run id in the bucket's journal.
fn label(r: &audit::Record) -> String {
    match (r.id, &r.run) {
        (Some(n), _) => format!("#{n}"),
        (None, Some(run)) => run.clone(),
        (None, None) => "?".into(),
    }
}

/// What the restore of a run is given: its record number, or its run id.
fn handle(r: &audit::Record) -> String {
    match (r.id, &r.run) {
        (Some(n), _) => n.to_string(),
        (None, Some(run)) => run.clone(),
        (None, None) => String::new(),
    }
}

/// The run a restore undid, as [`label`] names it.
fn restored_run(r: &audit::Record) -> Option<String> {
    if let Some(of) = r.restore_of {
        return Some(format!("#{of}"));
    }
    r.policy.get("restore_of")?.as_str().map(str::to_string)
}

/// What the Undo column says for a run.
fn undo_note(r: &audit::Record, restores: &HashMap<String, Vec<String>>) -> String {
    if let Some(of) = restored_run(r) {
        return format!("restore of {of}");
    }
    match restores.get(&label(r)) {
        Some(by) => format!("restored by {}", by.join(", ")),
        None if r.restorable() => "can be restored".into(),
        None => "no undo (unversioned bucket, purged, or nothing deleted)".into(),
    }
}

#[component]
pub fn HistoryPage() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let result = RwSignal::new(None::<Result<String, String>>);
    let runs = crate::resource::resource(move || reload.get(), |_| history());
    view! {
        <main class="page">
            <header class="top">
                <h1>"s3-prune"</h1>
                <nav class="nav"><a href="/">"Dashboard"</a>" · "<strong>"History"</strong>" · "<SignOut/></nav>
            </header>
            <h2>"Applies on record"</h2>
            {move || result.get().map(|r| match r {
                Ok(m) => view! { <p class="notice" role="status" data-testid="restore-result">{m}</p> }.into_any(),
                Err(e) => view! { <p class="error" role="alert" data-testid="restore-result">{e}</p> }.into_any(),
            })}
            <Transition fallback=|| view! { <p class="loading">"Reading the audit log…"</p> }>
                {move || Suspend::new(async move {
                    match runs.await {
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(runs) if runs.is_empty() => view! { <p class="empty" data-testid="no-history">"No apply has run yet."</p> }.into_any(),
                        Ok(runs) => {
                            let mut restores: HashMap<String, Vec<String>> = HashMap::new();
                            for r in &runs {
                                if let Some(of) = restored_run(r) {
                                    restores.entry(of).or_default().push(label(r));
                                }
                            }
                            view! {
                            <div class="table-wrap">
                                <table class="history" data-testid="history">
                                    <thead><tr>
                                        <th scope="col">"#"</th><th scope="col">"When (UTC)"</th><th scope="col">"Who"</th>
                                        <th scope="col">"From"</th><th scope="col">"Bucket"</th><th scope="col">"Deleted"</th>
                                        <th scope="col">"Failed"</th><th scope="col">"Plan"</th><th scope="col">"Undo"</th><th scope="col">"Details"</th>
                                    </tr></thead>
                                    <tbody>
                                        {runs.into_iter().map(|r| {
                                            let undo = undo_note(&r, &restores);
                                            let restore = r.restorable().then(|| view! { <RestoreRun run=handle(&r) bucket=r.bucket.clone() key=bucket_key(&r) reload result /> }.into_any());
                                            let details = r.deleted.iter().map(|d| format!("{} ({}, {})", d.id, format::plural(d.objects, "object", "objects"), format::size(d.bytes))).collect::<Vec<_>>();
                                            let failures = r.failures.iter().take(50).map(|f| format!("{}: {}", f.key, f.error)).collect::<Vec<_>>();
                                            view! {
                                                <tr class=if r.failures.is_empty() { "run ok" } else { "run failed" } data-run=handle(&r)>
                                                    <td>{label(&r)}</td>
                                                    <td>{format::date(&r.started_at)}</td>
                                                    <td>{r.who.clone()}</td>
                                                    <td>{r.source.clone()}</td>
                                                    <td>{format!("{}/{}", r.bucket, r.prefix)}</td>
                                                    <td>{format!("{} · {} · {}", format::plural(r.deleted.len() as u64, "deployment", "deployments"), format::plural(r.deleted_objects, "object", "objects"), format::size(r.deleted_bytes))}</td>
                                                    <td>{r.failures.len()}</td>
                                                    <td><code>{r.plan_fingerprint.clone()}</code></td>
                                                    <td class="undo"><span data-testid="undo-note">{undo}</span>{restore}</td>
                                                    <td>
                                                        <details>
                                                            <summary>"show"</summary>
                                                            <p>{format!("policy: {}", r.policy)}</p>
                                                            <p>{format!("took {:.1} s", r.duration_ms as f64 / 1000.0)}</p>
                                                            <ul>{details.into_iter().map(|d| view! { <li>{d}</li> }).collect_view()}</ul>
                                                            <ul class="failures">{failures.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
                                                        </details>
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any()
                        }
                    }
                })}
            </Transition>
        </main>
    }
}

/// A record's bucket as `--bucket` keys it: `NAME` or `NAME/PREFIX/`.
fn bucket_key(r: &audit::Record) -> String {
    match r.prefix.trim_end_matches('/') {
        "" => r.bucket.clone(),
        p => format!("{}/{p}/", r.bucket),
    }
}
