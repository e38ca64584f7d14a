//! A scanned bucket on the dashboard: the policy and the plan it makes, and the sections that
//! show them, from the bucket's facts (`facts`) down to the table.

mod empty;
mod facts;
mod notes;
mod url;

use super::apply::{self, Apply};
use super::approvals::Approvals;
use super::controls::{ControlState, Controls};
use super::paint::repaint;
use super::policy::{chosen, drafts_of, Chosen, Imposed};
use super::row::{rows_of, Row};
use super::rules::RuleEditor;
use super::summary::{Forecast, Summary};
use super::table::Table;
use super::timeline::Timeline;
use crate::wire::{JobStatus, ScanView};
use chrono::{DateTime, Utc};
use empty::EmptyBucket;
use facts::BucketFacts;
use leptos::prelude::*;
use notes::{price_from, PlanNotes, PolicyErrors};
use retention::{DeploymentId, Ordered, Plan};
use std::sync::Arc;
use url::url_follows_controls;

/// Starts the editor with the server's policy file (serve --policy), unless the URL named a
/// policy; only on the first scan, so a rescan keeps the user's edits.
fn seed_rules(view: &ScanView, state: ControlState, seeded: StoredValue<bool>) {
    if !seeded.get_value() {
        seeded.set_value(true);
        if let Some(r) = &view.rules {
            state.next_key.set_value(r.as_slice().len() as u32);
            state.rules.set(Some(drafts_of(r, 0)));
        }
    }
}

/// The policy the controls spell (or why they spell none), followed as they change.
fn policy_of(state: ControlState, imposed: Imposed) -> Memo<Result<Chosen, String>> {
    let ControlState {
        retain,
        days,
        rules,
        ..
    } = state;
    Memo::new(move |_| rules.with(|r| chosen(&retain.get(), &days.get(), r.as_deref(), &imposed)))
}

/// The plan of `policy` over the scan, made afresh whenever the policy changes (from the
/// scan's order, dated once); `None` while the controls spell no policy.
fn plan_of(
    policy: Memo<Result<Chosen, String>>,
    ordered: StoredValue<Arc<Ordered>>,
    now: DateTime<Utc>,
) -> Memo<Option<Plan>> {
    Memo::new(move |_| {
        policy.with(|p| {
            p.as_ref()
                .ok()
                .map(|c| ordered.with_value(|o| o.plan(&c.policy, now)))
        })
    })
}

/// The dashboard of one scan: every control change re-plans here, in the browser.
#[component]
pub fn Loaded(
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
    seed_rules(&view, state, seeded);
    let ControlState {
        retain,
        days,
        price,
        rules,
        next_key,
    } = state;

    let bucket = view.bucket.clone();
    let now = view.now;
    let inventory = StoredValue::new(view.inventory.clone());
    let ordered = StoredValue::new(view.ordered());
    // Previews only: the server was started --read-only, or the person may not change the bucket.
    let server_read_only = view.read_only;
    let may_change = crate::signed::may_change_in(view.bucket.key.clone());
    let read_only = Signal::derive(move || server_read_only || !may_change.get());
    let imposed = Imposed::of(&view);
    let policy = policy_of(state, imposed.clone());
    let pinned: StoredValue<Vec<DeploymentId>> =
        StoredValue::new(view.inventory.pins.iter().map(|p| p.id.clone()).collect());
    let plan = plan_of(policy, ordered, now);
    let price_v = Memo::new(move |_| price_from(&price.get()));
    // Only the switch between the two forms re-renders the editor, not each keystroke in it.
    let ruled = Memo::new(move |_| rules.with(Option::is_some));
    url_follows_controls(bucket.key.clone(), state);

    let rows: StoredValue<Vec<Row>> = StoredValue::new(ordered.with_value(|o| rows_of(o, now)));
    let n = rows.with_value(|r| r.len());
    let live = rows.with_value(|r| {
        inventory.with_value(|inv| super::timeline::live_spans(inv, r, now.timestamp()))
    });
    let focused = RwSignal::new(None::<usize>);
    // The rows in view follow the plan through one effect (see `repaint`); the markup is
    // rendered with the plan of the moment, so the server's HTML is already right.
    Effect::new(move |_| plan.with(repaint));

    let facts = view! { <BucketFacts view=view.clone() may_change rescan /> };
    if n == 0 {
        return view! {
            <section class="dash" data-ready=move || ready.get().then_some("true")>
                {facts}
                <EmptyBucket loose=view.inventory.loose />
            </section>
        }
        .into_any();
    }

    view! {
        <section class="dash" data-ready=move || ready.get().then_some("true")>
            {facts}
            <Controls state />
            {move || ruled.get().then(|| view! { <RuleEditor rules next_key policy notice /> })}
            <PolicyErrors policy price=price_v />
            <Summary plan price=price_v />
            {view.schedule.clone().map(|sch| view! { <Forecast schedule=sch ordered imposed=imposed.clone() now retain days rules /> })}
            <PlanNotes plan scanned=view.scan_warnings.clone() />
            <Timeline rows plan focused now_ts=now.timestamp() live=live />
            <Apply bucket=bucket.clone() plan policy rescan notice job read_only may_change lifecycle_over=view.lifecycle_over />
            <Approvals bucket=bucket.clone() shown=apply::Shown { job, notice, rescan } may_change />
            <Table rows plan focused pinned bucket_key=bucket.key.clone() rescan notice read_only />
        </section>
    }
    .into_any()
}
