//! `s3-prune serve`: the dashboard over axum, with the server functions of the `app` crate.
//!
//! Start-up reads as its steps: what is served (`settings.rs`), how people sign in
//! (`sign_in.rs`), the router (`router.rs`), then the listener until a signal stops it.

mod router;
mod settings;
mod sign_in;

use crate::args::ServeArgs;
use anyhow::{Context, Result};
use app::server::AppState;
use sign_in::{SignIn, Token};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::net::TcpListener;

pub async fn serve(args: ServeArgs) -> Result<ExitCode> {
    let buckets = settings::buckets(&args)?;
    settings::check_site_root(args.site_root.as_deref())?;
    let only_bucket = settings::only_bucket(&buckets);
    let state = Arc::new(AppState::new(settings::serve_config(&args, buckets)?));
    let trust = sign_in::trusted_header(&args)?;
    let listener = bind(args.addr).await?;
    let addr = listener.local_addr()?;
    let allowed_hosts = sign_in::allowed_hosts(&args, addr)?;
    let metrics = match args.metrics_addr {
        Some(at) => Some(crate::metrics::start(at, state.clone(), &allowed_hosts).await?),
        None => None,
    };
    let oidc = sign_in::team_sign_in(&args, &allowed_hosts).await?;
    publish_approval_rule(&state, &sign_in::home_url(&args, &allowed_hosts)).await;
    let token = sign_in::token_unless_team(&args, oidc.is_some() || trust.is_some())?;
    let sign_in = SignIn {
        oidc,
        token,
        trust,
        allowed_hosts,
    };
    let app = router::app(&args, state.clone(), sign_in.auth(&args), only_bucket);
    announce(addr, &sign_in, args.read_only);
    if let Some(m) = metrics {
        eprintln!("Prometheus metrics on http://{m}/metrics");
    }
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    finish_applies(&state).await;
    Ok(ExitCode::SUCCESS)
}

/// Listens on `--addr`.
async fn bind(addr: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))
}

/// Records `--approval-over` in the buckets so the CLI asks for approvals too; a failure is a
/// warning (the dashboard still asks).
async fn publish_approval_rule(state: &AppState, home: &str) {
    if let Err(e) = state.publish_approval_rule(home).await {
        eprintln!("warning: --approval-over could not be recorded in the bucket ({e}): the dashboard asks for approvals, but the CLI will not know to");
    }
}

/// Where the dashboard is and how to sign in, on the terminal that started it.
fn announce(addr: SocketAddr, sign_in: &SignIn, read_only: bool) {
    eprintln!("s3-prune dashboard on http://{addr}");
    match (&sign_in.oidc, &sign_in.token) {
        (Some(p), _) => eprintln!("People sign in through {}", p.issuer()),
        // Shown once, on the terminal that started the server (as Jupyter does); never logged.
        (
            None,
            Some(Token {
                value,
                generated: true,
            }),
        ) => eprintln!("Sign in: http://{addr}/?token={value}"),
        (None, Some(_)) => eprintln!("Sign in with the configured token: http://{addr}/?token=…"),
        (None, None) => eprintln!(
            "People sign in through the proxy at --trusted-proxy (its {} header names them)",
            sign_in.trust.as_ref().map_or("user", |h| h.as_str())
        ),
    }
    if read_only {
        eprintln!("Read-only: previews only, every apply is refused.");
    }
}

/// An apply runs in the background: stop it after its requests in flight and let it write its
/// record before the process ends.
async fn finish_applies(state: &AppState) {
    if state.applies_running() > 0 {
        eprintln!(
            "Stopping the running apply after its requests in flight; its record is being written…"
        );
        state.stop_applies().await;
    }
}

/// Ctrl-C or SIGTERM (a container or service manager stopping us).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term.recv() => {} }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
