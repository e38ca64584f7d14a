//! The plan as a whole: the reason of every deployment in small worked examples, blocks and
//! warnings, a JSON round trip, and the guarantees on generated inventories and policies.

use super::*;
use crate::{LiveRefs, Retain, Span};
use chrono::{Duration, TimeZone};
use proptest::prelude::*;
use std::collections::BTreeMap;

pub(super) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

pub(super) fn dep(id: &str, days_ago: i64) -> Deployment {
    let d = t0() - Duration::days(days_ago);
    Deployment {
        id: DeploymentId::new(id).unwrap(),
        objects: 10,
        bytes: 1000,
        newest: d,
        oldest: d - Duration::hours(1),
        meta: None,
    }
}

pub(super) fn inv(ds: Vec<Deployment>) -> Inventory {
    Inventory {
        deployments: ds,
        ..Inventory::default()
    }
}

fn policy(retain: u64) -> Policy {
    Policy::new(Retain::new(retain).unwrap())
}

pub(super) fn reasons(p: &Plan) -> Vec<(String, String)> {
    p.entries
        .iter()
        .map(|e| (e.id.to_string(), e.reason_text()))
        .collect()
}

pub(super) fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Every entry of `p`, in order, as `(id, reason text)`: exactly `want`.
#[track_caller]
fn assert_reasons(p: &Plan, want: &[(&str, &str)]) {
    assert_eq!(reasons(p), pairs(want));
}

#[test]
fn the_original_example_retain_one() {
    // Three deployments uploaded seconds apart; retain 1 keeps only the newest.
    let base = t0();
    let mk = |id: &str, s: i64| Deployment {
        id: DeploymentId::new(id).unwrap(),
        objects: 2,
        bytes: 20,
        newest: base - Duration::seconds(s),
        oldest: base - Duration::seconds(s),
        meta: None,
    };
    let i = inv(vec![
        mk("deployhash112", 20),
        mk("dsfsfsl9074", 10),
        mk("delkjlkploy3", 0),
    ]);
    let p = plan(&i, &policy(1), base);
    assert_reasons(
        &p,
        &[
            ("delkjlkploy3", "keep: newest 1 of 1"),
            ("dsfsfsl9074", "delete: rank 2 > 1"),
            ("deployhash112", "delete: rank 3 > 1"),
        ],
    );
    assert_eq!(
        p.summary.delete,
        Totals {
            deployments: 2,
            objects: 4,
            bytes: 40
        }
    );
    assert_eq!(
        p.summary.keep,
        Totals {
            deployments: 1,
            objects: 2,
            bytes: 20
        }
    );
}

