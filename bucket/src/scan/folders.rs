//! Listing single deployment folders, each on its own: the folders a plan from an S3 Inventory
//! report lacks (published since it), and a folder a report's plan checks a pending lifecycle
//! handover against.

use crate::agg::Agg;
use crate::{Bucket, S3Error};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use retention::DeploymentId;
use std::collections::HashMap;
use std::ops::ControlFlow;

impl Bucket {
    /// Lists each of the folders `ids` on its own (`parts` at once), folded into per-deployment
    /// counters: the folders a listing finds that an S3 Inventory report does not hold.
    pub(crate) async fn list_folders(
        &self,
        ids: &[String],
        parts: usize,
    ) -> Result<HashMap<String, Agg>, S3Error> {
        // Owned ids, each future made up front: a closure over borrowed ones is not `Send`
        // enough for the callers' spawned futures.
        let lists: Vec<_> = ids.iter().cloned().map(|id| self.list_folder(id)).collect();
        stream::iter(lists)
            .buffer_unordered(parts.max(1))
            .try_collect()
            .await
    }

    /// The newest LastModified in deployment `id`'s folder now (`None` when it is empty), from
    /// a listing of it: what a plan from an S3 Inventory report checks a pending lifecycle
    /// handover against, since the report may predate a re-deploy.
    pub async fn newest_now(&self, id: &DeploymentId) -> Result<Option<DateTime<Utc>>, S3Error> {
        let (_, agg) = self.list_folder(id.to_string()).await?;
        Ok(agg.newest.map(|(t, _)| t))
    }

    /// One folder's counters (see [`Bucket::list_folders`]).
    async fn list_folder(&self, id: String) -> Result<(String, Agg), S3Error> {
        let mut agg = Agg::default();
        let folder = format!("{}{id}/", self.prefix);
        self.each_page(&folder, None, None, |out| {
            for o in out.contents() {
                agg.add_listed(o);
            }
            ControlFlow::Continue(None)
        })
        .await?;
        Ok((id, agg))
    }
}
