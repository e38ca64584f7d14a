//! The bucket remembers: one lease per bucket so two applies never run at once, pins read again
//! while an apply runs, and a journal in the bucket that `history` and `restore` read whichever
//! machine (or killed process) ran the apply.

use crate::common::{audit_db, json, s3_prune, stderr, stdout};
use crate::proxy::{start, Proxy};
use bucket::testkit::{all_keys, fresh_bucket, keys_under, object_body, put_many, remove_keys};
use bucket::Bucket;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Deployments `ids` of `files` objects each, a second apart (oldest first).
async fn deploy(b: &Bucket, ids: &[&str], files: usize) {
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
        put_many(b, (0..files).map(|f| format!("{id}/f{f:04}.js")), &[]).await;
    }
}

/// `s3-prune apply BUCKET RETAIN --yes --json` through a proxy that slows every request by
/// `delay`, one request slot: an apply that takes seconds, to be caught in the middle.
async fn slow_apply(b: &Bucket, retain: &str, delay: Duration) -> Child {
    slow_apply_in_slots(b, retain, delay, 1).await
}

/// [`slow_apply`] with `slots` requests in flight at once (`--concurrency`).
async fn slow_apply_in_slots(b: &Bucket, retain: &str, delay: Duration, slots: u32) -> Child {
    slow_apply_with(b, retain, delay, slots, &[]).await
}

/// [`slow_apply_in_slots`] with `extra` arguments.
async fn slow_apply_with(
    b: &Bucket,
    retain: &str,
    delay: Duration,
    slots: u32,
    extra: &[&str],
) -> Child {
    let mut p = Proxy::new(0);
    p.delay_all = Some(delay);
    let (url, _proxy) = start(p).await;
    apply_via(&url, b, retain, slots, extra)
}

/// `s3-prune apply BUCKET RETAIN --yes --json --concurrency SLOTS EXTRA…` through the proxy at
/// `url`, running.
fn apply_via(url: &str, b: &Bucket, retain: &str, slots: u32, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args(["apply", b.name(), retain, "--localstack", "--yes", "--json"])
        .args(["--concurrency", &slots.to_string()])
        .args(extra)
        .env("AWS_ENDPOINT_URL", url)
        .env("S3_PRUNE_AUDIT_DB", audit_db())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running s3-prune")
}

