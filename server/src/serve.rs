//! `s3-prune serve`: the dashboard over axum, with the server functions of the `app` crate.

use crate::args::ServeArgs;
use crate::auth::{self, Auth, AuthConfig};
use crate::pages;
use crate::site;
use anyhow::{Context, Result};
use app::server::{check_overlaps, parse_bucket_arg, AppState, ServeConfig};
use axum::http::{header, HeaderName, HeaderValue};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::process::ExitCode;
use std::sync::Arc;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

pub async fn serve(args: ServeArgs) -> Result<ExitCode> {
    let buckets = args
        .buckets
        .iter()
        .map(|b| parse_bucket_arg(b).map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()
        .context("--bucket")?;
    check_overlaps(&buckets).map_err(anyhow::Error::msg)?;
    for a in &args.approval_over {
        if let Some(b) = a
            .bucket
            .as_ref()
            .filter(|b| !buckets.iter().any(|c| &c.key == *b))
        {
            anyhow::bail!(
                "--approval-over {b}={}: no --bucket {b} is served; name it as given to --bucket (NAME or NAME/PREFIX)",
                a.over
            );
        }
    }
    if args.inventory.is_some() && buckets.len() != 1 {
        anyhow::bail!(
            "--inventory reports on one bucket: give exactly one --bucket with it ({} given)",
            buckets.len()
        );
    }
    if let Some(root) = &args.site_root {
        let pkg = std::path::Path::new(root).join("pkg");
        if !pkg.join("s3-prune.js").exists() {
            anyhow::bail!(
                "--site-root {root}: the dashboard's browser files are missing in {}: build them with `make site`, or leave out --site-root to serve the ones built into this binary",
                pkg.display()
            );
        }
    }
    let only_bucket = (buckets.len() == 1).then(|| buckets[0].key.clone());
    let state =
        Arc::new(AppState::new(ServeConfig {
            connect: args.endpoint.connect(),
            buckets,
            date_source: args.date_source.clone(),
            concurrency: args.endpoint.concurrency.into(),
            live_pointer: args.live_pointer.clone(),
            live_from: args.live_from.clone(),
            inventory: args.inventory.clone(),
            max_delete: args.max_delete,
            lifecycle_over: args.lifecycle.over(),
            read_only: args.read_only,
            audit: Some(Arc::new(args.audit.open()?)),
            notifier: args.notify.notifier(),
            schedule: args.schedule.clone().zip(args.schedule_retain).map(
                |(expression, retain)| app::wire::Schedule {
                    expression,
                    retain: retain.get(),
                    min_days: args.schedule_min_days,
                },
            ),
            rules: args.policy.clone(),
            approval_over: args
                .approval_over
                .iter()
                .rev()
                .find(|a| a.bucket.is_none())
                .map(|a| a.over),
            approval_over_for: args
                .approval_over
                .iter()
                .filter_map(|a| a.bucket.clone().map(|b| (b, a.over)))
                .collect(),
        }));
    let trust = args
        .trust_user_header
        .as_deref()
        .map(HeaderName::try_from)
        .transpose()
        .context("--trust-user-header is not a valid header name")?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let addr = listener.local_addr()?;
    let metrics = match args.metrics_addr {
        Some(at) => Some(crate::metrics::start(at, state.clone()).await?),
        None => None,
    };
    let allowed_hosts = if args.allowed_hosts.is_empty() {
        auth::default_hosts(addr).map_err(anyhow::Error::msg)?
    } else {
        args.allowed_hosts
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect()
    };
    let keys: Vec<String> = args
        .buckets
        .iter()
        .filter_map(|b| parse_bucket_arg(b).ok().map(|c| c.key))
        .collect();
    let oidc = team_sign_in(&args, &allowed_hosts, &keys).await?;
    if let Err(e) = state
        .publish_approval_rule(&home_url(&args, &allowed_hosts))
        .await
    {
        eprintln!("warning: --approval-over could not be recorded in the bucket ({e}): the dashboard asks for approvals, but the CLI will not know to");
    }
    let (token, generated) = match &oidc {
        Some(_) => (None, false),
        None => {
            let (t, generated) = access_token(&args)?;
            (Some(t), generated)
        }
    };
    let auth = Arc::new(Auth::new(AuthConfig {
        token: token.clone(),
        oidc: oidc.clone(),
        trust_header: trust,
        trusted_proxies: args.trusted_proxies.clone(),
        allowed_hosts,
        session_idle: std::time::Duration::from_secs(args.session_idle.as_secs()),
        session_max: std::time::Duration::from_secs(args.session_max.as_secs()),
    }));
    // The browser files: built into the binary under a content-hashed name, or (development
    // only) read from --site-root under their plain name.
    let options = LeptosOptions::builder()
        .output_name(match &args.site_root {
            Some(_) => "s3-prune",
            None => site::BUNDLE,
        })
        .site_root(args.site_root.as_deref().unwrap_or("/nonexistent"))
        .site_pkg_dir("pkg")
        .site_addr(args.addr)
        .build();
    let routes = generate_route_list(app::App);
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let router = Router::new().leptos_routes_with_context(&options, routes, context.clone(), {
        let options = options.clone();
        move || app::shell(options.clone())
    });
    let router = match &args.site_root {
        Some(_) => router.fallback(leptos_axum::file_and_error_handler(app::shell)),
        None => router
            .route("/pkg/{file}", axum::routing::get(site::asset))
            .fallback(leptos_axum::render_app_to_stream_with_context(context, {
                let options = options.clone();
                move || app::shell(options.clone())
            })),
    };
    let router = router
        .with_state(options)
        // Innermost: a dashboard page is rendered once per scan, URL and second (src/pages.rs).
        .layer(axum::middleware::from_fn_with_state(
            pages::PageCache::new(state.clone()),
            pages::serve,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(only_bucket),
            to_the_only_bucket,
        ))
        .layer(axum::middleware::from_fn_with_state(auth, auth::guard))
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
        // Pages and server-function answers, brotli or gzip as the browser accepts (the hashed
        // files come precompressed and are passed through as they are).
        .layer(CompressionLayer::new());
    eprintln!("s3-prune dashboard on http://{addr}");
    if let Some(m) = metrics {
        eprintln!("Prometheus metrics on http://{m}/metrics");
    }
    match (&oidc, token) {
        (Some(p), _) => eprintln!("People sign in through {}", p.issuer()),
        // Shown once, on the terminal that started the server (as Jupyter does); never logged.
        (None, Some(token)) if generated => eprintln!("Sign in: http://{addr}/?token={token}"),
        (None, _) => eprintln!("Sign in with the configured token: http://{addr}/?token=…"),
    }
    if args.read_only {
        eprintln!("Read-only: previews only, every apply is refused.");
    }
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    // An apply runs in the background: stop it after its requests in flight and let it
    // write its record before the process ends.
    if state.applies_running() > 0 {
        eprintln!(
            "Stopping the running apply after its requests in flight; its record is being written…"
        );
        state.stop_applies().await;
    }
    Ok(ExitCode::SUCCESS)
}

/// The access token: from --token-file, else S3_PRUNE_TOKEN, else a new one (`true`: print it).
fn access_token(args: &ServeArgs) -> Result<(String, bool)> {
    let (token, generated) = match (&args.token_file, std::env::var("S3_PRUNE_TOKEN")) {
        (Some(path), _) => {
            let t = std::fs::read_to_string(path)
                .with_context(|| format!("reading --token-file {}", path.display()))?;
            (t.trim().to_string(), false)
        }
        (None, Ok(t)) if !t.trim().is_empty() => (t.trim().to_string(), false),
        _ => (auth::random_token(), true),
    };
    if token.len() < 16 {
        anyhow::bail!("the access token must be at least 16 characters");
    }
    Ok((token, generated))
}

/// The dashboard's address as people reach it: --public-url, else the first allowed host.
fn home_url(args: &ServeArgs, allowed_hosts: &[String]) -> String {
    match &args.public_url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => format!(
            "http://{}",
            allowed_hosts.first().map_or("localhost", |h| h)
        ),
    }
}

