//! Requests waiting for a second deployer (`serve --approval-over N`): who asked, what it
//! would delete, until when. Another deployer approves it — typing the bucket's name, as every
//! apply asks; the server re-plans and runs it only if it still deletes exactly that — or
//! refuses it; the requester only sees it wait.

use super::apply::{follow, Shown};
use crate::api::{approvals, decide_request};
use crate::format;
use crate::wire::{ApplyOutcome, ApprovalView, BucketChoice};
use leptos::prelude::*;

#[component]
pub fn Approvals(bucket: BucketChoice, shown: Shown, may_change: Signal<bool>) -> impl IntoView {
    let list = RwSignal::new(Vec::<ApprovalView>::new());
    let b = StoredValue::new(bucket);
    // An effect: read in the browser only, after every scan (an apply, a decision).
    Effect::new(move |_| {
        shown.rescan.track();
        let key = b.with_value(|b| b.key.clone());
        leptos::task::spawn_local(async move {
            if let Ok(v) = approvals(key).await {
                list.set(v);
            }
        });
    });
    move || {
        let pending: Vec<ApprovalView> =
            list.with(|l| l.iter().filter(|a| a.pending).cloned().collect());
        (!pending.is_empty()).then(|| view! {
            <section class="approvals" aria-label="Waiting for approval" data-testid="approvals">
                <h2>"Waiting for a second deployer"</h2>
                <ul>
                    {pending.into_iter().map(|a| view! { <Request a bucket=b.get_value() shown may_change /> }).collect_view()}
                </ul>
            </section>
        })
    }
}

#[component]
fn Request(
    a: ApprovalView,
    bucket: BucketChoice,
    shown: Shown,
    may_change: Signal<bool>,
) -> impl IntoView {
    let what = format!(
        "{} asks to delete {} ({}), {} — until {} UTC.",
        a.requested_by,
        format::plural(a.deployments, "deployment", "deployments"),
        a.ids.join(", "),
        format::plural(a.objects, "object", "objects"),
        format::date(&a.expires_at)
    );
    let (id, key, name) = (a.id.clone(), bucket.key, bucket.name);
    let typed = RwSignal::new(String::new());
    let decide = move |yes: bool| {
        let (key, id) = (key.clone(), id.clone());
        move |_| {
            let (key, id) = (key.clone(), id.clone());
            let confirm = yes.then(|| typed.get_untracked());
            leptos::task::spawn_local(async move {
                match decide_request(key, id, yes, confirm).await {
                    Ok(Some(ApplyOutcome::Started { job })) => follow(job, shown).await,
                    Ok(Some(
                        ApplyOutcome::Changed { message }
                        | ApplyOutcome::AwaitingApproval { message, .. },
                    )) => {
                        shown.notice.set(Some(message));
                        shown.rescan.update(|n| *n += 1);
                    }
                    Ok(None) => shown.rescan.update(|n| *n += 1),
                    Err(e) if yes => {
                        shown.unsure(&e, "Not decided", "the approved apply may have started")
                    }
                    Err(e) => shown.unsure(&e, "Not decided", "the refusal may have been recorded"),
                }
            });
        }
    };
    // One shape for every request: what a person may not do is hidden, not left out.
    let mine = a.mine;
    let hide = move || mine || !may_change.get();
    let label = format!("Type the bucket name {name} to approve");
    let unready = move || typed.with(|t| t.trim() != name);
    view! {
        <li data-testid="approval" data-id=a.id>
            <span>{what}</span>
            <em hidden=!mine>" Yours: another deployer approves it."</em>
            <input type="text" autocomplete="off" spellcheck="false" aria-label=label hidden=hide
                on:input=move |ev| typed.set(event_target_value(&ev)) />
            <button type="button" class="danger" data-testid="approve" hidden=hide disabled=unready on:click=decide(true)>"Approve and run"</button>
            <button type="button" class="secondary" data-testid="refuse" hidden=hide on:click=decide(false)>"Refuse"</button>
        </li>
    }
}
