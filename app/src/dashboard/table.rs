//! The table of deployments: one row per deployment with its verdict, rule, group and reason,
//! sortable by date and size, filterable by rule or group; only the rows in view are in the
//! page (see `Table`).

use super::browser::ask_reason;
use super::paint::{class_at, group_at, reason_at, rule_at, verdict_at};
use super::{server_error, Row};
use crate::api::set_pin;
use crate::format;
use leptos::prelude::*;
use retention::{DeploymentId, Plan};

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum SortBy {
    DateDesc,
    DateAsc,
    SizeDesc,
    SizeAsc,
}

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
    let bucket_key = StoredValue::new(bucket_key);
    let toggle_pin = move |id: DeploymentId, pin: bool| {
        let Some(reason) = (if pin {
            ask_reason(&id)
        } else {
            Some(String::new())
        }) else {
            return;
        };
        let key = bucket_key.get_value();
        leptos::task::spawn_local(async move {
            match set_pin(key, id.to_string(), reason, pin).await {
                Ok(()) => rescan.update(|n| *n += 1),
                Err(e) => notice.set(Some(format!(
                    "Could not change the pin: {}",
                    server_error(&e)
                ))),
            }
        });
    };
    let sort = RwSignal::new(SortBy::DateDesc);
    // Filter by rule or group (under rules): the rows whose rule or group contains the text.
    let filter = RwSignal::new(String::new());
    let ruled =
        Memo::new(move |_| plan.with(|p| p.as_ref().is_some_and(|p| p.policy.rules.is_some())));
    let order = Memo::new(move |_| {
        let s = sort.get();
        let f = filter.get().trim().to_lowercase();
        let keep = |i: usize| {
            f.is_empty()
                || plan.with(|p| {
                    rule_at(p, i).to_lowercase().contains(&f)
                        || group_at(p, i).to_lowercase().contains(&f)
                })
        };
        rows.with_value(|rows| {
            let mut idx: Vec<usize> = (0..rows.len()).filter(|i| keep(*i)).collect();
            match s {
                SortBy::DateDesc => {}
                SortBy::DateAsc => idx.reverse(),
                SortBy::SizeDesc => {
                    idx.sort_by(|a, b| rows[*b].bytes.cmp(&rows[*a].bytes).then(a.cmp(b)))
                }
                SortBy::SizeAsc => {
                    idx.sort_by(|a, b| rows[*a].bytes.cmp(&rows[*b].bytes).then(a.cmp(b)))
                }
            }
            idx
        })
    });
    // Only a window of rows around the scroll position is in the DOM; spacer rows stand in for
    // the rest. A control change then repaints the ~40 rows in view instead of 2,000, and
    // scrolling moves the window in steps of `STEP` rows. `span` is the window's length: the
    // rows that fit in the scroll box plus a margin above and below (60 until measured).
    const STEP: usize = 10;
    let n_all = rows.with_value(|r| r.len());
    let shown = Memo::new(move |_| order.with(Vec::len));
    let first = RwSignal::new(0usize);
    let span = RwSignal::new(60usize);
    let row_h = RwSignal::new(33.0f64);
    let scroller = NodeRef::<leptos::html::Div>::new();
    let top_pad = NodeRef::<leptos::html::Tr>::new();
    let bottom_pad = NodeRef::<leptos::html::Tr>::new();
    let visible = Memo::new(move |_| {
        let s = sort.get();
        order.with(|o| {
            let start = first.get().min(o.len());
            let end = (start + span.get()).min(o.len());
            (start..end).map(|pos| (s, pos, o[pos])).collect::<Vec<_>>()
        })
    });
    // The row height is read while the layout is settled (on mount and before a scroll moves
    // the window), never between the window's DOM changes: a layout forced half-way would clamp
    // the scroll position to a momentarily shorter table.
    let measure = move || {
        if let Some(el) = scroller.get_untracked() {
            if let Some(h) = el
                .query_selector("tbody tr.row")
                .ok()
                .flatten()
                .map(|r| r.get_bounding_client_rect().height())
                .filter(|h| *h > 0.0 && (*h - row_h.get_untracked()).abs() > 0.01)
            {
                row_h.set(h);
            }
            let fit = (f64::from(el.client_height()) / row_h.get_untracked()).ceil() as usize;
            // `first` trails the top row by STEP..2·STEP rows; one more STEP keeps at least
            // STEP rows below the view, so Tab from the last visible row stays in the table.
            let want = fit.max(10) + 3 * STEP;
            if want != span.get_untracked() {
                span.set(want);
            }
        }
    };
    Effect::new(move |_| measure());
    let on_scroll = move |_| {
        measure();
        if let Some(el) = scroller.get_untracked() {
            let top_row = (f64::from(el.scroll_top()) / row_h.get_untracked()).floor() as usize;
            let f = top_row.saturating_sub(STEP) / STEP * STEP;
            if f != first.get_untracked() {
                first.set(f);
            }
        }
    };
    // Spacer heights are set from the browser: a style attribute in the HTML would break the CSP.
    Effect::new(move |_| {
        let (f, h, n) = (first.get(), row_h.get(), shown.get());
        let end = (f + span.get()).min(n);
        for (pad, rows_hidden) in [(top_pad, f.min(n)), (bottom_pad, n - end)] {
            if let Some(tr) = pad.get() {
                let _ = web_sys::HtmlElement::style(&tr)
                    .set_property("height", &format!("{}px", rows_hidden as f64 * h));
            }
        }
    });
    let aria = move |desc: SortBy, asc: SortBy| {
        move || {
            let s = sort.get();
            if s == desc {
                "descending"
            } else if s == asc {
                "ascending"
            } else {
                "none"
            }
        }
    };
    let reset_scroll = move || {
        first.set(0);
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top(0);
        }
    };
    let toggle = move |desc: SortBy, asc: SortBy| {
        move |_| {
            sort.set(if sort.get_untracked() == desc {
                asc
            } else {
                desc
            });
            reset_scroll();
        }
    };
    view! {
        {move || ruled.get().then(|| view! {
            <label class="filter">"Show rule or group "
                <input type="search" data-testid="filter" placeholder="all" prop:value=move || filter.get()
                    on:input=move |ev| { filter.set(event_target_value(&ev)); reset_scroll(); } />
                <span class="hint">{move || format!("{} of {}", shown.get(), n_all)}</span>
            </label>
        })}
        <div class="table-wrap" role="region" aria-label="Deployments" tabindex="0" data-rows=n_all
            node_ref=scroller on:scroll=on_scroll>
            <table class="deployments" class:ruled=move || ruled.get() aria-rowcount=move || shown.get() + 1>
                <thead>
                    <tr>
                        <th scope="col">"Deployment"</th>
                        <th scope="col" aria-sort=aria(SortBy::DateDesc, SortBy::DateAsc)>
                            <button type="button" class="sort" on:click=toggle(SortBy::DateDesc, SortBy::DateAsc)>"Date (UTC)"</button>
                        </th>
                        <th scope="col">"Age"</th>
                        <th scope="col" class="num">"Objects"</th>
                        <th scope="col" class="num" aria-sort=aria(SortBy::SizeDesc, SortBy::SizeAsc)>
                            <button type="button" class="sort" on:click=toggle(SortBy::SizeDesc, SortBy::SizeAsc)>"Size"</button>
                        </th>
                        <th scope="col">"Verdict"</th>
                        <th scope="col" class="col-rule">"Rule"</th>
                        <th scope="col" class="col-rule">"Group"</th>
                        <th scope="col">"Reason"</th>
                        <th scope="col"><span class="sr-only">"Pin"</span></th>
                    </tr>
                </thead>
                <tbody>
                    <tr class="spacer" aria-hidden="true" node_ref=top_pad><td colspan="10"></td></tr>
                    <For each=move || visible.get() key=|(s, _, i)| (*s, *i) let:((_, pos, i))>
                        {rows.with_value(|rows| {
                            let r = rows[i].clone();
                            let reason = plan.with_untracked(|p| reason_at(p, i));
                            let tip = reason.clone();
                            view! {
                                <tr class=format!("row {}", plan.with_untracked(|p| class_at(p, i)))
                                    class:focused=move || focused.get() == Some(i)
                                    on:mouseenter=move |_| focused.set(Some(i))
                                    aria-rowindex=pos + 2
                                    data-idx=i
                                    data-id=r.id.to_string()>
                                    <td class="id">{r.id.to_string()}</td>
                                    <td>{r.date()}</td>
                                    <td>{r.age()}</td>
                                    <td class="num">{r.objects}</td>
                                    <td class="num">{format::size(r.bytes)}</td>
                                    <td class="verdict" data-col="verdict">{plan.with_untracked(|p| verdict_at(p, i))}</td>
                                    <td class="col-rule" data-col="rule">{plan.with_untracked(|p| rule_at(p, i))}</td>
                                    <td class="col-rule" data-col="group">{plan.with_untracked(|p| group_at(p, i))}</td>
                                    <td class="reason" data-col="reason" title=tip>{reason}</td>
                                    <td class="pin">{
                                        let is_pinned = pinned.with_value(|p| p.contains(&r.id));
                                        let id = r.id.clone();
                                        let label = format!("{} {}", if is_pinned { "Unpin" } else { "Pin" }, r.id);
                                        view! {
                                            <button type="button" class="link" aria-label=label disabled=move || read_only.get()
                                                on:click=move |_| toggle_pin(id.clone(), !is_pinned)>
                                                {if is_pinned { "Unpin" } else { "Pin" }}
                                            </button>
                                        }
                                    }</td>
                                </tr>
                            }
                        })}
                    </For>
                    <tr class="spacer" aria-hidden="true" node_ref=bottom_pad><td colspan="10"></td></tr>
                </tbody>
            </table>
        </div>
    }
}
