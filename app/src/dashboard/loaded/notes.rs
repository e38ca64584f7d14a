//! What the page says about the policy and the plan between the controls and the summary:
//! the controls' errors, the plan's warnings and what blocks an apply, in the dashboard's
//! words (what its user can do, not a command-line flag).

use crate::dashboard::policy::Chosen;
use leptos::prelude::*;
use retention::Plan;

/// The storage price the controls ask for, or why it cannot be used.
pub fn price_from(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "Price per GB-month must be a number ≥ 0 (got '{s}')"
        )),
    }
}

/// Everything wrong with the controls, as one sentence after another; `None` when nothing is.
fn errors(policy: &Result<Chosen, String>, price: &Result<f64, String>) -> Option<String> {
    let errs: Vec<&str> = [policy.as_ref().err(), price.as_ref().err()]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    (!errs.is_empty()).then(|| errs.join(" "))
}

/// What is wrong with the policy or the price, while something is.
#[component]
pub fn PolicyErrors(
    policy: Memo<Result<Chosen, String>>,
    price: Memo<Result<f64, String>>,
) -> impl IntoView {
    move || {
        policy
            .with(|p| price.with(|q| errors(p, q)))
            .map(|m| view! { <p class="error" role="alert" data-testid="policy-error">{m}</p> })
    }
}

/// The plan's warnings, the scan's (worded by the server: `ScanView::scan_warnings`; shown as
/// the handovers' error is, the one template the bundle holds for a text sent as it is), then
/// what blocks its apply.
#[component]
pub fn PlanNotes(plan: Memo<Option<Plan>>, scanned: Option<String>) -> impl IntoView {
    view! {
        {move || plan.with(|p| p.as_ref().map(|p| p.warnings.iter().map(|w| view! { <p class="warning">{format!("Warning: {}", w.for_dashboard())}</p> }).collect_view()))}
        {scanned.map(|e| view! { <p class="error" role="alert">{e}</p> })}
        {move || plan.with(|p| p.as_ref().map(|p| p.blocked.iter().map(|b| view! { <p class="error" role="alert" data-testid="blocked">{format!("Blocked: {}", b.for_dashboard())}</p> }).collect_view()))}
    }
}
