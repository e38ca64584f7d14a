//! The scheduled job: the real binary against a small Lambda Runtime API server (the documented
//! `/2018-06-01/runtime/invocation/next`, `/response` and `/error` endpoints) and LocalStack.

use crate::common::{assert_contains, deploy_seconds_apart, to_delete};
use bucket::testkit::{all_keys, fresh_bucket};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::collections::VecDeque;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

#[derive(Default)]
struct Runtime {
    events: Mutex<VecDeque<(String, String)>>,
    responses: Mutex<Vec<(String, String)>>,
    errors: Mutex<Vec<(String, String)>>,
    first_next: Mutex<Option<Instant>>,
    /// The next invocations' deadline, this long after they are handed out (none: far away).
    deadline_in: Mutex<Option<Duration>>,
}

impl Runtime {
    /// The error the function sent for invocation `id`; panics when it sent none.
    fn error(&self, id: &str) -> String {
        let errors = self.errors.lock().unwrap();
        let found = errors.iter().find(|(r, _)| r == id).map(|(_, b)| b.clone());
        found.unwrap_or_else(|| panic!("{id} was not refused: {errors:?}"))
    }

    /// The response the function sent for invocation `id`, as JSON; panics when it sent none.
    fn response(&self, id: &str) -> serde_json::Value {
        let responses = self.responses.lock().unwrap();
        let (_, body) = responses
            .iter()
            .find(|(r, _)| r == id)
            .unwrap_or_else(|| panic!("no response for {id}: {:?}", self.errors.lock().unwrap()));
        serde_json::from_str(body).unwrap()
    }
}

