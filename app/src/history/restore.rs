//! The History page's Restore control for one run: shown only for runs that recorded delete
//! markers; asks for the bucket's name, as apply does, then calls `restore_run`.

use crate::api::restore_run;
use crate::format;
use leptos::prelude::*;

#[component]
pub fn RestoreRun(
    /// The record number in this server's audit log, or the run id in the bucket's journal.
    run: String,
    bucket: String,
    /// The run's `--bucket` key (`NAME` or `NAME/PREFIX`): the role that may restore is per bucket.
    key: String,
    reload: RwSignal<u32>,
    /// The page's message line: the outcome outlives this row, which the reload re-creates.
    result: RwSignal<Option<Result<String, String>>>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let name = StoredValue::new(bucket.clone());
    let run = StoredValue::new(run);
    let go = move |confirm: String| {
        let run = run.get_value();
        leptos::task::spawn_local(async move {
            busy.set(true);
            let r = restore_run(run.clone(), confirm).await;
            busy.set(false);
            result.set(Some(match r {
                Ok(done) => {
                    let left = done.left;
                    reload.update(|n| *n += 1);
                    Ok(format!(
                        "Run {run}: restored {} of {} (record #{}){}{}",
                        format::plural(done.objects, "object", "objects"),
                        format::plural(done.deployments, "deployment", "deployments"),
                        done.id.unwrap_or_default(),
                        // The engine pins what came back (prune::restore), if it could.
                        if done.pinned > 0 {
                            "; pinned, so the next run keeps it"
                        } else {
                            ""
                        },
                        if left > 0 {
                            format!("; {left} left as they were (see the record)")
                        } else {
                            String::new()
                        }
                    ))
                }
                Err(e) => Err(match e {
                    ServerFnError::ServerError(m) => m,
                    other => other.to_string(),
                }),
            }));
        });
    };
    let matches = move || typed.with(|t| name.with_value(|n| t.trim() == n));
    let may_change = crate::signed::may_change_in(key);
    view! {
        <div class="restore" data-testid=format!("restore-{}", run.get_value())>
            {move || (!open.get() && may_change.get()).then(|| view! {
                <button type="button" class="secondary" on:click=move |_| open.set(true)>{format!("Restore run {}…", run.get_value())}</button>
            })}
            {move || open.get().then(|| {
                let bucket = bucket.clone();
                view! {
                    <form on:submit=move |ev| { ev.prevent_default(); go(typed.get_untracked()); }>
                        <label>
                            {format!("Type the bucket name ({bucket}) to bring back what run {} deleted ", run.get_value())}
                            <input type="text" autocomplete="off" data-testid="restore-confirm" prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) />
                        </label>
                        <button type="submit" class="danger" disabled=move || !matches() || busy.get()>{format!("Restore run {}", run.get_value())}</button>
                    </form>
                }
            })}
        </div>
    }
}
