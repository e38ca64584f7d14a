//! The journal is written before what it records: the start and the run's folders (its
//! intent) before the first delete, nothing per batch before it is sent; a journal that cannot
//! be written stops the run.

use super::*;

/// Stopped (Ctrl-C, a lost lease, a failed journal write) while its batches wait for its start
/// to be on record, a run sends none of them: a stop means no new batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_while_its_batches_wait_for_its_start_sends_none_of_them() {
    let (b, child, proxy) = waiting_for_the_start("stop-intents", false).await;
    crate::common::terminate(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report = json(&out);
    assert_eq!(report["audit"]["status"], "interrupted", "{report}");
    let sent = proxy.stats.deleted_keys.lock().unwrap().len();
    assert_eq!(sent, 0, "batches were sent after the stop");
    assert_eq!(all_keys(&b).await.len(), 600, "nothing deleted");
}

/// Stopped while a batch, the run's start on record, waits for the pins to be read again before
/// it is sent, a run does not send it: a stop means no new batch, even one that was about to go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_while_a_batch_waits_for_the_pins_sends_it_not() {
    let b = fresh_bucket("stop-pins").await;
    deploy(&b, &["s1", "s2", "s3", "s4", "s5", "s6"], 100).await;
    let mut p = Proxy::new(0);
    // Every reading of the pins takes 5 s (time for the stop to land while a batch waits for
    // one, on a loaded machine too); the run's folders are counted (not refused).
    p.delay_get = Some(("pins.json".into(), Duration::from_secs(5)));
    p.deny_put = Some(("/folders.json".into(), u64::MAX));
    let (url, proxy) = start(p).await;
    let child = apply_via(&url, &b, "1", 4, &[]);
    until_counted("the run's folders written", &proxy.stats.puts_matched).await;
    // The start is on record within this; the pins reading the batch waits for is not.
    tokio::time::sleep(Duration::from_millis(400)).await;
    crate::common::terminate(&child);
    let out = finish(child);
    let report = json(&out);
    assert_eq!(report["audit"]["status"], "interrupted", "{report}");
    let sent = proxy.stats.deleted_keys.lock().unwrap().len();
    assert_eq!(sent, 0, "a batch was sent after the stop");
    assert_eq!(all_keys(&b).await.len(), 600, "nothing deleted");
}

