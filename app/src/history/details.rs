//! A History row's details, fetched from the server the first time the row is opened (a run
//! can list thousands of deployments; the page carries only its one-line summary).

use crate::api::details_of_run;
use crate::format;
use leptos::prelude::*;

#[component]
pub fn RunDetailsView(
    /// The record number or run id, as `details_of_run` takes it.
    run: String,
    status: String,
) -> impl IntoView {
    let run = StoredValue::new(run);
    let fetch = Action::new(move |_: &()| details_of_run(run.get_value()));
    let open = move |_| {
        if fetch.value().get_untracked().is_none() && !fetch.pending().get_untracked() {
            fetch.dispatch(());
        }
    };
    view! {
        <details on:toggle=open data-testid="run-details">
            <summary>"show"</summary>
            <p>{format!("status: {status}")}</p>
            {move || match fetch.value().get() {
                None => view! { <p class="loading">"Reading the run…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                Some(Ok(d)) => view! {
                    <p>{format!("policy: {}", d.policy)}</p>
                    <p>{format!("took {:.1} s{}", d.duration_ms as f64 / 1000.0, d.host.map(|h| format!(" on {h}")).unwrap_or_default())}</p>
                    <ul>{d.deployments.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
                    <ul class="failures">{d.failures.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
                    {(d.not_shown > 0).then(|| view! { <p class="hint">{format!("and {} more (s3-prune history BUCKET --json lists every one)", format::plural(d.not_shown, "line", "lines"))}</p> })}
                }.into_any(),
            }}
        </details>
    }
}
