//! A second pair of eyes: a large apply waits for another deployer, and a request that changed,
//! expired, was written by hand or is approved by its own requester deletes nothing.

use super::*;

/// As `serve --approval-over N --notify URL` (`for_bucket`: `--approval-over BUCKET=N`, and
/// another bucket's threshold that must not apply): the webhook's bodies land in the list.
async fn approving(
    b: &Bucket,
    over: u64,
    for_bucket: bool,
) -> (Arc<AppState>, Arc<Mutex<Vec<serde_json::Value>>>) {
    let (url, bodies) = webhook().await;
    let (default, own) = match for_bucket {
        false => (Some(over), vec![]),
        true => (
            None,
            vec![(b.name().to_string(), over), ("other-bucket".into(), 99)],
        ),
    };
    let state = Arc::new(AppState::new(ServeConfig {
        approval_over: default,
        approval_over_for: own.into_iter().collect(),
        notifier: prune::Notifier::new(vec![url.parse().unwrap()]),
        ..config(b, None)
    }));
    (state, bodies)
}

/// A dashboard asking approval over one deployment (as [`approving`]), and alice's request to
/// delete two of `b`'s three: its id.
pub(super) async fn alice_asks(
    b: &Bucket,
) -> (Arc<AppState>, Arc<Mutex<Vec<serde_json::Value>>>, String) {
    let (state, hook) = approving(b, 1, false).await;
    let big = preview(&state, b.name(), 1).await;
    let ApplyOutcome::AwaitingApproval { id, .. } =
        state.start_apply(big, "alice@example.com").await.unwrap()
    else {
        panic!("a 2-deployment apply ran without approval")
    };
    (state, hook, id)
}

/// A webhook receiver on loopback: one request per connection, every JSON body kept.
async fn webhook() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = bodies.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Headers, then as many body bytes as Content-Length says.
            let body = loop {
                let n = conn.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len: usize = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break Some(buf[end + 4..end + 4 + len].to_vec());
                    }
                }
            };
            if let Some(body) = body {
                if let Ok(v) = serde_json::from_slice(&body) {
                    kept.lock().unwrap().push(v);
                }
            }
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await;
        }
    });
    (url, bodies)
}

/// The bucket's keys but s3-prune's own (`.s3-prune/`: approvals, pins).
pub(super) async fn deployment_keys(b: &Bucket) -> Vec<String> {
    let mut keys = all_keys(b).await;
    keys.retain(|k| !k.contains(".s3-prune/"));
    keys
}

