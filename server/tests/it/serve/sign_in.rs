//! Who is signed in, and for how long: a user header is believed only from the trusted proxy
//! (never beside a token or OpenID Connect), the session cookie is Secure over https, and a
//! session expires, ends at sign-out and is not renewed by a repeated token.

use super::*;

#[tokio::test]
async fn a_user_header_is_believed_only_from_the_trusted_proxy() {
    let b = fresh_bucket("proxy").await;
    put_many(&b, ["a/index.html".into()], &[]).await;
    let alice = [("X-Forwarded-User", "alice")];
    let plain = serve(b.name(), &[]);
    assert_eq!(request(&plain.addr, "GET", "/", &alice, "").status, 401);
    // we are the proxy
    let proxied = serve(
        b.name(),
        &[
            "--trust-user-header",
            "X-Forwarded-User",
            "--trusted-proxy",
            "127.0.0.1",
        ],
    );
    assert_eq!(request(&proxied.addr, "GET", "/", &alice, "").status, 200);
    let jorg = [("X-Forwarded-User", "jörg")];
    assert_eq!(request(&proxied.addr, "GET", "/", &jorg, "").status, 200);
    let out = request(&proxied.addr, "GET", "/", &[], "");
    assert_eq!(out.status, 401);
    // It says how people sign in here — not a `?token=` link this dashboard never printed.
    assert!(
        out.body
            .contains("The proxy in front of the dashboard signs people in"),
        "{}",
        out.body
    );
    assert!(!out.body.contains("?token="), "{}", out.body);
    let plain_out = request(&plain.addr, "GET", "/", &[], "");
    assert!(plain_out.body.contains("?token="), "{}", plain_out.body);
    // No access token beside the proxy: it would let anyone who reaches this port (and reads
    // the log) past the proxy's sign-in as an admin, and approve their own requests as "token".
    let token = "a-token-given-in-the-environment";
    let beside = serve_env(
        b.name(),
        &[
            "--trust-user-header",
            "X-Forwarded-User",
            "--trusted-proxy",
            "127.0.0.1",
        ],
        &[("S3_PRUNE_TOKEN", token)],
    );
    let r = request(&beside.addr, "GET", &format!("/?token={token}"), &[], "");
    assert_eq!(r.status, 401, "the token signed in beside the proxy");
    assert!(r.header("set-cookie").is_none());
    let out = Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args(["serve", "--localstack", "--bucket", b.name()])
        .args([
            "--trust-user-header",
            "X-Forwarded-User",
            "--trusted-proxy",
            "127.0.0.1",
        ])
        .args(["--token-file", "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_contains(&String::from_utf8_lossy(&out.stderr), "drop the token file");
    let said = std::iter::from_fn(|| proxied.stderr.recv_timeout(Duration::from_secs(5)).ok())
        .find(|l| l.contains("through the proxy"))
        .expect("how to sign in, said at start");
    assert_contains(&said.to_lowercase(), "x-forwarded-user");
    // a proxy that adds its header beside the client's: which one is its own cannot be told
    let twice = [("X-Forwarded-User", "admin"), ("X-Forwarded-User", "alice")];
    let r = request(&proxied.addr, "GET", "/", &twice, "");
    assert_eq!(r.status, 403);
    assert!(r.body.contains("twice"), "{}", r.body);
    // the proxy is elsewhere: a client that reaches us directly cannot claim to be alice
    let elsewhere = serve(
        b.name(),
        &[
            "--trust-user-header",
            "X-Forwarded-User",
            "--trusted-proxy",
            "10.9.9.9",
        ],
    );
    assert_eq!(request(&elsewhere.addr, "GET", "/", &alice, "").status, 403);
    // and the header alone is refused at start
    let out = Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args(["serve", "--localstack", "--bucket", b.name()])
        .args(["--trust-user-header", "X-Forwarded-User"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--trusted-proxy"));
    // nor beside OpenID Connect: whoever the proxy passes would skip the sign-in and the
    // roles (the header's person is an admin)
    refused_header_beside_oidc(
        b.name(),
        &[
            "--trust-user-header",
            "X-Forwarded-User",
            "--trusted-proxy",
            "127.0.0.1",
            "--oidc-issuer",
            "http://127.0.0.1:9/",
            "--oidc-client-id",
            "s3-prune",
            "--oidc-client-secret-file",
            "/dev/null",
        ],
    );
    // nor when the configuration file gives them (clap checks only flags typed)
    let config = std::env::temp_dir().join(format!("s3p-both-{}.toml", std::process::id()));
    std::fs::write(
        &config,
        "[serve]\ntrust_user_header = \"X-Forwarded-User\"\ntrusted_proxies = [\"127.0.0.1\"]\n\n[serve.oidc]\nissuer = \"http://127.0.0.1:9/\"\nclient_id = \"s3-prune\"\nclient_secret_file = \"/dev/null\"\n",
    )
    .unwrap();
    refused_header_beside_oidc(b.name(), &["--config", config.to_str().unwrap()]);
}

/// `serve --bucket BUCKET ARGS…` stops at once (exit 2), naming both the proxy header and
/// OpenID Connect.
fn refused_header_beside_oidc(bucket: &str, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args(["serve", "--localstack", "--bucket", bucket])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--oidc-issuer") && err.contains("--trust-user-header"),
        "{err}"
    );
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_people_come_over_https() {
    let b = fresh_bucket("secure-cookie").await;
    put_many(&b, ["a/index.html".into()], &[]).await;
    let plain = serve(b.name(), &[]);
    let r = token_link(&plain, "/?", &[]);
    assert!(!r.header("set-cookie").unwrap().contains("Secure"));
    // Behind a TLS-terminating proxy that says so, without --public-url.
    for said in [
        ("X-Forwarded-Proto", "https"),
        ("Forwarded", "for=192.0.2.60;proto=https;by=203.0.113.43"),
    ] {
        let r = token_link(&plain, "/?", &[said]);
        let c = r.header("set-cookie").unwrap();
        assert!(c.contains("; Secure"), "{said:?}: {c}");
    }
    let https = serve(b.name(), &["--public-url", "https://prune.example.com"]);
    let r = token_link(&https, "/?", &[]);
    let c = r.header("set-cookie").unwrap();
    assert!(c.contains("; Secure") && c.contains("HttpOnly"), "{c}");
    // A `__Host-` cookie over https: the browser takes it only from this host, so a sibling
    // subdomain (`Domain=example.com`) cannot plant a session of its own on the dashboard's
    // people. A session in a plain-named cookie is no session there. (Before: `s3p_session`,
    // the first cookie of that name sent won.)
    assert!(c.starts_with("__Host-s3p_session="), "{c}");
    let sid = c.split(';').next().unwrap().split_once('=').unwrap().1;
    let planted = format!("s3p_session={sid}");
    let r = request(&https.addr, "GET", "/", &[("Cookie", planted.as_str())], "");
    assert_eq!(
        r.status, 401,
        "a plain-named cookie is not a session over https"
    );
    let own = format!("__Host-s3p_session={sid}");
    let r = request(&https.addr, "GET", "/", &[("Cookie", own.as_str())], "");
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn sessions_expire_sign_out_and_drop_a_repeated_token() {
    let b = fresh_bucket("sessions").await;
    put_many(&b, ["a/index.html".into()], &[]).await;
    // 6 s: the first page load scans the bucket, which took over 2 s on a busy machine (a
    // 2 s idle limit then signed the session out between two requests of this test).
    let s = serve(b.name(), &["--session-idle", "6s", "--session-max", "1h"]);
    warm(&s);
    let cookie = sign_in(&s);
    let c = [("Cookie", cookie.as_str())];
    assert_eq!(request(&s.addr, "GET", "/", &c, "").status, 200);
    // signed in, a ?token= link redirects to the clean URL
    let r = token_link(&s, "/?retain=3&", &c);
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/?retain=3"));
    assert!(r.header("set-cookie").is_none(), "no new session");
    // idle for longer than --session-idle: signed out
    std::thread::sleep(Duration::from_millis(6500));
    let r = request(&s.addr, "GET", "/", &c, "");
    assert_eq!(r.status, 401);
    assert!(r.body.contains("expired"), "{}", r.body);
    // sign-out ends a session at once, by a POST from this origin only
    let cookie = sign_in(&s);
    let c = [("Cookie", cookie.as_str())];
    let r = request(&s.addr, "GET", "/logout", &c, "");
    assert_eq!(r.status, 200);
    assert!(
        r.header("set-cookie").is_none(),
        "a GET (a link anywhere) signs nobody out"
    );
    assert!(r.body.contains("method=\"post\""), "{}", r.body);
    assert_eq!(request(&s.addr, "GET", "/", &c, "").status, 200);
    let elsewhere = [c[0], ("Origin", "https://evil.example")];
    assert_eq!(
        request(&s.addr, "POST", "/logout", &elsewhere, "").status,
        403
    );
    assert_eq!(request(&s.addr, "GET", "/", &c, "").status, 200);
    let origin = format!("http://{}", s.addr);
    // Over https (a TLS-terminating proxy says so), the plain-http origin of the same name is
    // another origin: refused (before, accepted).
    let plain_over_https = [
        c[0],
        ("Origin", origin.as_str()),
        ("X-Forwarded-Proto", "https"),
    ];
    assert_eq!(
        request(&s.addr, "POST", "/logout", &plain_over_https, "").status,
        403
    );
    assert_eq!(request(&s.addr, "GET", "/", &c, "").status, 200);
    let here = [c[0], ("Origin", origin.as_str())];
    let r = request(&s.addr, "POST", "/logout", &here, "");
    assert_eq!(r.status, 200);
    assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(request(&s.addr, "GET", "/", &c, "").status, 401);
    // a token link whose path starts with // stays on this host (no open redirect)
    let r = token_link(&s, "//evil.example/?", &[]);
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/evil.example/"));
    // the absolute limit holds however active the session is
    let short = serve(b.name(), &["--session-idle", "1h", "--session-max", "6s"]);
    warm(&short);
    let cookie = sign_in(&short);
    let signed_in = std::time::Instant::now();
    let c = [("Cookie", cookie.as_str())];
    for _ in 0..3 {
        assert_eq!(request(&short.addr, "GET", "/", &c, "").status, 200);
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(
        signed_in.elapsed() < Duration::from_secs(6),
        "the checks ran in time"
    );
    let left = Duration::from_secs(6).saturating_sub(signed_in.elapsed());
    std::thread::sleep(left + Duration::from_millis(500));
    assert_eq!(request(&short.addr, "GET", "/", &c, "").status, 401);
}
