//! The plan for people: a header (bucket, prefix, policy), a restic-style table with a reason
//! per deployment, totals, notes and the lifecycle handovers.

use super::{escape, plural, size};
use prune::Planned;
use retention::{Entry, Plan, Policy};
use std::fmt::Write;

/// The plan as a table, under a header; `undo` is the bucket's undo window when it was read.
pub fn human_plan(planned: &Planned, undo: Option<&str>) -> String {
    let p = &planned.plan;
    [
        header(planned, undo),
        policy_lines(&p.policy),
        table(&p.entries),
        totals(planned),
        notes(p),
        human_handovers(&planned.handovers, p.now.date_naive()),
    ]
    .concat()
}

/// Which bucket, prefix and endpoint; the undo window; an S3 Inventory report's date.
fn header(planned: &Planned, undo: Option<&str>) -> String {
    let bucket = &planned.bucket;
    let prefix = match bucket.prefix() {
        "" => "(bucket root)",
        p => p,
    };
    let mut s = format!(
        "Bucket {}  prefix {prefix}  versioning {}  at {}\n",
        bucket.name(),
        planned.plan.versioning,
        bucket.endpoint()
    );
    if let Some(u) = undo {
        let _ = writeln!(s, "Undo: {u}");
    }
    if let Some(d) = planned.report_date {
        let _ = writeln!(
            s,
            "Objects from the S3 Inventory report of {} (not a listing)",
            d.format("%Y-%m-%d %H:%M UTC")
        );
    }
    s
}

/// The policy on one line, or its rules one per line in the order they are tried.
fn policy_lines(policy: &Policy) -> String {
    let Some(rules) = &policy.rules else {
        return format!("Policy: {policy}\n");
    };
    let mut s = String::from("Policy: rules, the first matching one decides\n");
    for r in rules.as_slice() {
        let _ = writeln!(s, "  {r}");
    }
    s
}

/// The table's heading, one cell per column.
const HEAD: [&str; 7] = [
    "ID",
    "DATE (UTC)",
    "AGE",
    "OBJECTS",
    "SIZE",
    "ACTION",
    "REASON",
];

/// One deployment per row, after a blank line; or that there are none.
fn table(entries: &[Entry]) -> String {
    if entries.is_empty() {
        return "\nNo deployments found.\n".to_string();
    }
    let rows: Vec<[String; 7]> = entries.iter().map(row).collect();
    let columns = Columns::fit(&rows);
    let mut s = String::from("\n");
    let _ = writeln!(s, "{}", columns.line(&HEAD.map(String::from)));
    let _ = writeln!(s, "{}", columns.rule());
    for r in &rows {
        let _ = writeln!(s, "{}", columns.line(r));
    }
    s
}

/// A deployment's cells, names from the bucket escaped.
fn row(e: &Entry) -> [String; 7] {
    [
        escape(e.id.as_str()),
        e.date.format("%Y-%m-%d %H:%M:%S").to_string(),
        retention::human_age(e.age_secs),
        e.objects.to_string(),
        size(e.bytes),
        e.action.to_string(),
        escape(&e.reason_text()),
    ]
}

/// The widths of the table's columns: each as wide as its widest cell, two spaces between,
/// OBJECTS and SIZE right-aligned, the last column not padded.
struct Columns {
    widths: [usize; 7],
}

impl Columns {
    /// The columns numbers are right-aligned in (OBJECTS, SIZE).
    const RIGHT: [usize; 2] = [3, 4];
    /// Between two columns.
    const GAP: &str = "  ";

    /// Widths that fit the heading and every row.
    fn fit(rows: &[[String; 7]]) -> Columns {
        let mut widths = HEAD.map(|h| h.chars().count());
        for r in rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        Columns { widths }
    }

