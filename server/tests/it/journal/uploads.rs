//! Objects uploaded into a doomed deployment after its keys were listed (while they wait
//! seconds for their batch) are not deleted: the run says the deployment is only partly gone,
//! never that it deleted it whole.

use super::*;

/// A deployment's keys wait for their batch behind a slow one in flight; meanwhile CI uploads a
/// file into it. The file survives, and the run does not report the deployment deleted: its
/// leftovers are listed (skipped, newer than its listing) and the run fails. Before: `p5` was
/// in `deleted`, the exit status 0, and its first-seen dates were forgotten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_uploaded_while_a_listed_deployment_waits_for_its_batch_is_reported_left() {
    let b = fresh_bucket("upload-queued").await;
    let apply = apply_with_listed_keys_waiting(&b, Duration::from_secs(1)).await;
    put_many(&b, ["p5/new.js".to_string()], &[]).await;

    let out = finish(apply);
    assert!(!out.status.success(), "{}", stdout(&out));
    let report = json(&out);
    let deleted = report["audit"]["deleted"].to_string();
    assert!(!deleted.contains("\"p5\""), "p5 is not gone: {report}");
    let skipped = report["audit"]["skipped"].to_string();
    assert!(skipped.contains("p5/new.js"), "{report}");
    assert_eq!(keys_under(&b, "p5/").await, ["p5/new.js"]);
    for gone in ["p1/", "p2/", "p3/", "p4/"] {
        assert!(keys_under(&b, gone).await.is_empty(), "{gone} is deleted");
    }
}
