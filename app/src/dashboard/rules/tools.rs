//! Below the rule list: add a rule, download the rules as a policy file, load one.

use super::model;
use crate::dashboard::browser::{download_href, read_chosen_file};
use crate::dashboard::policy::{drafts_of, Chosen, RuleDraft};
use crate::dashboard::server_error;
use leptos::prelude::*;

/// Replaces the drafts with the rules of the policy file chosen in `ev`'s input (keys from
/// `next_key` on), or says in `notice` why it cannot.
fn load_policy_file(
    ev: leptos::ev::Event,
    rules: RwSignal<Option<Vec<RuleDraft>>>,
    next_key: StoredValue<u32>,
    notice: RwSignal<Option<String>>,
) {
    leptos::task::spawn_local(async move {
        let Some(text) = read_chosen_file(&ev).await else {
            notice.set(Some("Could not read that file.".into()));
            return;
        };
        match crate::api::read_policy(text).await {
            Ok(Ok(loaded)) => {
                let first = next_key.get_value();
                next_key.set_value(first + loaded.as_slice().len() as u32);
                rules.set(Some(drafts_of(&loaded, first)));
                notice.set(None);
            }
            Ok(Err(e)) => notice.set(Some(format!("That policy file cannot be used: {e}"))),
            Err(e) => notice.set(Some(format!(
                "Could not read the policy file: {}",
                server_error(&e)
            ))),
        }
    });
}

/// Add rule, the download link (while the rules make a policy), and the file input.
#[component]
pub fn PolicyFileTools(
    rules: RwSignal<Option<Vec<RuleDraft>>>,
    next_key: StoredValue<u32>,
    policy: Memo<Result<Chosen, String>>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let add = move |_| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        rules.update(|r| model::add(r, key));
    };
    let toml = move || policy.with(|p| p.as_ref().ok().and_then(|c| c.toml.clone()));
    view! {
        <div class="rule-tools">
            <button type="button" class="secondary" data-testid="add-rule" on:click=add>"Add rule"</button>
            {move || toml().map(|t| view! {
                <a class="button secondary" data-testid="download-policy" download="policy.toml" href=download_href(&t)>"Download policy.toml"</a>
            })}
            <label class="file">
                "Load a policy file "
                <input type="file" accept=".toml,text/plain" data-testid="load-policy"
                    on:change=move |ev| load_policy_file(ev, rules, next_key, notice) />
            </label>
        </div>
    }
}
