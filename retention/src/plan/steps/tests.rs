//! Each step of the plan on its own: what it decides, with only what it needs.

use super::*;
use crate::plan::tests::{dep, inv, t0};
use crate::{Glob, LiveRefs, Pin, Retain};
use chrono::Duration;

fn id(s: &str) -> DeploymentId {
    DeploymentId::new(s).unwrap()
}

fn policy(retain: u64) -> Policy {
    Policy::new(Retain::new(retain).unwrap())
}

fn walk_ids(i: &Inventory, p: &Policy) -> Vec<(String, Reason)> {
    let (dated, _) = dated_newest_first(i, &p.date_source);
    let mut walk = Walk::new(i, p, t0());
    dated
        .iter()
        .map(|d| walk.entry(d))
        .map(|e| (e.id.to_string(), e.reason))
        .collect()
}

#[test]
fn dates_order_newest_first_and_equal_dates_by_id_whatever_the_listing_order() {
    let i = inv(vec![dep("b", 1), dep("c", 5), dep("a", 1)]);
    let (dated, warnings) = dated_newest_first(&i, &DateSource::Newest);
    let ids: Vec<&str> = dated.iter().map(|d| d.d.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert!(warnings.is_empty());
}

#[test]
fn a_missing_or_bad_meta_date_falls_back_with_a_warning_in_plan_order() {
    let mut good = dep("good", 9);
    good.meta = Some("2026-11-25T12:00:00Z".into());
    let mut bad = dep("bad", 3);
    bad.meta = Some("yesterday".into());
    let i = inv(vec![bad, dep("absent", 2), good]);
    let (dated, warnings) = dated_newest_first(&i, &DateSource::Meta("deployed-at".into()));
    let order: Vec<(&str, DateOrigin)> =
        dated.iter().map(|d| (d.d.id.as_str(), d.origin)).collect();
    assert_eq!(
        order,
        [
            ("good", DateOrigin::Meta),
            ("absent", DateOrigin::MetaFallback),
            ("bad", DateOrigin::MetaFallback)
        ]
    );
    let about: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        about[0].contains("absent") && about[1].contains("'yesterday'"),
        "{about:?}"
    );
}

#[test]
fn an_exclude_beats_a_pin_and_a_stored_pin_keeps_its_note() {
    let mut i = inv(vec![dep("staging-1", 9), dep("old", 8), dep("new", 1)]);
    i.pins = vec![Pin {
        id: id("old"),
        reason: "rollback target".into(),
        by: "ops".into(),
        at: None,
    }];
    let mut p = policy(1);
    p.excludes = vec!["staging-*".parse::<Glob>().unwrap()];
    p.pins = vec![id("staging-1")];
    let got = walk_ids(&i, &p);
    assert!(matches!(got[0].1, Reason::Newest { rank: 1, .. }));
    assert_eq!(
        got[1].1,
        Reason::Pinned {
            note: Some("rollback target".into())
        }
    );
    assert!(matches!(got[2].1, Reason::Excluded { .. }));
}

#[test]
fn guarded_deployments_are_not_ranked() {
    let i = inv(vec![dep("a", 1), dep("pinned", 2), dep("b", 3)]);
    let mut p = policy(1);
    p.pins = vec![id("pinned")];
    let got = walk_ids(&i, &p);
    assert!(matches!(got[0].1, Reason::Newest { rank: 1, .. }));
    assert!(
        matches!(got[2].1, Reason::Expired { rank: 2, .. }),
        "{:?}",
        got[2]
    );
}

#[test]
fn the_verdict_keeps_live_then_the_newest_then_the_young() {
    let mut i = inv(vec![dep("a", 1), dep("b", 2), dep("c", 3), dep("d", 40)]);
    i.live_from = Some(LiveRefs {
        key: "index.html".into(),
        ids: vec![id("d")],
    });
    let mut p = policy(1);
    p.keep_within = Some("7d".parse().unwrap());
    let got = walk_ids(&i, &p);
    assert!(matches!(got[0].1, Reason::Newest { .. }));
    assert!(matches!(got[1].1, Reason::TooYoung { rank: 2, .. }));
    assert!(matches!(got[2].1, Reason::TooYoung { rank: 3, .. }));
    assert_eq!(
        got[3].1,
        Reason::Live {
            rank: 4,
            from: Some("index.html".into())
        }
    );
}

#[test]
fn ties_are_reported_once_per_run_of_equal_dates() {
    let i = inv(vec![
        dep("a", 1),
        dep("b", 1),
        dep("c", 2),
        dep("d", 3),
        dep("e", 3),
    ]);
    let p = policy(1);
    let (dated, _) = dated_newest_first(&i, &p.date_source);
    let mut walk = Walk::new(&i, &p, t0());
    dated.iter().for_each(|d| {
        walk.entry(d);
    });
    assert_eq!(
        walk.ties(),
        vec![
            Warning::TieBroken {
                ids: vec![id("a"), id("b")]
            },
            Warning::TieBroken {
                ids: vec![id("d"), id("e")]
            }
        ]
    );
}

#[test]
fn pins_and_excludes_that_match_nothing_are_named() {
    let i = inv(vec![dep("a", 1)]);
    let mut p = policy(1);
    p.pins = vec![id("a"), id("typo")];
    p.excludes = vec!["staging-*".parse::<Glob>().unwrap()];
    let (dated, _) = dated_newest_first(&i, &p.date_source);
    let mut walk = Walk::new(&i, &p, t0());
    dated.iter().for_each(|d| {
        walk.entry(d);
    });
    assert_eq!(
        walk.unmatched(),
        vec![
            Warning::PinMatchesNothing { id: id("typo") },
            Warning::ExcludeMatchesNothing {
                pattern: "staging-*".parse().unwrap()
            }
        ]
    );
}

#[test]
fn input_warnings_name_an_old_report_and_versioning() {
    let mut i = inv(vec![]);
    i.report_date = Some(t0() - Duration::hours(49));
    i.versioning = Versioning::Enabled;
    let w = input_warnings(&i, &policy(1), t0());
    assert!(matches!(w[0], Warning::OldInventory { age_hours: 49, .. }));
    assert!(matches!(w[1], Warning::VersionedNoPurge { .. }));
    i.report_date = Some(t0() - Duration::hours(48));
    i.versioning = Versioning::Unknown;
    assert_eq!(
        input_warnings(&i, &policy(1), t0()),
        vec![Warning::VersioningUnknown]
    );
}

#[test]
fn blocks_stop_a_plan_without_its_live_deployment_or_over_the_guard() {
    let mut i = inv(vec![dep("a", 1), dep("b", 2), dep("c", 3)]);
    i.live = Some(id("gone"));
    let mut p = policy(1);
    p.max_delete = Some(1);
    let entries = {
        let (dated, _) = dated_newest_first(&i, &p.date_source);
        let mut walk = Walk::new(&i, &p, t0());
        dated.iter().map(|d| walk.entry(d)).collect::<Vec<_>>()
    };
    let summary = totals(&i, &entries);
    assert_eq!(summary.delete.deployments, 2);
    assert_eq!(
        blocks(&i, &p, &summary),
        vec![
            Block::LiveMissing { id: id("gone") },
            Block::TooMany { count: 2, max: 1 }
        ]
    );
}
