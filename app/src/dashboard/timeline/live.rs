//! The live pointer's spans above the lanes: each deployment it named, from its date until the
//! pointer moved on (the one it names now, until now) — so the previous live deployment, kept
//! for the live grace, shows why.

use crate::dashboard::marks::{Scale, PAD, W};
use crate::dashboard::row::Row;
use crate::format;
use leptos::prelude::*;
use retention::Inventory;

/// One span of the live pointer.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSpan {
    from_ts: i64,
    until_ts: i64,
    current: bool,
    text: String,
}

/// The spans the scan knows: the current live deployment and the ones it named before.
pub fn live_spans(inventory: &Inventory, rows: &[Row], now_ts: i64) -> Vec<LiveSpan> {
    let date_of =
        |id: &retention::DeploymentId| rows.iter().find(|r| &r.id == id).map(|r| r.date_ts);
    let current = inventory.live.as_ref().and_then(|id| {
        Some(LiveSpan {
            from_ts: date_of(id)?,
            until_ts: now_ts,
            current: true,
            text: format!("{id}: live now"),
        })
    });
    let before = inventory.was_live.iter().filter_map(|w| {
        Some(LiveSpan {
            from_ts: date_of(&w.id)?,
            until_ts: w.until.timestamp(),
            current: false,
            text: format!("{}: live until {} UTC", w.id, format::date(&w.until)),
        })
    });
    current.into_iter().chain(before).collect()
}

/// The spans as lines just above the lanes, each with its text as a tooltip.
#[component]
pub fn LiveSpans(spans: Vec<LiveSpan>, scale: Scale) -> impl IntoView {
    spans
        .into_iter()
        .map(|s| {
            let x1 = scale.x(s.from_ts).clamp(PAD, W - PAD);
            let x2 = scale.x(s.until_ts).clamp(x1 + 2.0, W - PAD + 2.0);
            view! {
                <line class="live-span" class:current=s.current x1=x1 y1=3.0 x2=x2 y2=3.0>
                    <title>{s.text}</title>
                </line>
            }
        })
        .collect_view()
}