#[tokio::test]
async fn a_large_apply_waits_for_a_second_deployer_and_the_requester_cannot_approve_it() {
    let b = seeded("sf-approve", &["d1", "d2", "d3", "d4"]).await;
    let (state, hook) = approving(&b, 2, false).await;
    // Two deployments: within what one person may do.
    let small = preview(&state, b.name(), 2).await;
    assert_eq!(small.confirmed.len(), 2);
    let big = preview(&state, b.name(), 1).await;
    let alice = app::server::Actor {
        name: "alice@example.com".into(),
        via: Some("oidc".into()),
        account: Some("https://idp.example.com#alice".into()),
    };
    let ApplyOutcome::AwaitingApproval { id, message } =
        state.start_apply(big, alice).await.unwrap()
    else {
        panic!("a 3-deployment apply ran without approval")
    };
    assert!(message.contains("second deployer"), "{message}");
    assert_eq!(
        deployment_keys(&b).await.len(),
        8,
        "nothing deleted while it waits"
    );
    let listed = state
        .approvals(b.name(), "alice@example.com")
        .await
        .unwrap();
    assert_eq!(
        (listed[0].id.as_str(), listed[0].mine, listed[0].pending),
        (id.as_str(), true, true)
    );
    assert_eq!(listed[0].ids, vec!["d2", "d3", "d4"]);

    let own = state
        .approve(b.name(), &id, b.name(), "alice@example.com")
        .await
        .unwrap_err();
    assert!(own.0.contains("another deployer"), "{}", own.0);
    let bob = app::wire::Person {
        name: "bob@example.com".into(),
        via: "oidc".into(),
        role: app::wire::Role::Deployer,
        bucket_roles: Default::default(),
        account: "https://idp.example.com#bob".into(),
    };
    let ApplyOutcome::Started { job } = state.approve(b.name(), &id, b.name(), &bob).await.unwrap()
    else {
        panic!("the approved request did not run")
    };
    let report = report_of(&state, job).await;
    assert_eq!(report.deleted.len(), 3);
    assert_eq!(
        report.who,
        "alice@example.com (approved by bob@example.com)"
    );
    assert_eq!(
        report.via.as_deref(),
        Some("oidc"),
        "how the approver signed in"
    );
    assert_eq!(
        deployment_keys(&b).await,
        vec!["d1/app.css", "d1/index.html"]
    );
    // Decided once: nobody approves it again.
    let again = state
        .approve(b.name(), &id, b.name(), "carol@example.com")
        .await
        .unwrap_err();
    assert!(
        again
            .0
            .contains("already decided: approved by bob@example.com"),
        "{}",
        again.0
    );
    let listed = state
        .approvals(b.name(), "carol@example.com")
        .await
        .unwrap();
    assert_eq!(
        (listed[0].pending, listed[0].status.as_str()),
        (false, "approved by bob@example.com")
    );
    // The webhooks heard the request and its approval (then the run's own summary).
    assert_eq!(statuses(&hook), vec!["requested", "approved"]);
    let asked = hook.lock().unwrap()[0]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        asked.contains("alice@example.com asks a second deployer"),
        "{asked}"
    );
}

/// The approver types the bucket's name, as every apply asks: approving a request with
/// another name (or none) decides nothing and deletes nothing; the request still waits.
#[tokio::test]
async fn approving_without_typing_the_bucket_name_decides_nothing_and_deletes_nothing() {
    let b = seeded("sf-approve-typed", &["d1", "d2", "d3"]).await;
    let (state, hook, id) = alice_asks(&b).await;
    for typed in ["", "another-bucket", &b.name()[1..]] {
        let err = state
            .approve(b.name(), &id, typed, "bob@example.com")
            .await
            .unwrap_err();
        assert!(err.0.contains("type the bucket name"), "{}", err.0);
    }
    assert_eq!(deployment_keys(&b).await.len(), 6, "nothing deleted");
    let listed = state.approvals(b.name(), "bob@example.com").await.unwrap();
    assert!(listed[0].pending, "still waiting: {}", listed[0].status);
    assert_eq!(statuses(&hook), vec!["requested"]);
    // Typed right, it runs.
    let ApplyOutcome::Started { job } = state
        .approve(b.name(), &id, &format!(" {} ", b.name()), "bob@example.com")
        .await
        .unwrap()
    else {
        panic!("the approved request did not run")
    };
    assert_eq!(report_of(&state, job).await.deleted.len(), 2);
}

