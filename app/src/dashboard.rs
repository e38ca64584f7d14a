//! The dashboard page: header, controls, timeline, summary, table, and the confirmed apply.
//! Every control change re-plans in the browser with `retention::plan`; nothing goes to the
//! server until the user confirms.

use crate::api::{apply_status, scan_bucket, set_pin, start_apply};
use crate::format;
use crate::wire::{ApplyOutcome, ApplyRequest, JobStatus, ScanView};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use retention::{Action, DateSource, DeploymentId, Plan, Policy, Reason, Retain};

/// The policy the controls describe, or a sentence saying why they describe none.
fn policy_from(
    retain: &str,
    days: &str,
    date_source: &DateSource,
    max_delete: u64,
) -> Result<(Policy, Option<u64>), String> {
    let r: Retain = retain
        .parse()
        .map_err(|e: retention::PolicyError| e.to_string())?;
    let d = days.trim();
    let mut min_days = None;
    if !d.is_empty() {
        retention::parse_days(d)
            .map_err(|e| e.to_string().replace("--min-retain-days", "Minimum age"))?;
        min_days = Some(d.parse::<u64>().unwrap_or(u64::MAX));
    }
    // Built as the server builds it, so the confirmed set is the one the server will plan.
    let p = retention::PolicySpec {
        retain: Some(r.get()),
        min_retain_days: min_days,
        date_source: Some(date_source.clone()),
        max_delete: Some(max_delete),
        ..Default::default()
    }
    .build()
    .map_err(|e| e.to_string())?;
    Ok((p, min_days))
}

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

fn verdict_class(reason: &Reason) -> &'static str {
    match reason {
        Reason::Pinned { .. } | Reason::Live { .. } => "pinned",
        Reason::Excluded { .. } => "excluded",
        Reason::Expired { .. } => "delete",
        _ => "keep",
    }
}

#[cfg(feature = "hydrate")]
async fn sleep_ms(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}
#[cfg(all(feature = "ssr", not(feature = "hydrate")))]
async fn sleep_ms(ms: u32) {
    tokio::time::sleep(std::time::Duration::from_millis(ms.into())).await;
}
#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
async fn sleep_ms(_ms: u32) {}

/// Keeps the URL in step with the controls, so a preview is a link; no request is made.
#[cfg(feature = "hydrate")]
fn set_url(bucket: &str, retain: &str, days: &str, price: &str) {
    let enc = |s: &str| String::from(js_sys::encode_uri_component(s));
    let mut q = format!("?bucket={}&retain={}", enc(bucket), enc(retain.trim()));
    if !days.trim().is_empty() {
        q.push_str(&format!("&days={}", enc(days.trim())));
    }
    if price.trim() != "0.023" {
        q.push_str(&format!("&price={}", enc(price.trim())));
    }
    if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&q));
    }
}
#[cfg(not(feature = "hydrate"))]
fn set_url(_bucket: &str, _retain: &str, _days: &str, _price: &str) {}

/// Asks why a deployment must stay; `None` when the user cancels.
#[cfg(feature = "hydrate")]
fn ask_reason(id: &DeploymentId) -> Option<String> {
    web_sys::window()?
        .prompt_with_message(&format!("Why must {id} stay? (shown in every plan)"))
        .ok()
        .flatten()
}
#[cfg(not(feature = "hydrate"))]
fn ask_reason(_id: &DeploymentId) -> Option<String> {
    None
}

#[cfg(feature = "hydrate")]
fn navigate_to_bucket(key: &str) {
    let q = format!(
        "?bucket={}",
        String::from(js_sys::encode_uri_component(key))
    );
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_search(&q);
    }
}
#[cfg(not(feature = "hydrate"))]
fn navigate_to_bucket(_key: &str) {}

