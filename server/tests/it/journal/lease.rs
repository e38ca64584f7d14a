//! One apply per bucket and prefix, everywhere: the lease refuses a second apply naming its
//! holder, nothing is journalled or sent before it is held, a run that loses it stops sending,
//! and a run removes only its own.

use super::*;

/// Writes over the bucket's lease, unconditionally, one of run `run` on another host, valid
/// for years (as another run taking it over would).
async fn put_foreign_lease(b: &Bucket, run: &str) {
    let other = format!(
        r#"{{"run":"{run}","who":"ops@elsewhere","source":"cli","host":"elsewhere","since":"2026-12-04T00:00:00Z","expires":"2099-01-01T00:00:00Z","pid":1}}"#
    );
    b.put(&b.lease_key(), other.into_bytes(), "application/json", &[])
        .await
        .unwrap();
}

/// `s3-prune restore BUCKET --run RUN` on "another machine" through the endpoint at `url`,
/// running.
fn restore_via(url: &str, b: &Bucket, run: &str) -> Child {
    let db = elsewhere();
    Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args(["restore", b.name(), "--run", run, "--localstack"])
        .args(["--audit-db", db.to_str().unwrap()])
        .env("AWS_ENDPOINT_URL", url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_apply_while_one_runs_is_refused_naming_the_holder() {
    let b = fresh_bucket("lease").await;
    deploy(&b, &["d1", "d2", "d3", "d4", "d5"], 150).await;
    // The first apply's deletes are held 5 s at the proxy: it is mid-run, holding the lease,
    // whenever the second starts (before, a second apply started once d1 was gone could
    // arrive after the first had ended on a busy machine).
    let mut p = Proxy::new(0);
    p.delay_delete = Some(Duration::from_secs(5));
    let (url, proxy) = start(p).await;
    let first = apply_via(&url, &b, "1", 1, &[]);
    until_counted("the first DeleteObjects", &proxy.stats.deletes_now).await;

    let out = s3_prune(&["apply", b.name(), "1", "--localstack", "--yes", "--json"]);
    let err = stderr(&out);
    assert!(
        !out.status.success(),
        "the second apply ran: {}",
        stdout(&out)
    );
    assert!(err.contains("another apply holds this bucket"), "{err}");
    assert!(
        err.contains("cli on "),
        "names the holder's source and host: {err}"
    );
    // The refused run listed beside its lease request, and journalled nothing.
    let runs: std::collections::BTreeSet<String> = keys_under(&b, ".s3-prune/runs/")
        .await
        .iter()
        .filter_map(|k| k.split('/').nth(2).map(str::to_string))
        .collect();
    assert_eq!(runs.len(), 1, "only the first run is on record: {runs:?}");

    let out = finish(first);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(all_keys(&b).await.len(), 150, "only d5 is left");
    assert!(!lease_taken(&b).await, "the lease is released at the end");
    // And the bucket is free again.
    let out = s3_prune(&["apply", b.name(), "1", "--localstack", "--yes", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A lease of an older s3-prune (no `ttl_secs`) whose host runs 70 s behind, renewed seconds
/// ago: its written expiry is already past by this clock, but S3 wrote it a moment ago. Before,
/// it was taken over at once and both runs deleted (reviewer: "Deleted 4 objects").
#[tokio::test]
async fn an_older_versions_lease_renewed_moments_ago_holds_whatever_its_hosts_clock() {
    let b = fresh_bucket("lease-older").await;
    deploy(&b, &["d1", "d2", "d3"], 2).await;
    let behind = chrono::Utc::now() - chrono::Duration::seconds(70);
    let older = serde_json::json!({
        "run": "20261206T000000000Z-0ldb0001",
        "who": "ci@runner",
        "source": "cli",
        "host": "runner-7",
        "since": behind,
        "expires": behind + chrono::Duration::seconds(60),
        "pid": 4242,
    });
    b.put(
        &b.lease_key(),
        older.to_string().into_bytes(),
        "application/json",
        &[],
    )
    .await
    .unwrap();
    let out = s3_prune(&["apply", b.name(), "1", "--localstack", "--yes", "--json"]);
    assert!(
        !out.status.success(),
        "the second apply ran: {}",
        stdout(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("another apply holds this bucket"), "{err}");
    assert_eq!(all_keys(&b).await.len(), 6, "nothing deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_journalled_or_sent_before_the_lease_is_held() {
    // The lease goes out beside the first listings. Here it is slow, then refused: no batch,
    // and no part of the run's journal, may have gone before it.
    let (b, before) = three_deployments("lease-slow").await;
    let (url, _proxy) = start(slow_then_refused("/.s3-prune/lease")).await;
    let out = apply_with_journal_refused(&b, &url);
    assert!(!out.status.success(), "{}", stdout(&out));
    let err = stderr(&out);
    let said = err
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    assert!(
        said.contains("s3:PutObject") && said.contains(".s3-prune/lease"),
        "ends naming the lease and the IAM action: {err}"
    );
    assert!(
        !err.contains("could not be recorded before this batch"),
        "the refusal stops the listings; no batch got as far as waiting for the run's start: {err}"
    );
    assert_eq!(all_keys(&b).await, before, "no lease, no deletion");
    let journal = keys_under(&b, ".s3-prune/runs/").await;
    assert!(journal.is_empty(), "no lease, no record: {journal:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_loses_its_lease_sends_no_new_batch() {
    // 80 doomed deployments, one slow request slot: a run of about a minute if nothing stops
    // it, so the lease's first renewal (after 20 s) happens mid-run.
    let b = fresh_bucket("lease-lost").await;
    let ids: Vec<String> = (0..81).map(|i| format!("l{i:02}")).collect();
    let keys = ids
        .iter()
        .flat_map(|id| (0..3).map(move |f| format!("{id}/f{f}.js")));
    put_many(&b, keys, &[]).await;
    let child = slow_apply(&b, "1", Duration::from_millis(250)).await;
    until("the run's lease", || lease_taken(&b)).await;
    // Meanwhile the lease changed hands (as after an expiry someone else took it): the run's
    // next renewal finds it is no longer its own.
    put_foreign_lease(&b, "someone-else").await;
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "it stopped at the renewal, not at the end"
    );
    assert!(!out.status.success(), "a run that lost its lease says so");
    let report = json(&out);
    let failures = report["audit"]["failures"].to_string();
    assert!(
        failures.contains("the run stopped") && failures.contains("lease"),
        "{report}"
    );
    assert_eq!(report["audit"]["status"], "failed", "{report}");
    let left = all_keys(&b).await.len();
    assert!(
        left > 3,
        "no batch after the loss: {left} keys left of 243 (3 kept)"
    );
    // The other holder's lease is not removed by the run that lost it.
    let (holder, _) = b.read_lease().await.unwrap().expect("still there");
    assert_eq!(holder.run, "someone-else");
}

/// A renewal that hangs (a stalled connection; the SDK waits minutes) must not let the run go
/// on deleting once its lease may have expired and another run taken it over: unanswered 25 s
/// before the expiry, the run stops sending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_lease_renewal_hangs_stops_before_the_lease_can_expire() {
    // 120 doomed deployments, one slow request slot (500 ms a request): over a minute
    // unstopped.
    let b = fresh_bucket("lease-hang").await;
    let ids: Vec<String> = (0..121).map(|i| format!("h{i:03}")).collect();
    let keys = ids
        .iter()
        .flat_map(|id| (0..3).map(move |f| format!("{id}/f{f}.js")));
    put_many(&b, keys, &[]).await;
    let mut p = Proxy::new(0);
    p.delay_all = Some(Duration::from_millis(500));
    // The lease's first two PUTs (its taking, the conditional-write probe) go through; the
    // first renewal, 10 s in, hangs for 100 s.
    p.hang_put = Some(("/.s3-prune/lease".into(), 2, Duration::from_secs(100)));
    let (url, _proxy) = start(p).await;
    let child = apply_via(&url, &b, "1", 1, &["--max-delete", "200"]);
    until("the run's lease", || lease_taken(&b)).await;
    let taken = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        taken.elapsed() < Duration::from_secs(58),
        "it stopped before its lease could expire, not after {:?}",
        taken.elapsed()
    );
    assert!(!out.status.success(), "a run that lost its lease says so");
    let report = json(&out);
    let failures = report["audit"]["failures"].to_string();
    assert!(
        failures.contains("the run stopped") && failures.contains("renewed before it expires"),
        "{report}"
    );
    let left = all_keys(&b).await.len();
    assert!(
        left > 3,
        "stopped mid-run: {left} keys left of 363 (3 kept)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_never_removes_a_lease_that_changed_hands_even_one_it_was_sure_of() {
    // A lease just taken and probed on a server that honours conditions (LocalStack) is
    // removed at the end without being read back first, but with If-Match on its ETag: one
    // replaced meanwhile (another host taking over a holder it thought dead) stays.
    let b = fresh_bucket("lease-swap").await;
    let since = chrono::Utc::now();
    let holder = bucket::LeaseHolder {
        run: "ours".into(),
        who: "ci@here".into(),
        source: "cli".into(),
        host: "here".into(),
        since,
        expires: since + chrono::Duration::seconds(60),
        pid: std::process::id(),
        pid_ns: bucket::pid_namespace(),
        ttl_secs: None,
        task: None,
    };
    let lease = b.take_lease(holder).await.unwrap();
    assert!(lease.conditional, "LocalStack honours If-None-Match");
    put_foreign_lease(&b, "theirs").await;
    b.release_lease(&lease, None).await.unwrap();
    let (now, _) = b.read_lease().await.unwrap().expect("their lease stays");
    assert_eq!(now.run, "theirs");

    // Not replaced: removed.
    let b = fresh_bucket("lease-own").await;
    let mut holder = lease.holder();
    holder.since = chrono::Utc::now();
    holder.expires = holder.since + chrono::Duration::seconds(60);
    let lease = b.take_lease(holder).await.unwrap();
    b.release_lease(&lease, None).await.unwrap();
    assert!(!lease_taken(&b).await, "its own lease is removed");
}

/// Before: a run at its end whose lease had little life left read it as its own and removed it
/// without a condition (LocalStack refuses a conditional removal): a removal landing after
/// another run took the expired lease over removed that run's lease, and a third apply could
/// start beside it (review). Where a removal cannot be conditional, a lease with under 20 s to
/// live is left to expire; one with time to spare is removed as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_about_to_expire_is_left_to_expire_where_its_removal_cannot_be_conditional() {
    let b = fresh_bucket("lease-expiring").await;
    let holder = |run: &str, ttl: i64| {
        let since = chrono::Utc::now();
        bucket::LeaseHolder {
            run: run.into(),
            who: "ci@here".into(),
            source: "cli".into(),
            host: "here".into(),
            since,
            expires: since + chrono::Duration::seconds(ttl),
            pid: std::process::id(),
            pid_ns: bucket::pid_namespace(),
            ttl_secs: Some(ttl as u64),
            task: None,
        }
    };
    let lease = b.take_lease(holder("short", 10)).await.unwrap();
    b.release_lease(&lease, None).await.unwrap();
    let (left, _) = b.read_lease().await.unwrap().expect("left to expire");
    assert_eq!(left.run, "short");
    // Expired, it is taken over as any stopped run's is.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let next = b.take_lease(holder("next", 60)).await.unwrap();
    b.release_lease(&next, None).await.unwrap();
    assert!(
        !lease_taken(&b).await,
        "a lease with time to spare is removed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_server_that_ignores_conditional_writes_a_run_warns_and_still_removes_its_own_lease() {
    // The proxy drops If-None-Match and If-Match, as Garage 2.5 ignores them. The lease cannot
    // stop a second apply there: the run says so, and --require-lease refuses before anything
    // is journalled or deleted. Without it the run goes on; its lease, read back while its
    // last batches were in flight, is removed at the end.
    let b = fresh_bucket("no-conditions").await;
    deploy(&b, &["n1", "n2", "n3"], 30).await;
    let before = all_keys(&b).await;
    let mut p = Proxy::new(0);
    p.ignore_conditions = true;
    let (url, _proxy) = start(p).await;
    let apply = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_s3-prune"))
            .args(["apply", b.name(), "1", "--localstack", "--yes", "--json"])
            .args(extra)
            .env("AWS_ENDPOINT_URL", &url)
            .env("S3_PRUNE_AUDIT_DB", audit_db())
            .stdin(Stdio::null())
            .output()
            .expect("running s3-prune")
    };
    // A run holding the lease (another host's): --require-lease refuses naming it and leaves
    // its lease as it was. Before, its create overwrote that lease (the condition ignored) and
    // its refusal then removed it: the running apply showed as died, and nobody held the bucket.
    put_foreign_lease(&b, "20261204T000000000Z-0000beef").await;
    let refused = apply(&["--require-lease"]);
    assert!(
        stderr(&refused).contains("another apply holds this bucket"),
        "{}",
        stderr(&refused)
    );
    let (holder, _) = b.read_lease().await.unwrap().expect("the holder's lease");
    assert_eq!(holder.run, "20261204T000000000Z-0000beef");
    bucket::testkit::remove_keys(&b, [b.lease_key()]).await;
    let refused = apply(&["--require-lease"]);
    assert!(!refused.status.success(), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("conditional"),
        "says why: {}",
        stderr(&refused)
    );
    assert_eq!(all_keys(&b).await, before, "nothing deleted");
    assert!(!lease_taken(&b).await, "the refused run left no lease");

    let out = apply(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the server ignores conditional writes"),
        "warned: {}",
        stderr(&out)
    );
    assert_eq!(json(&out)["deleted_objects"], 60);
    assert!(!lease_taken(&b).await, "its own lease is removed");
}

/// A restore outlasting the lease's minute renews it as an apply does: an apply started past
/// that minute is refused, not let in beside the restore (which would delete again what it is
/// bringing back).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_longer_than_the_leases_life_keeps_it_and_an_apply_meanwhile_is_refused() {
    let b = fresh_bucket("restore-lease").await;
    b.enable_versioning().await.unwrap();
    put_many(&b, (0..80).map(|i| format!("r{i:03}/index.html")), &[]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    put_many(&b, ["new/index.html".to_string()], &[]).await;
    let before = all_keys(&b).await;
    let applied = s3_prune(&[
        "apply",
        b.name(),
        "1",
        "--localstack",
        "--yes",
        "--json",
        "--max-delete",
        "100",
    ]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    let run = json(&applied)["audit"]["run"].as_str().unwrap().to_string();
    assert_eq!(all_keys(&b).await, ["new/index.html"]);
    // Published since: the apply meanwhile would delete `new` (what the restore brings back is
    // pinned before it begins, so it would not delete that).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    put_many(&b, ["later/index.html".to_string()], &[]).await;
    let mut before = before;
    before.push("later/index.html".to_string());
    before.sort();
    // The restore through a proxy slowing every request by 500 ms: one deployment a second or
    // more (80 s or more), well past the lease's 60 s.
    let mut p = Proxy::new(0);
    p.delay_all = Some(Duration::from_millis(500));
    let (url, _proxy) = start(p).await;
    let restore = restore_via(&url, &b, &run);
    until("the restore's lease", || lease_taken(&b)).await;
    tokio::time::sleep(Duration::from_secs(62)).await;
    let out = s3_prune(&["apply", b.name(), "1", "--localstack", "--yes", "--json"]);
    let restored = finish(restore);
    assert!(
        !out.status.success(),
        "an apply ran beside the restore: {}",
        stdout(&out)
    );
    // Named for what it is (before: "another apply").
    assert!(
        stderr(&out).contains("another restore holds this bucket"),
        "{}",
        stderr(&out)
    );
    assert!(restored.status.success(), "{}", stderr(&restored));
    assert_eq!(all_keys(&b).await, before, "every object is back");
}

/// A restore that loses the bucket's lease sends no further request, but pins what it already
/// brought back (a pin is a conditional write of its own, needing no lease): unpinned, it would
/// be deleted again by the next apply. (Before: nothing was pinned after a stop.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_that_loses_its_lease_pins_what_it_brought_back() {
    let b = fresh_bucket("restore-lost").await;
    b.enable_versioning().await.unwrap();
    put_many(&b, (0..40).map(|i| format!("r{i:03}/index.html")), &[]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    put_many(&b, ["new/index.html".to_string()], &[]).await;
    let applied = s3_prune(&["apply", b.name(), "1", "--localstack", "--yes", "--json"]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    let run = json(&applied)["audit"]["run"].as_str().unwrap().to_string();
    // Each request of the restore 500 ms; every write of the lease after it is taken (a create
    // and its probe) refused:
    // its renewals fail until it must stop, well before its 40 deployments are back.
    let mut p = Proxy::new(0);
    p.delay_all = Some(Duration::from_millis(500));
    p.deny_put = Some(("/.s3-prune/lease".into(), 2));
    let (url, _proxy) = start(p).await;
    let restore = restore_via(&url, &b, &run);
    let out = finish(restore);
    assert!(
        !out.status.success(),
        "the restore ran to its end: {}",
        stdout(&out)
    );
    let keys = all_keys(&b).await;
    let back: Vec<String> = (0..40)
        .map(|i| format!("r{i:03}"))
        .filter(|id| keys.contains(&format!("{id}/index.html")))
        .collect();
    assert!(
        !back.is_empty() && back.len() < 40,
        "some, not all, back: {back:?}\n{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let pins: Vec<String> = b
        .read_pins()
        .await
        .unwrap()
        .iter()
        .map(|p| p.id.to_string())
        .collect();
    for id in &back {
        assert!(pins.contains(id), "{id} is back but not pinned: {pins:?}");
    }
}

/// A server that refuses every create of the lease though none is there (a wrong answer to
/// conditional writes) gets a few tries and an error naming the lease, not an endless loop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_the_server_never_lets_be_created_is_an_error_not_an_endless_loop() {
    let b = fresh_bucket("lease-412").await;
    deploy(&b, &["d1", "d2"], 2).await;
    let mut p = Proxy::new(0);
    p.precondition_failed_put = Some("/.s3-prune/lease".into());
    let (url, _proxy) = start(p).await;
    let child = apply_via(&url, &b, "1", 1, &[]);
    let out = crate::common::ended_within(child, 30, "still trying to take the lease").await;
    assert!(!out.status.success(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("could not be taken"), "{err}");
    assert_eq!(all_keys(&b).await.len(), 4, "nothing deleted");
}

/// A lease write S3 carried out whose answer was lost: the SDK sends it again and the
/// condition refuses it (the create's `If-None-Match`, a renewal's old `If-Match`), though the
/// lease there is this run's own, as just written. The run takes it as written and goes on.
/// (Before: the create's refusal read "another apply holds this bucket", naming the run itself;
/// a renewal's stopped the run as "taken over", failed.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_write_whose_answer_was_lost_is_the_runs_own_and_it_goes_on() {
    // 0: the create; 2: the first renewal (after the create and the probe), 10 s in: the
    // two delete batches are held 12 s each.
    for (after, ids, files, delay) in [(0, 3, 5, 0), (2, 3, 5, 12)] {
        let b = fresh_bucket("lease-lost-answer").await;
        let names: Vec<String> = (0..ids).map(|i| format!("a{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        deploy(&b, &names, files).await;
        let mut p = Proxy::new(0);
        p.lose_put_answer = Some(".s3-prune/lease".into());
        p.lose_put_answer_after = after;
        p.delay_delete = (delay > 0).then(|| Duration::from_secs(delay));
        let (url, proxy) = start(p).await;
        let out = finish(apply_via(&url, &b, "1", 1, &[]));
        assert!(
            proxy
                .stats
                .puts_answer_lost
                .load(std::sync::atomic::Ordering::SeqCst)
                > after,
            "{after}: the lost write happened"
        );
        assert!(out.status.success(), "{after}: {}", stderr(&out));
        assert_eq!(
            all_keys(&b).await.len(),
            files,
            "{after}: all but the newest deleted"
        );
        assert!(!lease_taken(&b).await, "{after}: its own lease is removed");
    }
}

/// Before: an expired lease taken over, the takeover carried out but its answer lost, had the
/// SDK's retry refused by the old ETag; the run then refused itself ("another apply holds this
/// bucket": its own holder) and left its lease behind for a minute (review).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_takeover_whose_answer_was_lost_is_the_runs_own_and_it_goes_on() {
    let b = fresh_bucket("lease-takeover-lost").await;
    deploy(&b, &["a0", "a1", "a2"], 5).await;
    // A stopped run's lease, expired by S3's clock (a life of 1 s, written 2 s ago).
    let stopped = r#"{"run":"20261204T000000000Z-0000dead","who":"ops@elsewhere","source":"cli","host":"elsewhere","since":"2026-12-04T00:00:00Z","expires":"2026-12-04T00:00:01Z","pid":1,"ttl_secs":1}"#;
    b.put(
        &b.lease_key(),
        stopped.as_bytes().to_vec(),
        "application/json",
        &[],
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut p = Proxy::new(0);
    // 0: the create (refused: the stopped run's lease is there); 1: the takeover.
    p.lose_put_answer = Some(".s3-prune/lease".into());
    p.lose_put_answer_after = 1;
    let (url, proxy) = start(p).await;
    let out = finish(apply_via(&url, &b, "1", 1, &[]));
    let lost = proxy
        .stats
        .puts_answer_lost
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(lost > 1, "the takeover's answer was lost ({lost})");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(all_keys(&b).await.len(), 5, "all but the newest deleted");
    assert!(!lease_taken(&b).await, "its own lease is removed");
}

/// Whether a lease has expired is read on the server's clock — how long ago it was last written
/// (`Last-Modified` against the answer's `Date`) against the life of one write (`ttl_secs`) —
/// not by comparing the holder's written expiry with the taker's clock. Before: a holder whose
/// clock ran 100 s behind wrote an expiry already past by the taker's, which took the lease
/// over while the holder was renewing it, and both deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_expires_by_the_servers_clock_not_by_either_hosts() {
    let b = fresh_bucket("lease-clock").await;
    deploy(&b, &["c1", "c2", "c3"], 3).await;
    let put = |since: chrono::DateTime<chrono::Utc>, ttl: i64| {
        let holder = bucket::LeaseHolder {
            run: "20261204T000000000Z-0000c10c".into(),
            who: "ops@elsewhere".into(),
            source: "cli".into(),
            host: "elsewhere".into(),
            since,
            expires: since + chrono::Duration::seconds(ttl),
            pid: 1,
            pid_ns: String::new(),
            ttl_secs: Some(ttl as u64),
            task: None,
        };
        let b = b.clone();
        async move {
            let body = serde_json::to_vec(&holder).unwrap();
            b.put(&b.lease_key(), body, "application/json", &[])
                .await
                .unwrap();
        }
    };
    let apply = || s3_prune(&["apply", b.name(), "1", "--localstack", "--yes", "--json"]);
    // Written just now by a holder 100 s behind: by its own clock it expired 40 s ago.
    put(chrono::Utc::now() - chrono::Duration::seconds(100), 60).await;
    // What history and the dashboard read says so too (its expiry on this host's clock).
    let (read, _) = b.read_lease().await.unwrap().expect("the lease");
    assert!(read.expires > chrono::Utc::now(), "read as expired: {read}");
    let out = apply();
    assert!(
        stderr(&out).contains("another apply holds this bucket"),
        "taken over: {}",
        stderr(&out)
    );
    assert_eq!(all_keys(&b).await.len(), 9, "nothing deleted");
    // Written by a holder 1,000 s ahead with a 2 s life: expired on the server 3 s later,
    // though its written expiry is far ahead of this host's clock.
    put(chrono::Utc::now() + chrono::Duration::seconds(1000), 2).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let out = apply();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(all_keys(&b).await.len(), 3, "c1 and c2 deleted");
}

/// `undo-window` edits the lifecycle rules that an apply handing folders to S3 (or a restore
/// withdrawing handovers) edits under the lease. S3 has no conditional write of those rules:
/// beside such a run it could write back a rule the run had just withdrawn, and S3 would expire
/// a kept folder. So it takes the lease too: refused while a run holds it, naming the holder,
/// with nothing changed; once the bucket is free it sets the window and leaves no lease behind.
#[tokio::test]
async fn an_undo_window_is_refused_while_a_run_holds_the_bucket() {
    let b = fresh_bucket("undo-lease").await;
    put_foreign_lease(&b, "20261204T000000Z-other").await;
    let undo = || s3_prune(&["undo-window", b.name(), "--days", "7", "--localstack"]);
    let out = undo();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{}\n{err}", stdout(&out));
    assert!(
        err.contains("the undo window was not changed")
            && err.contains("another apply holds this bucket: ops@elsewhere (cli on elsewhere"),
        "{err}"
    );
    let window = b.undo_window().await.unwrap();
    assert_eq!(window.noncurrent_days, None, "no rule was written");
    assert_ne!(
        window.versioning,
        retention::Versioning::Enabled,
        "versioning was left as it was"
    );

    remove_keys(&b, [b.lease_key()]).await;
    let out = undo();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(b.undo_window().await.unwrap().noncurrent_days, Some(7));
    assert!(!lease_taken(&b).await, "the lease is released");
}

/// An apply refused while `undo-window` holds the bucket is told what holds it: an undo-window
/// change, not "another apply" (which would send its user looking for a run in History).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_while_the_undo_window_is_set_is_refused_naming_it() {
    let b = fresh_bucket("undo-holds").await;
    put_many(&b, ["old/index.html".to_string()], &[]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    put_many(&b, ["new/index.html".to_string()], &[]).await;
    // Every request of the undo-window slowed by 1.5 s: it holds the lease for seconds.
    let mut p = Proxy::new(0);
    p.delay_all = Some(Duration::from_millis(1500));
    let (url, _proxy) = start(p).await;
    let undo = Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args(["undo-window", b.name(), "--days", "7", "--localstack"])
        .env("AWS_ENDPOINT_URL", &url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    until("the undo-window's lease", || lease_taken(&b)).await;
    let out = s3_prune(&["apply", b.name(), "1", "--localstack", "--yes"]);
    let set = finish(undo);
    assert!(!out.status.success(), "the apply ran: {}", stdout(&out));
    assert!(
        stderr(&out).contains("another undo-window change holds this bucket"),
        "{}",
        stderr(&out)
    );
    assert!(set.status.success(), "{}", stderr(&set));
    assert_eq!(all_keys(&b).await.len(), 2, "nothing deleted");
}
