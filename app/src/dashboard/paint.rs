//! Keeping the page in step with the plan: the verdict, reason, rule and group of each row in
//! view, and the class and lane of each timeline mark (drawn by `draw`). Cells are found by
//! name (`data-col`), not by position, so a column added to the table cannot make a repaint
//! write into the wrong one.

use super::lanes::Lanes;
use retention::{Action, Entry, Plan, Reason};
use wasm_bindgen::JsCast;

/// The timeline's first lane starts this far down, and each lane is this tall (viewBox units).
pub const TOP: f64 = 8.0;
pub const LANE_H: f64 = 40.0;

/// The lane of every entry, in plan order (see [`Lanes`]).
pub fn lanes_of(plan: &Option<Plan>, n: usize) -> Vec<usize> {
    match plan {
        None => vec![0; n],
        Some(p) => {
            let lanes = Lanes::of(p);
            (0..n)
                .map(|i| p.entries.get(i).map_or(0, |e| lanes.lane_of(p, e)))
                .collect()
        }
    }
}

/// A mark's height in the picture: its lane, spread over three rows so neighbours overlap less.
pub fn lane_y(lane: usize, i: usize) -> f64 {
    TOP + lane as f64 * LANE_H + 10.0 + (i % 3) as f64 * 10.0
}

pub fn verdict_class(reason: &Reason) -> &'static str {
    match reason {
        Reason::Pinned { .. } | Reason::Live { .. } | Reason::WasLive { .. } => "pinned",
        Reason::Excluded { .. } => "excluded",
        Reason::Expired { .. } => "delete",
        _ => "keep",
    }
}

pub fn verdict_at(plan: &Option<Plan>, i: usize) -> &'static str {
    plan.as_ref()
        .and_then(|p| p.entries.get(i))
        .map_or("—", |e| {
            if e.action == Action::Delete {
                "delete"
            } else {
                "keep"
            }
        })
}

pub fn class_at(plan: &Option<Plan>, i: usize) -> &'static str {
    plan.as_ref()
        .and_then(|p| p.entries.get(i))
        .map_or("unknown", |e| verdict_class(&e.reason))
}

pub fn reason_at(plan: &Option<Plan>, i: usize) -> String {
    plan.as_ref()
        .and_then(|p| p.entries.get(i))
        .map_or_else(|| "—".into(), Entry::reason_text)
}

pub fn rule_at(plan: &Option<Plan>, i: usize) -> String {
    plan.as_ref()
        .and_then(|p| p.entries.get(i))
        .and_then(|e| e.rule.as_ref())
        .map_or_else(|| "—".into(), |r| r.to_string())
}

pub fn group_at(plan: &Option<Plan>, i: usize) -> String {
    plan.as_ref()
        .and_then(|p| p.entries.get(i))
        .and_then(|e| e.group.clone())
        .map_or_else(
            || "—".into(),
            |g| if g.is_empty() { "\"\"".into() } else { g },
        )
}

/// Brings the rendered table rows in line with `plan`. Only the rows in view exist (see
/// `Table`), so a change costs tens of DOM calls, not 10,000 (the timeline draws itself: see
/// `draw`). Runs in the browser only (from an effect).
pub fn repaint(plan: &Option<Plan>) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let element = |n: Option<web_sys::Node>| n.and_then(|n| n.dyn_into::<web_sys::Element>().ok());
    let set_cell = |row: &web_sys::Element, col: &str, text: &str, title: bool| {
        let Some(td) = row
            .query_selector(&format!("td[data-col=\"{col}\"]"))
            .ok()
            .flatten()
        else {
            return;
        };
        if td.text_content().as_deref() != Some(text) {
            if title {
                let _ = td.set_attribute("title", text);
            }
            td.set_text_content(Some(text));
        }
    };
    if let Ok(list) = doc.query_selector_all("tbody tr.row") {
        for k in 0..list.length() {
            let Some(el) = element(list.item(k)) else {
                continue;
            };
            let Some(i) = el
                .get_attribute("data-idx")
                .and_then(|v| v.parse::<usize>().ok())
            else {
                continue;
            };
            let cur = el.get_attribute("class").unwrap_or_default();
            let mut want = format!("row {}", class_at(plan, i));
            if cur.split(' ').any(|c| c == "focused") {
                want.push_str(" focused");
            }
            if cur != want {
                let _ = el.set_attribute("class", &want);
            }
            set_cell(&el, "verdict", verdict_at(plan, i), false);
            set_cell(&el, "reason", &reason_at(plan, i), true);
            set_cell(&el, "rule", &rule_at(plan, i), false);
            set_cell(&el, "group", &group_at(plan, i), false);
        }
    }
}
