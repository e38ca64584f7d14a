//! Step 2: the walk over the dated deployments, newest first. Each gets its guard (exclude,
//! pin, unknown or future date) or its rank within its rule and group, and the verdict of that
//! rank (live, newest, too young, expired; a recently live one graced). An id its rule's group
//! pattern does not match is a group of its own: ranked against no other, so kept.

use super::Dated;
use crate::plan::{Action, Entry, Reason, Scope, FUTURE_SLACK_SECS};
use crate::{DateOrigin, DeploymentId, Inventory, Policy, Span};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};

mod findings;

/// Who ranks a managed deployment: its rule's index, retain, minimum age and scope, and the
/// index of its group among the rule's groups (found once per deployment).
struct Decider {
    index: usize,
    retain: u64,
    keep_within: Option<Span>,
    scope: Option<Scope>,
    group: usize,
}

/// A ranked deployment's date, and the rule and group it was ranked in (ties are warned of
/// within one group only).
#[derive(Clone, Copy)]
struct RankedDate<'a> {
    date: DateTime<Utc>,
    rule: usize,
    group: usize,
    id: &'a DeploymentId,
}

/// One rule's groups as the walk meets them: per group, the dates ranked so far (newest first:
/// the rank reached is the length; the date at rank r tells when the deployments below it fell
/// back a place). A rule without a group pattern has one group, found without a lookup.
#[derive(Default, Clone)]
struct Groups {
    /// Group name → index in `dates` (rules with a group pattern only).
    names: HashMap<String, usize>,
    dates: Vec<Vec<DateTime<Utc>>>,
    /// The ids the group pattern did not match: the first [`UNMATCHED_NAMED`], and how many.
    unmatched: Vec<DeploymentId>,
    unmatched_count: u64,
}

/// Groups a rule's pattern must have made, each of one deployment, before it is warned that
/// it deletes none ([`Warning::GroupsAlone`]): two branches of one build each is common.
pub(in crate::plan) const ALONE_GROUPS_MIN: usize = 3;

/// How many of the ids a group pattern does not match its warning names.
const UNMATCHED_NAMED: usize = 5;

impl Groups {
    /// The index of group `name` (`None`: the rule has no group pattern), added when new.
    fn index(&mut self, name: Option<&str>) -> usize {
        let next = self.dates.len();
        let i = match name {
            None => 0,
            // Looked up by &str: no allocation per deployment.
            Some(name) => match self.names.get(name) {
                Some(&i) => i,
                None => *self.names.entry(name.to_string()).or_insert(next),
            },
        };
        if i == self.dates.len() {
            self.dates.push(Vec::new());
        }
        i
    }

    /// A new group for `id` alone (the group pattern does not match it), noted for the warning.
    fn alone(&mut self, id: &DeploymentId) -> usize {
        self.unmatched_count += 1;
        if self.unmatched.len() < UNMATCHED_NAMED {
            self.unmatched.push(id.clone());
        }
        self.dates.push(Vec::new());
        self.dates.len() - 1
    }
}

/// Step 2: walks the dated deployments newest first and gives each its reason. Remembers what
/// the later steps need: the rank reached per rule and group, the rule that decided each
/// entry, the ranked dates (for ties) and which excludes matched.
pub(in crate::plan) struct Walk<'a> {
    inventory: &'a Inventory,
    policy: &'a Policy,
    now: DateTime<Utc>,
    pins: BTreeSet<&'a DeploymentId>,
    /// Stored pins carry a note; a --pin of the same id adds nothing.
    stored: BTreeMap<&'a DeploymentId, &'a str>,
    /// Per rule, its groups and the dates ranked in each.
    ranks: Vec<Groups>,
    /// Per entry, the index of the rule that decided it.
    decided: Vec<Option<usize>>,
    ranked_dates: Vec<RankedDate<'a>>,
    excludes_used: Vec<bool>,
}