#[test]
fn every_reason_string() {
    let mut pol = policy(2);
    pol.keep_within = Some(Span::from_days(30));
    pol.pins = vec![DeploymentId::new("pinned").unwrap()];
    pol.excludes = vec!["staging-*".parse().unwrap()];
    let i = inv(vec![
        dep("a", 1),
        dep("b", 2),
        dep("c", 12),
        dep("d", 42),
        dep("pinned", 100),
        dep("staging-1", 200),
    ]);
    let p = plan(&i, &pol, t0());
    assert_reasons(
        &p,
        &[
            ("a", "keep: newest 1 of 2"),
            ("b", "keep: newest 2 of 2"),
            ("c", "keep: 12 d old, younger than 30 d"),
            ("d", "delete: rank 4 > 2 and 42 d > 30 d"),
            ("pinned", "keep: pinned"),
            ("staging-1", "keep: excluded by 'staging-*'"),
        ],
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn min_age_is_strict_and_shows_a_decimal_at_the_edge() {
    let mut pol = policy(1);
    pol.keep_within = Some(Span::from_days(30));
    let mut exactly = dep("exactly", 30);
    exactly.newest = t0() - Duration::days(30);
    let mut over = dep("over", 30);
    over.newest = t0() - Duration::days(30) - Duration::hours(3);
    let p = plan(&inv(vec![dep("new", 0), exactly, over]), &pol, t0());
    assert_reasons(
        &p,
        &[
            ("new", "keep: newest 1 of 1"),
            ("exactly", "keep: 30 d old, not older than 30 d"),
            ("over", "delete: rank 3 > 1 and 30.1 d > 30 d"),
        ],
    );
}

#[test]
fn keep_within_in_seconds() {
    let mut pol = policy(1);
    pol.keep_within = Some("90s".parse().unwrap());
    let mk = |id: &str, s: i64| Deployment {
        newest: t0() - Duration::seconds(s),
        ..dep(id, 0)
    };
    let p = plan(
        &inv(vec![mk("a", 0), mk("b", 45), mk("c", 200)]),
        &pol,
        t0(),
    );
    assert_reasons(
        &p,
        &[
            ("a", "keep: newest 1 of 1"),
            ("b", "keep: 45 s old, younger than 90 s"),
            ("c", "delete: rank 3 > 1 and 200 s > 90 s"),
        ],
    );
}

#[test]
fn ties_are_broken_by_id_and_reported() {
    let i = inv(vec![dep("zeta", 5), dep("alpha", 5), dep("new", 1)]);
    let p = plan(&i, &policy(2), t0());
    assert_reasons(
        &p,
        &[
            ("new", "keep: newest 1 of 2"),
            ("alpha", "keep: newest 2 of 2"),
            ("zeta", "delete: rank 3 > 2"),
        ],
    );
    assert_eq!(
        p.warnings,
        vec![Warning::TieBroken {
            ids: vec![
                DeploymentId::new("alpha").unwrap(),
                DeploymentId::new("zeta").unwrap()
            ]
        }]
    );
    assert_eq!(
        p.warnings[0].to_string(),
        "same date for alpha, zeta: ordered by id"
    );
}

#[test]
fn date_sources() {
    let mut a = dep("a", 1);
    a.oldest = t0() - Duration::days(50);
    let b = dep("b", 10);
    // Oldest: a's oldest object makes it the older one.
    let mut pol = policy(1);
    pol.date_source = DateSource::Oldest;
    let p = plan(&inv(vec![a.clone(), b.clone()]), &pol, t0());
    assert_eq!(p.entries[0].id.as_str(), "b");
    assert_eq!(p.entries[0].date_origin, DateOrigin::Oldest);

    // meta: the recorded deploy time wins; absent or garbage falls back with a warning.
    pol.date_source = DateSource::Meta("deployed-at".into());
    pol.meta_fallback = Some(crate::MetaFallback::Newest);
    let mut m1 = dep("m1", 0);
    m1.meta = Some("2026-01-01T00:00:00Z".into());
    let mut m2 = dep("m2", 0);
    m2.meta = Some("last tuesday".into());
    let m3 = dep("m3", 3);
    let p = plan(&inv(vec![m1, m2, m3]), &pol, t0());
    let got: Vec<_> = p
        .entries
        .iter()
        .map(|e| (e.id.as_str(), e.date_origin))
        .collect();
    assert_eq!(
        got,
        vec![
            ("m2", DateOrigin::MetaFallback),
            ("m3", DateOrigin::MetaFallback),
            ("m1", DateOrigin::Meta)
        ]
    );
    assert_eq!(
        p.entries[2].date,
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    );
    let texts: Vec<String> = p.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        texts,
        vec![
            "m2: metadata 'deployed-at' 'last tuesday' is not an RFC 3339 date; dated by its newest object instead",
            "m3: metadata 'deployed-at' is absent; dated by its newest object instead",
        ]
    );
}

#[test]
fn warnings_for_unused_pins_excludes_and_versioning() {
    let mut pol = policy(1);
    pol.pins = vec![DeploymentId::new("ghost").unwrap()];
    pol.excludes = vec!["nope-*".parse().unwrap()];
    let mut i = inv(vec![dep("a", 1)]);
    i.versioning = Versioning::Enabled;
    let p = plan(&i, &pol, t0());
    let texts: Vec<String> = p.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(texts[0], "pin 'ghost' matches no deployment");
    assert_eq!(texts[1], "exclude 'nope-*' matches no deployment");
    assert!(texts[2].starts_with("bucket versioning is enabled: deleting only adds delete markers"));
    pol.purge_versions = true;
    let p = plan(&i, &pol, t0());
    assert!(matches!(
        p.warnings.last(),
        Some(Warning::VersionedPurge { .. })
    ));
}

#[test]
fn a_stored_pin_that_names_no_deployment_is_warned_about_like_a_given_one() {
    // Before: `s3-prune pin BUCKET relase-41` (a typo) was stored, and no plan ever said that
    // it protected nothing — while release-41 itself went.
    let stored = |id: &str| crate::Pin {
        id: DeploymentId::new(id).unwrap(),
        reason: String::new(),
        by: String::new(),
        at: None,
    };
    let mut i = inv(vec![dep("a", 1), dep("b", 2)]);
    i.pins = vec![stored("b"), stored("relase-41")];
    let mut pol = policy(1);
    pol.pins = vec![DeploymentId::new("relase-41").unwrap()];
    let p = plan(&i, &pol, t0());
    let texts: Vec<String> = p.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        texts,
        ["pin 'relase-41' matches no deployment"],
        "once, not twice"
    );
    pol.pins.clear();
    let p = plan(&i, &pol, t0());
    let texts: Vec<String> = p.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(texts, ["pin 'relase-41' matches no deployment"]);
}

#[test]
fn a_server_that_does_not_report_versioning_is_warned_about_and_treated_as_unversioned() {
    let mut i = inv(vec![dep("a", 1), dep("b", 2)]);
    i.versioning = Versioning::Unknown;
    let mut pol = policy(1);
    pol.purge_versions = true;
    let p = plan(&i, &pol, t0());
    assert_eq!(p.warnings, vec![Warning::VersioningUnknown]);
    assert!(p.warnings[0]
        .to_string()
        .starts_with("the server does not report bucket versioning"));
    assert!(!Versioning::Unknown.keeps_versions());
}

#[test]
fn live_and_stored_pins_are_kept_with_their_reason() {
    let mut i = inv(vec![
        dep("a", 1),
        dep("b", 2),
        dep("live", 30),
        dep("kept-for-audit", 40),
        dep("old", 50),
    ]);
    i.live = Some(DeploymentId::new("live").unwrap());
    i.pins = vec![crate::Pin {
        id: DeploymentId::new("kept-for-audit").unwrap(),
        reason: "SOC2 evidence".into(),
        by: "alice".into(),
        at: None,
    }];
    let p = plan(&i, &policy(1), t0());
    assert_reasons(
        &p,
        &[
            ("a", "keep: newest 1 of 1"),
            ("b", "delete: rank 2 > 1"),
            ("live", "keep: live"),
            ("kept-for-audit", "keep: pinned (SOC2 evidence)"),
            ("old", "delete: rank 4 > 1"),
        ],
    );
    assert!(p.check_apply().is_ok());
}

#[test]
fn a_live_pointer_to_nothing_blocks_apply() {
    let mut i = inv(vec![dep("a", 1), dep("b", 2)]);
    i.live = Some(DeploymentId::new("gone").unwrap());
    let p = plan(&i, &policy(1), t0());
    assert_eq!(
        p.blocked,
        vec![Block::LiveMissing {
            id: DeploymentId::new("gone").unwrap()
        }]
    );
    assert!(p.check_apply().is_err());
    assert!(p.blocked[0].to_string().contains("nothing will be deleted"));
}

