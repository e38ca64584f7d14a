//! What s3-prune says when S3 refuses: a bucket in another region, a HEAD refused or gone (no
//! body to read a code from), a state object or the live pointer refused (which key), a damaged
//! pins file (what to do), persistent throttling. Each answer is made by the test proxy.

use crate::common::{deploy_seconds_apart, endpoint, stderr, Run};
use crate::proxy::Canned;
use bucket::testkit::{fresh_bucket, put_many};
use hyper::Method;

/// `plan BUCKET 1 --localstack ARGS…` through a proxy answering with `canned`: its stderr,
/// after asserting it failed.
async fn refused(bucket: &str, args: &[&str], canned: Vec<Canned>) -> String {
    let (url, _proxy) = endpoint(|p| p.canned = canned).await;
    let out = Run::plan(bucket, 1)
        .args(args)
        .env("AWS_ENDPOINT_URL", &url)
        .env("AWS_REGION", "us-east-1")
        .out();
    assert!(!out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    for raw in ["ServiceError", "StatusCode(", "UnreadableAnswer"] {
        assert!(!err.contains(raw), "an SDK dump: {err}");
    }
    err
}

fn has(text: &str, part: &str) {
    assert!(text.contains(part), "wanted {part:?} in: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_in_another_region_names_both_regions_and_how_to_set_it() {
    let b = fresh_bucket("region").await;
    deploy_seconds_apart(&b, &["old", "new"]).await;
    let path = format!("/{}", b.name());
    let wanted = format!(
        "bucket '{}' is in eu-west-1, but requests went to us-east-1: set AWS_REGION=eu-west-1",
        b.name()
    );
    // S3's answer to a request signed for the wrong region: 301 with the bucket's region in a
    // header (a HEAD gets it with no body), or 400 naming both regions.
    let moved = Canned::error(
        &path,
        301,
        "PermanentRedirect",
        "The bucket you are attempting to access must be addressed using the specified endpoint.",
    )
    .header("x-amz-bucket-region", "eu-west-1");
    has(&refused(b.name(), &[], vec![moved]).await, &wanted);
    let malformed = Canned::error(
        &path,
        400,
        "AuthorizationHeaderMalformed",
        "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'",
    );
    has(&refused(b.name(), &[], vec![malformed]).await, &wanted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_or_vanished_head_names_the_key_and_what_to_do() {
    let b = fresh_bucket("head").await;
    for (id, at) in [
        ("old", "2026-01-01T00:00:00Z"),
        ("new", "2026-02-01T00:00:00Z"),
    ] {
        put_many(&b, [format!("{id}/index.html")], &[("deployed-at", at)]).await;
    }
    let meta = ["--date-source", "meta:deployed-at"];
    let key = "new/index.html";
    let path = format!("/{}/{key}", b.name());
    let head = |status| vec![Canned::bare(Method::HEAD, &path, status)];

    let denied = refused(b.name(), &meta, head(403)).await;
    has(&denied, "access denied for s3:GetObject");
    has(&denied, key);

    let gone = refused(b.name(), &meta, head(404)).await;
    has(&gone, key);
    has(&gone, "deleted since the listing");
    has(&gone, "run again");

    let failing = refused(b.name(), &meta, head(503)).await;
    has(&failing, key);
    has(&failing, "run again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_state_object_or_live_pointer_is_named() {
    let b = fresh_bucket("statedenied").await;
    deploy_seconds_apart(&b, &["old", "new"]).await;
    b.put("current", b"new".to_vec(), "text/plain", &[])
        .await
        .unwrap();
    let denied = |key: &str| {
        vec![Canned::error(
            &format!("/{}/{key}", b.name()),
            403,
            "AccessDenied",
            "Access Denied",
        )]
    };
    let pins = refused(b.name(), &[], denied(".s3-prune/pins.json")).await;
    has(&pins, "access denied for s3:GetObject");
    has(&pins, ".s3-prune/pins.json");
    let pointer = refused(b.name(), &["--live-pointer", "current"], denied("current")).await;
    has(&pointer, "access denied for s3:GetObject");
    has(&pointer, &format!("{}/current", b.name()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_pins_file_says_where_it_is_and_what_to_do() {
    let b = fresh_bucket("badpins").await;
    deploy_seconds_apart(&b, &["old", "new"]).await;
    for body in ["", "not json", "{}"] {
        b.put(&b.pins_key(), body.into(), "application/json", &[])
            .await
            .unwrap();
        for run in [
            Run::plan(b.name(), 1),
            Run::new(&["pin", b.name(), "old", "--localstack"]),
        ] {
            let out = run.out();
            assert!(!out.status.success());
            let err = stderr(&out);
            has(&err, &format!("s3://{}/.s3-prune/pins.json", b.name()));
            has(&err, "restore its previous version");
            has(&err, "removing it drops every pin");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_throttling_says_to_lower_the_concurrency() {
    let b = fresh_bucket("slowdown").await;
    deploy_seconds_apart(&b, &["old", "new"]).await;
    let slow = Canned::error(
        &format!("/{}", b.name()),
        503,
        "SlowDown",
        "Please reduce your request rate.",
    );
    let err = refused(b.name(), &[], vec![slow]).await;
    has(&err, "SlowDown");
    has(&err, "--concurrency");
}

/// Before: a key S3 Object Lock protects (a legal hold) was listed with "Run apply again to
/// retry", though no run can delete it, and its deployment was named nowhere ("Deleted 5
/// objects of 0 deployments") — half of it gone for good (reviewer, `--purge-versions`).
#[tokio::test]
async fn keys_under_object_lock_are_said_so_and_their_deployment_partly_deleted() {
    use aws_sdk_s3::types::{ObjectLockLegalHold, ObjectLockLegalHoldStatus};
    let named = fresh_bucket("objlock-name").await;
    let name = format!("{}-l", named.name());
    let b = bucket::connect(
        &bucket::testkit::localstack(),
        &bucket::Target::new(&name, "").unwrap(),
    )
    .await
    .unwrap();
    b.client()
        .create_bucket()
        .bucket(&name)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    deploy_seconds_apart(&b, &["old", "new"]).await;
    let hold = ObjectLockLegalHold::builder()
        .status(ObjectLockLegalHoldStatus::On)
        .build();
    b.client()
        .put_object_legal_hold()
        .bucket(&name)
        .key("old/index.html")
        .legal_hold(hold)
        .send()
        .await
        .unwrap();
    let out = Run::apply(&name, 1).args(&["--purge-versions"]).out();
    assert!(!out.status.success(), "{}", crate::common::stdout(&out));
    let said = crate::common::stdout(&out);
    assert!(said.contains("1 object is under S3 Object Lock"), "{said}");
    assert!(
        said.contains("Partly deleted (the keys above are left, the rest is gone): old"),
        "{said}"
    );
    assert!(!said.contains("Run apply again to retry"), "{said}");
}
