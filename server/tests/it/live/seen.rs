//! On a bucket without versioning the live grace comes from what scans saw of the pointer
//! (`live-seen.json`): every change inside the grace is remembered, however many.

use super::{eight_deployments, plan_with_pointer, point, reason_of};
use bucket::testkit::fresh_bucket;

#[tokio::test]
async fn every_deployment_scans_saw_live_inside_the_grace_keeps_it_however_many_moves() {
    // Before: the record kept the newest 20 changes, so after 21 moves inside the grace the
    // deployment live before them was planned for deletion, without a word.
    let b = fresh_bucket("live-seen-many").await;
    eight_deployments(&b).await;
    point(&b, "d2").await;
    plan_with_pointer(b.name(), &[]);
    for n in 0..22 {
        point(&b, if n % 2 == 0 { "d7" } else { "d8" }).await;
        plan_with_pointer(b.name(), &[]);
    }
    let r = plan_with_pointer(b.name(), &[]);
    assert!(
        reason_of(&r, "d2").starts_with("keep: was live until "),
        "{r:?}"
    );
    assert_eq!(reason_of(&r, "d1"), "delete: rank 8 > 2", "{r:?}");
}
