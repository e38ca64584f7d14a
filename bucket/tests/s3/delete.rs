//! Deleting: a deployment's keys go in batches, shared by small deployments and counted for
//! each; a plain delete keeps versions, a purge takes every version and marker, of a big
//! deployment too; a deployment already gone is a no-op.

use crate::common::{delete, doomed, id, mode};
use bucket::testkit::{all_keys, all_versions, fresh_bucket, put_many};
use bucket::{Deletion, Progress, ScanOptions};
use retention::{Doomed, Versioning};
use std::sync::Arc;

#[tokio::test]
async fn a_deployment_of_2500_objects_is_scanned_and_deleted_in_batches() {
    let b = fresh_bucket("big-deployment").await;
    put_many(&b, (0..2500).map(|i| format!("big/assets/{i:05}.css")), &[]).await;
    put_many(&b, (0..3).map(|i| format!("small/{i}.html")), &[]).await;
    let inv = b.scan(&ScanOptions::default()).await.unwrap();
    assert_eq!(inv.deployments.len(), 2);
    let big = inv
        .deployments
        .iter()
        .find(|d| d.id.as_str() == "big")
        .unwrap();
    assert_eq!(big.objects, 2500);
    // each body is its key: "big/assets/00000.css" is 20 bytes
    assert_eq!(big.bytes, 2500 * 20);

    let progress = Arc::new(Progress::default());
    let report = b
        .delete_deployments(&[doomed("big")], Deletion::Plain, 4, progress.clone())
        .await;
    assert!(report.is_complete(), "{:?}", report.failed);
    assert_eq!(report.deleted_objects, 2500);
    assert_eq!(
        progress
            .objects_done
            .load(std::sync::atomic::Ordering::Relaxed),
        2500
    );
    assert_eq!(
        all_keys(&b).await,
        vec!["small/0.html", "small/1.html", "small/2.html"]
    );
}

#[tokio::test]
async fn versioned_bucket_keeps_versions_unless_purged() {
    let b = fresh_bucket("versioned").await;
    b.enable_versioning().await.unwrap();
    // two versions of one key, plus a second key, in each of two deployments
    for dep in ["old", "purged"] {
        put_many(
            &b,
            [format!("{dep}/index.html"), format!("{dep}/a.css")],
            &[],
        )
        .await;
        put_many(&b, [format!("{dep}/index.html")], &[]).await;
    }
    put_many(&b, ["new/index.html".into()], &[]).await;
    let inv = b.scan(&ScanOptions::default()).await.unwrap();
    assert_eq!(inv.versioning, Versioning::Enabled);
    assert_eq!(
        b.count_versions(&[id("old"), id("purged")], 2)
            .await
            .unwrap(),
        6
    );

    // plain delete: objects disappear from the listing, but versions stay and markers appear
    let r = delete(&b, &["old"], false).await;
    assert!(r.is_complete());
    let left: Vec<_> = all_versions(&b)
        .await
        .into_iter()
        .filter(|(k, _)| k.starts_with("old/"))
        .collect();
    assert_eq!(left.iter().filter(|(_, marker)| !marker).count(), 3);
    assert_eq!(left.iter().filter(|(_, marker)| *marker).count(), 2);

    // purge: nothing at all is left of the deployment, the others are untouched
    let r = delete(&b, &["purged"], true).await;
    assert!(r.is_complete(), "{:?}", r.failed);
    assert_eq!(r.deleted_objects, 3);
    let versions = all_versions(&b).await;
    assert!(!versions.iter().any(|(k, _)| k.starts_with("purged/")));
    assert!(versions.contains(&("new/index.html".to_string(), false)));
    // purging "old" later also removes its delete markers
    let r = delete(&b, &["old"], true).await;
    assert_eq!(r.deleted_objects, 5);
    assert!(!all_versions(&b)
        .await
        .iter()
        .any(|(k, _)| k.starts_with("old/")));
}

#[tokio::test]
async fn deleting_a_gone_deployment_is_a_no_op() {
    let b = fresh_bucket("gone").await;
    put_many(&b, ["keep/index.html".into()], &[]).await;
    let r = delete(&b, &["never-existed"], false).await;
    assert!(r.is_complete());
    assert_eq!(r.deleted_objects, 0);
    assert_eq!(all_keys(&b).await, vec!["keep/index.html"]);
}

#[tokio::test]
async fn small_deployments_are_deleted_through_shared_batches_and_counted_each() {
    let b = fresh_bucket("shared-batches").await;
    // 24 deployments of 70 objects: 1,680 keys, so batches mix deployments.
    let names: Vec<String> = (0..24).map(|i| format!("site{i:02}")).collect();
    put_many(
        &b,
        names
            .iter()
            .flat_map(|n| (0..70).map(move |k| format!("{n}/a/{k:02}.js"))),
        &[],
    )
    .await;
    let set: Vec<Doomed> = names[..20].iter().map(|n| doomed(n)).collect();
    let progress = Arc::new(Progress::default());
    let report = b
        .delete_deployments(&set, Deletion::Plain, 3, progress.clone())
        .await;
    assert!(report.is_complete(), "{:?}", report.failed);
    assert_eq!(report.deleted_objects, 20 * 70);
    assert_eq!(report.deployments.len(), 20);
    for d in &report.deployments {
        assert_eq!((d.listed, d.deleted), (70, 70), "{}", d.id);
    }
    let done = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(done(&progress.deployments_done), 20);
    assert_eq!(done(&progress.objects_done), 1400);
    let left = all_keys(&b).await;
    assert_eq!(left.len(), 4 * 70);
    assert!(left
        .iter()
        .all(|k| names[20..].iter().any(|n| k.starts_with(&format!("{n}/")))));
}
#[tokio::test]
async fn a_big_deployment_of_many_versions_is_purged_whole() {
    // Past 2,000 keys, three versions each: the deleting pass lists versions while earlier
    // pages' are deleted, so a key's next older version becomes its latest as it goes. Nothing
    // appeared since the plan: all of it goes, none of it is called changed.
    let b = fresh_bucket("purge-big").await;
    b.enable_versioning().await.unwrap();
    let keys: Vec<String> = (0..2_010).map(|n| format!("big/f{n:05}")).collect();
    for _ in 0..3 {
        put_many(&b, keys.clone(), &[]).await;
    }
    let plan_view = Doomed {
        objects: 2_010,
        ..doomed("big")
    };
    let report = b
        .delete_deployments(&[plan_view], mode(true), 4, Arc::new(Progress::default()))
        .await;
    let d = &report.deployments[0];
    assert!(d.failed.is_empty(), "{:?}", d.failed);
    assert!(d.changed.is_none());
    assert!(all_keys(&b).await.is_empty());
}
