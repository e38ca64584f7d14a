#![recursion_limit = "256"]
//! The s3-prune dashboard: Leptos components and the server functions they call.
//!
//! The browser plans with the same `retention` crate as the server (compiled to wasm), so the
//! preview is instant; the server re-plans before it deletes anything.

// The server's HTML and the browser's hydration must be built alike: an erased view's HTML
// carries markers its hydration reads. `.cargo/config.toml` sets the cfg for every build; a
// RUSTFLAGS variable replaces that list, so it must carry the cfg too.
#[cfg(not(erase_components))]
compile_error!(
    "s3-prune's dashboard is built with `--cfg erase_components` (set in .cargo/config.toml); \
     RUSTFLAGS overrides it: add `--cfg erase_components` to RUSTFLAGS, or unset it"
);

pub mod api;
mod dashboard;
/// For links to a bucket's dashboard made outside the app (the server's one-bucket redirect).
pub use dashboard::policy::percent_encode;
mod format;
mod history;
mod last_successes;
mod overview;
mod page_url;
pub use page_url::PageUrl;
mod resource;
#[cfg(feature = "ssr")]
pub mod server;
mod sign_out;
mod signed;
pub mod wire;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};

const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='6' fill='%231f6feb'/%3E%3Cpath d='M9 10h14M9 16h9M9 22h5' stroke='%23fff' stroke-width='3' stroke-linecap='round'/%3E%3C/svg%3E";

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                // Inline, so changing the URL (replaceState) never refetches it.
                <link rel="icon" type="image/svg+xml" href=FAVICON />
                // The server names the bundle (content-hashed when built in).
                <link
                    rel="stylesheet"
                    href=format!("/{}/{}.css", options.site_pkg_dir, options.output_name)
                />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    signed::provide();
    #[cfg(feature = "ssr")]
    server::content_security_policy();
    let url = PageUrl::read();
    provide_context(url.clone());
    let page = match url.page() {
        "" => view! { <overview::Home /> }.into_any(),
        "/history" => view! { <history::HistoryPage /> }.into_any(),
        _ => {
            #[cfg(feature = "ssr")]
            server::not_found();
            view! { <p class="error">"Page not found."</p> }.into_any()
        }
    };
    view! {
        <Title text="s3-prune" />
        {page}
    }
}
