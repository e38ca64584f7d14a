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

mod invocations;
mod outcome;
mod settings;

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
