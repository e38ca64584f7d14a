//! The bucket crate against a real LocalStack (started by `make test`).

use bucket::testkit::{
    all_keys, all_versions, fresh_bucket, put_many, remove_keys, remove_markers, with_prefix,
    write_inventory, write_parquet_inventory, INVENTORY_SCHEMA,
};
use bucket::{Deletion, Progress, S3Error, ScanOptions};
use retention::{DeploymentId, Doomed, Versioning};
use std::sync::Arc;

fn id(s: &str) -> DeploymentId {
    DeploymentId::new(s).unwrap()
}

/// A deployment to delete whole: its plan saw everything up to a minute from now.
/// A plan's view that nothing in these tests can have outgrown (any count, any date up to a
/// minute from now): they are about deleting; changes since the plan have their own tests.
fn doomed(s: &str) -> Doomed {
    Doomed {
        id: id(s),
        objects: u64::MAX,
        bytes: 0,
        newest: chrono::Utc::now() + chrono::Duration::minutes(1),
    }
}

fn mode(purge: bool) -> Deletion {
    if purge {
        Deletion::Purge
    } else {
        Deletion::Plain
    }
}

async fn delete(b: &bucket::Bucket, ids: &[&str], purge: bool) -> bucket::DeleteReport {
    let ids: Vec<_> = ids.iter().map(|s| doomed(s)).collect();
    b.delete_deployments(&ids, mode(purge), 8, Arc::new(Progress::default()))
        .await
}

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
async fn fifteen_hundred_deployments_are_all_found() {
    let b = fresh_bucket("many-deployments").await;
    put_many(&b, (0..1500).map(|i| format!("d{i:04}/index.html")), &[]).await;
    let inv = b
        .scan(&ScanOptions {
            concurrency: 32,
            meta_key: None,
            live_pointer: None,
            live_from: None,
            live_grace: None,
        })
        .await
        .unwrap();
    assert_eq!(inv.deployments.len(), 1500);
    assert!(inv.deployments.iter().all(|d| d.objects == 1));
    assert_eq!(inv.deployments[1499].id.as_str(), "d1499");
}

#[tokio::test]
async fn awkward_keys_round_trip() {
    let b = fresh_bucket("awkward").await;
    let long = format!("dep +%é/{}", "k".repeat(1024 - "dep +%é/".len()));
    assert_eq!(long.len(), 1024);
    let doomed = vec![
        "dep +%é/with space.html".to_string(),
        "dep +%é/plus+sign.css".to_string(),
        "dep +%é/percent%2Fencoded.png".to_string(),
        "dep +%é/ünïcødé/文件.txt".to_string(),
        "dep +%é/../dots".to_string(),
        "dep +%é/".to_string(), // folder marker
        long,
    ];
    put_many(&b, doomed.clone(), &[]).await;
    // A neighbour whose name shares a prefix with the doomed one must survive.
    put_many(
        &b,
        ["dep +%é2/index.html".to_string(), "dep +%/x".to_string()],
        &[],
    )
    .await;
    let inv = b.scan(&ScanOptions::default()).await.unwrap();
    let ids: Vec<&str> = inv.deployments.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, vec!["dep +%", "dep +%é", "dep +%é2"]);
    assert_eq!(inv.deployments[1].objects, doomed.len() as u64);

    let report = delete(&b, &["dep +%é"], false).await;
    assert!(report.is_complete(), "{:?}", report.failed);
    assert_eq!(report.deleted_objects, doomed.len() as u64);
    assert_eq!(all_keys(&b).await, vec!["dep +%/x", "dep +%é2/index.html"]);
}

#[tokio::test]
async fn loose_objects_are_counted_and_never_deleted() {
    let b = fresh_bucket("loose").await;
    put_many(
        &b,
        [
            "robots.txt".into(),
            "favicon.ico".into(),
            "a/index.html".into(),
            "b/index.html".into(),
        ],
        &[],
    )
    .await;
    let inv = b.scan(&ScanOptions::default()).await.unwrap();
    assert_eq!(inv.loose.objects, 2);
    assert_eq!(
        inv.loose.bytes,
        ("robots.txt".len() + "favicon.ico".len()) as u64
    );
    assert_eq!(inv.deployments.len(), 2);
    delete(&b, &["a", "b"], false).await;
    assert_eq!(all_keys(&b).await, vec!["favicon.ico", "robots.txt"]);
}

