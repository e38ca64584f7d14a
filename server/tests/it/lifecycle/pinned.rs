//! A pin set while a run's handover is on its way to S3 still holds: the pin's own withdrawal
//! reads the rules before the new one is there and withdraws nothing, so the run asks once more
//! after writing and withdraws the rule of what is pinned now.

use super::{big_mid_new, expiries, rules};
use crate::common::{s3_prune, stderr, stdout};
use crate::proxy::{start, Proxy};
use bucket::testkit::{all_keys, fresh_bucket};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// big (3 objects, the oldest) is doomed and over the threshold; the run's lifecycle write is
/// held 3 s at the proxy, and `pin big` lands meanwhile (straight to S3: it reads the rules
/// before the handover's rule is there). Before, the run had asked the pins before writing and
/// left the rule: S3 would have expired the pinned folder. Now its rule is withdrawn at once,
/// on record as withdrawn because pinned, and nothing of big is deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_set_while_the_handover_is_written_withdraws_its_rule() {
    let b = fresh_bucket("lc-pinned").await;
    big_mid_new(&b).await;
    let mut p = Proxy::new(0);
    p.delay_put_query = Some(("lifecycle".into(), Duration::from_secs(3)));
    let (url, proxy) = start(p).await;
    let run = super::apply_through_handing_over(&url, b.name());
    let began = Instant::now();
    while proxy.stats.puts_delayed.load(Ordering::SeqCst) == 0 {
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "the handover was never written"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pinned = s3_prune(&["pin", b.name(), "big", "--localstack"]);
    assert!(pinned.status.success(), "{}", stderr(&pinned));

    let out = run.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(&out), stderr(&out)));
    assert!(
        rules(&b)
            .await
            .iter()
            .all(|(_, prefix, _)| prefix != "big/"),
        "no rule expires the pinned folder: {:?}\n{v}",
        rules(&b).await
    );
    assert_eq!(
        expiries(&v),
        vec![("big".to_string(), "withdrawn".to_string())],
        "{v}"
    );
    let reason = v["audit"]["expiries"][0]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("pinned"), "{v}");
    let keys = all_keys(&b).await;
    assert_eq!(
        keys.iter().filter(|k| k.starts_with("big/")).count(),
        3,
        "{keys:?}"
    );
    assert!(
        !keys.iter().any(|k| k.starts_with("mid/")),
        "mid is deleted: {keys:?}"
    );
}