#[component]
pub fn Dashboard() -> impl IntoView {
    let q = use_query_map().get_untracked();
    let bucket_key = q.get("bucket");
    let retain = RwSignal::new(q.get("retain").unwrap_or_else(|| "5".into()));
    let days = RwSignal::new(q.get("days").unwrap_or_default());
    let price = RwSignal::new(q.get("price").unwrap_or_else(|| "0.023".into()));
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
                <nav class="nav"><strong>"Dashboard"</strong>" · "<a href="/history">"History"</a>" · "<a href="/logout" rel="external">"Sign out"</a></nav>
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
                        Ok(v) => view! { <Loaded view=v retain days price rescan notice job /> }.into_any(),
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
/// when the controls do).
#[derive(Clone)]
struct Row {
    id: DeploymentId,
    date: String,
    date_ts: i64,
    age: String,
    objects: u64,
    bytes: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum SortBy {
    DateDesc,
    DateAsc,
    SizeDesc,
    SizeAsc,
}

#[component]
fn Loaded(
    view: ScanView,
    retain: RwSignal<String>,
    days: RwSignal<String>,
    price: RwSignal<String>,
    rescan: RwSignal<u32>,
    notice: RwSignal<Option<String>>,
    job: RwSignal<Option<JobStatus>>,
) -> impl IntoView {
    // Set only in the browser, after hydration: tests wait for it before clicking.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));

    let date_source = view.date_source.clone();
    let bucket = view.bucket.clone();
    let now = view.now;
    let inventory = StoredValue::new(view.inventory.clone());

    let max_delete = view.max_delete;
    let read_only = view.read_only;
    let policy =
        Memo::new(move |_| policy_from(&retain.get(), &days.get(), &date_source, max_delete));
    let pinned: StoredValue<Vec<DeploymentId>> =
        StoredValue::new(view.inventory.pins.iter().map(|p| p.id.clone()).collect());
    let plan: Memo<Option<Plan>> = Memo::new(move |_| {
        policy
            .get()
            .ok()
            .map(|(p, _)| inventory.with_value(|inv| retention::plan(inv, &p, now)))
    });
    let price_v = Memo::new(move |_| price_from(&price.get()));
    {
        // The URL follows the controls a moment after the last change: Chromium's replaceState
        // costs ~2 ms, an eighth of the frame the preview has to fit in.
        let key = bucket.key.clone();
        let pending = StoredValue::new(None::<TimeoutHandle>);
        Effect::new(move |_| {
            let (r, d, p) = (retain.get(), days.get(), price.get());
            let key = key.clone();
            if let Some(h) = pending.get_value() {
                h.clear();
            }
            let h = set_timeout_with_handle(
                move || set_url(&key, &r, &d, &p),
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
                date: format::date(&e.date),
                date_ts: e.date.timestamp(),
                age: retention::human_age(e.age_secs),
                objects: e.objects,
                bytes: e.bytes,
            })
            .collect()
    });
    let n = rows.with_value(|r| r.len());
    let focused = RwSignal::new(None::<usize>);
    // Verdicts follow the plan through one effect (see `repaint`); the markup is rendered with
    // the plan of the moment, so the server's HTML is already right.
    let painted: StoredValue<Vec<&'static str>> =
        StoredValue::new(plan.with_untracked(|p| (0..n).map(|i| class_at(p, i)).collect()));
    Effect::new(move |_| {
        plan.track();
        #[cfg(feature = "hydrate")]
        plan.with(|p| painted.update_value(|c| repaint(p, c)));
        #[cfg(not(feature = "hydrate"))]
        let _ = painted;
    });

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
                    <div><dt>"Scanned"</dt><dd>{format!("{} UTC", format::date(&v.scanned_at))}</dd></div>
                    {v.live_pointer.clone().map(|k| view! { <div><dt>"Live pointer"</dt><dd>{k}</dd></div> })}
                    <div><dt>"Guard"</dt><dd>{format!("max {} per apply", v.max_delete)}</dd></div>
                    {v.read_only.then(|| view! { <div><dt>"Mode"</dt><dd data-testid="read-only">"read-only"</dd></div> })}
                </dl>
                <button type="button" class="secondary" on:click=move |_| rescan.update(|n| *n += 1)>"Rescan"</button>
            </section>
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

    let step = move |delta: i64| {
        let cur = retain.get_untracked().trim().parse::<i64>().unwrap_or(1);
        retain.set((cur + delta).max(1).to_string());
    };

    view! {
        <section class="dash" data-ready=move || ready.get().then_some("true")>
            {header}
            <form class="controls" on:submit=|ev| ev.prevent_default() aria-label="Retention policy">
                <div class="field">
                    <label for="retain">"Keep the newest"</label>
                    <div class="stepper">
                        <button type="button" aria-label="Keep one fewer" on:click=move |_| step(-1)>"−"</button>
                        <input id="retain" name="retain" type="number" min="1" step="1" inputmode="numeric"
                            value=retain.get_untracked()
                            prop:value=move || retain.get()
                            on:input=move |ev| retain.set(event_target_value(&ev)) />
                        <button type="button" aria-label="Keep one more" on:click=move |_| step(1)>"+"</button>
                    </div>
                    <small>"deployments, always"</small>
                </div>
                <div class="field">
                    <label for="days">"Minimum age (days)"</label>
                    <input id="days" name="days" type="number" min="0" step="1" inputmode="numeric" placeholder="off"
                        value=days.get_untracked()
                        prop:value=move || days.get()
                        on:input=move |ev| days.set(event_target_value(&ev)) />
                    <small>"delete only older deployments; empty = off"</small>
                </div>
                <div class="field">
                    <label for="price">"Price per GB-month (USD)"</label>
                    <input id="price" name="price" type="number" min="0" step="0.001" inputmode="decimal"
                        value=price.get_untracked()
                        prop:value=move || price.get()
                        on:input=move |ev| price.set(event_target_value(&ev)) />
                    <small>"S3 Standard: 0.023"</small>
                </div>
            </form>
            {move || {
                let mut errs = Vec::new();
                if let Err(e) = policy.get() { errs.push(e) }
                if let Err(e) = price_v.get() { errs.push(e) }
                (!errs.is_empty()).then(|| view! { <p class="error" role="alert" data-testid="policy-error">{errs.join(" ")}</p> })
            }}
            <Summary plan price=price_v />
            {view.schedule.clone().map(|sch| view! { <Forecast schedule=sch inventory date_source=view.date_source.clone() now max_delete retain days /> })}
            {move || plan.with(|p| p.as_ref().map(|p| p.warnings.iter().map(|w| view! { <p class="warning">{format!("Warning: {w}")}</p> }).collect_view()))}
            {move || plan.with(|p| p.as_ref().map(|p| p.blocked.iter().map(|b| view! { <p class="error" role="alert" data-testid="blocked">{format!("Blocked: {b}")}</p> }).collect_view()))}
            <Timeline rows plan focused />
            <Apply bucket=bucket.clone() plan policy rescan notice job read_only />
            <Table rows plan focused pinned bucket_key=bucket.key.clone() rescan notice read_only />
        </section>
    }
    .into_any()
}

/// What the next scheduled run will delete: the same plan, with the scheduled policy.
#[component]
fn Forecast(
    schedule: crate::wire::Schedule,
    inventory: StoredValue<retention::Inventory>,
    date_source: DateSource,
    now: chrono::DateTime<chrono::Utc>,
    max_delete: u64,
    retain: RwSignal<String>,
    days: RwSignal<String>,
) -> impl IntoView {
    let days_text = schedule.min_days.map(|d| d.to_string()).unwrap_or_default();
    let text = match policy_from(
        &schedule.retain.to_string(),
        &days_text,
        &date_source,
        max_delete,
    ) {
        Ok((p, _)) => {
            let plan = inventory.with_value(|inv| retention::plan(inv, &p, now));
            let d = plan.summary.delete;
            let blocked = if plan.blocked.is_empty() {
                String::new()
            } else {
                " — blocked by the guard, it will delete nothing".into()
            };
            format!(
                "The scheduled job ({}, keep newest {}{}) would now delete {} ({}){blocked}.",
                schedule.expression,
                schedule.retain,
                schedule
                    .min_days
                    .map(|d| format!(", older than {d} d"))
                    .unwrap_or_default(),
                format::plural(d.deployments, "deployment", "deployments"),
                format::size(d.bytes),
            )
        }
        Err(e) => format!("The scheduled policy is not valid: {e}"),
    };
    let (r, d) = (schedule.retain.to_string(), days_text);
    view! {
        <section class="card forecast" aria-label="Scheduled job" data-testid="forecast">
            <h2>"Scheduled job"</h2>
            <p>{text}</p>
            <button type="button" class="secondary" on:click=move |_| { retain.set(r.clone()); days.set(d.clone()); }>
                "Preview the scheduled policy"
            </button>
        </section>
    }
}

#[component]
fn Summary(plan: Memo<Option<Plan>>, price: Memo<Result<f64, String>>) -> impl IntoView {
    let s = move || plan.with(|p| p.as_ref().map(|p| p.summary));
    view! {
        <section class="summary" aria-live="polite" aria-label="Summary">
            <div class="card delete">
                <h2>"Delete"</h2>
                <p class="big" data-testid="delete-count">{move || s().map_or("—".into(), |s| format::plural(s.delete.deployments, "deployment", "deployments"))}</p>
                <p>{move || s().map(|s| format!("{} · {}", format::plural(s.delete.objects, "object", "objects"), format::size(s.delete.bytes)))}</p>
                <p class="saving" data-testid="saving">{move || match (s(), price.get()) {
                    (Some(s), Ok(p)) => format!("saves {} / month", format::monthly_cost(s.delete.bytes, p)),
                    _ => String::new(),
                }}</p>
            </div>
            <div class="card keep">
                <h2>"Keep"</h2>
                <p class="big" data-testid="keep-count">{move || s().map_or("—".into(), |s| format::plural(s.keep.deployments, "deployment", "deployments"))}</p>
                <p>{move || s().map(|s| format!("{} · {}", format::plural(s.keep.objects, "object", "objects"), format::size(s.keep.bytes)))}</p>
                <p>{move || match (s(), price.get()) {
                    (Some(s), Ok(p)) => format!("costs {} / month", format::monthly_cost(s.keep.bytes, p)),
                    _ => String::new(),
                }}</p>
            </div>
            {move || s().filter(|s| s.loose.objects > 0).map(|s| view! {
                <div class="card loose">
                    <h2>"Loose"</h2>
                    <p class="big">{format::plural(s.loose.objects, "object", "objects")}</p>
                    <p>{format!("{} directly under the prefix: never deleted", format::size(s.loose.bytes))}</p>
                </div>
            })}
        </section>
    }
}

fn verdict_at(plan: &Option<Plan>, i: usize) -> &'static str {
    plan.as_ref()
        .and_then(|p| p.entries.get(i))
        .map_or("—", |e| {
            if e.action == Action::Delete {
                "delete"
            } else {
                "keep"
            }
        })
}

/// Brings the rendered table rows and the timeline marks in line with `plan`.
/// Only the rows in view exist (see `Table`), and a mark is touched only when its verdict
/// changed since the last paint (`painted`), so a change costs tens of DOM calls, not 10,000.
#[cfg(feature = "hydrate")]
fn repaint(plan: &Option<Plan>, painted: &mut [&'static str]) {
    use wasm_bindgen::JsCast;
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let element = |n: Option<web_sys::Node>| n.and_then(|n| n.dyn_into::<web_sys::Element>().ok());
    let set_text = |el: Option<web_sys::Element>, text: &str| {
        if let Some(el) = el {
            if el.text_content().as_deref() != Some(text) {
                el.set_text_content(Some(text));
            }
        }
    };
    if let Ok(list) = doc.query_selector_all("tbody tr.row") {
        for k in 0..list.length() {
            let Some(el) = element(list.item(k)) else {
                continue;
            };
            let Some(i) = el
                .get_attribute("data-idx")
                .and_then(|v| v.parse::<usize>().ok())
            else {
                continue;
            };
            let cur = el.get_attribute("class").unwrap_or_default();
            let mut want = format!("row {}", class_at(plan, i));
            if cur.split(' ').any(|c| c == "focused") {
                want.push_str(" focused");
            }
            if cur != want {
                let _ = el.set_attribute("class", &want);
            }
            let cells = el.children();
            set_text(cells.item(5), verdict_at(plan, i));
            let reason = reason_at(plan, i);
            if let Some(td) = cells.item(6) {
                if td.text_content().as_deref() != Some(reason.as_str()) {
                    let _ = td.set_attribute("title", &reason);
                    td.set_text_content(Some(&reason));
                }
            }
        }
    }
    if let Ok(marks) = doc.query_selector_all("svg.marks circle.mark") {
        for (i, last) in painted.iter_mut().enumerate() {
            let want = class_at(plan, i);
            if *last == want {
                continue;
            }
            if let Some(el) = element(marks.item(i as u32)) {
                let _ = el.set_attribute("class", &format!("mark {want}"));
                *last = want;
            }
        }
    }
}

fn class_at(plan: &Option<Plan>, i: usize) -> &'static str {
    plan.as_ref()
        .and_then(|p| p.entries.get(i))
        .map_or("unknown", |e| verdict_class(&e.reason))
}

fn reason_at(plan: &Option<Plan>, i: usize) -> String {
    plan.as_ref()
        .and_then(|p| p.entries.get(i))
        .map_or_else(|| "—".into(), |e| e.reason_text.clone())
}

#[component]
fn Timeline(
    rows: StoredValue<Vec<Row>>,
    plan: Memo<Option<Plan>>,
    focused: RwSignal<Option<usize>>,
) -> impl IntoView {
    const W: f64 = 1000.0;
    const H: f64 = 130.0;
    const PAD: f64 = 24.0;
    let marks = rows.with_value(|rows| {
        let min = rows.iter().map(|r| r.date_ts).min().unwrap_or(0);
        let max = rows.iter().map(|r| r.date_ts).max().unwrap_or(0);
        let span = (max - min) as f64;
        let max_bytes = rows.iter().map(|r| r.bytes).max().unwrap_or(1).max(1) as f64;
        let rmax = if rows.len() > 400 {
            5.0
        } else if rows.len() > 60 {
            8.0
        } else {
            12.0
        };
        let marks: Vec<(usize, f64, f64, f64)> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let x = if span == 0.0 {
                    W / 2.0
                } else {
                    PAD + (r.date_ts - min) as f64 / span * (W - 2.0 * PAD)
                };
                let y = 28.0 + (i % 4) as f64 * 24.0;
                let rad = 2.0 + (rmax - 2.0) * (r.bytes as f64 / max_bytes).sqrt();
                (i, x, y, rad)
            })
            .collect();
        let first = rows.last().map(|r| r.date.clone()).unwrap_or_default();
        let last = rows.first().map(|r| r.date.clone()).unwrap_or_default();
        (marks, first, last)
    });
    let (marks, first, last) = marks;
    let detail = move || {
        focused.get().map(|i| {
            let reason = plan.with(|p| reason_at(p, i));
            rows.with_value(|rows| {
                let r = &rows[i];
                format!(
                    "{} · {} UTC · {} old · {} · {} · {}",
                    r.id,
                    r.date,
                    r.age,
                    format::plural(r.objects, "object", "objects"),
                    format::size(r.bytes),
                    reason
                )
            })
        })
    };
    view! {
        <section class="timeline" aria-label="Timeline">
            <h2>"Timeline"</h2>
            <ul class="legend">
                <li><span class="swatch keep"></span>"kept"</li>
                <li><span class="swatch delete"></span>"deleted"</li>
                <li><span class="swatch pinned"></span>"pinned"</li>
                <li><span class="swatch excluded"></span>"excluded"</li>
                <li class="hint">"size = bytes; newest on the right"</li>
            </ul>
            <svg class="marks" viewBox=format!("0 0 {W} {H}") role="group" aria-label="Deployments over time">
                <line x1=PAD y1=H - 10.0 x2=W - PAD y2=H - 10.0 class="axis" />
                {marks.into_iter().map(|(i, x, y, rad)| {
                    let (label, tip) = rows.with_value(|rows| {
                        let r = &rows[i];
                        (format!("{} {}", r.id, r.date), format!("{} · {} UTC · {}", r.id, r.date, format::size(r.bytes)))
                    });
                    view! {
                        <circle cx=x cy=y r=rad tabindex="0"
                            class=format!("mark {}", plan.with_untracked(|p| class_at(p, i)))
                            data-idx=i
                            data-id=rows.with_value(|rows| rows[i].id.to_string())
                            aria-label=label
                            on:mouseenter=move |_| focused.set(Some(i))
                            on:focus=move |_| focused.set(Some(i))>
                            <title>{tip}</title>
                        </circle>
                    }
                }).collect_view()}
            </svg>
            <div class="ticks"><span>{first}</span><span>{last}</span></div>
            <p class="detail" aria-live="polite" data-testid="mark-detail">{move || detail().unwrap_or_else(|| "Hover or focus a mark for details.".into())}</p>
        </section>
    }
}

