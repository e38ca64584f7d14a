//! `--live-pointer KEY`: the deployment it named before is kept for the live grace — from the
//! pointer's versions, or from what scans saw (`live-seen.json`) — and a record that cannot be
//! read stops the plan.

use super::{eight_deployments, plan_with_pointer, point, reason_of};
use crate::common::{deploy_seconds_apart, json, reasons, s3_prune, stderr, stdout, Run};
use bucket::testkit::{all_keys, fresh_bucket};

#[tokio::test]
async fn the_previous_live_deployment_is_kept_for_the_grace_from_the_pointers_versions() {
    // Issue 28: before, d3 was deleted the minute the pointer moved from d3 to d8.
    let b = fresh_bucket("live-grace-v").await;
    b.enable_versioning().await.unwrap();
    eight_deployments(&b).await;
    point(&b, "d3").await;
    point(&b, "d8").await;
    let r = plan_with_pointer(b.name(), &[]);
    assert!(
        reason_of(&r, "d3").starts_with("keep: was live until "),
        "{r:?}"
    );
    assert_eq!(reason_of(&r, "d8"), "keep: live");
    assert_eq!(reason_of(&r, "d2"), "delete: rank 7 > 2");
    // After the grace (0 here) it goes like any other.
    let r = plan_with_pointer(b.name(), &["--live-grace", "0s"]);
    assert_eq!(reason_of(&r, "d3"), "delete: rank 6 > 2");
}

#[tokio::test]
async fn a_live_grace_given_beside_a_saved_plan_keeps_the_previous_live_or_refuses() {
    // Before: `apply --plan FILE --live-grace 48h` was accepted and ignored, and the deployment
    // live until a moment ago (the plan had been made with no grace) was deleted, exit 0.
    let b = fresh_bucket("live-grace-saved").await;
    b.enable_versioning().await.unwrap();
    eight_deployments(&b).await;
    point(&b, "d3").await;
    point(&b, "d8").await;
    let file = std::env::temp_dir().join(format!("{}.plan.json", b.name()));
    let f = file.to_str().unwrap();
    Run::plan(b.name(), 2)
        .args(&[
            "--live-pointer",
            "current",
            "--live-grace",
            "0s",
            "--out",
            f,
        ])
        .ok();
    let before = all_keys(&b).await.len();
    let apply = |extra: &[&str]| {
        let mut args = vec!["apply", "--plan", f, "--localstack", "--yes"];
        args.extend(extra);
        s3_prune(&args)
    };
    // A longer grace narrows the plan: d3 is kept now, so the saved plan no longer holds.
    let out = apply(&["--live-grace", "48h"]);
    assert!(!out.status.success(), "applied: {}", stdout(&out));
    assert!(
        stderr(&out).contains("No longer to delete: d3"),
        "{}",
        stderr(&out)
    );
    // Dating unknown dates differently is not the saved plan's: refused by name.
    let out = apply(&["--meta-fallback", "newest"]);
    assert!(!out.status.success(), "applied: {}", stdout(&out));
    assert!(
        stderr(&out).contains("--meta-fallback conflicts with the saved plan"),
        "{}",
        stderr(&out)
    );
    assert_eq!(all_keys(&b).await.len(), before, "something was deleted");
    // The same grace as saved (0) changes nothing: the plan applies.
    apply(&["--live-grace", "0s"]);
    let keys = all_keys(&b).await;
    assert!(!keys.iter().any(|k| k.starts_with("d3/")), "{keys:?}");
}

#[tokio::test]
async fn on_an_unversioned_bucket_the_grace_comes_from_what_scans_saw() {
    let b = fresh_bucket("live-grace-seen").await;
    eight_deployments(&b).await;
    point(&b, "d3").await;
    // A scan sees d3 live (and records it) …
    let r = plan_with_pointer(b.name(), &[]);
    assert_eq!(reason_of(&r, "d3"), "keep: live");
    // … the pointer moves on; the next scan records the change and keeps d3 for the grace.
    point(&b, "d8").await;
    let r = plan_with_pointer(b.name(), &[]);
    assert!(
        reason_of(&r, "d3").starts_with("keep: was live until "),
        "{r:?}"
    );
    Run::apply(b.name(), 2)
        .args(&["--live-pointer", "current"])
        .ok();

    let keys = all_keys(&b).await;
    assert!(keys.iter().any(|k| k.starts_with("d3/")), "{keys:?}");
    assert!(!keys.iter().any(|k| k.starts_with("d2/")), "{keys:?}");
    let r = plan_with_pointer(b.name(), &["--live-grace", "0s"]);
    assert_eq!(reason_of(&r, "d3"), "delete: rank 3 > 2");
}

#[tokio::test]
async fn a_pointer_rewritten_unchanged_many_times_still_keeps_the_one_before_for_the_grace() {
    // Before: only the newest five versions were read (then at most 40); 41 rewrites of "d8"
    // used them all, and d3, live until d8 replaced it, was planned for deletion, no warning.
    let b = fresh_bucket("live-grace-rewrites").await;
    b.enable_versioning().await.unwrap();
    eight_deployments(&b).await;
    point(&b, "d3").await;
    for _ in 0..41 {
        point(&b, "d8").await;
    }
    let r = plan_with_pointer(b.name(), &[]);
    assert!(
        reason_of(&r, "d3").starts_with("keep: was live until "),
        "{r:?}"
    );
}

