//! A page's scan: the configured bucket listed and cached until a Rescan, and the success notes
//! read once a while and again after a Rescan or the page's own apply.

use super::*;

#[tokio::test]
async fn scan_lists_the_configured_bucket_and_caches_until_rescan() {
    let b = seeded("sf-list", &["c", "b", "a"]).await;
    let state = state_for(&b);
    let view = state.scan_view(None, false).await.unwrap();
    assert_eq!(view.bucket.name, b.name());
    let ids: Vec<_> = view
        .inventory
        .deployments
        .iter()
        .map(|d| d.id.to_string())
        .collect();
    assert_eq!(ids, vec!["a", "b", "c"]);
    assert!(state
        .scan_view(Some("some-other-bucket"), false)
        .await
        .unwrap_err()
        .0
        .contains("not one this server was started with"));

    put_many(&b, ["d/index.html".into()], &[]).await;
    let cached = state.scan_view(Some(b.name()), false).await.unwrap();
    assert_eq!(cached.inventory.deployments.len(), 3, "served from cache");
    assert_eq!(cached.scanned_at, view.scanned_at);
    // A Rescan right after a scan gets that scan back, saying so (each scan costs requests)…
    let soon = state.scan_view(Some(b.name()), true).await.unwrap();
    assert_eq!(soon.inventory.deployments.len(), 3);
    assert!(soon
        .notice
        .as_deref()
        .is_some_and(|n| n.starts_with("a scan of this bucket began")));
    // …and a new one once the spacing has passed.
    tokio::time::sleep(app::server::RESCAN_GAP.to_std().unwrap()).await;
    let fresh = state.scan_view(Some(b.name()), true).await.unwrap();
    assert_eq!(fresh.inventory.deployments.len(), 4);
    assert_eq!(fresh.notice, None);
}

/// The page's "Last success" notes: read once per `NOTES_FOR` (not three GETs a page), read
/// again on a Rescan, and at once after this server's own apply.
#[tokio::test]
async fn a_page_reads_the_success_notes_once_a_while_and_again_after_a_rescan_or_its_own_apply() {
    let b = seeded("sf-notes", &["d1", "d2", "d3"]).await;
    let state = state_for(&b);
    let sources = |v: &app::wire::ScanView| -> Vec<String> {
        v.last_successes.iter().map(|s| s.source.clone()).collect()
    };
    let read_at = std::time::Instant::now();
    let first = state.scan_view(None, false).await.unwrap();
    assert!(first.last_successes.is_empty());
    let cli = prune::health::LastSuccess {
        source: "cli".into(),
        at: chrono::Utc::now(),
        who: "someone".into(),
        run: None,
        deleted_deployments: 0,
    };
    // As another front end's run leaves it (noted only for a plan that keeps the policy).
    b.write_state("last-success-cli.json", serde_json::to_vec(&cli).unwrap())
        .await
        .unwrap();
    let soon = state.scan_view(None, false).await.unwrap();
    // On a machine so loaded that NOTES_FOR passed since the first read, reading again is right.
    assert!(
        soon.last_successes.is_empty() || read_at.elapsed() >= app::server::NOTES_FOR,
        "the notes read a moment ago are shown (for at most {:?})",
        app::server::NOTES_FOR
    );
    let rescanned = state.scan_view(None, true).await.unwrap();
    assert_eq!(sources(&rescanned), ["cli"]);

    let req = preview(&state, b.name(), 2).await;
    let ApplyOutcome::Started { job } = state.start_apply(req, "tester").await.unwrap() else {
        panic!("refused")
    };
    report_of(&state, job).await;
    let after = state.scan_view(None, false).await.unwrap();
    assert_eq!(sources(&after), ["dashboard", "cli"]);
}

/// A run of another front end (here another server on the same bucket) deletes deployments the
/// cached scan still shows: the next page load of this server scans again once that run's
/// success is noted, instead of offering to delete what is gone (until someone pressed Rescan).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_after_another_front_ends_run_shows_the_bucket_as_it_is_now() {
    let b = seeded("sf-stale", &["s1", "s2", "s3", "s4"]).await;
    let here = state_for(&b);
    let ids = |v: &app::wire::ScanView| -> Vec<String> {
        v.inventory
            .deployments
            .iter()
            .map(|d| d.id.to_string())
            .collect()
    };
    let before = here.scan_view(Some(b.name()), false).await.unwrap();
    assert_eq!(ids(&before).len(), 4);
    // Another dashboard on the same bucket applies (its own scan, its own audit log).
    let elsewhere = state_for(&b);
    let req = preview(&elsewhere, b.name(), 2).await;
    let ApplyOutcome::Started { job, .. } = elsewhere.start_apply(req, "bob").await.unwrap() else {
        panic!("not started")
    };
    report_of(&elsewhere, job).await;
    // This server's notes are read at most every NOTES_FOR: the page after that shows it.
    tokio::time::sleep(app::server::NOTES_FOR + Duration::from_millis(200)).await;
    let after = here.scan_view(Some(b.name()), false).await.unwrap();
    assert_eq!(
        ids(&after).len(),
        2,
        "gone deployments still shown: {:?}",
        ids(&after)
    );
}

/// A pin set while a page's scan runs shows on the next page: that scan may have read the pins
/// before the pin, so it is neither joined nor cached. (Before: the next page got that scan,
/// from the cache, and showed the deployment unpinned until someone pressed Rescan.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_set_while_a_scan_runs_shows_on_the_next_page() {
    let b = seeded("sf-pin-mid-scan", &["new"]).await;
    // A deployment of 5,000 objects: its listing takes a while.
    put_many(&b, (0..5000).map(|k| format!("big/f{k:05}")), &[]).await;
    let state = state_for(&b);
    let pin_meanwhile = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        state
            .set_pin(b.name(), "big", "release", true, "tester")
            .await
            .unwrap();
    };
    let (first, ()) = tokio::join!(state.scan_view(None, false), pin_meanwhile);
    first.unwrap();
    let next = state.scan_view(None, false).await.unwrap();
    let pinned: Vec<&str> = next.inventory.pins.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(pinned, ["big"]);
}

/// Before: the scan's own warnings (the live pointer's versions inside the grace not all read,
/// an inventory report out of date) were dropped by the dashboard: its preview was clean where
/// `s3-prune plan` of the same bucket warned that a deployment live minutes ago may go.
#[tokio::test]
async fn the_page_is_given_what_the_scan_warned_of() {
    let b = seeded("sf-scan-warned", &["d2", "d1"]).await;
    b.enable_versioning().await.unwrap();
    for n in 0..102 {
        let id = if n % 2 == 0 { "d2" } else { "d1" };
        b.put("current", id.as_bytes().to_vec(), "text/plain", &[])
            .await
            .unwrap();
    }
    let mut config = config(&b, None);
    config.live_pointer = Some("current".into());
    let view = AppState::new(config).scan_view(None, false).await.unwrap();
    assert!(
        (view.scan_warnings.as_deref().unwrap_or_default()).contains(
            "Warning: the live pointer's versions inside the live grace were not all read"
        ),
        "{:?}",
        view.scan_warnings
    );
}