#[component]
fn Table(
    rows: StoredValue<Vec<Row>>,
    plan: Memo<Option<Plan>>,
    focused: RwSignal<Option<usize>>,
    pinned: StoredValue<Vec<DeploymentId>>,
    bucket_key: String,
    rescan: RwSignal<u32>,
    notice: RwSignal<Option<String>>,
    read_only: bool,
) -> impl IntoView {
    let bucket_key = StoredValue::new(bucket_key);
    let toggle_pin = move |id: DeploymentId, pin: bool| {
        let Some(reason) = (if pin {
            ask_reason(&id)
        } else {
            Some(String::new())
        }) else {
            return;
        };
        let key = bucket_key.get_value();
        leptos::task::spawn_local(async move {
            match set_pin(key, id.to_string(), reason, pin).await {
                Ok(()) => rescan.update(|n| *n += 1),
                Err(e) => notice.set(Some(format!(
                    "Could not change the pin: {}",
                    server_error(&e)
                ))),
            }
        });
    };
    let sort = RwSignal::new(SortBy::DateDesc);
    let order = Memo::new(move |_| {
        let s = sort.get();
        rows.with_value(|rows| {
            let mut idx: Vec<usize> = (0..rows.len()).collect();
            match s {
                SortBy::DateDesc => {}
                SortBy::DateAsc => idx.reverse(),
                SortBy::SizeDesc => {
                    idx.sort_by(|a, b| rows[*b].bytes.cmp(&rows[*a].bytes).then(a.cmp(b)))
                }
                SortBy::SizeAsc => {
                    idx.sort_by(|a, b| rows[*a].bytes.cmp(&rows[*b].bytes).then(a.cmp(b)))
                }
            }
            idx
        })
    });
    // Only a window of rows around the scroll position is in the DOM; spacer rows stand in for
    // the rest. A control change then repaints the ~40 rows in view instead of 2,000, and
    // scrolling moves the window in steps of `STEP` rows. `span` is the window's length: the
    // rows that fit in the scroll box plus a margin above and below (60 until measured).
    const STEP: usize = 10;
    let n = rows.with_value(|r| r.len());
    let first = RwSignal::new(0usize);
    let span = RwSignal::new(60usize);
    let row_h = RwSignal::new(33.0f64);
    let scroller = NodeRef::<leptos::html::Div>::new();
    let top_pad = NodeRef::<leptos::html::Tr>::new();
    let bottom_pad = NodeRef::<leptos::html::Tr>::new();
    let visible = Memo::new(move |_| {
        let s = sort.get();
        order.with(|o| {
            let start = first.get().min(o.len());
            let end = (start + span.get()).min(o.len());
            (start..end).map(|pos| (s, pos, o[pos])).collect::<Vec<_>>()
        })
    });
    // The row height is read while the layout is settled (on mount and before a scroll moves
    // the window), never between the window's DOM changes: a layout forced half-way would clamp
    // the scroll position to a momentarily shorter table.
    let measure = move || {
        #[cfg(feature = "hydrate")]
        if let Some(el) = scroller.get_untracked() {
            if let Some(h) = el
                .query_selector("tbody tr.row")
                .ok()
                .flatten()
                .map(|r| r.get_bounding_client_rect().height())
                .filter(|h| *h > 0.0 && (*h - row_h.get_untracked()).abs() > 0.01)
            {
                row_h.set(h);
            }
            let fit = (f64::from(el.client_height()) / row_h.get_untracked()).ceil() as usize;
            // `first` trails the top row by STEP..2·STEP rows; one more STEP keeps at least
            // STEP rows below the view, so Tab from the last visible row stays in the table.
            let want = fit.max(10) + 3 * STEP;
            if want != span.get_untracked() {
                span.set(want);
            }
        }
    };
    Effect::new(move |_| measure());
    let on_scroll = move |_| {
        measure();
        if let Some(el) = scroller.get_untracked() {
            let top_row = (f64::from(el.scroll_top()) / row_h.get_untracked()).floor() as usize;
            let f = top_row.saturating_sub(STEP) / STEP * STEP;
            if f != first.get_untracked() {
                first.set(f);
            }
        }
    };
    // Spacer heights are set from the browser: a style attribute in the HTML would break the CSP.
    Effect::new(move |_| {
        let (f, h) = (first.get(), row_h.get());
        let end = (f + span.get()).min(n);
        for (pad, rows_hidden) in [(top_pad, f.min(n)), (bottom_pad, n - end)] {
            if let Some(tr) = pad.get() {
                #[cfg(feature = "hydrate")]
                let _ = web_sys::HtmlElement::style(&tr)
                    .set_property("height", &format!("{}px", rows_hidden as f64 * h));
                #[cfg(not(feature = "hydrate"))]
                let _ = (tr, rows_hidden, h);
            }
        }
    });
    let aria = move |desc: SortBy, asc: SortBy| {
        move || {
            let s = sort.get();
            if s == desc {
                "descending"
            } else if s == asc {
                "ascending"
            } else {
                "none"
            }
        }
    };
    let toggle = move |desc: SortBy, asc: SortBy| {
        move |_| {
            sort.set(if sort.get_untracked() == desc {
                asc
            } else {
                desc
            });
            first.set(0);
            if let Some(el) = scroller.get_untracked() {
                el.set_scroll_top(0);
            }
        }
    };
    view! {
        <div class="table-wrap" role="region" aria-label="Deployments" tabindex="0" data-rows=n
            node_ref=scroller on:scroll=on_scroll>
            <table class="deployments" aria-rowcount=n + 1>
                <thead>
                    <tr>
                        <th scope="col">"Deployment"</th>
                        <th scope="col" aria-sort=aria(SortBy::DateDesc, SortBy::DateAsc)>
                            <button type="button" class="sort" on:click=toggle(SortBy::DateDesc, SortBy::DateAsc)>"Date (UTC)"</button>
                        </th>
                        <th scope="col">"Age"</th>
                        <th scope="col" class="num">"Objects"</th>
                        <th scope="col" class="num" aria-sort=aria(SortBy::SizeDesc, SortBy::SizeAsc)>
                            <button type="button" class="sort" on:click=toggle(SortBy::SizeDesc, SortBy::SizeAsc)>"Size"</button>
                        </th>
                        <th scope="col">"Verdict"</th>
                        <th scope="col">"Reason"</th>
                        <th scope="col"><span class="sr-only">"Pin"</span></th>
                    </tr>
                </thead>
                <tbody>
                    <tr class="spacer" aria-hidden="true" node_ref=top_pad><td colspan="8"></td></tr>
                    <For each=move || visible.get() key=|(s, _, i)| (*s, *i) let:((_, pos, i))>
                        {rows.with_value(|rows| {
                            let r = rows[i].clone();
                            let reason = plan.with_untracked(|p| reason_at(p, i));
                            let tip = reason.clone();
                            view! {
                                <tr class=format!("row {}", plan.with_untracked(|p| class_at(p, i)))
                                    class:focused=move || focused.get() == Some(i)
                                    aria-rowindex=pos + 2
                                    data-idx=i
                                    data-id=r.id.to_string()>
                                    <td class="id">{r.id.to_string()}</td>
                                    <td>{r.date}</td>
                                    <td>{r.age}</td>
                                    <td class="num">{r.objects}</td>
                                    <td class="num">{format::size(r.bytes)}</td>
                                    <td class="verdict">{plan.with_untracked(|p| verdict_at(p, i))}</td>
                                    <td class="reason" title=tip>{reason}</td>
                                    <td class="pin">{
                                        let is_pinned = pinned.with_value(|p| p.contains(&r.id));
                                        let id = r.id.clone();
                                        let label = format!("{} {}", if is_pinned { "Unpin" } else { "Pin" }, r.id);
                                        view! {
                                            <button type="button" class="link" aria-label=label disabled=read_only
                                                on:click=move |_| toggle_pin(id.clone(), !is_pinned)>
                                                {if is_pinned { "Unpin" } else { "Pin" }}
                                            </button>
                                        }
                                    }</td>
                                </tr>
                            }
                        })}
                    </For>
                    <tr class="spacer" aria-hidden="true" node_ref=bottom_pad><td colspan="8"></td></tr>
                </tbody>
            </table>
        </div>
    }
}

