//! The rule editor: add, remove and reorder rules, edit each one's match, group, retain and
//! minimum age; every keystroke re-plans in the browser. The rules can be downloaded as a
//! policy file and a policy file loaded.

use super::browser::{download_href, read_chosen_file};
use super::policy::{drafts_of, Chosen, RuleDraft};
use leptos::prelude::*;

/// Which field of a draft an input edits.
#[derive(Clone, Copy)]
enum Field {
    Name,
    Match,
    Group,
    Retain,
    Days,
}

impl Field {
    fn get(self, d: &RuleDraft) -> &str {
        match self {
            Field::Name => &d.name,
            Field::Match => &d.matches,
            Field::Group => &d.group,
            Field::Retain => &d.retain,
            Field::Days => &d.days,
        }
    }
    fn set(self, d: &mut RuleDraft, v: String) {
        match self {
            Field::Name => d.name = v,
            Field::Match => d.matches = v,
            Field::Group => d.group = v,
            Field::Retain => d.retain = v,
            Field::Days => d.days = v,
        }
    }
}

#[component]
pub fn RuleEditor(
    rules: RwSignal<Option<Vec<RuleDraft>>>,
    next_key: StoredValue<u32>,
    policy: Memo<Result<Chosen, String>>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let take_key = move || {
        let k = next_key.get_value();
        next_key.set_value(k + 1);
        k
    };
    let edit = move |key: u32, field: Field, value: String| {
        rules.update(|r| {
            if let Some(d) = r.iter_mut().flatten().find(|d| d.key == key) {
                field.set(d, value);
            }
        })
    };
    let value = move |key: u32, field: Field| {
        move || {
            rules.with(|r| {
                r.iter()
                    .flatten()
                    .find(|d| d.key == key)
                    .map(|d| field.get(d).to_string())
                    .unwrap_or_default()
            })
        }
    };
    // Tracked: labels and buttons follow the rule when it moves.
    let position = move |key: u32| rules.with(|r| r.iter().flatten().position(|d| d.key == key));
    let shift = move |key: u32, up: bool| {
        rules.update(|r| {
            let Some(v) = r else { return };
            let Some(i) = v.iter().position(|d| d.key == key) else {
                return;
            };
            let j = if up { i.checked_sub(1) } else { Some(i + 1) };
            if let Some(j) = j.filter(|j| *j < v.len()) {
                v.swap(i, j);
            }
        })
    };
    let remove = move |key: u32| {
        rules.update(|r| {
            if let Some(v) = r {
                v.retain(|d| d.key != key);
            }
        })
    };
    let add = move |_| {
        let key = take_key();
        rules.update(|r| {
            let v = r.get_or_insert_with(Vec::new);
            v.push(RuleDraft {
                key,
                name: format!("rule {}", v.len() + 1),
                matches: "*".into(),
                group: String::new(),
                retain: "3".into(),
                days: String::new(),
            });
        })
    };
    let load = move |ev: leptos::ev::Event| {
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
                    super::server_error(&e)
                ))),
            }
        });
    };
    let toml = move || policy.with(|p| p.as_ref().ok().and_then(|c| c.toml.clone()));
    let count = move || rules.with(|r| r.as_ref().map_or(0, Vec::len));
    let keys = move || rules.with(|r| r.iter().flatten().map(|d| d.key).collect::<Vec<_>>());

    view! {
        <section class="rules" aria-label="Rules" data-testid="rules">
            <p class="hint">"The first rule whose match fits a deployment decides it; a rule with a group keeps its newest N per group (the group is the pattern's first capture). Deployments no rule matches are kept."</p>
            <ol class="rule-list">
                <For each=keys key=|k| *k let:key>
                    {
                        let n = move || position(key).map_or(0, |i| i + 1);
                        let input = move |field: Field, label: &'static str, class: &'static str, placeholder: &'static str| view! {
                            <label class=format!("rule-field {class}")>
                                <span>{label}</span>
                                <input type="text" spellcheck="false" autocomplete="off" placeholder=placeholder
                                    data-field=class
                                    aria-label=move || format!("Rule {} {}", n(), label.to_lowercase())
                                    value=value(key, field)()
                                    prop:value=value(key, field)
                                    on:input=move |ev| edit(key, field, event_target_value(&ev)) />
                            </label>
                        };
                        view! {
                            <li class="rule" data-testid="rule" data-key=key>
                                {input(Field::Name, "Name", "name", "previews")}
                                {input(Field::Match, "Match", "match", "pr-*")}
                                {input(Field::Group, "Group", "group", "^(pr-\\d+)-")}
                                {input(Field::Retain, "Keep", "retain", "1")}
                                {input(Field::Days, "Min. days", "days", "off")}
                                <div class="rule-actions">
                                    <button type="button" class="secondary" aria-label=move || format!("Move rule {} up", n()) disabled=move || n() <= 1 on:click=move |_| shift(key, true)>"↑"</button>
                                    <button type="button" class="secondary" aria-label=move || format!("Move rule {} down", n()) disabled=move || count() <= n() on:click=move |_| shift(key, false)>"↓"</button>
                                    <button type="button" class="link" aria-label=move || format!("Remove rule {}", n()) disabled=move || count() <= 1 on:click=move |_| remove(key)>"Remove"</button>
                                </div>
                            </li>
                        }
                    }
                </For>
            </ol>
            <div class="rule-tools">
                <button type="button" class="secondary" data-testid="add-rule" on:click=add>"Add rule"</button>
                {move || toml().map(|t| view! {
                    <a class="button secondary" data-testid="download-policy" download="policy.toml" href=download_href(&t)>"Download policy.toml"</a>
                })}
                <label class="file">
                    "Load a policy file "
                    <input type="file" accept=".toml,text/plain" data-testid="load-policy" on:change=load />
                </label>
            </div>
        </section>
    }
}
