//! The end record's two forms, written and read back.

use super::*;
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
