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
    // Fetched once, the first time the row is opened.
    let got = RwSignal::new(None::<Result<crate::wire::RunDetails, String>>);
    let asked = StoredValue::new(false);
    let open = move |_| {
        if !asked.get_value() {
            asked.set_value(true);
            leptos::task::spawn_local(async move {
                let r = details_of_run(run.get_value()).await;
                got.set(Some(r.map_err(|e| e.to_string())));
            });
        }
    };
    view! {
        <details on:toggle=open data-testid="run-details">
            <summary>"show"</summary>
            <p>{format!("status: {status}")}</p>
            {move || {
                let lines = match got.get() {
                    None => vec!["Reading the run…".to_string()],
                    Some(Err(e)) => vec![e],
                    Some(Ok(d)) => lines(d),
                };
                view! { <ul>{lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul> }
            }}
        </details>
    }
}

/// The details as the row lists them, one line each.
fn lines(d: crate::wire::RunDetails) -> Vec<String> {
    let mut out = vec![
        format!("policy: {}", d.policy),
        format!(
            "took {:.1} s{}",
            d.duration_ms as f64 / 1000.0,
            d.host.map(|h| format!(" on {h}")).unwrap_or_default()
        ),
    ];
    out.extend(d.deployments);
    out.extend(d.failures.into_iter().map(|f| format!("failed: {f}")));
    if d.not_shown > 0 {
        out.push(format!(
            "and {} more: the whole record is {}",
            format::plural(d.not_shown, "line", "lines"),
            d.whole_record
        ));
    }
    out
}