#[tokio::test]
async fn a_prefix_scopes_everything() {
    let b = fresh_bucket("prefix").await;
    put_many(
        &b,
        [
            "sites/a/index.html".into(),
            "sites/b/index.html".into(),
            "sites/loose.txt".into(),
            "sites-old/c/x".into(),
            "other/d/x".into(),
        ],
        &[],
    )
    .await;
    // "sites" without a slash means the folder sites/, not sites-old/
    let p = with_prefix(&b, "sites").await;
    assert_eq!(p.prefix(), "sites/");
    let inv = p.scan(&ScanOptions::default()).await.unwrap();
    let ids: Vec<&str> = inv.deployments.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, vec!["a", "b"]);
    assert_eq!(inv.loose.objects, 1);
    delete(&p, &["a"], false).await;
    assert_eq!(
        all_keys(&b).await,
        vec![
            "other/d/x",
            "sites-old/c/x",
            "sites/b/index.html",
            "sites/loose.txt"
        ]
    );
}

#[tokio::test]
async fn an_empty_bucket_has_no_deployments() {
    let b = fresh_bucket("empty").await;
    let inv = b.scan(&ScanOptions::default()).await.unwrap();
    assert!(inv.deployments.is_empty());
    assert_eq!(inv.loose.objects, 0);
    assert_eq!(inv.versioning, Versioning::Unversioned);
}

#[tokio::test]
async fn a_missing_bucket_is_named() {
    let b = fresh_bucket("exists").await;
    let missing = bucket::connect(
        &bucket::testkit::localstack(),
        &bucket::Target::new(&format!("{}-nope", b.name()), "").unwrap(),
    )
    .await
    .unwrap();
    let err = missing.scan(&ScanOptions::default()).await.unwrap_err();
    assert!(matches!(err, S3Error::NoSuchBucket { .. }), "{err:?}");
    assert!(err.to_string().contains("does not exist"));
}

#[tokio::test]
async fn an_unreachable_endpoint_is_named() {
    let conn = bucket::Connect {
        localstack: true,
        endpoint_url: Some("http://127.0.0.1:9".into()),
        max_attempts: Some(2),
        journal: None,
    };
    let b = bucket::connect(&conn, &bucket::Target::new("any-bucket", "").unwrap())
        .await
        .unwrap();
    let err = b.scan(&ScanOptions::default()).await.unwrap_err();
    assert!(matches!(err, S3Error::Unreachable { .. }), "{err:?}");
    assert_eq!(err.to_string(), "cannot reach the S3 endpoint http://127.0.0.1:9: connection refused. Is it running and is the address right?");
}

