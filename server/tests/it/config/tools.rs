//! The conveniences of an installed tool: `--version` names the commit, completions and a man
//! page are printed, and colour is used only on a terminal, and never with NO_COLOR.

use super::*;

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
