//! Every reader reads the bucket's journal: `history` lists the runs of every machine, and a
//! journal kept in an audit bucket is where every reader looks.

use super::*;

/// `apply SITE 1 --yes --journal AT` and `extra`, asserted to succeed.
fn apply_journalled(site: &Bucket, at: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "apply",
        site.name(),
        "1",
        "--localstack",
        "--yes",
        "--journal",
        at,
    ];
    args.extend(extra);
    let out = s3_prune(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_lists_the_runs_of_every_machine_from_the_bucket() {
    let b = fresh_bucket("history").await;
    deploy(&b, &["h1", "h2", "h3"], 2).await;
    let out = s3_prune(&["apply", b.name(), "2", "--localstack", "--yes", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = s3_prune(&["apply", b.name(), "1", "--localstack", "--yes", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A foreign object under runs/ is listed as unreadable, never fatal.
    b.put(
        ".s3-prune/runs/not-a-run/x",
        b"?".to_vec(),
        "text/plain",
        &[],
    )
    .await
    .unwrap();

    // So is an object lying directly under runs/ (before: not named at all).
    b.put(
        ".s3-prune/runs/stray.json",
        b"{}".to_vec(),
        "application/json",
        &[],
    )
    .await
    .unwrap();

    let out = history_elsewhere(&b);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("not-a-run"), "{}", stderr(&out));
    assert!(stderr(&out).contains("runs/stray.json"), "{}", stderr(&out));
    let runs = json(&out);
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(
        runs[0]["deleted_deployments"],
        serde_json::json!(["h2"]),
        "newest first"
    );
    assert_eq!(runs[1]["deleted_deployments"], serde_json::json!(["h1"]));
    assert!(runs
        .iter()
        .all(|r| r["status"] == "finished" && r["source"] == "cli"));
    assert!(runs[0]["id"].as_str().unwrap() > runs[1]["id"].as_str().unwrap());
    let text = stdout(&s3_prune(&["history", b.name(), "--localstack"]));
    assert!(text.contains("finished") && text.contains("h2"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_kept_in_an_audit_bucket_is_where_every_reader_looks() {
    let site = fresh_bucket("journal-site").await;
    site.enable_versioning().await.unwrap();
    deploy(&site, &["a1", "a2", "a3"], 3).await;
    let before = all_keys(&site).await;
    let audit = fresh_bucket("journal-audit").await;
    let at = format!("s3://{}/s3-prune/", audit.name());
    let out = apply_journalled(&site, &at, &["--json"]);
    let run = json(&out)["audit"]["run"].as_str().unwrap().to_string();
    assert!(
        keys_under(&site, ".s3-prune/runs/").await.is_empty(),
        "nothing of the run is beside the deployments"
    );
    let parts = keys_under(&audit, &format!("s3-prune/{}/runs/{run}/", site.name())).await;
    assert!(
        parts.iter().any(|k| k.ends_with("/start.json"))
            && parts.iter().any(|k| k.ends_with("/end.json")),
        "{parts:?}"
    );
    // Another machine reads it there: history and restore, given the same place.
    let db = elsewhere();
    let db = db.to_str().unwrap();
    let with_journal = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--localstack", "--audit-db", db, "--journal", &at]);
        s3_prune(&all)
    };
    let runs = json(&with_journal(&["history", site.name(), "--json"]));
    assert_eq!(runs[0]["id"], run.as_str(), "{runs}");
    let out = with_journal(&["restore", site.name(), "--run", &run]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert_eq!(
        all_keys(&site).await,
        before,
        "restored from the audit journal"
    );
    // A journal inside the pruned prefix would be taken for a deployment: refused.
    let inside = format!("s3://{}/audit/", site.name());
    let out = s3_prune(&[
        "plan",
        site.name(),
        "1",
        "--localstack",
        "--journal",
        &inside,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("a journal inside the prefix"),
        "{}",
        stderr(&out)
    );
    // So is one whose runs land inside it although its path does not: runs go under
    // PATH/BUCKET/PREFIX, here BUCKET/BUCKET/runs/ with the prefix BUCKET/.
    let prefix = format!("{}/", site.name());
    let root = format!("s3://{}/", site.name());
    let out = s3_prune(&[
        "plan",
        site.name(),
        "1",
        "--localstack",
        "--prefix",
        &prefix,
        "--journal",
        &root,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("a journal inside the prefix"),
        "{}",
        stderr(&out)
    );
    // Without it, the bucket's own journal has no such run.
    let out = s3_prune(&[
        "history",
        site.name(),
        "--localstack",
        "--json",
        "--audit-db",
        db,
    ]);
    assert!(
        json(&out).as_array().unwrap().is_empty(),
        "{}",
        stdout(&out)
    );
}

/// A bucket that keeps another's journal (`--journal s3://THIS/audit/`) and is pruned itself:
/// the journal's folder is no deployment. Before, `audit` was ranked like any folder and, once
/// enough newer deployments came, planned for deletion — the other bucket's whole history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_kept_in_a_bucket_that_is_pruned_is_never_a_deployment_there() {
    let site = fresh_bucket("journal-of").await;
    deploy(&site, &["a1", "a2", "a3"], 1).await;
    let keeper = fresh_bucket("journal-keeper").await;
    let at = format!("s3://{}/audit/", keeper.name());
    apply_journalled(&site, &at, &["--json"]);
    assert!(!keys_under(&keeper, "audit/").await.is_empty());
    deploy(&keeper, &["n1", "n2", "n3"], 1).await;
    let out = s3_prune(&["plan", keeper.name(), "2", "--localstack", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let plan = json(&out);
    let ids: Vec<&str> = plan["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 3, "{plan}");
    assert!(!ids.contains(&"audit"), "{plan}");
    // A folder holding the journal and anything else is refused: nothing planned.
    keeper
        .put("audit/notes.txt", b"x".to_vec(), "text/plain", &[])
        .await
        .unwrap();
    let out = s3_prune(&["plan", keeper.name(), "2", "--localstack", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("holds a run journal"),
        "{}",
        stderr(&out)
    );
}

/// The commands a message suggests name the journal and prefix the run was made with. Before,
/// `apply … --journal s3://AUDIT/…` said "on record in the bucket (`s3-prune history SITE`)",
/// which answered "No runs on record", and `restore --run ID` without `--journal` said "not in
/// the audit log", naming no place and no flag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commands_a_message_suggests_name_the_journal_and_prefix_of_the_run() {
    let site = fresh_bucket("hint-site").await;
    site.enable_versioning().await.unwrap();
    deploy(&site, &["a1", "a2"], 1).await;
    let audit = fresh_bucket("hint-audit").await;
    let at = format!("s3://{}/s3-prune/", audit.name());
    let out = apply_journalled(&site, &at, &[]);
    let said = stdout(&out);
    crate::common::assert_contains(
        &said,
        &format!("s3-prune history {} --journal {at}", site.name()),
    );
    let run = keys_under(&audit, "s3-prune/").await[0]
        .split('/')
        .nth(3)
        .unwrap()
        .to_string();
    let out = s3_prune(&[
        "restore",
        site.name(),
        "--run",
        &run,
        "--localstack",
        "--yes",
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    crate::common::assert_contains(
        &err,
        &format!("is not in s3://{}/.s3-prune/runs/", site.name()),
    );
    crate::common::assert_contains(&err, "--journal");
}

/// Before: a run journalled elsewhere (`--journal`), restored by its record number without
/// that `--journal`, was said to be "not in the audit log" — though the log holds it — with
/// no word of the journal it is in (review).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_journalled_elsewhere_restored_without_its_journal_names_where_to_look() {
    let site = fresh_bucket("journal-number").await;
    site.enable_versioning().await.unwrap();
    deploy(&site, &["n1", "n2"], 2).await;
    let audit = fresh_bucket("journal-number-audit").await;
    let at = format!("s3://{}/runs-of/", audit.name());
    let out = apply_journalled(&site, &at, &["--json"]);
    let number = json(&out)["audit"]["id"].as_i64().expect("a record number");
    let out = s3_prune(&[
        "restore",
        site.name(),
        "--run",
        &number.to_string(),
        "--localstack",
        "--yes",
    ]);
    assert!(!out.status.success(), "{}", stdout(&out));
    let said = stderr(&out);
    assert!(
        said.contains(&format!("run {number} (")) && said.contains("--journal it ran with"),
        "{said}"
    );
}
