//! The policy controls: keep the newest N (with a minimum age), or rules (see `rules.rs`);
//! and the storage price the summary uses.

use super::policy::RuleDraft;
use leptos::prelude::*;

/// The controls' state, kept across rescans.
#[derive(Clone, Copy)]
pub struct ControlState {
    pub retain: RwSignal<String>,
    pub days: RwSignal<String>,
    pub price: RwSignal<String>,
    /// `Some`: the page plans with these rules instead of `retain` and `days`.
    pub rules: RwSignal<Option<Vec<RuleDraft>>>,
    /// The next key for a new rule in the editor.
    pub next_key: StoredValue<u32>,
}

#[component]
pub fn Controls(state: ControlState) -> impl IntoView {
    let ControlState {
        retain,
        days,
        price,
        rules,
        next_key,
    } = state;
    let step = move |delta: i64| {
        let cur = retain.get_untracked().trim().parse::<i64>().unwrap_or(1);
        retain.set((cur + delta).max(1).to_string());
    };
    let ruled = move || rules.with(Option::is_some);
    // Switching to rules starts from one rule that says what the simple controls say.
    let use_rules = move |_| {
        if ruled() {
            return;
        }
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        rules.set(Some(vec![RuleDraft {
            key,
            name: "all".into(),
            matches: "*".into(),
            group: String::new(),
            retain: retain.get_untracked(),
            days: days.get_untracked(),
        }]));
    };
    view! {
        <form class="controls" on:submit=|ev| ev.prevent_default() aria-label="Retention policy">
            <fieldset class="mode">
                <legend class="sr-only">"Policy"</legend>
                <label><input type="radio" name="mode" value="simple" data-testid="mode-simple"
                    prop:checked=move || !ruled() on:change=move |_| rules.set(None) />" Keep the newest N"</label>
                <label><input type="radio" name="mode" value="rules" data-testid="mode-rules"
                    prop:checked=ruled on:change=use_rules />" Rules"</label>
            </fieldset>
            <div class="field" class:hidden=ruled>
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
            // A text field, not a number field: the browser reads a number field's typo ("30-")
            // as empty, which here means no minimum age — a preview deleting more, silently.
            // As text, the typo reaches the policy and is refused with a sentence.
            <div class="field" class:hidden=ruled>
                <label for="days">"Minimum age (days)"</label>
                <input id="days" name="days" type="text" inputmode="numeric" autocomplete="off" placeholder="off"
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
    }
}
