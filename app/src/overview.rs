//! The start page when several buckets are configured: one row per bucket (deployments, size,
//! what the configured policy would delete and save, undo window, last apply, scan time), each
//! opening that bucket's dashboard. A bucket that cannot be scanned shows its error in its row.
//! With one bucket, the start page is its dashboard.

use crate::api::overview;
use crate::dashboard::Dashboard;
use crate::format;
use crate::last_successes::LastSuccesses;
use crate::sign_out::SignOut;
use crate::wire::OverviewRow;
use leptos::prelude::*;

/// The S3 Standard price the savings are shown at (the dashboard's default).
const PRICE: f64 = 0.023;

/// `/`: a bucket's dashboard when the URL names one (or only one is configured), else the
/// overview of all of them.
#[component]
pub fn Home() -> impl IntoView {
    if crate::page_url::page_url().get("bucket").is_some() {
        return view! { <Dashboard /> }.into_any();
    }
    let rows = crate::resource::resource(|| (), |_| overview());
    view! {
        <Transition fallback=|| view! { <main class="page"><p class="loading">"Scanning the buckets…"</p></main> }>
            {move || Suspend::new(async move {
                match rows.await {
                    Ok(None) => view! { <Dashboard /> }.into_any(),
                    Ok(Some(rows)) => view! { <Overview rows /> }.into_any(),
                    Err(e) => view! { <main class="page"><p class="error" role="alert">{e.to_string()}</p></main> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

fn row_view(r: OverviewRow) -> impl IntoView {
    let href = format!(
        "/?bucket={}",
        crate::dashboard::policy::percent_encode(&r.bucket.key, |b| {
            b.is_ascii_alphanumeric() || b"-_.~/".contains(&b)
        })
    );
    let last = r.last_apply.map_or_else(
        || "none on record".to_string(),
        |l| {
            format!(
                "{} · {} · {} UTC · {} · {}",
                l.run,
                l.source,
                format::date(&l.at),
                l.status,
                format::plural(l.deleted, "deployment", "deployments")
            )
        },
    );
    let took = format!("{:.1} s", r.scan_ms as f64 / 1000.0);
    let successes = view! { <LastSuccesses last=r.last_successes.clone() /> };
    match r.scan {
        Ok(s) => {
            let r_overdue = s.forecast.as_ref().map_or(0, |f| f.overdue_deployments);
            let forecast = s.forecast.map_or_else(
                || "no policy configured (serve --policy or --schedule-retain)".to_string(),
                |f| {
                    if f.blocked {
                        format!("{}: blocked by the guard, nothing", f.policy)
                    } else {
                        format!(
                            "{}: {} ({}), saves {} / month",
                            f.policy,
                            format::plural(f.delete_deployments, "deployment", "deployments"),
                            format::size(f.delete_bytes),
                            format::monthly_cost(f.delete_bytes, PRICE)
                        )
                    }
                },
            );
            let overdue = overdue_note(r_overdue);
            view! {
                <tr class="bucket" data-bucket=r.bucket.key.clone()>
                    <th scope="row"><a href=href.clone() rel="external">{r.bucket.key.clone()}</a></th>
                    <td class="num" data-col="deployments">{s.deployments}</td>
                    <td class="num">{format::size(s.bytes)}</td>
                    <td data-col="forecast">{forecast}{overdue}</td>
                    <td data-col="undo">{s.undo_window}</td>
                    <td data-col="last">{last}</td>
                    <td data-col="success">{successes}</td>
                    <td data-col="scan">{format!("{took} · {} UTC", format::date(&s.scanned_at))}</td>
                </tr>
            }
            .into_any()
        }
        Err(e) => view! {
            <tr class="bucket failed" data-bucket=r.bucket.key.clone()>
                <th scope="row"><a href=href.clone() rel="external">{r.bucket.key.clone()}</a></th>
                <td colspan="4" class="error" data-col="error">{e}</td>
                <td data-col="last">{last}</td>
                <td data-col="success">{successes}</td>
                <td data-col="scan">{took}</td>
            </tr>
        }
        .into_any(),
    }
}

/// " · N overdue", in red, when the configured policy's deletions are behind.
fn overdue_note(n: u64) -> Option<impl IntoView> {
    (n > 0).then(|| {
        view! {
            <span class="late" data-testid="overdue">
                {format!(" · {n} overdue (deletable for more than 2 d: cleanup is behind)")}
            </span>
        }
    })
}

#[component]
fn Overview(rows: Vec<OverviewRow>) -> impl IntoView {
    view! {
        <main class="page">
            <header class="top">
                <h1>"s3-prune"</h1>
                <nav class="nav"><strong>"Buckets"</strong>" · "<a href="/history">"History"</a>" · "<SignOut/></nav>
                <p class="tagline">"Every bucket this server offers; open one to preview and apply."</p>
            </header>
            <div class="table-wrap">
                <table class="overview" data-testid="overview">
                    <thead><tr>
                        <th scope="col">"Bucket"</th><th scope="col" class="num">"Deployments"</th><th scope="col" class="num">"Size"</th>
                        <th scope="col">"Configured policy would delete"</th><th scope="col">"Undo"</th>
                        <th scope="col">"Last apply"</th><th scope="col">"Last success"</th><th scope="col">"Scan"</th>
                    </tr></thead>
                    <tbody>{rows.into_iter().map(row_view).collect_view()}</tbody>
                </table>
            </div>
        </main>
    }
}