#[test]
fn an_inventory_report_older_than_two_days_is_warned_about() {
    let mut i = inv(vec![dep("a", 1), dep("b", 2)]);
    i.report_date = Some(t0() - Duration::hours(48));
    assert!(
        plan(&i, &policy(1), t0()).warnings.is_empty(),
        "48 h is still fresh"
    );
    i.report_date = Some(t0() - Duration::hours(49));
    let w = plan(&i, &policy(1), t0()).warnings;
    assert_eq!(
        w,
        vec![Warning::OldInventory {
            report_date: t0() - Duration::hours(49),
            age_hours: 49
        }]
    );
    assert!(w[0].to_string().contains("49 h ago"));
}

#[test]
fn what_the_site_references_is_live_and_a_page_naming_nothing_here_blocks() {
    let mut i = inv(vec![dep("a", 1), dep("b", 2), dep("c", 3), dep("d", 4)]);
    let id = |s: &str| DeploymentId::new(s).unwrap();
    i.live_from = Some(LiveRefs {
        key: "index.html".into(),
        ids: vec![id("c"), id("elsewhere")],
    });
    let p = plan(&i, &policy(1), t0());
    assert_reasons(
        &p,
        &[
            ("a", "keep: newest 1 of 1"),
            ("b", "delete: rank 2 > 1"),
            ("c", "keep: live (referenced by index.html)"),
            ("d", "delete: rank 4 > 1"),
        ],
    );
    assert!(p.blocked.is_empty(), "one reference exists: enough");
    i.live_from = Some(LiveRefs {
        key: "index.html".into(),
        ids: vec![id("elsewhere")],
    });
    let p = plan(&i, &policy(1), t0());
    assert_eq!(
        p.blocked,
        vec![Block::LiveFromNothing {
            key: "index.html".into()
        }]
    );
    assert!(p.check_apply().is_err());
}

#[test]
fn max_delete_blocks_a_plan_that_deletes_more() {
    let i = inv(vec![dep("a", 1), dep("b", 2), dep("c", 3), dep("d", 4)]);
    let mut pol = policy(1);
    pol.max_delete = Some(3);
    assert!(plan(&i, &pol, t0()).check_apply().is_ok());
    pol.max_delete = Some(2);
    let p = plan(&i, &pol, t0());
    assert_eq!(p.blocked, vec![Block::TooMany { count: 3, max: 2 }]);
    assert_eq!(
        p.blocked[0].to_string(),
        "the plan deletes 3 deployments, more than --max-delete 2: nothing will be deleted. Raise --max-delete if this is intended."
    );
    // the verdicts still show what would go
    assert_eq!(p.summary.delete.deployments, 3);
}

#[test]
fn fingerprints_change_with_the_deletion_set_not_the_clock() {
    let i = inv(vec![dep("a", 1), dep("b", 2), dep("c", 3)]);
    let f1 = plan(&i, &policy(1), t0()).fingerprint();
    assert_eq!(
        f1,
        plan(&i, &policy(1), t0() + Duration::hours(1)).fingerprint()
    );
    assert_ne!(f1, plan(&i, &policy(2), t0()).fingerprint());
    assert_eq!(f1.len(), 16);
}

/// The same set purged for good or deleted restorably is not one plan: an approval of the
/// one does not run the other (before, both had one fingerprint; review).
#[test]
fn fingerprints_tell_a_purge_and_the_bucket_s_versioning_apart() {
    let mut i = inv(vec![dep("a", 1), dep("b", 2), dep("c", 3)]);
    i.versioning = crate::Versioning::Enabled;
    let marked = plan(&i, &policy(1), t0()).fingerprint();
    let mut purging = policy(1);
    purging.purge_versions = true;
    assert_ne!(marked, plan(&i, &purging, t0()).fingerprint());
    i.versioning = crate::Versioning::Suspended;
    assert_ne!(marked, plan(&i, &policy(1), t0()).fingerprint());
}

#[test]
fn empty_inventory_plans_nothing() {
    let p = plan(&Inventory::default(), &policy(3), t0());
    assert!(p.entries.is_empty());
    assert_eq!(p.summary, Summary::default());
}

#[test]
fn future_dates_are_kept_and_take_no_rank() {
    // Before issue 28 they were ranked: "future" took the one place and pushed the newest
    // real deployment out. A date days ahead is a wrong clock; it is kept until believable.
    let mut pol = policy(1);
    pol.keep_within = Some(Span::from_days(1));
    let p = plan(
        &inv(vec![dep("soon", -1), dep("future", -3), dep("real", 2)]),
        &pol,
        t0(),
    );
    assert_reasons(
        &p,
        &[
            ("future", "keep: dated in the future"),
            ("soon", "keep: dated in the future"),
            ("real", "keep: newest 1 of 1"),
        ],
    );
}

#[test]
fn undated_and_far_future_deployments_are_reported_as_unranked() {
    let mut pol = policy(1);
    pol.date_source = DateSource::Meta("deployed-at".into());
    let dated = |id: &str, at: DateTime<Utc>| {
        let mut d = dep(id, 0);
        d.meta = Some(at.to_rfc3339());
        d
    };
    let p = plan(
        &inv(vec![
            dep("undated", 5),
            dated("skewed", t0() + Duration::hours(1)),
            dated("far", t0() + Duration::days(300)),
            dated("old", t0() - Duration::days(40)),
            dated("new", t0() - Duration::days(1)),
        ]),
        &pol,
        t0(),
    );
    let unranked: Vec<&str> = p.unranked().iter().map(|e| e.id.as_str()).collect();
    // A clock an hour ahead is skew, not a job that stopped; a year ahead is.
    assert_eq!(unranked, vec!["far", "undated"]);
    assert_eq!(deleted(&p).len(), 1, "old still goes: {:?}", reasons(&p));
}

