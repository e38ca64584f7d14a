//! The dashboard's server side against LocalStack: what the #[server] functions call.
#![cfg(feature = "ssr")]

use app::server::{parse_bucket_arg, AppState, ServeConfig};
use app::wire::{ApplyOutcome, ApplyRequest};
use bucket::testkit::{all_keys, fresh_bucket, localstack, put_many, remove_keys};
use bucket::Bucket;
use retention::{DateSource, Policy, Retain};
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn seeded(hint: &str, ids: &[&str]) -> Bucket {
    let b = fresh_bucket(hint).await;
    for (i, id) in ids.iter().enumerate() {
        // meta dates: i days apart, newest first, no waiting for LastModified to tick
        let at = (chrono::Utc::now() - chrono::Duration::days(i as i64)).to_rfc3339();
        put_many(
            &b,
            [format!("{id}/index.html"), format!("{id}/app.css")],
            &[("deployed-at", &at)],
        )
        .await;
    }
    b
}

fn state_for(b: &Bucket) -> AppState {
    state_with(b, None)
}

/// `lifecycle_over`: as `serve --via-lifecycle --lifecycle-threshold N`.
fn state_with(b: &Bucket, lifecycle_over: Option<u64>) -> AppState {
    AppState::new(config(b, lifecycle_over))
}

/// As `serve --approval-over N --notify URL` (`for_bucket`: `--approval-over BUCKET=N`, and
/// another bucket's threshold that must not apply): the webhook's bodies land in the list.
async fn approving(
    b: &Bucket,
    over: u64,
    for_bucket: bool,
) -> (AppState, Arc<Mutex<Vec<serde_json::Value>>>) {
    let (url, bodies) = webhook().await;
    let (default, own) = match for_bucket {
        false => (Some(over), vec![]),
        true => (
            None,
            vec![(b.name().to_string(), over), ("other-bucket".into(), 99)],
        ),
    };
    let state = AppState::new(ServeConfig {
        approval_over: default,
        approval_over_for: own.into_iter().collect(),
        notifier: prune::Notifier::new(vec![url.parse().unwrap()]),
        ..config(b, None)
    });
    (state, bodies)
}

/// A webhook receiver on loopback: one request per connection, every JSON body kept.
async fn webhook() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = bodies.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Headers, then as many body bytes as Content-Length says.
            let body = loop {
                let n = conn.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len: usize = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break Some(buf[end + 4..end + 4 + len].to_vec());
                    }
                }
            };
            if let Some(body) = body {
                if let Ok(v) = serde_json::from_slice(&body) {
                    kept.lock().unwrap().push(v);
                }
            }
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await;
        }
    });
    (url, bodies)
}

