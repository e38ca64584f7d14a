//! Pins (and the live pointer and page) hold while an apply runs: a deployment pinned or made
//! live after the plan is kept, however far along its keys are.

use super::*;

/// The apply `apply` ended well, left deployment `id` whole (its `objects` all there) and
/// reported it held, saying `why` (`pinned`, or the live page's key).
async fn finished_holding(b: &Bucket, apply: Child, id: &str, objects: usize, why: &str) {
    let out = finish(apply);
    assert!(out.status.success(), "{}", stderr(&out));
    let folder = format!("{id}/");
    assert_eq!(
        keys_under(b, &folder).await.len(),
        objects,
        "{id} was held mid-run and must survive whole"
    );
    let report = json(&out);
    let held = report["audit"]["held"].to_string();
    assert!(held.contains(id) && held.contains(why), "{report}");
}

/// Pins `id` as `s3-prune pin BUCKET ID` does (the engine's `set_pin`), in this process.
async fn pin_now(b: &Bucket, id: &str) {
    let pin = retention::Pin {
        id: retention::DeploymentId::new(id).unwrap(),
        reason: "mid-apply".into(),
        by: "tester".into(),
        at: None,
    };
    prune::set_pin(b, &pin.id.clone(), Some(pin))
        .await
        .expect("pinned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_added_while_an_apply_runs_holds_its_deployment() {
    let b = fresh_bucket("pin-mid-apply").await;
    deploy(&b, &["p1", "p2", "p3", "p4", "p5", "p6"], 120).await;
    let apply = slow_apply(&b, "1", Duration::from_millis(250)).await;
    // Once the lease is taken the apply is about to delete: p1 to p4 are listed (250 ms a
    // request, one slot) before p5 is reached. (Waiting for p1 to be gone was too late: the
    // lister fills the next batch while the first is in flight.) Pinned as `s3-prune pin`
    // does, without a process to start on a busy machine.
    until("the apply's lease", || lease_taken(&b)).await;
    pin_now(&b, "p5").await;

    finished_holding(&b, apply, "p5", 120, "pinned").await;
}

/// Pins that cannot be read mid-run hold every deployment still to come (nothing is deleted on
/// a guess), but that is not what was confirmed: the run fails, names them and says to run
/// again. Before: the record said `finished` and the exit status 0, as if all were deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pins_unreadable_mid_run_hold_what_is_left_and_fail_the_run() {
    let b = fresh_bucket("pins-unreadable").await;
    deploy(&b, &["p1", "p2", "p3", "p4", "p5", "p6"], 120).await;
    let apply = slow_apply(&b, "1", Duration::from_millis(250)).await;
    until("the apply's lease", || lease_taken(&b)).await;
    b.put(&b.pins_key(), b"{".to_vec(), "application/json", &[])
        .await
        .unwrap();
    let out = finish(apply);
    assert!(!out.status.success(), "{}", stdout(&out));
    let report = json(&out);
    assert_eq!(report["audit"]["status"], "failed", "{report}");
    let failures = report["audit"]["failures"].to_string();
    assert!(
        failures.contains("could not be read mid-run") && failures.contains("p5"),
        "{report}"
    );
    assert_eq!(keys_under(&b, "p5/").await.len(), 120, "p5 is left whole");
}

/// A deployment's keys may wait seconds between its listing (where pins were read) and their
/// batch's turn (behind a slow batch in flight): a pin added meanwhile still holds it whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_added_while_a_listed_deployment_waits_for_its_batch_holds_it() {
    let b = fresh_bucket("pin-queued").await;
    let apply = apply_with_listed_keys_waiting(&b, Duration::ZERO).await;
    let out = s3_prune(&["pin", b.name(), "p5", "--localstack"]);
    assert!(out.status.success(), "{}", stderr(&out));

    finished_holding(&b, apply, "p5", 300, "pinned").await;
    for gone in ["p1/", "p2/", "p3/", "p4/"] {
        assert!(keys_under(&b, gone).await.is_empty(), "{gone} was not held");
    }
}

/// A pin added while a deployment's first batch waits for the run's start to be on record (a
/// slow journal) holds it: pins are asked once the start is on record, just before the batch
/// is sent (a reading started beside it counts only if at most 0.5 s old by then).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_added_while_a_batch_waits_for_the_runs_start_holds_its_deployment() {
    let (b, apply, _proxy) = waiting_for_the_start("pin-intent", false).await;
    let out = s3_prune(&["pin", b.name(), "s2", "--localstack"]);
    assert!(out.status.success(), "{}", stderr(&out));

    finished_holding(&b, apply, "s2", 100, "pinned").await;
}

