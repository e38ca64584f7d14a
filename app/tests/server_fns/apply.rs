//! The dashboard's apply: exactly the confirmed set, only with the bucket name typed, refused
//! when the bucket changed since the preview or another run holds it, stopped cleanly by a
//! shutdown.

use super::*;

#[tokio::test]
async fn a_deployment_uploaded_after_the_preview_makes_apply_refuse() {
    let b = seeded("sf-bind", &["new", "mid", "old"]).await;
    let state = state_for(&b);
    let req = preview(&state, b.name(), 2).await;
    assert_eq!(req.confirmed.len(), 1);
    let before = all_keys(&b).await;
    put_many(
        &b,
        ["newer/index.html".into()],
        &[("deployed-at", &chrono::Utc::now().to_rfc3339())],
    )
    .await;
    match state.start_apply(req, "tester").await.unwrap() {
        ApplyOutcome::Changed { message } => {
            assert!(message.contains("nothing was deleted"), "{message}");
            assert!(message.contains("Would now also delete: mid"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let mut expected = before;
    expected.push("newer/index.html".into());
    expected.sort();
    assert_eq!(all_keys(&b).await, expected);
}

/// A guard that trips between the preview and the apply (more deployments doomed than the
/// server lets one apply delete) is told in the dashboard's words — what its user can do, not
/// the CLI's flags — and nothing is deleted.
#[tokio::test]
async fn a_guard_tripped_after_the_preview_is_told_in_the_dashboards_words() {
    let b = seeded("sf-guard", &["d1", "d2", "d3", "d4", "d5"]).await;
    let state = AppState::new(ServeConfig {
        max_delete: 4,
        ..config(&b, None)
    });
    let req = preview(&state, b.name(), 1).await;
    assert_eq!(req.confirmed.len(), 4, "within the guard when previewed");
    let old = (chrono::Utc::now() - chrono::Duration::days(30)).to_rfc3339();
    put_many(&b, ["d6/index.html".into()], &[("deployed-at", &old)]).await;
    let before = all_keys(&b).await;
    let e = state.start_apply(req, "tester").await.unwrap_err();
    assert!(
        e.0.contains("more than this server lets one apply delete (4)"),
        "{e}"
    );
    assert!(!e.0.contains("--"), "no CLI flag: {e}");
    assert_eq!(all_keys(&b).await, before, "nothing deleted");
}

/// The page asks for the bucket's name before it sends an apply; the server asks too, so a
/// request that skipped the page (a script, another client) deletes nothing without it.
#[tokio::test]
async fn an_apply_without_the_bucket_name_typed_is_refused() {
    let b = seeded("sf-typed", &["new", "mid", "old"]).await;
    let state = state_for(&b);
    let before = all_keys(&b).await;
    for typed in ["", "another-bucket"] {
        let mut req = preview(&state, b.name(), 2).await;
        req.confirm = typed.into();
        let e = state.start_apply(req, "tester").await.unwrap_err();
        assert!(e.0.contains("type the bucket name"), "{e}");
    }
    assert_eq!(all_keys(&b).await, before);
    let mut req = preview(&state, b.name(), 2).await;
    req.confirm = format!(" {} ", b.name());
    assert!(matches!(
        state.start_apply(req, "tester").await.unwrap(),
        ApplyOutcome::Started { .. }
    ));
}

#[tokio::test]
async fn apply_deletes_exactly_the_confirmed_set() {
    let b = seeded("sf-apply", &["d1", "d2", "d3", "d4", "d5"]).await;
    put_many(&b, ["robots.txt".into()], &[]).await;
    let state = state_for(&b);
    let req = preview(&state, b.name(), 2).await;
    let doomed: Vec<String> = req.confirmed.iter().map(|d| d.id.to_string()).collect();
    assert_eq!(doomed, vec!["d3", "d4", "d5"]);
    let ApplyOutcome::Started { job } = state.start_apply(req.clone(), "tester").await.unwrap()
    else {
        panic!("refused")
    };
    // one apply per bucket at a time
    let second = state.start_apply(req, "tester").await;
    let report = loop {
        let s = state.job_status(job).unwrap();
        if let Some(r) = s.report {
            assert_eq!(s.deployments_done, 3);
            assert_eq!(s.objects_total, 6);
            break r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(second.unwrap_err().0.contains("already running"));
    assert_eq!((report.objects, report.deployments), (6, 3));
    assert_eq!(report.failures_total, 0);
    assert!(report.complete);
    assert_eq!(
        all_keys(&b).await,
        vec![
            "d1/app.css",
            "d1/index.html",
            "d2/app.css",
            "d2/index.html",
            "robots.txt"
        ]
    );
    assert!(state.job_status(job + 100).is_err());
    // and it is on record
    let runs = state.history(10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].who, "tester");
    assert_eq!(runs[0].source, "dashboard");
    assert_eq!(report.id, runs[0].id);
    let ids: Vec<&str> = runs[0].deleted.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, vec!["d3", "d4", "d5"]);
    assert_eq!(runs[0].deleted_objects, 6);
}

#[tokio::test]
async fn a_folder_live_again_after_its_handover_is_withdrawn_by_the_dashboards_scan() {
    // Before: the dashboard's scan withdrew the rule of a folder live *now*, but not of one
    // rolled back to and forward again between two scans: S3 then expired the rollback target
    // of minutes ago, which every plan keeps for its live grace.
    let b = seeded("sf-live-again", &["new", "mid", "big", "small"]).await;
    b.enable_versioning().await.unwrap();
    let big_at = (chrono::Utc::now() - chrono::Duration::days(2)).to_rfc3339();
    put_many(&b, ["big/extra.js".into()], &[("deployed-at", &big_at)]).await;
    let point = |id: &'static str| {
        let b = b.clone();
        async move {
            b.put("current", id.as_bytes().to_vec(), "text/plain", &[])
                .await
                .unwrap()
        }
    };
    point("new").await;
    let mut config = config(&b, Some(2));
    config.live_pointer = Some("current".into());
    let state = AppState::new(config);
    let req = preview(&state, b.name(), 1).await;
    let ApplyOutcome::Started { job } = state.start_apply(req, "tester").await.unwrap() else {
        panic!("refused")
    };
    report_of(&state, job).await;
    let handed: Vec<String> = b
        .expiries()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id.to_string())
        .collect();
    assert_eq!(handed, ["big"]);
    // A rollback to big and a roll-forward, no scan between them.
    point("big").await;
    point("new").await;
    let view = state.scan_view(Some(b.name()), true).await.unwrap();
    assert!(
        b.expiries().await.unwrap().is_empty(),
        "S3 will not expire the rollback target; the page: {:?}",
        view.handovers
    );
    assert!(all_keys(&b).await.iter().any(|k| k == "big/index.html"));
    // A rule an older version wrote from a host three days ahead carries that future day: it
    // counts as today's (before, the rollback was not seen as after it until that day).
    let ahead = chrono::Utc::now().date_naive() + chrono::Duration::days(3);
    let big = retention::DeploymentId::new("big").unwrap();
    b.expire_by_lifecycle(std::slice::from_ref(&big), ahead)
        .await
        .unwrap();
    point("big").await;
    point("new").await;
    // (a Rescan within its gap of the last one is answered from it)
    tokio::time::sleep(Duration::from_millis(5500)).await;
    let view = state.scan_view(Some(b.name()), true).await.unwrap();
    assert!(
        b.expiries().await.unwrap().is_empty(),
        "a rule dated ahead is withdrawn too; the page: {:?}",
        view.handovers
    );
}

#[tokio::test]
async fn a_handover_run_on_an_unversioned_bucket_can_be_withdrawn_from_history() {
    // Before: History offered no restore for it ("no undo (unversioned bucket…)") though its
    // folders were only handed to S3 lifecycle, and `restore --run` withdraws their rules.
    let b = seeded("sf-handed-undo", &["new", "mid", "big", "small"]).await;
    let (state, job) = big_handed_over(&b).await;
    let report = report_of(&state, job).await;
    assert_eq!(b.expiries().await.unwrap().len(), 1, "big is handed over");
    let page = state.history_page(None).await.unwrap();
    let row = page.runs.first().expect("the run is listed");
    assert!(row.restorable, "{row:?}");
    let note = row.undo_note.as_deref().unwrap_or_default();
    assert!(note.contains("handovers can be withdrawn"), "{note}");
    assert_eq!(row.key, report.run.clone().unwrap_or_default(), "{row:?}");
    let handle = row.handle.clone();
    let done = state.restore(&handle, b.name(), "tester").await.unwrap();
    assert!(b.expiries().await.unwrap().is_empty(), "{done:?}");
    assert!(all_keys(&b).await.iter().any(|k| k == "big/index.html"));
}

#[tokio::test]
async fn with_via_lifecycle_a_dashboard_apply_hands_big_deployments_to_s3() {
    // newest first: "new" is kept (retain 1); "big" has 3 objects, the others 2
    let b = seeded("sf-lifecycle", &["new", "mid", "big", "small"]).await;
    let big_at = (chrono::Utc::now() - chrono::Duration::days(2)).to_rfc3339();
    put_many(&b, ["big/extra.js".into()], &[("deployed-at", &big_at)]).await;
    let state = state_with(&b, Some(2));
    let view = state.scan_view(Some(b.name()), false).await.unwrap();
    assert_eq!(
        view.lifecycle_over,
        Some(2),
        "the page says so before the apply"
    );
    let req = preview(&state, b.name(), 1).await;
    let ApplyOutcome::Started { job } = state.start_apply(req, "tester").await.unwrap() else {
        panic!("refused")
    };
    let report = report_of(&state, job).await;
    // The page's report names the handover; its progress counted only what requests delete.
    let status = state.job_status(job).unwrap();
    let page = status.report.unwrap();
    let handed: Vec<(&str, &str)> = page
        .left_alone
        .iter()
        .map(|l| (l.deployment.as_str(), l.what.as_str()))
        .collect();
    assert_eq!(
        handed,
        [(
            "big",
            "handed to S3 lifecycle expiration, gone within a day or two"
        )]
    );
    assert_eq!((page.deployments, page.objects), (2, 4));
    assert_eq!((status.deployments_total, status.objects_total), (2, 4));
    assert_eq!((status.deployments_done, status.objects_done), (2, 4));
    let handed: Vec<(&str, audit::ExpiryState)> = report
        .expiries
        .iter()
        .map(|e| (e.deployment.as_str(), e.state))
        .collect();
    assert_eq!(handed, [("big", audit::ExpiryState::Handed)]);
    assert_eq!(report.deleted_objects, 4, "mid and small, by requests");
    assert_eq!(
        all_keys(&b).await,
        [
            "big/app.css",
            "big/extra.js",
            "big/index.html",
            "new/app.css",
            "new/index.html"
        ],
        "big is left to its lifecycle rule"
    );
    // The page lists the pending handover and its age.
    let view = state.scan_view(Some(b.name()), true).await.unwrap();
    let listed: Vec<_> = view
        .handovers
        .iter()
        .map(|e| (e.deployment.as_str(), e.state, e.since))
        .collect();
    let today = chrono::Utc::now().date_naive();
    assert_eq!(listed, [("big", audit::ExpiryState::Pending, Some(today))]);
    // A rollback to big: pinned from the page, its rule goes at once.
    state
        .set_pin(b.name(), "big", "rollback", true, "tester")
        .await
        .unwrap();
    assert!(
        b.expiries().await.unwrap().is_empty(),
        "S3 will not expire it"
    );
    let view = state.scan_view(Some(b.name()), true).await.unwrap();
    assert!(view.handovers.is_empty(), "{:?}", view.handovers);
}

#[tokio::test]
async fn bad_policies_are_refused_before_any_request() {
    let b = seeded("sf-bad", &["a", "b"]).await;
    let state = state_for(&b);
    let mut req = preview(&state, b.name(), 1).await;
    req.retain = 0;
    assert!(state
        .start_apply(req, "tester")
        .await
        .unwrap_err()
        .0
        .contains("RETAIN must be at least 1"));
    assert_eq!(all_keys(&b).await.len(), 4);
}

#[tokio::test]
async fn a_bucket_emptied_since_the_preview_deletes_nothing() {
    let b = seeded("sf-emptied", &["d1", "d2", "d3"]).await;
    let state = state_for(&b);
    let req = preview(&state, b.name(), 1).await;
    assert_eq!(req.confirmed.len(), 2);
    // someone else removes every deployment in the meantime
    remove_keys(&b, all_keys(&b).await).await;
    match state.start_apply(req, "tester").await.unwrap() {
        ApplyOutcome::Changed { message } => {
            assert!(message.contains("No longer to delete: d2, d3"), "{message}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(state.history(10).await.unwrap().is_empty(), "no apply ran");
}

#[tokio::test]
async fn a_dropped_apply_request_releases_the_bucket() {
    let b = seeded("sf-dropped", &["d1", "d2", "d3"]).await;
    let state = state_for(&b);
    let req = preview(&state, b.name(), 1).await;
    // the browser goes away while the server is still scanning: the request future is dropped
    let dropped = tokio::time::timeout(
        Duration::from_millis(1),
        state.start_apply(req.clone(), "a"),
    )
    .await;
    assert!(dropped.is_err(), "the apply finished within 1 ms");
    // the next apply is not refused as "already running"
    let ApplyOutcome::Started { job } = state.start_apply(req, "b").await.unwrap() else {
        panic!("refused")
    };
    while state.job_status(job).unwrap().report.is_none() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state.applies_running(), 0, "released after the apply too");
    assert_eq!(all_keys(&b).await, vec!["d1/app.css", "d1/index.html"]);
}

#[tokio::test]
async fn shutdown_stops_a_running_apply_and_waits_for_its_record() {
    let b = fresh_bucket("sf-shutdown").await;
    for (i, id) in ["keep", "d1", "d2", "d3", "d4", "d5", "d6"]
        .iter()
        .enumerate()
    {
        let at = (chrono::Utc::now() - chrono::Duration::days(10 - i as i64)).to_rfc3339();
        let at = if *id == "keep" {
            chrono::Utc::now().to_rfc3339()
        } else {
            at
        };
        put_many(
            &b,
            (0..400).map(|k| format!("{id}/f{k:03}")),
            &[("deployed-at", &at)],
        )
        .await;
    }
    let state = state_for(&b);
    let req = preview(&state, b.name(), 1).await;
    assert_eq!(req.confirmed.len(), 6);
    let ApplyOutcome::Started { job } = state.start_apply(req, "tester").await.unwrap() else {
        panic!("refused")
    };
    assert_eq!(state.applies_running(), 1);
    // what serve does after its listener closed
    state.stop_applies().await;
    assert_eq!(state.applies_running(), 0);
    let report = state.job_status(job).unwrap().report.expect("recorded");
    let runs = state.history(10).await.unwrap();
    assert_eq!(runs[0].id, report.id);
    assert!(
        matches!(
            runs[0].status,
            audit::Status::Interrupted | audit::Status::Finished
        ),
        "{:?}",
        runs[0].status
    );
    assert_ne!(
        runs[0].status,
        audit::Status::Started,
        "the record was completed"
    );
    let left = all_keys(&b).await;
    assert!(left.iter().filter(|k| k.starts_with("keep/")).count() == 400);
}

#[tokio::test]
async fn an_apply_while_another_holds_the_bucket_is_refused_and_the_page_says_what_and_who() {
    let b = seeded("sf-lease", &["new", "old"]).await;
    let state = state_for(&b);
    let now = chrono::Utc::now();
    let holder = bucket::LeaseHolder {
        run: "20261204T000000000Z-deadbeef".into(),
        who: "ops@laptop".into(),
        source: "cli".into(),
        host: "laptop".into(),
        since: now,
        expires: now + chrono::Duration::seconds(60),
        pid: 1,
        pid_ns: String::new(),
        ttl_secs: None,
        task: Some(bucket::LeaseTask::Restore),
    };
    assert_eq!(state.lease_holder(b.name()).await.unwrap(), None);
    let lease = b.take_lease(holder).await.unwrap();
    let shown = state
        .lease_holder(b.name())
        .await
        .unwrap()
        .expect("the page names the holder");
    assert_eq!(
        (shown.who.as_str(), shown.source.as_str(), shown.expired),
        ("ops@laptop", "cli", false)
    );
    // Named for what it is: before, every holder was "Another apply".
    assert_eq!(shown.what, "A restore");
    let req = preview(&state, b.name(), 1).await;
    let ApplyOutcome::Started { job } = state.start_apply(req, "tester").await.unwrap() else {
        panic!("refused before it started")
    };
    let status = loop {
        let s = state.job_status(job).unwrap();
        if s.error.is_some() || s.report.is_some() {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let error = status.error.expect("the apply is refused");
    assert!(
        error.contains("another restore holds this bucket: ops@laptop (cli on laptop"),
        "{error}"
    );
    assert_eq!(all_keys(&b).await.len(), 4, "nothing deleted");
    b.release_lease(&lease, None).await.unwrap();
    assert_eq!(
        state.lease_holder(b.name()).await.unwrap(),
        None,
        "released: nobody named"
    );
}

/// `serve --pin` / `--exclude` (or the config file's `guards`): the page is told them and plans
/// with them, and the apply plans with them too, so an excluded or pinned deployment is kept by
/// both; a set confirmed without them (deleting it) is refused, nothing deleted.
#[tokio::test]
async fn the_servers_pins_and_excludes_keep_in_the_preview_and_in_the_apply() {
    let b = seeded("sf-guards", &["d1", "d2", "d3", "d4", "d5"]).await;
    let state = AppState::new(ServeConfig {
        pins: vec!["d5".parse().unwrap()],
        excludes: vec!["d4*".parse().unwrap()],
        ..config(&b, None)
    });
    let view = state.scan_view(Some(b.name()), false).await.unwrap();
    assert_eq!(view.excludes, vec!["d4*".parse().unwrap()]);
    assert_eq!(view.pins, vec!["d5".parse().unwrap()]);
    // Planned without them (as the page did before it was told), d3 d4 d5 would go: refused.
    let mut blind = preview(&state, b.name(), 2).await;
    blind.confirmed = {
        let mut p = Policy::new(Retain::new(2).unwrap());
        p.date_source = view.date_source.clone();
        retention::plan(&view.inventory, &p, view.now).deletion_set()
    };
    assert_eq!(blind.confirmed.len(), 3);
    let refused = state.start_apply(blind, "tester").await.unwrap();
    assert!(
        !matches!(refused, ApplyOutcome::Started { .. }),
        "{refused:?}"
    );
    assert_eq!(deployment_count(&b).await, 5, "nothing deleted");
    // Planned with them: only d3 goes.
    let req = preview(&state, b.name(), 2).await;
    let doomed: Vec<String> = req.confirmed.iter().map(|d| d.id.to_string()).collect();
    assert_eq!(doomed, vec!["d3"]);
    let ApplyOutcome::Started { job } = state.start_apply(req, "tester").await.unwrap() else {
        panic!("refused")
    };
    let record = report_of(&state, job).await;
    let ids: Vec<&str> = record.deleted.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, vec!["d3"]);
    assert_eq!(
        deployment_count(&b).await,
        4,
        "d4 (excluded) and d5 (pinned) kept"
    );
}

async fn deployment_count(b: &Bucket) -> usize {
    let keys = all_keys(b).await;
    let mut ids: Vec<&str> = keys
        .iter()
        .filter(|k| !k.starts_with(".s3-prune/"))
        .filter_map(|k| k.split('/').next())
        .collect();
    ids.dedup();
    ids.len()
}

/// `serve --inventory`: the page previews from the report, as the apply's check plans from it,
/// so an apply of what the page showed goes ahead (it previewed from a listing, and every apply
/// of a bucket deployed to since the report was refused as changed).
#[tokio::test]
async fn with_an_inventory_report_the_preview_and_the_apply_plan_from_the_same_report() {
    let b = seeded("sf-inv", &["d1", "d2", "d3", "d4"]).await;
    let reports = fresh_bucket("sf-inv-reports").await;
    let at = bucket::testkit::write_inventory(
        &b,
        &reports,
        bucket::testkit::INVENTORY_SCHEMA,
        None,
        true,
        "run-sf",
    )
    .await;
    // Deployed since the report: the report does not know it; the listing beside the report
    // finds it, and it is ranked as a listing would (the newest: d1 is the second kept).
    put_many(
        &b,
        ["d0/index.html".to_string()],
        &[("deployed-at", &chrono::Utc::now().to_rfc3339())],
    )
    .await;
    let state = AppState::new(ServeConfig {
        inventory: Some(at.parse().unwrap()),
        ..config(&b, None)
    });
    let req = preview(&state, b.name(), 2).await;
    let doomed: Vec<String> = req.confirmed.iter().map(|d| d.id.to_string()).collect();
    assert_eq!(doomed, vec!["d2", "d3", "d4"], "planned from the report");
    let outcome = state.start_apply(req, "tester").await.unwrap();
    let ApplyOutcome::Started { job } = outcome else {
        panic!("the apply of what the page showed was refused: {outcome:?}")
    };
    let record = report_of(&state, job).await;
    let ids: Vec<&str> = record.deleted.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, vec!["d2", "d3", "d4"]);
    assert!(all_keys(&b).await.iter().any(|k| k.starts_with("d0/")));
}

/// A lease whose holder ran on this host and is gone (killed) is taken over at once by an apply
/// from here: the page says it is over, not "another apply is running" for its last minute
/// (before, Delete stayed off until its expiry while the CLI went ahead at once).
#[tokio::test]
async fn a_lease_whose_process_is_gone_from_this_host_is_shown_over() {
    let b = seeded("sf-lease-gone", &["new", "old"]).await;
    let state = state_for(&b);
    let now = chrono::Utc::now();
    let gone = bucket::LeaseHolder {
        run: "20261204T000000000Z-0000dead".into(),
        who: "ops@here".into(),
        source: "cli".into(),
        // This machine, as the lease names it (prune's host()).
        host: std::fs::read_to_string("/proc/sys/kernel/hostname")
            .unwrap_or_default()
            .trim()
            .to_string(),
        since: now,
        expires: now + chrono::Duration::seconds(60),
        pid: 4_294_967_294,
        pid_ns: bucket::pid_namespace(),
        ttl_secs: Some(60),
        task: None,
    };
    b.put(
        &b.lease_key(),
        serde_json::to_vec(&gone).unwrap(),
        "application/json",
        &[],
    )
    .await
    .unwrap();
    let shown = state
        .lease_holder(b.name())
        .await
        .unwrap()
        .expect("a lease");
    assert!(shown.expired || cfg!(not(target_os = "linux")), "{shown:?}");
}

/// `b` (seeded with new, mid, big, small) given a third file in big, then applied from a
/// dashboard handing deployments of more than 2 objects to S3 lifecycle, keeping 1: big is
/// handed over, mid and small deleted. The dashboard and the apply's job.
async fn big_handed_over(b: &Bucket) -> (Arc<AppState>, u64) {
    let big_at = (chrono::Utc::now() - chrono::Duration::days(2)).to_rfc3339();
    put_many(b, ["big/extra.js".into()], &[("deployed-at", &big_at)]).await;
    let state = state_with(b, Some(2));
    let req = preview(&state, b.name(), 1).await;
    let ApplyOutcome::Started { job } = state.start_apply(req, "tester").await.unwrap() else {
        panic!("refused")
    };
    (state, job)
}

#[tokio::test]
async fn an_apply_the_dialog_said_history_could_undo_is_refused_once_versioning_is_suspended() {
    // Before: the same set still matched, so it ran — recorded as not undoable, though the
    // dialog had said History could undo it.
    let b = seeded("sf-undo-promise", &["d1", "d2", "d3"]).await;
    b.enable_versioning().await.unwrap();
    let state = state_for(&b);
    let req = ApplyRequest {
        undoable: true,
        ..preview(&state, b.name(), 1).await
    };
    bucket::testkit::suspend_versioning(&b).await;
    let outcome = state.start_apply(req, "tester").await.unwrap();
    let ApplyOutcome::Changed { message } = outcome else {
        panic!("ran: {outcome:?}")
    };
    assert!(
        message.contains("versioning is no longer enabled"),
        "{message}"
    );
    let keys: Vec<String> = (all_keys(&b).await.into_iter())
        .filter(|k| !k.contains(".s3-prune/"))
        .collect();
    assert_eq!(keys.len(), 6, "nothing deleted: {keys:?}");
}
