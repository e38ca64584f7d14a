//! A run is answered as it went: an end that cannot be recorded, or deployments that cannot be
//! ranked, is no success; the answer names the journal where it is kept; a deadline near stops
//! the run in time, and it ends on record.

use super::*;

/// A scheduled run whose end cannot be written to the bucket's journal deleted what it deleted,
/// but it is no success: the invocation is answered as an error naming the journal (so the
/// function's error metric and alarms see it), and its metrics line says `Success: 0`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_end_cannot_be_recorded_is_an_error_not_a_success() {
    let b = fresh_bucket("lambda-unrecorded").await;
    deploy_seconds_apart(&b, &["d1", "d2", "d3"]).await;
    let mut p = crate::proxy::Proxy::new(0);
    p.deny_put = Some(("end.json".into(), 0));
    let (url, proxy) = crate::proxy::start(p).await;
    let (addr, rt) = start_runtime().await;
    rt.events
        .lock()
        .unwrap()
        .push_back(("once".into(), "{}".into()));
    let env = [
        ("S3_PRUNE_BUCKET", b.name()),
        ("S3_PRUNE_RETAIN", "1"),
        ("AWS_ENDPOINT_URL", url.as_str()),
    ];
    let mut child = function(&addr, &env);
    wait_for(&rt, 1).await;
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        proxy
            .stats
            .puts_matched
            .load(std::sync::atomic::Ordering::SeqCst)
            > 0,
        "the end record was tried"
    );
    let error = rt.error("once");
    assert_contains(&error, "could not be recorded");
    assert_contains(&error, "access denied for s3:PutObject");
    assert_contains(&error, r#""errorType":"S3PruneError""#);
    let metrics = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_contains(&metrics, r#""Success":0"#);
    // Nor does `check` count it as the last successful run (its note went out beside the end
    // record that failed).
    let check = crate::common::Run::new(&["check", b.name(), "1", "--localstack"])
        .args(&["--last-run-within", "1d"])
        .out();
    assert_eq!(
        check.status.code(),
        Some(1),
        "{}",
        crate::common::stdout(&check)
    );
    // The deletion ran all the same: only the newest deployment is left.
    let left: Vec<String> = all_keys(&b)
        .await
        .into_iter()
        .filter(|k| !k.contains(".s3-prune/"))
        .collect();
    assert_eq!(left, ["d3/css/font.css", "d3/index.html"]);
}

/// With the journal kept in an audit bucket (`S3_PRUNE_JOURNAL`), the answer's address of the
/// whole record is where the run's parts are (it named the deployments' bucket, where there
/// are none).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_names_the_journal_where_it_is_kept() {
    let b = fresh_bucket("lambda-audit").await;
    let audit = fresh_bucket("lambda-audit-log").await;
    deploy_seconds_apart(&b, &["d1", "d2", "d3"]).await;
    let journal = format!("s3://{}/runs-of/", audit.name());
    let env = [
        ("S3_PRUNE_BUCKET", b.name()),
        ("S3_PRUNE_RETAIN", "2"),
        ("S3_PRUNE_JOURNAL", journal.as_str()),
    ];
    let applied = invoke_once(&env, "{}").await;
    let address = applied["audit"]["journal"].as_str().expect("an address");
    let key_prefix = address
        .strip_prefix(&format!("s3://{}/", audit.name()))
        .unwrap_or_else(|| panic!("{address} is not in the audit bucket"));
    let parts = bucket::testkit::keys_under(&audit, key_prefix).await;
    for part in ["start.json", "end.json"] {
        assert!(
            parts.iter().any(|k| k.ends_with(part)),
            "{part} at {address}: {parts:?}"
        );
    }
}

/// One invocation `id` (`{}`) of a function configured by `env`, its deadline `deadline` away:
/// the runtime that has its answer, and how long the function took to give it.
async fn invoke_near_deadline(
    id: &str,
    env: &[(&str, &str)],
    deadline: Duration,
) -> (Arc<Runtime>, Duration) {
    let (addr, rt) = start_runtime().await;
    *rt.deadline_in.lock().unwrap() = Some(deadline);
    rt.events
        .lock()
        .unwrap()
        .push_back((id.into(), "{}".into()));
    let mut child = function(&addr, env);
    let started = Instant::now();
    wait_for(&rt, 1).await;
    let took = started.elapsed();
    child.kill().unwrap();
    child.wait_with_output().unwrap();
    (rt, took)
}

