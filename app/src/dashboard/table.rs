//! The table of deployments: one row per deployment with its verdict, rule, group and reason,
//! sortable by date and size (`head`, `order`), filterable by rule or group (`filter`); only
//! the rows in view are in the page (`window`).

mod filter;
mod head;
mod order;
mod pin;
mod row;
mod window;

use super::row::Row;
use filter::FilterBox;
use head::TableHead;
use leptos::prelude::*;
use order::SortBy;
use pin::Pins;
use retention::{DeploymentId, Plan};
use row::DeploymentRow;
use window::Window;

/// A row in the window: its position in the table's order and its index in plan order, under
/// the sort that placed it (a new sort renders the rows anew).
#[derive(Clone, Copy, PartialEq)]
struct Slot {
    sort: SortBy,
    pos: usize,
    idx: usize,
}

/// The table, with the filter above it under rules.
#[component]
pub fn Table(
    rows: StoredValue<Vec<Row>>,
    plan: Memo<Option<Plan>>,
    focused: RwSignal<Option<usize>>,
    pinned: StoredValue<Vec<DeploymentId>>,
    bucket_key: String,
    rescan: RwSignal<u32>,
    notice: RwSignal<Option<String>>,
    read_only: Signal<bool>,
) -> impl IntoView {
    let pins = Pins {
        pinned,
        bucket_key: StoredValue::new(bucket_key),
        rescan,
        notice,
        read_only,
    };
    let sort = RwSignal::new(SortBy::DateDesc);
    // Filter by rule or group (under rules): the rows whose rule or group contains the text.
    let filter = RwSignal::new(String::new());
    let ruled =
        Memo::new(move |_| plan.with(|p| p.as_ref().is_some_and(|p| p.policy.rules.is_some())));
    let order = Memo::new(move |_| {
        let sort = sort.get();
        let f = order::fold(filter.get().trim());
        // The plan is read (and so followed) only while there is a filter.
        let keep = |i: usize| f.is_empty() || plan.with(|p| order::matches(p, i, &f));
        rows.with_value(|rows| order::indices(rows, sort, keep))
    });
    let n_all = rows.with_value(|r| r.len());
    let shown = Memo::new(move |_| order.with(Vec::len));
    let window = Window::new();
    let visible = Memo::new(move |_| {
        let sort = sort.get();
        order.with(|o| {
            window
                .range(o.len())
                .map(|pos| Slot {
                    sort,
                    pos,
                    idx: o[pos],
                })
                .collect::<Vec<_>>()
        })
    });
    Effect::new(move |_| window.measure());
    window.size_spacers(shown);

    view! {
        {move || ruled.get().then(|| view! { <FilterBox filter shown n_all window /> })}
        <div class="table-wrap" role="region" aria-label="Deployments" tabindex="0" data-rows=n_all
            node_ref=window.scroller on:scroll=move |_| window.on_scroll()>
            <table class="deployments" class:ruled=move || ruled.get() aria-rowcount=move || shown.get() + 1>
                <TableHead sort window />
                <tbody>
                    <tr class="spacer" aria-hidden="true" node_ref=window.top_pad><td colspan="10"></td></tr>
                    <For each=move || visible.get() key=|s| (s.sort, s.idx) let:slot>
                        <DeploymentRow row=rows.with_value(|r| r[slot.idx].clone()) idx=slot.idx pos=slot.pos
                            plan focused pins />
                    </For>
                    <tr class="spacer" aria-hidden="true" node_ref=window.bottom_pad><td colspan="10"></td></tr>
                </tbody>
            </table>
        </div>
    }
}