/// Waits (up to 60 s) until `cond` holds.
async fn until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !cond().await {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

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

async fn lease_taken(b: &Bucket) -> bool {
    matches!(b.read_lease().await, Ok(Some(_)))
}

/// `restore BUCKET --run ID` on "another machine" (its own audit log): it succeeds and every
/// key of `before` is back.
async fn restore_elsewhere_brings_back(b: &Bucket, id: &str, before: &[String]) {
    let db = elsewhere();
    let out = s3_prune(&[
        "restore",
        b.name(),
        "--run",
        id,
        "--localstack",
        "--audit-db",
        db.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let after = all_keys(b).await;
    assert!(
        after == before,
        "every object the killed run deleted is back: {} of {}",
        after.len(),
        before.len()
    );
}

/// The audit log of "another machine": none of this test process's runs are in it.
fn elsewhere() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("s3p-elsewhere-{}.sqlite", std::process::id()))
}

/// `history BUCKET --json`, run as from another machine (its own audit log).
fn history_elsewhere(b: &Bucket) -> std::process::Output {
    let db = elsewhere();
    s3_prune(&[
        "history",
        b.name(),
        "--localstack",
        "--json",
        "--audit-db",
        db.to_str().unwrap(),
    ])
}

fn finish(child: Child) -> std::process::Output {
    child.wait_with_output().expect("waiting for s3-prune")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_apply_while_one_runs_is_refused_naming_the_holder() {
    let b = fresh_bucket("lease").await;
    deploy(&b, &["d1", "d2", "d3", "d4", "d5"], 150).await;
    let first = slow_apply(&b, "1", Duration::from_millis(150)).await;
    until("the first apply deleting", || async {
        !all_keys(&b).await.iter().any(|k| k.starts_with("d1/"))
    })
    .await;

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

/// The apply `apply` ended well, left deployment `id` whole (its `objects` all there) and
/// reported it held, saying `why` (`pinned`, or the live page's key).
async fn finished_holding(b: &Bucket, apply: Child, id: &str, objects: usize, why: &str) {
    let out = finish(apply);
    assert!(out.status.success(), "{}", stderr(&out));
    let folder = format!("{id}/");
    assert_eq!(
        keys_under(b, &folder).await.len(),
        objects,
        "{id} was held mid-run and must survive whole"
    );
    let report = json(&out);
    let held = report["audit"]["held"].to_string();
    assert!(held.contains(id) && held.contains(why), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_added_while_an_apply_runs_holds_its_deployment() {
    let b = fresh_bucket("pin-mid-apply").await;
    deploy(&b, &["p1", "p2", "p3", "p4", "p5", "p6"], 120).await;
    let apply = slow_apply(&b, "1", Duration::from_millis(150)).await;
    // Once the lease is taken the apply is about to delete: p1 to p4 are listed (150 ms a
    // request, one slot) before p5 is reached. (Waiting for p1 to be gone was too late: the
    // lister fills the next batch while the first is in flight.)
    until("the apply's lease", || lease_taken(&b)).await;
    let out = s3_prune(&["pin", b.name(), "p5", "--localstack"]);
    assert!(out.status.success(), "{}", stderr(&out));

    finished_holding(&b, apply, "p5", 120, "pinned").await;
}

/// A deployment's keys may wait seconds between its listing (where pins were read) and their
/// batch's turn (behind a slow batch in flight): a pin added meanwhile still holds it whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_added_while_a_listed_deployment_waits_for_its_batch_holds_it() {
    let b = fresh_bucket("pin-queued").await;
    // Five doomed deployments of 300 keys, one slot: batch 1 is p1–p3 and 100 keys of p4 and
    // goes at once; p4's rest and p5 are listed (pins read) while it is in flight, and wait.
    deploy(&b, &["p1", "p2", "p3", "p4", "p5", "p6"], 300).await;
    let mut p = Proxy::new(0);
    p.delay_delete = Some(Duration::from_secs(3));
    let (url, proxy) = start(p).await;
    let apply = apply_via(&url, &b, "1", 1, &[]);
    until("the first DeleteObjects", || {
        let sent = proxy
            .stats
            .deletes_now
            .load(std::sync::atomic::Ordering::SeqCst)
            > 0;
        async move { sent }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let out = s3_prune(&["pin", b.name(), "p5", "--localstack"]);
    assert!(out.status.success(), "{}", stderr(&out));

    finished_holding(&b, apply, "p5", 300, "pinned").await;
    for gone in ["p1/", "p2/", "p3/", "p4/"] {
        assert!(keys_under(&b, gone).await.is_empty(), "{gone} was not held");
    }
}

/// Five doomed deployments of 100 keys (one kept), applied four batches at a time through a
/// proxy that holds every intent PUT 3 s: returned once the first intent is being written, so
/// every batch is waiting for its intent.
async fn waiting_for_intents(hint: &str) -> (Bucket, Child, std::sync::Arc<Proxy>) {
    let b = fresh_bucket(hint).await;
    deploy(&b, &["s1", "s2", "s3", "s4", "s5", "s6"], 100).await;
    let mut p = Proxy::new(0);
    p.delay_put = Some(("/intents-".into(), Duration::from_secs(3)));
    let (url, proxy) = start(p).await;
    let child = apply_via(&url, &b, "1", 4, &[]);
    until("an intent being written", || {
        let writing = proxy
            .stats
            .puts_delayed
            .load(std::sync::atomic::Ordering::SeqCst)
            > 0;
        async move { writing }
    })
    .await;
    (b, child, proxy)
}

/// A pin added while a deployment's first batch waits for its intent (a slow journal) holds it:
/// pins are asked once the intent is on record, just before the batch is sent (a reading
/// started beside the intent counts only if at most 0.5 s old by then).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_added_while_a_batch_waits_for_its_intent_holds_its_deployment() {
    let (b, apply, _proxy) = waiting_for_intents("pin-intent").await;
    let out = s3_prune(&["pin", b.name(), "s2", "--localstack"]);
    assert!(out.status.success(), "{}", stderr(&out));

    finished_holding(&b, apply, "s2", 100, "pinned").await;
}

/// Stopped (Ctrl-C, a lost lease, a failed journal write) while its batches wait for their
/// intents to be on record, a run sends none of them: a stop means no new batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_while_its_batches_wait_for_their_intents_sends_none_of_them() {
    let (b, child, proxy) = waiting_for_intents("stop-intents").await;
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report = json(&out);
    assert_eq!(report["audit"]["status"], "interrupted", "{report}");
    let sent = proxy.stats.deleted_keys.lock().unwrap().len();
    assert_eq!(sent, 0, "batches were sent after the stop");
    assert_eq!(all_keys(&b).await.len(), 600, "nothing deleted");
}

/// Pins are one file every front end rewrites: eight people pinning at once (the dashboard,
/// laptops, a script) must all find their pin kept, none overwritten by another's write.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pins_set_at_once_from_many_front_ends_are_all_kept() {
    let b = fresh_bucket("pins-at-once").await;
    deploy(&b, &["p1"], 1).await;
    let ids: Vec<String> = (0..8).map(|i| format!("rel-{i}")).collect();
    let tasks: Vec<_> = ids
        .iter()
        .map(|id| {
            let (b, id) = (b.clone(), retention::DeploymentId::new(id).unwrap());
            tokio::spawn(async move {
                let pin = retention::Pin {
                    id: id.clone(),
                    reason: "release".into(),
                    by: "someone".into(),
                    at: None,
                };
                prune::set_pin(&b, &id, Some(pin)).await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().expect("pinned");
    }
    let mut kept: Vec<String> = b
        .read_pins()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id.to_string())
        .collect();
    kept.sort();
    assert_eq!(kept, ids, "every pin is kept");
}

/// A rollback while an apply runs, for a team whose site names its live deployment in a page
/// (`--live-from index.html`): the page is read again before each deployment's keys are sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_the_live_page_names_mid_apply_is_kept() {
    let b = fresh_bucket("live-from-mid-apply").await;
    deploy(&b, &["p1", "p2", "p3", "p4", "p5", "p6"], 120).await;
    let page = |id: &str| format!(r#"<html><script src="/{id}/f0000.js"></script></html>"#);
    b.put("index.html", page("p6").into_bytes(), "text/html", &[])
        .await
        .unwrap();
    let apply = slow_apply_with(
        &b,
        "1",
        Duration::from_millis(150),
        1,
        &["--live-from", "index.html"],
    )
    .await;
    until("the apply's lease", || lease_taken(&b)).await;
    // Rolled back to p5 while p1 to p4 are being listed and deleted.
    b.put("index.html", page("p5").into_bytes(), "text/html", &[])
        .await
        .unwrap();

    finished_holding(&b, apply, "p5", 120, "index.html").await;
}

/// `--via-lifecycle` hands a big deployment to S3 lifecycle instead of deleting it by requests;
/// a pin added while the apply runs holds it there too (no rule is written for it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_added_while_an_apply_runs_holds_a_deployment_it_would_hand_to_lifecycle() {
    let b = fresh_bucket("pin-mid-handover").await;
    deploy(&b, &["p1", "p2", "p3"], 3).await;
    let apply = slow_apply_with(
        &b,
        "1",
        Duration::from_millis(400),
        1,
        &["--via-lifecycle", "--lifecycle-threshold", "2"],
    )
    .await;
    // The handover asks for pins after the start record and the lifecycle check (two
    // requests, 400 ms each, after the lease): time for the CLI's pin to land first.
    until("the apply's lease", || lease_taken(&b)).await;
    let out = s3_prune(&["pin", b.name(), "p1", "--localstack"]);
    assert!(out.status.success(), "{}", stderr(&out));

    finished_holding(&b, apply, "p1", 3, "pinned").await;
    let rules = crate::lifecycle::rules(&b).await;
    assert!(
        !rules.iter().any(|(_, prefix, _)| prefix == "p1/"),
        "p1 was pinned mid-run: no lifecycle rule may expire it ({rules:?})"
    );
}

/// S3 carried out a batch's deletes but the answers were lost (500 after the work; the SDK's
/// retries made a second and a third marker per key): the run reports the keys failed, and
/// `restore --run` still brings every one of them back, all their markers removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_deleted_by_a_batch_whose_answer_was_lost_are_restored() {
    let b = fresh_bucket("lost-answer").await;
    b.enable_versioning().await.unwrap();
    deploy(&b, &["a1", "a2"], 5).await;
    let before = all_keys(&b).await;
    let mut p = Proxy::new(0);
    p.lose_delete_answers = true;
    let (url, proxy) = start(p).await;
    let out = Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args(["apply", b.name(), "1", "--localstack", "--yes", "--json"])
        .env("AWS_ENDPOINT_URL", &url)
        .env("S3_PRUNE_AUDIT_DB", audit_db())
        .stdin(Stdio::null())
        .output()
        .expect("running s3-prune");
    assert!(!out.status.success(), "its keys are reported failed");
    assert!(
        proxy
            .stats
            .internal
            .load(std::sync::atomic::Ordering::Relaxed)
            > 1
    );
    assert_eq!(all_keys(&b).await.len(), 5, "yet S3 deleted a1");
    let id = json(&history_elsewhere(&b))[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    restore_elsewhere_brings_back(&b, &id, &before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_killed_mid_run_is_restored_from_the_bucket_journal() {
    let b = fresh_bucket("kill-restore").await;
    b.enable_versioning().await.unwrap();
    deploy(&b, &["k1", "k2", "k3"], 600).await;
    let before = all_keys(&b).await;
    let mut apply = slow_apply(&b, "1", Duration::from_millis(300)).await;
    until("the first deletes", || async {
        all_keys(&b).await.len() < before.len()
    })
    .await;
    apply.kill().expect("kill -9");
    let _ = apply.wait();
    assert!(
        all_keys(&b).await.len() < before.len(),
        "it deleted something"
    );

    // Another machine: another audit log, and only the bucket to go by.
    let out = history_elsewhere(&b);
    assert!(out.status.success(), "{}", stderr(&out));
    let runs = json(&out);
    let run = &runs[0];
    assert_eq!(run["status"], "started", "killed: no end on record: {runs}");
    assert_eq!(run["source"], "cli");
    for field in ["id", "who", "started", "deleted"] {
        assert!(!run[field].is_null(), "history names {field}: {runs}");
    }
    let id = run["id"].as_str().unwrap().to_string();
    // The killed run's lease is still in the bucket: its process is gone, so the restore on
    // this host takes it over at once.
    assert!(lease_taken(&b).await);

    restore_elsewhere_brings_back(&b, &id, &before).await;
    let runs = json(&history_elsewhere(&b));
    assert_eq!(
        runs[0]["restore_of"],
        id.as_str(),
        "the restore is on record too: {runs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_killed_with_batches_in_flight_is_restored_from_intents_written_together() {
    // 16 slots, every request slowed: the batches' intents are written in groups (one part
    // for the batches that waited while another intent was being written), and the kill comes
    // while batches are in flight, so some of them have an intent and no answer.
    let b = fresh_bucket("kill-grouped").await;
    b.enable_versioning().await.unwrap();
    deploy(&b, &["g1", "g2", "g3", "g4"], 500).await;
    let before = all_keys(&b).await;
    let mut apply = slow_apply_in_slots(&b, "1", Duration::from_millis(400), 16).await;
    // Batches of 100 keys (1,500 doomed in 16 slots); the first listing page fills five at
    // once, and the first intent is written alone: more than 100 gone means a batch of a
    // group went, its answer still ~0.4 s away.
    until("deletes past the first batch", || async {
        all_keys(&b).await.len() < before.len() - 100
    })
    .await;
    apply.kill().expect("kill -9");
    let _ = apply.wait();
    let parts = keys_under(&b, ".s3-prune/runs/").await;
    assert!(
        parts.iter().any(|p| {
            let range = p
                .rsplit_once("/intents-")
                .map(|(_, r)| r.trim_end_matches(".json"));
            range
                .and_then(|r| r.split_once('-'))
                .is_some_and(|(first, last)| first != last)
        }),
        "some batches' intents were written together: {parts:?}"
    );

    let id = json(&history_elsewhere(&b))[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    restore_elsewhere_brings_back(&b, &id, &before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_lists_the_runs_of_every_machine_from_the_bucket() {
    let b = fresh_bucket("history").await;
    deploy(&b, &["h1", "h2", "h3"], 2).await;
    let out = s3_prune(&["apply", b.name(), "2", "--localstack", "--yes", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = s3_prune(&["apply", b.name(), "1", "--localstack", "--yes", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A foreign object under runs/ is listed as unreadable, never fatal.
    b.put(
        ".s3-prune/runs/not-a-run/x",
        b"?".to_vec(),
        "text/plain",
        &[],
    )
    .await
    .unwrap();

    let out = history_elsewhere(&b);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("not-a-run"), "{}", stderr(&out));
    let runs = json(&out);
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(
        runs[0]["deleted_deployments"],
        serde_json::json!(["h2"]),
        "newest first"
    );
    assert_eq!(runs[1]["deleted_deployments"], serde_json::json!(["h1"]));
    assert!(runs
        .iter()
        .all(|r| r["status"] == "finished" && r["source"] == "cli"));
    assert!(runs[0]["id"].as_str().unwrap() > runs[1]["id"].as_str().unwrap());
    let text = stdout(&s3_prune(&["history", b.name(), "--localstack"]));
    assert!(text.contains("finished") && text.contains("h2"), "{text}");
}

/// `apply BUCKET 1 --yes --json --concurrency 1` through a proxy that refuses PUTs to the
/// journal after the first `allowed` of them.
fn apply_with_journal_refused(b: &Bucket, url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args(["apply", b.name(), "1", "--localstack", "--yes", "--json"])
        .args(["--concurrency", "1"])
        .env("AWS_ENDPOINT_URL", url)
        .env("S3_PRUNE_AUDIT_DB", audit_db())
        .stdin(Stdio::null())
        .output()
        .expect("running s3-prune")
}

/// Applies through `proxy` (which refuses some journal writes) and holds that the run failed,
/// said "nothing was deleted", left every key of `before` in place and released its lease.
async fn assert_nothing_deleted(b: &Bucket, proxy: Proxy, before: &[String]) {
    let (url, _proxy) = start(proxy).await;
    let out = apply_with_journal_refused(b, &url);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("nothing was deleted"),
        "{}",
        stderr(&out)
    );
    assert_eq!(all_keys(b).await, before, "no record, no deletion");
    assert!(!lease_taken(b).await, "the lease is released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_that_cannot_be_written_stops_the_run_before_or_between_batches() {
    // Not writable at all: nothing is deleted.
    let b = fresh_bucket("journal-denied").await;
    deploy(&b, &["j1", "j2", "j3"], 700).await;
    let before = all_keys(&b).await;
    let mut p = Proxy::new(0);
    p.deny_put = Some(("/.s3-prune/runs/".into(), 0));
    assert_nothing_deleted(&b, p, &before).await;

    // Writable for the start and the first batch's intent, then not: the first batch goes
    // (its intent is on record), its answer cannot be written, so no second batch is sent.
    let mut p = Proxy::new(0);
    p.deny_put = Some(("/.s3-prune/runs/".into(), 2));
    let (url, _proxy) = start(p).await;
    let out = apply_with_journal_refused(&b, &url);
    assert!(!out.status.success(), "a run that stopped says so");
    let left = all_keys(&b).await;
    let doomed_left = left.iter().filter(|k| !k.starts_with("j3/")).count();
    assert!(
        doomed_left > 0 && doomed_left < 1400,
        "the first batch went, no batch after the failed write: {doomed_left} of 1400 left"
    );
    let report = json(&out);
    let failures = report["audit"]["failures"].to_string();
    assert!(failures.contains("the run stopped"), "{report}");
}

/// Three deployments of 300 objects (two doomed at retain 1), and the bucket's keys.
async fn three_deployments(hint: &str) -> (Bucket, Vec<String>) {
    let b = fresh_bucket(hint).await;
    deploy(&b, &["s1", "s2", "s3"], 300).await;
    let before = all_keys(&b).await;
    (b, before)
}

/// A proxy that holds each PUT whose path holds `path` for 1.5 s (long after the first
/// listings and the first intent could be done), then refuses it.
fn slow_then_refused(path: &str) -> Proxy {
    let mut p = Proxy::new(0);
    p.delay_put = Some((path.into(), Duration::from_millis(1500)));
    p.deny_put = Some((path.into(), 0));
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_batch_is_sent_before_the_start_record_is_written() {
    // The start record goes out once the lease is held, beside the first intents. Here it is
    // slow, then refused: the first batch must have waited for it, so nothing is deleted and
    // the run says why.
    let (b, before) = three_deployments("journal-start-slow").await;
    assert_nothing_deleted(&b, slow_then_refused("/start.json"), &before).await;
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
        !err.contains("intent could not be recorded"),
        "the refusal stops the listings; no batch got as far as its intent: {err}"
    );
    assert_eq!(all_keys(&b).await, before, "no lease, no deletion");
    let journal = keys_under(&b, ".s3-prune/runs/").await;
    assert!(journal.is_empty(), "no lease, no record: {journal:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_go_in_groups_and_the_end_record_holds_those_still_being_written() {
    // Two batches (1,200 doomed keys) answered 1.2 s apart: the first answer waits for the
    // second, and both go in one part. That part is held 2 s; the end record goes out beside
    // it, not after it, so it carries both answers, and a run whose answer part never made it
    // to the bucket is still restored exactly.
    let b = fresh_bucket("end-answers").await;
    b.enable_versioning().await.unwrap();
    deploy(&b, &["e1", "e2", "e3"], 600).await;
    let before = all_keys(&b).await;
    let mut p = Proxy::new(0);
    p.delay_delete = Some(Duration::from_millis(1200));
    p.delay_put = Some(("/answers-".into(), Duration::from_millis(2000)));
    let (url, _proxy) = start(p).await;
    let out = apply_with_journal_refused(&b, &url);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["audit"]["status"], "finished", "{report}");
    let run = report["audit"]["run"].as_str().unwrap().to_string();
    let dir = format!(".s3-prune/runs/{run}/");
    let answers: Vec<String> = keys_under(&b, &dir)
        .await
        .into_iter()
        .filter(|k| k.contains("/answer"))
        .collect();
    assert_eq!(
        answers,
        vec![format!("{dir}answers-000001-000002.json")],
        "one part for both answers"
    );
    let end = object_body(&b, &format!("{dir}end.json")).await.unwrap();
    let end: serde_json::Value = serde_json::from_slice(&end).unwrap();
    assert_eq!(end["status"], "finished", "{end}");
    let carried: usize = (0..2)
        .filter_map(|i| end["answers"][i]["outcome"]["markers"].as_array())
        .map(Vec::len)
        .sum();
    assert_eq!(
        carried, 1200,
        "the answers still being written are in the end record: {end}"
    );
    // As if the answer part had never been written (the process killed once the end was).
    remove_keys(&b, answers).await;
    restore_elsewhere_brings_back(&b, &run, &before).await;
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
/// on deleting once its lease may have expired and another run taken it over: unanswered 10 s
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
    // first renewal, 20 s in, hangs for 100 s.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_kept_in_an_audit_bucket_is_where_every_reader_looks() {
    let site = fresh_bucket("journal-site").await;
    site.enable_versioning().await.unwrap();
    deploy(&site, &["a1", "a2", "a3"], 3).await;
    let before = all_keys(&site).await;
    let audit = fresh_bucket("journal-audit").await;
    let at = format!("s3://{}/s3-prune/", audit.name());
    let out = s3_prune(&[
        "apply",
        site.name(),
        "1",
        "--localstack",
        "--yes",
        "--json",
        "--journal",
        &at,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let run = json(&out)["audit"]["run"].as_str().unwrap().to_string();
    assert!(
        keys_under(&site, ".s3-prune/runs/").await.is_empty(),
        "nothing of the run is beside the deployments"
    );
    let parts = keys_under(&audit, &format!("s3-prune/{}/runs/{run}/", site.name())).await;
    assert!(
        parts.iter().any(|k| k.ends_with("/start.json"))
            && parts.iter().any(|k| k.ends_with("/end.json")),
        "{parts:?}"
    );
    // Another machine reads it there: history and restore, given the same place.
    let db = elsewhere();
    let db = db.to_str().unwrap();
    let with_journal = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--localstack", "--audit-db", db, "--journal", &at]);
        s3_prune(&all)
    };
    let runs = json(&with_journal(&["history", site.name(), "--json"]));
    assert_eq!(runs[0]["id"], run.as_str(), "{runs}");
    let out = with_journal(&["restore", site.name(), "--run", &run]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert_eq!(
        all_keys(&site).await,
        before,
        "restored from the audit journal"
    );
    // A journal inside the pruned prefix would be taken for a deployment: refused.
    let inside = format!("s3://{}/audit/", site.name());
    let out = s3_prune(&[
        "plan",
        site.name(),
        "1",
        "--localstack",
        "--journal",
        &inside,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("a journal inside the prefix"),
        "{}",
        stderr(&out)
    );
    // So is one whose runs land inside it although its path does not: runs go under
    // PATH/BUCKET/PREFIX, here BUCKET/BUCKET/runs/ with the prefix BUCKET/.
    let prefix = format!("{}/", site.name());
    let root = format!("s3://{}/", site.name());
    let out = s3_prune(&[
        "plan",
        site.name(),
        "1",
        "--localstack",
        "--prefix",
        &prefix,
        "--journal",
        &root,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("a journal inside the prefix"),
        "{}",
        stderr(&out)
    );
    // Without it, the bucket's own journal has no such run.
    let out = s3_prune(&[
        "history",
        site.name(),
        "--localstack",
        "--json",
        "--audit-db",
        db,
    ]);
    assert!(
        json(&out).as_array().unwrap().is_empty(),
        "{}",
        stdout(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_batch_is_on_record_while_it_waits_for_a_request_slot() {
    // One request slot, two doomed deployments of 1,000 keys: two batches of 1,000, the
    // second full while the first is in flight (its DeleteObjects held 3 s). The second's
    // intent is written then, not once the first is answered, so it is on record by its turn.
    let b = fresh_bucket("ahead").await;
    deploy(&b, &["w1", "w2"], 1000).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    deploy(&b, &["w3"], 1).await;
    let before = all_keys(&b).await;
    let mut p = Proxy::new(0);
    p.delay_delete = Some(Duration::from_secs(3));
    let (url, proxy) = start(p).await;
    let apply = Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args(["apply", b.name(), "1", "--localstack", "--yes", "--json"])
        .args(["--concurrency", "1"])
        .env("AWS_ENDPOINT_URL", &url)
        .env("S3_PRUNE_AUDIT_DB", audit_db())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running s3-prune");
    let holds_batch_2 = |p: &String| {
        let name = p.rsplit('/').next().unwrap_or_default();
        let range = name
            .strip_prefix("intents-")
            .and_then(|r| r.strip_suffix(".json"));
        range
            .and_then(|r| r.split_once('-'))
            .and_then(|(f, l)| Some((f.parse::<u64>().ok()?, l.parse::<u64>().ok()?)))
            .is_some_and(|(f, l)| f <= 2 && 2 <= l)
    };
    let start = Instant::now();
    let mut seen = None;
    while seen.is_none() && start.elapsed() < Duration::from_secs(60) {
        if keys_under(&b, ".s3-prune/runs/")
            .await
            .iter()
            .any(holds_batch_2)
        {
            seen = Some((
                proxy
                    .stats
                    .deletes_now
                    .load(std::sync::atomic::Ordering::SeqCst),
                proxy.stats.deleted_keys.lock().unwrap().len(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let out = finish(apply);
    assert!(out.status.success(), "{}", stderr(&out));
    let (in_flight, through) = seen.expect("batch 2's intent was written");
    assert_eq!(
        (in_flight, through),
        (1, 0),
        "batch 2's intent is on record while batch 1 is still held at the proxy"
    );
    assert_eq!(json(&out)["deleted_objects"], 2000);
    assert_eq!(all_keys(&b).await.len(), before.len() - 2000);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restoring_a_killed_run_leaves_what_a_later_run_deleted_of_its_unsent_batches() {
    // A run killed with two batches on record and no answers: x0's, which went (its keys are
    // gone), and x1's, which it never sent; the next apply deletes x1. Restoring the killed
    // run brings x0 back and leaves x1: its markers are the later run's (on its record), and
    // that run's own restore brings x1 back.
    let b = fresh_bucket("killed-then-next").await;
    b.enable_versioning().await.unwrap();
    deploy(&b, &["x0", "x1", "x2", "x3"], 5).await;
    let before = all_keys(&b).await;
    let began = chrono::Utc::now() - chrono::Duration::seconds(30);
    let killed = bucket::RunId::new(began);
    let record = serde_json::json!({
        "who": "ops@laptop", "source": "cli", "started_at": began, "duration_ms": 0,
        "bucket": b.name(), "prefix": "", "policy": {"retain": 2}, "plan_fingerprint": "x",
        "deleted": [], "deleted_objects": 0, "deleted_bytes": 0, "failures": [],
        "status": "started", "run": killed.to_string(), "host": "laptop", "undoable": true,
    });
    let place = bucket::JournalPlace::of(&b);
    let start = serde_json::json!({ "record": record, "doomed": [] });
    place
        .write(&killed, "start.json", serde_json::to_vec(&start).unwrap())
        .await
        .unwrap();
    let keys: Vec<String> = (0..5).map(|f| format!("f{f:04}.js")).collect();
    let intents = serde_json::json!({ "batches": [
        { "n": 1, "deployments": [{ "deployment": "x0", "under": "x0/", "keys": keys }] },
        { "n": 2, "deployments": [{ "deployment": "x1", "under": "x1/", "keys": keys }] }
    ]});
    place
        .write(
            &killed,
            "intents-000001-000002.json",
            serde_json::to_vec(&intents).unwrap(),
        )
        .await
        .unwrap();

    // Batch 1 went: x0's keys are deleted (markers made since the run began).
    remove_keys(&b, keys.iter().map(|k| format!("x0/{k}"))).await;
    let next = json(&s3_prune(&[
        "apply",
        b.name(),
        "2",
        "--localstack",
        "--yes",
        "--json",
    ]));
    let next_run = next["audit"]["run"].as_str().unwrap().to_string();
    assert!(!all_keys(&b).await.iter().any(|k| k.starts_with("x1/")));

    let db = elsewhere();
    let restore = |run: &str| {
        s3_prune(&[
            "restore",
            b.name(),
            "--run",
            run,
            "--localstack",
            "--audit-db",
            db.to_str().unwrap(),
        ])
    };
    let out = restore(&killed.to_string());
    let now = all_keys(&b).await;
    assert_eq!(
        now.iter().filter(|k| k.starts_with("x0/")).count(),
        5,
        "what the killed run deleted is back: {}",
        stdout(&out)
    );
    assert!(
        !now.iter().any(|k| k.starts_with("x1/")),
        "the killed run's restore undid the next run: {}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        out.status.success(),
        "x1 is not this run's to restore, so nothing is left undone: {}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("5 objects the killed run never deleted: a later run did"),
        "it says why x1 stays: {}",
        stdout(&out)
    );
    let out = restore(&next_run);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert_eq!(
        all_keys(&b).await,
        before,
        "the next run's own restore brings x1 back"
    );
}