#[tokio::test]
async fn every_deployment_the_pointer_named_inside_the_grace_keeps_it_however_many_moves() {
    // Before: the versions were read until more than five deployments were known: after 14
    // moves within a second, e00-e03 — live seconds before — were planned for deletion.
    let b = fresh_bucket("live-grace-moves").await;
    b.enable_versioning().await.unwrap();
    let ids: Vec<String> = (0..15).map(|n| format!("e{n:02}")).collect();
    bucket::testkit::put_many(&b, ids.iter().map(|id| format!("{id}/index.html")), &[]).await;
    for id in &ids {
        point(&b, id).await;
    }
    let plan = Run::plan(b.name(), 1)
        .args(&["--live-pointer", "current"])
        .json();
    let r = reasons(&plan);
    // All put at once: one of them is the newest by its date, every other is graced.
    let graced = r
        .iter()
        .filter(|(_, why)| why.starts_with("keep: was live until "));
    assert_eq!(graced.count(), 13, "{r:?}");
    assert!(crate::common::to_delete(&plan).is_empty(), "{r:?}");
    assert!(
        !plan["warnings"].to_string().contains("not all read"),
        "{plan}"
    );
}

#[tokio::test]
async fn versions_inside_the_grace_left_unread_are_a_warning_in_the_plan() {
    // More changes than are read: said in the plan, never silently cut.
    let b = fresh_bucket("live-grace-cut").await;
    b.enable_versioning().await.unwrap();
    deploy_seconds_apart(&b, &["d1", "d2"]).await;
    for n in 0..102 {
        point(&b, if n % 2 == 0 { "d2" } else { "d1" }).await;
    }
    let plan = Run::plan(b.name(), 1)
        .args(&["--live-pointer", "current"])
        .json();
    assert!(
        plan["warnings"]
            .to_string()
            .contains("versions inside the live grace were not all read (101 changes"),
        "{plan}"
    );
    // Outside a grace of 0 nothing is left unread: no warning.
    let plan = Run::plan(b.name(), 1)
        .args(&["--live-pointer", "current", "--live-grace", "0"])
        .json();
    assert!(
        !plan["warnings"].to_string().contains("not all read"),
        "{plan}"
    );
}

