//! Listing a bucket into deployments: one delimiter listing to find them, then each one listed
//! on its own, several at a time, folded into counters as pages arrive (memory ∝ deployments).

use crate::agg::Agg;
use crate::dates::Scanned;
use crate::meta::ObjectRef;
use crate::server_clock::{ClockSkew, ServerDate};
use crate::{Bucket, S3Error};
use aws_sdk_s3::types::BucketVersioningStatus;
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use retention::{Deployment, DeploymentId, Inventory, LooseObjects, Versioning};
use std::collections::HashMap;

mod folders;
mod listing;

#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Deployments listed at once.
    pub concurrency: usize,
    /// The user metadata key to read from each deployment's newest object (`meta:KEY`).
    pub meta_key: Option<String>,
    /// Key of an object whose body names the live deployment (`--live-pointer`).
    pub live_pointer: Option<String>,
    /// Key of a page of the site whose links name the live deployments (`--live-from`).
    pub live_from: Option<String>,
    /// The policy's live grace: the live pointer's versions are read back that far, and one
    /// inside it left unread is a warning. `None`: as far as the safety caps allow, and every
    /// one left unread is a warning.
    pub live_grace: Option<std::time::Duration>,
    /// Read the pointer's versions past the grace too, as far as the safety caps allow (the
    /// dashboard's timeline shows what was live before): one left unread there keeps nothing,
    /// so it is no warning.
    pub live_history_past_grace: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            concurrency: 16,
            meta_key: None,
            live_pointer: None,
            live_from: None,
            live_grace: None,
            live_history_past_grace: false,
        }
    }
}

/// What a scan reads besides the objects.
pub(crate) struct Facts {
    versioning: retention::Versioning,
    live: Option<DeploymentId>,
    /// The live pointer's version read, where the bucket names one.
    live_read: Option<crate::PointerRead>,
    was_live: Vec<retention::WasLive>,
    live_from: Option<retention::LiveRefs>,
    pins: Vec<retention::Pin>,
    /// The first-seen dates (only read when deployments are dated by LastModified).
    dates: crate::dates::KnownDates,
    /// What the plan should say about how these were read.
    warnings: Vec<retention::Warning>,
    /// This machine's clock against S3's.
    skew: ClockSkew,
}

impl Bucket {
    /// The bucket's versioning status. Also the first request of a scan, so a missing bucket or
    /// a wrong endpoint fails here before anything else.
    pub async fn versioning(&self) -> Result<Versioning, S3Error> {
        Ok(self.versioning_clocked().await?.0)
    }

    /// [`Bucket::versioning`], and this machine's clock against the `Date` of S3's answer.
    pub(crate) async fn versioning_clocked(&self) -> Result<(Versioning, ClockSkew), S3Error> {
        use aws_sdk_s3::error::ProvideErrorMetadata;
        let date = ServerDate::default();
        let sent = self
            .client
            .get_bucket_versioning()
            .bucket(&self.name)
            .customize()
            .interceptor(date.clone())
            .send()
            .await;
        let skew = ClockSkew::of(date.read(), Utc::now());
        let out = match sent {
            Ok(out) => out,
            // Some S3-compatible servers (s3s-fs) lack this call: not a reason to refuse a scan.
            Err(e)
                if e.code() == Some("NotImplemented")
                    || e.raw_response().map(|r| r.status().as_u16()) == Some(501) =>
            {
                tracing::warn!(bucket = %self.name, "GetBucketVersioning not implemented");
                return Ok((Versioning::Unknown, skew));
            }
            Err(e) => return Err(self.err(e, "s3:GetBucketVersioning")),
        };
        let versioning = match out.status() {
            Some(BucketVersioningStatus::Enabled) => Versioning::Enabled,
            Some(BucketVersioningStatus::Suspended) => Versioning::Suspended,
            _ => Versioning::Unversioned,
        };
        Ok((versioning, skew))
    }

