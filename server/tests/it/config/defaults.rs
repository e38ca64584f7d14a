//! The file sets the defaults and flags win: its bucket, retain, guards and pins hold for plan
//! and apply, and its `policy.file` for plan and the dashboard alike (a RETAIN flag replaces it).

use super::*;

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

/// The names of the rules the page gets from `scan_bucket` (the server's policy it plans
/// with); `None` without rules.
fn scan_rules(s: &Served) -> Option<Vec<String>> {
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
    r.scan().rules.map(|rules| {
        rules
            .as_slice()
            .iter()
            .map(|r| r.name.to_string())
            .collect()
    })
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
    let rules = scan_rules(&s);
    assert_eq!(
        rules.as_deref().and_then(|r| r.first()).map(String::as_str),
        Some("previews"),
        "the page starts without the file's rules: {rules:?}"
    );
    drop(s);
    // --policy on the command line wins over the file's
    std::fs::write(
        dir.join("other.toml"),
        "[[rule]]\nname = \"everything\"\nmatch = \"*\"\nretain = 2\n",
    )
    .unwrap();
    let s = serve_in(&dir, &["--policy", "other.toml"]);
    assert_eq!(scan_rules(&s), Some(vec!["everything".to_string()]));
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
    assert_eq!(scan_rules(&s), None);
}
