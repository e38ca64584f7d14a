//! The History page: every apply (and restore) on record, newest first, a page of one-line
//! summaries at a time ("Older runs" fetches the next); a row's details are fetched when it is
//! opened. Runs on a versioned bucket can be restored from here.

mod details;
mod restore;
mod rows;

use crate::api::history;
use crate::sign_out::SignOut;
use leptos::prelude::*;
use rows::RunsPage;

#[component]
pub fn HistoryPage() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let result = RwSignal::new(None::<Result<String, String>>);
    let first = crate::resource::resource(move || reload.get(), |_| history(None));
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
                    match first.await {
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(page) => {
                            let unreadable = (!page.unreadable.is_empty()).then(|| view! {
                                <section class="unreadable" data-testid="unreadable-runs">
                                    <h3>"Not readable as runs (skipped)"</h3>
                                    <ul>{page.unreadable.iter().map(|u| view! {
                                        <li><code>{format!("{}{}", u.journal, u.name)}</code>{format!(": {}", u.problem)}</li>
                                    }).collect_view()}</ul>
                                </section>
                            });
                            let table = if page.runs.is_empty() {
                                view! { <p class="empty" data-testid="no-history">"No apply has run yet."</p> }.into_any()
                            } else {
                                view! {
                                    <div class="table-wrap">
                                        <table class="history" data-testid="history">
                                            <thead><tr>
                                                <th scope="col">"#"</th><th scope="col">"When (UTC)"</th><th scope="col">"Who"</th>
                                                <th scope="col">"From"</th><th scope="col">"Bucket"</th><th scope="col">"Deleted"</th>
                                                <th scope="col">"Failed"</th><th scope="col">"Plan"</th><th scope="col">"Undo"</th><th scope="col">"Details"</th>
                                            </tr></thead>
                                            <RunsPage page restores=StoredValue::new(Default::default()) reload result />
                                        </table>
                                    </div>
                                }.into_any()
                            };
                            view! { {table}{unreadable} }.into_any()
                        }
                    }
                })}
            </Transition>
        </main>
    }
}
