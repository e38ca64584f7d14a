//! A scan finds every deployment and counts every key once, whatever the keys, the prefix or
//! the concurrency, and never writes its dates over newer ones; loose objects are counted and
//! never deleted; a missing bucket or an unreachable endpoint is named.

use crate::common::delete;
use bucket::testkit::{all_keys, fresh_bucket, put_many, with_prefix};
use bucket::{S3Error, ScanOptions};
use retention::Versioning;

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
            live_history_past_grace: false,
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
            live_history_past_grace: false,
        })
        .await
        .unwrap();
    assert_eq!(
        inv.deployments[0].meta.as_deref(),
        Some("2026-05-01T10:00:00Z")
    );
    assert_eq!(inv.deployments[1].meta, None);
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
