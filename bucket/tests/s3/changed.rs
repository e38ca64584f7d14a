//! A deployment goes only as the plan saw it: keys or versions newer than the plan, more current
//! objects than it counted, or a pin since leave it whole; one past 2,000 keys is verified whole
//! before any of it is sent, and no page past the plan's count is sent.

use crate::common::{doomed, mode};
use bucket::testkit::{
    all_keys, all_versions, fresh_bucket, put_many, remove_keys, remove_markers,
};
use bucket::{Deletion, Progress, ScanOptions};
use retention::{DeploymentId, Doomed};
use std::sync::Arc;

#[tokio::test]
async fn a_deployment_with_keys_or_versions_newer_than_the_plan_is_left_whole() {
    for purge in [false, true] {
        let b = fresh_bucket(if purge { "newer-purge" } else { "newer" }).await;
        if purge {
            b.enable_versioning().await.unwrap();
        }
        put_many(&b, ["r7/index.html".into(), "r7/app.js".into()], &[]).await;
        let inv = b.scan(&ScanOptions::default()).await.unwrap();
        let seen = inv.deployments[0].clone();
        // CI re-publishes into the doomed folder after the plan was made
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        put_many(&b, ["r7/late.html".into(), "r7/index.html".into()], &[]).await;
        let plan_view = Doomed {
            id: seen.id.clone(),
            objects: seen.objects,
            bytes: seen.bytes,
            newest: seen.newest,
        };
        let report = b
            .delete_deployments(&[plan_view], mode(purge), 4, Arc::new(Progress::default()))
            .await;
        let d = &report.deployments[0];
        let changed = d
            .changed
            .as_ref()
            .expect("reported as changed since the plan");
        assert_eq!(changed.newer, 2, "purge {purge}");
        assert_eq!((d.listed, d.deleted), (0, 0), "purge {purge}: nothing sent");
        assert!(report.is_complete(), "left whole on purpose is no failure");
        assert_eq!(
            all_keys(&b).await,
            vec!["r7/app.js", "r7/index.html", "r7/late.html"],
            "purge {purge}: not one key of the re-published deployment is gone"
        );
        if purge {
            assert_eq!(all_versions(&b).await.len(), 4, "every version is kept");
        }
    }
}

/// `--purge-versions` lists versions, not current objects; objects a restore brought back
/// since the plan (their dates old, so none is newer) must still count as a change: purged,
/// they would be gone for good though the plan never showed them.
#[tokio::test]
async fn a_purge_leaves_whole_a_deployment_with_more_current_objects_than_the_plan_saw() {
    let b = fresh_bucket("purge-restored").await;
    b.enable_versioning().await.unwrap();
    put_many(&b, ["r7/index.html".into(), "r7/app.js".into()], &[]).await;
    remove_keys(&b, ["r7/app.js".into()]).await;
    let inv = b.scan(&ScanOptions::default()).await.unwrap();
    let seen = inv.deployments[0].clone();
    assert_eq!(seen.objects, 1, "the plan sees index.html only");
    // Someone restores app.js after the plan: it is current again, with its old date.
    remove_markers(&b, "r7/").await;
    let plan_view = Doomed {
        id: seen.id.clone(),
        objects: seen.objects,
        bytes: seen.bytes,
        newest: seen.newest,
    };
    let report = b
        .delete_deployments(
            &[plan_view],
            Deletion::Purge,
            4,
            Arc::new(Progress::default()),
        )
        .await;
    let d = &report.deployments[0];
    let changed = d
        .changed
        .as_ref()
        .expect("reported as changed since the plan");
    assert_eq!((changed.listed, changed.planned), (2, Some(1)));
    assert_eq!(d.deleted, 0, "nothing sent");
    assert_eq!(all_keys(&b).await, vec!["r7/app.js", "r7/index.html"]);
}

#[tokio::test]
async fn a_big_deployment_is_verified_whole_before_any_of_it_is_sent() {
    // Past the size held in memory (2,000 keys): a verifying pass lists it all first.
    let b = fresh_bucket("newer-big").await;
    let keys: Vec<String> = (0..2_050).map(|n| format!("big/f{n:05}")).collect();
    put_many(&b, keys, &[]).await;
    let inv = b.scan(&ScanOptions::default()).await.unwrap();
    let seen = inv.deployments[0].clone();
    let plan_view = Doomed {
        id: seen.id.clone(),
        objects: seen.objects,
        bytes: seen.bytes,
        newest: seen.newest,
    };
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // The last key in listing order: a pipeline that sent pages as it listed them would have
    // sent 2,000 keys before it saw this one.
    put_many(&b, ["big/zz-late.html".into()], &[]).await;
    let report = b
        .delete_deployments(
            std::slice::from_ref(&plan_view),
            mode(false),
            4,
            Arc::new(Progress::default()),
        )
        .await;
    let d = &report.deployments[0];
    assert!(d.changed.is_some(), "changed since the plan");
    assert_eq!(d.deleted, 0);
    assert_eq!(all_keys(&b).await.len(), 2_051, "all of it is still there");
    // As the plan saw it (the late key removed again), it goes whole, in two passes.
    remove_keys(&b, ["big/zz-late.html".to_string()]).await;
    let report = b
        .delete_deployments(&[plan_view], mode(false), 4, Arc::new(Progress::default()))
        .await;
    assert!(
        report.deployments[0].is_gone(),
        "{:?}",
        report.deployments[0].failed
    );
    assert_eq!(report.deleted_objects, 2_050);
    assert!(all_keys(&b).await.is_empty());
}

