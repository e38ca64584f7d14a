//! The timeline: every deployment as a mark (newest right, size = bytes, colour = verdict), in
//! one lane per rule or group (see `lanes`), with each rule's minimum-age cut-off drawn as a
//! line and the region it may delete from shaded. The marks are drawn once the page runs in the
//! browser, as paths per verdict (`draw`): the page does not carry thousands of circles, and
//! a preview change rewrites only the paths whose marks changed.

use super::draw::{draw_marks, draw_ring};
use super::lanes::Lanes;
use super::marks::{height, hit, spots, Mark, Spot, CHUNK, CLASSES, PAD, W};
use super::paint::{class_at, lanes_of, reason_at, LANE_H, TOP};
use super::row::Row;
use crate::format;
use leptos::prelude::*;
use leptos::svg::{Svg, G};
use retention::Plan;

#[component]
pub fn Timeline(
    rows: StoredValue<Vec<Row>>,
    plan: Memo<Option<Plan>>,
    focused: RwSignal<Option<usize>>,
    now_ts: i64,
) -> impl IntoView {
    let n = rows.with_value(Vec::len);
    let spots: StoredValue<Vec<Spot>> = StoredValue::new(rows.with_value(|r| spots(r)));
    let scale = rows.with_value(|r| super::marks::Scale::of(r));
    let first = rows.with_value(|r| r.last().map(Row::date).unwrap_or_default());
    let last = rows.with_value(|r| r.first().map(Row::date).unwrap_or_default());
    let lanes = Memo::new(move |_| plan.with(|p| p.as_ref().map(Lanes::of).unwrap_or_default()));
    let height = move || height(lanes.with(Lanes::count));
    let lane_label = move |i: usize| {
        plan.with(|p| {
            let Some((p, e)) = p.as_ref().and_then(|p| Some((p, p.entries.get(i)?))) else {
                return String::new();
            };
            lanes.with(|l| {
                l.iter()
                    .nth(l.lane_of(p, e))
                    .map(|l| l.label.clone())
                    .unwrap_or_default()
            })
        })
    };
    let detail = move || {
        focused.get().map(|i| {
            let reason = plan.with(|p| reason_at(p, i));
            let lane = lane_label(i);
            rows.with_value(|rows| {
                let r = &rows[i];
                let mut s = format!(
                    "{} · {} UTC · {} old · {} · {} · {}",
                    r.id,
                    r.date(),
                    r.age(),
                    format::plural(r.objects, "object", "objects"),
                    format::size(r.bytes),
                    reason
                );
                if !lane.is_empty() {
                    s.push_str(&format!(" · lane: {lane}"));
                }
                s
            })
        })
    };
    // Per lane: the label, and where "old enough to delete" begins.
    let lane_marks = move || {
        lanes.get().iter().cloned().enumerate().map(|(k, lane)| {
            let top = TOP + k as f64 * LANE_H;
            let cut = lane.keep_within.map(|w| {
                let ts = now_ts.saturating_sub(i64::try_from(w.as_secs()).unwrap_or(i64::MAX));
                scale.x(ts).clamp(PAD, W - PAD)
            });
            let shade_to = if lane.managed { cut.or(Some(W - PAD)) } else { None };
            view! {
                <g class="lane" data-lane=k>
                    {shade_to.map(|x| view! { <rect class="old-region" x=PAD y=top width=(x - PAD).max(0.0) height=LANE_H - 2.0 /> })}
                    {cut.map(|x| view! { <line class="cutoff" x1=x y1=top x2=x y2=top + LANE_H - 2.0 /> })}
                    {(!lane.label.is_empty()).then(|| view! { <text class="lane-label" x=PAD + 2.0 y=top + 10.0>{lane.label.clone()}</text> })}
                </g>
            }
        }).collect_view()
    };

    // The marks as last drawn: what the pointer and the keys find.
    let drawn: StoredValue<Vec<Mark>> = StoredValue::new(Vec::new());
    let last_paths: StoredValue<Vec<String>> = StoredValue::new(Vec::new());
    let picture = NodeRef::<Svg>::new();
    let layer = NodeRef::<G>::new();
    Effect::new(move |_| {
        let (Some(svg), Some(g)) = (picture.get(), layer.get()) else {
            return;
        };
        let marks: Vec<Mark> = plan.with(|p| {
            let lanes = lanes_of(p, n);
            spots.with_value(|s| {
                s.iter()
                    .enumerate()
                    .map(|(i, spot)| Mark::at(*spot, i, lanes[i], class_at(p, i)))
                    .collect()
            })
        });
        last_paths.update_value(|last| draw_marks(&svg, &g, &marks, last));
        // the focused mark may have moved to another lane
        draw_ring(&g, focused.get_untracked().and_then(|i| marks.get(i)));
        drawn.set_value(marks);
    });
    Effect::new(move |_| {
        let f = focused.get();
        if let Some(g) = layer.get() {
            drawn.with_value(|m| draw_ring(&g, f.and_then(|i| m.get(i))));
        }
    });
    // The pointer, in viewBox units (the picture keeps its aspect ratio, so one scale).
    let at_pointer = move |ev: &leptos::ev::MouseEvent| {
        let svg = picture.get_untracked()?;
        let rect = svg.get_bounding_client_rect();
        if rect.width() <= 0.0 {
            return None;
        }
        let s = rect.width() / W;
        let x = (f64::from(ev.client_x()) - rect.left()) / s;
        let y = (f64::from(ev.client_y()) - rect.top()) / s;
        drawn.with_value(|m| hit(m, x, y))
    };
    let on_move = move |ev: leptos::ev::MouseEvent| {
        if let Some(i) = at_pointer(&ev) {
            if focused.get_untracked() != Some(i) {
                focused.set(Some(i));
            }
        }
    };
    // Arrow keys walk the marks in time (rows are newest first); Home and End jump to the ends.
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if n == 0 {
            return;
        }
        let cur = focused.get_untracked();
        let next = match ev.key().as_str() {
            "ArrowLeft" => Some(cur.map_or(0, |i| (i + 1).min(n - 1))),
            "ArrowRight" => Some(cur.map_or(0, |i| i.saturating_sub(1))),
            "Home" => Some(n - 1),
            "End" => Some(0),
            _ => None,
        };
        if let Some(i) = next {
            ev.prevent_default();
            focused.set(Some(i));
        }
    };

    view! {
        <section class="timeline" aria-label="Timeline">
            <h2>"Timeline"</h2>
            <ul class="legend">
                <li><span class="swatch keep"></span>"kept"</li>
                <li><span class="swatch delete"></span>"deleted"</li>
                <li><span class="swatch pinned"></span>"pinned"</li>
                <li><span class="swatch excluded"></span>"excluded"</li>
                <li><span class="swatch old-region"></span>"old enough to delete"</li>
                <li class="hint">"size = bytes; newest on the right"</li>
            </ul>
            <svg class="marks" node_ref=picture viewBox=move || format!("0 0 {W} {}", height())
                tabindex="0" role="img"
                aria-label=format!("Deployments over time, newest on the right: {n} marks. Arrow keys move between them.")
                aria-describedby="mark-detail"
                on:mousemove=on_move
                on:keydown=on_key>
                {lane_marks}
                <line x1=PAD y1=move || height() - 10.0 x2=W - PAD y2=move || height() - 10.0 class="axis" />
                <g class="drawn" node_ref=layer>
                    {(0..n.div_ceil(CHUNK)).flat_map(|_| CLASSES.iter()).map(|v| view! { <path class=format!("mark {v}") /> }).collect_view()}
                    <circle class="ring" cx="0" cy="0" r="0" />
                </g>
            </svg>
            <div class="ticks"><span>{first}</span><span>{last}</span></div>
            <p class="detail" id="mark-detail" aria-live="polite" data-testid="mark-detail">{move || detail().unwrap_or_else(|| "Hover a mark, or focus the picture and use the arrow keys, for details.".into())}</p>
        </section>
    }
}
