//! The summary (what goes, what stays, what it saves; per rule under rules) and the scheduled
//! job's forecast.

use super::policy::{chosen, Chosen, Imposed, RuleDraft};
use crate::format;
use leptos::prelude::*;
use retention::{Plan, RuleSummary};

/// What the next scheduled run will delete: the same plan, with the scheduled policy.
#[component]
pub fn Forecast(
    schedule: crate::wire::Schedule,
    ordered: StoredValue<std::sync::Arc<retention::Ordered>>,
    imposed: Imposed,
    now: chrono::DateTime<chrono::Utc>,
    retain: RwSignal<String>,
    days: RwSignal<String>,
    rules: RwSignal<Option<Vec<RuleDraft>>>,
) -> impl IntoView {
    let days_text = schedule.min_days.map(|d| d.to_string()).unwrap_or_default();
    let mut overdue = None;
    let text = match chosen(&schedule.retain.to_string(), &days_text, None, &imposed) {
        Ok(Chosen { policy: p, .. }) => {
            let plan = ordered.with_value(|o| o.plan(&p, now));
            let d = plan.summary.delete;
            let blocked = if plan.blocked.is_empty() {
                String::new()
            } else {
                // The job's own guard may differ (its environment, not this dashboard's): not
                // "it will delete nothing", which the job's run could belie.
                " — over this dashboard's guard; the job's own may differ".into()
            };
            let late = plan
                .overdue(retention::Span::from_secs(crate::wire::OVERDUE_AFTER_SECS))
                .len() as u64;
            overdue = (late > 0).then(|| {
                let verb = if late == 1 { "is" } else { "are" };
                format!("{late} of them {verb} overdue (deletable for more than 2 d): cleanup is behind.")
            });
            format!(
                "The scheduled job ({}, keep newest {}{}) would now delete {} ({}){blocked}.",
                schedule.expression,
                schedule.retain,
                schedule
                    .min_days
                    .map(|d| format!(", older than {d} d"))
                    .unwrap_or_default(),
                format::plural(d.deployments, "deployment", "deployments"),
                format::size(d.bytes),
            )
        }
        Err(e) => format!("The scheduled policy is not valid: {e}"),
    };
    let (r, d) = (schedule.retain.to_string(), days_text);
    view! {
        <section class="card forecast" aria-label="Scheduled job" data-testid="forecast">
            <h2>"Scheduled job"</h2>
            <p>{text}</p>
            {overdue.map(|o| view! { <p class="late" data-testid="overdue">{o}</p> })}
            <button type="button" class="secondary" on:click=move |_| { rules.set(None); retain.set(r.clone()); days.set(d.clone()); }>
                "Preview the scheduled policy"
            </button>
        </section>
    }
}

#[component]
pub fn Summary(plan: Memo<Option<Plan>>, price: Memo<Result<f64, String>>) -> impl IntoView {
    let s = move || plan.with(|p| p.as_ref().map(|p| p.summary));
    // Per rule: the rows are made when the rules change (names), the figures in them follow
    // each re-plan as text, so a keystroke does not rebuild the table.
    let per_rule =
        Memo::new(move |_| plan.with(|p| p.as_ref().map(|p| p.rules.clone()).unwrap_or_default()));
    let names = Memo::new(move |_| {
        per_rule.with(|v| v.iter().map(|r| r.rule.to_string()).collect::<Vec<_>>())
    });
    view! {
        <section class="summary" aria-live="polite" aria-label="Summary">
            <div class="card delete">
                <h2>"Delete"</h2>
                <p class="big" data-testid="delete-count">{move || s().map_or("—".into(), |s| format::plural(s.delete.deployments, "deployment", "deployments"))}</p>
                <p>{move || s().map(|s| format!("{} · {}", format::plural(s.delete.objects, "object", "objects"), format::size(s.delete.bytes)))}</p>
                <p class="saving" data-testid="saving">{move || match (s(), price.get()) {
                    (Some(s), Ok(p)) => format!("saves {} / month", format::monthly_cost(s.delete.bytes, p)),
                    _ => String::new(),
                }}</p>
            </div>
            <div class="card keep">
                <h2>"Keep"</h2>
                <p class="big" data-testid="keep-count">{move || s().map_or("—".into(), |s| format::plural(s.keep.deployments, "deployment", "deployments"))}</p>
                <p>{move || s().map(|s| format!("{} · {}", format::plural(s.keep.objects, "object", "objects"), format::size(s.keep.bytes)))}</p>
                <p>{move || match (s(), price.get()) {
                    (Some(s), Ok(p)) => format!("costs {} / month", format::monthly_cost(s.keep.bytes, p)),
                    _ => String::new(),
                }}</p>
            </div>
            {move || s().filter(|s| s.loose.objects > 0).map(|s| view! {
                <div class="card loose">
                    <h2>"Loose"</h2>
                    <p class="big">{format::plural(s.loose.objects, "object", "objects")}</p>
                    <p>{format!("{} directly under the prefix: never deleted", format::size(s.loose.bytes))}</p>
                </div>
            })}
        </section>
        {move || (!names.with(Vec::is_empty)).then(|| view! {
            <table class="per-rule" data-testid="per-rule" aria-label="Per rule">
                <thead><tr><th scope="col">"Rule"</th><th scope="col" class="num">"Groups"</th><th scope="col" class="num">"Keep"</th><th scope="col" class="num">"Delete"</th><th scope="col" class="num">"Frees"</th></tr></thead>
                <tbody>
                    {names.get().into_iter().enumerate().map(|(k, name)| {
                        let cell = move |f: fn(&RuleSummary) -> String| {
                            move || per_rule.with(|v| v.get(k).map(f).unwrap_or_default())
                        };
                        view! {
                            <tr data-rule=name.clone()>
                                <td>{name.clone()}</td>
                                <td class="num">{cell(|r| r.groups.to_string())}</td>
                                <td class="num">{cell(|r| r.keep.deployments.to_string())}</td>
                                <td class="num" data-col="delete">{cell(|r| r.delete.deployments.to_string())}</td>
                                <td class="num">{cell(|r| format::size(r.delete.bytes))}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        })}
    }
}
