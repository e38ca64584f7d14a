//! `s3-prune.toml` and the conveniences of an installed tool: the file sets flag defaults,
//! flags win, unknown keys are refused by name; `--version`, completions, man page, NO_COLOR.

use crate::common::{audit_db, deploy_seconds_apart, json, stderr, stdout};
use bucket::testkit::{all_keys, fresh_bucket};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A fresh empty working directory.
fn workdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("s3p-config-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The binary run in `dir`, as a team runs it next to its committed s3-prune.toml.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .current_dir(dir)
        .args(args)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("S3_PRUNE_CONFIG")
        .env("S3_PRUNE_AUDIT_DB", audit_db())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn deletes(o: &Output) -> Vec<String> {
    let v = json(o);
    v["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["action"] == "delete")
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_config_file_sets_the_defaults_and_flags_override_it() {
    let b = fresh_bucket("cfg").await;
    deploy_seconds_apart(&b, &["d1", "d2", "d3", "d4", "d5"]).await;
    let dir = workdir("defaults");
    std::fs::write(
        dir.join("s3-prune.toml"),
        format!(
            "# the team's settings\nlocalstack = true\nbucket = \"{}\"\n\n[policy]\nretain = 2\n\n\
             [guards]\nmax_delete = 10\npins = [\"d1\"]\n",
            b.name()
        ),
    )
    .unwrap();

    // BUCKET and RETAIN from the file; its pin is honoured
    let plan = run_in(&dir, &["plan", "--json"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    assert_eq!(deletes(&plan), ["d3", "d2"]);

    // flags win over the file; the file's pins are added to the flags' ones
    let plan = run_in(&dir, &["plan", b.name(), "4", "--pin", "d2", "--json"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    assert_eq!(
        deletes(&plan),
        Vec::<String>::new(),
        "d1 and d2 pinned, newest 4 kept"
    );

    // a guard in the file holds for apply too
    let tight = workdir("tight");
    std::fs::write(
        tight.join("s3-prune.toml"),
        format!(
            "localstack = true\nbucket = \"{}\"\n[policy]\nretain = 1\n[guards]\nmax_delete = 1\n",
            b.name()
        ),
    )
    .unwrap();
    let refused = run_in(&tight, &["apply", "--yes"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("max-delete"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(all_keys(&b).await.len(), 10, "nothing deleted");

    // --config names another file, from any directory
    let elsewhere = workdir("elsewhere");
    let cfg = tight.join("s3-prune.toml");
    let plan = run_in(
        &elsewhere,
        &[
            "plan",
            "--config",
            cfg.to_str().unwrap(),
            "--max-delete",
            "9",
            "--json",
        ],
    );
    assert!(plan.status.success(), "{}", stderr(&plan));
    assert_eq!(deletes(&plan).len(), 4);

    // `demo` writes into a bucket: it never takes the file's bucket
    let demo = run_in(&dir, &["demo"]);
    assert_eq!(demo.status.code(), Some(2), "{}", stderr(&demo));
}

#[test]
fn a_bad_config_file_is_refused_naming_the_key_and_deletes_nothing() {
    let dir = workdir("bad");
    for (text, expect) in [
        ("bucket = \"b\"\n[policy]\nretian = 3\n", "retian"),
        ("[policy]\nretain = 0\n", "policy.retain"),
        ("[guards]\nexcludes = [\"[a\"]\n", "guards.excludes"),
        // Before: a space at either end matched nothing, and `apply --yes` deleted what the
        // pin and the exclude were there to keep (the scheduled job trimmed them and kept it).
        (
            "[guards]\nexcludes = [\"main-* \"]\n",
            "`guards.excludes`: pattern 'main-* ' has a space at its start or end: write 'main-*'",
        ),
        (
            "[guards]\npins = [\"v1.0 \"]\n",
            "`guards.pins`: deployment id 'v1.0 ' has a space at its start or end: write 'v1.0'",
        ),
        ("buckett = \"b\"\n", "buckett"),
        // A role that does not exist is never a group silently given no role.
        ("[serve.roles]\ndeployers = [\"release\"]\n", "deployers"),
        // A bucket is its name alone: exit 2 before any request, saying what to write.
        (
            "bucket = \"s3://b-1\"\n[policy]\nretain = 2\n",
            "`bucket`: write b-1, not s3://b-1",
        ),
        (
            "bucket = \"ab\"\n[policy]\nretain = 2\n",
            "`bucket`: 'ab' is not a bucket name",
        ),
        (
            "[serve]\nbuckets = [\"s3://b-1/x\"]\n",
            "`serve.buckets`: write b-1/x",
        ),
    ] {
        std::fs::write(dir.join("s3-prune.toml"), text).unwrap();
        let out = run_in(&dir, &["apply", "--yes"]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = stderr(&out);
        assert!(err.contains(expect), "{text}: {err}");
        assert!(err.contains("s3-prune.toml"), "{err}");
    }
    let roles = "[serve.roles]\nviewer = [\"staff\"]\nsuperuser = [\"ops\"]\n";
    std::fs::write(dir.join("s3-prune.toml"), roles).unwrap();
    let out = run_in(&dir, &["serve"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("superuser") && err.contains("line 3"), "{err}");
    std::fs::remove_file(dir.join("s3-prune.toml")).unwrap();
    let missing = run_in(&dir, &["plan", "--config", "nope.toml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("nope.toml"));
}

/// Roles come from the identity provider's groups: without one, everyone who signs in (the
/// token's holder, a proxy's users) is an admin, so roles given without it are refused at start
/// rather than ignored.
#[test]
fn roles_without_an_identity_provider_are_refused_not_ignored() {
    let dir = workdir("roles-alone");
    let flags = run_in(
        &dir,
        &[
            "serve",
            "--bucket",
            "my-bucket",
            "--addr",
            "127.0.0.1:0",
            "--trust-user-header",
            "X-Forwarded-User",
            "--trusted-proxy",
            "10.0.0.2",
            "--role",
            "viewer=staff",
        ],
    );
    assert_eq!(flags.status.code(), Some(2), "{}", stderr(&flags));
    assert!(
        stderr(&flags).contains("--oidc-issuer"),
        "{}",
        stderr(&flags)
    );
    assert!(!stderr(&flags).contains("dashboard on"));
    let file = "bucket = \"my-bucket\"\n[serve]\naddr = \"127.0.0.1:0\"\n[serve.bucket_roles.\"my-bucket\"]\ndeployer = [\"release\"]\n";
    std::fs::write(dir.join("s3-prune.toml"), file).unwrap();
    let from_file = run_in(&dir, &["serve", "--bucket", "my-bucket"]);
    assert_eq!(from_file.status.code(), Some(2), "{}", stderr(&from_file));
    assert!(
        stderr(&from_file).contains("--role"),
        "{}",
        stderr(&from_file)
    );
}

#[test]
fn an_identity_provider_that_is_down_at_start_is_named_and_nothing_is_served() {
    let dir = workdir("oidc-down");
    std::fs::write(dir.join("secret"), "s3cret").unwrap();
    // Nothing listens on port 9 of loopback (discard): the discovery request is refused.
    let serve = [
        "serve",
        "--bucket",
        "my-bucket",
        "--addr",
        "127.0.0.1:0",
        "--oidc-issuer",
        "http://127.0.0.1:9/realms/eng",
        "--oidc-client-id",
        "s3-prune",
        "--oidc-client-secret-file",
        "secret",
    ];
    let out = run_in(&dir, &serve);
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("OpenID provider at http://127.0.0.1:9/realms/eng could not be reached"),
        "{err}"
    );
    assert!(!err.contains("dashboard on"), "{err}");
    // A viewer role on one bucket would let the group read every bucket (a viewer sees them
    // all): refused before the provider is asked.
    let role = ["--role", "viewer=contractors@my-bucket"];
    let one_bucket_viewer = run_in(&dir, &[&serve[..], &role[..]].concat());
    assert_ne!(one_bucket_viewer.status.code(), Some(0));
    assert!(
        stderr(&one_bucket_viewer).contains("a viewer sees every bucket"),
        "{}",
        stderr(&one_bucket_viewer)
    );
    // An unknown role on the command line is refused naming the roles there are.
    let bad = run_in(&dir, &["serve", "--role", "owner=ops"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("viewer, deployer and admin"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn version_names_the_commit_and_completions_and_man_page_are_printed() {
    let dir = workdir("tools");
    let v = run_in(&dir, &["--version"]);
    let text = stdout(&v);
    assert!(
        text.starts_with(&format!("s3-prune {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    let commit = text
        .split("commit ")
        .nth(1)
        .unwrap()
        .trim_end()
        .trim_end_matches(')');
    assert!(
        commit == "unknown" || commit.chars().all(|c| c.is_ascii_hexdigit()) && commit.len() >= 7,
        "{commit}"
    );
    for shell in ["bash", "zsh", "fish"] {
        let out = run_in(&dir, &["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = stdout(&out);
        assert!(script.contains("min-retain-days"), "{shell}: {script}");
        assert!(script.contains("s3-prune"), "{shell}");
    }
    let bad = run_in(&dir, &["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
    let man = stdout(&run_in(&dir, &["man"]));
    assert!(man.contains(".TH s3-prune 1"), "{man}");
    assert!(
        man.contains("min\\-retain\\-days") || man.contains("apply"),
        "{man}"
    );
}

/// Run through script(1) so the binary sees a terminal, where colour would be used.
fn on_a_terminal(args: &str, no_color: bool) -> Vec<u8> {
    let mut cmd = Command::new("script");
    cmd.args([
        "-qefc",
        &format!("{} {args}", env!("CARGO_BIN_EXE_s3-prune")),
        "/dev/null",
    ])
    .env("TERM", "xterm-256color")
    .env_remove("NO_COLOR")
    .stdin(Stdio::null());
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    cmd.output().unwrap().stdout
}

#[test]
fn no_color_turns_colour_off_on_a_terminal() {
    let colour = on_a_terminal("plan --help", false);
    assert!(colour.contains(&0x1b), "on a terminal the help is coloured");
    let plain = on_a_terminal("plan --help", true);
    assert!(
        !plain.contains(&0x1b),
        "{}",
        String::from_utf8_lossy(&plain)
    );
    let logged = on_a_terminal("plan no-such-bucket-here 3 --localstack", true);
    assert!(
        !logged.contains(&0x1b),
        "{}",
        String::from_utf8_lossy(&logged)
    );
}

#[tokio::test]
async fn logs_written_to_a_file_or_pipe_carry_no_colour_codes() {
    let b = fresh_bucket("nocolor").await;
    deploy_seconds_apart(&b, &["a"]).await;
    let out = Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .args(["plan", b.name(), "1", "--localstack"])
        .env("S3_PRUNE_LOG", "debug")
        .env_remove("NO_COLOR")
        .env_remove("AWS_ENDPOINT_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("DEBUG"), "the log has lines: {err}");
    assert!(!out.stderr.contains(&0x1b), "{err}");
}

/// `policy.toml` (previews grouped by PR, the newest of each kept) and an `s3-prune.toml`
/// naming it and bucket `b`, in `dir`.
fn previews_policy_beside_config(dir: &Path, b: &bucket::Bucket) {
    std::fs::write(
        dir.join("policy.toml"),
        "[[rule]]\nname = \"previews\"\nmatch = \"pr-*\"\ngroup = '^(pr-\\d+)-'\nretain = 1\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("s3-prune.toml"),
        format!(
            "localstack = true\nbucket = \"{}\"\n[policy]\nfile = \"policy.toml\"\n",
            b.name()
        ),
    )
    .unwrap();
}

#[tokio::test]
async fn a_policy_file_named_in_the_config_is_used_and_a_retain_flag_replaces_it() {
    let b = fresh_bucket("cfgrules").await;
    deploy_seconds_apart(&b, &["pr-1-a", "pr-1-b", "pr-2-a"]).await;
    let dir = workdir("cfgrules");
    previews_policy_beside_config(&dir, &b);
    let plan = run_in(&dir, &["plan", "--json"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    assert_eq!(deletes(&plan), ["pr-1-a"]);
    assert_eq!(json(&plan)["deployments"][0]["rule"], "previews");
    // RETAIN on the command line replaces the file's rules
    let plan = run_in(&dir, &["plan", b.name(), "2", "--json"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    assert_eq!(deletes(&plan), ["pr-1-a"]);
    assert!(json(&plan)["deployments"][0]["rule"].is_null());
    let plan = run_in(&dir, &["plan", b.name(), "1", "--json"]);
    assert_eq!(deletes(&plan), ["pr-1-b", "pr-1-a"]);
    // and both in the file is refused
    std::fs::write(
        dir.join("s3-prune.toml"),
        "[policy]\nfile = \"policy.toml\"\nretain = 3\n",
    )
    .unwrap();
    let out = run_in(&dir, &["plan"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("policy.file"), "{}", stderr(&out));
}

/// `s3-prune serve` started in `dir` (beside its s3-prune.toml) with a token, signed in.
struct Served {
    child: std::process::Child,
    addr: String,
    cookie: String,
    /// What it logged up to the line giving its address.
    said: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_in(dir: &Path, args: &[&str]) -> Served {
    use std::io::{BufRead, BufReader};
    std::fs::write(dir.join("token"), "cfg-test-token-0123456789").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_s3-prune"))
        .current_dir(dir)
        .args(["serve", "--addr", "127.0.0.1:0", "--token-file", "token"])
        .args(args)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("S3_PRUNE_CONFIG")
        .env_remove("S3_PRUNE_TOKEN")
        .env_remove("LEPTOS_SITE_ROOT")
        .env("S3_PRUNE_AUDIT_DB", audit_db())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut said = String::new();
    let addr = loop {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("serve did not start: {said}"));
        said.push_str(&line);
        said.push('\n');
        if let Some(a) = line.strip_prefix("s3-prune dashboard on http://") {
            break a.to_string();
        }
    };
    let r = crate::serve::request_once(&addr, "GET", "/?token=cfg-test-token-0123456789", &[], "");
    let cookie = r.header("set-cookie").expect("signed in").to_string();
    let cookie = cookie.split(';').next().unwrap().to_string();
    Served {
        child,
        addr,
        cookie,
        said,
    }
}

/// What the page gets from `scan_bucket`: the server's settings the page plans with.
fn scan_view(s: &Served) -> String {
    let r = crate::serve::request(
        &s.addr,
        "POST",
        "/api/scan_bucket",
        &[
            ("Content-Type", "application/json"),
            ("Cookie", &s.cookie),
            ("Origin", &format!("http://{}", s.addr)),
        ],
        r#"{"bucket":null,"rescan":false}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// The dashboard previews with the rules `plan` applies: `policy.file` in s3-prune.toml is
/// serve's `--policy` too (before, serve started without them, previewing the page's retain 5).
/// `policy.retain`, which serve has no flag for, is said not to apply, not silently dropped.
#[tokio::test]
async fn the_dashboard_starts_with_the_config_files_policy_as_plan_does() {
    let b = fresh_bucket("cfgserve").await;
    deploy_seconds_apart(&b, &["pr-1-a", "pr-1-b"]).await;
    let dir = workdir("cfgserve");
    previews_policy_beside_config(&dir, &b);
    let s = serve_in(&dir, &[]);
    let view = scan_view(&s);
    assert!(
        view.contains(r#""rules":[{"name":"previews""#),
        "the page starts without the file's rules: {}",
        &view[..view.len().min(600)]
    );
    drop(s);
    // --policy on the command line wins over the file's
    std::fs::write(
        dir.join("other.toml"),
        "[[rule]]\nname = \"everything\"\nmatch = \"*\"\nretain = 2\n",
    )
    .unwrap();
    let s = serve_in(&dir, &["--policy", "other.toml"]);
    assert!(scan_view(&s).contains(r#""rules":[{"name":"everything""#));
    drop(s);
    // RETAIN in the file is not the dashboard's: said at start, with what to do
    std::fs::write(
        dir.join("s3-prune.toml"),
        format!(
            "localstack = true\nbucket = \"{}\"\n[policy]\nretain = 3\nmin_retain_days = 2\n",
            b.name()
        ),
    )
    .unwrap();
    let s = serve_in(&dir, &[]);
    assert!(
        s.said
            .contains("policy.retain, policy.min_retain_days do not apply to the dashboard")
            && s.said.contains("`policy.file`"),
        "{}",
        s.said
    );
    assert!(scan_view(&s).contains(r#""rules":null"#));
}

/// A broken s3-prune.toml in the working directory stops no command that takes nothing from it
/// (`--version`, `--help`, `completions`, `man`: before, each failed on the file), and the
/// commands that do read it say how to run without it.
#[test]
fn a_broken_config_file_stops_only_the_commands_that_read_it_and_says_how_to_bypass_it() {
    let dir = workdir("broken");
    // Broken as TOML, and well-formed with a value clap refuses (serve.addr).
    for broken in [
        "[policy\nretain = 3\n",
        "[serve]\naddr = \"localhost:3000\"\n",
    ] {
        std::fs::write(dir.join("s3-prune.toml"), broken).unwrap();
        for args in [
            &["--version"][..],
            &["--help"],
            &["plan", "--help"],
            &["help", "serve"],
            &["completions", "bash"],
            &["man"],
        ] {
            let out = run_in(&dir, args);
            assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
            assert!(!stdout(&out).is_empty(), "{args:?}");
        }
    }
    std::fs::write(dir.join("s3-prune.toml"), "[policy\nretain = 3\n").unwrap();
    let plan = run_in(&dir, &["plan"]);
    assert_eq!(plan.status.code(), Some(2), "{}", stderr(&plan));
    let err = stderr(&plan);
    assert!(
        err.contains("s3-prune.toml") && err.contains("line 1"),
        "{err}"
    );
    assert!(
        err.contains("it is in the working directory")
            && err.contains("--config /dev/null")
            && err.contains("S3_PRUNE_CONFIG=/dev/null"),
        "{err}"
    );
    // and the way out works
    let bypass = run_in(&dir, &["plan", "--config", "/dev/null", "ab", "1"]);
    assert_eq!(bypass.status.code(), Some(2), "{}", stderr(&bypass));
    assert!(
        !stderr(&bypass).contains("s3-prune.toml"),
        "{}",
        stderr(&bypass)
    );
}

/// A value clap refuses as a default from the file names the file and its key, not a flag
/// nobody typed (before: "invalid value 'nope' for '--addr <ADDR>'"); and `policy.file` is
/// read from the configuration file's folder, so the two files sit side by side wherever the
/// command runs (before: from the working directory, and its error named no file).
#[tokio::test]
async fn config_values_are_refused_naming_the_file_and_key_and_policy_file_is_read_beside_it() {
    let dir = workdir("keys");
    for (text, says) in [
        (
            "[serve]\naddr = \"nope\"\n",
            "`serve.addr`: \"nope\": invalid socket address syntax",
        ),
        (
            "[serve]\ntrusted_proxies = [\"proxy\"]\n",
            "`serve.trusted_proxies`: \"proxy\": invalid IP address syntax",
        ),
        (
            "[serve.approval_over_for]\n\"s3://site-a\" = 1\n",
            "`serve.approval_over_for`: \"s3://site-a=1\": write site-a, not s3://site-a",
        ),
    ] {
        std::fs::write(dir.join("s3-prune.toml"), text).unwrap();
        for command in ["serve", "plan"] {
            let out = run_in(&dir, &[command]);
            assert_eq!(out.status.code(), Some(2), "{text}");
            let err = stderr(&out);
            assert!(
                err.contains("s3-prune.toml: ") && err.contains(says),
                "{text}: {err}"
            );
            assert!(
                !err.contains("--addr") && !err.contains("--trusted-proxy"),
                "{err}"
            );
        }
    }
    // policy.file beside the configuration file, run from elsewhere with --config
    let b = fresh_bucket("cfgbeside").await;
    deploy_seconds_apart(&b, &["pr-1-a", "pr-1-b", "pr-2-a"]).await;
    let team = workdir("beside-team");
    std::fs::write(
        team.join("policy.toml"),
        "[[rule]]\nname = \"previews\"\nmatch = \"pr-*\"\ngroup = '^(pr-\\d+)-'\nretain = 1\n",
    )
    .unwrap();
    let cfg = team.join("s3-prune.toml");
    std::fs::write(
        &cfg,
        format!(
            "localstack = true\nbucket = \"{}\"\n[policy]\nfile = \"policy.toml\"\n",
            b.name()
        ),
    )
    .unwrap();
    let elsewhere = workdir("beside-elsewhere");
    let plan = run_in(
        &elsewhere,
        &["plan", "--config", cfg.to_str().unwrap(), "--json"],
    );
    assert!(plan.status.success(), "{}", stderr(&plan));
    assert_eq!(deletes(&plan), ["pr-1-a"]);
    // a missing one names the configuration file, the key, and where it was looked for
    std::fs::write(
        &cfg,
        format!(
            "bucket = \"{}\"\n[policy]\nfile = \"nope.toml\"\n",
            b.name()
        ),
    )
    .unwrap();
    let out = run_in(&elsewhere, &["plan", "--config", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let looked = team.join("nope.toml");
    assert!(
        err.contains(&format!("{}: `policy.file`", cfg.display()))
            && err.contains(&looked.display().to_string())
            && err.contains("configuration file's folder"),
        "{err}"
    );
}

/// Before: clap refused `--via-lifecycle --purge-versions` together, but `purge_versions = true`
/// in the configuration file (or a saved plan made with `--purge-versions`) got past it: the
/// plan said "purge 9 versions … cannot be restored", the run handed the folders to S3
/// expiration (which purges nothing) and its record's purge made `restore` refuse (reviewer).
#[tokio::test]
async fn purging_versions_from_the_config_or_a_saved_plan_is_refused_with_via_lifecycle() {
    let b = fresh_bucket("cfg-lc-purge").await;
    b.enable_versioning().await.unwrap();
    deploy_seconds_apart(&b, &["d1", "d2", "d3"]).await;
    let before = all_keys(&b).await;
    let dir = workdir("lc-purge");
    std::fs::write(
        dir.join("s3-prune.toml"),
        format!(
            "bucket = \"{}\"\nlocalstack = true\n[policy]\nretain = 1\npurge_versions = true\n",
            b.name()
        ),
    )
    .unwrap();
    let lc = ["--via-lifecycle", "--lifecycle-threshold", "1", "--yes"];
    let out = run_in(&dir, &[&["apply"][..], &lc].concat());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("policy.purge_versions in the configuration file purges versions"),
        "{}",
        stderr(&out)
    );

    std::fs::remove_file(dir.join("s3-prune.toml")).unwrap();
    let saved = dir.join("plan.json");
    let out = run_in(
        &dir,
        &[
            "plan",
            b.name(),
            "1",
            "--localstack",
            "--purge-versions",
            "--out",
            saved.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_in(
        &dir,
        &[&["apply", "--plan", saved.to_str().unwrap()][..], &lc].concat(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the saved plan purges versions"),
        "{}",
        stderr(&out)
    );
    assert_eq!(all_keys(&b).await, before, "nothing deleted");
    assert!(
        crate::lifecycle::rules(&b).await.is_empty(),
        "nothing handed to S3"
    );
}