/// An approved request runs whatever befalls the webhooks: here one that never answers, and
/// the approver's request dropped while it waits (a closed tab, a proxy's timeout). Before,
/// the webhooks were told first: the decision stood "approved", nothing ran, and nobody could
/// decide the request again (review).
#[tokio::test]
async fn an_approval_runs_though_its_request_goes_away_while_the_webhooks_wait() {
    let b = seeded("sf-approve-drop", &["d1", "d2", "d3"]).await;
    let (_state, _hook, id) = alice_asks(&b).await;
    // The approver's dashboard (same bucket and seal): its webhook accepts and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            held.push(conn);
        }
    });
    let approver = Arc::new(AppState::new(ServeConfig {
        approval_over: Some(1),
        notifier: prune::Notifier::new(vec![silent.parse().unwrap()]),
        ..config(&b, None)
    }));
    // The approver's request goes away after 3 s, whatever it was waiting for (before: the
    // silent webhook, so nothing was launched; now the webhooks are told in the background).
    let approving = approver.approve(b.name(), &id, b.name(), "bob@example.com");
    let _ = tokio::time::timeout(Duration::from_secs(3), approving).await;
    let t = std::time::Instant::now();
    while deployment_keys(&b).await.len() != 2 {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "approved, and nothing ran: {:?}",
            deployment_keys(&b).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_runs_though_its_request_goes_away_while_its_decision_is_written() {
    // Before: a request dropped between the decision's write reaching S3 and its answer left
    // the request approved on record and nothing launched (nor could it be decided again).
    let b = seeded("sf-approve-mid-write", &["d1", "d2", "d3"]).await;
    let (_state, _hook, id) = alice_asks(&b).await;
    // The approver's dashboard talks to S3 through a proxy that holds the answer to the
    // decision's write for 5 s (S3 has stored it by then).
    let approver = super::held::approver_held(&b).await;
    tokio::select! {
        r = approver.approve(b.name(), &id, b.name(), "bob@example.com") => {
            panic!("answered before its decision's write was: {r:?}")
        }
        () = super::held::decided(&b, &id) => {}
    }
    // The request is gone (dropped above); what is on record as approved runs.
    let t = std::time::Instant::now();
    while deployment_keys(&b).await.len() != 2 {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "approved on record, and nothing ran: {:?}",
            deployment_keys(&b).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_request_whose_deletion_set_changed_is_void_and_deletes_nothing() {
    let b = seeded("sf-void", &["d1", "d2", "d3", "d4"]).await;
    let (state, hook) = approving(&b, 0, true).await;
    let req = preview(&state, b.name(), 2).await;
    let ApplyOutcome::AwaitingApproval { id, .. } = state.start_apply(req, "alice").await.unwrap()
    else {
        panic!("ran without approval")
    };
    // A deployment pinned since the request: the plan no longer deletes what alice confirmed.
    state
        .set_pin(b.name(), "d3", "keep for the audit", true, "carol")
        .await
        .unwrap();
    let ApplyOutcome::Changed { message } =
        state.approve(b.name(), &id, b.name(), "bob").await.unwrap()
    else {
        panic!("a changed request ran")
    };
    assert!(message.contains("void"), "{message}");
    // Says what changed (before: "changed", nothing more).
    assert!(message.contains("No longer to delete: d3."), "{message}");
    assert_eq!(deployment_keys(&b).await.len(), 8, "nothing deleted");
    let listed = state.approvals(b.name(), "bob").await.unwrap();
    assert!(listed[0].status.starts_with("void"), "{}", listed[0].status);
    // A refusal is on record too, and is final.
    let req = preview(&state, b.name(), 1).await;
    let ApplyOutcome::AwaitingApproval { id, .. } = state.start_apply(req, "alice").await.unwrap()
    else {
        panic!("ran without approval")
    };
    state.refuse_request(b.name(), &id, "bob").await.unwrap();
    let late = state
        .approve(b.name(), &id, b.name(), "carol")
        .await
        .unwrap_err();
    assert!(late.0.contains("refused by bob"), "{}", late.0);
    assert_eq!(deployment_keys(&b).await.len(), 8);
    // The refused (sealed) request copied under a new id is not a new request.
    let place = bucket::JournalPlace::of(&b).approvals();
    let body = place
        .read(&bucket::RunId::parse(&id).unwrap(), "request.json")
        .await
        .unwrap()
        .unwrap();
    let copy = bucket::RunId::new(chrono::Utc::now());
    place.write(&copy, "request.json", body).await.unwrap();
    let copied = state
        .approve(b.name(), &copy.to_string(), b.name(), "carol")
        .await
        .unwrap_err();
    assert!(copied.0.contains("it says it is request"), "{}", copied.0);
    assert_eq!(deployment_keys(&b).await.len(), 8);
    assert_eq!(
        statuses(&hook),
        vec!["requested", "void", "requested", "refused"]
    );
}

#[tokio::test]
async fn a_request_nobody_decided_in_time_expires_on_record_and_cannot_be_approved() {
    let b = seeded("sf-expire", &["d1", "d2", "d3"]).await;
    let (state, hook) = approving(&b, 0, false).await;
    let req = preview(&state, b.name(), 1).await;
    // Filed 25 hours ago: past its 24 hours.
    let mut old = prune::approval::ApprovalRequest::new(
        &b,
        "alice",
        prune::approval::Asked {
            retain: 1,
            min_days: None,
            policy: None,
        },
        req.confirmed,
        "fingerprint".into(),
    );
    old.requested_at -= chrono::Duration::hours(25);
    old.expires_at -= chrono::Duration::hours(25);
    let old = prune::approval::file_request(&b, old, &approval_key(), &prune::Notifier::default())
        .await
        .unwrap();
    let listed = state.approvals(b.name(), "bob").await.unwrap();
    assert_eq!(
        (listed[0].pending, listed[0].status.as_str()),
        (false, "expired")
    );
    let late = state
        .approve(b.name(), &old.id, b.name(), "bob")
        .await
        .unwrap_err();
    assert!(late.0.contains("expired"), "{}", late.0);
    assert_eq!(deployment_keys(&b).await.len(), 6, "nothing deleted");
    // The expiry is on record now (a decision), and the webhooks heard it.
    let a = prune::approval::read(&b, &old.id).await.unwrap();
    assert!(matches!(
        a.decision,
        Some(prune::approval::Decision::Expired { .. })
    ));
    assert_eq!(statuses(&hook), vec!["expired"]);
}

/// "Nobody decides their own request" holds for the account, not only the name it shows: who
/// changed their email at the provider (same `sub`) still cannot approve what they asked.
#[tokio::test]
async fn a_requester_who_signs_in_under_a_new_name_still_cannot_approve_their_request() {
    let b = seeded("sf-renamed", &["d1", "d2", "d3"]).await;
    let (state, _hook) = approving(&b, 0, false).await;
    let person = |name: &str, account: &str| app::server::Actor {
        name: name.into(),
        via: Some("oidc".into()),
        account: Some(account.into()),
    };
    let req = preview(&state, b.name(), 1).await;
    let asked = state
        .start_apply(
            req,
            person("alice@example.com", "https://idp.example.com#a1"),
        )
        .await
        .unwrap();
    let ApplyOutcome::AwaitingApproval { id, .. } = asked else {
        panic!("ran without approval")
    };
    let own = state
        .approve(
            b.name(),
            &id,
            b.name(),
            person("alice.new@example.com", "https://idp.example.com#a1"),
        )
        .await
        .unwrap_err();
    assert!(own.0.contains("another deployer"), "{}", own.0);
    let own = state
        .refuse_request(
            b.name(),
            &id,
            person("alice.new@example.com", "https://idp.example.com#a1"),
        )
        .await
        .unwrap_err();
    assert!(own.0.contains("another deployer"), "{}", own.0);
    // Nor under a bare name — a dashboard sharing the approval key that signs people in by a
    // proxy header (or the token), or through another provider: before, `alice` approved
    // `alice@example.com`'s request there and the apply ran.
    let elsewhere = [
        app::server::Actor {
            name: "alice".into(),
            via: Some("proxy".into()),
            account: None,
        },
        person("alice", "https://other-idp.example.com#a1"),
    ];
    for actor in elsewhere {
        let err = state
            .approve(b.name(), &id, b.name(), actor)
            .await
            .unwrap_err();
        assert!(
            err.0.contains("signed in through https://idp.example.com"),
            "{}",
            err.0
        );
    }
    assert_eq!(deployment_keys(&b).await.len(), 6, "nothing deleted");
    // Someone else (another account) may.
    let ApplyOutcome::Started { .. } = state
        .approve(
            b.name(),
            &id,
            b.name(),
            // (a `sub` may hold `#`: the issuer is what comes before the first one)
            person("bob@example.com", "https://idp.example.com#b#2"),
        )
        .await
        .unwrap()
    else {
        panic!("bob's approval did not run it")
    };
}

/// The bucket's two-person rule (`approval.json`, recorded by the team's dashboard) holds on
/// every dashboard: one started without `--approval-over` (a laptop's, token sign-in) refuses a
/// larger apply and names where to ask; one with a laxer threshold asks at the stricter one; and
/// none weakens the recorded rule when it starts.
#[tokio::test]
async fn the_buckets_two_person_rule_holds_on_a_dashboard_started_without_it() {
    let b = seeded("sf-rule", &["d1", "d2", "d3", "d4"]).await;
    let rule = prune::approval::ApprovalRule {
        over: 1,
        dashboard: "https://prune.example.com".into(),
        set_at: chrono::Utc::now(),
    };
    prune::approval::write_rule(&b, &rule).await.unwrap();
    let laptop = state_for(&b);
    let req = preview(&laptop, b.name(), 1).await;
    assert_eq!(req.confirmed.len(), 3);
    let refused = match laptop.start_apply(req.clone(), "mallory").await {
        Err(e) => e.0,
        Ok(outcome) => panic!("ran past the bucket's rule: {outcome:?}"),
    };
    assert!(refused.contains("https://prune.example.com"), "{refused}");
    assert!(refused.contains("Nothing was deleted"), "{refused}");
    assert_eq!(deployment_keys(&b).await.len(), 8, "nothing deleted");

    let (lax, _hook) = approving(&b, 5, false).await;
    lax.publish_approval_rule("https://lax.example.com")
        .await
        .unwrap();
    let kept = prune::approval::read_rule(&b).await.unwrap().unwrap();
    assert_eq!(
        (kept.over, kept.dashboard.as_str()),
        (1, "https://prune.example.com")
    );
    let ApplyOutcome::AwaitingApproval { .. } = lax.start_apply(req, "alice").await.unwrap() else {
        panic!("3 deployments, more than the bucket's 1: a request")
    };
    assert_eq!(deployment_keys(&b).await.len(), 8, "nothing deleted");
}

/// A `--read-only` dashboard records no two-person rule in the bucket: before, a read-only
/// mirror started with the team's `--approval-over` replaced the rule's dashboard with itself,
/// and the CLI sent people to ask for approvals where every apply is refused.
#[tokio::test]
async fn a_read_only_dashboard_does_not_name_itself_where_to_ask() {
    let b = seeded("sf-ro-rule", &["d1", "d2"]).await;
    let rule = prune::approval::ApprovalRule {
        over: 2,
        dashboard: "https://prune.example.com".into(),
        set_at: chrono::Utc::now(),
    };
    prune::approval::write_rule(&b, &rule).await.unwrap();
    let mirror = AppState::new(ServeConfig {
        approval_over: Some(2),
        read_only: true,
        ..config(&b, None)
    });
    mirror
        .publish_approval_rule("https://mirror.example.com")
        .await
        .unwrap();
    let kept = prune::approval::read_rule(&b).await.unwrap().unwrap();
    assert_eq!(kept.dashboard, "https://prune.example.com");
}

/// Someone who may write under the bucket's `.s3-prune/` (a deploy pipeline's PutObject) but is
/// one person on the dashboard cannot file a request in another's name and approve it: a
/// request not sealed with this dashboard's approval key is never run.
#[tokio::test]
async fn a_request_written_into_the_bucket_by_hand_cannot_be_approved_and_deletes_nothing() {
    let b = seeded("sf-forged", &["d1", "d2", "d3"]).await;
    let (state, _hook) = approving(&b, 0, false).await;
    let req = preview(&state, b.name(), 1).await;
    let view = state.scan_view(Some(b.name()), false).await.unwrap();
    let mut p = Policy::new(Retain::new(1).unwrap());
    p.date_source = view.date_source.clone();
    let fingerprint = retention::plan(&view.inventory, &p, view.now).fingerprint();
    // Mallory writes a request "by carol" for what she previewed, then approves it herself.
    let forged = prune::approval::ApprovalRequest::new(
        &b,
        "carol@example.com",
        prune::approval::Asked {
            retain: 1,
            min_days: None,
            policy: None,
        },
        req.confirmed,
        fingerprint,
    );
    let run = bucket::RunId::parse(&forged.id).unwrap();
    bucket::JournalPlace::of(&b)
        .approvals()
        .write(&run, "request.json", serde_json::to_vec(&forged).unwrap())
        .await
        .unwrap();
    let refused = state
        .approve(b.name(), &forged.id, b.name(), "mallory@example.com")
        .await;
    let err = match refused {
        Err(e) => e.0,
        Ok(outcome) => panic!("a forged request was run: {outcome:?}"),
    };
    assert!(err.contains("not sealed"), "{err}");
    assert!(err.contains("--approval-key-file"), "{err}");
    assert_eq!(deployment_keys(&b).await.len(), 6, "nothing deleted");
    // Nor is it listed as waiting for a second deployer (before, it was, naming carol).
    let listed = state
        .approvals(b.name(), "mallory@example.com")
        .await
        .unwrap();
    let shown = listed.iter().find(|a| a.id == forged.id).expect("listed");
    assert!(!shown.pending, "{shown:?}");
    assert!(
        shown.status.contains("not filed by this dashboard"),
        "{shown:?}"
    );
}

/// Behind a proxy (no account to compare), the requester's name in another case or with spaces
/// around it is still the requester: they may neither approve nor refuse their own request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_in_another_case_is_still_the_requester() {
    let b = seeded("sf-case", &["d1", "d2", "d3"]).await;
    let (state, _hook) = approving(&b, 0, false).await;
    let proxied = |name: &str| app::server::Actor {
        name: name.into(),
        via: Some("proxy".into()),
        account: None,
    };
    let req = preview(&state, b.name(), 1).await;
    let asked = state
        .start_apply(req, proxied("alice@example.com"))
        .await
        .unwrap();
    let ApplyOutcome::AwaitingApproval { id, .. } = asked else {
        panic!("ran without approval")
    };
    let own = state
        .refuse_request(b.name(), &id, proxied(" Alice@Example.com"))
        .await
        .unwrap_err();
    assert!(own.0.contains("another deployer"), "{}", own.0);
    assert_eq!(deployment_keys(&b).await.len(), 6, "nothing deleted");
}

/// A request filed behind a proxy carries a name and no account: an account's name cannot be
/// told apart from it (`alice` behind the proxy, `alice@example.com` through OpenID, on
/// dashboards sharing the approval key), and the token names nobody. Neither decides it; a
/// second person behind the proxy does. (Before: both approvals ran the apply.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_filed_request_is_decided_by_another_proxy_user_not_an_account_or_the_token() {
    let b = seeded("sf-proxy-filed", &["d1", "d2", "d3"]).await;
    let (state, _hook) = approving(&b, 0, false).await;
    let proxied = |name: &str| app::server::Actor {
        name: name.into(),
        via: Some("proxy".into()),
        account: None,
    };
    let req = preview(&state, b.name(), 1).await;
    let asked = state.start_apply(req, proxied("alice")).await.unwrap();
    let ApplyOutcome::AwaitingApproval { id, .. } = asked else {
        panic!("ran without approval")
    };
    let account = app::server::Actor {
        name: "alice@example.com".into(),
        via: Some("oidc".into()),
        account: Some("https://idp.example.com#a1".into()),
    };
    let err = state
        .approve(b.name(), &id, b.name(), account)
        .await
        .unwrap_err();
    assert!(err.0.contains("a name from a proxy header"), "{}", err.0);
    let token = app::server::Actor::from(&app::wire::Person::token_holder());
    let err = state
        .approve(b.name(), &id, b.name(), token.clone())
        .await
        .unwrap_err();
    assert!(err.0.contains("the token names nobody"), "{}", err.0);
    let err = state
        .refuse_request(b.name(), &id, token)
        .await
        .unwrap_err();
    assert!(err.0.contains("the token names nobody"), "{}", err.0);
    assert_eq!(deployment_keys(&b).await.len(), 6, "nothing deleted");
    let ApplyOutcome::Started { .. } = state
        .approve(b.name(), &id, b.name(), proxied("bob"))
        .await
        .unwrap()
    else {
        panic!("bob's approval did not run it")
    };
}