async fn handle(
    rt: Arc<Runtime>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let path = req.uri().path().to_string();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body = String::from_utf8_lossy(&body).into_owned();
    if path == "/2018-06-01/runtime/invocation/next" {
        rt.first_next
            .lock()
            .unwrap()
            .get_or_insert_with(Instant::now);
        loop {
            let next = rt.events.lock().unwrap().pop_front();
            if let Some((id, event)) = next {
                let deadline = match *rt.deadline_in.lock().unwrap() {
                    Some(d) => (std::time::SystemTime::now() + d)
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_millis()
                        .to_string(),
                    None => "9999999999999".into(),
                };
                return Ok(Response::builder()
                    .header("Lambda-Runtime-Aws-Request-Id", id)
                    .header("Lambda-Runtime-Deadline-Ms", deadline)
                    .header(
                        "Lambda-Runtime-Invoked-Function-Arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:s3-prune",
                    )
                    .header(
                        "Lambda-Runtime-Trace-Id",
                        "Root=1-00000000-000000000000000000000000",
                    )
                    .body(Full::new(Bytes::from(event)))
                    .unwrap());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let id = path.split('/').nth(4).unwrap_or("").to_string();
    if path.ends_with("/response") {
        rt.responses.lock().unwrap().push((id, body));
    } else if path.ends_with("/error") {
        rt.errors.lock().unwrap().push((id, body));
    }
    Ok(Response::builder()
        .status(202)
        .body(Full::new(Bytes::new()))
        .unwrap())
}

async fn start_runtime() -> (String, Arc<Runtime>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let rt = Arc::new(Runtime::default());
    let r = rt.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let r = r.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| handle(r.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (addr, rt)
}

/// The binary as Lambda starts it, against the test runtime, with the function's environment.
fn function(addr: &str, env: &[(&str, &str)]) -> std::process::Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_s3-prune"));
    cmd.env("AWS_LAMBDA_RUNTIME_API", addr)
        .env("AWS_LAMBDA_FUNCTION_NAME", "s3-prune")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("S3_PRUNE_LOCALSTACK", "1")
        .env_remove("AWS_ENDPOINT_URL")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

async fn wait_for(rt: &Runtime, n: usize) {
    let t = Instant::now();
    while rt.responses.lock().unwrap().len() + rt.errors.lock().unwrap().len() < n {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the function did not answer"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

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
    wait_for(&rt, widening.len() + 1).await;
    child.kill().unwrap();
    child.wait_with_output().unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_function_runs_the_rules_of_s3_prune_policy_and_events_cannot_swap_them() {
    let a = fresh_bucket("lambda-rules").await;
    deploy_seconds_apart(&a, &["pr-1-a", "pr-2-a", "pr-1-b", "other"]).await;
    let (addr, rt) = start_runtime().await;
    {
        let mut ev = rt.events.lock().unwrap();
        ev.push_back(("w-retain".into(), r#"{"retain": 1}"#.into()));
        ev.push_back((
            "w-policy".into(),
            r#"{"policy": "[[rule]]\nname = \"all\"\nmatch = \"*\"\nretain = 1\n"}"#.into(),
        ));
        ev.push_back(("apply".into(), "{}".into()));
    }
    let policy =
        "[[rule]]\nname = \"previews\"\nmatch = \"pr-*\"\ngroup = '^(pr-\\d+)-'\nretain = 1\n";
    let mut child = function(
        &addr,
        &[("S3_PRUNE_BUCKET", a.name()), ("S3_PRUNE_POLICY", policy)],
    );
    wait_for(&rt, 3).await;
    child.kill().unwrap();
    child.wait_with_output().unwrap();
    for id in ["w-retain", "w-policy"] {
        let body = rt.error(id);
        assert!(body.contains("may not widen"), "{id}: {body}");
    }
    let v = rt.response("apply");
    assert_eq!(to_delete(&v), ["pr-1-a"], "{v}");
    let left: Vec<String> = all_keys(&a).await;
    assert_eq!(left.len(), 6);
    assert!(!left.iter().any(|k| k.starts_with("pr-1-a/")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_function_reads_its_rules_from_the_bucket_each_run_and_deletes_nothing_without_them() {
    let a = fresh_bucket("lambda-policy-key").await;
    deploy_seconds_apart(&a, &["pr-1-a", "pr-2-a", "pr-1-b", "other"]).await;
    let (addr, rt) = start_runtime().await;
    let (hook, told) = crate::notify::receiver(0).await;
    let mut child = function(
        &addr,
        &[
            ("S3_PRUNE_BUCKET", a.name()),
            ("S3_PRUNE_POLICY_KEY", ".s3-prune/policy.toml"),
            ("S3_PRUNE_NOTIFY", &hook),
        ],
    );
    let run = |id: &str| {
        rt.events
            .lock()
            .unwrap()
            .push_back((id.to_string(), "{}".to_string()))
    };
    // 1. No file yet: refused, nothing deleted.
    run("missing");
    wait_for(&rt, 1).await;
    // 2. A file with an error: refused, naming the file and the key.
    let put = |body: &str| {
        let body = body.as_bytes().to_vec();
        let a = &a;
        async move {
            a.put(".s3-prune/policy.toml", body, "application/toml", &[])
                .await
                .unwrap()
        }
    };
    put("[[rule]]\nname = \"all\"\nmatch = \"*\"\nretain = 0\n").await;
    run("bad");
    wait_for(&rt, 2).await;
    assert_eq!(all_keys(&a).await.len(), 9, "nothing deleted yet");
    // 3. A good file: its rules decide (one per PR group), read at this run, not at start-up.
    put("[[rule]]\nname = \"previews\"\nmatch = \"pr-*\"\ngroup = '^(pr-\\d+)-'\nretain = 1\n")
        .await;
    run("apply");
    wait_for(&rt, 3).await;
    child.kill().unwrap();
    child.wait_with_output().unwrap();

    let body = |id: &str| rt.error(id);
    assert_contains(&body("missing"), "does not exist");
    assert_contains(&body("missing"), "Nothing will be deleted");
    let bad = body("bad");
    assert!(
        bad.contains(".s3-prune/policy.toml") && bad.contains("retain"),
        "{bad}"
    );
    let v = rt.response("apply");
    assert_eq!(to_delete(&v), ["pr-1-a"], "{v}");
    // S3_PRUNE_NOTIFY: the one apply (the refused runs deleted nothing) was told.
    let told = told.bodies.lock().unwrap().clone();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["source"], "lambda");
    assert_eq!(told[0]["deployments"], serde_json::json!(["pr-1-a"]));
    let left = all_keys(&a).await;
    assert!(
        left.iter().any(|k| k == ".s3-prune/policy.toml"),
        "{left:?}"
    );
    assert!(!left.iter().any(|k| k.starts_with("pr-1-a/")), "{left:?}");

    // A policy file inside a deployment folder could be deleted by the run it governs: refused.
    let (addr, rt) = start_runtime().await;
    a.put(
        "other/policy.toml",
        b"[[rule]]\nname = \"all\"\nmatch = \"*\"\nretain = 1\n".to_vec(),
        "application/toml",
        &[],
    )
    .await
    .unwrap();
    let mut child = function(
        &addr,
        &[
            ("S3_PRUNE_BUCKET", a.name()),
            ("S3_PRUNE_POLICY_KEY", "other/policy.toml"),
        ],
    );
    rt.events
        .lock()
        .unwrap()
        .push_back(("inside".into(), "{}".into()));
    wait_for(&rt, 1).await;
    child.kill().unwrap();
    child.wait_with_output().unwrap();
    let errors = rt.errors.lock().unwrap().clone();
    assert!(
        errors
            .iter()
            .any(|(r, b)| r == "inside" && b.contains("never inside a deployment folder")),
        "{errors:?}"
    );
    assert_eq!(all_keys(&a).await.len(), left.len() + 1);
}

#[test]
fn a_policy_key_beside_s3_prune_policy_or_retain_is_refused_at_start() {
    for (env, want) in [
        (
            vec![("S3_PRUNE_POLICY_KEY", "p.toml"), ("S3_PRUNE_POLICY", "x")],
            "not both",
        ),
        (
            vec![("S3_PRUNE_POLICY_KEY", "p.toml"), ("S3_PRUNE_RETAIN", "3")],
            "not both",
        ),
        (
            vec![
                ("S3_PRUNE_RETAIN", "3"),
                ("S3_PRUNE_LIFECYCLE_THRESHOLD", "10"),
            ],
            "set both, or neither",
        ),
        (
            vec![
                ("S3_PRUNE_RETAIN", "3"),
                ("S3_PRUNE_VIA_LIFECYCLE", "true"),
                ("S3_PRUNE_PURGE_VERSIONS", "true"),
            ],
            "not both",
        ),
    ] {
        let mut env = env;
        env.push(("S3_PRUNE_BUCKET", "b"));
        let out = function("127.0.0.1:9", &env).wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(err.contains(want), "{err}");
    }
}

#[test]
fn a_misspelt_variable_or_a_list_not_separated_by_commas_fails_the_start() {
    // Before: `S3_PRUNE_DRYRUN=true` (and `S3_PRUNE_MIN_RETAIN_DAY=60`) were not read, and the
    // "dry run" deleted seven deployments; `S3_PRUNE_PINS="d05 d06"` was one pin matching
    // nothing, and d05 and d06 were deleted.
    for (env, want) in [
        (
            vec![("S3_PRUNE_DRYRUN", "true")],
            "S3_PRUNE_DRYRUN is not a setting of s3-prune: did you mean S3_PRUNE_DRY_RUN?",
        ),
        (
            vec![
                ("S3_PRUNE_MIN_RETAIN_DAY", "60"),
                ("S3_PRUNE_DRY_RUN", "true"),
                ("S3_PRUNE_MAX_DELET", "3"),
            ],
            "S3_PRUNE_MAX_DELET is not a setting of s3-prune (and 1 more: S3_PRUNE_MIN_RETAIN_DAY): did you mean S3_PRUNE_MAX_DELETE?",
        ),
        (
            vec![("S3_PRUNE_PINS", "d05 d06")],
            "S3_PRUNE_PINS: 'd05 d06' holds a space or ';': separate ids with commas",
        ),
        (
            vec![("S3_PRUNE_EXCLUDES", "d07;d08")],
            "S3_PRUNE_EXCLUDES: 'd07;d08' holds a space or ';'",
        ),
    ] {
        let mut env = env;
        env.extend([("S3_PRUNE_BUCKET", "b"), ("S3_PRUNE_RETAIN", "3")]);
        let out = function("127.0.0.1:9", &env).wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(err.contains(want), "{env:?}: {err}");
    }
    // Commas, with spaces around them, are a list.
    let env = [
        ("S3_PRUNE_BUCKET", "b"),
        ("S3_PRUNE_RETAIN", "3"),
        ("S3_PRUNE_PINS", "d05, d06"),
    ];
    let out = function("127.0.0.1:9", &env).wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("S3_PRUNE_PINS"), "{err}");
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

/// One invocation (`{}`) of a function configured by `env` that it answers with an error: the
/// error, and what the function printed (its metrics line).
pub(crate) async fn invoke_failing(env: &[(&str, &str)]) -> (String, String) {
    let (addr, rt) = start_runtime().await;
    rt.events
        .lock()
        .unwrap()
        .push_back(("once".into(), "{}".into()));
    let mut child = function(&addr, env);
    wait_for(&rt, 1).await;
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    (
        rt.error("once"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// One invocation of a function configured by `env` with `event`: its answer.
async fn invoke_once(env: &[(&str, &str)], event: &str) -> serde_json::Value {
    let (addr, rt) = start_runtime().await;
    rt.events
        .lock()
        .unwrap()
        .push_back(("once".into(), event.into()));
    let mut child = function(&addr, env);
    wait_for(&rt, 1).await;
    child.kill().unwrap();
    child.wait_with_output().unwrap();
    rt.response("once")
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
    let (addr, rt) = start_runtime().await;
    *rt.deadline_in.lock().unwrap() = Some(Duration::from_millis(20_800));
    rt.events
        .lock()
        .unwrap()
        .push_back(("near".into(), "{}".into()));
    let env = [
        ("S3_PRUNE_BUCKET", b.name()),
        ("S3_PRUNE_RETAIN", "1"),
        ("AWS_ENDPOINT_URL", url.as_str()),
    ];
    let mut child = function(&addr, &env);
    let started = Instant::now();
    wait_for(&rt, 1).await;
    let took = started.elapsed();
    child.kill().unwrap();
    child.wait_with_output().unwrap();
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
    let (addr, rt) = start_runtime().await;
    // Deletes stop 20 s before the deadline: 14 s for the scan, the lease and the first batch
    // on a loaded machine (with 4, a slow scan left no batch to give up).
    *rt.deadline_in.lock().unwrap() = Some(Duration::from_secs(34));
    rt.events
        .lock()
        .unwrap()
        .push_back(("slow".into(), "{}".into()));
    let env = [
        ("S3_PRUNE_BUCKET", b.name()),
        ("S3_PRUNE_RETAIN", "1"),
        ("AWS_ENDPOINT_URL", url.as_str()),
    ];
    let mut child = function(&addr, &env);
    let started = Instant::now();
    wait_for(&rt, 1).await;
    let took = started.elapsed();
    child.kill().unwrap();
    child.wait_with_output().unwrap();
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
    let emf: serde_json::Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v.get("_aws").is_some())
        .expect("a metrics line");
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
