//! The line under the timeline that describes the focused mark (read out by screen readers).

use crate::dashboard::lanes::Lanes;
use crate::dashboard::paint::reason_at;
use crate::dashboard::row::Row;
use crate::format;
use leptos::prelude::*;
use retention::Plan;

/// The label of the lane deployment `i` is drawn in; empty when it has none (then `lanes` is
/// not read).
fn lane_label(plan: &Option<Plan>, lanes: Memo<Lanes>, i: usize) -> String {
    let Some((p, e)) = plan.as_ref().and_then(|p| Some((p, p.entries.get(i)?))) else {
        return String::new();
    };
    lanes.with(|l| {
        l.iter()
            .nth(l.lane_of(p, e))
            .map(|l| l.label.clone())
            .unwrap_or_default()
    })
}

/// One deployment in a line: id, date, age, objects, size, the plan's reason, and its lane.
fn describe(r: &Row, reason: &str, lane: &str) -> String {
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
}

/// The focused mark's details, or how to focus one.
#[component]
pub fn MarkDetail(
    rows: StoredValue<Vec<Row>>,
    plan: Memo<Option<Plan>>,
    lanes: Memo<Lanes>,
    focused: RwSignal<Option<usize>>,
) -> impl IntoView {
    let detail = move || {
        focused.get().map(|i| {
            let reason = plan.with(|p| reason_at(p, i));
            let lane = plan.with(|p| lane_label(p, lanes, i));
            rows.with_value(|rows| describe(&rows[i], &reason, &lane))
        })
    };
    view! {
        <p class="detail" id="mark-detail" aria-live="polite" data-testid="mark-detail">{move || detail().unwrap_or_else(|| "Hover a mark, or focus the picture and use the arrow keys, for details.".into())}</p>
    }
}
