//! Trust over time (issue 28): `check` says when cleanup is behind its policy — deletions
//! overdue, no run that ended well — and a deployment whose date is unknown is kept.

use crate::common::{actions, assert_stdout_has, json, s3_prune_env, stderr, stdout, Run};
use bucket::testkit::{all_keys, fresh_bucket, put_many};

/// Deployments dated by `deployed-at` metadata (LocalStack cannot backdate LastModified).
async fn dated(b: &bucket::Bucket, deployments: &[(&str, Option<&str>)]) {
    for (id, at) in deployments {
        let meta: Vec<(&str, &str)> = at.iter().map(|at| ("deployed-at", *at)).collect();
        put_many(
            b,
            [format!("{id}/index.html"), format!("{id}/app.js")],
            &meta,
        )
        .await;
    }
}

/// `check BUCKET 1 --date-source meta:deployed-at --localstack` and `extra`.
fn check(bucket: &str, extra: &[&str]) -> std::process::Output {
    Run::new(&["check", bucket, "1"])
        .meta_dated()
        .args(&["--localstack"])
        .args(extra)
        .out()
}

#[tokio::test]
async fn check_exits_1_while_deletions_are_overdue_and_0_once_applied() {
    let b = fresh_bucket("check-overdue").await;
    dated(
        &b,
        &[
            ("march", Some("2026-03-01T00:00:00Z")),
            ("april", Some("2026-04-01T00:00:00Z")),
            ("may", Some("2026-05-01T00:00:00Z")),
        ],
    )
    .await;
    // Keep 1: april has been deletable since may arrived (2026-05-01), march since april did.
    let behind = check(b.name(), &[]);
    assert_eq!(behind.status.code(), Some(1), "{}", stderr(&behind));
    let line = stdout(&behind);
    assert!(
        line.starts_with("BEHIND: ")
            && line.contains("2 deployment(s) deletable for more than 2 d")
            && line.contains("march, since 2026-04-01 00:00 UTC"),
        "{line}"
    );
    let v = json(&check(b.name(), &["--json"]));
    assert_eq!(v["status"], "behind");
    let overdue: Vec<&str> = v["overdue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(overdue, ["march", "april"]);
    assert_eq!(v["overdue"][1]["deletable_since"], "2026-05-01T00:00:00Z");
    // A generous threshold: not overdue yet.
    let later = check(b.name(), &["--overdue-after", "400d"]);
    assert_eq!(later.status.code(), Some(0), "{}", stdout(&later));

    Run::apply(b.name(), 1).meta_dated().ok();
    let ok = check(b.name(), &["--last-run-within", "1d"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    assert!(
        stdout(&ok).starts_with(&format!("OK: {} keeps its policy", b.name())),
        "{}",
        stdout(&ok)
    );
}

#[tokio::test]
async fn check_is_behind_when_no_run_ended_well_within_the_window_and_a_run_with_nothing_to_delete_counts(
) {
    let b = fresh_bucket("check-lastrun").await;
    dated(&b, &[("only", Some("2026-11-01T00:00:00Z"))]).await;
    let none = check(b.name(), &["--last-run-within", "2d"]);
    assert_eq!(none.status.code(), Some(1), "{}", stdout(&none));
    assert!(
        stdout(&none).contains("no successful run within 2 d: none on record"),
        "{}",
        stdout(&none)
    );
    // The nightly job finds nothing due: that is a run that ended well.
    assert_stdout_has(&Run::apply(b.name(), 1).out(), "Nothing to delete.");
    let ok = check(b.name(), &["--last-run-within", "2d", "--json"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    assert_eq!(json(&ok)["last_successes"][0]["source"], "cli");
}

#[tokio::test]
async fn check_exits_2_when_it_cannot_tell_and_bad_spans_name_their_flag() {
    let b = fresh_bucket("check-unknown").await;
    dated(&b, &[("only", Some("2026-11-01T00:00:00Z"))]).await;
    // Nothing listens there: the scan cannot be made, so it cannot tell.
    let out = s3_prune_env(
        &[
            "check",
            b.name(),
            "1",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ],
        &[
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stdout(&out).starts_with("UNKNOWN: "), "{}", stdout(&out));
    let bad = Run::new(&["check", b.name(), "1", "--localstack"])
        .args(&["--overdue-after", "soon"])
        .out();
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--overdue-after"), "{}", stderr(&bad));
}

#[tokio::test]
async fn a_deployment_without_its_meta_date_is_kept_not_ranked_by_a_reset_clock() {
    // Before issue 28, "nometa" was dated by its LastModified (now): it took the one place and
    // "june", the newest real deployment, was deleted.
    let b = fresh_bucket("meta-unknown").await;
    dated(
        &b,
        &[
            ("january", Some("2026-01-01T00:00:00Z")),
            ("nometa", None),
            ("june", Some("2026-06-01T00:00:00Z")),
        ],
    )
    .await;
    let v = Run::plan(b.name(), 1).meta_dated().json();
    assert_eq!(
        actions(&v),
        [("nometa", "keep"), ("june", "keep"), ("january", "delete")]
    );
    assert_eq!(
        v["deployments"][0]["reason"],
        "keep: date unknown (metadata 'deployed-at' absent or not a deploy date)"
    );
    Run::apply(b.name(), 1).meta_dated().ok();
    let left = all_keys(&b).await;
    assert!(
        left.iter().any(|k| k.starts_with("june/"))
            && left.iter().any(|k| k.starts_with("nometa/"))
    );
    assert!(!left.iter().any(|k| k.starts_with("january/")));
}

/// Before: `meta:` was read from the newest object only, so one file touched later without the
/// metadata (robots.txt rewritten in every deployment) left every deployment "date unknown" —
/// pruning stopped, or with `--meta-fallback newest` ranked them in the order the job touched
/// them and the newest build was deleted (reviewer). The deploy's stamp on the oldest counts.
#[tokio::test]
async fn a_meta_date_missing_on_a_file_touched_later_is_read_from_the_deployments_oldest() {
    let b = fresh_bucket("meta-late-file").await;
    // Stamped by the pipeline as it uploaded (hours apart: LocalStack dates every object now).
    let hours_ago = |h: i64| (chrono::Utc::now() - chrono::Duration::hours(h)).to_rfc3339();
    let (d1, d2, d3) = (hours_ago(3), hours_ago(2), hours_ago(1));
    // One whose oldest file was copied from a deployment a month older, metadata and all: its
    // stamp is not this deployment's date, which stays unknown (kept).
    let copied = (chrono::Utc::now() - chrono::Duration::days(30)).to_rfc3339();
    dated(
        &b,
        &[
            ("d1", Some(d1.as_str())),
            ("d2", Some(d2.as_str())),
            ("d3", Some(d3.as_str())),
            ("copied", Some(copied.as_str())),
        ],
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for id in ["d3", "d2", "d1", "copied"] {
        b.put(
            &format!("{id}/robots.txt"),
            b"ok".to_vec(),
            "text/plain",
            &[],
        )
        .await
        .unwrap();
    }
    let v = Run::plan(b.name(), 2).meta_dated().json();
    assert_eq!(
        actions(&v),
        [
            ("copied", "keep"),
            ("d3", "keep"),
            ("d2", "keep"),
            ("d1", "delete")
        ],
        "{v}"
    );
    assert_eq!(v["deployments"][0]["date_origin"], "unknown", "{v}");
}

/// Before: a deployment whose unchanged files were copied in from an earlier build after its
/// own were uploaded (`aws s3 cp` keeps metadata) was dated by the copied file's stamp — its
/// newest object — a month early, and deleted as the oldest while an older build was kept
/// (review). The deploy's own stamp, on its oldest file, dates it.
#[tokio::test]
async fn a_file_copied_in_from_an_earlier_build_does_not_date_the_new_one() {
    let b = fresh_bucket("meta-copied-in").await;
    let ago = |h: i64| (chrono::Utc::now() - chrono::Duration::hours(h)).to_rfc3339();
    let (month, older, own) = (ago(30 * 24), ago(5), ago(1));
    dated(
        &b,
        &[("older", Some(older.as_str())), ("new", Some(own.as_str()))],
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // new's unchanged font, copied from a build of a month ago with its stamp: new's newest file.
    put_many(
        &b,
        ["new/font.woff2".to_string()],
        &[("deployed-at", month.as_str())],
    )
    .await;
    let v = Run::plan(b.name(), 1).meta_dated().json();
    assert_eq!(actions(&v), [("new", "keep"), ("older", "delete")], "{v}");
    // A deployment copied in place whole keeps its (old) stamps' date.
    let c = fresh_bucket("meta-copied-whole").await;
    dated(
        &c,
        &[
            ("moved", Some(month.as_str())),
            ("recent", Some(older.as_str())),
        ],
    )
    .await;
    let v = Run::plan(c.name(), 1).meta_dated().json();
    assert_eq!(
        actions(&v),
        [("recent", "keep"), ("moved", "delete")],
        "{v}"
    );
}

#[tokio::test]
async fn a_meta_fallback_dates_a_copy_in_place_by_when_it_was_first_seen() {
    let b = fresh_bucket("meta-fallback-reset").await;
    for (i, id) in ["d1", "d2", "d3"].iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        }
        let at = chrono::Utc::now().to_rfc3339();
        dated(&b, &[(id, Some(at.as_str()))]).await;
    }
    let plan = || {
        Run::plan(b.name(), 2)
            .meta_dated()
            .args(&["--meta-fallback", "newest"])
            .json()
    };
    plan(); // the bucket remembers the dates it sees
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for key in all_keys(&b).await {
        if key.starts_with("d1/") {
            let body = bucket::testkit::object_body(&b, &key).await.unwrap();
            b.put(&key, body, "text/plain", &[]).await.unwrap();
        }
    }
    let v = plan();
    assert_eq!(
        actions(&v),
        [("d3", "keep"), ("d2", "keep"), ("d1", "delete")],
        "{v}"
    );
}

#[tokio::test]
async fn a_deployment_copied_onto_itself_keeps_its_first_seen_place() {
    // Issue 28's report: d1…d4 uploaded in order, then d1 copied onto itself (same bytes):
    // `plan BUCKET 2` kept d1 and d4 and deleted d3, the second-newest real deployment.
    let b = fresh_bucket("reset-clock").await;
    crate::common::deploy_seconds_apart(&b, &["d1", "d2", "d3", "d4"]).await;
    let plan = || Run::plan(b.name(), 2).json();
    let first = plan(); // the bucket remembers the dates it sees
    assert!(first["warnings"].as_array().unwrap().is_empty(), "{first}");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for key in bucket::testkit::all_keys(&b).await {
        if let Some(rest) = key.strip_prefix("d1/") {
            let body = bucket::testkit::object_body(&b, &key).await.unwrap();
            b.put(&format!("d1/{rest}"), body, "text/plain", &[])
                .await
                .unwrap();
        }
    }
    let v = plan();
    assert_eq!(
        actions(&v),
        [
            ("d4", "keep"),
            ("d3", "keep"),
            ("d2", "delete"),
            ("d1", "delete")
        ]
    );
    assert_eq!(v["deployments"][3]["date_origin"], "remembered");
    assert!(
        v["warnings"][0]
            .as_str()
            .unwrap()
            .starts_with("dates reset (copy or re-encryption?) for 1 deployment(s)"),
        "{v}"
    );
}

/// A dates file that is not one (damaged, or written by hand) stops the plan, naming it, and is
/// left as it is: planning on listed dates could rank a copied deployment as the newest, and
/// writing the file afresh would lose every first-seen date it holds.
#[tokio::test]
async fn a_damaged_dates_file_stops_the_plan_and_is_left_as_it_is() {
    let b = fresh_bucket("damaged-dates").await;
    crate::common::deploy_seconds_apart(&b, &["d1", "d2", "d3"]).await;
    let damaged = b"{\"d1\": {\"newest\": ".to_vec();
    b.write_state("dates.json", damaged.clone()).await.unwrap();
    let out = crate::common::s3_prune(&["apply", b.name(), "1", "--localstack", "--yes"]);
    assert!(!out.status.success(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains(".s3-prune/dates.json") && err.contains("not a dates file"),
        "{err}"
    );
    assert_eq!(
        all_keys(&b)
            .await
            .iter()
            .filter(|k| !k.starts_with(".s3-prune/"))
            .count(),
        6,
        "nothing deleted"
    );
    let left = bucket::testkit::object_body(&b, ".s3-prune/dates.json")
        .await
        .unwrap();
    assert_eq!(left, damaged, "the file is left as it was");
}

#[tokio::test]
async fn a_deployment_redeployed_in_place_with_new_content_is_dated_anew() {
    // The other side of the test above: new content in an old folder (a rollback published
    // again, a CI job re-run) is a new deployment and ranks by its new date, not by when the
    // folder was first seen.
    let b = fresh_bucket("redeployed").await;
    crate::common::deploy_seconds_apart(&b, &["d1", "d2", "d3", "d4"]).await;
    let plan = || Run::plan(b.name(), 2).json();
    plan(); // the bucket remembers the dates it sees
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for key in bucket::testkit::all_keys(&b).await {
        if key.starts_with("d1/") {
            b.put(&key, b"a new build".to_vec(), "text/plain", &[])
                .await
                .unwrap();
        }
    }
    let v = plan();
    assert_eq!(
        actions(&v),
        [
            ("d1", "keep"),
            ("d4", "keep"),
            ("d3", "delete"),
            ("d2", "delete")
        ],
        "{v}"
    );
    assert_eq!(v["deployments"][0]["date_origin"], "newest", "{v}");
    assert!(v["warnings"].as_array().unwrap().is_empty(), "{v}");
}

/// Before: the apply's scan ran before it deleted, so the dates file still held d1; the same
/// build published again into d1 before the next scan took d1's old first-seen date ("dates
/// reset … copy?"), and the next run deleted it again (reviewer).
#[tokio::test]
async fn a_deployment_deleted_whole_and_published_again_is_a_new_one() {
    let b = fresh_bucket("republished").await;
    crate::common::deploy_seconds_apart(&b, &["d1", "d2", "d3", "d4"]).await;
    let d1: Vec<String> = (all_keys(&b).await.into_iter())
        .filter(|k| k.starts_with("d1/"))
        .collect();
    Run::apply(b.name(), 3).json();
    assert!(all_keys(&b).await.iter().all(|k| !k.starts_with("d1/")));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // The same files again (the same keys and sizes: a rollback of the same build).
    put_many(&b, d1, &[]).await;
    let v = Run::plan(b.name(), 3).json();
    assert_eq!(
        actions(&v),
        [
            ("d1", "keep"),
            ("d4", "keep"),
            ("d3", "keep"),
            ("d2", "delete")
        ],
        "{v}"
    );
    assert!(v["warnings"].as_array().unwrap().is_empty(), "{v}");
}

/// A reviewer's run of an earlier form of the fix above, which forgot every doomed deployment's
/// date as the run started: d1, copied in place and then handed to S3 lifecycle (not deleted
/// by the run), lost its first-seen date, ranked newest on its reset clock, had its expiry
/// withdrawn, and d2, a real build, was planned for deletion in its place. Only deployments
/// deleted whole are forgotten.
#[tokio::test]
async fn a_deployment_the_run_did_not_delete_keeps_its_first_seen_date() {
    let b = fresh_bucket("kept-dates").await;
    crate::common::deploy_seconds_apart(&b, &["d1", "d2", "d3"]).await;
    Run::plan(b.name(), 2).json(); // the bucket remembers the dates it sees
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for key in all_keys(&b).await {
        if key.starts_with("d1/") {
            let body = bucket::testkit::object_body(&b, &key).await.unwrap();
            b.put(&key, body, "text/plain", &[]).await.unwrap();
        }
    }
    Run::apply(b.name(), 2)
        .args(&["--via-lifecycle", "--lifecycle-threshold", "0"])
        .json();
    let dates = b.read_state("dates.json").await.unwrap().unwrap();
    let dates: serde_json::Value = serde_json::from_slice(&dates).unwrap();
    assert!(dates.get("d1").is_some(), "{dates}");
    let v = Run::plan(b.name(), 2).json();
    assert_eq!(
        actions(&v),
        [("d3", "keep"), ("d2", "keep"), ("d1", "delete")],
        "{v}"
    );
}

#[tokio::test]
async fn a_job_that_cannot_date_its_deployments_is_behind_and_notes_no_success() {
    // Before: a mistyped date key ("deployed_at") left every deployment "keep: date unknown";
    // the runs ended "Nothing to delete.", noted a success, and `check` said OK for ever.
    // Uploaded a second apart: which one the sentence names must not depend on upload times.
    let b = fresh_bucket("check-undated").await;
    for (id, at) in [
        ("march", "2026-03-01T00:00:00Z"),
        ("april", "2026-04-01T00:00:00Z"),
        ("may", "2026-05-01T00:00:00Z"),
    ] {
        dated(&b, &[(id, Some(at))]).await;
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    let typo = ["--date-source", "meta:deployed_at"];
    assert_stdout_has(
        &Run::apply(b.name(), 1).args(&typo).out(),
        "Nothing to delete.",
    );
    assert!(
        !all_keys(&b)
            .await
            .iter()
            .any(|k| k.contains("last-success")),
        "a run that ranks nothing is no success"
    );
    let out = Run::new(&["check", b.name(), "1", "--localstack"])
        .args(&typo)
        .out();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains(
            "3 deployment(s) cannot be ranked, so are never deleted: the first by name, april, has no readable 'deployed_at' date"
        ),
        "{}",
        stdout(&out)
    );
}

#[tokio::test]
async fn a_mistyped_prefix_is_behind_and_gets_no_state_folder() {
    // Before: `apply --prefix site/` on a bucket whose deployments are at the root said
    // "Nothing to delete.", noted a success under site/.s3-prune/ (check: OK) — and that
    // state folder then stopped every run at the root ("'site/' holds s3-prune's own state").
    let b = fresh_bucket("check-noprefix").await;
    dated(
        &b,
        &[
            ("march", Some("2026-03-01T00:00:00Z")),
            ("april", Some("2026-04-01T00:00:00Z")),
        ],
    )
    .await;
    Run::apply(b.name(), 1).args(&["--prefix", "site/"]).ok();
    assert!(
        !all_keys(&b).await.iter().any(|k| k.starts_with("site/")),
        "nothing written under the mistyped prefix"
    );
    let out = check(b.name(), &["--prefix", "site/"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("no deployments found: is the bucket or --prefix right?"),
        "{}",
        stdout(&out)
    );
    // The root's own job still runs.
    Run::apply(b.name(), 1).meta_dated().ok();
    assert!(!all_keys(&b).await.iter().any(|k| k.starts_with("march/")));
}

/// Before: a run that deleted what it could but whose plan could not rank a deployment (its
/// date unknown) noted no success, yet its finished journal record stood in for one: `check`'s
/// last successes, the dashboard's overview and `/metrics` showed a fresh success every night
/// while undated deployments piled up (review).
#[tokio::test]
async fn a_finished_run_that_could_not_rank_every_deployment_is_no_success() {
    let b = fresh_bucket("check-short-run").await;
    let ago = |d: i64| (chrono::Utc::now() - chrono::Duration::days(d)).to_rfc3339();
    let (old, new) = (ago(3), ago(1));
    dated(
        &b,
        &[
            ("old", Some(old.as_str())),
            ("new", Some(new.as_str())),
            ("undated", None),
        ],
    )
    .await;
    Run::apply(b.name(), 1).meta_dated().ok();
    assert!(!all_keys(&b).await.iter().any(|k| k.starts_with("old/")));
    let out = check(b.name(), &["--json"]);
    let v = json(&out);
    assert_eq!(v["status"], "behind", "{v}");
    assert_eq!(v["last_successes"], serde_json::json!([]), "{v}");
}
