//! The end record's two forms, written and read back.

use super::*;
use audit::Status;
use bucket::NewMarker;
use chrono::Utc;
use retention::DeploymentId;

fn record() -> Record {
    Record::begin("ci@here", "cli", "site", "", Utc::now())
}

#[test]
fn an_end_record_carries_its_answers_and_reads_as_a_plain_record_too() {
    let id = DeploymentId::new("d1").unwrap();
    let marker = NewMarker {
        key: "d1/index.html".into(),
        version_id: "v1".into(),
    };
    let end = EndPart {
        record: record(),
        answers: vec![EndAnswer {
            n: 3,
            outcome: BatchOutcome {
                markers: vec![(id, marker.clone())],
                failed: Vec::new(),
            },
        }],
    };
    let json = end.to_json().unwrap();
    let back = EndPart::from_json(&json).unwrap();
    assert_eq!(back.record.who, "ci@here");
    assert_eq!(back.answers.len(), 1);
    assert_eq!(back.answers[0].n, 3);
    assert_eq!(back.answers[0].outcome.markers[0].1, marker);
    // A reader of the record alone (an older s3-prune) skips the answers.
    let plain: Record = serde_json::from_slice(&json).unwrap();
    assert_eq!(plain.who, "ci@here");
}

#[test]
fn an_end_record_without_answers_is_written_as_before_and_read_with_none() {
    let json = serde_json::to_vec(&record()).unwrap();
    assert!(EndPart::from_json(&json).unwrap().answers.is_empty());
    let end = EndPart {
        record: record(),
        answers: Vec::new(),
    };
    let written: serde_json::Value = serde_json::from_slice(&end.to_json().unwrap()).unwrap();
    assert!(written.get("answers").is_none(), "{written}");
}

/// A run with no end on record is running while it holds the bucket's lease, unexpired, and
/// died otherwise (the lease expired, another run holds it, or there is none); ended runs are
/// not told either way.
#[test]
fn a_run_with_no_end_is_running_only_while_it_holds_the_lease() {
    let now = Utc::now();
    let summary = |id: &str, status: Status| RunSummary {
        id: id.into(),
        source: "cli".into(),
        who: "ci".into(),
        host: None,
        status,
        started: now,
        deleted: 0,
        deleted_deployments: vec![],
        restore_of: None,
        restorable: true,
        running: None,
    };
    let holder = |run: &str, expires| bucket::LeaseHolder {
        run: run.into(),
        who: "ci".into(),
        source: "cli".into(),
        host: "h".into(),
        since: now,
        expires,
        pid: 0,
        pid_ns: String::new(),
        ttl_secs: None,
        task: None,
    };
    let runs = || {
        vec![
            summary("r2", Status::Started),
            summary("r1", Status::Finished),
        ]
    };
    let later = now + chrono::Duration::seconds(30);
    let earlier = now - chrono::Duration::seconds(1);
    for (lease, r2) in [
        (Some(holder("r2", later)), Some(true)),
        (Some(holder("r2", earlier)), Some(false)),
        (Some(holder("r3", later)), Some(false)),
        (None, Some(false)),
    ] {
        let mut rs = runs();
        mark_running(&mut rs, lease.as_ref(), now);
        assert_eq!(rs[0].running, r2, "{lease:?}");
        assert_eq!(rs[1].running, None, "an ended run");
    }
}