#[test]
fn plan_round_trips_through_json() {
    let mut pol = policy(1);
    pol.keep_within = Some(Span::from_days(2));
    let p = plan(&inv(vec![dep("a", 0), dep("b", 5)]), &pol, t0());
    let back: Plan = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
    assert_eq!(back, p);
}

// ---- properties -------------------------------------------------------------------------
//
// The generators below describe each deployment by plain numbers (`Gen`): how old its objects
// are, what the bucket remembers of it, its `meta:` value, whether it is pinned or was live.
// `Reference` works out from those numbers alone (never from a plan) what the documented rules
// say: each deployment's date, which ones a guard keeps, the ranked ones newest first, and
// which of them go. The properties hold a plan to that reference in both directions.

const HALF_DAY: i64 = 12 * 3600;

/// How far ahead of now a date is still believed (`FUTURE_SLACK_SECS`, the README's "more than
/// 5 minutes in the future"), written out again so that a change to it is noticed.
const SLACK_SECS: i64 = 5 * 60;

/// An age at `t0` in seconds, negative for a date in the future: mostly whole half-days back,
/// some ahead, and now and then nudged onto either side of an edge (the future slack, a
/// minimum age of whole days).
fn arb_age() -> impl Strategy<Value = i64> {
    (
        prop_oneof![10 => 0i64..90, 2 => Just(0i64), 2 => -10i64..0],
        prop::sample::select(vec![
            0i64, 0, 0, 0, 0, 0, 1, -1, 299, 300, 301, -299, -300, -301,
        ]),
    )
        .prop_map(|(half_days, nudge)| half_days * HALF_DAY + nudge)
}

/// A deployment's `meta:` value.
#[derive(Debug, Clone)]
enum Meta {
    /// A readable date `age` seconds before `t0`, written in one of a few RFC 3339 styles.
    Date { age: i64, style: u8 },
    /// A value that is not a deploy date: not RFC 3339, or before S3 existed.
    Unreadable(&'static str),
}

impl Meta {
    fn raw(&self) -> String {
        use chrono::{FixedOffset, SecondsFormat};
        match self {
            Meta::Date { age, style } => {
                let t = t0() - Duration::seconds(*age);
                match style {
                    0 => t.to_rfc3339(),
                    1 => t.to_rfc3339_opts(SecondsFormat::Secs, true),
                    2 => t
                        .with_timezone(&FixedOffset::east_opt(2 * 3600).unwrap())
                        .to_rfc3339(),
                    _ => format!(" {}\n", t.to_rfc3339_opts(SecondsFormat::Millis, true)),
                }
            }
            Meta::Unreadable(raw) => raw.to_string(),
        }
    }
}

fn arb_meta() -> impl Strategy<Value = Meta> {
    prop_oneof![
        3 => (arb_age(), 0u8..4).prop_map(|(age, style)| Meta::Date { age, style }),
        1 => prop::sample::select(vec![
            "not a date",
            "",
            "2026-13-01T00:00:00Z",
            "2026-11-20",
            "1764158400",
            "0001-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
        ])
        .prop_map(Meta::Unreadable),
    ]
}

/// One generated deployment: its dates and size, and how the bucket's state names it.
#[derive(Debug, Clone)]
struct Gen {
    /// Age of its newest object at `t0`, in seconds (negative: in the future).
    age: i64,
    /// Days between its newest and oldest object.
    spread: i64,
    objects: u64,
    bytes: u64,
    /// Pinned in the bucket's pins file.
    pinned: bool,
    /// Was live until these many hours before `t0` (negative: after it).
    was_live: Vec<i64>,
    /// First seen with these dates: the newest object's age in seconds, and the spread in days.
    remembered: Option<(i64, i64)>,
    /// Its `meta:` value, when it has one.
    meta: Option<Meta>,
}

impl Gen {
    fn newest(&self) -> DateTime<Utc> {
        t0() - Duration::seconds(self.age)
    }
    fn oldest(&self) -> DateTime<Utc> {
        self.newest() - Duration::days(self.spread)
    }
}

fn arb_gen() -> impl Strategy<Value = Gen> {
    (
        (arb_age(), 0i64..5, 0u64..50, 0u64..5000),
        prop::bool::weighted(0.1),
        prop::option::weighted(
            0.15,
            prop::collection::vec(
                prop_oneof![3 => 0i64..400, 1 => Just(24i64), 1 => -48i64..0],
                1..3,
            ),
        ),
        prop::option::weighted(0.15, (arb_age(), 0i64..5)),
        prop::option::weighted(0.6, arb_meta()),
    )
        .prop_map(
            |((age, spread, objects, bytes), pinned, was_live, remembered, meta)| Gen {
                age,
                spread,
                objects,
                bytes,
                pinned,
                was_live: was_live.unwrap_or_default(),
                remembered,
                meta,
            },
        )
}

/// How the live pointer or the live page names a deployment: one of the bucket's (when it
/// has any), or one it does not have.
#[derive(Debug, Clone)]
enum Named {
    Existing(prop::sample::Index),
    Missing(String),
}

fn arb_named() -> impl Strategy<Value = Named> {
    prop_oneof![
        6 => any::<prop::sample::Index>().prop_map(Named::Existing),
        1 => "[f-h]{1,3}".prop_map(Named::Missing),
    ]
}

/// A generated scan: the deployments by id, the live pointer and the live page.
#[derive(Debug, Clone)]
struct Case {
    gens: BTreeMap<String, Gen>,
    live: Option<Named>,
    live_from: Option<Vec<Named>>,
}

impl Case {
    fn name(&self, n: &Named) -> Option<DeploymentId> {
        let id = match n {
            Named::Existing(_) if self.gens.is_empty() => return None,
            Named::Existing(x) => x.get(&self.gens.keys().collect::<Vec<_>>()).to_string(),
            Named::Missing(id) => id.clone(),
        };
        Some(DeploymentId::new(id).unwrap())
    }

