//! History: a page of run summaries at a time, unreadable runs listed, details on demand, and
//! a run read once it ended.

use super::*;

/// A finished run's record as a front end would have journalled or logged it.
pub(super) fn past_run(
    b: &Bucket,
    source: &str,
    at: chrono::DateTime<chrono::Utc>,
    deleted: usize,
) -> audit::Record {
    let mut r = audit::Record::begin(source, source, b.name(), "", at);
    r.status = audit::Status::Finished;
    r.deleted = (0..deleted)
        .map(|i| audit::DeletedDeployment {
            id: format!("old-{i:04}"),
            objects: 3,
            bytes: 100,
        })
        .collect();
    r.deleted_objects = 3 * deleted as u64;
    r
}

#[tokio::test]
async fn history_comes_a_page_of_summaries_at_a_time_with_unreadable_runs_listed_and_details_on_demand(
) {
    let b = fresh_bucket("sf-history").await;
    let state = state_for(&b);
    let place = bucket::JournalPlace::of(&b);
    let local = audit::AuditLog::open(
        &std::env::temp_dir().join(format!("s3p-sf-audit-{}.sqlite", b.name())),
    )
    .unwrap();
    let t0 = chrono::Utc::now() - chrono::Duration::days(1);
    // 60 runs of other front ends in the bucket's journal (the oldest deleted 300 deployments),
    // after 30 of this server's own in its log; one of the journal's is in the log too. The
    // journal alone fills more than a page.
    let mut journalled = Vec::new();
    for i in 0..60 {
        let at = t0 + chrono::Duration::minutes(100 + i);
        let id = bucket::RunId::new(at);
        let mut r = past_run(
            &b,
            if i % 2 == 0 { "cli" } else { "lambda" },
            at,
            if i == 0 { 300 } else { 2 },
        );
        r.run = Some(id.to_string());
        place
            .write(&id, "end.json", serde_json::to_vec(&r).unwrap())
            .await
            .unwrap();
        journalled.push((id, r));
    }
    for i in 0..30 {
        let at = t0 + chrono::Duration::minutes(i);
        local.append(past_run(&b, "dashboard", at, 1)).unwrap();
    }
    let (twin_id, twin) = journalled[5].clone();
    let twin_number = local.append(twin).unwrap().id.unwrap();
    // What is no run: a foreign folder, and a run whose record is damaged.
    b.put(
        ".s3-prune/runs/not-a-run/x.json",
        b"{}".to_vec(),
        "application/json",
        &[],
    )
    .await
    .unwrap();
    let damaged = bucket::RunId::new(t0 + chrono::Duration::minutes(50));
    place
        .write(&damaged, "end.json", b"{not json".to_vec())
        .await
        .unwrap();
    // Damaged runs among the journal's newest take no place on a page: nothing is passed over.
    for m in [200, 201] {
        let newest = bucket::RunId::new(t0 + chrono::Duration::minutes(m));
        place
            .write(&newest, "end.json", b"[]".to_vec())
            .await
            .unwrap();
    }

    let first = state.history_page(None).await.unwrap();
    assert_eq!(first.runs.len(), app::server::HISTORY_PAGE);
    let names: Vec<&str> = first.unreadable.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(
        names.len(),
        3,
        "the foreign folder and the two newest: {names:?}"
    );
    assert!(names.contains(&"not-a-run"), "{names:?}");
    let second = state.history_page(first.next.clone()).await.unwrap();
    let names: Vec<&str> = second.unreadable.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(
        names,
        vec![damaged.as_str()],
        "named on the page whose span holds it"
    );
    assert!(second.next.is_none(), "90 runs fit on two pages");
    let all: Vec<_> = first.runs.iter().chain(&second.runs).collect();
    assert_eq!(
        all.len(),
        90,
        "every run once: 60 journalled, 30 of this server's"
    );
    assert!(
        all.windows(2).all(|w| w[0].started_at >= w[1].started_at),
        "newest first"
    );
    let keys: std::collections::HashSet<&str> = all.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys.len(), 90);
    let twin_row = all.iter().find(|r| r.key == twin_id.as_str()).unwrap();
    assert_eq!(
        twin_row.label,
        format!("#{twin_number}"),
        "a run in both is shown with this server's number"
    );
    // A row is a summary: the 300 deployments are counted, not sent.
    let big = all
        .iter()
        .find(|r| r.key == journalled[0].0.as_str())
        .unwrap();
    assert_eq!((big.deployments, big.objects), (300, 900));
    let page_bytes = serde_json::to_vec(&second).unwrap().len();
    assert!(
        page_bytes < 40 * 1024,
        "a page of 40 summaries is small: {page_bytes} B"
    );

    // Opened, a row's details come from its record, cut at what a page shows.
    let details = state.run_details(&big.handle).await.unwrap();
    assert_eq!(details.deployments.len(), app::wire::RunDetails::SHOWN);
    assert_eq!(details.not_shown, 100);
    assert!(
        details
            .whole_record
            .ends_with(&format!("{}/", journalled[0].0)),
        "{}",
        details.whole_record
    );
    assert!(
        details.deployments[0].starts_with("old-0000 (3 objects"),
        "{:?}",
        details.deployments[0]
    );
    let ours = state.run_details(&twin_number.to_string()).await.unwrap();
    assert_eq!(ours.deployments.len(), 2);
    assert!(state
        .run_details("20990101T000000000Z-00000000")
        .await
        .is_err());
}