/// An invocation whose deadline is near stops issuing deletes 20 s before it: here it comes
/// before the first batch (every request slowed), so nothing is deleted; the run ends on
/// record as interrupted, its lease released, and the invocation is answered in time with an
/// error that says the deadline stopped it and what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_near_its_deadline_stops_in_time_and_ends_on_record() {
    let b = fresh_bucket("lambda-deadline").await;
    deploy_seconds_apart(&b, &["d1", "d2", "d3"]).await;
    let before = all_keys(&b).await;
    let mut p = crate::proxy::Proxy::new(0);
    p.delay_all = Some(Duration::from_millis(300));
    let (url, _proxy) = crate::proxy::start(p).await;
    let env = [
        ("S3_PRUNE_BUCKET", b.name()),
        ("S3_PRUNE_RETAIN", "1"),
        ("AWS_ENDPOINT_URL", url.as_str()),
    ];
    let (rt, took) = invoke_near_deadline("near", &env, Duration::from_millis(20_800)).await;
    assert!(
        took < Duration::from_millis(20_800),
        "answered after the deadline: {took:?}"
    );
    let error = rt.error("near");
    assert_contains(&error, "deadline");
    assert_contains(&error, "timeout");
    assert_eq!(all_keys(&b).await, before, "nothing deleted after the stop");
    let parts = bucket::testkit::keys_under(&b, ".s3-prune/runs/").await;
    let end = parts
        .iter()
        .find(|k| k.ends_with("/end.json"))
        .unwrap_or_else(|| panic!("the run ended on record: {parts:?}"));
    let body = bucket::testkit::object_body(&b, end).await.unwrap();
    assert_contains(
        &String::from_utf8_lossy(&body),
        "\"status\":\"interrupted\"",
    );
    assert!(
        matches!(b.read_lease().await, Ok(None)),
        "the lease is released"
    );
}

/// A webhook that never answers does not keep the invocation past its deadline: its tries
/// are given up 3 s before it, and the answer (and its metrics line) goes out in time. Before:
/// 3 tries of 5 s each after the end record, and Lambda answered "Task timed out".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_that_never_answers_does_not_keep_the_run_past_its_deadline() {
    let b = fresh_bucket("lambda-hook-deadline").await;
    deploy_seconds_apart(&b, &["d1", "d2", "d3"]).await;
    // Accepts connections and never answers them.
    let hook = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", hook.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((conn, _)) = hook.accept().await {
            open.push(conn);
        }
    });
    let env = [
        ("S3_PRUNE_BUCKET", b.name()),
        ("S3_PRUNE_RETAIN", "1"),
        ("S3_PRUNE_NOTIFY", hook_url.as_str()),
    ];
    let (rt, took) = invoke_near_deadline("hooked", &env, Duration::from_secs(12)).await;
    held.abort();
    assert!(
        took < Duration::from_secs(12),
        "answered after the deadline: {took:?}"
    );
    assert_contains(&rt.error("hooked"), "deadline");
}

/// A DeleteObjects still without an answer near the invocation's deadline is given up 10 s
/// before it (its keys reported as not known to be deleted), so the run ends on record and the
/// invocation is answered in time, though its lease is renewed all along (a slow server is
/// waited for only as long as the invocation allows).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_in_flight_at_the_deadline_is_given_up_and_the_run_ends_on_record() {
    let b = fresh_bucket("lambda-batch-deadline").await;
    deploy_seconds_apart(&b, &["d1", "d2", "d3"]).await;
    let mut p = crate::proxy::Proxy::new(0);
    p.delay_delete = Some(Duration::from_secs(60));
    let (url, _proxy) = crate::proxy::start(p).await;
    // Deletes stop 20 s before the deadline: 14 s for the scan, the lease and the first batch
    // on a loaded machine (with 4, a slow scan left no batch to give up).
    let env = [
        ("S3_PRUNE_BUCKET", b.name()),
        ("S3_PRUNE_RETAIN", "1"),
        ("AWS_ENDPOINT_URL", url.as_str()),
    ];
    let (rt, took) = invoke_near_deadline("slow", &env, Duration::from_secs(34)).await;
    assert!(
        took < Duration::from_secs(34),
        "answered after the deadline: {took:?}"
    );
    assert_contains(&rt.error("slow"), "deadline");
    let parts = bucket::testkit::keys_under(&b, ".s3-prune/runs/").await;
    let end = parts
        .iter()
        .find(|k| k.ends_with("/end.json"))
        .unwrap_or_else(|| panic!("the run ended on record: {parts:?}"));
    let body =
        String::from_utf8_lossy(&bucket::testkit::object_body(&b, end).await.unwrap()).to_string();
    assert_contains(&body, "\"status\":\"interrupted\"");
    // The batch's answer is on record (in an answers part, or the end's own): its keys not
    // known to be deleted, saying why.
    let mut record = String::new();
    for k in &parts {
        let body = bucket::testkit::object_body(&b, k).await.unwrap();
        record.push_str(&String::from_utf8_lossy(&body));
    }
    assert_contains(&record, "the scheduled job's deadline is near");
}

