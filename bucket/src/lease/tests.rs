//! The lease's record read and shown: dates, clocks, holders gone from this host.

use super::*;

fn holder(json: &str) -> LeaseHolder {
    serde_json::from_str(json).unwrap()
}

#[test]
fn a_lease_valid_past_its_start_day_says_the_date_it_ends() {
    // Before: "valid until 10:00:00 UTC" for a lease valid three days more read, at 13:31,
    // as one already expired.
    let days = holder(
        r#"{"run":"r1","who":"them","source":"cli","host":"h","since":"2026-12-06T10:00:00Z","expires":"2026-12-09T10:00:00Z"}"#,
    );
    assert!(
        days.to_string()
            .ends_with("since 2026-12-06 10:00:00 UTC, lease valid until 2026-12-09 10:00:00 UTC"),
        "{days}"
    );
    let minute = holder(
        r#"{"run":"r1","who":"them","source":"cli","host":"h","since":"2026-12-06T10:00:00Z","expires":"2026-12-06T10:01:00Z"}"#,
    );
    assert!(
        minute
            .to_string()
            .ends_with("lease valid until 10:01:00 UTC"),
        "{minute}"
    );
}

#[test]
fn a_holder_is_taken_for_gone_only_from_its_own_pid_namespace() {
    let me = LeaseHolder {
        pid: std::process::id(),
        pid_ns: pid_namespace(),
        ..holder(
            r#"{"run":"r2","who":"me","source":"cli","host":"node-1","since":"2026-12-05T00:00:00Z","expires":"2026-12-05T00:01:00Z","pid":1}"#,
        )
    };
    assert!(cfg!(not(target_os = "linux")) || !me.pid_ns.is_empty());
    let other = |ns: &str| {
        holder(&format!(
            r#"{{"run":"r1","who":"them","source":"cli","host":"node-1","since":"2026-12-05T00:00:00Z","expires":"2099-01-01T00:00:00Z","pid":4294967294,"pid_ns":"{ns}"}}"#
        ))
    };
    // Another container on the same host (host networking): its pid is not ours to look up.
    assert!(!other("pid:[1]").is_dead_here(&me));
    // A lease written before namespaces were recorded: wait for its expiry.
    assert!(!other("").is_dead_here(&me));
    if cfg!(target_os = "linux") {
        assert!(
            other(&me.pid_ns).is_dead_here(&me),
            "same namespace, no such process"
        );
    }
}

#[test]
fn a_refusal_names_what_holds_the_bucket_and_a_newer_task_still_holds() {
    let held = |task: &str| {
        let json = format!(
            r#"{{"run":"r3","who":"them","source":"cli","host":"h","since":"2026-12-06T10:00:00Z","expires":"2026-12-06T10:01:00Z"{task}}}"#
        );
        LeaseError::Held(holder(&json)).to_string()
    };
    // Written before the lease said what holds it: an apply or a restore.
    assert!(held("").starts_with("another apply holds this bucket: them (cli on h"));
    assert!(held(r#","task":"apply""#).starts_with("another apply holds"));
    assert!(held(r#","task":"restore""#).starts_with("another restore holds"));
    assert!(held(r#","task":"undo-window""#).starts_with("another undo-window change holds"));
    // A task only a newer s3-prune knows: the lease is still read, and still holds.
    assert!(held(r#","task":"compact""#).starts_with("another run holds"));
}
