//! `--live-from KEY`: the deployments a page of the site references are kept; a page that
//! cannot be read, or references nothing here, deletes nothing. `--live-pointer KEY`: what it
//! names, named before (the live grace) or named during an apply is kept.

mod dashboard;
mod grace;
mod mid_run;
mod seen;

use crate::common::{deploy_seconds_apart, json, reasons, stderr, Run};
use bucket::testkit::{all_keys, fresh_bucket};

#[tokio::test]
async fn the_deployments_the_root_page_references_are_kept() {
    let b = fresh_bucket("live-from").await;
    deploy_seconds_apart(&b, &["d1", "d2", "d3", "d4"]).await;
    let page = r#"<html><head><meta http-equiv="refresh" content="0; url=/d1/index.html">
        <script src="d2/css/font.css"></script><a href="/elsewhere/x.html">x</a></head></html>"#;
    b.put("index.html", page.as_bytes().to_vec(), "text/html", &[])
        .await
        .unwrap();
    let r = reasons(&apply_live_from(b.name()).json());
    let live = "keep: live (referenced by index.html)";
    assert!(r.contains(&("d1".into(), live.into())), "{r:?}");
    assert!(r.contains(&("d2".into(), live.into())), "{r:?}");
    assert!(
        r.contains(&("d4".into(), "keep: newest 1 of 1".into())),
        "{r:?}"
    );
    let keys = all_keys(&b).await;
    assert!(!keys.iter().any(|k| k.starts_with("d3/")), "{keys:?}");
    assert_eq!(keys.len(), 7, "{keys:?}");
}

#[tokio::test]
async fn an_unreadable_page_or_one_naming_nothing_here_deletes_nothing() {
    let b = fresh_bucket("live-from-bad").await;
    deploy_seconds_apart(&b, &["d1", "d2", "d3"]).await;
    let out = apply_live_from(b.name()).fails_with("index.html");
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));

    b.put(
        "index.html",
        b"<a href=\"/gone/x.html\">old</a>".to_vec(),
        "text/html",
        &[],
    )
    .await
    .unwrap();
    let v = json(
        &Run::plan(b.name(), 1)
            .args(&["--live-from", "index.html", "--json"])
            .out(),
    );
    assert!(
        v["blocked"][0]
            .as_str()
            .unwrap()
            .contains("references no deployment"),
        "{v}"
    );
    let out = apply_live_from(b.name()).out();
    assert!(!out.status.success());
    assert_eq!(all_keys(&b).await.len(), 7, "nothing deleted");
}

/// `apply BUCKET 1 --live-from index.html`.
fn apply_live_from(bucket: &str) -> Run {
    Run::apply(bucket, 1).args(&["--live-from", "index.html"])
}

/// `plan BUCKET 2 --live-pointer current [extra]`: each deployment's reason.
fn plan_with_pointer(bucket: &str, extra: &[&str]) -> Vec<(String, String)> {
    reasons(
        &Run::plan(bucket, 2)
            .args(&["--live-pointer", "current"])
            .args(extra)
            .json(),
    )
}

/// Deployments d1 … d8, seconds apart.
async fn eight_deployments(b: &bucket::Bucket) {
    let ids: Vec<String> = (1..=8).map(|n| format!("d{n}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    deploy_seconds_apart(b, &ids).await;
}

fn reason_of<'a>(r: &'a [(String, String)], id: &str) -> &'a str {
    &r.iter().find(|(d, _)| d == id).unwrap().1
}

async fn point(b: &bucket::Bucket, id: &str) {
    b.put("current", id.as_bytes().to_vec(), "text/plain", &[])
        .await
        .unwrap();
}