    fn live(&self) -> Option<DeploymentId> {
        self.live.as_ref().and_then(|n| self.name(n))
    }

    fn live_from(&self) -> Option<Vec<DeploymentId>> {
        let refs = self.live_from.as_ref()?;
        Some(refs.iter().filter_map(|n| self.name(n)).collect())
    }

    fn inventory(&self) -> Inventory {
        let mut i = Inventory::default();
        for (id, g) in &self.gens {
            let id = DeploymentId::new(id.clone()).unwrap();
            i.deployments.push(Deployment {
                id: id.clone(),
                objects: g.objects,
                bytes: g.bytes,
                newest: g.newest(),
                oldest: g.oldest(),
                meta: g.meta.as_ref().map(Meta::raw),
            });
            if g.pinned {
                i.pins.push(crate::Pin {
                    id: id.clone(),
                    reason: "generated".into(),
                    by: String::new(),
                    at: None,
                });
            }
            for hours in &g.was_live {
                i.was_live.push(crate::WasLive {
                    id: id.clone(),
                    until: t0() - Duration::hours(*hours),
                });
            }
            if let Some((age, spread)) = g.remembered {
                let newest = t0() - Duration::seconds(age);
                let oldest = newest - Duration::days(spread);
                i.remembered.push(crate::Remembered { id, newest, oldest });
            }
        }
        i.live = self.live();
        i.live_from = self.live_from().map(|ids| LiveRefs {
            key: "index.html".into(),
            ids,
        });
        i
    }
}

fn arb_case() -> impl Strategy<Value = Case> {
    (
        prop::collection::btree_map("[a-e]{1,3}", arb_gen(), 0..25),
        prop::option::weighted(0.7, arb_named()),
        prop::option::weighted(0.1, prop::collection::vec(arb_named(), 0..3)),
    )
        .prop_map(|(gens, live, live_from)| Case {
            gens,
            live,
            live_from,
        })
}

/// Inventories with everything a scan can carry: bucket pins, the live deployment (now and
/// then one the bucket does not have), a live page, deployments live before (some within the
/// grace), remembered first-seen dates and `meta:` values (some unreadable), dates in the
/// future. Small id alphabet and coarse dates: ties and pin/exclude hits are common.
pub(super) fn arb_inventory() -> impl Strategy<Value = Inventory> {
    arb_case().prop_map(|c| c.inventory())
}

/// The exclude patterns the policies are made with.
const EXCLUDES: [&str; 5] = ["a*", "*e", "b?", "[cd]*", "zz"];

/// Whether `EXCLUDES`' `pattern` matches `id`, said without the glob matcher.
fn excluded_by(pattern: &str, id: &str) -> bool {
    match pattern {
        "a*" => id.starts_with('a'),
        "*e" => id.ends_with('e'),
        "b?" => id.chars().count() == 2 && id.starts_with('b'),
        "[cd]*" => id.starts_with(['c', 'd']),
        "zz" => id == "zz",
        other => panic!("no reference for the exclude '{other}'"),
    }
}

pub(super) fn arb_policy() -> impl Strategy<Value = Policy> {
    (
        prop_oneof![8 => 1u64..8, 1 => Just(30u64), 1 => Just(u64::MAX)],
        prop_oneof![
            3 => Just(None),
            1 => Just(Some(Span::from_secs(0))),
            4 => (0u64..25).prop_map(|d| Some(Span::from_days(d))),
            1 => (0u64..4_000_000).prop_map(|s| Some(Span::from_secs(s))),
            // Longer than every generated age.
            1 => prop::sample::select(vec![Span::from_days(10_000), Span::from_days(u64::MAX)])
                .prop_map(Some),
        ],
        prop::collection::vec("[a-e]{1,3}", 0..3),
        prop::collection::vec(prop::sample::select(EXCLUDES.to_vec()), 0..2),
        0u8..3,
        prop::option::of(prop::bool::ANY),
        prop::sample::select(vec![0u64, 3600, 86_400, 86_400, 7 * 86_400]),
    )
        .prop_map(
            |(retain, keep_within, pins, excludes, source, fallback, grace)| Policy {
                retain: Retain::new(retain).unwrap(),
                keep_within,
                pins: pins
                    .into_iter()
                    .map(|p| DeploymentId::new(p).unwrap())
                    .collect(),
                excludes: excludes.into_iter().map(|g| g.parse().unwrap()).collect(),
                date_source: match source {
                    0 => DateSource::Newest,
                    1 => DateSource::Oldest,
                    _ => DateSource::Meta("built".into()),
                },
                purge_versions: false,
                max_delete: None,
                meta_fallback: fallback.map(|oldest| {
                    if oldest {
                        crate::MetaFallback::Oldest
                    } else {
                        crate::MetaFallback::Newest
                    }
                }),
                live_grace: Span::from_secs(grace),
                rules: None,
            },
        )
}

/// A scan and a policy whose `--pin`s often name its deployments, and whose minimum age is
/// now and then exactly the age of one of the ranked deployments, or a second less (the edge
/// of "older than").
fn arb_planned() -> impl Strategy<Value = (Case, Policy)> {
    (
        arb_case(),
        arb_policy(),
        prop::collection::vec(any::<prop::sample::Index>(), 0..3),
        prop::option::weighted(0.25, (any::<prop::sample::Index>(), any::<bool>())),
    )
        .prop_map(|(c, mut pol, picks, edge)| {
            let ids: Vec<&String> = c.gens.keys().collect();
            if !ids.is_empty() {
                for x in picks {
                    pol.pins
                        .push(DeploymentId::new(x.get(&ids).as_str()).unwrap());
                }
            }
            // The ages the rules compare (the reference's dates), past the newest `retain`
            // when there are such.
            let r = Reference::new(&c, &pol);
            let past: Vec<i64> = r
                .ranks()
                .filter(|(rank, _)| *rank > r.retain)
                .map(|(_, s)| Reference::age(s))
                .filter(|age| *age > 0)
                .collect();
            let ages = match past.is_empty() {
                false => past,
                true => r
                    .ranked
                    .iter()
                    .map(Reference::age)
                    .filter(|a| *a > 0)
                    .collect(),
            };
            if let (Some((x, less)), false) = (edge, ages.is_empty()) {
                let age = *x.get(&ages) as u64;
                pol.keep_within = Some(Span::from_secs(age - u64::from(less)));
            }
            (c, pol)
        })
}

/// What the documented rules give one deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Excluded,
    Pinned,
    DateUnknown,
    FutureDate,
    /// Ranked (at `rank`): the live one.
    Live(u64),
    /// Ranked: would go, but was live less than the live grace ago.
    WasLive(u64),
    Newest(u64),
    TooYoung(u64),
    Expired(u64),
}

