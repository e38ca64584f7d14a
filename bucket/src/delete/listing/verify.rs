//! The verifying pass's checks: each listed page split into what may go and what is newer than
//! the plan, and the verdict over the whole listing — held whole, too big to hold, or changed
//! since the plan (then none of it is sent).

use super::Key;
use crate::delete::{ChangedSincePlan, NewerKey};
use chrono::{DateTime, Utc};

/// Newer keys named in a report of a deployment that changed; the rest are counted.
pub(super) const EXAMPLES: usize = 10;

/// One listed object or version.
pub(super) struct Found {
    pub(super) key: String,
    pub(super) version_id: Option<String>,
    pub(super) last_modified: DateTime<Utc>,
    /// A current object (its latest version, not a delete marker): what the plan counted, and
    /// the only thing that can be content published since the plan. A delete marker is a file
    /// deleted, never a reason to leave the deployment.
    pub(super) current: bool,
}

/// One page split into what may go and what is newer than the plan. Keys outside the
/// deployment's folder are dropped (defence in depth: nothing outside is ever sent).
#[derive(Default)]
pub(super) struct Page {
    pub(super) keys: Vec<Key>,
    pub(super) newer: Vec<NewerKey>,
    /// Current objects among them (what the plan counted; with versions listed, fewer).
    pub(super) current: u64,
}

/// Only a current object newer than the plan's newest is content published since: a
/// non-current version newer than it belonged to a file deleted (or overwritten) since — before
/// the plan (the plan's newest counts current objects only), or after it by a write that left
/// nothing current of its own. Taken for new content, a file deleted before the plan left its
/// deployment "changed since the plan" on every purge, for ever.
pub(super) fn split_newer(found: Vec<Found>, prefix: &str, newest: DateTime<Utc>) -> Page {
    let mut out = Page::default();
    for f in found.into_iter().filter(|f| f.key.starts_with(prefix)) {
        out.current += u64::from(f.current);
        if f.last_modified > newest && f.current {
            out.newer.push(NewerKey {
                key: f.key,
                version_id: f.version_id,
                last_modified: f.last_modified,
            });
        } else {
            out.keys.push((f.key, f.version_id));
        }
    }
    out
}

/// The verifying pass over one deployment: counts what it finds against the plan's view, and
/// holds the keys while there are at most `limit` of them.
pub(super) struct Verify {
    limit: usize,
    /// The plan's object count, compared with the current objects found (versions listed or
    /// not).
    planned: Option<u64>,
    listed: u64,
    current: u64,
    newer: u64,
    examples: Vec<NewerKey>,
    /// `None` once more than `limit` keys were found: a second pass deletes.
    held: Option<Vec<Key>>,
}

/// What the verifying pass found.
pub(super) enum Verdict {
    /// As the plan saw it, and small: these keys are all of it.
    Whole(Vec<Key>),
    /// As the plan saw it, too big to hold: list it again to delete.
    Big,
    /// Not as the plan saw it: delete none of it.
    Changed(ChangedSincePlan),
}

impl Verify {
    pub(super) fn new(limit: usize, planned: Option<u64>) -> Self {
        Verify {
            limit,
            planned,
            listed: 0,
            current: 0,
            newer: 0,
            examples: Vec::new(),
            held: Some(Vec::new()),
        }
    }

    pub(super) fn page(&mut self, page: Page) {
        self.listed += (page.keys.len() + page.newer.len()) as u64;
        self.current += page.current;
        self.newer += page.newer.len() as u64;
        let room = EXAMPLES.saturating_sub(self.examples.len());
        self.examples.extend(page.newer.into_iter().take(room));
        if let Some(held) = &mut self.held {
            held.extend(page.keys);
            if held.len() > self.limit {
                self.held = None; // memory stays bounded: the deleting pass lists again
            }
        }
    }

