//! The table's header row: the column names, with Date and Size as buttons that sort.

use super::order::{SortBy, SortPair, BY_DATE, BY_SIZE};
use super::window::Window;
use leptos::prelude::*;

/// The header row; a click on Date or Size sorts by it (again: the other way) and scrolls back
/// to the top.
#[component]
pub fn TableHead(sort: RwSignal<SortBy>, window: Window) -> impl IntoView {
    let aria = move |pair: SortPair| move || pair.aria(sort.get());
    let toggle = move |pair: SortPair| {
        move |_| {
            sort.set(pair.next(sort.get_untracked()));
            window.reset();
        }
    };
    view! {
        <thead>
            <tr>
                <th scope="col">"Deployment"</th>
                <th scope="col" aria-sort=aria(BY_DATE)>
                    <button type="button" class="sort" on:click=toggle(BY_DATE)>"Date (UTC)"</button>
                </th>
                <th scope="col">"Age"</th>
                <th scope="col" class="num">"Objects"</th>
                <th scope="col" class="num" aria-sort=aria(BY_SIZE)>
                    <button type="button" class="sort" on:click=toggle(BY_SIZE)>"Size"</button>
                </th>
                <th scope="col">"Verdict"</th>
                <th scope="col" class="col-rule">"Rule"</th>
                <th scope="col" class="col-rule">"Group"</th>
                <th scope="col">"Reason"</th>
                <th scope="col"><span class="sr-only">"Pin"</span></th>
            </tr>
        </thead>
    }
}