/// Applies through `proxy` (which refuses some journal writes) and holds that the run failed,
/// said "nothing was deleted", left every key of `before` in place and released its lease.
async fn assert_nothing_deleted(b: &Bucket, proxy: Proxy, before: &[String]) {
    let (url, _proxy) = start(proxy).await;
    let out = apply_with_journal_refused(b, &url);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("nothing was deleted"),
        "{}",
        stderr(&out)
    );
    assert_eq!(all_keys(b).await, before, "no record, no deletion");
    assert!(!lease_taken(b).await, "the lease is released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_that_cannot_be_written_stops_the_run_before_or_between_batches() {
    // Not writable at all: nothing is deleted.
    let b = fresh_bucket("journal-denied").await;
    deploy(&b, &["j1", "j2", "j3"], 700).await;
    let before = all_keys(&b).await;
    let mut p = Proxy::new(0);
    p.deny_put = Some(("/.s3-prune/runs/".into(), 0));
    assert_nothing_deleted(&b, p, &before).await;

    // Writable for the start and the run's folders, then not: the first batch goes (the run
    // is on record), its answer cannot be written (a second later, grouped), so the run stops
    // at the next batch. Each DeleteObjects is held 3 s: the failure is known long before the
    // third of the 1,000-key batches would go.
    let b = fresh_bucket("journal-denied-mid").await;
    deploy(&b, &["j1", "j2", "j3", "j4"], 700).await;
    let mut p = Proxy::new(0);
    p.deny_put = Some(("/.s3-prune/runs/".into(), 2));
    p.delay_delete = Some(Duration::from_secs(3));
    let (url, _proxy) = start(p).await;
    let out = apply_with_journal_refused(&b, &url);
    assert!(!out.status.success(), "a run that stopped says so");
    let left = all_keys(&b).await;
    let doomed_left = left.iter().filter(|k| !k.starts_with("j4/")).count();
    assert!(
        doomed_left > 0 && doomed_left < 2100,
        "the first batch went, none after the failed write was known: {doomed_left} of 2100 left"
    );
    let report = json(&out);
    let failures = report["audit"]["failures"].to_string();
    assert!(failures.contains("the run stopped"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_batch_is_sent_before_the_start_record_is_written() {
    // The start record goes out once the lease is held, beside the run's folders. Here one of
    // them is slow, then refused: the first batch must have waited for both, so nothing is
    // deleted and the run says why.
    for part in ["/start.json", "/folders.json"] {
        let (b, before) = three_deployments("journal-start-slow").await;
        assert_nothing_deleted(&b, slow_then_refused(part), &before).await;
        if part == "/folders.json" {
            // Its start is on record: its end too, failed (not a run shown started, then dead).
            let runs = json(&history_elsewhere(&b));
            assert_eq!(runs[0]["status"], "failed", "{runs}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_waits_a_second_for_others_and_the_end_record_holds_those_still_being_written() {
    // Two batches (1,200 doomed keys) answered 2 s apart: the first answer waits 1 s for
    // others (none comes), then goes alone; the second is still waiting when the deleting
    // ends. The part is held 6 s (long past the last answer even on a loaded machine: held
    // 2 s, CI once saw it written first); the end record goes out beside it, not after it, so it
    // carries both answers, and a run whose answer part never made it to the bucket is still
    // restored exactly.
    let b = fresh_bucket("end-answers").await;
    b.enable_versioning().await.unwrap();
    deploy(&b, &["e1", "e2", "e3"], 600).await;
    let before = all_keys(&b).await;
    let mut p = Proxy::new(0);
    p.delay_delete = Some(Duration::from_millis(2000));
    p.delay_put = Some(("/answers-".into(), Duration::from_millis(6000)));
    let (url, _proxy) = start(p).await;
    let out = apply_with_journal_refused(&b, &url);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["audit"]["status"], "finished", "{report}");
    let run = report["audit"]["run"].as_str().unwrap().to_string();
    let dir = format!(".s3-prune/runs/{run}/");
    let answers: Vec<String> = keys_under(&b, &dir)
        .await
        .into_iter()
        .filter(|k| k.contains("/answer"))
        .collect();
    // The first answer alone, after waiting 1 s for others. (On a loaded machine the run's
    // end may come more than a second after the last answer, whose part then goes too: the
    // end carries it all the same, being written.)
    assert_eq!(
        answers.first(),
        Some(&format!("{dir}answers-000001-000001.json")),
        "the first answer alone, after waiting 1 s for others: {answers:?}"
    );
    assert!(
        answers[1..] == [format!("{dir}answers-000002-000002.json")] || answers.len() == 1,
        "{answers:?}"
    );
    let end = object_body(&b, &format!("{dir}end.json")).await.unwrap();
    let end: serde_json::Value = serde_json::from_slice(&end).unwrap();
    assert_eq!(end["status"], "finished", "{end}");
    let carried: usize = (0..2)
        .filter_map(|i| end["answers"][i]["outcome"]["markers"].as_array())
        .map(Vec::len)
        .sum();
    assert_eq!(
        carried, 1200,
        "the answers still being written are in the end record: {end}"
    );
    // As if the answer part had never been written (the process killed once the end was).
    remove_keys(&b, answers).await;
    restore_elsewhere_brings_back(&b, &run, &before).await;
}

/// A run's intent is written once: the folders of its doomed deployments, beside its start and
/// before its first delete; nothing is written per batch before it goes (each batch waited for
/// its keys' intent, one more journal write queued beside the deletes). Three batches, one
/// slot, each DeleteObjects held 1.5 s: the journal's writes are start, folders, the answers
/// (grouped, after) and the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_writes_its_folders_once_before_its_first_delete_and_nothing_per_batch() {
    let b = fresh_bucket("folders-once").await;
    b.enable_versioning().await.unwrap();
    deploy(&b, &["w1", "w2", "w3"], 1000).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    deploy(&b, &["w4"], 1).await;
    let before = all_keys(&b).await;
    let mut p = Proxy::new(0);
    p.delay_delete = Some(Duration::from_millis(1500));
    // The journal's writes counted, none refused.
    p.deny_put = Some(("/.s3-prune/runs/".into(), u64::MAX));
    let (url, proxy) = start(p).await;
    let out = finish(apply_via(&url, &b, "1", 1, &[]));
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["deleted_objects"], 3000, "{report}");
    let run = report["audit"]["run"].as_str().unwrap().to_string();
    let dir = format!(".s3-prune/runs/{run}/");
    let parts: Vec<String> = keys_under(&b, &dir)
        .await
        .into_iter()
        .map(|k| k.trim_start_matches(&dir).to_string())
        .collect();
    assert!(
        parts.iter().all(
            |p| ["start.json", "folders.json", "end.json"].contains(&p.as_str())
                || p.starts_with("answers-")
        ),
        "no part per batch before it is sent: {parts:?}"
    );
    let folders = object_body(&b, &format!("{dir}folders.json"))
        .await
        .unwrap();
    let folders: serde_json::Value = serde_json::from_slice(&folders).unwrap();
    assert_eq!(
        folders,
        serde_json::json!({ "folders": ["w1", "w2", "w3"] }),
        "the doomed folders"
    );
    let journal_puts = proxy
        .stats
        .puts_matched
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        journal_puts <= 2 + 3 + 1,
        "start, folders, at most one answer part per batch, end: {journal_puts} ({parts:?})"
    );
    assert_eq!(all_keys(&b).await.len(), before.len() - 3000);
    restore_elsewhere_brings_back(&b, &run, &before).await;
}

/// A journal part S3 wrote whose answer was lost: the SDK sends it again, and S3 refuses the
/// second `If-None-Match: *` write (412) because the part is there. That is the part on record,
/// not a failure: the run goes on and ends on record. (It was refused with "nothing was
/// deleted", its start on record and no end: a run shown as started for ever.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_part_whose_answer_was_lost_is_on_record_and_the_run_goes_on() {
    for part in ["start.json", "/folders.json", "end.json"] {
        let b = fresh_bucket("lost-put").await;
        deploy(&b, &["l1", "l2", "l3"], 5).await;
        let mut p = Proxy::new(0);
        p.lose_put_answer = Some(part.into());
        let (url, proxy) = start(p).await;
        let out = finish(apply_via(&url, &b, "1", 4, &[]));
        assert!(
            proxy
                .stats
                .puts_answer_lost
                .load(std::sync::atomic::Ordering::SeqCst)
                >= 2,
            "{part}: the part was sent again"
        );
        assert!(out.status.success(), "{part}: {}", stderr(&out));
        assert_eq!(all_keys(&b).await.len(), 5, "{part}: l1 and l2 deleted");
        let runs = json(&history_elsewhere(&b));
        assert_eq!(runs[0]["status"], "finished", "{part}: {runs}");
    }
}

/// S3 answers a conditional write 409 ConditionalRequestConflict when another write of the key
/// is under way, and says to send it again. A journal part met twice by it is sent again and
/// the run goes on, ending on record. (The 409 was taken for "the part is there": read back,
/// not found, the run stopped — before its first delete, or mid-run.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_part_that_meets_a_conflicting_write_is_sent_again() {
    for part in ["start.json", "/folders.json", "end.json"] {
        let b = fresh_bucket("conflict-put").await;
        deploy(&b, &["c1", "c2", "c3"], 5).await;
        let mut p = Proxy::new(0);
        p.conflict_put = Some((part.into(), 2));
        let (url, proxy) = start(p).await;
        let out = finish(apply_via(&url, &b, "1", 4, &[]));
        assert!(out.status.success(), "{part}: {}", stderr(&out));
        let conflicted = (proxy.stats.puts_conflicted).load(std::sync::atomic::Ordering::SeqCst);
        assert!(conflicted >= 3, "{part}: answered 409 twice, then sent");
        assert_eq!(all_keys(&b).await.len(), 5, "{part}: c1 and c2 deleted");
        let runs = json(&history_elsewhere(&b));
        assert_eq!(runs[0]["status"], "finished", "{part}: {runs}");
    }
}

