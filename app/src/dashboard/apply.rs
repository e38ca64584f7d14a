//! Apply: the dialog that lists what will be deleted and asks for the bucket name, then the
//! progress and the report. The server re-plans with the same policy and deletes only if it
//! yields exactly the confirmed set.

use super::browser::sleep_ms;
use super::lease::{LeaseNotice, LeaseWatch};
use super::policy::Chosen;
use super::server_error;
use crate::api::{apply_status, start_apply};
use crate::format;
use crate::wire::{ApplyOutcome, ApplyRequest, JobStatus};
use leptos::prelude::*;
use retention::Plan;

type Confirmed = Vec<retention::Doomed>;

#[component]
pub fn Apply(
    bucket: crate::wire::BucketChoice,
    plan: Memo<Option<Plan>>,
    policy: Memo<Result<Chosen, String>>,
    rescan: RwSignal<u32>,
    notice: RwSignal<Option<String>>,
    job: RwSignal<Option<JobStatus>>,
    read_only: Signal<bool>,
    /// The signed-in person may apply: otherwise no Delete button is offered at all.
    may_change: Signal<bool>,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let typed = RwSignal::new(String::new());
    let snapshot = RwSignal::new(Confirmed::new());
    let snapshot_totals = RwSignal::new((0u64, 0u64));
    let running = move || job.with(|j| j.as_ref().is_some_and(|j| j.report.is_none()));
    let to_delete = move || plan.with(|p| p.as_ref().map_or(0, |p| p.summary.delete.deployments));
    let blocked = move || plan.with(|p| p.as_ref().is_some_and(|p| !p.blocked.is_empty()));
    let lease = LeaseWatch::new(bucket.key.clone(), rescan);
    let held = move || lease.held.with(Option::is_some);
    let can_apply = move || {
        !read_only.get()
            && policy.with(|p| p.is_ok())
            && to_delete() > 0
            && !running()
            && !blocked()
            && !held()
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
        lease.check();
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
            let Ok(c) = policy.get_untracked() else {
                return;
            };
            let req = ApplyRequest {
                bucket: key.clone(),
                retain: c.policy.retain.get(),
                min_days: c.min_days,
                policy: c.toml,
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
            {move || may_change.get().then(|| view! {
                <button type="button" class="danger" data-testid="open-apply" disabled=move || !can_apply() on:click=open>
                    {move || format!("Delete {}…", format::plural(to_delete(), "deployment", "deployments"))}
                </button>
            })}
            <LeaseNotice watch=lease />
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
                        {(!r.changed.is_empty() || !r.held.is_empty()).then(|| view! {
                            <ul class="held" data-testid="left-whole">
                                {r.changed.iter().map(|c| view! { <li><code>{c.deployment.clone()}</code>{format!(": left whole, {}.", c.reason)}</li> }).collect_view()}
                                {r.held.iter().map(|h| view! { <li><code>{h.deployment.clone()}</code>{format!(": left untouched, {}.", h.reason)}</li> }).collect_view()}
                            </ul>
                        })}
                        {(!r.skipped.is_empty()).then(|| view! {
                            <p>{format!("{} newer than the preview appeared while a deployment was deleted, left in place:", format::plural(r.skipped.len() as u64, "object", "objects"))}</p>
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
            <LeaseNotice watch=lease />
            <label for="confirm-name">"Type the bucket name "<code>{bucket.name.clone()}</code>" to confirm"</label>
            <input id="confirm-name" type="text" autocomplete="off" spellcheck="false"
                prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) />
            <div class="actions">
                <button type="button" class="secondary" on:click=close>"Cancel"</button>
                <button type="button" class="danger" data-testid="confirm-apply" disabled=move || !name_matches() || held() on:click=confirm>"Delete"</button>
            </div>
        </dialog>
    }
}
