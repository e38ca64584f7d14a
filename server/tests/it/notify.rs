//! `--notify URL`: after an apply and a restore, each webhook gets the JSON summary (with a
//! `text` line); a webhook that fails is retried, and one that never answers does not fail
//! the run.

use crate::common::{json, s3_prune, stderr, Run};
use bucket::testkit::{all_keys, fresh_bucket};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

/// A webhook receiver: answers 500 to the first `fail_first` POSTs, then 200; keeps every body.
#[derive(Default)]
pub struct Receiver {
    pub bodies: Mutex<Vec<serde_json::Value>>,
    attempts: Mutex<u32>,
    fail_first: u32,
}

pub async fn receiver(fail_first: u32) -> (String, Arc<Receiver>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/hooks/secret-path",
        listener.local_addr().unwrap()
    );
    let rx = Arc::new(Receiver {
        fail_first,
        ..Receiver::default()
    });
    let r = rx.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let r = r.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let r = r.clone();
                    async move {
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let n = {
                            let mut a = r.attempts.lock().unwrap();
                            *a += 1;
                            *a
                        };
                        let status = if n <= r.fail_first {
                            500
                        } else {
                            r.bodies
                                .lock()
                                .unwrap()
                                .push(serde_json::from_slice(&body).unwrap());
                            200
                        };
                        Ok::<_, std::convert::Infallible>(
                            Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::new()))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (url, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_and_restore_tell_every_webhook_and_a_dead_one_fails_nothing() {
    let b = fresh_bucket("notify").await;
    b.enable_versioning().await.unwrap();
    crate::common::deploy_seconds_apart(&b, &["old1", "old2", "new"]).await;
    let (ok_url, ok) = receiver(0).await;
    let (flaky_url, flaky) = receiver(1).await;
    // Nothing listens on port 9 here: every attempt fails at once.
    let dead = "http://127.0.0.1:9/hook";
    let out = Run::apply(b.name(), 1)
        .args(&["--json", "--notify", &ok_url, "--notify", &flaky_url])
        .args(&["--notify", dead])
        .ok();
    let run = json(&out)["audit"]["id"].as_i64().unwrap();
    assert!(
        stderr(&out).contains("notification"),
        "the dead webhook is logged: {}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("secret-path"),
        "a webhook's path stays out of logs"
    );
    assert_eq!(all_keys(&b).await.len(), 2);

    let got = ok.bodies.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    let s = &got[0];
    assert_eq!(s["kind"], "apply");
    assert_eq!(s["bucket"], b.name());
    assert_eq!(s["source"], "cli");
    assert_eq!(s["audit_id"], run);
    assert_eq!(s["deployments"], serde_json::json!(["old1", "old2"]));
    assert_eq!(s["objects"], 4);
    assert_eq!(s["failures"], 0);
    let text = s["text"].as_str().unwrap();
    assert!(
        text.contains("deleted 2 deployment(s)") && text.contains(b.name()),
        "{text}"
    );
    // the flaky one answered 500 once, then took the retry
    assert_eq!(*flaky.attempts.lock().unwrap(), 2);
    assert_eq!(flaky.bodies.lock().unwrap().len(), 1);

    Run::new(&[
        "restore",
        b.name(),
        "--run",
        &run.to_string(),
        "--localstack",
    ])
    .args(&["--notify", &ok_url])
    .ok();

    let got = ok.bodies.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1]["kind"], "restore");
    assert_eq!(got[1]["objects"], 4);
    assert!(got[1]["text"]
        .as_str()
        .unwrap()
        .contains(&format!("of run #{run}")));
    assert_eq!(all_keys(&b).await.len(), 6);
}

#[test]
fn a_bad_webhook_url_is_a_usage_error() {
    let out = s3_prune(&["apply", "b", "1", "--notify", "slack.example/hook"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a webhook URL"),
        "{}",
        stderr(&out)
    );
}

/// A mistyped `--notify` address is refused without being printed: its path is the webhook's
/// secret (Slack's token), and the message goes to terminals and CI logs.
#[test]
fn a_mistyped_webhook_address_is_refused_without_printing_its_secret() {
    let out = s3_prune(&[
        "apply",
        "some-bucket",
        "1",
        "--notify",
        "htps://hooks.slack.com/services/T000/B000/SECRETTOKEN",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("not a webhook URL"), "{err}");
    assert!(
        !err.contains("SECRETTOKEN"),
        "the secret was printed: {err}"
    );
}