impl Want {
    /// The reason's kind (and rank) of a plan's entry, to compare with the reference's.
    fn of(r: &Reason) -> Want {
        match r {
            Reason::Excluded { .. } => Want::Excluded,
            Reason::Pinned { .. } => Want::Pinned,
            Reason::DateUnknown { .. } => Want::DateUnknown,
            Reason::FutureDate => Want::FutureDate,
            Reason::Live { rank, .. } => Want::Live(*rank),
            Reason::WasLive { rank, .. } => Want::WasLive(*rank),
            Reason::Newest { rank, .. } => Want::Newest(*rank),
            Reason::TooYoung { rank, .. } => Want::TooYoung(*rank),
            Reason::Expired { rank, .. } => Want::Expired(*rank),
            Reason::NoRule => panic!("no rules in these policies"),
        }
    }
}

/// One deployment as the reference sees it.
#[derive(Debug, Clone)]
struct Seen {
    id: DeploymentId,
    /// Its date: remembered first (LastModified sources), then the date source; `None`: a
    /// `meta:` value that cannot be read and no fallback.
    date: Option<(DateTime<Utc>, DateOrigin)>,
    /// Kept whatever its rank, and not ranked: excluded, pinned (either way), date unknown or
    /// more than the slack in the future.
    guard: Option<Want>,
    /// Named by the live pointer or the live page.
    live: bool,
    /// Live until less than the live grace ago.
    graced: bool,
}

/// What the rules say about a generated scan under a policy (without rules), from the
/// generator's numbers and the policy's fields alone.
#[derive(Debug)]
struct Reference {
    /// Every deployment in the plan's order: by date newest first, equal dates by id (an
    /// undated one at its newest object's date).
    order: Vec<Seen>,
    /// The ones no guard keeps, newest first: rank `k + 1` is `ranked[k]`. The live and the
    /// recently live take their rank like the others (`Reason::Live`, `Reason::WasLive`), so
    /// they count among the newest `retain`; pinned, excluded, undated and future ones do not.
    ranked: Vec<Seen>,
    retain: u64,
    /// The minimum age, in seconds.
    keep_within: Option<u64>,
    /// The live pointer or the live page names no deployment of the bucket.
    blocked: bool,
}

impl Reference {
    fn new(c: &Case, pol: &Policy) -> Self {
        let grace = pol.live_grace.as_secs() as i64;
        let live = c.live();
        let live_from = c.live_from();
        let mut order: Vec<Seen> = c
            .gens
            .iter()
            .map(|(name, g)| {
                let id = DeploymentId::new(name.as_str()).unwrap();
                let remembered = g.remembered.map(|(age, spread)| {
                    let newest = t0() - Duration::seconds(age);
                    (newest, newest - Duration::days(spread))
                });
                let date = match (&pol.date_source, remembered) {
                    (DateSource::Newest, Some((newest, _))) => {
                        Some((newest, DateOrigin::Remembered))
                    }
                    (DateSource::Oldest, Some((_, oldest))) => {
                        Some((oldest, DateOrigin::Remembered))
                    }
                    (DateSource::Newest, None) => Some((g.newest(), DateOrigin::Newest)),
                    (DateSource::Oldest, None) => Some((g.oldest(), DateOrigin::Oldest)),
                    // A `meta:` date travels with a copy: nothing remembered is used for it;
                    // the fallback to the objects' dates takes the first-seen ones.
                    (DateSource::Meta(_), first) => match (&g.meta, pol.meta_fallback) {
                        (Some(Meta::Date { age, .. }), _) => {
                            Some((t0() - Duration::seconds(*age), DateOrigin::Meta))
                        }
                        (_, Some(crate::MetaFallback::Newest)) => Some((
                            first.map_or(g.newest(), |(n, _)| n),
                            DateOrigin::MetaFallback,
                        )),
                        (_, Some(crate::MetaFallback::Oldest)) => Some((
                            first.map_or(g.oldest(), |(_, o)| o),
                            DateOrigin::MetaFallback,
                        )),
                        (_, None) => None,
                    },
                };
                let guard = if pol.excludes.iter().any(|x| excluded_by(x.as_str(), name)) {
                    Some(Want::Excluded)
                } else if g.pinned || pol.pins.contains(&id) {
                    Some(Want::Pinned)
                } else {
                    match date {
                        None => Some(Want::DateUnknown),
                        Some((d, _)) if (d - t0()).num_seconds() > SLACK_SECS => {
                            Some(Want::FutureDate)
                        }
                        Some(_) => None,
                    }
                };
                Seen {
                    live: live.as_ref() == Some(&id)
                        || live_from.as_ref().is_some_and(|ids| ids.contains(&id)),
                    graced: grace > 0 && g.was_live.iter().any(|h| h * 3600 < grace),
                    id,
                    date,
                    guard,
                }
            })
            .collect();
        let shown = |s: &Seen| s.date.map_or(c.gens[s.id.as_str()].newest(), |(d, _)| d);
        order.sort_by(|a, b| shown(b).cmp(&shown(a)).then_with(|| a.id.cmp(&b.id)));
        let ranked = order
            .iter()
            .filter(|s| s.guard.is_none())
            .cloned()
            .collect();
        let present = |id: &DeploymentId| c.gens.contains_key(id.as_str());
        Reference {
            order,
            ranked,
            retain: pol.retain.get(),
            keep_within: pol.keep_within.map(|w| w.as_secs()),
            blocked: live.as_ref().is_some_and(|id| !present(id))
                || live_from.is_some_and(|ids| !ids.iter().any(present)),
        }
    }