#[tokio::test]
async fn a_damaged_live_record_stops_the_plan_and_is_left_as_it_is() {
    // Before: it was read as empty and overwritten, and d3 — live until a moment ago — lost
    // its grace without a word.
    let b = fresh_bucket("live-seen-damaged").await;
    eight_deployments(&b).await;
    point(&b, "d3").await;
    plan_with_pointer(b.name(), &[]);
    let damaged = br#"{"pointer":"current","current":"d3","previous":[],"x":"#.to_vec();
    b.write_state("live-seen.json", damaged.clone())
        .await
        .unwrap();
    point(&b, "d8").await;
    let out = Run::plan(b.name(), 2)
        .args(&["--live-pointer", "current"])
        .out();
    assert_ne!(out.status.code(), Some(0));
    let err = crate::common::stderr(&out);
    assert!(
        err.contains(".s3-prune/live-seen.json")
            && err.contains("remove it to start recording afresh"),
        "{err}"
    );
    assert_eq!(
        b.read_state("live-seen.json").await.unwrap(),
        Some(damaged),
        "left as it was"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pointer_versions_that_cannot_be_listed_are_a_warning_in_the_plan() {
    // Before: a line on stderr only; the plan (and its --json) said nothing, though the grace
    // then knew only the changes scans recorded — a pointer moved twice between two scans left
    // its middle deployment without one.
    let b = fresh_bucket("live-versions-denied").await;
    b.enable_versioning().await.unwrap();
    eight_deployments(&b).await;
    point(&b, "d3").await;
    point(&b, "d8").await;
    let (url, _proxy) = crate::common::endpoint(|p| p.deny_version_list = true).await;
    let out = Run::plan(b.name(), 2)
        .args(&["--live-pointer", "current", "--json"])
        .env("AWS_ENDPOINT_URL", &url)
        .out();
    assert!(out.status.success(), "{}", stderr(&out));
    let plan = json(&out);
    assert!(
        plan["warnings"]
            .to_string()
            .contains("the live pointer's earlier versions could not be listed"),
        "{plan}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_record_that_cannot_be_read_stops_the_plan() {
    // Before: a 500 (or a 403) on GET live-seen.json was a warning on stderr, the grace was
    // dropped, and d3 — live until a moment ago, the rollback target — was planned for
    // deletion like any other (an apply deleted it, exit 0).
    let b = fresh_bucket("live-seen-unreadable").await;
    eight_deployments(&b).await;
    point(&b, "d3").await;
    plan_with_pointer(b.name(), &[]);
    point(&b, "d8").await;
    let (url, _proxy) = crate::common::endpoint(|p| {
        p.canned = vec![crate::proxy::Canned::error(
            "live-seen.json",
            500,
            "InternalError",
            "We encountered an internal error. Please try again.",
        )]
    })
    .await;
    let out = Run::plan(b.name(), 2)
        .args(&["--live-pointer", "current", "--json"])
        .env("AWS_ENDPOINT_URL", &url)
        .out();
    assert_ne!(out.status.code(), Some(0), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("live-seen.json"), "{err}");
    assert!(
        !stdout(&out).contains("delete"),
        "no plan: {}",
        stdout(&out)
    );
    assert_eq!(
        reason_of(&plan_with_pointer(b.name(), &[]), "d3").get(..20),
        Some("keep: was live until"),
        "the grace holds once it can be read"
    );
}

#[tokio::test]
async fn a_pointer_read_under_a_mistyped_prefix_leaves_no_state_folder() {
    // Before: `plan --prefix sites/` (the deployments are at the root) recorded the pointer in
    // sites/.s3-prune/live-seen.json, and every run at the root then failed ("'sites/' holds
    // s3-prune's own state folder").
    let b = fresh_bucket("live-seen-typo").await;
    eight_deployments(&b).await;
    point(&b, "d8").await;
    let _ = Run::plan(b.name(), 2)
        .args(&["--prefix", "sites/", "--live-pointer", "current"])
        .out();
    let keys = all_keys(&b).await;
    assert!(
        !keys.iter().any(|k| k.starts_with("sites/.s3-prune")),
        "{keys:?}"
    );
    assert_eq!(
        reason_of(&plan_with_pointer(b.name(), &[]), "d8"),
        "keep: live"
    );
}

#[tokio::test]
async fn a_live_record_kept_for_another_pointer_keeps_what_it_remembers() {
    // Before: a live-seen.json written for old.txt was reset by a plan with --live-pointer
    // current: d2, live an hour ago by it, lost its grace and was planned for deletion, and the
    // record was overwritten, no message.
    let b = fresh_bucket("live-seen-other").await;
    eight_deployments(&b).await;
    point(&b, "d8").await;
    let hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let record = serde_json::json!({
        "pointer": "old.txt",
        "current": "d4",
        "previous": [{"id": "d2", "until": hour_ago}],
    });
    b.write_state("live-seen.json", record.to_string().into_bytes())
        .await
        .unwrap();
    let r = plan_with_pointer(b.name(), &[]);
    assert!(
        reason_of(&r, "d2").starts_with("keep: was live until "),
        "{r:?}"
    );
    assert!(
        reason_of(&r, "d4").starts_with("keep: was live until "),
        "{r:?}"
    );
    let seen = b.read_state("live-seen.json").await.unwrap().unwrap();
    let seen: serde_json::Value = serde_json::from_slice(&seen).unwrap();
    assert_eq!(seen["pointer"], "current", "{seen}");
    assert!(seen["previous"].to_string().contains("\"d2\""), "{seen}");
}

#[test]
fn a_live_grace_without_a_pointer_is_refused_naming_settings_that_exist() {
    // Before: the refusal said "(or live_grace in the config file)", a key the file does not
    // have (an unknown key stops every command).
    let out = Run::plan("no-such-bucket", 2)
        .args(&["--live-grace", "48h"])
        .fails_with("live_pointer under [guards] in the config file");
    assert!(
        !stderr(&out).contains("live_grace in the config"),
        "{}",
        stderr(&out)
    );
}

/// Before: `live-seen.json` was written plainly over what the scan had read, so a scan
/// that read it, then wrote after another scan recorded a newer change, laid its own over
/// theirs: the deployment live in between was forgotten and lost its grace (review). Now the
/// write is conditional, and a refused one is laid on the file read again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_scans_recording_the_pointer_at_once_lose_neither_change() {
    let b = fresh_bucket("live-seen-race").await;
    eight_deployments(&b).await;
    point(&b, "d3").await;
    plan_with_pointer(b.name(), &[]);
    point(&b, "d4").await;
    // The first scan's write of the record held at the proxy...
    let (url, proxy) = crate::common::endpoint(|p| {
        p.delay_put = Some(("live-seen.json".into(), std::time::Duration::from_secs(3)))
    })
    .await;
    let name = b.name().to_string();
    let first = std::thread::spawn(move || {
        Run::plan(&name, 2)
            .args(&["--live-pointer", "current"])
            .env("AWS_ENDPOINT_URL", &url)
            .out()
    });
    let waited = std::time::Instant::now();
    while proxy
        .stats
        .puts_delayed
        .load(std::sync::atomic::Ordering::SeqCst)
        == 0
    {
        assert!(
            waited.elapsed().as_secs() < 30,
            "the first scan never wrote its record"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // ...while the pointer moves on and a second scan records that.
    point(&b, "d5").await;
    plan_with_pointer(b.name(), &[]);
    let first = first.join().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    point(&b, "d6").await;
    let r = plan_with_pointer(b.name(), &[]);
    for was_live in ["d3", "d4", "d5"] {
        assert!(
            reason_of(&r, was_live).starts_with("keep: was live until "),
            "{was_live}: {r:?}"
        );
    }
}
