//! The dashboard under a team's load, through a request-counting proxy: concurrent Rescans of
//! one bucket share one scan, a Rescan right after a scan is answered with it and says so,
//! `meta:` dates are not read again from unchanged objects, pages and server-function
//! answers are compressed, and a stored page is served only while its scan is current.

use crate::proxy::{start, Proxy};
use crate::serve::{request, serve_env, sign_in};
use bucket::testkit::{fresh_bucket, put_many};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// POST /api/scan_bucket as the signed-in browser would.
fn scan(addr: &str, cookie: &str, rescan: bool) -> crate::serve::Res {
    let origin = format!("http://{addr}");
    request(
        addr,
        "POST",
        "/api/scan_bucket",
        &[
            ("Content-Type", "application/json"),
            ("Cookie", cookie),
            ("Origin", &origin),
        ],
        &format!(r#"{{"bucket":null,"rescan":{rescan}}}"#),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_rescans_share_one_scan_and_unchanged_objects_are_not_read_again() {
    let b = fresh_bucket("single-flight").await;
    for (i, id) in ["d1", "d2", "d3", "d4"].iter().enumerate() {
        // Stamped as they are uploaded, hours apart (a stamp more than a day older than its
        // file reads as copied from an earlier build, and has the oldest file read too: with
        // the fixed months-old stamps this test had, one HEAD more whenever a deployment's
        // three uploads straddled a second).
        let at = (chrono::Utc::now() - chrono::Duration::hours(4 - i as i64))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        put_many(
            &b,
            (0..3).map(|k| format!("{id}/f{k}")),
            &[("deployed-at", &at)],
        )
        .await;
    }
    let mut p = Proxy::new(0);
    // slow answers: a scan takes long enough for every Rescan to arrive while it runs
    p.delay_all = Some(Duration::from_millis(150));
    let (url, proxy) = start(p).await;
    let s = serve_env(
        b.name(),
        &["--date-source", "meta:deployed-at"],
        &[("AWS_ENDPOINT_URL", &url)],
    );
    let cookie = sign_in(&s);
    let counts = || {
        (
            proxy.stats.lists.load(Ordering::SeqCst),
            proxy.stats.heads.load(Ordering::SeqCst),
        )
    };

    let before = counts();
    let first = scan(&s.addr, &cookie, false);
    assert_eq!(first.status, 200, "{}", first.body);
    let one_scan = (counts().0 - before.0, counts().1 - before.1);
    assert_eq!(one_scan.1, 4, "one HEAD per deployment the first time");

    // After the spacing, 16 Rescans at once: one scan's listings, no HEAD (nothing changed).
    std::thread::sleep(Duration::from_millis(5_500));
    let before = counts();
    let addr = s.addr.clone();
    let answers: Vec<_> = (0..16)
        .map(|_| {
            let (addr, cookie) = (addr.clone(), cookie.clone());
            std::thread::spawn(move || scan(&addr, &cookie, true))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    for a in &answers {
        assert_eq!(a.status, 200, "{}", a.body);
        let ids = a
            .scan()
            .inventory
            .deployments
            .iter()
            .map(|d| d.id.to_string())
            .collect::<Vec<_>>();
        assert!(ids.iter().any(|id| id == "d4"), "{ids:?}");
    }
    assert_eq!(
        (counts().0 - before.0, counts().1 - before.1),
        (one_scan.0, 0),
        "16 concurrent Rescans cost one scan's listings and no HEAD"
    );

    // A Rescan right after: the last scan, with a notice, and no request at all.
    let before = counts();
    let soon = scan(&s.addr, &cookie, true);
    assert_eq!(soon.status, 200);
    let notice = soon.scan().notice.unwrap_or_default();
    assert!(notice.contains("a scan of this bucket began"), "{notice}");
    assert_eq!(counts(), before);

    // One deployment republished: its newest object is read again, the others are not. (Stamped
    // as it is uploaded: a stamp more than a day older than its file is one copied in from an
    // earlier build, which has the deployment's oldest file read too.)
    let stamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    put_many(&b, ["d2/f0".to_string()], &[("deployed-at", &stamp)]).await;
    std::thread::sleep(Duration::from_millis(5_500));
    let before = counts();
    let again = scan(&s.addr, &cookie, true);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        counts().1 - before.1,
        1,
        "only the changed deployment is re-read"
    );
    let metas = again
        .scan()
        .inventory
        .deployments
        .iter()
        .map(|d| d.meta.clone())
        .collect::<Vec<_>>();
    assert!(metas.contains(&Some(stamp)), "{metas:?}");
}

#[tokio::test]
async fn pages_and_server_function_answers_are_compressed() {
    let b = fresh_bucket("compressed").await;
    put_many(&b, (0..5).map(|k| format!("d1/f{k}")), &[]).await;
    let s = serve_env(b.name(), &[], &[]);
    let cookie = sign_in(&s);
    let origin = format!("http://{}", s.addr);
    for (enc, want) in [("br, gzip", "br"), ("gzip", "gzip")] {
        let page = request(
            &s.addr,
            "GET",
            "/",
            &[("Cookie", &cookie), ("Accept-Encoding", enc)],
            "",
        );
        assert_eq!(page.status, 200);
        assert_eq!(page.header("content-encoding"), Some(want), "page, {enc}");
        let api = request(
            &s.addr,
            "POST",
            "/api/scan_bucket",
            &[
                ("Content-Type", "application/json"),
                ("Cookie", &cookie),
                ("Origin", &origin),
                ("Accept-Encoding", enc),
            ],
            r#"{"bucket":null,"rescan":false}"#,
        );
        assert_eq!(api.status, 200);
        assert_eq!(api.header("content-encoding"), Some(want), "api, {enc}");
    }
    let plain = request(&s.addr, "GET", "/", &[("Cookie", &cookie)], "");
    assert_eq!(plain.header("content-encoding"), None);
    assert!(plain.body.contains("d1"));
    // With one bucket, `/` is its dashboard by a redirect: the page then renders (and
    // serializes) the scan once, not once per pass of the overview's suspense.
    let to = crate::serve::request_once(&s.addr, "GET", "/?retain=2", &[("Cookie", &cookie)], "");
    assert_eq!(to.status, 303);
    assert_eq!(
        to.header("location"),
        Some(format!("/?bucket={}&retain=2", b.name()).as_str())
    );
    assert_eq!(
        crate::serve::scans_in(&plain.body).len(),
        1,
        "the scan is in the page once"
    );
}

/// The `<script>` texts of a page that carry `nonce="…"` (the ones a nonce policy allowed).
fn nonced_scripts(html: &str) -> Vec<&str> {
    html.split("<script")
        .skip(1)
        .filter_map(|s| {
            let (tag, rest) = s.split_once('>')?;
            (tag.contains(" nonce=\"") && !tag.contains(" src="))
                .then(|| rest.split_once("</script>").map(|(text, _)| text))
                .flatten()
        })
        .collect()
}

#[tokio::test]
async fn a_stored_page_is_served_only_while_its_scan_is_the_current_one() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let b = fresh_bucket("page-cache").await;
    put_many(
        &b,
        [
            "deploy-alpha/index.html".into(),
            "deploy-bravo/index.html".into(),
        ],
        &[],
    )
    .await;
    let s = serve_env(b.name(), &[], &[]);
    let cookie = sign_in(&s);
    let url = format!("/?bucket={}&retain=1", b.name());
    let get = || request(&s.addr, "GET", &url, &[("Cookie", &cookie)], "");
    // The first visit scans: rendered and streamed as always, with this response's nonce.
    let first = get();
    assert_eq!(first.status, 200);
    assert!(first
        .header("content-security-policy")
        .unwrap()
        .contains("'nonce-"));
    // Then the page is rendered once and the same bytes are served again.
    let second = get();
    let third = get();
    assert!(second.body.contains("deploy-bravo"));
    assert_eq!(second.body, third.body, "the stored page");
    assert_eq!(second.header("vary"), Some("accept-encoding"));
    // Its policy names no nonce (the stored bytes are sent many times) but allows by hash
    // exactly the scripts the rendering's nonce allowed: hydration still runs.
    let csp = second.header("content-security-policy").unwrap();
    assert!(!csp.contains("'nonce-"), "{csp}");
    let scripts = nonced_scripts(&second.body);
    assert!(!scripts.is_empty(), "the hydration script at least");
    for text in &scripts {
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text));
        assert!(
            csp.contains(&format!("'sha256-{hash}'")),
            "{text} not allowed by {csp}"
        );
    }
    assert_eq!(csp.matches("'sha256-").count(), scripts.len(), "{csp}");
    // A deployment arrives: the cached scan does not know it (as without the page cache).
    put_many(&b, ["deploy-yankee/index.html".into()], &[]).await;
    assert!(!get().body.contains("deploy-yankee"));
    // A Rescan (past its spacing) replaces the scan while a page of the old one is stored:
    // the very next page is rendered from the new scan.
    tokio::time::sleep(app::server::RESCAN_GAP.to_std().unwrap()).await;
    assert!(
        get().body.contains("deploy-bravo"),
        "a page of the old scan, stored"
    );
    let r = scan(&s.addr, &cookie, true);
    assert!(
        r.body.contains("deploy-yankee") && !r.body.contains("finished"),
        "{}",
        r.body
    );
    assert!(
        get().body.contains("deploy-yankee"),
        "a stored page outlived its scan"
    );
    // A pin forgets the scan: the next page comes from a new one too.
    put_many(&b, ["deploy-zulu/index.html".into()], &[]).await;
    let origin = format!("http://{}", s.addr);
    let pin = format!(
        r#"{{"bucket":"{}","id":"deploy-alpha","reason":"kept for the test","pin":true}}"#,
        b.name()
    );
    let r = request(
        &s.addr,
        "POST",
        "/api/set_pin",
        &[
            ("Content-Type", "application/json"),
            ("Cookie", &cookie),
            ("Origin", &origin),
        ],
        &pin,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        get().body.contains("deploy-zulu"),
        "a stored page outlived its scan"
    );
    // and compressed answers come from the same store
    let br = request(
        &s.addr,
        "GET",
        &url,
        &[("Cookie", &cookie), ("Accept-Encoding", "br")],
        "",
    );
    assert_eq!(br.header("content-encoding"), Some("br"));
}