    /// Its age at `t0` by the reference date, in seconds.
    fn age(s: &Seen) -> i64 {
        (t0() - s.date.expect("a ranked deployment has a date").0).num_seconds()
    }

    /// Older than the minimum age (strictly), or no minimum age.
    fn old_enough(&self, s: &Seen) -> bool {
        self.keep_within
            .is_none_or(|w| i128::from(Self::age(s)) > i128::from(w))
    }

    /// The ranked deployments with their rank (1 = newest).
    fn ranks(&self) -> impl Iterator<Item = (u64, &Seen)> {
        (1u64..).zip(&self.ranked)
    }

    /// Kept by a rule whatever its rank: a guard, live, or within the live grace.
    fn protected(s: &Seen) -> bool {
        s.guard.is_some() || s.live || s.graced
    }

    /// The ids the rules delete: ranked beyond `retain`, older than the minimum age, neither
    /// live nor within the live grace.
    fn deleted(&self) -> BTreeSet<DeploymentId> {
        self.ranks()
            .filter(|(rank, s)| *rank > self.retain && self.old_enough(s) && !Self::protected(s))
            .map(|(_, s)| s.id.clone())
            .collect()
    }

    /// Every deployment's verdict.
    fn wants(&self) -> BTreeMap<DeploymentId, Want> {
        let mut w: BTreeMap<DeploymentId, Want> = self
            .order
            .iter()
            .filter_map(|s| s.guard.map(|g| (s.id.clone(), g)))
            .collect();
        for (rank, s) in self.ranks() {
            let want = if s.live {
                Want::Live(rank)
            } else if rank <= self.retain {
                Want::Newest(rank)
            } else if !self.old_enough(s) {
                Want::TooYoung(rank)
            } else if s.graced {
                Want::WasLive(rank)
            } else {
                Want::Expired(rank)
            };
            w.insert(s.id.clone(), want);
        }
        w
    }
}

fn deleted(p: &Plan) -> BTreeSet<DeploymentId> {
    p.to_delete().map(|e| e.id.clone()).collect()
}

fn entry<'p>(p: &'p Plan, id: &DeploymentId) -> &'p Entry {
    p.entries
        .iter()
        .find(|e| &e.id == id)
        .expect("every deployment has an entry")
}

