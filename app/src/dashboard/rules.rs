//! The rule editor: add, remove and reorder rules, edit each one's match, group, retain and
//! minimum age (`row`); every keystroke re-plans in the browser. The rules can be downloaded
//! as a policy file and a policy file loaded (`tools`). The edits themselves are `model`.

mod model;
mod row;
mod tools;

use super::policy::{Chosen, RuleDraft};
use leptos::prelude::*;
use row::RuleRow;
use tools::PolicyFileTools;

/// The list of rules, each editable in place, and the tools below it.
#[component]
pub fn RuleEditor(
    rules: RwSignal<Option<Vec<RuleDraft>>>,
    next_key: StoredValue<u32>,
    policy: Memo<Result<Chosen, String>>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let keys = move || rules.with(|r| r.iter().flatten().map(|d| d.key).collect::<Vec<_>>());
    view! {
        <section class="rules" aria-label="Rules" data-testid="rules">
            <p class="hint">"The first rule whose match fits a deployment decides it; a rule with a group keeps its newest N per group (the group is the pattern's first capture). Deployments no rule matches are kept."</p>
            <ol class="rule-list">
                <For each=keys key=|k| *k let:key>
                    <RuleRow key rules />
                </For>
            </ol>
            <PolicyFileTools rules next_key policy notice />
        </section>
    }
}