#[tokio::test]
async fn a_run_that_ended_is_read_once_and_a_running_one_until_it_ends() {
    let b = fresh_bucket("sf-ended").await;
    let state = state_for(&b);
    let place = bucket::JournalPlace::of(&b);
    let t0 = chrono::Utc::now() - chrono::Duration::hours(1);
    let ended = bucket::RunId::new(t0);
    let mut r = past_run(&b, "cli", t0, 1);
    r.run = Some(ended.to_string());
    let mut began = r.clone();
    began.status = audit::Status::Started;
    let start = serde_json::json!({ "record": began, "doomed": [] });
    place
        .write(&ended, "start.json", serde_json::to_vec(&start).unwrap())
        .await
        .unwrap();
    place
        .write(&ended, "end.json", serde_json::to_vec(&r).unwrap())
        .await
        .unwrap();
    let at = t0 + chrono::Duration::minutes(5);
    let running = bucket::RunId::new(at);
    let mut s = past_run(&b, "lambda", at, 0);
    s.status = audit::Status::Started;
    let start = serde_json::json!({ "record": s, "doomed": [] });
    place
        .write(&running, "start.json", serde_json::to_vec(&start).unwrap())
        .await
        .unwrap();
    let statuses = |runs: &[audit::Record]| {
        runs.iter()
            .map(|r| (r.source.clone(), r.status))
            .collect::<Vec<_>>()
    };
    let first = state.history(10).await.unwrap();
    assert_eq!(
        statuses(&first),
        [
            ("lambda".to_string(), audit::Status::Started),
            ("cli".to_string(), audit::Status::Finished)
        ]
    );

    // The ended run's end record is taken away (nothing rewrites a journal; read again, the
    // run would show as started), and the running one ends.
    remove_keys(&b, [format!(".s3-prune/runs/{ended}/end.json")]).await;
    s.status = audit::Status::Finished;
    place
        .write(&running, "end.json", serde_json::to_vec(&s).unwrap())
        .await
        .unwrap();
    let second = state.history(10).await.unwrap();
    assert_eq!(
        statuses(&second),
        [
            ("lambda".to_string(), audit::Status::Finished),
            ("cli".to_string(), audit::Status::Finished)
        ],
        "the ended run from what was read before, the running one read again"
    );
}

/// Records of this server's log that began in the same millisecond follow one another by record
/// number (#9 before #10, as the log lists them), so a page boundary among them skips none and
/// repeats none: walking every page lists each record once.
#[tokio::test]
async fn runs_sharing_a_start_across_a_page_boundary_are_each_listed_once() {
    let t0 = chrono::Utc::now() - chrono::Duration::days(1);
    // #6..#14 began together; the others a minute apart. Newest first, #60..#15 fill 46 rows
    // of the first page: its boundary falls among #14..#6.
    let tie = t0 + chrono::Duration::seconds(10 * 60 + 30);
    let shown = every_page_of(60, |i| match i {
        6..=14 => tie,
        _ => t0 + chrono::Duration::minutes(i),
    })
    .await;
    let expected: Vec<String> = (1..=60).rev().map(|n| format!("#{n}")).collect();
    assert_eq!(shown, expected, "each record once, newest first");
}

/// More runs than a page began in one millisecond (records imported with one date, a clock
/// that stood still): the next page reads as many of them again as it must to go past them.
#[tokio::test]
async fn more_runs_in_one_millisecond_than_a_page_are_each_listed_once() {
    let at = chrono::Utc::now() - chrono::Duration::days(1);
    let shown = every_page_of(120, |_| at).await;
    let expected: Vec<String> = (1..=120).rev().map(|n| format!("#{n}")).collect();
    assert_eq!(shown, expected, "each record once, newest first");
}

