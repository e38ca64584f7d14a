//! What is left of deployments a run deleted: objects uploaded into a folder after its keys
//! were listed (while they waited for their batch, or since) are not deleted, so the folder is
//! not gone. One delimited listing of the bucket's folders, from the first of them to the last,
//! finds those still there; a page of each says what is in it.

use super::NewerKey;
use crate::{Bucket, S3Error};
use retention::DeploymentId;
use std::collections::BTreeMap;
use std::ops::ControlFlow;

/// A deployment deleted whole that has objects again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOver {
    pub id: DeploymentId,
    /// Its keys now (the first page of them, up to 1,000).
    pub keys: Vec<NewerKey>,
}

impl Bucket {
    /// The deployments of `gone` whose folders hold objects now. Needs s3:ListBucket.
    pub async fn left_of(&self, gone: &[DeploymentId]) -> Result<Vec<LeftOver>, S3Error> {
        let folders: BTreeMap<String, &DeploymentId> = (gone.iter())
            .map(|id| (self.deployment_prefix(id), id))
            .collect();
        let (Some((first, _)), Some((last, _))) =
            (folders.first_key_value(), folders.last_key_value())
        else {
            return Ok(Vec::new());
        };
        // Just before the first folder (its name without the `/`), so the listing starts there.
        let start = first.trim_end_matches('/').to_string();
        let mut there = Vec::new();
        self.each_page(&self.prefix, Some("/"), Some(start), |out| {
            for p in out.common_prefixes().iter().filter_map(|p| p.prefix()) {
                if p > last.as_str() {
                    return ControlFlow::Break(());
                }
                if let Some(id) = folders.get(p) {
                    there.push((p.to_string(), (*id).clone()));
                }
            }
            ControlFlow::Continue(None)
        })
        .await?;
        let mut out = Vec::with_capacity(there.len());
        for (folder, id) in there {
            let mut keys = Vec::new();
            self.each_page(&folder, None, None, |page| {
                keys.extend(page.contents().iter().filter_map(|o| {
                    Some(NewerKey {
                        key: o.key()?.to_string(),
                        version_id: None,
                        last_modified: crate::server_clock::to_chrono(o.last_modified()),
                    })
                }));
                ControlFlow::Break(())
            })
            .await?;
            if !keys.is_empty() {
                out.push(LeftOver { id, keys });
            }
        }
        Ok(out)
    }
}
