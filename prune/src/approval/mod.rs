//! The two-person rule's records: an apply that would delete more than a team allows alone
//! becomes a request, kept beside the bucket's runs (`…/approvals/<id>/request.json`) so every
//! dashboard sees it, and is decided once (`decision.json`, written only if absent: two people
//! approving at once cannot both win). A request binds what its requester confirmed — the
//! doomed set and the plan's fingerprint; whoever approves re-plans, and any change voids it.
//! Nobody decides their own request; a request not decided within its time expires. Each
//! request and decision also goes to the `--notify` webhooks (`kind: "approval"`). A request is
//! sealed by the dashboard that filed it ([`seal`]); one written by hand is never run.

use crate::{Notifier, Summary};
use bucket::{Bucket, JournalPlace, RunId, S3Error};
use chrono::{DateTime, Duration, Utc};
use retention::Doomed;
use serde::{Deserialize, Serialize};

mod seal;

pub use seal::{ApprovalKey, ShortKey, MIN_KEY};

/// What a bucket demands of every front end (`<prefix>.s3-prune/approval.json`, written by a
/// dashboard started with `--approval-over N`): applies deleting more than `over` deployments
/// need a second person. The CLI reads it and says how to get an approval instead of applying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRule {
    pub over: u64,
    /// The dashboard that takes the requests.
    pub dashboard: String,
    pub set_at: DateTime<Utc>,
}

const RULE: &str = "approval.json";

/// The bucket's approval rule, if one was set; an unreadable one counts as set (`over: 0`).
pub async fn read_rule(b: &Bucket) -> Result<Option<ApprovalRule>, S3Error> {
    Ok(b.read_state(RULE).await?.map(|body| {
        serde_json::from_slice(&body).unwrap_or(ApprovalRule {
            over: 0,
            dashboard: "(unreadable approval.json: ask whoever runs the dashboard)".into(),
            set_at: Utc::now(),
        })
    }))
}

/// Records the bucket's approval rule (a dashboard started with `--approval-over`).
pub async fn write_rule(b: &Bucket, rule: &ApprovalRule) -> Result<(), S3Error> {
    let body = serde_json::to_vec_pretty(rule).expect("a rule serializes");
    b.write_state(RULE, body).await
}

/// How long a request waits for a second person.
pub const APPROVAL_TTL_HOURS: i64 = 24;

const REQUEST: &str = "request.json";
const DECISION: &str = "decision.json";

/// The policy the requester previewed (the dashboard's retain, minimum days and rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asked {
    pub retain: u64,
    pub min_days: Option<u64>,
    /// A policy file's text (rules), when the preview used one.
    pub policy: Option<String>,
}

/// An apply waiting for a second person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRequest {
    pub id: String,
    pub bucket: String,
    pub prefix: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub asked: Asked,
    /// What the requester confirmed, sorted.
    pub confirmed: Vec<Doomed>,
    pub plan_fingerprint: String,
    /// The requester's account for good (OpenID Connect `ISSUER#sub`), when their sign-in gave
    /// one: they cannot approve it under another name either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by_account: Option<String>,
    /// The filing dashboard's seal ([`ApprovalKey::seal`]); requests without one (written by
    /// hand, or before 2026-12-05) are listed but never run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<String>,
}

impl ApprovalRequest {
    /// A request by `who` for the confirmed set of a plan with `fingerprint`.
    pub fn new(
        b: &Bucket,
        who: &str,
        asked: Asked,
        mut confirmed: Vec<Doomed>,
        plan_fingerprint: String,
    ) -> Self {
        let now = Utc::now();
        confirmed.sort();
        ApprovalRequest {
            id: RunId::new(now).to_string(),
            bucket: b.name().to_string(),
            prefix: b.prefix().to_string(),
            requested_by: who.to_string(),
            requested_at: now,
            expires_at: now + Duration::hours(APPROVAL_TTL_HOURS),
            asked,
            confirmed,
            plan_fingerprint,
            requested_by_account: None,
            seal: None,
        }
    }
}

