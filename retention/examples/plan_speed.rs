//! How long a pure re-plan takes: `cargo run --release -p retention --example plan_speed`.
//! Prints the median of 50 plans for 2,000 and 10,000 deployments, with the plain policy and
//! with three rules, one of them per group (200 groups, as `RULES=1 bench/preview.sh`).

use chrono::{Duration, TimeZone, Utc};
use retention::{plan, Deployment, DeploymentId, Inventory, Policy, Retain, Rule, Rules, Span};
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
    for ruled in [false, true] {
        for n in [2_000u64, 10_000] {
            let inv = Inventory {
                deployments: (0..n)
                    .map(|i| Deployment {
                        id: DeploymentId::new(id(i, ruled)).unwrap(),
                        objects: 10 + i % 50,
                        bytes: 1_000_000 + i * 17,
                        newest: now - Duration::hours(i as i64),
                        oldest: now - Duration::hours(i as i64 + 1),
                        meta: None,
                    })
                    .collect(),
                ..Inventory::default()
            };
            let mut times = Vec::new();
            for k in 0..50u64 {
                let p = if ruled {
                    Policy::with_rules(rules())
                } else {
                    let mut p = Policy::new(Retain::new(5 + k).unwrap());
                    p.keep_within = Some(Span::from_days(30));
                    p
                };
                let t = Instant::now();
                let plan = plan(&inv, &p, now);
                times.push(t.elapsed().as_secs_f64() * 1000.0);
                assert_eq!(plan.entries.len() as u64, n);
            }
            times.sort_by(|a, b| a.partial_cmp(b).unwrap());
            println!(
                "pure re-plan of {n:>6} deployments{}: median {:.2} ms (native, release)",
                if ruled { " (3 rules, 200 groups)" } else { "" },
                times[25]
            );
        }
    }
}
