//! One row of the table: a deployment's facts, then its verdict, rule, group and reason as the
//! plan of the moment has them (later plans repaint them, see `paint::repaint`).

use super::pin::{PinButton, Pins};
use crate::dashboard::paint::{class_at, group_at, reason_at, rule_at, verdict_at};
use crate::dashboard::row::Row;
use crate::format;
use leptos::prelude::*;
use retention::Plan;

/// Row `idx` (in plan order), listed at position `pos` of the table's order.
#[component]
pub fn DeploymentRow(
    row: Row,
    idx: usize,
    pos: usize,
    plan: Memo<Option<Plan>>,
    focused: RwSignal<Option<usize>>,
    pins: Pins,
) -> impl IntoView {
    let i = idx;
    let r = row;
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
            <td class="pin"><PinButton id=r.id.clone() pins /></td>
        </tr>
    }
}