impl<'a> Walk<'a> {
    pub fn new(inventory: &'a Inventory, policy: &'a Policy, now: DateTime<Utc>) -> Self {
        let rules = policy.rules.as_ref().map_or(1, |r| r.as_slice().len());
        Walk {
            inventory,
            policy,
            now,
            pins: policy.pins.iter().collect(),
            stored: inventory
                .pins
                .iter()
                .map(|p| (&p.id, p.reason.as_str()))
                .collect(),
            ranks: vec![Groups::default(); rules],
            decided: Vec::with_capacity(inventory.deployments.len()),
            ranked_dates: Vec::new(),
            excludes_used: vec![false; policy.excludes.len()],
        }
    }

    /// The entry of the next deployment (newest first).
    pub fn entry(&mut self, x: &Dated<'a>) -> Entry {
        let age_secs = x.age_secs(self.now);
        let mut deletable_since = None;
        let (reason, decider) = match self.guard(x) {
            Some(reason) => (reason, None),
            None => match self.decider(&x.d.id) {
                None => (Reason::NoRule, None),
                Some(by) => {
                    let rank = self.rank(&by, x);
                    let live = live_source(self.inventory, &x.d.id);
                    let reason = verdict(rank, &by, age_secs, live);
                    let reason = self.graced(reason, &x.d.id);
                    if reason.action() == Action::Delete {
                        let since = self.deletable_since(&by, rank, x.date);
                        // Not before its live grace ended: the day the previous live leaves
                        // its grace, it is not long overdue.
                        deletable_since =
                            Some(since.max(self.grace_ended(&x.d.id).unwrap_or(since)));
                    }
                    (reason, Some(by))
                }
            },
        };
        self.decided.push(decider.as_ref().map(|by| by.index));
        let (rule, group) = decider
            .and_then(|by| by.scope)
            .map_or((None, None), |s| (Some(s.rule), s.group));
        Entry {
            id: x.d.id.clone(),
            date: x.date,
            date_origin: x.origin,
            age_secs,
            objects: x.d.objects,
            bytes: x.d.bytes,
            newest: x.d.newest,
            action: reason.action(),
            reason,
            rule,
            group,
            deletable_since,
        }
    }

    /// An exclude, a pin, an unknown date or one in the future keeps a deployment whatever its
    /// rank (and it is not ranked).
    fn guard(&mut self, x: &Dated) -> Option<Reason> {
        let (p, id) = (self.policy, &x.d.id);
        if let Some(i) = p.excludes.iter().position(|g| g.matches(id.as_str())) {
            self.excludes_used[i] = true;
            return Some(Reason::Excluded {
                pattern: p.excludes[i].clone(),
            });
        }
        if let Some(note) = self.stored.get(id) {
            let note = (!note.is_empty()).then(|| note.to_string());
            return Some(Reason::Pinned { note });
        }
        if self.pins.contains(id) {
            return Some(Reason::Pinned { note: None });
        }
        if x.origin == DateOrigin::Unknown {
            let key = p.date_source.meta_key().unwrap_or_default().to_string();
            return Some(Reason::DateUnknown { key });
        }
        ((x.date - self.now).num_seconds() > FUTURE_SLACK_SECS).then_some(Reason::FutureDate)
    }

    /// The one implicit rule (RETAIN, keep_within), or the first rule matching `id` and its
    /// group; `None` when no rule matches.
    fn decider(&mut self, id: &DeploymentId) -> Option<Decider> {
        let p = self.policy;
        let Some(rules) = &p.rules else {
            return Some(Decider {
                index: 0,
                retain: p.retain.get(),
                keep_within: p.keep_within,
                scope: None,
                group: self.ranks[0].index(None),
            });
        };
        let (index, r) = rules.rule_for(id.as_str())?;
        let groups = &mut self.ranks[index];
        // Unmatched: a group of its own, named by its id (never ranked with another).
        let (group, name, alone) = match r.group.as_ref().map(|g| g.group_of(id.as_str())) {
            None => (groups.index(None), None, false),
            Some(Some(name)) => (groups.index(Some(&name)), Some(name), false),
            Some(None) => (groups.alone(id), Some(id.to_string()), true),
        };
        Some(Decider {
            index,
            retain: r.retain.get(),
            keep_within: r.keep_within,
            group,
            scope: Some(Scope {
                rule: r.name.clone(),
                group: name,
                alone,
            }),
        })
    }

