//! `s3-prune`: delete old deployment folders from S3, safely.
//!
//! A thin binary: arguments in, calls into the engine (`prune`), text out.

mod args;
mod auth;
mod check;
mod config;
mod demo;
mod emf;
mod lambda;
mod metrics;
mod oidc;
mod output;
mod pages;
mod restore;
mod run;
mod saved;
mod serve;
mod site;
mod who;

use clap::{CommandFactory, FromArgMatches};
use std::process::ExitCode;

/// The shipped static binaries link musl, whose allocator serialises threads under load (the
/// dashboard served 88 req/s on it vs 270 on glibc's: BENCHMARKS.md); mimalloc there. glibc
/// builds (development, tests) keep the system allocator, and so does a musl build with the
/// `system-allocator` feature (to measure the difference).
#[cfg(all(target_env = "musl", not(feature = "system-allocator")))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    // Inside Lambda there are no arguments: the runtime API variable says what to do.
    let in_lambda =
        std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() && std::env::args_os().len() == 1;
    let (command, notes) = if in_lambda {
        (args::Command::Lambda, Vec::new())
    } else {
        match parse_command_line() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::from(2);
            }
        }
    };
    if matches!(command, args::Command::Lambda) {
        if let Err(e) = lambda::inside_lambda() {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env("S3_PRUNE_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(
                "warn,aws_config=error,aws_smithy_runtime=error,s3_prune=info,app=info",
            )
        })
    };
    if matches!(command, args::Command::Lambda) {
        // CloudWatch gets one JSON object per line.
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_ansi(color())
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .init();
    }
    for note in notes {
        tracing::warn!("{note}");
    }
    let result = match command {
        args::Command::Plan(a) => run::plan(a).await,
        args::Command::Apply(a) => run::apply(a).await,
        args::Command::Serve(a) => serve::serve(*a).await,
        args::Command::Demo(a) => demo::demo(a).await,
        args::Command::Pin(a) => run::pin(a, true).await,
        args::Command::Unpin(a) => run::pin(a, false).await,
        args::Command::History(a) => run::history(a).await,
        args::Command::Check(a) => Ok(check::check(a).await),
        args::Command::Restore(a) => restore::restore(a).await,
        args::Command::UndoWindow(a) => restore::undo_window(a).await,
        args::Command::Lambda => lambda::run().await,
        args::Command::Completions { shell } => {
            let mut cmd = args::Cli::command();
            clap_complete::generate(shell, &mut cmd, "s3-prune", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        args::Command::Man => clap_mangen::Man::new(args::Cli::command())
            .render(&mut std::io::stdout())
            .map(|()| ExitCode::SUCCESS)
            .map_err(Into::into),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The arguments, with `s3-prune.toml` (or `--config FILE`) supplying the defaults of flags not
/// given. A usage error exits here (code 2), as clap does.
/// Also returns what to warn about once logging is set up.
fn parse_command_line() -> anyhow::Result<(args::Command, Vec<String>)> {
    let mut notes = Vec::new();
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // A broken file, or a bad value in it, stops the commands that read it, not --version or
    // --help.
    let bare = needs_no_settings(&argv);
    let config = match config::find(&argv) {
        Ok(c) => c,
        Err(_) if bare => None,
        Err(e) => return Err(e),
    };
    let mut cmd = args::Cli::command();
    if let Some(c) = &config {
        cmd = c.apply_to(cmd);
        if !bare {
            c.check_defaults(&cmd)?;
        }
    }
    let matches = cmd.get_matches_from(argv);
    let mut command = args::Cli::from_arg_matches(&matches)
        .unwrap_or_else(|e| e.exit())
        .command;
    if let Some(("check", sub)) = matches.subcommand() {
        if given(sub, "out") {
            anyhow::bail!(
                "--out: check writes no plan (it is for plan and apply): drop it, or save the \
                 plan with `s3-prune plan … --out FILE`"
            );
        }
    }
    if let Some(c) = &config {
        command.add_config_lists(c);
        // `localstack` and `endpoint_url` exclude each other: the one given as a flag wins
        // over the other one from the file.
        if let (Some((_, sub)), Some(endpoint)) = (matches.subcommand(), command.endpoint_mut()) {
            let given = |id: &str| given(sub, id);
            if given("endpoint_url") && !given("localstack") {
                endpoint.localstack = false;
            }
            if given("localstack") && !given("endpoint_url") {
                endpoint.endpoint_url = None;
            }
        }
        // Likewise RETAIN (with a minimum age) and a policy file replace each other.
        if let (Some((_, sub)), Some(plan)) = (matches.subcommand(), command.plan_mut()) {
            let given = |id: &str| given(sub, id);
            if plan.bucket.is_none() {
                plan.bucket = c.file.bucket.clone();
            }
            if given("policy") {
                plan.retain = None;
                plan.keep_within = None;
            } else if given("retain") {
            } else if let Some(r) = c.file.policy.retain {
                plan.retain = Some(retention::Retain::new(r)?);
            } else if let Some(rules) = c.policy_rules()? {
                // The file's rules, unless RETAIN was given (clap cannot take this default: a
                // defaulted --policy would conflict with a RETAIN given on the command line).
                plan.policy = Some(rules);
            }
        }
        // `serve --policy`: the file's rules are the ones the dashboard starts with, as they
        // are the CLI's, so a preview there plans what `plan` does.
        if let (Some((_, sub)), args::Command::Serve(a)) = (matches.subcommand(), &mut command) {
            if given(sub, "buckets") {
                c.refuse_typed_root(&a.buckets)?;
            }
            if given(sub, "policy") {
            } else if let Some(rules) = c.policy_rules()? {
                a.policy = Some(rules);
            } else if let Some(note) = serve_ignores_retain(c) {
                notes.push(note);
            }
        }
    }
    // Checked here rather than by clap, so that clap's own usage errors come first.
    for (name, check) in command.bucket_names() {
        check(name).map_err(|why| match &command {
            args::Command::Serve(_) => anyhow::anyhow!("--bucket: {why}"),
            _ => anyhow::anyhow!("{why}"),
        })?;
    }
    if let args::Command::Serve(a) = &command {
        serve_sign_in_conflicts(a)?;
        // Listening on all interfaces needs the names people reach it by.
        if a.allowed_hosts.is_empty() {
            auth::default_hosts(a.addr).map_err(anyhow::Error::msg)?;
        }
    }
    if let args::Command::Apply(a) = &mut command {
        if let Some(path) = &a.plan_file {
            a.saved = Some(std::sync::Arc::new(saved::SavedPlan::read(path)?));
        }
    }
    if let args::Command::Apply(a) = &command {
        lifecycle_without_purge(a)?;
        job_settings_refused_for_apply()?;
    }
    let saved_plan = matches!(&command, args::Command::Apply(a) if a.plan_file.is_some());
    if let (Some(plan), false) = (command.plan_mut(), saved_plan) {
        plan.refuse_ignored().map_err(anyhow::Error::msg)?;
        // A policy the arguments and the file cannot make (RETAIN beside the file's rules, no
        // RETAIN at all): a usage error, exit 2 before any request, as the same conflict typed
        // on the command line is (it was exit 1, found once the command ran).
        plan.spec().build()?;
    }
    if !matches!(command, args::Command::Lambda) {
        let names = std::env::vars_os().filter_map(|(k, _)| k.into_string().ok());
        notes.extend(args::job_variables_ignored(names));
    }
    Ok((command, notes))
}

/// The scheduled job's settings in the shell of an `apply`, which this command does not read:
/// `S3_PRUNE_DRY_RUN=true` (whoever set it expects nothing deleted: refused, saying `plan` is
/// the dry run), and any other of them that asks something of a run.
fn job_settings_refused_for_apply() -> anyhow::Result<()> {
    // Read as the job reads it; a value it would refuse (`on`, `y`) may mean "dry run" too,
    // and nothing is deleted on a guess: only an unset or false switch lets the apply go on.
    if !matches!(
        lambda::env::env_bool("S3_PRUNE_DRY_RUN"),
        Ok(None | Some(false))
    ) {
        let set = lambda::env::env("S3_PRUNE_DRY_RUN").unwrap_or_default();
        anyhow::bail!(
            "refusing to apply: S3_PRUNE_DRY_RUN={} is set, which only the scheduled job reads: \
             this apply would delete. For a dry run use `s3-prune plan` (same arguments); to \
             apply, unset S3_PRUNE_DRY_RUN. Nothing was deleted",
            set.trim()
        );
    }
    // The job's other settings: whoever set them expects them followed — a pin kept, a lower
    // max-delete, LocalStack rather than AWS — and `apply` reads none of them. Before, a
    // warning (hidden by S3_PRUNE_LOG=error) and the apply went ahead without them.
    // A switch set to false asks nothing of a run (the Terraform module writes them all).
    let asks = |name: &str| match lambda::env::env_bool(name) {
        Ok(Some(false)) => false,
        _ => lambda::env::env(name).is_some(),
    };
    let switches = [
        "S3_PRUNE_PURGE_VERSIONS",
        "S3_PRUNE_LOCALSTACK",
        "S3_PRUNE_VIA_LIFECYCLE",
    ];
    let set: Vec<String> = args::JOB_VARIABLES
        .iter()
        .filter(|(name, _)| *name != "S3_PRUNE_DRY_RUN")
        .filter(|(name, _)| match switches.contains(name) {
            true => asks(name),
            false => lambda::env::env(name).is_some(),
        })
        .map(|(name, instead)| format!("{name} (this command takes {instead})"))
        .collect();
    if !set.is_empty() {
        anyhow::bail!(
            "refusing to apply: {}, which only the scheduled job reads: this apply would not \
             follow {}. Give the flag instead, or unset the variable for this command (`env -u \
             NAME s3-prune apply …`). Nothing was deleted",
            match set.len() {
                1 => format!("{} is set", set[0]),
                _ => format!("{} are set", set.join(", ")),
            },
            if set.len() == 1 { "it" } else { "them" }
        );
    }
    Ok(())
}

/// `--via-lifecycle` with `--purge-versions` from anywhere: clap refuses the two flags together,
/// but `policy.purge_versions` in the configuration file or a saved plan's got past it, and the
/// plan then said "purge N versions … cannot be restored" while the run handed the folders to
/// S3 expiration, which purges nothing (and the record's purge made `restore` refuse).
fn lifecycle_without_purge(a: &args::ApplyArgs) -> anyhow::Result<()> {
    if a.lifecycle.over().is_none() {
        return Ok(());
    }
    let (from, purge) = match &a.saved {
        Some(saved) => (
            "the saved plan",
            saved.policy.purge_versions && !a.plan.no_purge_versions,
        ),
        None => (
            "policy.purge_versions in the configuration file",
            a.plan.purges(),
        ),
    };
    if purge {
        anyhow::bail!(
            "refusing to apply: --via-lifecycle hands folders to S3 expiration, which leaves \
             their old versions behind, but {from} purges versions. Nothing was deleted; drop \
             --via-lifecycle, or plan without purging versions (--no-purge-versions)"
        );
    }
    Ok(())
}

/// `--version`, `--help`, `completions` and `man` take nothing from the configuration file, so
/// a broken one does not stop them.
fn needs_no_settings(argv: &[std::ffi::OsString]) -> bool {
    use clap::error::ErrorKind;
    match args::Cli::command().try_get_matches_from(argv) {
        Ok(m) => matches!(m.subcommand_name(), Some("completions" | "man")),
        Err(e) => matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion),
    }
}

/// Whether the flag `id` was given (on the command line or by its environment variable), not
/// defaulted (by clap or the configuration file).
fn given(sub: &clap::ArgMatches, id: &str) -> bool {
    sub.value_source(id)
        .is_some_and(|s| s != clap::parser::ValueSource::DefaultValue)
}

/// `serve` has no RETAIN: the page's retain and days are chosen in the page (or a link), so
/// the file's `policy.retain` and minimum age are not the dashboard's. Said at start, with how
/// to give the dashboard the team's policy.
fn serve_ignores_retain(c: &config::Config) -> Option<String> {
    let p = &c.file.policy;
    let keys: Vec<&str> = [
        ("policy.retain", p.retain.is_some()),
        ("policy.min_retain_days", p.min_retain_days.is_some()),
        ("policy.keep_within", p.keep_within.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect();
    (!keys.is_empty()).then(|| {
        format!(
            "{}: {} do not apply to the dashboard (serve has no RETAIN: the page starts at its \
             own retain, or a link's): to have it start with the team's policy, write it as a \
             policy file and name that in `policy.file` (or give serve --policy FILE)",
            c.path.display(),
            keys.join(", ")
        )
    })
}

/// How people sign in to `serve` is one way: clap checks its conflicts among flags typed, not
/// values from the file, so they are checked again here.
fn serve_sign_in_conflicts(a: &args::ServeArgs) -> anyhow::Result<()> {
    if a.trust_user_header.is_some() && a.oidc_issuer.is_some() {
        anyhow::bail!("--trust-user-header (serve.trust_user_header) cannot be used with --oidc-issuer ([serve.oidc]): whoever the proxy passes would skip the sign-in and its roles; give one of them");
    }
    if a.trust_user_header.is_some() && a.token_file.is_some() {
        anyhow::bail!("--trust-user-header (serve.trust_user_header) cannot be used with --token-file (serve.token_file): the proxy decides who signs in, and the token would let anyone who reaches this port past it as an admin; drop the token file");
    }
    if !a.approval_over.is_empty() && a.oidc_issuer.is_none() && a.trust_user_header.is_none() {
        anyhow::bail!("--approval-over (serve.approval_over, [serve.approval_over_for]) needs people signed in by name: --oidc-issuer ([serve.oidc]), or --trust-user-header behind your proxy. With the access token everyone is the same person, so nobody could approve another's apply — and the rule it records in the bucket would hold up the CLI's larger applies too");
    }
    if !a.roles.is_empty() && a.oidc_issuer.is_none() {
        anyhow::bail!("--role ([serve.roles], [serve.bucket_roles]) needs --oidc-issuer ([serve.oidc]): roles are given by the identity provider's groups, and without it everyone who signs in (the token's holder, the proxy's users) is an admin; sign people in through the provider, or drop the roles");
    }
    Ok(())
}

/// Colour on stderr only for a terminal, and never with `NO_COLOR` set (no-color.org).
fn color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}
