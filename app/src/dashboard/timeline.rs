//! The timeline: every deployment as a mark (newest right, size = bytes, colour = verdict), in
//! one lane per rule or group (see `lanes`), with each rule's minimum-age cut-off drawn as a
//! line and the region it may delete from shaded.

use super::lanes::Lanes;
use super::paint::{class_at, lane_y, reason_at, Painted, LANE_H, TOP};
use super::Row;
use crate::format;
use leptos::prelude::*;
use retention::Plan;

const W: f64 = 1000.0;
const PAD: f64 = 24.0;
const AXIS: f64 = 26.0;

#[component]
pub fn Timeline(
    rows: StoredValue<Vec<Row>>,
    plan: Memo<Option<Plan>>,
    focused: RwSignal<Option<usize>>,
    painted: StoredValue<Vec<Painted>>,
    now_ts: i64,
) -> impl IntoView {
    let (min, max) = rows.with_value(|rows| {
        (
            rows.iter().map(|r| r.date_ts).min().unwrap_or(0),
            rows.iter().map(|r| r.date_ts).max().unwrap_or(0),
        )
    });
    let span = (max - min) as f64;
    let x_of = move |ts: i64| {
        if span == 0.0 {
            W / 2.0
        } else {
            PAD + (ts - min) as f64 / span * (W - 2.0 * PAD)
        }
    };
    let marks = rows.with_value(|rows| {
        let max_bytes = rows.iter().map(|r| r.bytes).max().unwrap_or(1).max(1) as f64;
        let rmax = if rows.len() > 400 {
            5.0
        } else if rows.len() > 60 {
            8.0
        } else {
            12.0
        };
        rows.iter()
            .enumerate()
            .map(|(i, r)| {
                let rad = 2.0 + (rmax - 2.0) * (r.bytes as f64 / max_bytes).sqrt();
                (i, x_of(r.date_ts), rad)
            })
            .collect::<Vec<_>>()
    });
    let first = rows.with_value(|r| r.last().map(|r| r.date.clone()).unwrap_or_default());
    let last = rows.with_value(|r| r.first().map(|r| r.date.clone()).unwrap_or_default());
    let lanes = Memo::new(move |_| plan.with(|p| p.as_ref().map(Lanes::of).unwrap_or_default()));
    let height = move || TOP + lanes.with(|l| l.count().max(1)) as f64 * LANE_H + AXIS;
    let detail = move || {
        focused.get().map(|i| {
            let reason = plan.with(|p| reason_at(p, i));
            rows.with_value(|rows| {
                let r = &rows[i];
                format!(
                    "{} · {} UTC · {} old · {} · {} · {}",
                    r.id,
                    r.date,
                    r.age,
                    format::plural(r.objects, "object", "objects"),
                    format::size(r.bytes),
                    reason
                )
            })
        })
    };
    // Per lane: the label, and where "old enough to delete" begins.
    let lane_marks = move || {
        lanes.get().iter().cloned().enumerate().map(|(k, lane)| {
            let top = TOP + k as f64 * LANE_H;
            let cut = lane.keep_within.map(|w| {
                let ts = now_ts.saturating_sub(i64::try_from(w.as_secs()).unwrap_or(i64::MAX));
                x_of(ts).clamp(PAD, W - PAD)
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
            <svg class="marks" viewBox=move || format!("0 0 {W} {}", height()) role="group" aria-label="Deployments over time">
                {lane_marks}
                <line x1=PAD y1=move || height() - 10.0 x2=W - PAD y2=move || height() - 10.0 class="axis" />
                {marks.into_iter().map(|(i, x, rad)| {
                    let (label, tip) = rows.with_value(|rows| {
                        let r = &rows[i];
                        (format!("{} {}", r.id, r.date), format!("{} · {} UTC · {}", r.id, r.date, format::size(r.bytes)))
                    });
                    let lane = painted.with_value(|p| p.get(i).map_or(0, |p| p.lane));
                    view! {
                        <circle cx=x cy=lane_y(lane, i) r=rad tabindex="0"
                            class=format!("mark {}", plan.with_untracked(|p| class_at(p, i)))
                            data-idx=i
                            data-id=rows.with_value(|rows| rows[i].id.to_string())
                            aria-label=label
                            on:mouseenter=move |_| focused.set(Some(i))
                            on:focus=move |_| focused.set(Some(i))>
                            <title>{tip}</title>
                        </circle>
                    }
                }).collect_view()}
            </svg>
            <div class="ticks"><span>{first}</span><span>{last}</span></div>
            <p class="detail" aria-live="polite" data-testid="mark-detail">{move || detail().unwrap_or_else(|| "Hover or focus a mark for details.".into())}</p>
        </section>
    }
}
