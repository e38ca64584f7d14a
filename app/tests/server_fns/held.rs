//! A proxy between a dashboard and LocalStack that holds one write's answer: the write done,
//! its request waiting (to drop it there).

use super::{config, localstack, AppState, Bucket, ServeConfig};
use std::sync::Arc;
use std::time::Duration;

/// An approver's dashboard (approval over one deployment) whose answers to a decision's write
/// come 5 s late ([`answer_held_after`]): S3 has stored the decision by then.
pub(crate) async fn approver_held(b: &Bucket) -> Arc<AppState> {
    let proxy = answer_held_after("decision.json").await;
    Arc::new(AppState::new(ServeConfig {
        approval_over: Some(1),
        connect: bucket::Connect {
            endpoint_url: Some(proxy),
            ..localstack()
        },
        ..config(b, None)
    }))
}

/// Waits until request `id`'s decision is on record.
pub(crate) async fn decided(b: &Bucket, id: &str) {
    while prune::approval::read(b, id)
        .await
        .unwrap()
        .decision
        .is_none()
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A loopback proxy to LocalStack that, on a connection which sent a PUT whose request line
/// names `key`, holds what S3 answers for 5 s: the write is done, its answer late.
pub(crate) async fn answer_held_after(key: &'static str) -> String {
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let upstream = std::env::var("AWS_ENDPOINT_URL")
        .unwrap_or_else(|_| "http://localhost:4566".into())
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                continue;
            };
            let held = Arc::new(AtomicBool::new(false));
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            let seen = held.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n) = cr.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    let text = String::from_utf8_lossy(&buf[..n]);
                    if text
                        .lines()
                        .any(|l| l.starts_with("PUT ") && l.contains(key))
                    {
                        seen.store(true, Ordering::SeqCst);
                    }
                    if sw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut waited = false;
                while let Ok(n) = sr.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    if !waited && held.load(Ordering::SeqCst) {
                        waited = true;
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    }
                    if cw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    url
}
