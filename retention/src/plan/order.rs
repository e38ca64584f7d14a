//! Step 1 of the plan, kept: a scan's deployments dated under one date source and ordered
//! newest first. Dates and order do not depend on retain, minimum age, pins or rules, so a
//! front end that plans one scan many times (the dashboard: every page the server renders,
//! every control change in the browser) dates and sorts it once and plans from that.

use super::steps::{self, Slot};
use super::{Dated, Plan, Warning};
use crate::{DateSource, Inventory, MetaFallback, Policy};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// A scan with its deployments dated and ordered newest first under one date source. It holds
/// the inventory it was made from, so its order can only be used with that inventory.
#[derive(Debug, Clone, PartialEq)]
pub struct Ordered {
    inventory: Arc<Inventory>,
    source: DateSource,
    fallback: Option<MetaFallback>,
    slots: Vec<Slot>,
    warnings: Vec<Warning>,
}

impl Ordered {
    /// Dates and orders `inventory` under `source` (a `meta:` date that cannot be read falls
    /// back as `fallback` says).
    pub fn new(
        inventory: Arc<Inventory>,
        source: &DateSource,
        fallback: Option<MetaFallback>,
    ) -> Self {
        let (slots, warnings) = steps::order(&inventory, source, fallback);
        Ordered {
            inventory,
            source: source.clone(),
            fallback,
            slots,
            warnings,
        }
    }

    /// The inventory it was made from.
    pub fn inventory(&self) -> &Arc<Inventory> {
        &self.inventory
    }

    /// The date source it was made for.
    pub fn date_source(&self) -> &DateSource {
        &self.source
    }

    /// Every deployment with its date, newest first (equal dates by id ascending): the order
    /// and dates of every plan whose policy has this date source and `meta:` fallback (`plan`
    /// dates again when the fallback differs).
    pub fn dated(&self) -> impl ExactSizeIterator<Item = Dated<'_>> {
        self.slots.iter().map(|s| s.dated(&self.inventory))
    }

    /// [`plan`](super::plan) of the inventory under `policy`, from the order made once. A
    /// policy with another date source or `meta:` fallback is dated afresh: the plan is always
    /// the one `plan` would make.
    pub fn plan(&self, policy: &Policy, now: DateTime<Utc>) -> Plan {
        if policy.date_source != self.source || policy.meta_fallback != self.fallback {
            return super::plan(&self.inventory, policy, now);
        }
        super::plan_from(
            &self.inventory,
            &self.slots,
            self.warnings.clone(),
            policy,
            now,
        )
    }
}
