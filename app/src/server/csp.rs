//! What a page's answer carries besides its HTML: its Content-Security-Policy, and 404 for an
//! address the app has no page for.

use leptos::prelude::*;

/// Sets the page's Content-Security-Policy: scripts only from us or carrying this response's
/// nonce (the hydration script), wasm allowed, no framing, no foreign connections.
pub fn content_security_policy() {
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let nonce = leptos::nonce::use_nonce()
        .map(|n| format!("'nonce-{n}'"))
        .unwrap_or_default();
    if let Ok(v) = axum::http::HeaderValue::from_str(&page_csp(&nonce)) {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, v);
    }
}

/// The pages' Content-Security-Policy, with `inline` the sources that allow the page's own
/// inline scripts (this response's nonce, or the hashes of a page served from the page cache).
pub fn page_csp(inline: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' {inline} 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
}

/// A page for an address the app has none for: answered 404.
pub fn not_found() {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
}
