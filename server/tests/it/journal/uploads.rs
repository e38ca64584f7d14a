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
    // As in the pin test beside it: batch 1 (p1–p3 and 100 keys of p4) goes at once and takes
    // 3 s; p4's rest and p5 are listed meanwhile, and wait.
    deploy(&b, &["p1", "p2", "p3", "p4", "p5", "p6"], 300).await;
    let mut p = Proxy::new(0);
    p.delay_delete = Some(Duration::from_secs(3));
    let (url, proxy) = start(p).await;
    let apply = apply_via(&url, &b, "1", 1, &[]);
    until_counted("the first DeleteObjects", &proxy.stats.deletes_now).await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
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
