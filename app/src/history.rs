//! The History page: every apply on record, newest first.

use crate::api::history;
use crate::format;
use leptos::prelude::*;

#[component]
pub fn HistoryPage() -> impl IntoView {
    let runs = Resource::new(|| (), |_| history());
    view! {
        <main class="page">
            <header class="top">
                <h1>"s3-prune"</h1>
                <nav class="nav"><a href="/">"Dashboard"</a>" · "<strong>"History"</strong>" · "<a href="/logout" rel="external">"Sign out"</a></nav>
            </header>
            <h2>"Applies on record"</h2>
            <Transition fallback=|| view! { <p class="loading">"Reading the audit log…"</p> }>
                {move || Suspend::new(async move {
                    match runs.await {
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(runs) if runs.is_empty() => view! { <p class="empty" data-testid="no-history">"No apply has run yet."</p> }.into_any(),
                        Ok(runs) => view! {
                            <div class="table-wrap">
                                <table class="history" data-testid="history">
                                    <thead><tr>
                                        <th scope="col">"#"</th><th scope="col">"When (UTC)"</th><th scope="col">"Who"</th>
                                        <th scope="col">"From"</th><th scope="col">"Bucket"</th><th scope="col">"Deleted"</th>
                                        <th scope="col">"Failed"</th><th scope="col">"Plan"</th><th scope="col">"Details"</th>
                                    </tr></thead>
                                    <tbody>
                                        {runs.into_iter().map(|r| {
                                            let details = r.deleted.iter().map(|d| format!("{} ({}, {})", d.id, format::plural(d.objects, "object", "objects"), format::size(d.bytes))).collect::<Vec<_>>();
                                            let failures = r.failures.iter().take(50).map(|f| format!("{}: {}", f.key, f.error)).collect::<Vec<_>>();
                                            view! {
                                                <tr class=if r.failures.is_empty() { "run ok" } else { "run failed" }>
                                                    <td>{r.id.unwrap_or_default()}</td>
                                                    <td>{format::date(&r.started_at)}</td>
                                                    <td>{r.who.clone()}</td>
                                                    <td>{r.source.clone()}</td>
                                                    <td>{format!("{}/{}", r.bucket, r.prefix)}</td>
                                                    <td>{format!("{} · {} · {}", format::plural(r.deleted.len() as u64, "deployment", "deployments"), format::plural(r.deleted_objects, "object", "objects"), format::size(r.deleted_bytes))}</td>
                                                    <td>{r.failures.len()}</td>
                                                    <td><code>{r.plan_fingerprint.clone()}</code></td>
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
                        }.into_any(),
                    }
                })}
            </Transition>
        </main>
    }
}