    /// One row, padded to the widths, without trailing spaces.
    fn line(&self, cells: &[String; 7]) -> String {
        let last = cells.len() - 1;
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            let pad = " ".repeat(self.widths[i] - c.chars().count());
            if Self::RIGHT.contains(&i) {
                l.push_str(&pad);
                l.push_str(c);
            } else {
                l.push_str(c);
                if i < last {
                    l.push_str(&pad);
                }
            }
            if i < last {
                l.push_str(Self::GAP);
            }
        }
        l.trim_end().to_string()
    }

    /// The dashes under the heading, as wide as a full row.
    fn rule(&self) -> String {
        let gaps = Self::GAP.len() * (self.widths.len() - 1);
        "-".repeat(self.widths.iter().sum::<usize>() + gaps)
    }
}

/// What is kept and deleted (in all, and per rule), the loose objects, the versions to purge.
fn totals(planned: &Planned) -> String {
    let p = &planned.plan;
    let sm = &p.summary;
    let mut s = String::from("\n");
    for (label, t) in [("keep  ", &sm.keep), ("delete", &sm.delete)] {
        let _ = writeln!(
            s,
            "{label} {} ({}, {})",
            plural(t.deployments, "deployment", "deployments"),
            plural(t.objects, "object", "objects"),
            size(t.bytes)
        );
    }
    for r in &p.rules {
        let _ = writeln!(
            s,
            "  {}: keep {}, delete {} ({})",
            r.rule,
            r.keep.deployments,
            r.delete.deployments,
            plural(r.groups, "group", "groups")
        );
    }
    if sm.loose.objects > 0 {
        let _ = writeln!(
            s,
            "loose  {} directly under the prefix ({}): never deleted",
            plural(sm.loose.objects, "object", "objects"),
            size(sm.loose.bytes)
        );
    }
    if let Some(v) = planned.versions_to_purge {
        let _ = writeln!(
            s,
            "purge  {} (versions and delete markers of the deleted deployments)",
            plural(v, "version", "versions")
        );
    }
    s
}

/// The plan's warnings, then what blocks it.
fn notes(p: &Plan) -> String {
    let mut s = String::new();
    for w in &p.warnings {
        let _ = writeln!(s, "warning: {}", escape(&w.to_string()));
    }
    for b in &p.blocked {
        let _ = writeln!(s, "blocked: {}", escape(&b.to_string()));
    }
    s
}

