//! Ages by S3's clock, not this machine's: S3 wrote every `Last-Modified` and hands out the
//! time in each answer's `Date`; a laptop whose clock runs days off must not age a deployment
//! past `--min-retain-days`, nor date a change of the live pointer days off.

use crate::common::{endpoint, json, reasons, stderr, Run};
use bucket::testkit::{fresh_bucket, put_many};

/// `deployed-at` stamped `days` ago by this machine's (correct) clock.
fn stamped(days: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339()
}

/// Before: a machine whose clock ran ahead aged deployments by it — 40 days ahead, a deployment
/// uploaded seconds before was "40 d > 30 d" and `apply --min-retain-days 30` deleted it
/// (reviewer, under faketime). Here S3's answers say its clock is 10 days behind this
/// machine's: by S3's clock d1 and d2 are 25 and 22 days old, and stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_are_aged_by_s3s_clock_not_this_machines() {
    let b = fresh_bucket("clock-ahead").await;
    for (id, days) in [("d1", 35), ("d2", 32), ("d3", 1)] {
        let at = stamped(days);
        put_many(&b, [format!("{id}/index.html")], &[("deployed-at", &at)]).await;
    }
    let (url, _proxy) = endpoint(|p| p.shift_date = Some(chrono::Duration::days(-10))).await;
    let out = Run::plan(b.name(), 1)
        .args(&[
            "--min-retain-days",
            "30",
            "--date-source",
            "meta:deployed-at",
        ])
        .args(&["--json"])
        .env("AWS_ENDPOINT_URL", &url)
        .out();
    assert!(out.status.success(), "{}", stderr(&out));
    let r = reasons(&json(&out));
    for id in ["d1", "d2"] {
        let (_, why) = r.iter().find(|(d, _)| d == id).unwrap();
        assert!(why.starts_with("keep: "), "{id}: {why} ({r:?})");
    }
    assert!(
        stderr(&out).contains("this machine's clock is 10 d ahead of S3's"),
        "{}",
        stderr(&out)
    );
}

/// Before: the change of the live pointer was dated by the clock of whichever machine saw it
/// first — a laptop two days slow wrote "until" two days back, and the next run, on a right
/// clock, deleted the rollback target at once (reviewer). Dated by S3's clock now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_of_the_live_pointer_is_dated_by_s3s_clock() {
    let b = fresh_bucket("clock-live").await;
    crate::common::deploy_seconds_apart(&b, &["d1", "d2", "d3"]).await;
    let point = |id: &'static str| {
        let b = b.clone();
        async move {
            b.put("current", id.as_bytes().to_vec(), "text/plain", &[])
                .await
                .unwrap()
        }
    };
    let (url, _proxy) = endpoint(|p| p.shift_date = Some(chrono::Duration::days(2))).await;
    let plan = || {
        Run::plan(b.name(), 1)
            .args(&["--live-pointer", "current", "--json"])
            .env("AWS_ENDPOINT_URL", &url)
            .out()
    };
    point("d2").await;
    assert!(plan().status.success());
    point("d3").await;
    let out = plan();
    assert!(out.status.success(), "{}", stderr(&out));
    let seen = b
        .read_state("live-seen.json")
        .await
        .unwrap()
        .expect("the change recorded");
    let seen: serde_json::Value = serde_json::from_slice(&seen).unwrap();
    let until: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(seen["previous"][0]["until"].clone()).unwrap();
    let s3_now = chrono::Utc::now() + chrono::Duration::days(2);
    assert!(
        (until - s3_now).num_minutes().abs() < 5,
        "until {until}, S3's now {s3_now}: {seen}"
    );
}

/// A reviewer's run: with plans at S3's clock, `check` judged the apply's note of success,
/// stamped by this machine's clock, a day in the future — "BEHIND: no successful run within
/// 2 h … (future ago)" right after a successful apply. The note is stamped by S3's clock too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_successful_apply_counts_for_check_on_a_machine_whose_clock_is_off() {
    let b = fresh_bucket("clock-check").await;
    crate::common::deploy_seconds_apart(&b, &["d1", "d2"]).await;
    let (url, _proxy) = endpoint(|p| p.shift_date = Some(chrono::Duration::days(-1))).await;
    let out = Run::apply(b.name(), 1).env("AWS_ENDPOINT_URL", &url).out();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = Run::new(&["check", b.name(), "1", "--last-run-within", "2h"])
        .args(&["--localstack"])
        .env("AWS_ENDPOINT_URL", &url)
        .out();
    assert!(
        out.status.success(),
        "{}{}",
        crate::common::stdout(&out),
        stderr(&out)
    );
}

/// Before: a handover's rule was dated by this machine's day, and the dashboard's scans compare
/// that day with the folder's uploads and the live pointer's moves (S3's): from a host days
/// ahead, a folder re-deployed or rolled back to after its handover still looked spent, and S3
/// expired it. The rule carries S3's day now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lifecycle_handover_is_dated_by_s3s_day() {
    let b = fresh_bucket("clock-handover").await;
    for (id, days) in [("d1", 30), ("d2", 20), ("d3", 10)] {
        let at = stamped(days);
        put_many(&b, [format!("{id}/index.html")], &[("deployed-at", &at)]).await;
    }
    let (url, _proxy) = endpoint(|p| p.shift_date = Some(chrono::Duration::days(-3))).await;
    let s3_day = || (chrono::Utc::now() - chrono::Duration::days(3)).date_naive();
    let before = s3_day();
    let out = Run::apply(b.name(), 2)
        .args(&["--via-lifecycle", "--lifecycle-threshold", "0"])
        .args(&["--date-source", "meta:deployed-at"])
        .env("AWS_ENDPOINT_URL", &url)
        .out();
    assert!(out.status.success(), "{}", stderr(&out));
    let handed: Vec<_> = b
        .expiries()
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.id.to_string(), e.since))
        .collect();
    // (either side of a midnight the run may cross)
    assert!(
        [before, s3_day()]
            .iter()
            .any(|day| handed == [("d1".to_string(), Some(*day))]),
        "{handed:?}, S3's day {before}"
    );
}

/// The dashboard marks a front end's last success late by S3's clock, which dated it: a host
/// whose clock runs days behind S3's showed a job that had stopped three days ago as on time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_last_success_is_late_by_s3s_clock_on_a_host_whose_clock_is_behind() {
    let b = fresh_bucket("clock-late").await;
    crate::common::deploy_seconds_apart(&b, &["d1"]).await;
    // Dated by S3 three days ago: S3's clock runs three days ahead of this machine's.
    let note = serde_json::json!({
        "source": "cli", "at": chrono::Utc::now(), "who": "ci", "deleted_deployments": 0
    });
    b.write_state("last-success-cli.json", note.to_string().into_bytes())
        .await
        .unwrap();
    let (url, _proxy) = endpoint(|p| p.shift_date = Some(chrono::Duration::days(3))).await;
    let s = crate::serve::serve_env(b.name(), &[], &[("AWS_ENDPOINT_URL", &url)]);
    let cookie = crate::serve::sign_in(&s);
    let page = crate::serve::request(&s.addr, "GET", "/", &[("Cookie", &cookie)], "");
    assert_eq!(page.status, 200, "{}", page.body);
    let fact = page
        .body
        .split("data-testid=\"last-success\"")
        .nth(1)
        .and_then(|rest| rest.split("</dd>").next())
        .unwrap_or_default();
    assert!(
        fact.contains("class=\"success late\"") && fact.contains("data-source=\"cli\""),
        "{fact}"
    );
}
