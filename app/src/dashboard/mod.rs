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
mod marks;
mod paint;
pub mod policy;
mod rules;
mod summary;
mod table;
mod timeline;

use crate::api::scan_bucket;
use crate::format;
use crate::sign_out::SignOut;
use crate::wire::{JobStatus, ScanView};
use apply::Apply;
use approvals::Approvals;
use browser::{navigate_to_bucket, set_url, UrlState};
use controls::{ControlState, Controls};
use handovers::Handovers;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use paint::repaint;
use policy::{chosen, decode_rules, drafts_of, encode_rules};
use retention::{DeploymentId, Plan, Policy, Retain};
use rules::RuleEditor;
use summary::{Forecast, Summary};
use table::Table;
use timeline::Timeline;

fn price_from(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "Price per GB-month must be a number ≥ 0 (got '{s}')"
        )),
    }
}

fn server_error(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(m) => m.clone(),
        other => other.to_string(),
    }
}

#[component]
pub fn Dashboard() -> impl IntoView {
    let q = use_query_map().get_untracked();
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
    let scan = Resource::new(
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

/// One row of what the page shows, independent of the policy (dates and order do not change
/// when the controls do). Its date and age are formatted only when shown (`date`, `age`): the
/// server renders ~50 rows of 2,000, and formatting them all was ~12 % of a page's CPU
/// (perf, `bench/load.sh`).
#[derive(Clone)]
pub struct Row {
    pub id: DeploymentId,
    pub at: chrono::DateTime<chrono::Utc>,
    pub date_ts: i64,
    pub age_secs: i64,
    pub objects: u64,
    pub bytes: u64,
}

impl Row {
    pub fn date(&self) -> String {
        format::date(&self.at)
    }
    pub fn age(&self) -> String {
        retention::human_age(self.age_secs)
    }
}

#[component]
fn Loaded(
    view: ScanView,
    state: ControlState,
    seeded: StoredValue<bool>,
    rescan: RwSignal<u32>,
    notice: RwSignal<Option<String>>,
    job: RwSignal<Option<JobStatus>>,
) -> impl IntoView {
    // Set only in the browser, after hydration: tests wait for it before clicking.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    // A Rescan answered with the last scan (too soon after it): say so.
    if let Some(n) = view.notice.clone() {
        Effect::new(move |_| notice.set(Some(n.clone())));
    }

    let ControlState {
        retain,
        days,
        price,
        rules,
        next_key,
    } = state;
    // The server's policy file (serve --policy), unless the URL says otherwise.
    if !seeded.get_value() {
        seeded.set_value(true);
        if let Some(r) = &view.rules {
            next_key.set_value(r.as_slice().len() as u32);
            rules.set(Some(drafts_of(r, 0)));
        }
    }

    let date_source = view.date_source.clone();
    let bucket = view.bucket.clone();
    let now = view.now;
    let inventory = StoredValue::new(view.inventory.clone());

    let max_delete = view.max_delete;
    // Previews only: the server was started --read-only, or the person may not change the bucket.
    let server_read_only = view.read_only;
    let may_change = crate::signed::may_change_in(view.bucket.key.clone());
    let read_only = Signal::derive(move || server_read_only || !may_change.get());
    let policy = Memo::new(move |_| {
        rules.with(|r| {
            chosen(
                &retain.get(),
                &days.get(),
                r.as_deref(),
                &date_source,
                max_delete,
            )
        })
    });
    let pinned: StoredValue<Vec<DeploymentId>> =
        StoredValue::new(view.inventory.pins.iter().map(|p| p.id.clone()).collect());
    let plan: Memo<Option<Plan>> = Memo::new(move |_| {
        policy.with(|p| {
            p.as_ref()
                .ok()
                .map(|c| inventory.with_value(|inv| retention::plan(inv, &c.policy, now)))
        })
    });
    let price_v = Memo::new(move |_| price_from(&price.get()));
    // Only the switch between the two forms re-renders the editor, not each keystroke in it.
    let ruled = Memo::new(move |_| rules.with(Option::is_some));
    {
        // The URL follows the controls a moment after the last change: Chromium's replaceState
        // costs ~2 ms, an eighth of the frame the preview has to fit in.
        let key = bucket.key.clone();
        let pending = StoredValue::new(None::<TimeoutHandle>);
        Effect::new(move |_| {
            let (r, d, p) = (retain.get(), days.get(), price.get());
            let compact = rules.with(|r| r.as_deref().map(encode_rules));
            let key = key.clone();
            if let Some(h) = pending.get_value() {
                h.clear();
            }
            let h = set_timeout_with_handle(
                move || {
                    set_url(&UrlState {
                        bucket: &key,
                        retain: &r,
                        days: &d,
                        price: &p,
                        rules: compact.as_deref(),
                    })
                },
                std::time::Duration::from_millis(150),
            );
            pending.set_value(h.ok());
        });
    }

    // Policy-independent facts, in plan order (newest first).
    let rows: StoredValue<Vec<Row>> = StoredValue::new({
        let base = inventory.with_value(|inv| {
            let mut p = Policy::new(Retain::new(1).expect("1 ≥ 1"));
            p.date_source = view.date_source.clone();
            retention::plan(inv, &p, now)
        });
        base.entries
            .iter()
            .map(|e| Row {
                id: e.id.clone(),
                at: e.date,
                date_ts: e.date.timestamp(),
                age_secs: e.age_secs,
                objects: e.objects,
                bytes: e.bytes,
            })
            .collect()
    });
    let n = rows.with_value(|r| r.len());
    let focused = RwSignal::new(None::<usize>);
    // The rows in view follow the plan through one effect (see `repaint`); the markup is
    // rendered with the plan of the moment, so the server's HTML is already right.
    Effect::new(move |_| plan.with(repaint));

    let header = {
        let v = &view;
        let choices = v.buckets.clone();
        let current = v.bucket.key.clone();
        let picker = (choices.len() > 1).then(|| {
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
        });
        let prefix = if v.bucket.prefix.is_empty() {
            "(bucket root)".to_string()
        } else {
            v.bucket.prefix.clone()
        };
        view! {
            <section class="meta" aria-label="Bucket">
                {picker}
                <dl>
                    <div><dt>"Bucket"</dt><dd data-testid="bucket-name">{v.bucket.name.clone()}</dd></div>
                    <div><dt>"Prefix"</dt><dd>{prefix}</dd></div>
                    <div><dt>"Dates from"</dt><dd>{v.date_source.to_string()}</dd></div>
                    <div><dt>"Versioning"</dt><dd>{v.inventory.versioning.to_string()}</dd></div>
                    <div><dt>"Undo"</dt><dd data-testid="undo-window">{v.undo_window.clone()}</dd></div>
                    {v.lifecycle_over.map(|n| view! {
                        <div><dt>"Big deployments"</dt><dd data-testid="lifecycle-over">{format!("over {n} objects: handed to S3 lifecycle expiration, not deleted by requests")}</dd></div>
                    })}
                    <div><dt>"Scanned"</dt><dd>{format!("{} UTC", format::date(&v.scanned_at))}</dd></div>
                    {v.live_pointer.clone().map(|k| view! { <div><dt>"Live pointer"</dt><dd>{k}</dd></div> })}
                    {v.inventory.live_from.clone().map(|r| {
                        let ids = r.ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
                        view! { <div><dt>"Live from"</dt><dd data-testid="live-from">{format!("{} → {}", r.key, if ids.is_empty() { "nothing".into() } else { ids })}</dd></div> }
                    })}
                    <div><dt>"Guard"</dt><dd>{format!("max {} per apply", v.max_delete)}</dd></div>
                    {v.read_only.then(|| view! { <div><dt>"Mode"</dt><dd data-testid="read-only">"read-only"</dd></div> })}
                </dl>
                <button type="button" class="secondary" disabled=move || !may_change.get() on:click=move |_| rescan.update(|n| *n += 1)>"Rescan"</button>
            </section>
            <Handovers view=v.clone()/>
        }
    };

    if n == 0 {
        let loose = view.inventory.loose;
        return view! {
            <section class="dash" data-ready=move || ready.get().then_some("true")>
                {header}
                <div class="empty" role="status" data-testid="empty">
                    <p><strong>"No deployments"</strong>" in this bucket under this prefix."</p>
                    {(loose.objects > 0).then(|| view! {
                        <p>{format!("Only {} directly under the prefix ({}); loose objects are never deleted.",
                            format::plural(loose.objects, "loose object", "loose objects"), format::size(loose.bytes))}</p>
                    })}
                </div>
            </section>
        }
        .into_any();
    }

    view! {
        <section class="dash" data-ready=move || ready.get().then_some("true")>
            {header}
            <Controls state />
            {move || ruled.get().then(|| view! { <RuleEditor rules next_key policy notice /> })}
            {move || {
                let mut errs = Vec::new();
                if let Err(e) = policy.get() { errs.push(e) }
                if let Err(e) = price_v.get() { errs.push(e) }
                (!errs.is_empty()).then(|| view! { <p class="error" role="alert" data-testid="policy-error">{errs.join(" ")}</p> })
            }}
            <Summary plan price=price_v />
            {view.schedule.clone().map(|sch| view! { <Forecast schedule=sch inventory date_source=view.date_source.clone() now max_delete retain days rules /> })}
            {move || plan.with(|p| p.as_ref().map(|p| p.warnings.iter().map(|w| view! { <p class="warning">{format!("Warning: {w}")}</p> }).collect_view()))}
            {move || plan.with(|p| p.as_ref().map(|p| p.blocked.iter().map(|b| view! { <p class="error" role="alert" data-testid="blocked">{format!("Blocked: {b}")}</p> }).collect_view()))}
            <Timeline rows plan focused now_ts=now.timestamp() />
            <Apply bucket=bucket.clone() plan policy rescan notice job read_only may_change />
            <Approvals bucket_key=bucket.key.clone() shown=apply::Shown { job, notice, rescan } may_change />
            <Table rows plan focused pinned bucket_key=bucket.key.clone() rescan notice read_only />
        </section>
    }
    .into_any()
}
