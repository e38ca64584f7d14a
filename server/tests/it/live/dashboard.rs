//! The dashboard's reading of the live pointer: its timeline shows what was live before the
//! grace too, and only versions inside the grace left unread are a warning on its pages.

use super::point;
use crate::common::{deploy_seconds_apart, endpoint};
use crate::serve::{request, serve_env, sign_in};
use bucket::testkit::fresh_bucket;

/// The dashboard's first page of `bucket`, its pointer at `current`, S3's clock `ahead`.
async fn page_with_clock_ahead(bucket: &str, ahead: chrono::Duration) -> String {
    let (url, _proxy) = endpoint(|p| p.shift_date = Some(ahead)).await;
    let s = serve_env(
        bucket,
        &["--live-pointer", "current"],
        &[("AWS_ENDPOINT_URL", &url)],
    );
    let cookie = sign_in(&s);
    let page = request(&s.addr, "GET", "/", &[("Cookie", &cookie)], "");
    assert_eq!(page.status, 200, "{}", page.body);
    page.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pointer_versions_left_unread_before_the_grace_are_no_warning_on_the_dashboard() {
    // Before: the dashboard read the pointer's versions with no grace, so once it had changed
    // more than 100 times every page warned that versions were not all read, however old.
    let b = fresh_bucket("live-dash-cut").await;
    b.enable_versioning().await.unwrap();
    deploy_seconds_apart(&b, &["d1", "d2"]).await;
    for n in 0..102 {
        point(&b, if n % 2 == 0 { "d2" } else { "d1" }).await;
    }
    // S3's clock two days on: every change ended before the 24 h grace began.
    let page = page_with_clock_ahead(b.name(), chrono::Duration::days(2)).await;
    assert!(!page.contains("not all read"), "{page}");
    // Read all the same: the timeline shows what was live before the grace.
    assert!(page.contains("d2: live until"), "{page}");
    // Now: the changes left unread are inside the grace, and the page says so.
    let page = page_with_clock_ahead(b.name(), chrono::Duration::zero()).await;
    assert!(page.contains("not all read (101 changes"), "{page}");
}
