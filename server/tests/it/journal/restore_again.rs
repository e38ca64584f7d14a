//! Restoring a run again (a script retried, a second look): what the first restore brought
//! back is "back already", not "left", and a restore with nothing left to do succeeds.

use super::*;

/// a1, a2 and a3 on versioned `b`, then `apply b 1`: every key before it, and its run's id.
async fn applied(b: &Bucket) -> (Vec<String>, String) {
    b.enable_versioning().await.unwrap();
    deploy(b, &["a1", "a2", "a3"], 3).await;
    let before = all_keys(b).await;
    let out = s3_prune(&["apply", b.name(), "1", "--localstack", "--yes", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let runs = json(&history_elsewhere(b));
    let id = runs[0]["id"].as_str().expect("the apply on record");
    (before, id.to_string())
}

/// Before: a second `restore --run ID` of a restored run reported every key "left: a newer
/// version was written (or it was restored already)" and exited 1, though all was back — a
/// script that retried its restore was told it had failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_restored_again_counts_what_is_back_already_and_succeeds() {
    let b = fresh_bucket("restore-again").await;
    let (before, id) = applied(&b).await;
    restore_elsewhere_brings_back(&b, &id, &before).await;

    let out = restore_elsewhere(&b, &id);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    for d in ["a1", "a2"] {
        assert!(
            stdout(&out).contains(&format!(
                "{d}: 0 objects restored (3 objects back already: restored before)"
            )),
            "{}",
            stdout(&out)
        );
    }
    assert_eq!(all_keys(&b).await, before);

    // Written again after the restore: a third restore leaves the new content as it is
    // (a key written over the run's marker, never restored, is "left":
    // `restore::restore_brings_every_object_back_with_its_bytes_and_leaves_what_was_written_since`).
    b.put("a2/f0000.js", b"new".to_vec(), "text/javascript", &[])
        .await
        .unwrap();
    let out = restore_elsewhere(&b, &id);
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(
        object_body(&b, "a2/f0000.js").await.as_deref(),
        Some(&b"new"[..])
    );
    assert_eq!(all_keys(&b).await, before);
}

/// Before: a restore killed after removing a deployment's markers but before its pin (a
/// signal, a dropped dashboard request) left it unpinned, and the restore run again, as the
/// tool advises, pinned nothing — every key was "back already" — so the policy's next apply
/// deleted it again. Now the pins are written before the first marker is removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_killed_before_its_pin_pins_what_is_back_when_run_again() {
    let b = fresh_bucket("restore-killed-pin").await;
    let (before, id) = applied(&b).await;
    // What the killed restore did: the markers removed, no pin written.
    for d in ["a1/", "a2/"] {
        bucket::testkit::remove_markers(&b, d).await;
    }
    assert_eq!(all_keys(&b).await, before);
    assert!(b.read_pins().await.unwrap().is_empty());

    let out = restore_elsewhere(&b, &id);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let pinned: Vec<String> = (b.read_pins().await.unwrap().iter())
        .map(|p| p.id.to_string())
        .collect();
    assert_eq!(pinned, ["a1", "a2"], "{}", stdout(&out));
    let out = s3_prune(&["apply", b.name(), "1", "--localstack", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        all_keys(&b).await,
        before,
        "the next apply keeps what was restored"
    );
}

/// What stays gone keeps no pin: a restore pins what it is to bring back before it begins
/// (`a_restore_killed_before_its_pin_pins_what_is_back_when_run_again`), and once it has ended
/// takes the pin back from a deployment deleted again since — left pinned, a later deployment
/// reusing the name would be kept for good, and the answer named it among what came back
/// (review of this session's diff).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_that_stays_gone_keeps_no_pin_from_the_restore() {
    let b = fresh_bucket("restore-gone-unpinned").await;
    let (_, id) = applied(&b).await;
    // a2 brought back by hand, then deleted again by someone else: its run's markers are gone.
    bucket::testkit::remove_markers(&b, "a2/").await;
    let a2 = bucket::testkit::keys_under(&b, "a2/").await;
    bucket::testkit::remove_keys(&b, a2).await;
    let out = restore_elsewhere(&b, &id);
    let said = stdout(&out);
    let pinned: Vec<String> = (b.read_pins().await.unwrap().iter())
        .map(|p| p.id.to_string())
        .collect();
    assert_eq!(pinned, ["a1"], "{said}{}", stderr(&out));
    assert!(
        all_keys(&b).await.iter().any(|k| k.starts_with("a1/")),
        "{said}"
    );
    assert!(
        !all_keys(&b).await.iter().any(|k| k.starts_with("a2/")),
        "{said}"
    );
}
