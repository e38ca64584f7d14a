//! Listing a bucket into deployments: one delimiter listing to find them, then each one listed
//! on its own, several at a time, folded into counters as pages arrive (memory ∝ deployments).

use crate::{Bucket, S3Error};
use aws_sdk_s3::types::BucketVersioningStatus;
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use retention::{Deployment, DeploymentId, Inventory, LooseObjects, Versioning};
use std::collections::HashMap;
use std::ops::ControlFlow;

#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Deployments listed at once.
    pub concurrency: usize,
    /// The user metadata key to read from each deployment's newest object (`meta:KEY`).
    pub meta_key: Option<String>,
    /// Key of an object whose body names the live deployment (`--live-pointer`).
    pub live_pointer: Option<String>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            concurrency: 16,
            meta_key: None,
            live_pointer: None,
        }
    }
}

/// The folder under the prefix where s3-prune keeps its own state (pins); never a deployment.
pub const RESERVED: &str = ".s3-prune";

fn to_chrono(t: Option<&aws_smithy_types::DateTime>) -> DateTime<Utc> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// Per-deployment counters; the newest key is kept only to read its metadata.
#[derive(Default)]
struct Agg {
    objects: u64,
    bytes: u64,
    newest: Option<(DateTime<Utc>, String)>,
    oldest: Option<DateTime<Utc>>,
}

impl Agg {
    fn add(&mut self, t: DateTime<Utc>, size: u64, key: &str) {
        self.objects += 1;
        self.bytes += size;
        if self.newest.as_ref().is_none_or(|(n, _)| t > *n) {
            self.newest = Some((t, key.to_string()));
        }
        if self.oldest.is_none_or(|old| t < old) {
            self.oldest = Some(t);
        }
    }

    fn merge(&mut self, o: Agg) {
        self.objects += o.objects;
        self.bytes += o.bytes;
        if let Some((t, k)) = o.newest {
            if self.newest.as_ref().is_none_or(|(n, _)| t > *n) {
                self.newest = Some((t, k));
            }
        }
        if let Some(t) = o.oldest {
            if self.oldest.is_none_or(|old| t < old) {
                self.oldest = Some(t);
            }
        }
    }
}

impl Bucket {
    /// The bucket's versioning status. Also the first request of a scan, so a missing bucket or
    /// a wrong endpoint fails here before anything else.
    pub async fn versioning(&self) -> Result<Versioning, S3Error> {
        let out = self
            .client
            .get_bucket_versioning()
            .bucket(&self.name)
            .send()
            .await
            .map_err(|e| self.err(e, "s3:GetBucketVersioning"))?;
        Ok(match out.status() {
            Some(BucketVersioningStatus::Enabled) => Versioning::Enabled,
            Some(BucketVersioningStatus::Suspended) => Versioning::Suspended,
            _ => Versioning::Unversioned,
        })
    }

