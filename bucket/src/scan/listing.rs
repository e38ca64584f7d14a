//! The listings of a scan: one delimiter listing to find the deployments (and the loose
//! objects beside them), then every object listed in contiguous key ranges at once, folded
//! into per-deployment counters as pages arrive.

use crate::agg::Agg;
use crate::state::RESERVED;
use crate::{Bucket, S3Error};
use futures::stream::{self, StreamExt, TryStreamExt};
use retention::LooseObjects;
use std::collections::HashMap;
use std::ops::ControlFlow;

impl Bucket {
    /// Top-level folders under the prefix, and the loose objects beside them: one delimiter
    /// listing (a request per 1,000 folders).
    pub(crate) async fn discover(&self) -> Result<(Vec<String>, LooseObjects), S3Error> {
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
            ControlFlow::Continue(None)
        })
        .await?;
        Ok((ids, loose))
    }

    /// Lists every object under the prefix in `parts` contiguous key ranges at once, and folds
    /// them into per-deployment counters. The ranges are cut at discovered folders (S3 lists in
    /// key order, so every key falls in exactly one range); this needs about one request per
    /// 1,000 objects plus one per range, instead of at least one per deployment.
    pub(super) async fn list_ranges(
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
            .map(|(after, upto)| {
                // folders is sorted: those in [after, upto) hold this range's keys
                let from = after
                    .as_ref()
                    .map_or(0, |a| folders.partition_point(|f| f < a));
                let to = upto
                    .as_ref()
                    .map_or(folders.len(), |u| folders.partition_point(|f| f < u));
                let in_range = to.saturating_sub(from);
                self.list_range(after, upto, in_range)
            })
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

    /// Keys in `(after, upto]`, folded by deployment. `folders` (how many discovered folders
    /// the range holds) sizes the pages after the first: a range's last page would otherwise
    /// run up to 1,000 keys into the next range, which that range lists again.
    async fn list_range(
        &self,
        after: Option<String>,
        upto: Option<String>,
        folders: usize,
    ) -> Result<HashMap<String, Agg>, S3Error> {
        let mut map: HashMap<String, Agg> = HashMap::new();
        let prefix = self.prefix.clone();
        let mut keys_seen = 0usize;
        self.each_page(&prefix, None, after, |out| {
            keys_seen += out.contents().len();
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
                map.entry(id.to_string()).or_default().add_listed(o);
            }
            ControlFlow::Continue(Some(next_page_size(keys_seen, map.len(), folders)))
        })
        .await?;
        Ok(map)
    }
}

/// How many keys to ask for next, from the keys per folder seen so far: enough for the
/// folders still to come with a quarter to spare (an underestimate costs one more small
/// request, an overestimate reads into the next range). Never more than S3's 1,000.
fn next_page_size(keys_seen: usize, folders_seen: usize, folders: usize) -> i32 {
    if folders_seen == 0 {
        return 1000;
    }
    let per_folder = keys_seen.div_ceil(folders_seen);
    // The last folder seen may be only partly listed: count it as still to come.
    let to_come = folders.saturating_sub(folders_seen) + 1;
    let want = to_come.saturating_mul(per_folder).saturating_mul(5) / 4 + 20;
    want.clamp(50, 1000) as i32
}

#[cfg(test)]
mod tests {
    use super::next_page_size;

    #[test]
    fn later_pages_are_sized_to_the_folders_left_in_the_range() {
        // nothing seen yet: a full page
        assert_eq!(next_page_size(0, 0, 12), 1000);
        // 10 folders of 100 seen, 12 in the range: ~3 folders to come
        assert_eq!(next_page_size(1000, 10, 12), 395);
        // small pages are never asked for below 50, large ones never above 1,000
        assert_eq!(next_page_size(10, 10, 10), 50);
        assert_eq!(next_page_size(1000, 1, 400), 1000);
    }
}
