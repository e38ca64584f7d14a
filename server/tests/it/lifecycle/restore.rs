//! `restore` of a run that handed deployments to S3 lifecycle expiration (`--via-lifecycle`)
//! where the run's deletes cannot be undone (an unversioned or suspended bucket): S3 has
//! deleted nothing of a handed folder yet, so the restore withdraws the rules, pins those
//! folders, and says that the rest is not restored.

use super::{apply, big_mid_new, expiries, rules};
use crate::common::{s3_prune, stdout};
use bucket::testkit::{all_keys, fresh_bucket, suspend_versioning};

/// On an unversioned bucket, and on a suspended one (its run left no delete markers), the
/// restore of a `--via-lifecycle` run withdraws its rules and exits 0, big whole and pinned,
/// saying why mid is not back. (It refused — "not versioned", "recorded no delete markers" —
/// exit 1, and left the rule: S3 expired big within a day or two.)
#[tokio::test]
async fn restoring_a_handover_run_withdraws_its_rules_where_deletes_cannot_be_undone() {
    for (hint, suspended, why) in [
        ("lc-restore-unversioned", false, "is not versioned"),
        ("lc-restore-suspended", true, "recorded no delete markers"),
    ] {
        let b = fresh_bucket(hint).await;
        if suspended {
            b.enable_versioning().await.unwrap();
            suspend_versioning(&b).await;
        }
        big_mid_new(&b).await;
        let v = apply(b.name());
        assert_eq!(expiries(&v), vec![("big".into(), "handed".into())], "{v}");
        let run = v["audit"]["run"].as_str().unwrap().to_string();
        let out = s3_prune(&["restore", b.name(), "--run", &run, "--localstack"]);
        let said = stdout(&out);
        assert!(
            out.status.success(),
            "{hint}: {said}{}",
            crate::common::stderr(&out)
        );
        assert_eq!(
            rules(&b).await,
            vec![],
            "{hint}: S3 will not expire big: {said}"
        );
        crate::common::assert_contains(&said, "withdrawn");
        crate::common::assert_contains(&said, why);
        crate::common::assert_contains(&said, "Pinned big");
        assert_eq!(
            all_keys(&b).await,
            vec!["big/f0", "big/f1", "big/f2", "new/index.html"],
            "{hint}: big was never gone, mid is gone for good"
        );
    }
}