/// Pins are one file every front end rewrites: eight people pinning at once (the dashboard,
/// laptops, a script) must all find their pin kept, none overwritten by another's write.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pins_set_at_once_from_many_front_ends_are_all_kept() {
    let b = fresh_bucket("pins-at-once").await;
    deploy(&b, &["p1"], 1).await;
    let ids: Vec<String> = (0..8).map(|i| format!("rel-{i}")).collect();
    // Only a deployment that is there can be pinned.
    deploy(&b, &ids.iter().map(String::as_str).collect::<Vec<_>>(), 1).await;
    let tasks: Vec<_> = ids
        .iter()
        .map(|id| {
            let (b, id) = (b.clone(), retention::DeploymentId::new(id).unwrap());
            tokio::spawn(async move {
                let pin = retention::Pin {
                    id: id.clone(),
                    reason: "release".into(),
                    by: "someone".into(),
                    at: None,
                };
                prune::set_pin(&b, &id, Some(pin)).await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().expect("pinned");
    }
    let mut kept: Vec<String> = b
        .read_pins()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id.to_string())
        .collect();
    kept.sort();
    assert_eq!(kept, ids, "every pin is kept");
}

/// A rollback while an apply runs, for a team whose site names its live deployment in a page
/// (`--live-from index.html`): the page is read again before each deployment's keys are sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_the_live_page_names_mid_apply_is_kept() {
    let b = fresh_bucket("live-from-mid-apply").await;
    deploy(&b, &["p1", "p2", "p3", "p4", "p5", "p6"], 120).await;
    let page = |id: &str| format!(r#"<html><script src="/{id}/f0000.js"></script></html>"#);
    b.put("index.html", page("p6").into_bytes(), "text/html", &[])
        .await
        .unwrap();
    let apply = slow_apply_with(
        &b,
        "1",
        Duration::from_millis(150),
        1,
        &["--live-from", "index.html"],
    )
    .await;
    until("the apply's lease", || lease_taken(&b)).await;
    // Rolled back to p5 while p1 to p4 are being listed and deleted.
    b.put("index.html", page("p5").into_bytes(), "text/html", &[])
        .await
        .unwrap();

    finished_holding(&b, apply, "p5", 120, "index.html").await;
}

/// `--via-lifecycle` hands a big deployment to S3 lifecycle instead of deleting it by requests;
/// a pin added while the apply runs holds it there too (no rule is written for it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_added_while_an_apply_runs_holds_a_deployment_it_would_hand_to_lifecycle() {
    let b = fresh_bucket("pin-mid-handover").await;
    deploy(&b, &["p1", "p2", "p3"], 3).await;
    let apply = slow_apply_with(
        &b,
        "1",
        Duration::from_millis(700),
        1,
        &["--via-lifecycle", "--lifecycle-threshold", "2"],
    )
    .await;
    // The handover asks for pins after the start record and the lifecycle check (two
    // requests, 700 ms each, after the lease): time for the pin to land first.
    until("the apply's lease", || lease_taken(&b)).await;
    pin_now(&b, "p1").await;

    finished_holding(&b, apply, "p1", 3, "pinned").await;
    let rules = crate::lifecycle::rules(&b).await;
    assert!(
        !rules.iter().any(|(_, prefix, _)| prefix == "p1/"),
        "p1 was pinned mid-run: no lifecycle rule may expire it ({rules:?})"
    );
}

#[tokio::test]
async fn a_pin_on_a_folder_that_is_not_there_is_refused_and_an_unpin_of_nothing_says_so() {
    // Before: `pin BUCKET relase-2` (a typo) answered "Pinned", stored a pin that protected
    // nothing, and no plan ever said so; `unpin` of an id never pinned answered "Unpinned".
    let b = fresh_bucket("pin-typo").await;
    deploy(&b, &["release-1", "release-2"], 1).await;
    let out = s3_prune(&["pin", b.name(), "relase-2", "--localstack"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("no deployment 'relase-2' in s3://")
            && stderr(&out).contains("nothing pinned"),
        "{}",
        stderr(&out)
    );
    assert!(b.read_pins().await.unwrap().is_empty());
    // An unpin of what is not pinned says so, and is no error (scripts unpin idempotently).
    let out = s3_prune(&["unpin", b.name(), "release-1", "--localstack"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("'release-1' was not pinned"),
        "{}",
        stdout(&out)
    );
    let out = s3_prune(&["pin", b.name(), "release-2", "--localstack"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(b.read_pins().await.unwrap().len(), 1);
}
