//! The filter above the table under rules: show only the rows whose rule or group contains
//! the text typed.

use super::window::Window;
use leptos::prelude::*;

/// The filter box, with how many rows it lets through of `n_all`.
#[component]
pub fn FilterBox(
    filter: RwSignal<String>,
    shown: Memo<usize>,
    n_all: usize,
    window: Window,
) -> impl IntoView {
    view! {
        <label class="filter">"Show rule or group "
            <input type="search" data-testid="filter" placeholder="all" prop:value=move || filter.get()
                on:input=move |ev| { filter.set(event_target_value(&ev)); window.reset(); } />
            <span class="hint">{move || format!("{} of {}", shown.get(), n_all)}</span>
        </label>
    }
}