#[tokio::test]
async fn meta_dates_are_read_from_the_newest_object() {
    let b = fresh_bucket("meta").await;
    put_many(
        &b,
        ["a/index.html".into()],
        &[("deployed-at", "2026-05-01T10:00:00Z")],
    )
    .await;
    put_many(&b, ["b/index.html".into()], &[]).await;
    let inv = b
        .scan(&ScanOptions {
            concurrency: 4,
            meta_key: Some("deployed-at".into()),
            live_pointer: None,
            live_from: None,
            live_grace: None,
        })
        .await
        .unwrap();
    assert_eq!(
        inv.deployments[0].meta.as_deref(),
        Some("2026-05-01T10:00:00Z")
    );
    assert_eq!(inv.deployments[1].meta, None);
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

/// The parallel range listing must count every key once, whatever the key order does with
/// ids like `a`, `a-x`, `a.b` (in key order `a-x/…` < `a.b/…` < `a/…`).
#[tokio::test]
async fn range_listing_counts_every_key_exactly_once() {
    let b = fresh_bucket("ranges").await;
    let mut keys = Vec::new();
    let names = ["a", "a-x", "a.b", "a0", "b", "b b", "é", "z", "zz", "~"];
    for (i, n) in names.iter().enumerate() {
        for k in 0..(1 + i * 37) {
            keys.push(format!("{n}/f{k:04}"));
        }
    }
    for i in 0..30 {
        keys.push(format!("m{i:02}/index.html"));
    }
    keys.push("a".into()); // a loose object named like a folder
    put_many(&b, keys.clone(), &[]).await;
    b.put(
        ".s3-prune/pins.json",
        b"{\"pins\":[]}".to_vec(),
        "application/json",
        &[],
    )
    .await
    .unwrap();
    let mut expected: std::collections::BTreeMap<String, u64> = Default::default();
    for k in &keys {
        if let Some((id, _)) = k.split_once('/') {
            if id != ".s3-prune" {
                *expected.entry(id.to_string()).or_default() += 1;
            }
        }
    }
    for concurrency in [1, 3, 7, 64] {
        let inv = b
            .scan(&ScanOptions {
                concurrency,
                ..ScanOptions::default()
            })
            .await
            .unwrap();
        let got: std::collections::BTreeMap<String, u64> = inv
            .deployments
            .iter()
            .map(|d| (d.id.to_string(), d.objects))
            .collect();
        assert_eq!(got, expected, "concurrency {concurrency}");
        assert_eq!(inv.loose.objects, 1);
    }
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

#[tokio::test]
async fn an_inventory_report_csv_or_parquet_yields_the_same_inventory_as_a_listing() {
    let b = fresh_bucket("inv-src").await;
    let reports = fresh_bucket("inv-reports").await;
    put_many(
        &b,
        (0..30)
            .map(|i| format!("d{:02}/f{}.html", i % 7, i))
            .chain([
                "robots.txt".into(),
                "d01/a b+c%.css".into(),
                ".s3-prune/notes.txt".into(),
            ]),
        &[],
    )
    .await;
    let opts = ScanOptions::default();
    let listed = b.scan(&opts).await.unwrap();
    let csv = write_inventory(&b, &reports, INVENTORY_SCHEMA, None, true, "csv").await;
    let parquet = write_parquet_inventory(&b, &reports, None, "parquet").await;
    for at in [csv, parquet] {
        let from_report = b
            .scan_inventory(&at.parse().unwrap(), &opts)
            .await
            .unwrap_or_else(|e| panic!("{at}: {e}"));
        let created = from_report.report_date.unwrap();
        assert_eq!(created.to_rfc3339(), "2026-11-26T00:00:00+00:00");
        assert_eq!(
            retention::Inventory {
                report_date: None,
                ..from_report.clone()
            },
            listed,
            "{at}"
        );
        assert_eq!(from_report.deployments.len(), 7);
        assert_eq!(from_report.loose.objects, 1);
    }
}

#[tokio::test]
async fn a_reports_folder_means_its_newest_complete_report_and_a_bad_checksum_is_refused() {
    let b = fresh_bucket("inv-dir").await;
    let reports = fresh_bucket("inv-dir-reports").await;
    let opts = ScanOptions::default();
    let csv_report =
        |run: &'static str| write_inventory(&b, &reports, INVENTORY_SCHEMA, None, true, run);
    put_many(&b, ["d1/index.html".into()], &[]).await;
    csv_report("2026-11-24T00-00Z").await;
    put_many(&b, ["d2/index.html".into()], &[]).await;
    let second = write_parquet_inventory(&b, &reports, None, "2026-11-25T00-00Z").await;
    // a newer report still being written: no manifest.checksum yet
    put_many(&b, ["d3/index.html".into()], &[]).await;
    csv_report("2026-11-26T00-00Z").await;
    remove_keys(
        &reports,
        [format!(
            "inv/{}/2026-11-26T00-00Z/manifest.checksum",
            b.name()
        )],
    )
    .await;
    let folder: bucket::inventory::InventoryLocation =
        format!("s3://{}/inv/{}/", reports.name(), b.name())
            .parse()
            .unwrap();
    let ids = |inv: &retention::Inventory| {
        inv.deployments
            .iter()
            .map(|d| d.id.to_string())
            .collect::<Vec<_>>()
    };
    let scanned = b
        .scan_inventory_unsaved(&folder, &opts)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // the 25th's report, the newest complete one: d3, published since, is listed and named
    assert_eq!(ids(&scanned.inventory), ["d1", "d2", "d3"]);
    assert!(
        matches!(&scanned.warnings[..], [retention::Warning::InventoryNewer { ids, .. }] if ids.len() == 1 && ids[0].as_str() == "d3"),
        "the 25th's report, the newest complete one: {:?}",
        scanned.warnings
    );
    // a folder with no complete report is an error that says what to do
    let empty: bucket::inventory::InventoryLocation =
        format!("s3://{}/inv/nothing-here/", reports.name())
            .parse()
            .unwrap();
    let e = b
        .scan_inventory(&empty, &opts)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no complete report") && e.contains("manifest.checksum"),
        "{e}"
    );
    // a manifest that does not match its checksum is refused, by folder or by address
    let checksum = format!("inv/{}/2026-11-25T00-00Z/manifest.checksum", b.name());
    reports
        .put(
            &checksum,
            b"0123456789abcdef0123456789abcdef".to_vec(),
            "text/plain",
            &[],
        )
        .await
        .unwrap();
    for at in [folder.clone(), second.parse().unwrap()] {
        let e = b.scan_inventory(&at, &opts).await.unwrap_err().to_string();
        assert!(e.contains("manifest.checksum says"), "{e}");
    }
}

#[tokio::test]
async fn a_damaged_missing_or_incomplete_report_is_an_error_naming_it() {
    let b = fresh_bucket("inv-bad").await;
    let reports = fresh_bucket("inv-bad-reports").await;
    put_many(&b, ["d1/index.html".into()], &[]).await;
    let opts = ScanOptions::default();
    let err = |at: String| {
        let b = b.clone();
        let opts = opts.clone();
        async move {
            b.scan_inventory(&at.parse().unwrap(), &opts)
                .await
                .unwrap_err()
                .to_string()
        }
    };
    let e = err(write_inventory(
        &b,
        &reports,
        INVENTORY_SCHEMA,
        Some("0123456789abcdef0123456789abcdef"),
        true,
        "md5",
    )
    .await)
    .await;
    assert!(
        e.contains("MD5") && e.contains("part-1.csv.gz") && e.contains("Nothing will be deleted"),
        "{e}"
    );
    let e = err(write_parquet_inventory(
        &b,
        &reports,
        Some("0123456789abcdef0123456789abcdef"),
        "parquet-md5",
    )
    .await)
    .await;
    assert!(e.contains("MD5") && e.contains("part-1.parquet"), "{e}");
    let e =
        err(write_inventory(&b, &reports, INVENTORY_SCHEMA, None, false, "missing").await).await;
    assert!(
        e.contains("does not exist") && e.contains("part-1.csv.gz"),
        "{e}"
    );
    let no_size = INVENTORY_SCHEMA.replace(" Size,", "");
    let e = err(write_inventory(&b, &reports, &no_size, None, true, "no-size").await).await;
    assert!(e.contains("no Size column"), "{e}");
    let e = err(format!("s3://{}/nowhere/manifest.json", reports.name())).await;
    assert!(
        e.contains("manifest.json") && e.contains("does not exist"),
        "{e}"
    );
}

mod lifecycle {
    use super::*;
    use aws_sdk_s3::types::{
        BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
        LifecycleRuleFilter, TransitionDefaultMinimumObjectSize,
    };

    fn logs_rule() -> LifecycleRule {
        LifecycleRule::builder()
            .id("keep-logs")
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("logs/").build())
            .expiration(LifecycleExpiration::builder().days(30).build())
            .build()
            .unwrap()
    }

    async fn put_config(b: &bucket::Bucket, rules: Vec<LifecycleRule>) {
        b.client()
            .put_bucket_lifecycle_configuration()
            .bucket(b.name())
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .set_rules(Some(rules))
                    .build()
                    .unwrap(),
            )
            .transition_default_minimum_object_size(
                TransitionDefaultMinimumObjectSize::VariesByStorageClass,
            )
            .send()
            .await
            .unwrap();
    }

    async fn min_size(b: &bucket::Bucket) -> Option<TransitionDefaultMinimumObjectSize> {
        b.client()
            .get_bucket_lifecycle_configuration()
            .bucket(b.name())
            .send()
            .await
            .unwrap()
            .transition_default_minimum_object_size()
            .cloned()
    }

    #[tokio::test]
    async fn every_field_of_the_users_configuration_survives_s3_prunes_edits() {
        let b = fresh_bucket("lc-roundtrip").await;
        put_config(&b, vec![logs_rule()]).await;
        let set = Some(TransitionDefaultMinimumObjectSize::VariesByStorageClass);
        assert_eq!(min_size(&b).await, set, "the server keeps the field");
        b.expire_by_lifecycle(&[id("big")], chrono::Utc::now().date_naive())
            .await
            .unwrap();
        assert_eq!(min_size(&b).await, set, "a handover does not reset it");
        b.withdraw_expiries(&[id("big")]).await.unwrap();
        assert_eq!(min_size(&b).await, set, "a withdrawal does not reset it");
        let seen = b.read_lifecycle().await.unwrap();
        assert_eq!(
            seen.rules,
            vec![logs_rule()],
            "and the user's rule is as it was"
        );
    }

    #[tokio::test]
    async fn a_configuration_changed_since_it_was_read_is_not_overwritten() {
        let b = fresh_bucket("lc-concurrent").await;
        put_config(&b, vec![logs_rule()]).await;
        let seen = b.read_lifecycle().await.unwrap();
        // Meanwhile someone (the console, Terraform) adds a rule.
        let theirs = LifecycleRule::builder()
            .id("archive")
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("archive/").build())
            .expiration(LifecycleExpiration::builder().days(400).build())
            .build()
            .unwrap();
        put_config(&b, vec![logs_rule(), theirs.clone()]).await;
        let err = b.write_lifecycle(&seen, vec![]).await.unwrap_err();
        assert!(
            matches!(err, S3Error::LifecycleChanged { .. }),
            "refused: {err}"
        );
        let now = b.read_lifecycle().await.unwrap();
        assert_eq!(now.rules, vec![logs_rule(), theirs], "their edit stands");
    }
}