/// The keys of every History page, walked from the first, of `n` records of this server's log
/// (#1..#n) that began at `at(i)`.
async fn every_page_of(n: i64, at: impl Fn(i64) -> chrono::DateTime<chrono::Utc>) -> Vec<String> {
    let b = fresh_bucket("sf-history-tie").await;
    let state = state_for(&b);
    let local = audit::AuditLog::open(
        &std::env::temp_dir().join(format!("s3p-sf-audit-{}.sqlite", b.name())),
    )
    .unwrap();
    for i in 1..=n {
        local.append(past_run(&b, "dashboard", at(i), 1)).unwrap();
    }
    let mut shown = Vec::new();
    let mut start = None;
    for _ in 0..10 {
        let page = state.history_page(start).await.unwrap();
        assert!(page.runs.len() <= app::server::HISTORY_PAGE);
        shown.extend(page.runs.into_iter().map(|r| r.key));
        start = page.next;
        if start.is_none() {
            break;
        }
    }
    shown
}

/// A run with no end on record is shown `running` while it holds its bucket's lease, and `died`
/// once it does not (killed, crashed, timed out): it was `started`, with nothing deleted, for
/// ever.
#[tokio::test]
async fn a_run_with_no_end_is_running_while_it_holds_the_lease_and_died_after() {
    let b = fresh_bucket("sf-died").await;
    let state = state_for(&b);
    let place = bucket::JournalPlace::of(&b);
    let at = chrono::Utc::now() - chrono::Duration::minutes(10);
    let run = bucket::RunId::new(at);
    let mut s = past_run(&b, "lambda", at, 0);
    s.status = audit::Status::Started;
    s.run = Some(run.to_string());
    let start = serde_json::json!({ "record": s, "doomed": [] });
    place
        .write(&run, "start.json", serde_json::to_vec(&start).unwrap())
        .await
        .unwrap();
    let status = |page: app::wire::HistoryPage| page.runs[0].status.clone();
    assert_eq!(status(state.history_page(None).await.unwrap()), "died");
    // Its lease, unexpired (another host's: its process cannot be looked for here).
    let now = chrono::Utc::now();
    let holder = bucket::LeaseHolder {
        run: run.to_string(),
        who: "lambda".into(),
        source: "lambda".into(),
        host: "another-host".into(),
        since: now,
        expires: now + chrono::Duration::seconds(60),
        pid: 1,
        pid_ns: String::new(),
        ttl_secs: None,
        task: None,
    };
    b.take_lease_unprobed(holder).await.unwrap();
    assert_eq!(status(state.history_page(None).await.unwrap()), "running");
}

/// A run of this server whose local record still says `started` (it ended while the log was
/// read, or the log's finish failed) but whose end is in the bucket's journal shows how it
/// ended, with its record number: it showed as `died` (its lease gone) or `started`.
#[tokio::test]
async fn a_local_copy_still_started_shows_the_end_the_journal_holds() {
    let b = fresh_bucket("sf-local-started").await;
    let state = state_for(&b);
    let log = config(&b, None).audit.unwrap();
    let at = chrono::Utc::now() - chrono::Duration::minutes(3);
    let run = bucket::RunId::new(at);
    let mut began = past_run(&b, "dashboard", at, 1);
    began.status = audit::Status::Started;
    began.run = Some(run.to_string());
    let local = log.append(began.clone()).unwrap();
    let mut ended = began.clone();
    ended.status = audit::Status::Finished;
    let place = bucket::JournalPlace::of(&b);
    let start = serde_json::json!({ "record": began, "doomed": [] });
    place
        .write(&run, "start.json", serde_json::to_vec(&start).unwrap())
        .await
        .unwrap();
    place
        .write(&run, "end.json", serde_json::to_vec(&ended).unwrap())
        .await
        .unwrap();
    let page = state.history_page(None).await.unwrap();
    let row = page
        .runs
        .iter()
        .find(|r| r.key == run.to_string())
        .expect("listed once");
    assert_eq!(row.status, "finished");
    assert_eq!(row.label, format!("#{}", local.id.unwrap()));
}

