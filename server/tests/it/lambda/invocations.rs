//! One function process answers invocation after invocation as `apply` would: a dry run, an
//! apply on record that a CLI elsewhere restores, the live grace, big deployments handed to
//! lifecycle; an event may only narrow the configured job, and a refusal says what to do.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_invocations_plan_delete_dry_run_and_report_errors() {
    let a = fresh_bucket("lambda-a").await;
    a.enable_versioning().await.unwrap(); // so the scheduled run can be undone
    deploy_seconds_apart(&a, &["a1", "a2", "a3"]).await;
    let b = fresh_bucket("lambda-b").await;
    deploy_seconds_apart(&b, &["b1", "b2", "b3", "b4"]).await;
    let (addr, rt) = start_runtime().await;
    {
        let mut ev = rt.events.lock().unwrap();
        ev.push_back(("req-dry".into(), r#"{"dry_run": true}"#.into()));
        ev.push_back(("req-apply".into(), "{}".into()));
        ev.push_back((
            "req-other-bucket".into(),
            format!(r#"{{"bucket": "{}", "retain": 2}}"#, b.name()),
        ));
        ev.push_back((
            "req-missing".into(),
            format!(r#"{{"bucket": "{}-missing"}}"#, a.name()),
        ));
        ev.push_back(("req-bad".into(), r#"{"retain": 0}"#.into()));
    }
    let started = Instant::now();
    let mut child = function(
        &addr,
        &[("S3_PRUNE_BUCKET", a.name()), ("S3_PRUNE_RETAIN", "1")],
    );
    wait_for(&rt, 5).await;
    let cold = rt.first_next.lock().unwrap().unwrap() - started;
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&out.stderr).into_owned();
    // Each apply's CloudWatch Embedded Metric Format line, on stdout (issue 28).
    let metrics: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect();
    let emf = metrics
        .iter()
        .find(|m| m["Bucket"] == a.name())
        .unwrap_or_else(|| panic!("no metrics line for the apply: {metrics:?}"));
    assert_eq!(emf["Success"], 1);
    assert_eq!(emf["DeletedDeployments"], 2);
    assert_eq!(emf["_aws"]["CloudWatchMetrics"][0]["Namespace"], "s3-prune");
    assert_eq!(
        emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        serde_json::json!([["Bucket"], ["Bucket", "Prefix"]]),
        "by bucket, and by bucket and prefix (the module's alarm)"
    );
    assert_eq!(emf["Prefix"], "/", "the bucket root");
    let size = std::fs::metadata(env!("CARGO_BIN_EXE_s3-prune"))
        .unwrap()
        .len();
    println!(
        "lambda: process start to first /next: {cold:?}; binary {:.1} MB (debug build)",
        size as f64 / 1e6
    );

    let resp = |id: &str| rt.response(id);

    // dry run: the plan, nothing deleted
    let dry = resp("req-dry");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["summary"]["delete"]["deployments"], 2);
    assert!(dry.get("audit").is_none());
    // the second invocation in the same process deletes what the plan says
    let applied = resp("req-apply");
    assert_eq!(applied["deleted_objects"], 4);
    assert_eq!(
        applied["audit"]["who"],
        "arn:aws:lambda:us-east-1:123456789012:function:s3-prune"
    );
    assert_eq!(applied["audit"]["source"], "lambda");
    assert_eq!(all_keys(&a).await, vec!["a3/css/font.css", "a3/index.html"]);
    // The scheduled run is in the bucket's journal: a CLI elsewhere lists it.
    let run = applied["audit"]["run"]
        .as_str()
        .expect("a journalled run")
        .to_string();
    assert!(applied["audit"]["journal"]
        .as_str()
        .unwrap()
        .ends_with(&format!("{run}/")));
    let elsewhere =
        std::env::temp_dir().join(format!("s3p-elsewhere-{}.sqlite", std::process::id()));
    let out = crate::common::s3_prune(&[
        "history",
        a.name(),
        "--localstack",
        "--json",
        "--audit-db",
        elsewhere.to_str().unwrap(),
    ]);
    let runs = crate::common::json(&out);
    assert_eq!(runs[0]["id"], run.as_str(), "{runs}");
    assert_eq!(runs[0]["source"], "lambda");
    assert_eq!(runs[0]["status"], "finished");
    // ... and undoes it, by its run id, from a machine that never saw it.
    let out = crate::common::s3_prune(&[
        "restore",
        a.name(),
        "--run",
        &run,
        "--localstack",
        "--audit-db",
        elsewhere.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    assert_eq!(
        all_keys(&a).await,
        vec![
            "a1/css/font.css",
            "a1/index.html",
            "a2/css/font.css",
            "a2/index.html",
            "a3/css/font.css",
            "a3/index.html"
        ],
        "the scheduled run's deletions are undone"
    );
    // errors go to /error with a message a person can act on
    let err = |id: &str| rt.error(id);
    // an event may not aim the configured job at another bucket (its policy, pins and role
    // were written for this one)
    assert_contains(&err("req-other-bucket"), "'bucket' differs");
    assert_eq!(
        all_keys(&b).await.len(),
        8,
        "nothing deleted in the other bucket"
    );
    assert_contains(&err("req-missing"), "'bucket' differs");
    assert_contains(&err("req-bad"), "RETAIN must be at least 1");
    // JSON log lines, carrying the audit record
    let audit_line = logs
        .lines()
        .find(|l| l.contains("apply finished"))
        .expect("an apply log line");
    let v: serde_json::Value = serde_json::from_str(audit_line).expect("JSON log lines");
    assert!(v["fields"]["audit"]
        .as_str()
        .unwrap()
        .contains("\"source\":\"lambda\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_may_only_narrow_the_configured_job() {
    let a = fresh_bucket("lambda-narrow").await;
    deploy_seconds_apart(&a, &["keep-me", "a1", "a2", "a3"]).await;
    let (addr, rt) = start_runtime().await;
    let widening = [
        ("w-dry", r#"{"dry_run": false}"#, "'dry_run'"),
        ("w-max", r#"{"max_delete": 50}"#, "'max_delete'"),
        ("w-purge", r#"{"purge_versions": true}"#, "'purge_versions'"),
        ("w-retain", r#"{"retain": 1}"#, "'retain'"),
        ("w-prefix", r#"{"prefix": "other/"}"#, "'prefix'"),
    ];
    {
        let mut ev = rt.events.lock().unwrap();
        for (id, body, _) in widening {
            ev.push_back((id.into(), body.into()));
        }
        // an empty pin list adds nothing and drops nothing; a higher retain narrows
        ev.push_back(("n-pins".into(), r#"{"pins": [], "retain": 3}"#.into()));
        // a pin with a space kept pinned nothing (before: the run went on, a warning only)
        ev.push_back(("bad-pin".into(), r#"{"pins": ["a1 "]}"#.into()));
    }
    let mut child = function(
        &addr,
        &[
            ("S3_PRUNE_BUCKET", a.name()),
            ("S3_PRUNE_RETAIN", "2"),
            ("S3_PRUNE_PINS", "keep-me"),
            ("S3_PRUNE_MAX_DELETE", "5"),
            ("S3_PRUNE_DRY_RUN", "true"),
        ],
    );
    wait_for(&rt, widening.len() + 2).await;
    child.kill().unwrap();
    child.wait_with_output().unwrap();
    assert_contains(&rt.error("bad-pin"), "a1 ");
    for (id, _, field) in widening {
        let body = rt.error(id);
        assert!(body.contains("may not widen"), "{id}: {body}");
        assert!(body.contains(field), "{id}: {body}");
    }
    let v = rt.response("n-pins");
    assert_eq!(v["dry_run"], true);
    let pinned = v["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "keep-me")
        .unwrap();
    assert_eq!(pinned["reason"], "keep: pinned", "{pinned}");
    assert_eq!(v["policy"]["retain"], 3);
    // nothing was deleted by any of it
    assert_eq!(all_keys(&a).await.len(), 8);
}

/// `S3_PRUNE_VIA_LIFECYCLE`: the scheduled job hands a big doomed deployment to S3 lifecycle
/// expiration as `apply --via-lifecycle` does (the same engine), and deletes the small ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_job_hands_big_deployments_to_lifecycle_when_configured() {
    use crate::lifecycle::{expiries, rules};
    use bucket::testkit::put_many;
    let b = fresh_bucket("lambda-lifecycle").await;
    put_many(&b, (0..3).map(|k| format!("big/f{k}")), &[]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    put_many(&b, ["mid/index.html".to_string()], &[]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    put_many(&b, ["new/index.html".to_string()], &[]).await;
    let (addr, rt) = start_runtime().await;
    rt.events
        .lock()
        .unwrap()
        .push_back(("req-1".into(), "{}".into()));
    let mut child = function(
        &addr,
        &[
            ("S3_PRUNE_BUCKET", b.name()),
            ("S3_PRUNE_RETAIN", "1"),
            ("S3_PRUNE_VIA_LIFECYCLE", "true"),
            ("S3_PRUNE_LIFECYCLE_THRESHOLD", "2"),
        ],
    );
    wait_for(&rt, 1).await;
    child.kill().unwrap();
    let _ = child.wait();
    let responses = rt.responses.lock().unwrap().clone();
    let errors = rt.errors.lock().unwrap().clone();
    let (_, body) = responses
        .first()
        .unwrap_or_else(|| panic!("no response: {errors:?}"));
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(expiries(&v), vec![("big".into(), "handed".into())], "{v}");
    assert_eq!(
        rules(&b).await,
        vec![(
            format!("s3-prune-expire@{} big/", chrono::Utc::now().date_naive()),
            "big/".into(),
            Some(1)
        )]
    );
    assert_eq!(
        all_keys(&b).await,
        vec!["big/f0", "big/f1", "big/f2", "new/index.html"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_job_keeps_the_previous_live_deployment_for_the_grace() {
    let b = fresh_bucket("lambda-grace").await;
    b.enable_versioning().await.unwrap();
    deploy_seconds_apart(&b, &["d1", "d2", "d3", "d4", "d5"]).await;
    for id in ["d2", "d5"] {
        b.put("current", id.as_bytes().to_vec(), "text/plain", &[])
            .await
            .unwrap();
    }
    let env = [
        ("S3_PRUNE_BUCKET", b.name()),
        ("S3_PRUNE_RETAIN", "2"),
        ("S3_PRUNE_LIVE_POINTER", "current"),
    ];
    let applied = invoke_once(&env, "{}").await;
    let mut deleted: Vec<&str> = applied["audit"]["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    deleted.sort_unstable();
    // d5 live, d4 among the newest 2; d2 was live until the pointer moved: kept.
    assert_eq!(deleted, ["d1", "d3"], "{applied}");
    assert!(all_keys(&b).await.iter().any(|k| k.starts_with("d2/")));
    // Grace 0: it goes.
    let mut env = env.to_vec();
    env.push(("S3_PRUNE_LIVE_GRACE", "0s"));
    let applied = invoke_once(&env, "{}").await;
    assert_eq!(applied["audit"]["deleted"][0]["id"], "d2", "{applied}");
    assert!(!all_keys(&b).await.iter().any(|k| k.starts_with("d2/")));
}
