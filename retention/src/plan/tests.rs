//! The plan as a whole: the reason of every deployment in small worked examples, blocks and
//! warnings, a JSON round trip, and the guarantees on generated inventories and policies.

use super::*;
use crate::{LiveRefs, Retain, Span};
use chrono::{Duration, TimeZone};
use proptest::prelude::*;

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
            ("exactly", "keep: 30 d old, younger than 30 d"),
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
fn fingerprints_change_with_the_deletion_set_only() {
    let i = inv(vec![dep("a", 1), dep("b", 2), dep("c", 3)]);
    let f1 = plan(&i, &policy(1), t0()).fingerprint();
    assert_eq!(
        f1,
        plan(&i, &policy(1), t0() + Duration::hours(1)).fingerprint()
    );
    assert_ne!(f1, plan(&i, &policy(2), t0()).fingerprint());
    assert_eq!(f1.len(), 16);
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
fn plan_round_trips_through_json() {
    let mut pol = policy(1);
    pol.keep_within = Some(Span::from_days(2));
    let p = plan(&inv(vec![dep("a", 0), dep("b", 5)]), &pol, t0());
    let back: Plan = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
    assert_eq!(back, p);
}

// ---- properties -------------------------------------------------------------------------

/// One generated deployment: its dates and size, and how the bucket's state names it.
#[derive(Debug, Clone)]
struct Gen {
    days: i64,
    spread: i64,
    objects: u64,
    bytes: u64,
    /// Pinned in the bucket's pins file.
    pinned: bool,
    /// Was live until this many hours before `t0`.
    was_live: Option<i64>,
    /// First seen with these dates (days back, spread).
    remembered: Option<(i64, i64)>,
    /// Its `meta:` value: none, a readable date (days back), or one that cannot be read.
    meta: Option<Result<i64, ()>>,
}

fn arb_gen() -> impl Strategy<Value = Gen> {
    (
        (0i64..40, 0i64..5, 0u64..50, 0u64..5000),
        prop::bool::weighted(0.1),
        prop::option::weighted(0.1, 0i64..400),
        prop::option::weighted(0.15, (0i64..40, 0i64..5)),
        prop::option::weighted(0.5, prop::result::maybe_ok(0i64..40, Just(()))),
    )
        .prop_map(
            |((days, spread, objects, bytes), pinned, was_live, remembered, meta)| Gen {
                days,
                spread,
                objects,
                bytes,
                pinned,
                was_live,
                remembered,
                meta,
            },
        )
}

/// Inventories with everything a scan can carry: bucket pins, the live deployment, deployments
/// live before (some within the grace), remembered first-seen dates and `meta:` values, some
/// unreadable. Small id alphabet and coarse dates: ties and pin/exclude hits are common.
pub(super) fn arb_inventory() -> impl Strategy<Value = Inventory> {
    (
        prop::collection::btree_map("[a-e]{1,3}", arb_gen(), 0..25),
        prop::option::weighted(0.3, any::<prop::sample::Index>()),
    )
        .prop_map(|(m, live)| {
            let mut i = Inventory::default();
            for (id, g) in &m {
                let id = DeploymentId::new(id.clone()).unwrap();
                let newest = t0() - Duration::hours(g.days * 12);
                let meta = g.meta.map(|m| match m {
                    Ok(days) => (t0() - Duration::hours(days * 12)).to_rfc3339(),
                    Err(()) => "not a date".to_string(),
                });
                i.deployments.push(Deployment {
                    id: id.clone(),
                    objects: g.objects,
                    bytes: g.bytes,
                    newest,
                    oldest: newest - Duration::days(g.spread),
                    meta,
                });
                if g.pinned {
                    i.pins.push(crate::Pin {
                        id: id.clone(),
                        reason: "generated".into(),
                        by: String::new(),
                        at: None,
                    });
                }
                if let Some(hours) = g.was_live {
                    let until = t0() - Duration::hours(hours);
                    i.was_live.push(crate::WasLive {
                        id: id.clone(),
                        until,
                    });
                }
                if let Some((days, spread)) = g.remembered {
                    let newest = t0() - Duration::hours(days * 12);
                    let oldest = newest - Duration::days(spread);
                    i.remembered.push(crate::Remembered { id, newest, oldest });
                }
            }
            i.live = live
                .filter(|_| !i.deployments.is_empty())
                .map(|x| x.get(&i.deployments).id.clone());
            i
        })
}

pub(super) fn arb_policy() -> impl Strategy<Value = Policy> {
    (
        1u64..8,
        prop::option::of(0u64..25),
        prop::collection::vec("[a-e]{1,3}", 0..3),
        prop::collection::vec(
            prop::sample::select(vec!["a*", "*e", "b?", "[cd]*", "zz"]),
            0..2,
        ),
        0u8..3,
        prop::option::of(prop::bool::ANY),
    )
        .prop_map(|(retain, days, pins, excludes, source, fallback)| Policy {
            retain: Retain::new(retain).unwrap(),
            keep_within: days.map(Span::from_days),
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
            live_grace: crate::DEFAULT_LIVE_GRACE,
            rules: None,
        })
}

fn deleted(p: &Plan) -> BTreeSet<DeploymentId> {
    p.to_delete().map(|e| e.id.clone()).collect()
}

fn is_managed(pol: &Policy, id: &DeploymentId) -> bool {
    !pol.pins.contains(id) && !pol.excludes.iter().any(|g| g.matches(id.as_str()))
}

proptest! {
    #[test]
    fn every_plan_lists_its_entries_in_the_dated_order_alone(i in arb_inventory(), pol in arb_policy()) {
        // The dashboard's rows come from `Ordered::dated`, its verdicts from `plan`: one order.
        let p = plan(&i, &pol, t0());
        let ordered = Ordered::new(std::sync::Arc::new(i.clone()), &pol.date_source, pol.meta_fallback);
        let dated: Vec<_> = ordered.dated().collect();
        let from_plan: Vec<_> = p.entries.iter().map(|e| (e.id.clone(), e.date, e.date_origin)).collect();
        let alone: Vec<_> = dated.iter().map(|x| (x.d.id.clone(), x.date, x.origin)).collect();
        prop_assert_eq!(from_plan, alone);
    }

    #[test]
    fn newest_x_managed_never_deleted(i in arb_inventory(), pol in arb_policy()) {
        let p = plan(&i, &pol, t0());
        let managed: Vec<&Entry> = p.entries.iter().filter(|e| is_managed(&pol, &e.id)).collect();
        // entries are newest first; the first X managed ones must all be kept
        for e in managed.iter().take(pol.retain.get() as usize) {
            prop_assert_eq!(e.action, Action::Keep);
        }
        // and the managed order really is by date desc
        for w in managed.windows(2) {
            prop_assert!(w[0].date >= w[1].date);
        }
    }

    #[test]
    fn nothing_younger_than_min_age_deleted(i in arb_inventory(), pol in arb_policy()) {
        let p = plan(&i, &pol, t0());
        if let Some(w) = pol.keep_within {
            for e in p.to_delete() {
                prop_assert!((t0() - e.date).num_seconds() > w.as_secs() as i64);
            }
        }
    }

    #[test]
    fn pinned_excluded_and_live_never_deleted(mut i in arb_inventory(), pol in arb_policy(), live in "[a-e]{1,3}") {
        let live = DeploymentId::new(live).unwrap();
        i.live = Some(live.clone());
        let p = plan(&i, &pol, t0());
        for e in p.to_delete() {
            prop_assert!(is_managed(&pol, &e.id));
            prop_assert!(e.id != live);
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
        more.retain = Retain::new(pol.retain.get() + dx).unwrap();
        prop_assert!(deleted(&plan(&i, &more, t0())).is_subset(&base));
        let mut older = pol.clone();
        older.keep_within = Some(Span::from_secs(pol.keep_within.map_or(0, |w| w.as_secs()) + dd * 86_400));
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