/// Reasoned by a reviewer: every scan wrote the dates file from its own listing, whatever was
/// there — a slower scan that read it before a faster one recorded d9 put its older view back
/// and d9's first-seen date was lost (a reset clock on d9 then went unrecognised). A scan
/// writes only over the file as it read it.
#[tokio::test]
async fn a_scan_never_writes_its_dates_over_a_file_written_since_it_read_it() {
    let b = fresh_bucket("dates-race").await;
    put_many(&b, ["d1/index.html".to_string()], &[]).await;
    b.scan(&ScanOptions::default()).await.unwrap();
    put_many(&b, ["d2/index.html".to_string()], &[]).await;
    // A slow scan reads the file (d1) …
    let slow = b.scan_unsaved(&ScanOptions::default()).await.unwrap();
    // … a faster one records d2 and d3 meanwhile …
    put_many(&b, ["d3/index.html".to_string()], &[]).await;
    b.scan(&ScanOptions::default()).await.unwrap();
    let fast = b.read_state("dates.json").await.unwrap().unwrap();
    // … and the slow one's write (d1, d2) does not replace it.
    slow.dates.write().await;
    assert_eq!(b.read_state("dates.json").await.unwrap().unwrap(), fast);
    let known: serde_json::Value = serde_json::from_slice(&fast).unwrap();
    assert!(known.get("d3").is_some(), "{known}");
}
