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

/// A folder an earlier run handed to S3 lifecycle expiration (its rule pending), deleted by
/// requests this time, re-published while its keys wait for their batch: the new file is left,
/// and the folder's rule is withdrawn — left, it expired the new upload within a day. Before,
/// a folder with keys newer than its listing kept its rule (review).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handed_over_folder_re_published_during_the_run_loses_its_rule() {
    let b = fresh_bucket("upload-handed").await;
    deploy(&b, &LISTED_WAITING, 300).await;
    let p5 = retention::DeploymentId::new("p5").unwrap();
    b.expire_by_lifecycle(&[p5], chrono::Utc::now().date_naive())
        .await
        .unwrap();
    assert_eq!(b.expiries().await.unwrap().len(), 1);
    let apply = listed_keys_waiting(&b, Duration::from_secs(1)).await;
    put_many(&b, ["p5/new.js".to_string()], &[]).await;

    let out = finish(apply);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert_eq!(keys_under(&b, "p5/").await, ["p5/new.js"]);
    let left: Vec<String> = (b.expiries().await.unwrap().into_iter())
        .map(|e| e.id.to_string())
        .collect();
    assert!(left.is_empty(), "S3 would expire the new upload: {left:?}");
    let said = json(&out)["audit"]["expiries"].to_string();
    assert!(said.contains("re-published during the run"), "{said}");
}