/// A run older than its bucket's undo window (the lifecycle rule removing old versions N days
/// after a delete) is not offered as "can be restored": History says the window passed and a
/// restore may find nothing. Before, it said "can be restored" of a run whose versions S3 had
/// removed long ago (the restore then found nothing to bring back).
#[tokio::test]
async fn a_run_past_its_buckets_undo_window_is_not_said_to_be_restorable() {
    let b = fresh_bucket("sf-undo-window").await;
    b.set_undo_window(3, false).await.unwrap();
    let state = state_for(&b);
    let place = bucket::JournalPlace::of(&b);
    let now = chrono::Utc::now();
    for days in [10, 1] {
        let at = now - chrono::Duration::days(days);
        let id = bucket::RunId::new(at);
        let mut r = past_run(&b, "lambda", at, 2);
        r.run = Some(id.to_string());
        r.undoable = true;
        place
            .write(&id, "end.json", serde_json::to_vec(&r).unwrap())
            .await
            .unwrap();
    }
    let page = state.history_page(None).await.unwrap();
    let notes: Vec<(bool, Option<String>)> = page
        .runs
        .iter()
        .map(|r| (r.restorable, r.undo_note.clone()))
        .collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    // Newest first: a day old, within the 3 days; ten days old, past them.
    assert_eq!(notes[0], (true, None), "{notes:?}");
    let past = notes[1].1.as_deref().unwrap_or_default();
    assert!(
        past.starts_with("undo window passed: this bucket's lifecycle removes old versions 3 days after a delete, and this run is 10 days old"),
        "{notes:?}"
    );
}

/// Before: the restore ran inside the request, so a closed tab or a proxy's idle timeout
/// dropped it mid-way — markers half removed, its record left `started`, no report. It now
/// runs to its end whatever becomes of the request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_whose_request_goes_away_runs_to_its_end() {
    let b = seeded("sf-restore-dropped", &["new", "d1", "d2", "d3"]).await;
    b.enable_versioning().await.unwrap();
    for (i, d) in ["d1", "d2", "d3"].into_iter().enumerate() {
        // dated as `seeded` dates the deployment
        let at = (chrono::Utc::now() - chrono::Duration::days(i as i64 + 1)).to_rfc3339();
        let files = (0..300).map(|f| format!("{d}/f{f:03}.js"));
        put_many(&b, files, &[("deployed-at", &at)]).await;
    }
    let before = all_keys(&b).await;
    let mut config = config(&b, None);
    config.max_delete = 1000;
    let state = AppState::new(config);
    let req = preview(&state, b.name(), 1).await;
    let ApplyOutcome::Started { job } = state.start_apply(req, "tester").await.unwrap() else {
        panic!("refused")
    };
    let run = report_of(&state, job).await;
    assert_eq!(run.deleted.len(), 3, "{run:?}");
    let handle = state.history_page(None).await.unwrap().runs[0]
        .handle
        .clone();
    // The request goes away once the restore holds the bucket (it is under way).
    let restoring = state.restore(&handle, b.name(), "tester");
    let under_way = async {
        while !matches!(b.read_lease().await, Ok(Some(_))) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::select! {
        done = restoring => panic!("the restore ended before its lease was seen: {done:?}"),
        () = under_way => {}
    }
    let waited = std::time::Instant::now();
    while all_keys(&b).await != before || matches!(b.read_lease().await, Ok(Some(_))) {
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "the restore stopped with its request: {} of {} keys back",
            all_keys(&b).await.len(),
            before.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = state.history_page(None).await.unwrap();
    assert_eq!(page.runs[0].status, "finished", "{:?}", page.runs[0]);
    let pinned = b.read_pins().await.unwrap();
    assert_eq!(pinned.len(), 3, "{pinned:?}");
}

/// A run journalled by another front end is found on its bucket though a bucket configured
/// before it cannot be read (gone, or no grant): History lists the run, and its details and
/// restore find it. Before, the unreadable bucket's error failed them (review).
#[tokio::test]
async fn a_run_is_found_past_a_bucket_whose_journal_cannot_be_read() {
    let b = fresh_bucket("sf-past-missing").await;
    let missing = format!("{}-missing", b.name());
    let state = AppState::new(ServeConfig {
        buckets: vec![
            parse_bucket_arg(&missing).unwrap(),
            parse_bucket_arg(b.name()).unwrap(),
        ],
        ..config(&b, None)
    });
    let at = chrono::Utc::now() - chrono::Duration::hours(1);
    let id = bucket::RunId::new(at);
    let mut r = past_run(&b, "cli", at, 1);
    r.run = Some(id.to_string());
    (bucket::JournalPlace::of(&b))
        .write(&id, "end.json", serde_json::to_vec(&r).unwrap())
        .await
        .unwrap();
    assert_eq!(state.restore_target(id.as_str()).await.unwrap(), b.name());
}
