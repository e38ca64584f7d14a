//! The server's shutdown: every apply stops after its requests in flight, also one launched
//! while it was shutting down.

use super::approval::{alice_asks, deployment_keys};
use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_an_approval_launches_while_the_server_shuts_down_is_stopped_too() {
    // Before: shutdown asked the applies running when it began to stop, then waited; one an
    // approval launched after (its decision's write still out) ran to its end.
    let b = seeded("sf-shutdown-approval", &["d1", "d2", "d3"]).await;
    let (_state, _hook, id) = alice_asks(&b).await;
    let approver = super::held::approver_held(&b).await;
    let approving = {
        let (approver, bucket, id) = (approver.clone(), b.name().to_string(), id.clone());
        tokio::spawn(async move {
            approver
                .approve(&bucket, &id, &bucket, "bob@example.com")
                .await
        })
    };
    // The decision is on record, its answer held: the server begins to shut down.
    super::held::decided(&b, &id).await;
    tokio::time::timeout(Duration::from_secs(60), approver.stop_applies())
        .await
        .expect("shutdown waited for the apply to end");
    let started = approving.await.unwrap();
    assert!(
        matches!(started, Ok(ApplyOutcome::Started { .. })),
        "{started:?}"
    );
    assert_eq!(
        deployment_keys(&b).await.len(),
        6,
        "stopped before its first batch"
    );
}
