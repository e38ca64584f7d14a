//! The few things the page asks of the browser itself. Called only from event handlers and
//! effects, which run in the browser, never while the server renders (except the pure
//! `download_href`).

use retention::DeploymentId;

pub async fn sleep_ms(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// What the URL carries, so a preview is a link.
pub struct UrlState<'a> {
    pub bucket: &'a str,
    pub retain: &'a str,
    pub days: &'a str,
    pub price: &'a str,
    /// The rules in their compact form, when the page plans with rules.
    pub rules: Option<&'a str>,
}

/// Keeps the URL in step with the controls; no request is made.
pub fn set_url(s: &UrlState) {
    let enc = |s: &str| String::from(js_sys::encode_uri_component(s));
    let mut q = format!("?bucket={}", enc(s.bucket));
    match s.rules {
        Some(rules) => q.push_str(&format!("&rules={}", enc(rules))),
        None => {
            q.push_str(&format!("&retain={}", enc(s.retain.trim())));
            if !s.days.trim().is_empty() {
                q.push_str(&format!("&days={}", enc(s.days.trim())));
            }
        }
    }
    if s.price.trim() != "0.023" {
        q.push_str(&format!("&price={}", enc(s.price.trim())));
    }
    if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&q));
    }
}

/// Asks why a deployment must stay; `None` when the user cancels.
pub fn ask_reason(id: &DeploymentId) -> Option<String> {
    web_sys::window()?
        .prompt_with_message(&format!("Why must {id} stay? (shown in every plan)"))
        .ok()
        .flatten()
}

pub fn navigate_to_bucket(key: &str) {
    let q = format!(
        "?bucket={}",
        String::from(js_sys::encode_uri_component(key))
    );
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_search(&q);
    }
}

/// The text of the first file chosen in a file input.
pub async fn read_chosen_file(ev: &leptos::ev::Event) -> Option<String> {
    use wasm_bindgen::JsCast;
    let input: web_sys::HtmlInputElement = ev.target()?.dyn_into().ok()?;
    let file = input.files()?.get(0)?;
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .ok()?;
    // The same file may be chosen again after an edit.
    input.set_value("");
    text.as_string()
}

/// A `data:` link that downloads `text` (no Blob URL: nothing to revoke, and the CSP allows it).
/// Plain Rust: the server renders it too.
pub fn download_href(text: &str) -> String {
    let body =
        super::policy::percent_encode(text, |b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b));
    format!("data:application/toml;charset=utf-8,{body}")
}