/// A group of answers whose write failed is not lost: its answers go into the end record, so
/// every batch sent has its answer on record somewhere (before, a failed group was dropped
/// once its write ended: in neither a part nor the end record).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_whose_part_could_not_be_written_are_in_the_end_record() {
    let b = fresh_bucket("answers-refused").await;
    b.enable_versioning().await.unwrap();
    deploy(&b, &["r1", "r2", "r3", "r4", "r5"], 1000).await;
    let mut p = Proxy::new(0);
    p.deny_put = Some(("/answers-".into(), 0));
    // Answers more than a second apart: they go in parts, not all in the end record.
    p.delay_all = Some(Duration::from_millis(300));
    let (url, proxy) = start(p).await;
    // One slot: batches one after another, their answers seconds apart.
    let out = finish(apply_via(&url, &b, "1", 1, &[]));
    assert!(
        !out.status.success(),
        "a journal write failed: {}",
        json(&out)["audit"]["status"]
    );
    assert!(
        proxy
            .stats
            .puts_matched
            .load(std::sync::atomic::Ordering::SeqCst)
            > 0
    );
    let parts = keys_under(&b, ".s3-prune/runs/").await;
    let end = parts
        .iter()
        .find(|k| k.ends_with("/end.json"))
        .expect("the run ended on record");
    let end: serde_json::Value =
        serde_json::from_slice(&object_body(&b, end).await.unwrap()).unwrap();
    let answered: std::collections::BTreeSet<u64> = end["answers"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["n"].as_u64()).collect())
        .unwrap_or_default();
    // Every batch sent is answered on record (numbered from 1; a batch never sent, as sent
    // nothing), and every key gone has its marker there.
    let last = answered.iter().max().copied().unwrap_or(0);
    assert!(last >= 2, "batches one after another: {answered:?}");
    assert_eq!(
        answered,
        (1..=last).collect(),
        "a batch's answer is on record nowhere: {parts:?}"
    );
    let markers: usize = end["answers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["outcome"]["markers"].as_array())
        .map(Vec::len)
        .sum();
    let gone = 5000 - all_keys(&b).await.len();
    assert_eq!(markers, gone, "every key deleted has its marker on record");
}
