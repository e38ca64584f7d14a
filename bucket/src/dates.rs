//! Dates the bucket remembers: `<prefix>.s3-prune/dates.json` keeps, per deployment, its dates
//! as first seen and a fingerprint of its content (keys and sizes). A copy in place, a
//! re-encryption or a storage-class change gives every object a new LastModified but keeps the
//! keys and sizes: such a deployment is ranked by its first-seen dates, not by the reset clock.
//! A file that cannot be read (or is not a dates file) stops the scan, as the pins file does:
//! planning on listed dates then could rank a copied deployment as the newest, and overwriting
//! a damaged file would lose every first-seen date. Writing it is best effort (a failure only
//! means the next scan does not recognise a reset clock).

use crate::state::RESERVED;
use crate::state::{AsRead, Put};
use crate::Bucket;
use chrono::{DateTime, Utc};
use retention::{Deployment, DeploymentId, Remembered};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const FILE: &str = "dates.json";

/// One deployment as first seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FirstSeen {
    newest: DateTime<Utc>,
    oldest: DateTime<Utc>,
    /// [`fingerprint`] of its keys and sizes, hex.
    content: String,
    /// What this version does not know of the entry (a newer s3-prune's fields): written back
    /// as read while the deployment is unchanged.
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

/// An order-independent fingerprint of one object (summed over a deployment's objects).
pub(crate) fn object_print(key: &str, size: u64) -> u64 {
    let h = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (h ^ size.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The dates file as read beside the listing; `None` when it was not read (`meta:` dates: no
/// clock to recognise as reset).
#[derive(Debug, Default)]
pub(crate) struct KnownDates(Option<BTreeMap<DeploymentId, FirstSeen>>, Option<String>);

/// The dates file a scan would leave behind, when it changed. A scan's last step, kept apart
/// so it can be written beside the next requests instead of before them ([`Scanned`]).
/// Dropping it unwritten loses only the next scan's recognition of a reset clock.
#[derive(Debug, Default)]
#[must_use = "write it, or the first-seen dates of new deployments are not remembered"]
pub struct DatesUpdate {
    /// The bucket, the new file, and the ETag of the file as read (`None`: there was none).
    write: Option<(Bucket, Vec<u8>, Option<String>)>,
}

impl DatesUpdate {
    /// Writes the file if it changed, only over the file as this scan read it (`If-Match`, or
    /// `If-None-Match` where there was none): a slower scan that read it before a faster one
    /// wrote it does not put back its older view, which would drop the faster one's
    /// first-seen dates. Best effort (a failure is logged); a server that refuses the
    /// condition itself (not the ETag) is written to plainly.
    pub async fn write(self) {
        let Some((bucket, body, etag)) = self.write else {
            return;
        };
        match bucket
            .put_state_if(&bucket.dates_key(), body, &as_read(etag))
            .await
        {
            Ok(Put::Written(_)) => {}
            Ok(Put::Refused) => {
                tracing::debug!("{RESERVED}/{FILE} changed since this scan read it: left as the other scan wrote it");
            }
            Err(e) => {
                tracing::info!(error = %e, "{RESERVED}/{FILE} could not be written: a reset clock will not be recognised");
            }
        }
    }
}

/// The dates file as an apply read it beside its deleting, with its ETag (`None`: absent or
/// not readable): its end forgets what it deleted in one conditional write.
#[derive(Debug, Default)]
pub struct DatesAhead(Option<(BTreeMap<DeploymentId, FirstSeen>, Option<String>)>);

/// A scan's inventory, with the dates file it would update ([`DatesUpdate`]).
#[derive(Debug)]
pub struct Scanned {
    pub inventory: retention::Inventory,
    pub dates: DatesUpdate,
    /// What the plan should say about how its input was read (an S3 Inventory report that
    /// a listing contradicts); the caller adds them to the plan's warnings.
    pub warnings: Vec<retention::Warning>,
    /// This machine's clock against S3's: plans are made at [`crate::ClockSkew::now`].
    pub skew: crate::ClockSkew,
    /// The live pointer's version the scan read, where the bucket names one.
    pub live_read: Option<crate::PointerRead>,
}

impl Scanned {
    /// The inventory, once the dates file is written.
    pub async fn remembered(self) -> retention::Inventory {
        self.dates.write().await;
        self.inventory
    }
}

/// The dates file as read, by its ETag: `None` is no file (one read without an ETag is kept as
/// none too, so its write is refused and left to the next scan: dates are a courtesy).
fn as_read(etag: Option<String>) -> AsRead {
    etag.map_or(AsRead::Absent, AsRead::Tagged)
}

/// The dates file's entries; refused (the outer error) when a newer s3-prune's format (its
/// [`crate::state::FORMAT_KEY`] entry), the inner error when it is not a dates file.
#[allow(clippy::type_complexity)]
fn parse_dates(
    body: &[u8],
    key: &str,
) -> Result<Result<BTreeMap<DeploymentId, FirstSeen>, serde_json::Error>, crate::S3Error> {
    let mut raw: serde_json::Map<String, serde_json::Value> = match serde_json::from_slice(body) {
        Ok(raw) => raw,
        Err(e) => return Ok(Err(e)),
    };
    crate::state::check_format(raw.get(crate::state::FORMAT_KEY), key)?;
    raw.remove(crate::state::FORMAT_KEY);
    Ok(serde_json::from_value(serde_json::Value::Object(raw)))
}

impl Bucket {
    /// `<prefix>.s3-prune/dates.json`.
    fn dates_key(&self) -> String {
        format!("{}{RESERVED}/{FILE}", self.prefix)
    }

    /// Reads the dates file (beside the listing: it does not depend on it).
    pub(crate) async fn known_dates(&self) -> Result<KnownDates, crate::S3Error> {
        let Some(crate::state::Tagged { body, etag, .. }) =
            self.get_tagged(&self.dates_key()).await?
        else {
            return Ok(KnownDates(Some(BTreeMap::new()), None));
        };
        match parse_dates(&body, &self.dates_key())? {
            Ok(known) => Ok(KnownDates(Some(known), etag)),
            Err(e) => Err(crate::S3Error::Pointer {
                key: self.dates_key(),
                problem: format!(
                    "it is not a dates file ({e}): {}restore its previous version, or remove it \
                     to start remembering first-seen dates afresh (a deployment copied in place \
                     since then would rank by its new date)",
                    crate::state::newer_hint(&body)
                ),
            }),
        }
    }

    /// The dates file and its ETag, read ahead of an apply's end ([`Bucket::forget_dates`]).
    /// Unreadable: nothing is forgotten.
    pub async fn read_dates_ahead(&self) -> DatesAhead {
        match self.known_dates().await {
            Ok(KnownDates(Some(known), etag)) => DatesAhead(Some((known, etag))),
            _ => DatesAhead::default(),
        }
    }

    /// Forgets the first-seen dates of deployments an apply deleted whole: published again
    /// under the same name before the next scan (a rollback re-deploying the same build),
    /// one is new, not the deleted one copied back — before, it took the old date and the
    /// next run deleted it again. Written over the file as read `ahead` (one round trip), or
    /// as read again when it changed since (`If-Match` either way, so a scan writing at the
    /// same time is not undone); best effort (the next scan forgets them too).
    pub async fn forget_dates(&self, ids: &[DeploymentId], ahead: DatesAhead) {
        if ids.is_empty() {
            return;
        }
        let key = self.dates_key();
        let mut ahead = ahead.0;
        for _ in 0..5 {
            let (mut known, etag) = match ahead.take() {
                Some(read) => read,
                None => match self.read_dates_ahead().await.0 {
                    Some(read) => read,
                    None => return,
                },
            };
            let before = known.len();
            known.retain(|id, _| !ids.contains(id));
            if known.len() == before {
                return;
            }
            let body = serde_json::to_vec(&known).expect("dates serialize");
            match self.put_state_if(&key, body, &as_read(etag)).await {
                Ok(Put::Written(_)) => return,
                Ok(Put::Refused) => continue,
                Err(e) => {
                    tracing::info!(error = %e, "{RESERVED}/{FILE}: deleted deployments' dates not forgotten");
                    return;
                }
            }
        }
    }

    /// The first-seen dates of the deployments whose LastModified moved while their content
    /// did not; and the file recording the deployments seen for the first time (or with new
    /// content), without the ones that are gone.
    pub(crate) fn remembered_dates(
        &self,
        known: KnownDates,
        deployments: &[Deployment],
        prints: &[u64],
    ) -> (Vec<Remembered>, DatesUpdate) {
        let KnownDates(Some(known), etag) = known else {
            return (Vec::new(), DatesUpdate::default());
        };
        let mut remembered = Vec::new();
        let mut now: BTreeMap<DeploymentId, FirstSeen> = BTreeMap::new();
        for (d, print) in deployments.iter().zip(prints) {
            let content = format!("{print:016x}");
            match known.get(&d.id) {
                Some(first) if first.content == content => {
                    if d.newest != first.newest || d.oldest != first.oldest {
                        remembered.push(Remembered {
                            id: d.id.clone(),
                            newest: first.newest,
                            oldest: first.oldest,
                        });
                    }
                    now.insert(d.id.clone(), first.clone());
                }
                // New, or new content under the same name: as listed from now on.
                _ => {
                    now.insert(
                        d.id.clone(),
                        FirstSeen {
                            newest: d.newest,
                            oldest: d.oldest,
                            content,
                            rest: serde_json::Map::new(),
                        },
                    );
                }
            }
        }
        let update = DatesUpdate {
            write: (now != known).then(|| {
                (
                    self.clone(),
                    serde_json::to_vec(&now).expect("dates serialize"),
                    etag,
                )
            }),
        };
        (remembered, update)
    }
}