/// A scheduled job that cannot date its deployments (a mistyped `meta:` key) ends every run
/// with nothing to delete: before, each said `Success: 1`, so the missing-success alarm never
/// fired though cleanup had stopped. Its line now says `Success: 0` and why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_cannot_rank_its_deployments_is_no_success() {
    let b = fresh_bucket("lambda-undated").await;
    deploy_seconds_apart(&b, &["d1", "d2", "d3"]).await;
    let (addr, rt) = start_runtime().await;
    rt.events
        .lock()
        .unwrap()
        .push_back(("once".into(), "{}".into()));
    let env = [
        ("S3_PRUNE_BUCKET", b.name()),
        ("S3_PRUNE_RETAIN", "1"),
        ("S3_PRUNE_DATE_SOURCE", "meta:deployed_at"),
    ];
    let mut child = function(&addr, &env);
    wait_for(&rt, 1).await;
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let emf = metrics_line(&out.stdout);
    assert_eq!(emf["Success"], 0, "{emf}");
    assert_eq!(emf["Deployments"], 3, "{emf}");
    assert_eq!(emf["UnrankedDeployments"], 3, "{emf}");
    assert_contains(emf["shortfall"].as_str().unwrap(), "cannot be ranked");
    assert_eq!(
        all_keys(&b).await.len(),
        6,
        "nothing deleted, nothing noted"
    );
}

/// A scheduled apply says in its log what its plan warns of (here: an inventory report days
/// old): the scheduler invokes it asynchronously and keeps no answer. Before, the warnings
/// were only in the answer, so nobody saw the report grow old; and a report older than a week
/// (its delivery stopped) still said `Success: 1`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_apply_logs_what_its_plan_warns_of() {
    use bucket::testkit::{write_inventory, INVENTORY_SCHEMA};
    let b = fresh_bucket("lambda-warns").await;
    let reports = fresh_bucket("lambda-warns-reports").await;
    deploy_seconds_apart(&b, &["d1", "d2", "d3"]).await;
    // Dated 2026-11-26: more than two days old.
    let at = write_inventory(&b, &reports, INVENTORY_SCHEMA, None, true, "run-w").await;
    let (addr, rt) = start_runtime().await;
    (rt.events.lock().unwrap()).push_back(("once".into(), "{}".into()));
    let mut child = function(
        &addr,
        &[
            ("S3_PRUNE_BUCKET", b.name()),
            ("S3_PRUNE_RETAIN", "1"),
            ("S3_PRUNE_INVENTORY", at.as_str()),
        ],
    );
    wait_for(&rt, 1).await;
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let answer = rt.response("once");
    assert_eq!(answer["summary"]["delete"]["deployments"], 2, "{answer}");
    let logs = String::from_utf8_lossy(&out.stderr);
    assert_contains(&logs, "the plan warns");
    assert_contains(&logs, "inventory report is from");
    // More than a week old, the report is no success either: the missing-success alarm fires.
    let emf = metrics_line(&out.stdout);
    assert_eq!(emf["Success"], 0, "{emf}");
    assert_contains(
        emf["shortfall"].as_str().unwrap(),
        "older than a weekly report",
    );
}

/// The run's CloudWatch Embedded Metric Format line among the function's `stdout`.
fn metrics_line(stdout: &[u8]) -> serde_json::Value {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v.get("_aws").is_some())
        .expect("a metrics line")
}
