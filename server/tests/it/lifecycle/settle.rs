//! S3's bucket configurations are eventually consistent: a read of the lifecycle rules right
//! after a write may still show the rules from before it. An edit made on such a read (each
//! writes back every rule it read) would put back a rule just withdrawn, and S3 would expire a
//! folder the plan keeps.

use super::{expiries, rules};
use crate::common::{put_seconds_apart, Run};
use crate::proxy::{start, Proxy};
use bucket::testkit::{all_keys, fresh_bucket};
use retention::DeploymentId;
use std::sync::atomic::Ordering;

/// One apply withdraws the rule of a folder it keeps now (big, re-deployed: the newest) and
/// then hands another over (old, doomed), through a proxy whose first three lifecycle reads
/// after each write answer the configuration from before it. The withdrawal waits until a read shows it,
/// so the handover's edit starts from the rules without big's. (Before, the handover read the
/// stale rules and wrote big's rule back: S3 would have expired the live deployment.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_does_not_put_back_a_lifecycle_rule_withdrawn_a_moment_before() {
    let b = fresh_bucket("lc-settle").await;
    put_seconds_apart(
        &b,
        vec![
            (0..3).map(|k| format!("old/f{k}")).collect(),
            vec!["mid/index.html".into()],
            (0..3).map(|k| format!("big/f{k}")).collect(),
        ],
    )
    .await;
    // big was handed over by an earlier run, and deployed again since: kept now.
    let big = DeploymentId::new("big").unwrap();
    b.expire_by_lifecycle(&[big], chrono::Utc::now().date_naive())
        .await
        .unwrap();
    let mut proxy = Proxy::new(0);
    proxy.stale_lifecycle = Some(3);
    let (url, proxy) = start(proxy).await;

    let v = Run::apply(b.name(), 1)
        .args(&["--via-lifecycle", "--lifecycle-threshold", "2"])
        .env("AWS_ENDPOINT_URL", &url)
        .json();
    assert!(
        proxy.stats.stale_lifecycle_reads.load(Ordering::SeqCst) > 0,
        "the proxy answered reads from before a write"
    );
    let mut states = expiries(&v);
    states.sort();
    assert_eq!(
        states,
        vec![
            ("big".into(), "withdrawn".into()),
            ("old".into(), "handed".into())
        ],
        "{v}"
    );
    let left: Vec<_> = rules(&b).await.into_iter().map(|r| r.1).collect();
    assert_eq!(
        left,
        vec!["old/"],
        "only the handover's rule: S3 leaves big alone"
    );
    let keys = all_keys(&b).await;
    assert_eq!(keys.iter().filter(|k| k.starts_with("big/")).count(), 3);
    assert!(!keys.iter().any(|k| k.starts_with("mid/")), "{keys:?}");
}
