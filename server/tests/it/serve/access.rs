//! No one gets in without the token, from another origin or by another host name: security
//! headers are set, the token is never logged, and read-only refuses apply and pins.

use super::*;

#[tokio::test]
async fn nothing_without_the_token_and_the_right_origin() {
    let b = fresh_bucket("auth").await;
    put_many(&b, ["a/index.html".into(), "b/index.html".into()], &[]).await;
    let s = serve(b.name(), &[]);
    let origin = format!("http://{}", s.addr);
    let json = ("Content-Type", "application/json");
    let scan_body = r#"{"bucket":null,"rescan":false}"#;

    // no session: the page and every server function are refused
    assert_eq!(request(&s.addr, "GET", "/", &[], "").status, 401);
    for f in ["scan_bucket", "start_apply", "apply_status", "set_pin"] {
        let r = request(
            &s.addr,
            "POST",
            &format!("/api/{f}"),
            &[json, ("Origin", &origin)],
            "{}",
        );
        assert_eq!(r.status, 401, "{f} without a session");
    }
    // a wrong token
    assert_eq!(
        request(&s.addr, "GET", "/?token=wrong-token-0123456789", &[], "").status,
        401
    );
    // the browser files need no session (they hold no data)
    assert_eq!(
        request(&s.addr, "GET", &format!("{}.js", bundle(&s)), &[], "").status,
        200
    );

    let cookie = sign_in(&s);
    let page = request(&s.addr, "GET", "/", &[("Cookie", &cookie)], "");
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("'wasm-unsafe-eval'")
            // this response's nonce, or (a page served from the page cache) its scripts' hashes
            && (csp.contains("'nonce-") || csp.contains("'sha256-"))
            && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));

    // CSRF: a cross-origin or origin-less POST is refused even with the session cookie
    let evil = request(
        &s.addr,
        "POST",
        "/api/scan_bucket",
        &[json, ("Cookie", &cookie), ("Origin", "http://evil.example")],
        scan_body,
    );
    assert_eq!(evil.status, 403);
    let none = request(
        &s.addr,
        "POST",
        "/api/scan_bucket",
        &[json, ("Cookie", &cookie)],
        scan_body,
    );
    assert_eq!(none.status, 403);
    // apply is POST only
    assert_ne!(
        request(
            &s.addr,
            "GET",
            "/api/start_apply",
            &[("Cookie", &cookie)],
            ""
        )
        .status,
        200
    );

    let ok = request(
        &s.addr,
        "POST",
        "/api/scan_bucket",
        &[json, ("Cookie", &cookie), ("Origin", &origin)],
        scan_body,
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(!ok.scan().inventory.deployments.is_empty());

    // the token never reaches the logs
    std::thread::sleep(Duration::from_millis(200));
    let logs: Vec<String> = s.stderr.try_iter().collect();
    assert!(!logs.is_empty());
    assert!(
        logs.iter().all(|l| !l.contains(&s.token)),
        "token in logs: {logs:?}"
    );
}

#[tokio::test]
async fn read_only_refuses_apply_and_pins() {
    let b = fresh_bucket("read-only").await;
    put_many(&b, ["a/index.html".into(), "b/index.html".into()], &[]).await;
    let s = serve(b.name(), &["--read-only"]);
    let cookie = sign_in(&s);
    let origin = format!("http://{}", s.addr);
    let h = [
        ("Content-Type", "application/json"),
        ("Cookie", cookie.as_str()),
        ("Origin", origin.as_str()),
    ];
    let body = format!(
        r#"{{"request":{{"bucket":"{}","retain":1,"min_days":null,"confirmed":[]}}}}"#,
        b.name()
    );
    let r = request(&s.addr, "POST", "/api/start_apply", &h, &body);
    assert!(r.body.contains("read-only"), "{} {}", r.status, r.body);
    let pin = format!(
        r#"{{"bucket":"{}","id":"a","reason":"x","pin":true}}"#,
        b.name()
    );
    let r = request(&s.addr, "POST", "/api/set_pin", &h, &pin);
    assert!(r.body.contains("read-only"), "{} {}", r.status, r.body);
    assert_eq!(all_keys(&b).await, vec!["a/index.html", "b/index.html"]);
}

#[tokio::test]
async fn only_allowed_hosts_are_served() {
    let b = fresh_bucket("hosts").await;
    put_many(&b, ["a/index.html".into()], &[]).await;
    let s = serve(b.name(), &[]);
    let cookie = sign_in(&s);
    let port = s.addr.rsplit(':').next().unwrap().to_string();
    let ok = request(&s.addr, "GET", "/", &[("Cookie", &cookie)], "");
    assert_eq!(ok.status, 200);
    let local = format!("localhost:{port}");
    let ok = request(
        &s.addr,
        "GET",
        "/",
        &[("Cookie", &cookie), ("Host", &local)],
        "",
    );
    assert_eq!(ok.status, 200);
    // DNS rebinding: evil.example resolved to 127.0.0.1; the browser sends its own name
    let evil = format!("evil.example:{port}");
    for path in ["/", "/pkg/s3-prune.js"] {
        let r = request(
            &s.addr,
            "GET",
            path,
            &[("Cookie", &cookie), ("Host", &evil)],
            "",
        );
        assert_eq!(r.status, 421, "{path}");
        assert!(r.body.contains("--allowed-host"), "{}", r.body);
    }
    let named = serve(b.name(), &["--allowed-host", "prune.internal"]);
    let r = request(&named.addr, "GET", "/", &[("Host", "prune.internal")], "");
    assert_eq!(r.status, 401, "allowed: on to sign-in");
}
