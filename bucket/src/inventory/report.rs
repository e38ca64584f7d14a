//! The S3 side of a plan from an inventory: find the report (a manifest's address, or the
//! newest complete report under a configuration's folder), read its manifest and check it
//! against `manifest.checksum`, then read the data files several at once, each folded as it
//! arrives (`data_file`), into the same counters a listing makes.

use super::data_file::{DataFileReader, Ended, Folded};
use super::parquet_file;
use super::{hex, parse_manifest, DataFile, InventoryLocation, Manifest, Schema};
use crate::agg::Agg;
use crate::{Bucket, S3Error, ScanOptions, Scanned};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use md5::{Digest, Md5};
use retention::{DeploymentId, Inventory, Warning};
use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::Arc;

/// A report's folder name: the time AWS began it, `YYYY-MM-DDTHH-MMZ` (e.g. `2016-11-06T21-32Z`).
pub(super) fn is_report_folder(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() == 17
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 | 13 => *c == b'-',
            10 => *c == b'T',
            16 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// The dated report folders among `prefixes` (listed under `dir` with delimiter `/`), newest
/// first (the date format sorts as text); other folders (`data/`, `hive/`) are not reports.
pub(super) fn newest_first(dir: &str, prefixes: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut folders: Vec<String> = prefixes
        .into_iter()
        .filter(|p| {
            p.strip_prefix(dir)
                .and_then(|rest| rest.strip_suffix('/'))
                .is_some_and(is_report_folder)
        })
        .collect();
    folders.sort_unstable_by(|a, b| b.cmp(a));
    folders
}

impl Bucket {
    /// One data file of the report (in this, the reports' bucket), folded as it arrives.
    async fn fold_data_file(
        &self,
        f: &DataFile,
        schema: &Schema,
        prefix: &str,
    ) -> Result<Folded, S3Error> {
        let mut body = self
            .get_stream(&f.key)
            .await?
            .ok_or_else(|| self.refuse(&f.key, "the manifest lists it, but it does not exist"))?;
        let mut reader = DataFileReader::new(f, schema, prefix);
        while let Some(chunk) = body
            .try_next()
            .await
            .map_err(|e| self.refuse(&f.key, format!("reading it stopped: {e}")))?
        {
            reader.feed(&chunk);
        }
        match reader.end().map_err(|p| self.refuse(&f.key, p))? {
            Ended::Folded(folded) => Ok(folded),
            // Reading a Parquet file is seconds of CPU for a big one: off the runtime's threads,
            // so that a dashboard served beside it stays responsive.
            Ended::Parquet(file) => {
                let prefix = prefix.to_string();
                tokio::task::spawn_blocking(move || parquet_file::fold_file(file, &prefix))
                    .await
                    .map_err(|e| self.refuse(&f.key, format!("reading it failed: {e}")))?
                    .map_err(|p| self.refuse(&f.key, p))
            }
        }
    }

    /// The folder under the prefix this bucket prunes that holds the reports, when they are
    /// written there (and not under `.s3-prune/`): never a deployment. Before, it was ranked as
    /// one — gaining files every day, the newest — and took a kept place, a real deployment
    /// going in its stead.
    fn reports_folder(&self, at: &InventoryLocation) -> Option<String> {
        (at.key.strip_prefix(self.prefix.as_str()))
            .filter(|_| at.bucket == self.name)
            .and_then(|rest| rest.split_once('/'))
            .map(|(folder, _)| folder.to_string())
            .filter(|folder| folder != crate::RESERVED)
    }

    fn refuse(&self, key: &str, problem: impl Into<String>) -> S3Error {
        S3Error::Pointer {
            key: format!("s3://{}/{key}", self.name),
            problem: problem.into(),
        }
    }

    /// Every key and (with a delimiter) common prefix under `prefix`.
    async fn names(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
    ) -> Result<(Vec<String>, Vec<String>), S3Error> {
        let (mut keys, mut prefixes) = (Vec::new(), Vec::new());
        self.each_page(prefix, delimiter, None, |page| {
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key())
                    .map(str::to_string),
            );
            prefixes.extend(
                page.common_prefixes()
                    .iter()
                    .filter_map(|p| p.prefix())
                    .map(str::to_string),
            );
            ControlFlow::Continue(None)
        })
        .await?;
        Ok((keys, prefixes))
    }

    /// In the reports' bucket: the key of the manifest `at` names, itself or the newest
    /// complete report's under a configuration's folder (complete once AWS has written its
    /// `manifest.checksum`; a newer report still being written is passed over).
    async fn manifest_key(&self, at: &InventoryLocation) -> Result<String, S3Error> {
        if !at.key.ends_with('/') {
            return Ok(at.key.clone());
        }
        let (_, prefixes) = self.names(&at.key, Some("/")).await?;
        for folder in newest_first(&at.key, prefixes) {
            let (names, _) = self.names(&format!("{folder}manifest."), None).await?;
            let has = |name: &str| names.iter().any(|k| *k == format!("{folder}{name}"));
            if has("manifest.json") && has("manifest.checksum") {
                return Ok(format!("{folder}manifest.json"));
            }
        }
        Err(self.refuse(
            &at.key,
            "no complete report is under it (a report is complete once AWS has written its \
             manifest.checksum beside manifest.json); wait for the first report, or give a \
             manifest.json's address",
        ))
    }

    /// The manifest at `key`, checked against the `manifest.checksum` beside it when there
    /// is one (AWS writes it: the MD5 of manifest.json).
    async fn read_manifest(&self, key: &str) -> Result<Manifest, S3Error> {
        let checksum_key = format!(
            "{}manifest.checksum",
            key.strip_suffix("manifest.json").unwrap_or(key)
        );
        let (body, checksum) =
            futures::try_join!(self.get_body(key), self.get_body(&checksum_key))?;
        let body = body.ok_or_else(|| self.refuse(key, "it does not exist"))?;
        if let Some(sum) = checksum {
            let (want, got) = (String::from_utf8_lossy(&sum), hex(&Md5::digest(&body)));
            if !want.trim().eq_ignore_ascii_case(&got) {
                return Err(self.refuse(
                    key,
                    format!(
                        "its MD5 is {got}, manifest.checksum says {}: the manifest is damaged \
                         or was being rewritten; run again",
                        want.trim()
                    ),
                ));
            }
        }
        let text = String::from_utf8(body).map_err(|_| self.refuse(key, "it is not UTF-8"))?;
        parse_manifest(&text).map_err(|e| self.refuse(key, e.to_string()))
    }

    /// Plans from an S3 Inventory report instead of a listing: the same counters, from the
    /// report's data files (several at once), with the report's date (`report_date`). A
    /// manifest or data file that is missing, damaged or lacks the needed columns is an error:
    /// nothing is planned from part of a report.
    ///
    /// The report's list of deployments is not trusted on its own: beside it, one delimiter
    /// listing (a request per 1,000 folders) finds the folders there are now. A deployment of
    /// the report that is gone is left out (counted, it would take a place among the RETAIN
    /// newest that a deployment still there should have: apply would delete that one); a folder
    /// the report lacks (published since) is listed now, so the plan ranks it as a listing
    /// would. Both are warned about ([`Scanned::warnings`]).
    ///
    /// The dates file is read but never written: a report is a past view, and recording it
    /// would forget the first-seen dates of deployments it lacks.
    pub async fn scan_inventory(
        &self,
        at: &InventoryLocation,
        opts: &ScanOptions,
    ) -> Result<Inventory, S3Error> {
        Ok(self
            .scan_inventory_unsaved(at, opts)
            .await?
            .remembered()
            .await)
    }

    /// [`Bucket::scan_inventory`]; its [`Scanned::dates`] writes nothing.
    pub async fn scan_inventory_unsaved(
        &self,
        at: &InventoryLocation,
        opts: &ScanOptions,
    ) -> Result<Scanned, S3Error> {
        let own = self.reports_folder(at);
        if let Some(own) = &own {
            tracing::info!(
                folder = own,
                "the inventory's reports are under the prefix: their folder is not a deployment"
            );
        }
        let reports = self.sibling(&at.bucket);
        let report = async {
            let key = reports.manifest_key(at).await?;
            let manifest = reports.read_manifest(&key).await?;
            Ok::<_, S3Error>((key, manifest))
        };
        let (facts, (key, manifest), (mut live_ids, loose)) =
            futures::try_join!(self.facts(opts), report, self.discover())?;
        live_ids.retain(|id| Some(id) != own.as_ref());
        if manifest.source_bucket != self.name {
            return Err(reports.refuse(
                &key,
                format!(
                    "it is the report of bucket '{}', not '{}'",
                    manifest.source_bucket, self.name
                ),
            ));
        }
        // Each data file is read as it arrives and folded into its own counters (see
        // data_file.rs), several at once, each on a task of its own (parsing is CPU work: the
        // runtime's threads share it); a file's counters join the total when it is done.
        let schema = Arc::new(manifest.schema.clone());
        let prefix: Arc<str> = self.prefix.as_str().into();
        let reads: Vec<_> = manifest
            .files
            .iter()
            .map(|f| {
                let (reports, f) = (reports.clone(), f.clone());
                let (schema, prefix) = (schema.clone(), prefix.clone());
                async move {
                    let (key, outer) = (f.key.clone(), reports.clone());
                    tokio::spawn(async move { reports.fold_data_file(&f, &schema, &prefix).await })
                        .await
                        .map_err(|e| outer.refuse(&key, format!("reading it failed: {e}")))?
                }
            })
            .collect();
        let Folded {
            aggs: mut reported,
            loose: reported_loose,
        } = stream::iter(reads)
            .buffer_unordered(opts.concurrency.max(1))
            .try_fold(Folded::default(), |mut total, file| async move {
                total.merge(file);
                Ok(total)
            })
            .await?;
        if let Some(own) = &own {
            reported.remove(own);
        }
        let (report_date, covers_prefix) = (
            manifest.created,
            !reported.is_empty() || reported_loose.objects > 0,
        );
        let drift = Drift::between(&mut reported, &live_ids);
        let newer = self.list_folders(&drift.newer, opts.concurrency).await?;
        reported.extend(newer);
        // The loose objects as listed now: the delimiter listing counted them.
        let mut scanned = self.inventory_of(reported, loose, facts, opts).await?;
        scanned.inventory.report_date = Some(report_date);
        scanned.dates = crate::DatesUpdate::default();
        scanned
            .warnings
            .extend(drift.warnings(report_date, covers_prefix, &self.prefix));
        Ok(scanned)
    }
}