/// s3-prune's S3 lifecycle handovers: pending with their age, withdrawn ones, and a rule that
/// could not be removed from a kept folder (an error: S3 may expire it).
fn human_handovers(h: &prune::Handovers, today: chrono::NaiveDate) -> String {
    let mut s = String::new();
    for e in &h.pending {
        let age = e
            .since
            .map(|d| format!(", handed over {} d ago", (today - d).num_days()))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "lifecycle: {} is being expired by S3 (rule '{}'{age})",
            escape(&e.deployment),
            escape(&e.rule)
        );
    }
    for e in &h.withdrawn {
        let _ = writeln!(s, "lifecycle: {}", escape(&e.to_string()));
    }
    if let Some(e) = h.error.as_ref().filter(|_| h.is_dangerous()) {
        let _ = writeln!(s, "error: {}", escape(e));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::human_plan;
    use chrono::{Duration, TimeZone, Utc};
    use prune::{Handovers, Planned};
    use retention::{
        Deployment, DeploymentId, Inventory, LooseObjects, Policy, Retain, Versioning,
    };

    /// A plan of `ids` (name, days old) in `site-bucket` under `prefix`, made at a fixed time,
    /// with three loose objects on a versioned bucket.
    async fn planned(prefix: &str, policy: Policy, ids: &[(&str, i64)]) -> Planned {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        let connect = bucket::Connect {
            endpoint_url: Some("http://s3.invalid:9000".into()),
            ..Default::default()
        };
        let target = bucket::Target::new("site-bucket", prefix).unwrap();
        let bucket = bucket::connect(&connect, &target).await.unwrap();
        let deployments = ids
            .iter()
            .enumerate()
            .map(|(i, (id, days))| Deployment {
                id: DeploymentId::new(*id).unwrap(),
                objects: 10 + i as u64 * 1000,
                bytes: 1000 << (i * 6),
                newest: now - Duration::days(*days),
                oldest: now - Duration::days(*days) - Duration::hours(1),
                meta: None,
            })
            .collect();
        let inventory = Inventory {
            deployments,
            loose: LooseObjects {
                objects: 3,
                bytes: 4096,
            },
            versioning: Versioning::Enabled,
            ..Inventory::default()
        };
        Planned {
            bucket,
            plan: retention::plan(&inventory, &policy, now),
            versions_to_purge: None,
            report_date: None,
            live_pointer: None,
            live_from: None,
            handovers: Handovers::default(),
            skew: bucket::ClockSkew::default(),
            live_read: None,
        }
    }

    fn expiry(deployment: &str, since: Option<chrono::NaiveDate>) -> audit::Expiry {
        audit::Expiry {
            deployment: deployment.into(),
            rule: format!("s3-prune-expire-{deployment}"),
            state: audit::ExpiryState::Pending,
            since,
            reason: None,
        }
    }

    #[tokio::test]
    async fn plan_table_with_rules_purge_handovers_and_a_block() {
        let rules = retention::parse_policy(
            "[[rule]]\nname = 'previews'\nmatch = 'pr-*'\ngroup = '^pr-(\\d+)-'\nretain = 1\n\n\
             [[rule]]\nname = 'releases'\nmatch = '*'\nretain = 2\nmin_retain_days = 7\n",
        )
        .unwrap();
        let policy = Policy {
            max_delete: Some(1),
            ..Policy::with_rules(rules)
        };
        let ids = [
            ("pr-12-b", 1),
            ("pr-12-a", 3),
            ("pr-7-a", 9),
            ("v2.0", 20),
            ("v1.0", 400),
            ("v0.9", 800),
        ];
        let mut p = planned("sites/", policy, &ids).await;
        p.versions_to_purge = Some(17);
        p.report_date = Some(Utc.with_ymd_and_hms(2026, 11, 25, 1, 2, 3).unwrap());
        p.handovers = Handovers {
            pending: vec![
                expiry("v0.8", chrono::NaiveDate::from_ymd_opt(2026, 11, 20)),
                expiry("v0.7", None),
            ],
            withdrawn: vec![expiry("v0.6", None)],
            error: Some("the rule of v0.5 was NOT removed: AccessDenied".into()),
        };
        let out = human_plan(&p, Some("7 days (noncurrent versions)"));
        assert_eq!(out, EXPECTED_RULES);
    }

    #[tokio::test]
    async fn plan_of_an_empty_root_and_of_one_deployment() {
        let policy = Policy::new(Retain::new(3).unwrap());
        let empty = human_plan(&planned("", policy.clone(), &[]).await, None);
        let one = human_plan(&planned("", policy, &[("only", 2)]).await, None);
        assert_eq!(
            (empty.as_str(), one.as_str()),
            (EXPECTED_EMPTY, EXPECTED_ONE)
        );
    }

    const EXPECTED_RULES: &str = concat!(
        "Bucket site-bucket  prefix sites/  versioning enabled  at http://s3.invalid:9000\n",
        "Undo: 7 days (noncurrent versions)\n",
        "Objects from the S3 Inventory report of 2026-11-25 01:02 UTC (not a listing)\n",
        "Policy: rules, the first matching one decides\n",
        "  previews: 'pr-*' keep newest 1 per group '^pr-(\\d+)-'\n",
        "  releases: '*' keep newest 2, and anything younger than 7 d\n",
        "\n",
        "ID       DATE (UTC)           AGE    OBJECTS        SIZE  ACTION  REASON\n",
        "---------------------------------------------------------------------------------------------------------------\n",
        "pr-12-b  2026-11-25 12:00:00  1 d         10      1000 B  keep    keep: newest 1 of 1 in 12 (previews)\n",
        "pr-12-a  2026-11-23 12:00:00  3 d       1010    62.5 KiB  delete  delete: rank 2 > 1 in 12 (previews)\n",
        "pr-7-a   2026-11-17 12:00:00  9 d       2010     3.9 MiB  keep    keep: newest 1 of 1 in 7 (previews)\n",
        "v2.0     2026-11-06 12:00:00  20 d      3010   250.0 MiB  keep    keep: newest 1 of 2 (releases)\n",
        "v1.0     2025-10-22 12:00:00  400 d     4010    15.6 GiB  keep    keep: newest 2 of 2 (releases)\n",
        "v0.9     2024-09-17 12:00:00  800 d     5010  1000.0 GiB  delete  delete: rank 3 > 2 (releases) and 800 d > 7 d\n",
        "\n",
        "keep   4 deployments (9040 objects, 15.9 GiB)\n",
        "delete 2 deployments (6020 objects, 1000.0 GiB)\n",
        "  previews: keep 2, delete 1 (2 groups)\n",
        "  releases: keep 2, delete 1 (1 group)\n",
        "loose  3 objects directly under the prefix (4.0 KiB): never deleted\n",
        "purge  17 versions (versions and delete markers of the deleted deployments)\n",
        "warning: bucket versioning is enabled: deleting only adds delete markers and frees no storage; add --purge-versions to remove every version for good (by requests: not with --via-lifecycle, whose expiry only adds markers too)\n",
        "blocked: the plan deletes 2 deployments, more than --max-delete 1: nothing will be deleted. Raise --max-delete if this is intended.\n",
        "lifecycle: v0.8 is being expired by S3 (rule 's3-prune-expire-v0.8', handed over 6 d ago)\n",
        "lifecycle: v0.7 is being expired by S3 (rule 's3-prune-expire-v0.7')\n",
        "lifecycle: v0.6: S3 lifecycle is still expiring it (rule 's3-prune-expire-v0.6')\n",
        "error: the rule of v0.5 was NOT removed: AccessDenied\n",
    );

    const EXPECTED_EMPTY: &str = concat!(
        "Bucket site-bucket  prefix (bucket root)  versioning enabled  at http://s3.invalid:9000\n",
        "Policy: keep newest 3 (dates: newest)\n",
        "\n",
        "No deployments found.\n",
        "\n",
        "keep   0 deployments (0 objects, 0 B)\n",
        "delete 0 deployments (0 objects, 0 B)\n",
        "loose  3 objects directly under the prefix (4.0 KiB): never deleted\n",
        "warning: bucket versioning is enabled: deleting only adds delete markers and frees no storage; add --purge-versions to remove every version for good (by requests: not with --via-lifecycle, whose expiry only adds markers too)\n",
    );

    const EXPECTED_ONE: &str = concat!(
        "Bucket site-bucket  prefix (bucket root)  versioning enabled  at http://s3.invalid:9000\n",
        "Policy: keep newest 3 (dates: newest)\n",
        "\n",
        "ID    DATE (UTC)           AGE  OBJECTS    SIZE  ACTION  REASON\n",
        "----------------------------------------------------------------------------\n",
        "only  2026-11-24 12:00:00  2 d       10  1000 B  keep    keep: newest 1 of 3\n",
        "\n",
        "keep   1 deployment (10 objects, 1000 B)\n",
        "delete 0 deployments (0 objects, 0 B)\n",
        "loose  3 objects directly under the prefix (4.0 KiB): never deleted\n",
        "warning: bucket versioning is enabled: deleting only adds delete markers and frees no storage; add --purge-versions to remove every version for good (by requests: not with --via-lifecycle, whose expiry only adds markers too)\n",
    );
}
