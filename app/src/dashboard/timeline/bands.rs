//! The timeline's lanes as drawn behind the marks: each lane's label, its rule's minimum-age
//! cut-off as a line, and the region it may delete from shaded.

use crate::dashboard::lanes::{Lane, Lanes};
use crate::dashboard::marks::{Scale, PAD, W};
use crate::dashboard::paint::{LANE_H, TOP};
use leptos::prelude::*;

/// Where "old enough to delete" begins in `lane` (its minimum age before `now_ts`), if it has
/// a minimum age.
fn cutoff(lane: &Lane, scale: Scale, now_ts: i64) -> Option<f64> {
    lane.keep_within.map(|w| {
        let ts = now_ts.saturating_sub(i64::try_from(w.as_secs()).unwrap_or(i64::MAX));
        scale.x(ts).clamp(PAD, W - PAD)
    })
}

/// Per lane: the label, and where "old enough to delete" begins (redrawn when the lanes change).
#[component]
pub fn LaneBands(lanes: Memo<Lanes>, scale: Scale, now_ts: i64) -> impl IntoView {
    move || {
        lanes.get().iter().cloned().enumerate().map(|(k, lane)| {
            let top = TOP + k as f64 * LANE_H;
            let cut = cutoff(&lane, scale, now_ts);
            let shade_to = if lane.managed { cut.or(Some(W - PAD)) } else { None };
            view! {
                <g class="lane" data-lane=k>
                    {shade_to.map(|x| view! { <rect class="old-region" x=PAD y=top width=(x - PAD).max(0.0) height=LANE_H - 2.0 /> })}
                    {cut.map(|x| view! { <line class="cutoff" x1=x y1=top x2=x y2=top + LANE_H - 2.0 /> })}
                    {(!lane.label.is_empty()).then(|| view! { <text class="lane-label" x=PAD + 2.0 y=top + 10.0>{lane.label.clone()}</text> })}
                </g>
            }
        }).collect_view()
    }
}