    pub(super) fn verdict(self) -> Verdict {
        let more = self.planned.is_some_and(|p| self.current > p);
        if self.newer > 0 || more {
            return Verdict::Changed(ChangedSincePlan {
                newer: self.newer,
                listed: self.current,
                planned: self.planned,
                examples: self.examples,
            });
        }
        match self.held {
            Some(keys) => Verdict::Whole(keys),
            None => Verdict::Big,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn found(k: &str, at: &str) -> Found {
        Found {
            key: k.into(),
            version_id: None,
            last_modified: t(at),
            current: true,
        }
    }

    const PLAN_NEWEST: &str = "2026-01-01T00:00:05Z";

    fn page(keys: &[(&str, &str)]) -> Page {
        let found = keys.iter().map(|(k, at)| found(k, at)).collect();
        split_newer(found, "r7/", t(PLAN_NEWEST))
    }

    fn old(keys: &[&str]) -> Page {
        page(
            &keys
                .iter()
                .map(|k| (*k, "2026-01-01T00:00:00Z"))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn keys_newer_than_the_plan_and_keys_outside_the_folder_are_never_sent() {
        let l = page(&[
            ("r7/a", "2026-01-01T00:00:00Z"),
            ("r7/b", PLAN_NEWEST),
            ("r7/late", "2026-01-01T00:00:06Z"),
            ("r70/x", "2026-01-01T00:00:00Z"),
        ]);
        assert_eq!(
            l.keys,
            vec![("r7/a".to_string(), None), ("r7/b".to_string(), None)]
        );
        assert_eq!(l.newer.len(), 1);
        assert_eq!(l.newer[0].key, "r7/late");
    }

    #[test]
    fn a_delete_marker_made_since_the_plan_is_no_change() {
        // A file deleted after the plan (or a stopped run's markers): purge still takes it all.
        let mut late = found("r7/gone", "2026-01-02T00:00:00Z");
        late.current = false; // a marker is never current here
        let l = split_newer(vec![late], "r7/", t(PLAN_NEWEST));
        assert_eq!((l.keys.len(), l.newer.len()), (1, 0));
    }

    #[test]
    fn an_old_version_newer_than_the_plans_newest_object_is_no_change() {
        // Its file was deleted before the plan: the plan's newest counts current objects only.
        let mut deleted = found("r7/index.html", "2026-01-01T00:00:09Z");
        deleted.current = false;
        let mut written = found("r7/new.html", "2026-01-01T00:00:09Z");
        written.current = true;
        let l = split_newer(vec![deleted, written], "r7/", t(PLAN_NEWEST));
        assert_eq!(l.keys, vec![("r7/index.html".to_string(), None)]);
        assert_eq!(l.newer.len(), 1, "a current object written since is");
    }

    #[test]
    fn a_small_deployment_as_planned_is_sent_whole_from_the_verifying_pass() {
        let mut v = Verify::new(3, Some(3));
        v.page(old(&["r7/a", "r7/b"]));
        v.page(old(&["r7/c"]));
        match v.verdict() {
            Verdict::Whole(keys) => assert_eq!(keys.len(), 3),
            _ => panic!("expected the whole deployment"),
        }
    }

    #[test]
    fn one_newer_key_anywhere_leaves_the_whole_deployment() {
        // 47 unchanged files and 3 re-synced ones: none of the 50 goes (issue 23, case 1).
        let mut v = Verify::new(2_000, Some(50));
        let unchanged: Vec<String> = (0..47).map(|n| format!("r7/f{n}")).collect();
        v.page(old(&unchanged
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()));
        v.page(page(&[
            ("r7/index.html", "2026-01-02T00:00:00Z"),
            ("r7/app.js", "2026-01-02T00:00:00Z"),
            ("r7/app.css", "2026-01-02T00:00:00Z"),
        ]));
        let Verdict::Changed(c) = v.verdict() else {
            panic!("a re-synced deployment must be left whole");
        };
        assert_eq!((c.newer, c.listed), (3, 50));
        assert_eq!(c.examples[0].key, "r7/index.html");
        assert!(
            c.to_string().contains("3 objects newer than the plan"),
            "{c}"
        );
    }

    #[test]
    fn more_objects_than_the_plan_counted_is_a_change_even_when_none_is_newer() {
        // Keys the plan (or a day-old inventory report) never saw, with old dates: a restore.
        let mut v = Verify::new(2_000, Some(2));
        v.page(old(&["r7/a", "r7/b", "r7/c"]));
        let Verdict::Changed(c) = v.verdict() else {
            panic!("more objects than planned must be left whole");
        };
        assert_eq!((c.newer, c.listed, c.planned), (0, 3, Some(2)));
        assert!(
            c.to_string().contains("3 objects now, the plan saw 2"),
            "{c}"
        );
        // Fewer (some deleted since the plan) is no reason to keep the rest.
        let mut v = Verify::new(2_000, Some(5));
        v.page(old(&["r7/a", "r7/b", "r7/c"]));
        assert!(matches!(v.verdict(), Verdict::Whole(_)));
        // Listing versions (a purge), only the current objects are counted against the plan's.
        let versions = |current: bool| {
            let f = |k: &str| Found {
                current,
                ..found(k, "2026-01-01T00:00:00Z")
            };
            split_newer(vec![f("r7/a"), f("r7/a"), f("r7/b")], "r7/", t(PLAN_NEWEST))
        };
        let mut v = Verify::new(2_000, Some(2));
        v.page(versions(false));
        assert!(matches!(v.verdict(), Verdict::Whole(_)), "older versions");
        let mut v = Verify::new(2_000, Some(2));
        v.page(versions(true));
        assert!(
            matches!(v.verdict(), Verdict::Changed(_)),
            "three current objects, the plan saw two"
        );
    }

    #[test]
    fn a_big_deployment_is_not_held_but_verified_then_listed_again() {
        let mut v = Verify::new(3, Some(5));
        v.page(old(&["r7/a", "r7/b"]));
        v.page(old(&["r7/c", "r7/d"]));
        assert!(v.held.is_none(), "over the limit: nothing held");
        v.page(old(&["r7/e"]));
        assert!(matches!(v.verdict(), Verdict::Big));

        let mut v = Verify::new(3, Some(5));
        v.page(old(&["r7/a", "r7/b", "r7/c", "r7/d"]));
        v.page(page(&[("r7/e", "2026-01-02T00:00:00Z")]));
        assert!(
            matches!(v.verdict(), Verdict::Changed(_)),
            "changed, big or not"
        );
    }
}
