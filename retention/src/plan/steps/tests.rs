//! Each step of the plan on its own: what it decides, with only what it needs.

use super::*;
use crate::plan::tests::{dep, inv, pairs, reasons, t0};
use crate::{
    DateOrigin, DateSource, DeploymentId, Glob, LiveRefs, MetaFallback, Pin, Retain, Span,
};
use chrono::Duration;

fn id(s: &str) -> DeploymentId {
    DeploymentId::new(s).unwrap()
}

fn policy(retain: u64) -> Policy {
    Policy::new(Retain::new(retain).unwrap())
}

fn walk_ids(i: &Inventory, p: &Policy) -> Vec<(String, Reason)> {
    let (dated, _) = dated_newest_first(i, p);
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
    let (dated, warnings) = dated_newest_first(&i, &policy(1));
    let ids: Vec<&str> = dated.iter().map(|d| d.d.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert!(warnings.is_empty());
}

fn meta_policy(fallback: Option<MetaFallback>) -> Policy {
    let mut p = policy(1);
    p.date_source = DateSource::Meta("deployed-at".into());
    p.meta_fallback = fallback;
    p
}

#[test]
fn a_missing_or_bad_meta_date_falls_back_with_a_warning_in_plan_order() {
    let mut good = dep("good", 9);
    good.meta = Some("2026-11-25T12:00:00Z".into());
    let mut bad = dep("bad", 3);
    bad.meta = Some("yesterday".into());
    let i = inv(vec![bad, dep("absent", 2), good]);
    let (dated, warnings) = dated_newest_first(&i, &meta_policy(Some(MetaFallback::Newest)));
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
fn without_a_fallback_a_missing_or_bad_meta_date_is_unknown_and_kept_unranked() {
    let mut bad = dep("bad", 30);
    bad.meta = Some("yesterday".into());
    let (mut old, mut new) = (dep("old", 20), dep("new", 1));
    old.meta = Some("2026-10-01T00:00:00Z".into());
    new.meta = Some("2026-11-20T00:00:00Z".into());
    let i = inv(vec![bad, dep("absent", 40), old, new]);
    let p = crate::plan(&i, &meta_policy(None), t0());
    let got: Vec<(&str, DateOrigin, String)> = p
        .entries
        .iter()
        .map(|e| (e.id.as_str(), e.date_origin, e.reason_text()))
        .collect();
    let unknown =
        "keep: date unknown (metadata 'deployed-at' absent or not a deploy date)".to_string();
    assert_eq!(
        got,
        [
            ("new", DateOrigin::Meta, "keep: newest 1 of 1".to_string()),
            ("bad", DateOrigin::Unknown, unknown.clone()),
            ("absent", DateOrigin::Unknown, unknown),
            ("old", DateOrigin::Meta, "delete: rank 2 > 1".to_string()),
        ]
    );
    assert!(p.warnings.iter().any(|w| w
        .to_string()
        .contains("absent: metadata 'deployed-at' is absent, so its date is unknown: kept")));
    // With a fallback, the same deployments are dated by their objects and ranked.
    let p = crate::plan(&i, &meta_policy(Some(MetaFallback::Oldest)), t0());
    assert_eq!(p.summary.delete.deployments, 3);
}

#[test]
fn a_meta_date_before_s3_existed_is_not_a_deploy_date() {
    // Go's zero time and the Unix epoch: what a pipeline writes when it failed to set the
    // deploy time. Uploaded just now, such a deployment was ranked the oldest and deleted.
    let (mut zero, mut epoch) = (dep("zero", 0), dep("epoch", 0));
    zero.meta = Some("0001-01-01T00:00:00Z".into());
    epoch.meta = Some("1970-01-01T00:00:00Z".into());
    let (mut new, mut old) = (dep("new", 1), dep("old", 61));
    new.meta = Some("2026-11-25T12:00:00Z".into());
    old.meta = Some("2026-09-26T12:00:00Z".into());
    let i = inv(vec![zero, old, epoch, new]);
    let within = |mut p: Policy| {
        p.keep_within = Some(Span::from_days(30));
        p
    };
    // Without a fallback: unknown, kept and not ranked, as an unparsable value is.
    let p = crate::plan(&i, &within(meta_policy(None)), t0());
    let unknown = "keep: date unknown (metadata 'deployed-at' absent or not a deploy date)";
    assert_eq!(
        reasons(&p),
        pairs(&[
            ("epoch", unknown),
            ("zero", unknown),
            ("new", "keep: newest 1 of 1"),
            ("old", "delete: rank 2 > 1 and 61 d > 30 d"),
        ])
    );
    let said: Vec<String> = p.warnings.iter().map(|w| w.to_string()).collect();
    for (id, raw) in [("zero", "0001-01-01"), ("epoch", "1970-01-01")] {
        let why = format!(
            "{id}: metadata 'deployed-at' '{raw}T00:00:00Z' is before S3 existed (2006-03-14): \
             not a deploy date, so its date is unknown: kept"
        );
        assert!(said.iter().any(|w| w.starts_with(&why)), "{why}\n{said:?}");
    }
    // With a fallback: dated by their objects (uploaded just now), so young and kept.
    let p = crate::plan(&i, &within(meta_policy(Some(MetaFallback::Newest))), t0());
    let got: Vec<(&str, DateOrigin, Action)> = p
        .entries
        .iter()
        .map(|e| (e.id.as_str(), e.date_origin, e.action))
        .collect();
    assert_eq!(
        got,
        [
            ("epoch", DateOrigin::MetaFallback, Action::Keep),
            ("zero", DateOrigin::MetaFallback, Action::Keep),
            ("new", DateOrigin::Meta, Action::Keep),
            ("old", DateOrigin::Meta, Action::Delete),
        ]
    );
    assert!(p.warnings.iter().any(|w| w.to_string()
        == "zero: metadata 'deployed-at' '0001-01-01T00:00:00Z' is before S3 existed \
            (2006-03-14): not a deploy date; dated by its newest object instead"));
}

#[test]
fn a_meta_date_counts_from_the_day_s3_opened() {
    let at = |id: &str, raw: &str| {
        let mut d = dep(id, 0);
        d.meta = Some(raw.into());
        d
    };
    let i = inv(vec![
        at("opened", "2006-03-14T00:00:00Z"),
        // The same instant written in another offset.
        at("offset", "2006-03-13T20:00:00-04:00"),
        at("before", "2006-03-13T23:59:59Z"),
    ]);
    let (dated, warnings) = dated_newest_first(&i, &meta_policy(None));
    let got: Vec<(&str, DateOrigin)> = dated.iter().map(|d| (d.d.id.as_str(), d.origin)).collect();
    assert_eq!(
        got,
        [
            ("before", DateOrigin::Unknown),
            ("offset", DateOrigin::Meta),
            ("opened", DateOrigin::Meta),
        ]
    );
    let said: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].starts_with(
            "before: metadata 'deployed-at' '2006-03-13T23:59:59Z' is before S3 existed"
        ),
        "{said:?}"
    );
}

