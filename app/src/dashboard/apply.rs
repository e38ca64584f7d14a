//! Apply: the Delete button, then the dialog that lists what will be deleted and asks for the
//! bucket name (`dialog`), then the progress and the report (`report`). The server re-plans
//! with the same policy and deletes only if it yields exactly the confirmed set (`run`).

mod dialog;
mod report;
mod run;

use super::lease::{LeaseNotice, LeaseWatch};
use super::policy::Chosen;
use crate::format;
use crate::wire::{ApplyRequest, JobStatus};
use dialog::{ConfirmDialog, Snapshot};
use leptos::prelude::*;
use report::Outcome;
use retention::Plan;
pub(super) use run::{follow, Shown};

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
    /// `serve --via-lifecycle`: deployments of more objects go to S3 lifecycle expiration.
    lifecycle_over: Option<u64>,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let typed = RwSignal::new(String::new());
    let snapshot = Snapshot {
        doomed: RwSignal::new(Vec::new()),
        totals: RwSignal::new((0, 0, false)),
        stale: RwSignal::new(None),
    };
    // When this preview was made, by the browser's clock (effects run only in the browser).
    let shown_at = StoredValue::new(None::<f64>);
    Effect::new(move |_| shown_at.set_value(Some(js_sys::Date::now())));
    let lease = LeaseWatch::new(bucket.key.clone(), rescan);
    let to_delete = move || plan.with(|p| p.as_ref().map_or(0, |p| p.summary.delete.deployments));
    let can_apply = move || {
        let running = job.with(|j| j.as_ref().is_some_and(|j| j.report.is_none()));
        let blocked = plan.with(|p| p.as_ref().is_some_and(|p| !p.blocked.is_empty()));
        !read_only.get()
            && policy.with(|p| p.is_ok())
            && to_delete() > 0
            && !running
            && !blocked
            && lease.held.with(Option::is_none)
    };
    let open = move |_| {
        plan.with_untracked(|p| {
            if let Some(p) = p {
                snapshot.doomed.set(p.deletion_set());
                // Undone from History as the Undo line says (enabled versioning), unless the
                // server purges the versions.
                let undo =
                    p.versioning == retention::Versioning::Enabled && !p.policy.purge_versions;
                let d = &p.summary.delete;
                snapshot.totals.set((d.objects, d.bytes, undo));
            }
        });
        // A tab left open overnight: the server re-plans with its clock and refuses a plan
        // that moved on, but the user can see that coming.
        let hours = shown_at
            .get_value()
            .map_or(0, |t| ((js_sys::Date::now() - t) / 3_600_000.0) as u64);
        snapshot.stale.set((hours >= 1).then(|| {
            format!(
                "This preview is {hours} h old: deployments may have aged past the minimum age \
                 since. The server deletes nothing if its plan moved on; Rescan to see it first."
            )
        }));
        typed.set(String::new());
        lease.check();
        if let Some(d) = dialog.get_untracked() {
            let _ = d.show_modal();
        }
    };
    let key = bucket.key.clone();
    let confirm = Callback::new(move |()| {
        let Ok(c) = policy.get_untracked() else {
            return;
        };
        if let Some(d) = dialog.get_untracked() {
            d.close();
        }
        let req = ApplyRequest {
            bucket: key.clone(),
            retain: c.policy.retain.get(),
            min_days: c.min_days,
            policy: c.toml,
            confirmed: snapshot.doomed.get_untracked(),
            confirm: typed.get_untracked(),
            undoable: snapshot.totals.get_untracked().2,
        };
        let shown = run::Shown {
            job,
            notice,
            rescan,
        };
        run::run(req, snapshot.totals.get_untracked().0, shown);
    });

    view! {
        <section class="apply" aria-label="Apply">
            {move || may_change.get().then(|| view! {
                <button type="button" class="danger" data-testid="open-apply" disabled=move || !can_apply() on:click=open>
                    {move || format!("Delete {}…", format::plural(to_delete(), "deployment", "deployments"))}
                </button>
            })}
            <LeaseNotice watch=lease />
            {move || job.get().map(|status| view! { <Outcome status /> })}
        </section>
        <ConfirmDialog dialog bucket=bucket.clone() snapshot typed lease lifecycle_over on_confirm=confirm />
    }
}