    pub(crate) fn err<E, R>(&self, e: aws_sdk_s3::error::SdkError<E, R>, action: &str) -> S3Error
    where
        E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        S3Error::from_sdk(e, action, &self.name, &self.endpoint)
    }

    /// Lists the bucket into an [`Inventory`]. Any listing error fails the whole scan: a plan is
    /// never made from a partial view.
    pub async fn scan(&self, opts: &ScanOptions) -> Result<Inventory, S3Error> {
        let versioning = self.versioning().await?;
        // Read before listing: if either cannot be read, nothing is planned at all.
        let live = match &opts.live_pointer {
            Some(key) => Some(self.read_live_pointer(key).await?),
            None => None,
        };
        let pins = self.read_pins().await?;
        let (ids, mut loose) = self.discover().await?;
        tracing::debug!(deployments = ids.len(), "discovered deployments");

        let results = self.list_ranges(&ids, opts.concurrency.max(1)).await?;

        let mut deployments = Vec::with_capacity(results.len());
        let mut to_head = Vec::new();
        for (id, agg) in results {
            let (Some((newest, newest_key)), Some(oldest)) = (agg.newest, agg.oldest) else {
                continue; // emptied since discovery: nothing to plan
            };
            match DeploymentId::new(id) {
                Ok(id) => {
                    if opts.meta_key.is_some() {
                        to_head.push((deployments.len(), newest_key));
                    }
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
                stream::iter(to_head.into_iter().map(|(i, object)| async move {
                    Ok::<_, S3Error>((i, self.read_meta(&object, key).await?))
                }))
                .buffer_unordered(opts.concurrency.max(1))
                .try_collect()
                .await?;
            for (i, m) in metas {
                deployments[i].meta = m;
            }
        }

        deployments.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Inventory {
            deployments,
            loose,
            versioning,
            live,
            pins,
        })
    }

    async fn read_meta(&self, object: &str, key: &str) -> Result<Option<String>, S3Error> {
        let out = self
            .client
            .head_object()
            .bucket(&self.name)
            .key(object)
            .send()
            .await
            .map_err(|e| self.err(e, "s3:GetObject"))?;
        Ok(out.metadata().and_then(|m| m.get(key).cloned()))
    }

    /// Top-level folders under the prefix, and the loose objects beside them.
    async fn discover(&self) -> Result<(Vec<String>, LooseObjects), S3Error> {
        let mut ids = Vec::new();
        let mut loose = LooseObjects::default();
        let prefix = self.prefix.clone();
        self.each_page(&prefix, Some("/"), None, |out| {
            for cp in out.common_prefixes() {
                if let Some(p) = cp.prefix() {
                    let id = p.strip_prefix(prefix.as_str()).unwrap_or(p);
                    let id = id.strip_suffix('/').unwrap_or(id);
                    if id != RESERVED {
                        ids.push(id.to_string());
                    }
                }
            }
            for o in out.contents() {
                // The prefix's own folder marker (`sites/`) is neither loose nor a deployment.
                if o.key() == Some(prefix.as_str()) {
                    continue;
                }
                loose.objects += 1;
                loose.bytes += o.size().unwrap_or(0).max(0) as u64;
            }
            ControlFlow::Continue(())
        })
        .await?;
        Ok((ids, loose))
    }

    /// Lists every object under the prefix in `parts` contiguous key ranges at once, and folds
    /// them into per-deployment counters. The ranges are cut at discovered folders (S3 lists in
    /// key order, so every key falls in exactly one range); this needs about one request per
    /// 1,000 objects plus one per range, instead of at least one per deployment.
    async fn list_ranges(
        &self,
        ids: &[String],
        parts: usize,
    ) -> Result<HashMap<String, Agg>, S3Error> {
        let mut folders: Vec<String> = ids
            .iter()
            .map(|id| format!("{}{id}", self.prefix))
            .collect();
        folders.sort();
        let parts = parts.min(folders.len()).max(1);
        let mut bounds: Vec<String> = (1..parts)
            .map(|i| folders[i * folders.len() / parts].clone())
            .collect();
        bounds.dedup();
        let ranges: Vec<(Option<String>, Option<String>)> = (0..=bounds.len())
            .map(|i| {
                (
                    i.checked_sub(1).map(|j| bounds[j].clone()),
                    bounds.get(i).cloned(),
                )
            })
            .collect();
        let jobs: Vec<_> = ranges
            .into_iter()
            .map(|(after, upto)| self.list_range(after, upto))
            .collect();
        let maps: Vec<HashMap<String, Agg>> = stream::iter(jobs)
            .buffer_unordered(parts)
            .try_collect()
            .await?;
        let mut all: HashMap<String, Agg> = HashMap::new();
        for m in maps {
            for (id, agg) in m {
                all.entry(id).or_default().merge(agg);
            }
        }
        Ok(all)
    }

    /// Keys in `(after, upto]`, folded by deployment.
    async fn list_range(
        &self,
        after: Option<String>,
        upto: Option<String>,
    ) -> Result<HashMap<String, Agg>, S3Error> {
        let mut map: HashMap<String, Agg> = HashMap::new();
        let prefix = self.prefix.clone();
        self.each_page(&prefix, None, after, |out| {
            for o in out.contents() {
                let key = o.key().unwrap_or_default();
                if upto.as_deref().is_some_and(|u| key > u) {
                    return ControlFlow::Break(()); // the next range's
                }
                let rel = key.strip_prefix(prefix.as_str()).unwrap_or(key);
                // Loose objects were counted by the delimiter listing; our own state is no deployment.
                let Some((id, _)) = rel.split_once('/') else {
                    continue;
                };
                if id == RESERVED {
                    continue;
                }
                let t = to_chrono(o.last_modified());
                let size = o.size().unwrap_or(0).max(0) as u64;
                map.entry(id.to_string()).or_default().add(t, size, key);
            }
            ControlFlow::Continue(())
        })
        .await?;
        Ok(map)
    }
}

impl Bucket {
    /// Runs `f` on every ListObjectsV2 page under `prefix` (after `start_after`, when given)
    /// until it breaks. Pages come one after another (S3's continuation tokens are sequential);
    /// a failed or cut listing is an error, never a silent early end.
    pub(crate) async fn each_page(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        start_after: Option<String>,
        mut f: impl FnMut(
            &aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output,
        ) -> ControlFlow<()>,
    ) -> Result<(), S3Error> {
        let mut token: Option<String> = None;
        let mut start_after = start_after;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.name)
                .prefix(prefix)
                .set_delimiter(delimiter.map(str::to_string))
                .set_start_after(start_after.take())
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| self.err(e, "s3:ListBucket"))?;
            if f(&out).is_break() {
                return Ok(());
            }
            match next_token(out.is_truncated(), out.next_continuation_token(), prefix)? {
                Some(t) => token = Some(t),
                None => return Ok(()),
            }
        }
    }
}

/// The continuation token, or an error when S3 says "truncated" without one: a listing that
/// silently stops early would make a plan over a partial view.
pub(crate) fn next_token(
    truncated: Option<bool>,
    token: Option<&str>,
    prefix: &str,
) -> Result<Option<String>, S3Error> {
    match (truncated.unwrap_or(false), token) {
        (false, _) => Ok(None),
        (true, Some(t)) if !t.is_empty() => Ok(Some(t.to_string())),
        (true, _) => Err(S3Error::ListingCut {
            prefix: prefix.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::next_token;
    use crate::S3Error;

    #[test]
    fn a_listing_cut_short_is_an_error_not_the_end() {
        assert_eq!(next_token(Some(false), None, "p/").unwrap(), None);
        assert_eq!(next_token(None, None, "p/").unwrap(), None);
        assert_eq!(
            next_token(Some(true), Some("t"), "p/").unwrap(),
            Some("t".into())
        );
        assert!(matches!(
            next_token(Some(true), None, "p/"),
            Err(S3Error::ListingCut { .. })
        ));
        assert!(matches!(
            next_token(Some(true), Some(""), "p/"),
            Err(S3Error::ListingCut { .. })
        ));
    }
}