#[test]
fn a_date_in_the_future_is_kept_unranked_with_a_warning() {
    let mut ahead = dep("ahead", 0);
    ahead.newest = t0() + chrono::Duration::days(30);
    let mut slightly = dep("slightly", 0);
    slightly.newest = t0() + chrono::Duration::minutes(4);
    let i = inv(vec![ahead, slightly, dep("older", 5)]);
    let p = crate::plan(&i, &policy(1), t0());
    assert_eq!(
        reasons(&p),
        pairs(&[
            ("ahead", "keep: dated in the future"),
            ("slightly", "keep: newest 1 of 1"),
            ("older", "delete: rank 2 > 1"),
        ])
    );
    assert!(p
        .warnings
        .iter()
        .any(|w| w.to_string().starts_with("ahead is dated")));
}

#[test]
fn deletable_since_is_the_later_of_the_min_age_and_the_retain_th_newer_arriving() {
    // d4 newest … d1 oldest, 10 days apart; retain 2.
    let i = inv(vec![
        dep("d1", 40),
        dep("d2", 30),
        dep("d3", 20),
        dep("d4", 10),
    ]);
    let at = |days: i64| t0() - chrono::Duration::days(days);
    let since = |p: &crate::Plan| -> Vec<(String, Option<chrono::DateTime<chrono::Utc>>)> {
        p.entries
            .iter()
            .map(|e| (e.id.to_string(), e.deletable_since))
            .collect()
    };
    let p = crate::plan(&i, &policy(2), t0());
    // d2 fell out of the newest 2 when d4 arrived; d1 when d3 did.
    assert_eq!(
        since(&p),
        [
            ("d4".into(), None),
            ("d3".into(), None),
            ("d2".into(), Some(at(10))),
            ("d1".into(), Some(at(20))),
        ]
    );
    // A minimum age of 35 days: d1 (40 days old) only since it turned 35.
    let mut pol = policy(2);
    pol.keep_within = Some("35d".parse().unwrap());
    let p = crate::plan(&i, &pol, t0());
    assert_eq!(since(&p)[3], ("d1".into(), Some(at(5))));
    // Overdue after 7 days: only d2 and d1 under retain alone, d1 first.
    let p = crate::plan(&i, &policy(2), t0());
    let late: Vec<&str> = p
        .overdue("7d".parse().unwrap())
        .iter()
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(late, ["d1", "d2"]);
    assert!(p.overdue("15d".parse().unwrap()).len() == 1);
    // Longer than chrono can hold: nothing is that late (before: a panic, `check` exit 101).
    assert!(p.overdue("300000000y".parse().unwrap()).is_empty());
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
    let (dated, _) = dated_newest_first(&i, &p);
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
    let (dated, _) = dated_newest_first(&i, &p);
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
        let (dated, _) = dated_newest_first(&i, &p);
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

#[test]
fn the_previous_live_deployment_is_kept_for_the_live_grace_then_deleted() {
    // d3 was live until an hour ago; the pointer names d8 now.
    let mut i = inv((1..=8)
        .map(|n| dep(&format!("d{n}"), 80 - n * 10))
        .collect());
    i.live = Some(id("d8"));
    i.was_live = vec![crate::WasLive {
        id: id("d3"),
        until: t0() - Duration::hours(1),
    }];
    let reason_of = |p: &crate::Plan, which: &str| {
        p.entries
            .iter()
            .find(|e| e.id.as_str() == which)
            .unwrap()
            .reason_text()
    };
    let p = crate::plan(&i, &policy(2), t0());
    assert_eq!(
        reason_of(&p, "d3"),
        "keep: was live until 2026-11-26 11:00 UTC (live grace)"
    );
    assert_eq!(reason_of(&p, "d2"), "delete: rank 7 > 2");
    // Grace 0 turns it off; a grace shorter than the hour has passed too.
    for grace in ["0s", "30min"] {
        let mut pol = policy(2);
        pol.live_grace = grace.parse().unwrap();
        let p = crate::plan(&i, &pol, t0());
        assert_eq!(reason_of(&p, "d3"), "delete: rank 6 > 2", "grace {grace}");
    }
    // Deletable only since its grace ended (30 min ago), not since d5 pushed it out weeks
    // ago: leaving the grace does not make it overdue at once.
    let mut pol = policy(2);
    pol.live_grace = "30min".parse().unwrap();
    let p = crate::plan(&i, &pol, t0());
    let d3 = p.entries.iter().find(|e| e.id.as_str() == "d3").unwrap();
    assert_eq!(d3.deletable_since, Some(t0() - Duration::minutes(30)));
    assert!(!p
        .overdue("2d".parse().unwrap())
        .iter()
        .any(|e| e.id.as_str() == "d3"));
}

#[test]
fn a_deployment_whose_clock_was_reset_is_ranked_by_its_first_seen_date() {
    // d1 … d4 deployed in order; d1 copied onto itself today (same keys and sizes).
    let mut i = inv(vec![
        dep("d1", 0),
        dep("d2", 30),
        dep("d3", 20),
        dep("d4", 10),
    ]);
    i.remembered = vec![crate::Remembered {
        id: id("d1"),
        newest: t0() - Duration::days(40),
        oldest: t0() - Duration::days(40),
    }];
    let p = crate::plan(&i, &policy(2), t0());
    let got: Vec<(&str, DateOrigin, Action)> = p
        .entries
        .iter()
        .map(|e| (e.id.as_str(), e.date_origin, e.action))
        .collect();
    assert_eq!(
        got,
        [
            ("d4", DateOrigin::Newest, Action::Keep),
            ("d3", DateOrigin::Newest, Action::Keep),
            ("d2", DateOrigin::Newest, Action::Delete),
            ("d1", DateOrigin::Remembered, Action::Delete),
        ]
    );
    assert!(p.warnings.iter().any(|w| w
        .to_string()
        .starts_with("dates reset (copy or re-encryption?) for 1 deployment(s)")));
}