/// How a request was decided. Each is on record once, with who and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Approved by a second person; the apply ran as run `run`.
    Approved {
        by: String,
        at: DateTime<Utc>,
        run: Option<String>,
    },
    Refused {
        by: String,
        at: DateTime<Utc>,
    },
    /// Nobody decided in time.
    Expired {
        at: DateTime<Utc>,
    },
    /// What would be deleted changed since the request: approving it would approve something
    /// nobody confirmed.
    Voided {
        by: String,
        at: DateTime<Utc>,
        reason: String,
    },
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Decision::Approved { by, .. } => write!(f, "approved by {by}"),
            Decision::Refused { by, .. } => write!(f, "refused by {by}"),
            Decision::Expired { .. } => f.write_str("expired"),
            Decision::Voided { reason, .. } => write!(f, "void: {reason}"),
        }
    }
}

/// A request and its decision, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub request: ApprovalRequest,
    pub decision: Option<Decision>,
}

impl Approval {
    /// Undecided and not expired at `now`.
    pub fn is_pending(&self, now: DateTime<Utc>) -> bool {
        self.decision.is_none() && now < self.request.expires_at
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error(transparent)]
    S3(#[from] S3Error),
    #[error("no approval request '{0}' for this bucket")]
    Unknown(String),
    #[error("approval request {id} is unreadable ({detail}): it is skipped")]
    Unreadable { id: String, detail: String },
    #[error("approval request {id} was already decided: {decision}")]
    Decided { id: String, decision: Decision },
    #[error("{who} asked for approval request {id}: another deployer must approve or refuse it")]
    OwnRequest { id: String, who: String },
    #[error("approval request {id} was filed by someone signed in through {issuer}: another person signed in through the same provider decides it (on a dashboard started with --oidc-issuer {issuer}); a name from a proxy header or the token cannot be told apart from the requester's")]
    OtherSignIn { id: String, issuer: String },
    #[error("approval request {id} was filed by {requester}, a name from a proxy header: another person signed in through the proxy decides it (an account's name cannot be told apart from the requester's)")]
    NameOnlyRequest { id: String, requester: String },
    #[error("approval request {id} cannot be decided with the dashboard's token: the token names nobody, so it cannot be the second person. Sign in as a person (OpenID or a proxy header) on a dashboard that shares this approval key")]
    TokenDecides { id: String },
    #[error("approval request {id} expired at {at} without a decision: request the apply again")]
    Expired { id: String, at: DateTime<Utc> },
    #[error("approval request {id} is not sealed with this dashboard's approval key (it was filed by another dashboard, written by hand, or changed since): it is not run; request the apply again on this dashboard, or give the dashboards that share this bucket one key (--approval-key-file)")]
    NotSealed { id: String },
}

fn place(b: &Bucket) -> JournalPlace {
    JournalPlace::of(b).approvals()
}

fn run_id(id: &str) -> Result<RunId, ApprovalError> {
    RunId::parse(id).ok_or_else(|| ApprovalError::Unknown(id.to_string()))
}

/// Files `request`, sealed with `key` (never replacing another); returns it as filed.
pub async fn file_request(
    b: &Bucket,
    request: ApprovalRequest,
    key: &ApprovalKey,
    notifier: &Notifier,
) -> Result<ApprovalRequest, ApprovalError> {
    let request = key.seal(request);
    let body = serde_json::to_vec_pretty(&request).expect("a request serializes");
    place(b).write(&run_id(&request.id)?, REQUEST, body).await?;
    tracing::info!(id = %request.id, who = %request.requested_by, deployments = request.confirmed.len(), "apply sent for approval");
    notifier.send_summary(&summary(&request, None)).await;
    Ok(request)
}

/// What the webhooks are told about a request and, once decided, its decision.
pub fn summary(r: &ApprovalRequest, decision: Option<&Decision>) -> Summary {
    let place = if r.prefix.is_empty() {
        r.bucket.clone()
    } else {
        format!("{}/{}", r.bucket, r.prefix)
    };
    let (status, who, what) = match decision {
        None => (
            "requested".to_string(),
            r.requested_by.clone(),
            "asks a second deployer to approve deleting".to_string(),
        ),
        Some(d) => {
            let (status, who) = match d {
                Decision::Approved { by, .. } => ("approved", by.clone()),
                Decision::Refused { by, .. } => ("refused", by.clone()),
                Decision::Expired { .. } => ("expired", String::new()),
                Decision::Voided { by, .. } => ("void", by.clone()),
            };
            (
                status.to_string(),
                who,
                format!("request {}: {d} — deleting", r.id),
            )
        }
    };
    let objects = r.confirmed.iter().map(|d| d.objects).sum();
    let bytes = r.confirmed.iter().map(|d| d.bytes).sum();
    Summary {
        text: format!(
            "s3-prune: {} {what} {} deployment(s) ({objects} objects, {}) from {place} (request {} by {})",
            if who.is_empty() { "nobody" } else { &who },
            r.confirmed.len(),
            retention::human_size(bytes),
            r.id,
            r.requested_by
        ),
        kind: "approval",
        bucket: r.bucket.clone(),
        prefix: r.prefix.clone(),
        who,
        source: "dashboard".into(),
        status,
        audit_id: None,
        policy: serde_json::to_value(&r.asked).unwrap_or_default(),
        deployments: r.confirmed.iter().map(|d| d.id.to_string()).collect(),
        objects,
        bytes,
        failures: 0,
        duration_ms: 0,
    }
}

/// Request `id` and its decision.
pub async fn read(b: &Bucket, id: &str) -> Result<Approval, ApprovalError> {
    let place = place(b);
    let run = run_id(id)?;
    let bad = |detail: String| ApprovalError::Unreadable {
        id: id.to_string(),
        detail,
    };
    let request = place
        .read(&run, REQUEST)
        .await?
        .ok_or_else(|| ApprovalError::Unknown(id.to_string()))?;
    let request: ApprovalRequest =
        serde_json::from_slice(&request).map_err(|e| bad(e.to_string()))?;
    // A request copied to another place (a sealed, refused one under a new id) is not that
    // place's request.
    if request.id != id || request.bucket != b.name() || request.prefix != b.prefix() {
        return Err(bad(format!(
            "it says it is request {} of {}/{}",
            request.id, request.bucket, request.prefix
        )));
    }
    let decision = match place.read(&run, DECISION).await? {
        Some(d) => Some(serde_json::from_slice(&d).map_err(|e| bad(e.to_string()))?),
        None => None,
    };
    Ok(Approval { request, decision })
}

/// The newest `limit` requests, newest first; an unreadable one is skipped (and logged).
pub async fn list(b: &Bucket, limit: usize) -> Result<Vec<Approval>, ApprovalError> {
    let (ids, _foreign) = place(b).runs().await?;
    let mut out = Vec::new();
    for id in ids.iter().rev().take(limit) {
        match read(b, id.as_str()).await {
            Ok(a) => out.push(a),
            Err(e @ ApprovalError::S3(_)) => return Err(e),
            Err(e) => tracing::warn!(error = %e, "approval request skipped"),
        }
    }
    Ok(out)
}

/// Checks that `request` may be run by this dashboard: it filed it (sealed with `key`), and
/// nobody changed it since. Refusing needs no seal: it deletes nothing.
pub fn check_sealed(request: &ApprovalRequest, key: &ApprovalKey) -> Result<(), ApprovalError> {
    match key.sealed(request) {
        true => Ok(()),
        false => Err(ApprovalError::NotSealed {
            id: request.id.clone(),
        }),
    }
}

/// Whether two names are one person's: a proxy's user header or an email may come back in
/// another case or with spaces around it, and that must not make the requester a second person.
pub fn same_person(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// Who decides a request, as their sign-in names them.
pub struct Decider<'a> {
    pub name: &'a str,
    /// Their account for good (OpenID: `ISSUER#sub`), when their sign-in gives one.
    pub account: Option<&'a str>,
    /// Signed in with the dashboard's shared token, which names nobody.
    pub by_token: bool,
}

/// Checks that `decider` may decide `approval` now: a person (not the token), not the
/// requester by name or by account, signed in as the requester was (names from a proxy header
/// and accounts are not compared across), not decided, not expired (an expired one is put on
/// record as such).
pub async fn check_decidable(
    b: &Bucket,
    approval: &Approval,
    decider: &Decider<'_>,
    notifier: &Notifier,
) -> Result<(), ApprovalError> {
    let (who, account) = (decider.name, decider.account);
    let r = &approval.request;
    if let Some(d) = &approval.decision {
        return Err(ApprovalError::Decided {
            id: r.id.clone(),
            decision: d.clone(),
        });
    }

    let same_account = account.is_some() && r.requested_by_account.as_deref() == account;
    if same_person(&r.requested_by, who) || same_account {
        return Err(ApprovalError::OwnRequest {
            id: r.id.clone(),
            who: who.to_string(),
        });
    }
    if decider.by_token {
        return Err(ApprovalError::TokenDecides { id: r.id.clone() });
    }
    let now = Utc::now();
    if now >= r.expires_at {
        decide(b, &r.id, Decision::Expired { at: now }, notifier)
            .await?
            .notify()
            .await;
        return Err(ApprovalError::Expired {
            id: r.id.clone(),
            at: r.expires_at,
        });
    }
    // A request filed by an account (OpenID: `ISSUER#sub`; an issuer has no `#`, a sub may)
    // is decided by an account of the same provider: a name alone — a proxy header, or the
    // token, on a dashboard sharing the approval key — cannot be told apart from the
    // requester's (`alice` approved `alice@example.com`'s apply).
    if let Some(theirs) = r.requested_by_account.as_deref().filter(|a| !a.is_empty()) {
        let issuer = |a: &str| a.split_once('#').map(|(i, _)| i.to_string());
        let same_provider = account
            .filter(|a| !a.is_empty())
            .is_some_and(|a| issuer(a) == issuer(theirs));
        if !same_provider {
            return Err(ApprovalError::OtherSignIn {
                id: r.id.clone(),
                issuer: issuer(theirs).unwrap_or_else(|| theirs.to_string()),
            });
        }
    } else if account.is_some_and(|a| !a.is_empty()) {
        // Filed by a name alone (a proxy header): an account's name — `alice@example.com`
        // signed in through OpenID — cannot be told apart from the requester `alice`.
        return Err(ApprovalError::NameOnlyRequest {
            id: r.id.clone(),
            requester: r.requested_by.clone(),
        });
    }
    Ok(())
}

/// A decision on record whose webhooks are still to be sent ([`OnRecord::notify`]): the caller
/// acts on it first — an approval's apply is launched — so nothing that befalls the
/// notification (a webhook that does not answer, the request unreadable, the page's request
/// going away) comes between a decision and what it decided. Before, the webhooks went first:
/// an approval whose request was dropped meanwhile stood "approved" and its apply never ran,
/// and no one could decide it again.
#[must_use = "send its webhooks: `notify().await`"]
pub struct OnRecord {
    bucket: Bucket,
    id: String,
    decision: Decision,
    notifier: Notifier,
}

impl OnRecord {
    /// Sends the decision to the webhooks, with its request (read again); best effort.
    pub async fn notify(self) {
        if self.notifier.is_empty() {
            return;
        }
        match read(&self.bucket, &self.id).await {
            Ok(a) => {
                let text = summary(&a.request, Some(&self.decision));
                self.notifier.send_summary(&text).await;
            }
            Err(e) => {
                tracing::warn!(id = self.id, error = %e, "the decision's webhooks were not sent: its request could not be read");
            }
        }
    }
}

/// Puts `decision` on record for request `id`, unless it was decided already (by anyone).
pub async fn decide(
    b: &Bucket,
    id: &str,
    decision: Decision,
    notifier: &Notifier,
) -> Result<OnRecord, ApprovalError> {
    let body = serde_json::to_vec_pretty(&decision).expect("a decision serializes");
    if place(b).write_first(&run_id(id)?, DECISION, body).await? {
        tracing::info!(id, %decision, "approval request decided");
        return Ok(OnRecord {
            bucket: b.clone(),
            id: id.to_string(),
            decision,
            notifier: notifier.clone(),
        });
    }
    let now = read(b, id).await?;
    Err(ApprovalError::Decided {
        id: id.to_string(),
        decision: now.decision.unwrap_or(decision),
    })
}