/// How the report's deployments differ from the folders a listing finds now.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Drift {
    /// In the report, gone since: left out of the plan.
    pub(super) gone: Vec<String>,
    /// Listed now, not in the report: to be listed.
    pub(super) newer: Vec<String>,
}

impl Drift {
    /// Takes the report's deployments that are not among `live` out of `reported`, and names
    /// the folders of `live` that `reported` lacks.
    pub(super) fn between(reported: &mut HashMap<String, Agg>, live: &[String]) -> Drift {
        let here: HashSet<&str> = live.iter().map(String::as_str).collect();
        let mut gone: Vec<String> = reported
            .keys()
            .filter(|id| !here.contains(id.as_str()))
            .cloned()
            .collect();
        reported.retain(|id, _| here.contains(id.as_str()));
        let mut newer: Vec<String> = live
            .iter()
            .filter(|id| !reported.contains_key(*id))
            .cloned()
            .collect();
        gone.sort();
        newer.sort();
        newer.dedup();
        Drift { gone, newer }
    }

    /// The plan's warnings: what was left out and what was listed; when the report holds
    /// nothing under the prefix, that instead of naming every folder as newer.
    fn warnings(&self, report_date: DateTime<Utc>, covers: bool, prefix: &str) -> Vec<Warning> {
        let ids = |v: &[String]| -> Vec<DeploymentId> {
            v.iter()
                .filter_map(|id| DeploymentId::new(id.clone()).ok())
                .collect()
        };
        let mut w = Vec::new();
        if !self.gone.is_empty() {
            w.push(Warning::InventoryGone {
                report_date,
                ids: ids(&self.gone),
            });
        }
        if !covers && !self.newer.is_empty() {
            let prefix = match prefix {
                "" => "the bucket's root".to_string(),
                p => p.to_string(),
            };
            w.push(Warning::InventoryMissesPrefix { prefix });
        } else if !self.newer.is_empty() {
            w.push(Warning::InventoryNewer {
                report_date,
                ids: ids(&self.newer),
            });
        }
        w
    }
}
