//! The timeline: every deployment as a mark (newest right, size = bytes, colour = verdict), in
//! one lane per rule or group (see `lanes`), with each rule's minimum-age cut-off drawn as a
//! line and the region it may delete from shaded (`bands`). The marks are drawn once the page
//! runs in the browser, as paths per verdict (`picture`, `draw`): the page does not carry
//! thousands of circles, and a preview change rewrites only the paths whose marks changed.
//! Time ticks mark days, weeks, months or years between the end dates (`ticks`).

mod bands;
mod detail;
mod keys;
mod legend;
mod live;
mod picture;
mod ticks;

use super::lanes::Lanes;
use super::marks::{height, spots, Scale, Spot, CHUNK, CLASSES, PAD, W};
use super::row::Row;
use bands::LaneBands;
use detail::MarkDetail;
use keys::next_focus;
use legend::Legend;
use leptos::prelude::*;
use live::LiveSpans;
pub use live::{live_spans, LiveSpan};
use picture::Picture;
use retention::Plan;
use ticks::{ticks, TickLabels, TickLines};

/// Empty paths for `draw` to fill: one per verdict class for every `CHUNK` of the `n` marks.
fn mark_paths(n: usize) -> impl IntoView {
    (0..n.div_ceil(CHUNK))
        .flat_map(|_| CLASSES.iter())
        .map(|v| view! { <path class=format!("mark {v}") /> })
        .collect_view()
}

/// The timeline of the `rows` under `plan`; the pointer and the arrow keys move `focused`.
#[component]
pub fn Timeline(
    rows: StoredValue<Vec<Row>>,
    plan: Memo<Option<Plan>>,
    focused: RwSignal<Option<usize>>,
    now_ts: i64,
    /// The live pointer's spans (none without `--live-pointer`).
    live: Vec<LiveSpan>,
) -> impl IntoView {
    let n = rows.with_value(Vec::len);
    let spots: StoredValue<Vec<Spot>> = StoredValue::new(rows.with_value(|r| spots(r)));
    let scale = rows.with_value(|r| Scale::of(r));
    let first = rows.with_value(|r| r.last().map(Row::date).unwrap_or_default());
    let last = rows.with_value(|r| r.first().map(Row::date).unwrap_or_default());
    let lanes = Memo::new(move |_| plan.with(|p| p.as_ref().map(Lanes::of).unwrap_or_default()));
    let height = move || height(lanes.with(Lanes::count));
    let axis_y = Signal::derive(move || height() - 10.0);
    let marks_ts = rows.with_value(|r| {
        let ts = r.iter().map(|r| r.date_ts);
        (ts.clone().min().unwrap_or(0), ts.max().unwrap_or(0))
    });
    let ticks = ticks(marks_ts.0, marks_ts.1);

    let picture = Picture::new();
    picture.follow(plan, spots, focused, n);
    let on_move = move |ev: leptos::ev::MouseEvent| {
        if let Some(i) = picture.at_pointer(&ev) {
            if focused.get_untracked() != Some(i) {
                focused.set(Some(i));
            }
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if let Some(i) = next_focus(&ev.key(), focused.get_untracked(), n) {
            ev.prevent_default();
            focused.set(Some(i));
        }
    };

    view! {
        <section class="timeline" aria-label="Timeline">
            <h2>"Timeline"</h2>
            <Legend />
            <svg class="marks" node_ref=picture.svg viewBox=move || format!("0 0 {W} {}", height())
                tabindex="0" role="img"
                aria-label=format!("Deployments over time, newest on the right: {n} marks. Arrow keys move between them.")
                aria-describedby="mark-detail"
                on:mousemove=on_move
                on:keydown=on_key>
                <LaneBands lanes scale now_ts />
                <LiveSpans spans=live scale />
                <line x1=PAD y1=axis_y x2=W - PAD y2=axis_y class="axis" />
                <TickLines ticks=ticks.clone() scale y=axis_y />
                <g class="drawn" node_ref=picture.layer>
                    {mark_paths(n)}
                    <circle class="ring" cx="0" cy="0" r="0" />
                </g>
            </svg>
            <div class="ticks"><span>{first}</span><TickLabels ticks scale /><span>{last}</span></div>
            <MarkDetail rows plan lanes focused />
        </section>
    }
}
