//! A big deployment whose handover to lifecycle was refused because pins could not be read
//! stays whole for the rest of the run: a later reading that works does not send it to
//! deletion by requests.

use crate::common::{ended_within, endpoint, json, stdout};
use bucket::testkit::{fresh_bucket, keys_under, remove_keys};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

async fn until_count(what: &str, counted: &AtomicU64, at_least: u64) {
    let started = std::time::Instant::now();
    while counted.load(Ordering::SeqCst) < at_least {
        assert!(started.elapsed() < Duration::from_secs(60), "never: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_deployment_left_for_unreadable_pins_at_its_handover_stays_whole() {
    // Before: its handover saw the pins unreadable and sent it to be deleted by requests, whose
    // reading worked: deleted, while the record said it was left whole though confirmed.
    let b = fresh_bucket("lc-unread").await;
    super::big_mid_new(&b).await;
    // The run's start held 3 s (the handover waits for it); every reading of pins 1.5 s.
    let (url, proxy) = endpoint(|p| {
        p.delay_put = Some(("/folders.json".into(), Duration::from_secs(3)));
        p.delay_get = Some(("pins.json".into(), Duration::from_millis(1500)));
    })
    .await;
    let child = super::apply_through_handing_over(&url, b.name());
    let s = &proxy.stats;
    until_count("the run's start", &s.puts_delayed, 1).await;
    let read = s.gets_delayed.load(Ordering::SeqCst);
    b.put(&b.pins_key(), b"{".to_vec(), "application/json", &[])
        .await
        .unwrap();
    // The handover's reading (of the damaged pins), then the next one: pins readable again.
    until_count("the handover's reading", &s.gets_delayed, read + 1).await;
    until_count("the next reading", &s.gets_delayed, read + 2).await;
    remove_keys(&b, [b.pins_key()]).await;
    let out = ended_within(child, 90, "the apply").await;
    assert!(!out.status.success(), "{}", stdout(&out));
    let report = json(&out);
    assert_eq!(keys_under(&b, "big/").await.len(), 3, "{report}");
    assert!(keys_under(&b, "mid/").await.is_empty(), "{report}");
    let audit = &report["audit"];
    assert_eq!(audit["status"], "failed", "{report}");
    assert!(
        !audit["deleted"].to_string().contains("\"big\""),
        "{report}"
    );
    let held = audit["held"].to_string();
    assert!(
        held.contains("big") && held.contains("unreadable mid-run"),
        "{report}"
    );
    assert!(
        audit["failures"]
            .to_string()
            .contains("left whole though confirmed"),
        "{report}"
    );
    assert!(
        super::rules(&b).await.iter().all(|r| !r.1.contains("big")),
        "{report}"
    );
}
