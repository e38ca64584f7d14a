//! `--live-from KEY`: the deployments a page of the site references are kept; a page that
//! cannot be read, or references nothing here, deletes nothing.

use crate::common::{deploy_seconds_apart, json, reasons, s3_prune, stderr};
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
    let out = s3_prune(&[
        "apply",
        b.name(),
        "1",
        "--live-from",
        "index.html",
        "--localstack",
        "--yes",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = reasons(&json(&out));
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
    let out = s3_prune(&[
        "apply",
        b.name(),
        "1",
        "--live-from",
        "index.html",
        "--localstack",
        "--yes",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("index.html"), "{}", stderr(&out));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));

    b.put(
        "index.html",
        b"<a href=\"/gone/x.html\">old</a>".to_vec(),
        "text/html",
        &[],
    )
    .await
    .unwrap();
    let out = s3_prune(&[
        "plan",
        b.name(),
        "1",
        "--live-from",
        "index.html",
        "--localstack",
        "--json",
    ]);
    let v = json(&out);
    assert!(
        v["blocked"][0]
            .as_str()
            .unwrap()
            .contains("references no deployment"),
        "{v}"
    );
    let out = s3_prune(&[
        "apply",
        b.name(),
        "1",
        "--live-from",
        "index.html",
        "--localstack",
        "--yes",
    ]);
    assert!(!out.status.success());
    assert_eq!(all_keys(&b).await.len(), 7, "nothing deleted");
}
