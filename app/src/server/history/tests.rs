//! History's order across pages and what a row says a run undid.

use super::rows::undid;
use super::*;

fn record(id: Option<i64>, run: Option<&str>) -> audit::Record {
    audit::Record {
        id,
        run: run.map(str::to_string),
        ..audit::Record::begin("a", "cli", "b", "", Utc::now())
    }
}

#[test]
fn record_numbers_tie_by_number_and_before_run_ids() {
    let mut ties: Vec<Tie> = ["20261204T013000123Z-9f3a61c2", "#10", "#9", "#100"]
        .into_iter()
        .map(Tie::of)
        .collect();
    ties.sort();
    assert_eq!(
        ties,
        [
            Tie::Number(9),
            Tie::Number(10),
            Tie::Number(100),
            Tie::Run("20261204T013000123Z-9f3a61c2".into())
        ]
    );
}

#[test]
fn a_restore_names_the_run_it_undid_by_run_id_or_says_whose_number_it_is() {
    let id = "20261204T013000123Z-9f3a61c2";
    let shown = |r: &audit::Record| undid(r, |_| None).map(|u| (u.shown, u.key));
    let mut by_id = record(None, Some("20261205T013000123Z-00000001"));
    by_id.policy = serde_json::json!({ "restore_of": id });
    assert_eq!(shown(&by_id), Some((id.into(), Some(id.into()))));

    // This server's restore of its #5: shown as #5, matched by #5's run id when recorded.
    let mut ours = record(Some(7), None);
    ours.policy = serde_json::json!({ "restore_of": "5", "restore_of_run": id });
    ours.restore_of = Some(5);
    assert_eq!(shown(&ours), Some(("#5".into(), Some(id.into()))));
    ours.policy = serde_json::json!({ "restore_of": "5" });
    assert_eq!(shown(&ours), Some(("#5".into(), Some("#5".into()))));
    // recorded before restore_of_run was: #5's own record names its run
    let looked_up = undid(&ours, |n| (n == 5).then(|| id.to_string())).map(|u| u.key);
    assert_eq!(looked_up, Some(Some(id.into())));

    // Another machine's restore of its #5, from the journal: not this server's #5.
    let mut theirs = record(None, Some("20261205T013000123Z-00000002"));
    theirs.policy = serde_json::json!({ "restore_of": "5" });
    theirs.restore_of = Some(5);
    theirs.host = Some("laptop".into());
    assert_eq!(shown(&theirs), Some(("#5 on laptop".into(), None)));
    theirs.policy = serde_json::json!({ "restore_of": "5", "restore_of_run": id });
    assert_eq!(shown(&theirs), Some((id.into(), Some(id.into()))));

    assert!(undid(&record(Some(1), None), |_| None).is_none());
}

#[test]
fn a_row_carries_counts_not_lists_and_details_cut_long_lists() {
    let mut r = record(Some(3), Some("20261204T013000123Z-9f3a61c2"));
    r.deleted = (0..250)
        .map(|i| audit::DeletedDeployment {
            id: format!("d{i}"),
            objects: 2,
            bytes: 10,
        })
        .collect();
    r.failures = vec![audit::Failure {
        key: "d1/x".into(),
        error: "AccessDenied".into(),
    }];
    let row = row(&r, |_| None);
    assert_eq!((row.deployments, row.objects, row.bytes), (250, 500, 2500));
    assert_eq!((row.label.as_str(), row.handle.as_str()), ("#3", "3"));
    assert_eq!(row.key, "20261204T013000123Z-9f3a61c2");
    let d = details(&r);
    assert_eq!(d.deployments.len(), RunDetails::SHOWN);
    assert_eq!(d.failures, vec!["d1/x: AccessDenied"]);
    assert_eq!(d.not_shown, 50);
    // A deployment only partly deleted comes first in the details, and counts in the row.
    r.partly = vec![audit::Partly {
        deployment: "big".into(),
        deleted: 1000,
        listed: 1500,
        reason: "the run stopped before the rest of it was sent".into(),
    }];
    assert_eq!(super::row(&r, |_| None).failures, 2);
    assert_eq!(
        details(&r).failures,
        vec![
            "big: partly deleted (1000 of 1500 objects), the run stopped before the rest of it \
             was sent",
            "d1/x: AccessDenied"
        ]
    );
}
