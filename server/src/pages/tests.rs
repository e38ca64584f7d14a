//! The page cache's pure parts: which scripts a stored page's CSP allows, and which coding a
//! request gets.

use super::*;

fn sha(s: &str) -> String {
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes()))
    )
}

#[test]
fn a_stored_page_allows_exactly_the_inline_scripts_its_nonce_allowed() {
    let html = r#"<html><head><script type="module" nonce="N0nce+/=">import('/pkg/a.js')</script>
        <script src="/pkg/b.js" nonce="N0nce+/="></script></head>
        <body><td data-id="<script>alert(1)</script>">x</td>
        <script>injected()</script>
        <script nonce="other">other()</script>
        <script nonce="N0nce+/=">__RESOLVED_RESOURCES[0] = 1</script>
        <script nonce="N0nce+/=">import('/pkg/a.js')</script></body></html>"#;
    let got = script_hashes(html.as_bytes(), "N0nce+/=");
    assert_eq!(
        got,
        format!(
            "{} {}",
            sha("import('/pkg/a.js')"),
            sha("__RESOLVED_RESOURCES[0] = 1")
        ),
        "the two nonce-carrying inline scripts, each once; not the src one, not one without \
         the nonce or with another"
    );
    assert_eq!(script_hashes(b"<p>no scripts</p>", "N"), "");
    // an unclosed script is not hashed (and the scan stops)
    assert_eq!(script_hashes(br#"<script nonce="N">x"#, "N"), "");
}

#[test]
fn the_nonce_is_read_from_the_rendered_policy() {
    let csp = page_csp("'nonce-abc123=='");
    assert_eq!(nonce_of(&csp), Some("abc123=="));
    assert_eq!(
        nonce_of(&page_csp("")),
        None,
        "no nonce, nothing to replace"
    );
    assert_eq!(nonce_of("script-src 'nonce-'"), None);
}

#[test]
fn a_request_gets_the_best_coding_it_accepts() {
    let with = |v: &str| {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::ACCEPT_ENCODING,
            HeaderValue::from_str(v).unwrap(),
        );
        accepted(&h)
    };
    assert_eq!(with("gzip, deflate, br, zstd"), Coding::Br);
    assert_eq!(with("gzip"), Coding::Gzip);
    assert_eq!(with("br;q=0, gzip;q=0.5"), Coding::Gzip);
    assert_eq!(with("BR"), Coding::Br);
    assert_eq!(with("identity"), Coding::Identity);
    assert_eq!(with("gzip;q=0"), Coding::Identity);
    assert_eq!(accepted(&HeaderMap::new()), Coding::Identity);
}

#[test]
fn stored_codings_decode_to_the_page() {
    use std::io::Read;
    let page = "<p>deployment</p>".repeat(1000);
    let mut out = Vec::new();
    let br = Pieces::default().brotli(page.as_bytes());
    brotli::BrotliDecompress(&mut &br[..], &mut out).unwrap();
    assert_eq!(out, page.as_bytes());
    let mut out = String::new();
    flate2::read::GzDecoder::new(&gzip(page.as_bytes())[..])
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, page);
}