/// `--oidc-issuer`: the provider discovered (or a clear error naming it), the roles mapped.
async fn team_sign_in(
    args: &ServeArgs,
    allowed_hosts: &[String],
    allowed_buckets: &[String],
) -> Result<Option<Arc<crate::oidc::Provider>>> {
    let (Some(issuer), Some(client_id), Some(secret_file)) = (
        &args.oidc_issuer,
        &args.oidc_client_id,
        &args.oidc_client_secret_file,
    ) else {
        return Ok(None);
    };
    let client_secret = std::fs::read_to_string(secret_file)
        .with_context(|| {
            format!(
                "reading --oidc-client-secret-file {}",
                secret_file.display()
            )
        })?
        .trim()
        .to_string();
    let home = match &args.public_url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => format!(
            "http://{}",
            allowed_hosts.first().map_or("localhost", |h| h)
        ),
    };
    let mut roles = crate::oidc::roles::Roles::default();
    for r in &args.roles {
        let map = match &r.bucket {
            None => &mut roles.all,
            Some(b) if allowed_buckets.contains(b) => roles.buckets.entry(b.clone()).or_default(),
            Some(b) => anyhow::bail!(
                "--role {}={}@{b}: no --bucket {b} is served; name it as given to --bucket (NAME or NAME/PREFIX)",
                r.role.name(),
                r.group
            ),
        };
        let list = match r.role {
            app::wire::Role::Viewer => &mut map.viewer,
            app::wire::Role::Deployer => &mut map.deployer,
            app::wire::Role::Admin => &mut map.admin,
        };
        list.push(r.group.clone());
    }
    let settings = crate::oidc::OidcSettings {
        issuer: issuer.clone(),
        client_id: client_id.clone(),
        client_secret,
        redirect: format!("{home}/auth/callback"),
        home,
        groups_claim: args.oidc_groups_claim.clone(),
        roles,
    };
    let provider = crate::oidc::Provider::discover(settings).await?;
    Ok(Some(Arc::new(provider)))
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