fn statuses(bodies: &Mutex<Vec<serde_json::Value>>) -> Vec<String> {
    bodies
        .lock()
        .unwrap()
        .iter()
        .filter(|b| b["kind"] == "approval")
        .map(|b| b["status"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn config(b: &Bucket, lifecycle_over: Option<u64>) -> ServeConfig {
    ServeConfig {
        connect: localstack(),
        buckets: vec![parse_bucket_arg(b.name()).unwrap()],
        date_source: DateSource::Meta("deployed-at".into()),
        concurrency: 8,
        live_pointer: None,
        live_from: None,
        inventory: None,
        max_delete: 100,
        lifecycle_over,
        read_only: false,
        schedule: None,
        rules: None,
        notifier: prune::Notifier::default(),
        audit: Some(std::sync::Arc::new(
            audit::AuditLog::open(
                &std::env::temp_dir().join(format!("s3p-sf-audit-{}.sqlite", b.name())),
            )
            .unwrap(),
        )),
        approval_over: None,
        approval_over_for: Default::default(),
        approval_key: approval_key(),
    }
}

/// The approval key of every dashboard in these tests.
fn approval_key() -> prune::approval::ApprovalKey {
    prune::approval::ApprovalKey::new(b"the tests' approval key").unwrap()
}

/// What the browser does: plan over the scan it was given, with its `now`.
async fn preview(state: &AppState, bucket: &str, retain: u64) -> ApplyRequest {
    let view = state.scan_view(Some(bucket), false).await.unwrap();
    let mut p = Policy::new(Retain::new(retain).unwrap());
    p.date_source = view.date_source.clone();
    let plan = retention::plan(&view.inventory, &p, view.now);
    ApplyRequest {
        bucket: bucket.into(),
        retain,
        min_days: None,
        policy: None,
        confirmed: plan.deletion_set(),
        confirm: bucket.into(),
    }
}

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
        .is_some_and(|n| n.starts_with("a scan of this bucket finished")));
    // …and a new one once the spacing has passed.
    tokio::time::sleep(app::server::RESCAN_GAP.to_std().unwrap()).await;
    let fresh = state.scan_view(Some(b.name()), true).await.unwrap();
    assert_eq!(fresh.inventory.deployments.len(), 4);
    assert_eq!(fresh.notice, None);
}

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
async fn an_apply_while_another_holds_the_bucket_is_refused_and_the_page_says_who() {
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
        error.contains("another apply holds this bucket: ops@laptop (cli on laptop"),
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

/// The bucket's keys but s3-prune's own (`.s3-prune/`: approvals, pins).
async fn deployment_keys(b: &Bucket) -> Vec<String> {
    let mut keys = all_keys(b).await;
    keys.retain(|k| !k.contains(".s3-prune/"));
    keys
}

/// The whole record of the apply `job` once it ended (the page is sent its report; the
/// record is History's).
async fn report_of(state: &AppState, job: u64) -> audit::Record {
    let id = loop {
        let s = state.job_status(job).unwrap();
        if let Some(r) = s.report {
            break r.id;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let runs = state.history(50).await.unwrap();
    runs.into_iter()
        .find(|r| r.id == id)
        .expect("the run is on record")
}

#[tokio::test]
async fn a_large_apply_waits_for_a_second_deployer_and_the_requester_cannot_approve_it() {
    let b = seeded("sf-approve", &["d1", "d2", "d3", "d4"]).await;
    let (state, hook) = approving(&b, 2, false).await;
    // Two deployments: within what one person may do.
    let small = preview(&state, b.name(), 2).await;
    assert_eq!(small.confirmed.len(), 2);
    let big = preview(&state, b.name(), 1).await;
    let ApplyOutcome::AwaitingApproval { id, message } =
        state.start_apply(big, "alice@example.com").await.unwrap()
    else {
        panic!("a 3-deployment apply ran without approval")
    };
    assert!(message.contains("second deployer"), "{message}");
    assert_eq!(
        deployment_keys(&b).await.len(),
        8,
        "nothing deleted while it waits"
    );
    let listed = state
        .approvals(b.name(), "alice@example.com")
        .await
        .unwrap();
    assert_eq!(
        (listed[0].id.as_str(), listed[0].mine, listed[0].pending),
        (id.as_str(), true, true)
    );
    assert_eq!(listed[0].ids, vec!["d2", "d3", "d4"]);

    let own = state
        .approve(b.name(), &id, "alice@example.com")
        .await
        .unwrap_err();
    assert!(own.0.contains("another deployer"), "{}", own.0);
    let bob = app::wire::Person {
        name: "bob@example.com".into(),
        via: "oidc".into(),
        role: app::wire::Role::Deployer,
        bucket_roles: Default::default(),
        account: "https://idp.example.com#bob".into(),
    };
    let ApplyOutcome::Started { job } = state.approve(b.name(), &id, &bob).await.unwrap() else {
        panic!("the approved request did not run")
    };
    let report = report_of(&state, job).await;
    assert_eq!(report.deleted.len(), 3);
    assert_eq!(
        report.who,
        "alice@example.com (approved by bob@example.com)"
    );
    assert_eq!(
        report.via.as_deref(),
        Some("oidc"),
        "how the approver signed in"
    );
    assert_eq!(
        deployment_keys(&b).await,
        vec!["d1/app.css", "d1/index.html"]
    );
    // Decided once: nobody approves it again.
    let again = state
        .approve(b.name(), &id, "carol@example.com")
        .await
        .unwrap_err();
    assert!(
        again
            .0
            .contains("already decided: approved by bob@example.com"),
        "{}",
        again.0
    );
    let listed = state
        .approvals(b.name(), "carol@example.com")
        .await
        .unwrap();
    assert_eq!(
        (listed[0].pending, listed[0].status.as_str()),
        (false, "approved by bob@example.com")
    );
    // The webhooks heard the request and its approval (then the run's own summary).
    assert_eq!(statuses(&hook), vec!["requested", "approved"]);
    let asked = hook.lock().unwrap()[0]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        asked.contains("alice@example.com asks a second deployer"),
        "{asked}"
    );
}

#[tokio::test]
async fn a_request_whose_deletion_set_changed_is_void_and_deletes_nothing() {
    let b = seeded("sf-void", &["d1", "d2", "d3", "d4"]).await;
    let (state, hook) = approving(&b, 0, true).await;
    let req = preview(&state, b.name(), 2).await;
    let ApplyOutcome::AwaitingApproval { id, .. } = state.start_apply(req, "alice").await.unwrap()
    else {
        panic!("ran without approval")
    };
    // A deployment pinned since the request: the plan no longer deletes what alice confirmed.
    state
        .set_pin(b.name(), "d3", "keep for the audit", true, "carol")
        .await
        .unwrap();
    let ApplyOutcome::Changed { message } = state.approve(b.name(), &id, "bob").await.unwrap()
    else {
        panic!("a changed request ran")
    };
    assert!(message.contains("void"), "{message}");
    assert_eq!(deployment_keys(&b).await.len(), 8, "nothing deleted");
    let listed = state.approvals(b.name(), "bob").await.unwrap();
    assert!(listed[0].status.starts_with("void"), "{}", listed[0].status);
    // A refusal is on record too, and is final.
    let req = preview(&state, b.name(), 1).await;
    let ApplyOutcome::AwaitingApproval { id, .. } = state.start_apply(req, "alice").await.unwrap()
    else {
        panic!("ran without approval")
    };
    state.refuse_request(b.name(), &id, "bob").await.unwrap();
    let late = state.approve(b.name(), &id, "carol").await.unwrap_err();
    assert!(late.0.contains("refused by bob"), "{}", late.0);
    assert_eq!(deployment_keys(&b).await.len(), 8);
    // The refused (sealed) request copied under a new id is not a new request.
    let place = bucket::JournalPlace::of(&b).approvals();
    let body = place
        .read(&bucket::RunId::parse(&id).unwrap(), "request.json")
        .await
        .unwrap()
        .unwrap();
    let copy = bucket::RunId::new(chrono::Utc::now());
    place.write(&copy, "request.json", body).await.unwrap();
    let copied = state
        .approve(b.name(), &copy.to_string(), "carol")
        .await
        .unwrap_err();
    assert!(copied.0.contains("it says it is request"), "{}", copied.0);
    assert_eq!(deployment_keys(&b).await.len(), 8);
    assert_eq!(
        statuses(&hook),
        vec!["requested", "void", "requested", "refused"]
    );
}

#[tokio::test]
async fn a_request_nobody_decided_in_time_expires_on_record_and_cannot_be_approved() {
    let b = seeded("sf-expire", &["d1", "d2", "d3"]).await;
    let (state, hook) = approving(&b, 0, false).await;
    let req = preview(&state, b.name(), 1).await;
    // Filed 25 hours ago: past its 24 hours.
    let mut old = prune::approval::ApprovalRequest::new(
        &b,
        "alice",
        prune::approval::Asked {
            retain: 1,
            min_days: None,
            policy: None,
        },
        req.confirmed,
        "fingerprint".into(),
    );
    old.requested_at -= chrono::Duration::hours(25);
    old.expires_at -= chrono::Duration::hours(25);
    let old = prune::approval::file_request(&b, old, &approval_key(), &prune::Notifier::default())
        .await
        .unwrap();
    let listed = state.approvals(b.name(), "bob").await.unwrap();
    assert_eq!(
        (listed[0].pending, listed[0].status.as_str()),
        (false, "expired")
    );
    let late = state.approve(b.name(), &old.id, "bob").await.unwrap_err();
    assert!(late.0.contains("expired"), "{}", late.0);
    assert_eq!(deployment_keys(&b).await.len(), 6, "nothing deleted");
    // The expiry is on record now (a decision), and the webhooks heard it.
    let a = prune::approval::read(&b, &old.id).await.unwrap();
    assert!(matches!(
        a.decision,
        Some(prune::approval::Decision::Expired { .. })
    ));
    assert_eq!(statuses(&hook), vec!["expired"]);
}

/// "Nobody decides their own request" holds for the account, not only the name it shows: who
/// changed their email at the provider (same `sub`) still cannot approve what they asked.
#[tokio::test]
async fn a_requester_who_signs_in_under_a_new_name_still_cannot_approve_their_request() {
    let b = seeded("sf-renamed", &["d1", "d2", "d3"]).await;
    let (state, _hook) = approving(&b, 0, false).await;
    let person = |name: &str, account: &str| app::server::Actor {
        name: name.into(),
        via: Some("oidc".into()),
        account: Some(account.into()),
    };
    let req = preview(&state, b.name(), 1).await;
    let asked = state
        .start_apply(
            req,
            person("alice@example.com", "https://idp.example.com#a1"),
        )
        .await
        .unwrap();
    let ApplyOutcome::AwaitingApproval { id, .. } = asked else {
        panic!("ran without approval")
    };
    let own = state
        .approve(
            b.name(),
            &id,
            person("alice.new@example.com", "https://idp.example.com#a1"),
        )
        .await
        .unwrap_err();
    assert!(own.0.contains("another deployer"), "{}", own.0);
    let own = state
        .refuse_request(
            b.name(),
            &id,
            person("alice.new@example.com", "https://idp.example.com#a1"),
        )
        .await
        .unwrap_err();
    assert!(own.0.contains("another deployer"), "{}", own.0);
    assert_eq!(deployment_keys(&b).await.len(), 6, "nothing deleted");
    // Someone else (another account) may.
    let ApplyOutcome::Started { .. } = state
        .approve(
            b.name(),
            &id,
            person("bob@example.com", "https://idp.example.com#b2"),
        )
        .await
        .unwrap()
    else {
        panic!("bob's approval did not run it")
    };
}

/// The bucket's two-person rule (`approval.json`, recorded by the team's dashboard) holds on
/// every dashboard: one started without `--approval-over` (a laptop's, token sign-in) refuses a
/// larger apply and names where to ask; one with a laxer threshold asks at the stricter one; and
/// none weakens the recorded rule when it starts.
#[tokio::test]
async fn the_buckets_two_person_rule_holds_on_a_dashboard_started_without_it() {
    let b = seeded("sf-rule", &["d1", "d2", "d3", "d4"]).await;
    let rule = prune::approval::ApprovalRule {
        over: 1,
        dashboard: "https://prune.example.com".into(),
        set_at: chrono::Utc::now(),
    };
    prune::approval::write_rule(&b, &rule).await.unwrap();
    let laptop = state_for(&b);
    let req = preview(&laptop, b.name(), 1).await;
    assert_eq!(req.confirmed.len(), 3);
    let refused = match laptop.start_apply(req.clone(), "mallory").await {
        Err(e) => e.0,
        Ok(outcome) => panic!("ran past the bucket's rule: {outcome:?}"),
    };
    assert!(refused.contains("https://prune.example.com"), "{refused}");
    assert!(refused.contains("Nothing was deleted"), "{refused}");
    assert_eq!(deployment_keys(&b).await.len(), 8, "nothing deleted");

    let (lax, _hook) = approving(&b, 5, false).await;
    lax.publish_approval_rule("https://lax.example.com")
        .await
        .unwrap();
    let kept = prune::approval::read_rule(&b).await.unwrap().unwrap();
    assert_eq!(
        (kept.over, kept.dashboard.as_str()),
        (1, "https://prune.example.com")
    );
    let ApplyOutcome::AwaitingApproval { .. } = lax.start_apply(req, "alice").await.unwrap() else {
        panic!("3 deployments, more than the bucket's 1: a request")
    };
    assert_eq!(deployment_keys(&b).await.len(), 8, "nothing deleted");
}

/// Someone who may write under the bucket's `.s3-prune/` (a deploy pipeline's PutObject) but is
/// one person on the dashboard cannot file a request in another's name and approve it: a
/// request not sealed with this dashboard's approval key is never run.
#[tokio::test]
async fn a_request_written_into_the_bucket_by_hand_cannot_be_approved_and_deletes_nothing() {
    let b = seeded("sf-forged", &["d1", "d2", "d3"]).await;
    let (state, _hook) = approving(&b, 0, false).await;
    let req = preview(&state, b.name(), 1).await;
    let view = state.scan_view(Some(b.name()), false).await.unwrap();
    let mut p = Policy::new(Retain::new(1).unwrap());
    p.date_source = view.date_source.clone();
    let fingerprint = retention::plan(&view.inventory, &p, view.now).fingerprint();
    // Mallory writes a request "by carol" for what she previewed, then approves it herself.
    let forged = prune::approval::ApprovalRequest::new(
        &b,
        "carol@example.com",
        prune::approval::Asked {
            retain: 1,
            min_days: None,
            policy: None,
        },
        req.confirmed,
        fingerprint,
    );
    let run = bucket::RunId::parse(&forged.id).unwrap();
    bucket::JournalPlace::of(&b)
        .approvals()
        .write(&run, "request.json", serde_json::to_vec(&forged).unwrap())
        .await
        .unwrap();
    let refused = state
        .approve(b.name(), &forged.id, "mallory@example.com")
        .await;
    let err = match refused {
        Err(e) => e.0,
        Ok(outcome) => panic!("a forged request was run: {outcome:?}"),
    };
    assert!(err.contains("not sealed"), "{err}");
    assert!(err.contains("--approval-key-file"), "{err}");
    assert_eq!(deployment_keys(&b).await.len(), 6, "nothing deleted");
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
    prune::health::note_success(&b, &cli).await;
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

/// A finished run's record as a front end would have journalled or logged it.
fn past_run(
    b: &Bucket,
    source: &str,
    at: chrono::DateTime<chrono::Utc>,
    deleted: usize,
) -> audit::Record {
    let mut r = audit::Record::begin(source, source, b.name(), "", at);
    r.status = audit::Status::Finished;
    r.deleted = (0..deleted)
        .map(|i| audit::DeletedDeployment {
            id: format!("old-{i:04}"),
            objects: 3,
            bytes: 100,
        })
        .collect();
    r.deleted_objects = 3 * deleted as u64;
    r
}

#[tokio::test]
async fn history_comes_a_page_of_summaries_at_a_time_with_unreadable_runs_listed_and_details_on_demand(
) {
    let b = fresh_bucket("sf-history").await;
    let state = state_for(&b);
    let place = bucket::JournalPlace::of(&b);
    let local = audit::AuditLog::open(
        &std::env::temp_dir().join(format!("s3p-sf-audit-{}.sqlite", b.name())),
    )
    .unwrap();
    let t0 = chrono::Utc::now() - chrono::Duration::days(1);
    // 60 runs of other front ends in the bucket's journal (the oldest deleted 300 deployments),
    // after 30 of this server's own in its log; one of the journal's is in the log too. The
    // journal alone fills more than a page.
    let mut journalled = Vec::new();
    for i in 0..60 {
        let at = t0 + chrono::Duration::minutes(100 + i);
        let id = bucket::RunId::new(at);
        let mut r = past_run(
            &b,
            if i % 2 == 0 { "cli" } else { "lambda" },
            at,
            if i == 0 { 300 } else { 2 },
        );
        r.run = Some(id.to_string());
        place
            .write(&id, "end.json", serde_json::to_vec(&r).unwrap())
            .await
            .unwrap();
        journalled.push((id, r));
    }
    for i in 0..30 {
        let at = t0 + chrono::Duration::minutes(i);
        local.append(past_run(&b, "dashboard", at, 1)).unwrap();
    }
    let (twin_id, twin) = journalled[5].clone();
    let twin_number = local.append(twin).unwrap().id.unwrap();
    // What is no run: a foreign folder, and a run whose record is damaged.
    b.put(
        ".s3-prune/runs/not-a-run/x.json",
        b"{}".to_vec(),
        "application/json",
        &[],
    )
    .await
    .unwrap();
    let damaged = bucket::RunId::new(t0 + chrono::Duration::minutes(50));
    place
        .write(&damaged, "end.json", b"{not json".to_vec())
        .await
        .unwrap();
    // Damaged runs among the journal's newest take no place on a page: nothing is passed over.
    for m in [200, 201] {
        let newest = bucket::RunId::new(t0 + chrono::Duration::minutes(m));
        place
            .write(&newest, "end.json", b"[]".to_vec())
            .await
            .unwrap();
    }

    let first = state.history_page(None).await.unwrap();
    assert_eq!(first.runs.len(), app::server::HISTORY_PAGE);
    let names: Vec<&str> = first.unreadable.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(
        names.len(),
        3,
        "the foreign folder and the two newest: {names:?}"
    );
    assert!(names.contains(&"not-a-run"), "{names:?}");
    let second = state.history_page(first.next.clone()).await.unwrap();
    let names: Vec<&str> = second.unreadable.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(
        names,
        vec![damaged.as_str()],
        "named on the page whose span holds it"
    );
    assert!(second.next.is_none(), "90 runs fit on two pages");
    let all: Vec<_> = first.runs.iter().chain(&second.runs).collect();
    assert_eq!(
        all.len(),
        90,
        "every run once: 60 journalled, 30 of this server's"
    );
    assert!(
        all.windows(2).all(|w| w[0].started_at >= w[1].started_at),
        "newest first"
    );
    let keys: std::collections::HashSet<&str> = all.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys.len(), 90);
    let twin_row = all.iter().find(|r| r.key == twin_id.as_str()).unwrap();
    assert_eq!(
        twin_row.label,
        format!("#{twin_number}"),
        "a run in both is shown with this server's number"
    );
    // A row is a summary: the 300 deployments are counted, not sent.
    let big = all
        .iter()
        .find(|r| r.key == journalled[0].0.as_str())
        .unwrap();
    assert_eq!((big.deployments, big.objects), (300, 900));
    let page_bytes = serde_json::to_vec(&second).unwrap().len();
    assert!(
        page_bytes < 40 * 1024,
        "a page of 40 summaries is small: {page_bytes} B"
    );

    // Opened, a row's details come from its record, cut at what a page shows.
    let details = state.run_details(&big.handle).await.unwrap();
    assert_eq!(details.deployments.len(), app::wire::RunDetails::SHOWN);
    assert_eq!(details.not_shown, 100);
    assert!(
        details
            .whole_record
            .ends_with(&format!("{}/", journalled[0].0)),
        "{}",
        details.whole_record
    );
    assert!(
        details.deployments[0].starts_with("old-0000 (3 objects"),
        "{:?}",
        details.deployments[0]
    );
    let ours = state.run_details(&twin_number.to_string()).await.unwrap();
    assert_eq!(ours.deployments.len(), 2);
    assert!(state
        .run_details("20990101T000000000Z-00000000")
        .await
        .is_err());
}

#[tokio::test]
async fn a_run_that_ended_is_read_once_and_a_running_one_until_it_ends() {
    let b = fresh_bucket("sf-ended").await;
    let state = state_for(&b);
    let place = bucket::JournalPlace::of(&b);
    let t0 = chrono::Utc::now() - chrono::Duration::hours(1);
    let ended = bucket::RunId::new(t0);
    let mut r = past_run(&b, "cli", t0, 1);
    r.run = Some(ended.to_string());
    let mut began = r.clone();
    began.status = audit::Status::Started;
    let start = serde_json::json!({ "record": began, "doomed": [] });
    place
        .write(&ended, "start.json", serde_json::to_vec(&start).unwrap())
        .await
        .unwrap();
    place
        .write(&ended, "end.json", serde_json::to_vec(&r).unwrap())
        .await
        .unwrap();
    let at = t0 + chrono::Duration::minutes(5);
    let running = bucket::RunId::new(at);
    let mut s = past_run(&b, "lambda", at, 0);
    s.status = audit::Status::Started;
    let start = serde_json::json!({ "record": s, "doomed": [] });
    place
        .write(&running, "start.json", serde_json::to_vec(&start).unwrap())
        .await
        .unwrap();
    let statuses = |runs: &[audit::Record]| {
        runs.iter()
            .map(|r| (r.source.clone(), r.status))
            .collect::<Vec<_>>()
    };
    let first = state.history(10).await.unwrap();
    assert_eq!(
        statuses(&first),
        [
            ("lambda".to_string(), audit::Status::Started),
            ("cli".to_string(), audit::Status::Finished)
        ]
    );

    // The ended run's end record is taken away (nothing rewrites a journal; read again, the
    // run would show as started), and the running one ends.
    remove_keys(&b, [format!(".s3-prune/runs/{ended}/end.json")]).await;
    s.status = audit::Status::Finished;
    place
        .write(&running, "end.json", serde_json::to_vec(&s).unwrap())
        .await
        .unwrap();
    let second = state.history(10).await.unwrap();
    assert_eq!(
        statuses(&second),
        [
            ("lambda".to_string(), audit::Status::Finished),
            ("cli".to_string(), audit::Status::Finished)
        ],
        "the ended run from what was read before, the running one read again"
    );
}
