//! One rule in the editor: its five fields, and the buttons that move and remove it.

use super::model::{self, Drafts, Field};
use leptos::prelude::*;

/// The editor's drafts, as a signal.
type DraftsSignal = RwSignal<Drafts>;

/// The rule's number in the list, from 1 (tracked: labels and buttons follow the rule when it
/// moves); 0 when it is gone.
fn number(rules: DraftsSignal, key: u32) -> usize {
    rules.with(|r| model::position(r, key)).map_or(0, |i| i + 1)
}

/// The rule with key `key`.
#[component]
pub fn RuleRow(key: u32, rules: DraftsSignal) -> impl IntoView {
    let n = move || number(rules, key);
    let count = move || rules.with(model::count);
    let shift = move |up: bool| rules.update(|r| model::shift(r, key, up));
    view! {
        <li class="rule" data-testid="rule" data-key=key>
            <RuleField key field=Field::Name rules />
            <RuleField key field=Field::Match rules />
            <RuleField key field=Field::Group rules />
            <RuleField key field=Field::Retain rules />
            <RuleField key field=Field::Days rules />
            <div class="rule-actions">
                <button type="button" class="secondary" aria-label=move || format!("Move rule {} up", n()) disabled=move || n() <= 1 on:click=move |_| shift(true)>"↑"</button>
                <button type="button" class="secondary" aria-label=move || format!("Move rule {} down", n()) disabled=move || count() <= n() on:click=move |_| shift(false)>"↓"</button>
                <button type="button" class="link" aria-label=move || format!("Remove rule {}", n()) disabled=move || count() <= 1 on:click=move |_| rules.update(|r| model::remove(r, key))>"Remove"</button>
            </div>
        </li>
    }
}

/// One field of rule `key`, labelled and edited in place.
#[component]
fn RuleField(key: u32, field: Field, rules: DraftsSignal) -> impl IntoView {
    let (label, class) = (field.label(), field.class());
    let value = move || rules.with(|r| model::value(r, key, field));
    view! {
        <label class=format!("rule-field {class}")>
            <span>{label}</span>
            <input type="text" spellcheck="false" autocomplete="off" placeholder=field.placeholder()
                data-field=class
                aria-label=move || format!("Rule {} {}", number(rules, key), label.to_ascii_lowercase())
                value=value()
                prop:value=value
                on:input=move |ev| rules.update(|r| model::edit(r, key, field, event_target_value(&ev))) />
        </label>
    }
}