/// A watch whose answer to the `n`-th question about a deployment (from 0: beside its first
/// listing page, then before a big one's deleting pass) is `answer(n)`; batches go unrecorded.
struct Asked<F>(std::sync::atomic::AtomicUsize, F);

impl<F> Asked<F> {
    fn new(answer: F) -> Self {
        Asked(Default::default(), answer)
    }
}

impl<F> bucket::Watch for Asked<F>
where
    F: Fn(usize) -> futures::future::BoxFuture<'static, Option<String>> + Send + Sync,
{
    fn hold<'a>(&'a self, _: &'a DeploymentId) -> futures::future::BoxFuture<'a, Option<String>> {
        (self.1)(self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst))
    }
    fn before_batch<'a>(
        &'a self,
        _: u64,
        _: &'a [bucket::BatchKey],
    ) -> futures::future::BoxFuture<'a, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
    fn after_batch<'a>(
        &'a self,
        _: u64,
        _: &'a bucket::BatchOutcome,
    ) -> futures::future::BoxFuture<'a, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test]
async fn a_big_deployment_pinned_while_its_checking_pass_lists_it_is_left_whole() {
    // Past the size held in memory (2,000 keys), a deployment is listed twice: once to check
    // it, then again to delete it. Listing a big one takes minutes on S3; pins and the live
    // pointer are asked again before the deleting pass, not only beside the first page.
    let b = fresh_bucket("pinned-big").await;
    put_many(&b, (0..2_050).map(|n| format!("big/f{n:05}")), &[]).await;
    // Lets it go when first asked, holds it from then on: a pin (or the live pointer) that
    // arrived while its checking pass listed it.
    let watch = Asked::new(|asked: usize| {
        Box::pin(async move { (asked > 0).then(|| "pinned since the plan".to_string()) })
            as futures::future::BoxFuture<'static, Option<String>>
    });
    let report = b
        .delete_deployments_watched(
            &[doomed("big")],
            mode(false),
            4,
            Arc::new(Progress::default()),
            &watch,
        )
        .await;
    let d = &report.deployments[0];
    assert_eq!(d.held.as_deref(), Some("pinned since the plan"));
    assert_eq!(d.deleted, 0);
    assert_eq!(all_keys(&b).await.len(), 2_050, "all of it is still there");
}

#[tokio::test]
async fn a_big_deployment_that_grows_between_its_passes_sends_no_page_past_the_plans_count() {
    let b = fresh_bucket("grows-big").await;
    put_many(&b, (0..2_050).map(|n| format!("big/f{n:05}")), &[]).await;
    // The plan counted 2,050; what appears later is dated within what it saw.
    let plan_view = Doomed {
        objects: 2_050,
        ..doomed("big")
    };
    // Asked again before the deleting pass, it first puts keys into it that the plan never
    // counted, dated no later than what the plan saw (a delete marker removed by hand, a
    // replica keeping its source's date).
    let grows = b.clone();
    let watch = Asked::new(move |asked: usize| {
        let b = grows.clone();
        Box::pin(async move {
            if asked == 1 {
                put_many(&b, (0..5).map(|n| format!("big/zz-old-{n}")), &[]).await;
            }
            None
        }) as futures::future::BoxFuture<'static, Option<String>>
    });
    let report = b
        .delete_deployments_watched(
            &[plan_view],
            mode(false),
            4,
            Arc::new(Progress::default()),
            &watch,
        )
        .await;
    let d = &report.deployments[0];
    let failed = format!("{:?}", d.failed);
    assert!(
        failed.contains("more objects than the plan counted"),
        "{failed}"
    );
    let left = all_keys(&b).await;
    assert!(
        (0..5).all(|n| left.contains(&format!("big/zz-old-{n}"))),
        "keys the plan never counted were deleted: {} left",
        left.len()
    );
    assert_eq!(
        left.len(),
        55,
        "the page that outgrew the count was not sent"
    );
}