proptest! {
    #[test]
    fn every_plan_lists_its_entries_in_the_dated_order_alone(i in arb_inventory(), pol in arb_policy()) {
        // Not a ranking test (both sides are the plan's own step 1): the dashboard's rows come
        // from `Ordered::dated`, its verdicts from `plan`, and they must be one order.
        let p = plan(&i, &pol, t0());
        let ordered = Ordered::new(std::sync::Arc::new(i.clone()), &pol.date_source, pol.meta_fallback);
        let dated: Vec<_> = ordered.dated().collect();
        let from_plan: Vec<_> = p.entries.iter().map(|e| (e.id.clone(), e.date, e.date_origin)).collect();
        let alone: Vec<_> = dated.iter().map(|x| (x.d.id.clone(), x.date, x.origin)).collect();
        prop_assert_eq!(from_plan, alone);
    }

    #[test]
    fn every_deployment_is_dated_and_ordered_as_the_rules_say((c, pol) in arb_planned()) {
        // Remembered before the listing, `meta:` with its fallback or unknown, and the order by
        // that date (equal dates by id): worked out from the generated numbers.
        let p = plan(&c.inventory(), &pol, t0());
        let r = Reference::new(&c, &pol);
        let got: Vec<_> = p.entries.iter().map(|e| (e.id.clone(), e.date, e.date_origin, e.age_secs)).collect();
        let want: Vec<_> = r.order.iter().map(|s| {
            let (date, origin) = s.date.unwrap_or((c.gens[s.id.as_str()].newest(), DateOrigin::Unknown));
            (s.id.clone(), date, origin, (t0() - date).num_seconds())
        }).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn the_newest_retain_ranked_deployments_are_kept((c, pol) in arb_planned()) {
        let p = plan(&c.inventory(), &pol, t0());
        let r = Reference::new(&c, &pol);
        for (rank, s) in r.ranks().take_while(|(rank, _)| *rank <= r.retain) {
            prop_assert_eq!(entry(&p, &s.id).action, Action::Keep, "{} is ranked {} of {}", s.id, rank, r.retain);
        }
    }

    #[test]
    fn a_deleted_deployment_is_ranked_beyond_retain_and_older_than_the_minimum_age((c, pol) in arb_planned()) {
        let p = plan(&c.inventory(), &pol, t0());
        let r = Reference::new(&c, &pol);
        for e in p.to_delete() {
            let ranked = r.ranks().find(|(_, s)| s.id == e.id);
            prop_assert!(ranked.is_some(), "{} is deleted but no rule ranks it", e.id);
            let (rank, s) = ranked.unwrap();
            prop_assert!(rank > r.retain, "{} is deleted at rank {} of {}", e.id, rank, r.retain);
            prop_assert!(r.old_enough(s), "{} is deleted {} s old, minimum {:?} s", e.id, Reference::age(s), r.keep_within);
        }
    }

    #[test]
    fn pinned_excluded_undated_future_live_and_recently_live_are_kept((c, pol) in arb_planned()) {
        let p = plan(&c.inventory(), &pol, t0());
        let r = Reference::new(&c, &pol);
        for s in r.order.iter().filter(|s| Reference::protected(s)) {
            prop_assert_eq!(entry(&p, &s.id).action, Action::Keep, "{:?}", s);
        }
    }

    #[test]
    fn every_ranked_deployment_beyond_retain_and_older_than_the_minimum_age_is_deleted((c, pol) in arb_planned()) {
        // The other direction: what the rules let go does go (in the verdicts; a blocked plan
        // may not be applied, so nothing is deleted then).
        let p = plan(&c.inventory(), &pol, t0());
        let r = Reference::new(&c, &pol);
        prop_assert_eq!(deleted(&p), r.deleted());
        if r.blocked {
            prop_assert!(p.check_apply().is_err());
        }
    }

    #[test]
    fn every_verdict_and_rank_is_the_rules_one((c, pol) in arb_planned()) {
        let p = plan(&c.inventory(), &pol, t0());
        let r = Reference::new(&c, &pol);
        let got: BTreeMap<DeploymentId, Want> = p.entries.iter().map(|e| (e.id.clone(), Want::of(&e.reason))).collect();
        prop_assert_eq!(got, r.wants());
    }

    #[test]
    fn a_live_pointer_or_page_naming_no_deployment_blocks_the_plan((c, pol) in arb_planned()) {
        let p = plan(&c.inventory(), &pol, t0());
        let r = Reference::new(&c, &pol);
        prop_assert_eq!(!p.blocked.is_empty(), r.blocked, "{:?}", p.blocked);
        prop_assert_eq!(p.check_apply().is_err(), r.blocked);
        if let Some(live) = c.live().filter(|id| !c.gens.contains_key(id.as_str())) {
            let missing = Block::LiveMissing { id: live };
            prop_assert!(p.blocked.contains(&missing), "{:?}", p.blocked);
        }
    }

    #[test]
    fn max_delete_blocks_exactly_when_exceeded(i in arb_inventory(), mut pol in arb_policy(), max in 0u64..10) {
        pol.max_delete = Some(max);
        let p = plan(&i, &pol, t0());
        let too_many = p.blocked.iter().any(|b| matches!(b, Block::TooMany { .. }));
        prop_assert_eq!(too_many, p.summary.delete.deployments > max);
    }

    #[test]
    fn keep_and_delete_partition_all(i in arb_inventory(), pol in arb_policy()) {
        let p = plan(&i, &pol, t0());
        let input: BTreeSet<_> = i.deployments.iter().map(|d| d.id.clone()).collect();
        let out: Vec<_> = p.entries.iter().map(|e| e.id.clone()).collect();
        prop_assert_eq!(out.len(), input.len());
        prop_assert_eq!(out.into_iter().collect::<BTreeSet<_>>(), input);
        let s = p.summary;
        prop_assert_eq!(s.keep.deployments + s.delete.deployments, i.deployments.len() as u64);
        prop_assert_eq!(s.keep.bytes + s.delete.bytes, i.deployments.iter().map(|d| d.bytes).sum::<u64>());
        for e in &p.entries {
            prop_assert_eq!(e.action, e.reason.action());
        }
    }

    #[test]
    fn replanning_what_is_kept_deletes_nothing(i in arb_inventory(), pol in arb_policy()) {
        let p = plan(&i, &pol, t0());
        let gone = deleted(&p);
        let kept = Inventory {
            deployments: i.deployments.iter().filter(|d| !gone.contains(&d.id)).cloned().collect(),
            ..i.clone()
        };
        prop_assert!(deleted(&plan(&kept, &pol, t0())).is_empty());
    }

    #[test]
    fn raising_x_or_d_never_deletes_more(i in arb_inventory(), pol in arb_policy(), dx in 0u64..5, dd in 0u64..10) {
        let base = deleted(&plan(&i, &pol, t0()));
        let mut more = pol.clone();
        more.retain = Retain::new(pol.retain.get().saturating_add(dx)).unwrap();
        prop_assert!(deleted(&plan(&i, &more, t0())).is_subset(&base));
        let mut older = pol.clone();
        older.keep_within = Some(Span::from_secs(pol.keep_within.map_or(0, |w| w.as_secs()).saturating_add(dd * 86_400)));
        prop_assert!(deleted(&plan(&i, &older, t0())).is_subset(&base));
    }

    #[test]
    fn input_order_does_not_matter(i in arb_inventory(), pol in arb_policy(), seed in any::<u64>()) {
        let p = plan(&i, &pol, t0());
        let mut shuffled = i.clone();
        // deterministic shuffle from the seed
        let n = shuffled.deployments.len();
        let mut s = seed | 1;
        for k in (1..n).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.deployments.swap(k, (s % (k as u64 + 1)) as usize);
        }
        prop_assert_eq!(plan(&shuffled, &pol, t0()), p);
    }
}