type Confirmed = Vec<retention::Doomed>;

#[component]
fn Apply(
    bucket: crate::wire::BucketChoice,
    plan: Memo<Option<Plan>>,
    policy: Memo<Result<(Policy, Option<u64>), String>>,
    rescan: RwSignal<u32>,
    notice: RwSignal<Option<String>>,
    job: RwSignal<Option<JobStatus>>,
    read_only: bool,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let typed = RwSignal::new(String::new());
    let snapshot = RwSignal::new(Confirmed::new());
    let snapshot_totals = RwSignal::new((0u64, 0u64));
    let running = move || job.with(|j| j.as_ref().is_some_and(|j| j.report.is_none()));
    let to_delete = move || plan.with(|p| p.as_ref().map_or(0, |p| p.summary.delete.deployments));
    let blocked = move || plan.with(|p| p.as_ref().is_some_and(|p| !p.blocked.is_empty()));
    let can_apply = move || {
        !read_only && policy.with(|p| p.is_ok()) && to_delete() > 0 && !running() && !blocked()
    };
    let name = bucket.name.clone();
    let key = bucket.key.clone();

    let open = move |_| {
        plan.with_untracked(|p| {
            if let Some(p) = p {
                snapshot.set(p.deletion_set());
                snapshot_totals.set((p.summary.delete.objects, p.summary.delete.bytes));
            }
        });
        typed.set(String::new());
        if let Some(d) = dialog.get_untracked() {
            let _ = d.show_modal();
        }
    };
    let close = move |_| {
        if let Some(d) = dialog.get_untracked() {
            d.close();
        }
    };
    let confirm = {
        let key = key.clone();
        move |_| {
            let Ok((p, min_days)) = policy.get_untracked() else {
                return;
            };
            let req = ApplyRequest {
                bucket: key.clone(),
                retain: p.retain.get(),
                min_days,
                confirmed: snapshot.get_untracked(),
            };
            if let Some(d) = dialog.get_untracked() {
                d.close();
            }
            job.set(Some(JobStatus {
                deployments_done: 0,
                deployments_total: req.confirmed.len() as u64,
                objects_done: 0,
                objects_total: snapshot_totals.get_untracked().0,
                report: None,
                error: None,
            }));
            notice.set(None);
            leptos::task::spawn_local(async move {
                match start_apply(req).await {
                    Ok(ApplyOutcome::Started { job: id }) => loop {
                        match apply_status(id).await {
                            Ok(s) if s.error.is_some() => {
                                notice.set(s.error.map(|e| format!("Apply refused: {e}")));
                                job.set(None);
                                break;
                            }
                            Ok(s) => {
                                let done = s.report.is_some();
                                job.set(Some(s));
                                if done {
                                    rescan.update(|n| *n += 1);
                                    break;
                                }
                            }
                            Err(e) => {
                                notice.set(Some(format!(
                                    "Lost track of the apply: {}",
                                    server_error(&e)
                                )));
                                job.set(None);
                                break;
                            }
                        }
                        sleep_ms(250).await;
                    },
                    Ok(ApplyOutcome::Changed { message }) => {
                        job.set(None);
                        notice.set(Some(message));
                        rescan.update(|n| *n += 1);
                    }
                    Err(e) => {
                        job.set(None);
                        notice.set(Some(format!("Apply refused: {}", server_error(&e))));
                    }
                }
            });
        }
    };
    let name_for_check = name.clone();
    let name_matches = move || typed.get().trim() == name_for_check;

    view! {
        <section class="apply" aria-label="Apply">
            <button type="button" class="danger" data-testid="open-apply" disabled=move || !can_apply() on:click=open>
                {move || format!("Delete {}…", format::plural(to_delete(), "deployment", "deployments"))}
            </button>
            {move || job.get().map(|s| match s.report {
                None => view! {
                    <div class="progress" role="status" data-testid="progress">
                        <progress max=s.objects_total.max(1) value=s.objects_done></progress>
                        <span>{format!("Deleting: {} of {} deployments, {} of {} objects",
                            s.deployments_done, s.deployments_total, s.objects_done, s.objects_total)}</span>
                    </div>
                }.into_any(),
                Some(r) => view! {
                    <div class=if r.is_complete() { "report ok" } else { "report failed" } role="status" data-testid="report">
                        <p>{format!("Deleted {} from {} in {:.1} s{}.",
                            format::plural(r.deleted_objects, "object", "objects"),
                            format::plural(r.deleted.len() as u64, "deployment", "deployments"),
                            r.duration_ms as f64 / 1000.0,
                            r.id.map(|id| format!(" (audit record #{id})")).unwrap_or_default())}</p>
                        {(r.status == audit::Status::Interrupted).then(|| view! {
                            <p>"Stopped (the server shut down): no deletion was started after the stop. Apply again to finish."</p>
                        })}
                        {(!r.skipped.is_empty()).then(|| view! {
                            <p>{format!("{} newer than the preview, left in place:", format::plural(r.skipped.len() as u64, "object", "objects"))}</p>
                            <ul class="failures">
                                {r.skipped.iter().take(100).map(|k| view! { <li><code>{k.key.clone()}</code></li> }).collect_view()}
                            </ul>
                        })}
                        {(!r.failures.is_empty()).then(|| view! {
                            <p>{format!("{} failed:", format::plural(r.failures.len() as u64, "object", "objects"))}</p>
                            <ul class="failures">
                                {r.failures.iter().take(100).map(|f| view! { <li><code>{f.key.clone()}</code>": "{f.error.clone()}</li> }).collect_view()}
                            </ul>
                        })}
                    </div>
                }.into_any(),
            })}
        </section>
        <dialog node_ref=dialog class="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-desc">
            <h2 id="confirm-title">{move || format!("Delete {} from {}?", format::plural(snapshot.with(|s| s.len() as u64), "deployment", "deployments"), name.clone())}</h2>
            <p id="confirm-desc">{move || {
                let (o, b) = snapshot_totals.get();
                format!("{} · {}. This cannot be undone. The server re-checks the bucket first and deletes nothing if it changed.", format::plural(o, "object", "objects"), format::size(b))
            }}</p>
            <ul class="doomed" data-testid="doomed">
                {move || snapshot.get().into_iter().map(|d| view! {
                    <li><code>{d.id.to_string()}</code>{format!(" — {}, {}", format::plural(d.objects, "object", "objects"), format::size(d.bytes))}</li>
                }).collect_view()}
            </ul>
            <label for="confirm-name">"Type the bucket name "<code>{bucket.name.clone()}</code>" to confirm"</label>
            <input id="confirm-name" type="text" autocomplete="off" spellcheck="false"
                prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) />
            <div class="actions">
                <button type="button" class="secondary" on:click=close>"Cancel"</button>
                <button type="button" class="danger" data-testid="confirm-apply" disabled=move || !name_matches() on:click=confirm>"Delete"</button>
            </div>
        </dialog>
    }
}
