//! `s3-prune serve`: the dashboard over axum, with the server functions of the `app` crate.

use crate::args::ServeArgs;
use anyhow::{Context, Result};
use app::server::{parse_bucket_arg, AppState};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::process::ExitCode;
use std::sync::Arc;

pub async fn serve(args: ServeArgs) -> Result<ExitCode> {
    let buckets = args
        .buckets
        .iter()
        .map(|b| parse_bucket_arg(b).map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()
        .context("--bucket")?;
    let pkg = std::path::Path::new(&args.site_root).join("pkg");
    if !pkg.join("s3-prune.js").exists() {
        anyhow::bail!(
            "the dashboard's browser files are missing in {}: build them with `make site` or pass --site-root",
            pkg.display()
        );
    }
    let state = Arc::new(AppState::new(
        args.endpoint.connect(),
        buckets,
        args.date_source.clone(),
        args.endpoint.concurrency.into(),
    ));
    let options = LeptosOptions::builder()
        .output_name("s3-prune")
        .site_root(args.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(args.addr)
        .build();
    let routes = generate_route_list(app::App);
    let router = Router::new()
        .leptos_routes_with_context(
            &options,
            routes,
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            {
                let options = options.clone();
                move || app::shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(app::shell))
        .with_state(options);
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    eprintln!("s3-prune dashboard on http://{}", listener.local_addr()?);
    axum::serve(listener, router.into_make_service())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(ExitCode::SUCCESS)
}
