//! The two-person rule beyond the dashboard: a dashboard started with `--approval-over N`
//! records it in the bucket, and the CLI then says how to get an approval instead of applying
//! a larger set — or, with `--without-approval`, applies with the person's own S3 rights and
//! the record says so.

use crate::common::{deploy_seconds_apart, json, s3_prune, stderr};
use crate::serve::serve;
use bucket::testkit::{all_keys, fresh_bucket};

fn deployments(keys: &[String]) -> Vec<String> {
    let mut ids: Vec<String> = keys
        .iter()
        .filter(|k| !k.contains(".s3-prune/"))
        .filter_map(|k| k.split_once('/').map(|(d, _)| d.to_string()))
        .collect();
    ids.dedup();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_sends_a_large_apply_to_the_dashboard_for_approval_and_deletes_nothing() {
    let b = fresh_bucket("approval-cli").await;
    deploy_seconds_apart(&b, &["d1", "d2", "d3", "d4", "d5"]).await;
    // A threshold for a bucket the dashboard does not serve is a mistake, said at start.
    let typo = s3_prune(&[
        "serve",
        "--bucket",
        b.name(),
        "--localstack",
        "--approval-over",
        "site-b=0",
        "--trust-user-header",
        "X-Forwarded-User",
        "--trusted-proxy",
        "127.0.0.1",
    ]);
    assert_ne!(typo.status.code(), Some(0));
    assert!(
        stderr(&typo).contains("no --bucket site-b is served"),
        "{}",
        stderr(&typo)
    );
    // The team's dashboard asks for a second deployer above 1 deployment in this bucket
    // (its own threshold, over a default of 10).
    let own = format!("{}=1", b.name());
    let s = serve(
        b.name(),
        &[
            "--approval-over",
            "10",
            "--approval-over",
            &own,
            "--trust-user-header",
            "X-Forwarded-User",
            "--trusted-proxy",
            "127.0.0.1",
        ],
    );
    // With the access token everyone is one person: nobody could approve, and the rule it
    // would record would hold up the CLI. Refused at start (before, it started and every
    // larger apply waited for an approval no one could give).
    // (On the dashboard's own address: a dashboard that starts anyway stops at once.)
    let token_only = s3_prune(&[
        "serve",
        "--bucket",
        b.name(),
        "--localstack",
        "--approval-over",
        "1",
        "--addr",
        &s.addr,
    ]);
    assert_eq!(token_only.status.code(), Some(2), "{}", stderr(&token_only));
    assert!(
        stderr(&token_only).contains("--approval-over (serve.approval_over, [serve.approval_over_for]) needs people signed in by name"),
        "{}",
        stderr(&token_only)
    );
    let rule = loop {
        if let Some(r) = prune::approval::read_rule(&b).await.unwrap() {
            break r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(rule.over, 1);
    assert!(
        rule.dashboard.starts_with("http://127.0.0.1:"),
        "{}",
        rule.dashboard
    );
    drop(s);

    let out = s3_prune(&["apply", b.name(), "2", "--yes", "--localstack"]);
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("asks a second deployer to approve applies of more than 1"),
        "{err}"
    );
    assert!(
        err.contains(&rule.dashboard) && err.contains("--without-approval"),
        "{err}"
    );
    assert_eq!(
        deployments(&all_keys(&b).await),
        ["d1", "d2", "d3", "d4", "d5"]
    );

    // One deployment is within what one person may do.
    let one = s3_prune(&["apply", b.name(), "4", "--yes", "--localstack", "--json"]);
    assert_eq!(one.status.code(), Some(0), "{}", stderr(&one));
    assert_eq!(deployments(&all_keys(&b).await), ["d2", "d3", "d4", "d5"]);

    // With their own S3 rights a person may go ahead; the record names it.
    let forced = s3_prune(&[
        "apply",
        b.name(),
        "2",
        "--yes",
        "--localstack",
        "--json",
        "--without-approval",
    ]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert!(stderr(&forced).contains("without the second deployer's approval"));
    let who = json(&forced)["audit"]["who"].as_str().unwrap().to_string();
    assert!(who.ends_with("(without approval)"), "{who}");
    assert_eq!(deployments(&all_keys(&b).await), ["d4", "d5"]);
}
