//! Hydrates the server-rendered dashboard in the browser.
//!
//! Built with `-Cpanic=immediate-abort` (Makefile: `WASM_RUSTFLAGS`): a panic here traps at once
//! ("RuntimeError: unreachable" in the console) instead of formatting a message, so no panic
//! hook is installed.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_body(app::App);
}
