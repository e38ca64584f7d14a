//! The dashboard page: header, controls (or the rule editor), summary, timeline, table, and the
//! confirmed apply. Every control change re-plans in the browser with `retention::plan`;
//! nothing goes to the server until the user confirms.

mod apply;
mod approvals;
mod browser;
mod controls;
mod draw;
mod handovers;
mod lanes;
pub(crate) mod lease;
mod loaded;
mod marks;
mod paint;
pub mod policy;
mod row;
mod rules;
mod summary;
mod table;
mod timeline;

use crate::api::scan_bucket;
use crate::sign_out::SignOut;
use crate::wire::JobStatus;
use controls::ControlState;
use leptos::prelude::*;
use loaded::Loaded;
use policy::decode_rules;

fn server_error(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(m) => m.clone(),
        // The sign-in page, answered instead (a session expired, the server restarted).
        other if other.to_string().contains("<!DOCTYPE") => SIGNED_OUT.into(),
        // An answer in a form this page does not know: the server was upgraded since it loaded
        // (the wire names no fields, so an added one cannot be skipped).
        ServerFnError::Deserialization(_) => {
            "this page cannot read the server's answer (s3-prune was upgraded since the page \
             loaded?): reload the page"
                .into()
        }
        other => other.to_string(),
    }
}

/// What a request answered by the sign-in page says: it was refused, nothing was done.
pub(crate) const SIGNED_OUT: &str = "you are not signed in (any more): reload the page to sign in";

#[component]
pub fn Dashboard() -> impl IntoView {
    let q = crate::page_url::page_url();
    let bucket_key = q.get("bucket");
    let url_rules = q.get("rules").map(|r| decode_rules(&r));
    let state = ControlState {
        retain: RwSignal::new(q.get("retain").unwrap_or_else(|| "5".into())),
        days: RwSignal::new(q.get("days").unwrap_or_default()),
        price: RwSignal::new(q.get("price").unwrap_or_else(|| "0.023".into())),
        next_key: StoredValue::new(url_rules.as_ref().map_or(0, |r| r.len() as u32)),
        rules: RwSignal::new(url_rules),
    };
    // A URL naming a policy wins over the server's (--policy): a link shows what it says.
    let seeded = StoredValue::new(q.get("rules").is_some() || q.get("retain").is_some());
    let rescan = RwSignal::new(0u32);
    let notice = RwSignal::new(None::<String>);
    let job = RwSignal::new(None::<JobStatus>);
    let scan = crate::resource::resource(
        move || rescan.get(),
        move |n| scan_bucket(bucket_key.clone(), n > 0),
    );

    view! {
        <main class="page">
            <header class="top">
                <h1>"s3-prune"</h1>
                <nav class="nav"><a href="/">"Buckets"</a>" · "<strong>"Dashboard"</strong>" · "<a href="/history">"History"</a>" · "<SignOut/></nav>
                <p class="tagline">"Keep the newest deployments, delete the rest — after you have seen exactly what goes."</p>
            </header>
            {move || notice.get().map(|m| view! {
                <div class="notice" role="alert">
                    <span>{m}</span>
                    <button type="button" class="link" on:click=move |_| notice.set(None)>"Dismiss"</button>
                </div>
            })}
            <Transition fallback=|| view! { <p class="loading">"Scanning the bucket…"</p> }>
                {move || Suspend::new(async move {
                    match scan.await {
                        Ok(v) => view! { <Loaded view=v state seeded rescan notice job /> }.into_any(),
                        Err(e) => view! {
                            <div class="error" role="alert" data-testid="scan-error">
                                <strong>"Cannot show this bucket. "</strong>{server_error(&e)}
                            </div>
                        }.into_any(),
                    }
                })}
            </Transition>
        </main>
    }
}
