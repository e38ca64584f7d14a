//! Plans saved by `plan --out FILE` and applied by `apply --plan FILE` (Terraform style): the
//! file is the confirmation, so apply deletes only if a fresh plan yields exactly its set.

use crate::args::plan::PlanArgs;
use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use prune::{Planned, PolicySpec};
use retention::{Doomed, Policy};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The format this version writes and reads. Format 1 (before `Doomed`) is refused.
const FORMAT: u32 = 2;

#[derive(Debug, Serialize, Deserialize)]
pub struct SavedPlan {
    pub format: u32,
    pub bucket: String,
    pub prefix: String,
    pub policy: Policy,
    pub live_pointer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_from: Option<String>,
    /// The S3 Inventory report the plan was made from (`--inventory`, as given): the apply
    /// plans from it again, so the sets compare like with like.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<String>,
    pub created_at: DateTime<Utc>,
    pub deletion_set: Vec<Doomed>,
    /// Where the plan was made (the endpoint's label, `Bucket::endpoint`): applied elsewhere —
    /// another server holding a copy of the bucket — it is refused. Absent in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Whether the plan's deletes could be undone (`Planned::undoable`): the apply is refused
    /// where they no longer could. Absent in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undoable: Option<bool>,
}

impl SavedPlan {
    pub fn of(planned: &Planned, settings: &prune::ScanSettings) -> Self {
        SavedPlan {
            format: FORMAT,
            bucket: planned.bucket.name().to_string(),
            prefix: planned.bucket.prefix().to_string(),
            policy: planned.plan.policy.clone(),
            live_pointer: settings.live_pointer.clone(),
            live_from: settings.live_from.clone(),
            inventory: settings.inventory.as_ref().map(ToString::to_string),
            created_at: planned.plan.now,
            deletion_set: planned.plan.deletion_set(),
            endpoint: Some(planned.bucket.endpoint().to_string()),
            undoable: Some(planned.undoable()),
        }
    }

    /// Refuses a fresh plan made somewhere else than the saved one (another endpoint: a copy of
    /// the bucket, the same names and dates) or whose deletes could no longer be undone where
    /// the saved plan's could (versioning suspended since, say): the file confirmed neither.
    pub fn still_where_it_was(&self, planned: &Planned) -> Result<()> {
        let now = planned.bucket.endpoint();
        if let Some(saved) = &self.endpoint {
            // AWS's label names the client's region, which may differ for the same bucket.
            let aws = |e: &str| e.starts_with("AWS S3");
            if saved != now && !(aws(saved) && aws(now)) {
                bail!(
                    "the saved plan was made at {saved}, and this apply would delete at {now}: \
                     nothing was deleted. Give the endpoint the plan was made with \
                     (--endpoint-url, --localstack, AWS_ENDPOINT_URL), or make a new plan there"
                );
            }
        }
        if self.undoable == Some(true) && !planned.undoable() {
            bail!(
                "the saved plan's deletes could be undone (the bucket kept old versions), and \
                 now they could not (versioning is {}): nothing was deleted. Make a new plan, \
                 which says so, and apply that",
                planned.plan.versioning
            );
        }
        Ok(())
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        std::fs::write(path, serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("writing {}", path.display()))
    }

    /// The plan in `path`; a file that cannot be read, or holds no plan, is refused saying
    /// what to give instead.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the saved plan {} ({e}): give the file `s3-prune plan … --out FILE` \
                 wrote",
                path.display()
            )
        })?;
        let not_a_plan = || {
            format!(
                "{} is not a plan saved by `s3-prune plan --out` (make one with `s3-prune plan \
                 BUCKET RETAIN … --out FILE`)",
                path.display()
            )
        };
        let v: serde_json::Value = serde_json::from_slice(&text).with_context(not_a_plan)?;
        match v.get("format").and_then(|f| f.as_u64()) {
            Some(f) if f == u64::from(FORMAT) => {}
            Some(f) => bail!(
                "{}: plan format {f} is not supported by this version (it reads format {FORMAT}): \
                 make a new plan with `s3-prune plan … --out`",
                path.display()
            ),
            None => bail!("{}: it has no plan format", not_a_plan()),
        }
        serde_json::from_value(v).with_context(not_a_plan)
    }

    /// The saved policy with the guards given beside `--plan` laid over it: pins and excludes
    /// are added, max-delete lowered, the live grace lengthened, a live pointer added.
    /// Anything that would delete more than the saved plan (a higher max-delete, a shorter
    /// grace, --purge-versions or a --meta-fallback it lacks, another pointer) is refused,
    /// naming the flag.
    pub fn narrowed_by(&self, a: &PlanArgs) -> Result<(Policy, Option<String>)> {
        let over = PolicySpec {
            pins: a.pins.clone(),
            excludes: a.excludes.clone(),
            max_delete: a.max_delete,
            // Turning purging off is taken (it deletes less); on, it must be the saved plan's.
            purge_versions: match (a.purge_versions, a.no_purge_versions) {
                (_, true) => Some(false),
                (true, false) => Some(true),
                (false, false) => None,
            },
            live_grace: a.live_grace,
            meta_fallback: a.meta_fallback,
            ..PolicySpec::default()
        };
        let spec = PolicySpec::from(&self.policy)
            .narrowed_by(&over)
            .map_err(|w| {
                let flag = format!("--{}", w.field.replace('_', "-"));
                anyhow::anyhow!(
                    "{flag} conflicts with the saved plan ({}): nothing was deleted. Make a new \
                     plan with it: `s3-prune plan … {flag} … --out FILE`",
                    w.why
                )
            })?;
        let live_pointer = match (&self.live_pointer, &a.live.live_pointer) {
            (Some(saved), Some(given)) if saved != given => bail!(
                "--live-pointer {given} conflicts with the saved plan's pointer {saved}: nothing \
                 was deleted. Make a new plan with the pointer you want."
            ),
            (saved, given) => given.clone().or(saved.clone()),
        };
        Ok((spec.build()?, live_pointer))
    }

    /// The page `--live-from` reads when applying this plan: the saved one, or the same given.
    /// The report to plan from: the saved plan's (a listing's plan is not a report's, and the
    /// other way round), refusing another one given with it.
    pub fn inventory_with(
        &self,
        a: &PlanArgs,
    ) -> Result<Option<bucket::inventory::InventoryLocation>> {
        let given = a.live.inventory.as_ref().map(ToString::to_string);
        match (&self.inventory, given) {
            (None, None) => Ok(None),
            (None, Some(given)) => bail!(
                "--inventory {given}: the saved plan was made from a listing, not a report: \
                 nothing was deleted. Make a new plan with it: `s3-prune plan … --inventory \
                 {given} --out FILE`"
            ),
            (Some(saved), Some(given)) if *saved != given => bail!(
                "--inventory {given} conflicts with the saved plan's report {saved}: nothing \
                 was deleted. Make a new plan with the report you want."
            ),
            (Some(saved), _) => saved
                .parse()
                .map(Some)
                .map_err(|e: String| anyhow::anyhow!("the saved plan's report {saved}: {e}")),
        }
    }

    pub fn live_from_with(&self, a: &PlanArgs) -> Result<Option<String>> {
        match (&self.live_from, &a.live.live_from) {
            (Some(saved), Some(given)) if saved != given => bail!(
                "--live-from {given} conflicts with the saved plan's page {saved}: nothing was \
                 deleted. Make a new plan with the page you want."
            ),
            (saved, given) => Ok(given.clone().or(saved.clone())),
        }
    }
}
