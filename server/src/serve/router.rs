//! The dashboard's router: the Leptos pages and server functions, the browser files, the
//! middleware (page cache, the one bucket's redirect, the sign-in guard) and the headers every
//! answer carries.

use crate::args::ServeArgs;
use crate::auth::{self, Auth};
use crate::pages;
use crate::site;
use app::server::AppState;
use axum::http::{header, HeaderValue};
use axum::Router;
use leptos::prelude::*;
use std::sync::Arc;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

/// The whole application, from the innermost layer out: pages, middleware, hardening headers,
/// then compression.
pub(super) fn app(
    args: &ServeArgs,
    state: Arc<AppState>,
    auth: Arc<Auth>,
    only_bucket: Option<String>,
) -> Router {
    let options = leptos_options(args);
    let router = pages(args.site_root.is_some(), &options, state.clone()).with_state(options);
    hardening(middleware(router, state, auth, only_bucket))
        // Pages and server-function answers, brotli or gzip as the browser accepts (the hashed
        // files come precompressed and are passed through as they are).
        .layer(CompressionLayer::new())
}

/// The browser files: built into the binary under a content-hashed name, or (development
/// only) read from --site-root under their plain name.
fn leptos_options(args: &ServeArgs) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(match &args.site_root {
            Some(_) => "s3-prune",
            None => site::BUNDLE,
        })
        .site_root(args.site_root.as_deref().unwrap_or("/nonexistent"))
        .site_pkg_dir("pkg")
        .site_addr(args.addr)
        .build()
}

/// The app's pages with the state in their context, its server functions, and the browser
/// files: embedded ones under `/pkg/`, or with `--site-root` the files there. The app picks
/// its page from the path itself (`app::PageUrl`): `/` and `/history` answer GET (another
/// method: 405), any other path renders its "Page not found." (404).
fn pages(site_root: bool, options: &LeptosOptions, state: Arc<AppState>) -> Router<LeptosOptions> {
    // Pages run their resources on tokio (leptos_axum's route list used to set this up).
    let _ = any_spawner::Executor::init_tokio();
    let context = move || provide_context(state.clone());
    let shell = {
        let options = options.clone();
        move || app::shell(options.clone())
    };
    let mut router = Router::new();
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        let context = context.clone();
        let handler = move |req| leptos_axum::handle_server_fns_with_context(context, req);
        router = router.route(path, axum::routing::on(method.try_into().unwrap(), handler));
    }
    let render = leptos_axum::render_app_to_stream_with_context(context, shell);
    let router = router
        .route("/", axum::routing::get(render.clone()))
        .route("/history", axum::routing::get(render.clone()));
    if site_root {
        router.fallback(leptos_axum::file_and_error_handler(app::shell))
    } else {
        router
            .route("/pkg/{file}", axum::routing::get(site::asset))
            .fallback(render)
    }
}

/// Inside out: the page cache, the one bucket's redirect, the sign-in guard.
fn middleware(
    router: Router,
    state: Arc<AppState>,
    auth: Arc<Auth>,
    only_bucket: Option<String>,
) -> Router {
    router
        // Innermost: a dashboard page is rendered once per scan, URL and second (src/pages.rs).
        .layer(axum::middleware::from_fn_with_state(
            pages::PageCache::new(state),
            pages::serve,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(only_bucket),
            to_the_only_bucket,
        ))
        .layer(axum::middleware::from_fn_with_state(auth, auth::guard))
}

/// The headers every answer carries: a CSP that allows nothing, no caching of pages and
/// server functions, no sniffing, no framing, no referrer to other sites.
fn hardening(router: Router) -> Router {
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        // Pages and server functions are never cached; the hashed files set their own.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            // Not `no-referrer`: with it a browser sends `Origin: null` on a form POST (the
            // sign-out), which the same-origin check must refuse. Nothing leaves for other sites.
            HeaderValue::from_static("same-origin"),
        ))
}

/// With one bucket, `/` is that bucket's dashboard: `GET /` without `?bucket=` is sent to
/// `/?bucket=KEY` (its other parameters kept), so the page renders the dashboard directly
/// instead of first asking which buckets there are (that way the scan was rendered into the
/// page, and serialized for hydration, once per pass of the overview's suspense: three times).
async fn to_the_only_bucket(
    axum::extract::State(only): axum::extract::State<Arc<Option<String>>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if let Some(key) = only.as_deref() {
        let uri = req.uri();
        let query = uri.query().unwrap_or("");
        let has_bucket = query
            .split('&')
            .any(|kv| kv.split('=').next() == Some("bucket"));
        if req.method() == axum::http::Method::GET && uri.path() == "/" && !has_bucket {
            let key =
                app::percent_encode(key, |b| b.is_ascii_alphanumeric() || b"-_.~/".contains(&b));
            let rest = if query.is_empty() {
                String::new()
            } else {
                format!("&{query}")
            };
            return axum::response::Redirect::to(&format!("/?bucket={key}{rest}")).into_response();
        }
    }
    next.run(req).await
}