    pub(crate) fn err<E, R>(&self, e: aws_sdk_s3::error::SdkError<E, R>, action: &str) -> S3Error
    where
        E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        S3Error::from_sdk(e, action, &self.name, &self.endpoint)
    }

    /// Lists the bucket into an [`Inventory`]. Any listing error fails the whole scan: a plan is
    /// never made from a partial view. The dates file is written before it returns; see
    /// [`Bucket::scan_unsaved`] to write it beside the next requests instead.
    pub async fn scan(&self, opts: &ScanOptions) -> Result<Inventory, S3Error> {
        Ok(self.scan_unsaved(opts).await?.remembered().await)
    }

    /// [`Bucket::scan`], with the dates file left for the caller to write ([`Scanned`]).
    pub async fn scan_unsaved(&self, opts: &ScanOptions) -> Result<Scanned, S3Error> {
        // The facts and the listing are independent requests: made at once, they cost the
        // round trips of the longer chain, not of both (two fewer at +20 ms each way: ~0.1 s
        // of a 20,000-object scan). Both must succeed; the facts' error is reported first, as
        // when they were read before the listing.
        let listing = async {
            let (ids, loose) = self.discover().await?;
            tracing::debug!(deployments = ids.len(), "discovered deployments");
            let results = self.list_ranges(&ids, opts.concurrency.max(1)).await?;
            Ok::<_, S3Error>((results, loose))
        };
        let (facts, listing) = futures::join!(self.facts(opts), listing);
        let facts = facts?;
        let (results, loose) = listing?;
        self.inventory_of(results, loose, facts, opts).await
    }

    /// What a plan needs besides the objects: if any cannot be read, nothing is planned at
    /// all. Read at once; the first failure in this order is the one reported.
    pub(crate) async fn facts(&self, opts: &ScanOptions) -> Result<Facts, S3Error> {
        let live = async {
            match &opts.live_pointer {
                Some(key) => self.read_live_pointer_version(key).await.map(Some),
                None => Ok(None),
            }
        };
        let live_from = async {
            match &opts.live_from {
                Some(key) => self.read_live_from(key).await.map(Some),
                None => Ok(None),
            }
        };
        // With `meta:` dates too: a deployment whose metadata a copy in place dropped, dated
        // by `--meta-fallback`, is dated by its first-seen LastModified, not the reset one.
        let dates = self.known_dates();
        let (versioning, live, live_from, pins, dates) = futures::join!(
            self.versioning_clocked(),
            live,
            live_from,
            self.read_pins(),
            dates
        );
        let ((versioning, skew), live) = (versioning?, live?);
        let (live, live_read) = match live {
            Some((id, read)) => (Some(id), read),
            None => (None, None),
        };
        // A suspended bucket's next write of the pointer replaces its "null" version: which
        // versions came after it cannot be told (an Enabled bucket's "null" one stays).
        let live_read = live_read
            .filter(|r| !(r.version == "null" && versioning == retention::Versioning::Suspended));
        // What it named before (the live grace), once what it names now is known.
        let (was_live, warnings) = match (&opts.live_pointer, &live) {
            (Some(key), Some(now)) => {
                self.live_history(
                    key,
                    now,
                    versioning.keeps_versions(),
                    opts.live_grace,
                    opts.live_history_past_grace,
                    skew.now(),
                )
                .await?
            }
            _ => (Vec::new(), Vec::new()),
        };
        Ok(Facts {
            versioning,
            live,
            live_read,
            was_live,
            live_from: live_from?,
            pins: pins?,
            dates: dates?,
            warnings,
            skew,
        })
    }

    /// The deployments of per-folder counters (from a listing or an inventory report), dated
    /// with `meta:KEY` where asked.
    pub(crate) async fn inventory_of(
        &self,
        results: HashMap<String, Agg>,
        mut loose: LooseObjects,
        facts: Facts,
        opts: &ScanOptions,
    ) -> Result<Scanned, S3Error> {
        let Facts {
            versioning,
            live,
            live_read,
            was_live,
            live_from,
            pins,
            dates,
            warnings,
            skew,
        } = facts;
        let mut deployments = Vec::with_capacity(results.len());
        let mut prints = Vec::with_capacity(results.len());
        let mut to_head = Vec::new();
        for (id, agg) in results {
            if let Some(state) = agg.state {
                // A forgotten --prefix: every "deployment" here is a site's whole prefix.
                return Err(S3Error::ForeignState {
                    folder: format!("{}{id}/", self.prefix),
                    state,
                });
            }
            if let Some(journal) = agg.journal {
                if agg.objects > 0 {
                    return Err(S3Error::JournalInside {
                        folder: format!("{}{id}/", self.prefix),
                        journal,
                    });
                }
                tracing::info!(folder = %format!("{}{id}/", self.prefix), journal, "holds only a run journal (another bucket's --journal): not a deployment");
                continue;
            }
            let (Some((newest, newest_key)), Some(oldest)) = (agg.newest, agg.oldest) else {
                continue; // emptied since discovery: nothing to plan
            };
            match DeploymentId::new(id) {
                Ok(id) => {
                    if opts.meta_key.is_some() {
                        let oldest_key = agg.oldest_object.filter(|o| o.key != newest_key.key);
                        to_head.push((deployments.len(), newest_key, oldest_key));
                    }
                    prints.push(agg.print);
                    deployments.push(Deployment {
                        id,
                        objects: agg.objects,
                        bytes: agg.bytes,
                        newest,
                        oldest,
                        meta: None,
                    });
                }
                // Keys like `prefix//x` have an empty folder name: not a deployment, never deleted.
                Err(_) => {
                    loose.objects += agg.objects;
                    loose.bytes += agg.bytes;
                }
            }
        }

        if let Some(key) = &opts.meta_key {
            let metas: Vec<(usize, Option<String>)> =
                stream::iter(to_head.into_iter().map(|(i, newest, oldest)| async move {
                    let mut meta = self.meta_of(&newest, key).await?;
                    // A stamp more than a day older than the object carrying it: a file copied
                    // with its metadata from an earlier deployment.
                    let copied = |stamp: Option<DateTime<Utc>>, o: &ObjectRef| {
                        stamp.is_some_and(|t| t < o.last_modified - chrono::Duration::days(1))
                    };
                    match (&meta, oldest) {
                        // Missing on the newest object only (a file touched later without it):
                        // the deploy's own stamp, on its oldest — unless that one was copied
                        // (dated by it, this deployment would go early): unknown, as before.
                        (None, Some(oldest)) => {
                            let stamp = self.meta_of(&oldest, key).await?;
                            if !copied(stamp_time(&stamp), &oldest) {
                                meta = stamp;
                            }
                        }
                        // The newest object's stamp copied: the whole deployment copied in
                        // place (every stamp as old: its date), or unchanged files copied in
                        // from an earlier build after this one's own were uploaded — whose
                        // stamp, on the oldest, is later and dates it (before, it was dated a
                        // build early, and deleted before older deployments).
                        (Some(_), Some(oldest)) if copied(stamp_time(&meta), &newest) => {
                            let own = self.meta_of(&oldest, key).await?;
                            if stamp_time(&own) > stamp_time(&meta) {
                                meta = own;
                            }
                        }
                        _ => {}
                    }
                    Ok::<_, S3Error>((i, meta))
                }))
                .buffer_unordered(opts.concurrency.max(1))
                .try_collect()
                .await?;
            for (i, m) in metas {
                deployments[i].meta = m;
            }
        }

        // First-seen dates (with `meta:` dates too: the fallback dates by them).
        let (remembered, dates) = self.remembered_dates(dates, &deployments, &prints);
        deployments.sort_by(|a, b| a.id.cmp(&b.id));
        let inventory = Inventory {
            deployments,
            loose,
            versioning,
            live,
            live_from,
            pins,
            report_date: None,
            was_live,
            remembered,
        };
        Ok(Scanned {
            inventory,
            dates,
            warnings,
            skew,
            live_read,
        })
    }
}

/// A `meta:` stamp as a time, when it is one (RFC 3339, as the scan compares stamps; the
/// policy reads the stamp itself).
fn stamp_time(stamp: &Option<String>) -> Option<DateTime<Utc>> {
    let stamp = stamp.as_deref()?;
    let t = DateTime::parse_from_rfc3339(stamp.trim()).ok()?;
    Some(t.with_timezone(&Utc))
}
