//! How long a pure re-plan takes: `cargo run --release -p retention --example plan_speed`.
//! Prints the median of 50 plans for 2,000 and 10,000 deployments, with the plain policy and
//! with three rules, one of them per group (200 groups, as `RULES=1 bench/preview.sh`), and
//! dated by a `meta:` key; each also from an [`Ordered`] made once (what the dashboard does).

use chrono::{Duration, TimeZone, Utc};
use retention::{
    plan, Deployment, DeploymentId, Inventory, Ordered, Policy, Retain, Rule, Rules, Span,
};
use std::sync::Arc;
use std::time::Instant;

/// The three rules, one of them per group: production (main-*) keeps the newest 10 and all of the
/// last 30 days, previews (pr-*) the newest of each PR, the rest the newest 3.
fn rules() -> Rules {
    let rule = |name: &str, matches: &str, retain| Rule {
        name: name.parse().unwrap(),
        matches: matches.parse().unwrap(),
        group: None,
        retain: Retain::new(retain).unwrap(),
        keep_within: None,
    };
    let production = Rule {
        keep_within: Some(Span::from_days(30)),
        ..rule("production", "main-*", 10)
    };
    let previews = Rule {
        group: Some(r"^(pr-\d+)-".parse().unwrap()),
        ..rule("previews", "pr-*", 1)
    };
    Rules::new(vec![production, previews, rule("rest", "*", 3)]).unwrap()
}

fn id(i: u64, ruled: bool) -> String {
    match (ruled, i % 10) {
        (false, _) => format!("deploy{i:06x}"),
        (true, 0) => format!("main-{i:05}"),
        (true, 9) => format!("hotfix-{i:05}"),
        (true, _) => format!("pr-{}-{i:05}", (i / 10) % 200),
    }
}

fn main() {
    let now = Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap();
    for (ruled, meta) in [(false, false), (true, false), (false, true)] {
        for n in [2_000u64, 10_000] {
            let inv = Inventory {
                deployments: (0..n)
                    .map(|i| Deployment {
                        id: DeploymentId::new(id(i, ruled)).unwrap(),
                        objects: 10 + i % 50,
                        bytes: 1_000_000 + i * 17,
                        newest: now - Duration::hours(i as i64),
                        oldest: now - Duration::hours(i as i64 + 1),
                        meta: meta.then(|| (now - Duration::hours(i as i64)).to_rfc3339()),
                    })
                    .collect(),
                ..Inventory::default()
            };
            let source = if meta {
                "meta:deployed-at".parse().unwrap()
            } else {
                Default::default()
            };
            // The dashboard's way: dated and ordered once per scan, then planned per policy.
            let ordered = Ordered::new(Arc::new(inv.clone()), &source, None);
            let (mut times, mut from_order) = (Vec::new(), Vec::new());
            for k in 0..50u64 {
                let mut p = if ruled {
                    Policy::with_rules(rules())
                } else {
                    let mut p = Policy::new(Retain::new(5 + k).unwrap());
                    p.keep_within = Some(Span::from_days(30));
                    p
                };
                p.date_source = source.clone();
                let t = Instant::now();
                let plan = plan(&inv, &p, now);
                times.push(t.elapsed().as_secs_f64() * 1000.0);
                assert_eq!(plan.entries.len() as u64, n);
                let t = Instant::now();
                let again = ordered.plan(&p, now);
                from_order.push(t.elapsed().as_secs_f64() * 1000.0);
                assert_eq!(again, plan);
            }
            times.sort_by(|a, b| a.partial_cmp(b).unwrap());
            from_order.sort_by(|a, b| a.partial_cmp(b).unwrap());
            println!(
                "pure re-plan of {n:>6} deployments{}: median {:.2} ms, {:.2} ms from an order made once (native, release)",
                match (ruled, meta) {
                    (true, _) => " (3 rules, 200 groups)",
                    (_, true) => " (dated by meta:deployed-at)",
                    _ => "",
                },
                times[25],
                from_order[25]
            );
        }
    }
}