    /// The next rank within `by`'s rule and group (1 = its newest).
    fn rank(&mut self, by: &Decider, x: &Dated<'a>) -> u64 {
        let dates = &mut self.ranks[by.index].dates[by.group];
        dates.push(x.date);
        self.ranked_dates.push(RankedDate {
            date: x.date,
            rule: by.index,
            group: by.group,
            id: &x.d.id,
        });
        dates.len() as u64
    }

    /// A deletion of a deployment that was live less than the live grace ago becomes a keep.
    fn graced(&self, reason: Reason, id: &DeploymentId) -> Reason {
        let Reason::Expired { rank, .. } = reason else {
            return reason;
        };
        let grace = i64::try_from(self.policy.live_grace.as_secs()).unwrap_or(i64::MAX);
        match self.live_until(id) {
            Some(until) if grace > 0 && (self.now - until).num_seconds() < grace => {
                Reason::WasLive { rank, until }
            }
            _ => reason,
        }
    }

    /// When the live grace of `id` ended, if it was live (it is past by now: a deployment
    /// still in its grace is kept, [`Walk::graced`]).
    fn grace_ended(&self, id: &DeploymentId) -> Option<DateTime<Utc>> {
        let grace = i64::try_from(self.policy.live_grace.as_secs()).ok()?;
        self.live_until(id)?
            .checked_add_signed(chrono::Duration::try_seconds(grace)?)
    }

    /// Until when `id` was live, if the scan saw it live before.
    fn live_until(&self, id: &DeploymentId) -> Option<DateTime<Utc>> {
        let was = self.inventory.was_live.iter().filter(|w| &w.id == id);
        was.map(|w| w.until).max()
    }

    /// Since when the deployment at `rank` (dated `date`) may go: the later of its minimum age
    /// passing and the arrival of the `retain`-th newer deployment of its group, which took it
    /// past the newest `retain`.
    fn deletable_since(&self, by: &Decider, rank: u64, date: DateTime<Utc>) -> DateTime<Utc> {
        let pushed_out = usize::try_from(rank.saturating_sub(by.retain + 1))
            .ok()
            .and_then(|i| self.ranks[by.index].dates[by.group].get(i).copied())
            .unwrap_or(date);
        let old_enough = by.keep_within.map_or(date, |w| {
            date + chrono::Duration::seconds(i64::try_from(w.as_secs()).unwrap_or(i64::MAX / 2))
        });
        pushed_out.max(old_enough).max(date)
    }
}

/// `id` is one of the inventory's deployments (asked only for pins and the live ids, a few:
/// no set of every id per re-plan).
pub(in crate::plan) fn present(inventory: &Inventory, id: &DeploymentId) -> bool {
    inventory.deployments.iter().any(|d| &d.id == id)
}

/// Whether `id` is live: `Some(None)` named by the live pointer, `Some(Some(key))` referenced
/// by the page `key` (`--live-from`), `None` not live.
fn live_source(inventory: &Inventory, id: &DeploymentId) -> Option<Option<String>> {
    if inventory.live.as_ref() == Some(id) {
        return Some(None);
    }
    inventory
        .live_from
        .as_ref()
        .filter(|r| r.ids.contains(id))
        .map(|r| Some(r.key.clone()))
}

/// One ranked deployment's verdict: live is kept, the newest `retain` are kept, then what is
/// younger than the minimum age; the rest is deleted.
fn verdict(rank: u64, by: &Decider, age_secs: i64, live: Option<Option<String>>) -> Reason {
    let (retain, scope) = (by.retain, by.scope.clone());
    if let Some(from) = live {
        return Reason::Live { rank, from };
    }
    if rank <= retain {
        return Reason::Newest {
            rank,
            retain,
            scope,
        };
    }
    match by.keep_within {
        Some(w) if i128::from(age_secs) <= i128::from(w.as_secs()) => Reason::TooYoung {
            rank,
            retain,
            age_secs,
            keep_within: w,
            scope,
        },
        w => Reason::Expired {
            rank,
            retain,
            age_secs,
            keep_within: w,
            scope,
        },
    }
}
