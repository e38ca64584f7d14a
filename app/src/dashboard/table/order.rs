//! Which rows the table lists and in what order: the sort a header picks and the filter typed
//! under rules, as plain functions of the rows.

use crate::dashboard::paint::{group_at, rule_at};
use crate::dashboard::row::Row;
use retention::Plan;

/// The order the table lists its rows in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SortBy {
    DateDesc,
    DateAsc,
    SizeDesc,
    SizeAsc,
}

/// A sortable column: the order its first click picks, and the one a second click picks.
#[derive(Clone, Copy)]
pub struct SortPair {
    pub desc: SortBy,
    pub asc: SortBy,
}

pub const BY_DATE: SortPair = SortPair {
    desc: SortBy::DateDesc,
    asc: SortBy::DateAsc,
};
pub const BY_SIZE: SortPair = SortPair {
    desc: SortBy::SizeDesc,
    asc: SortBy::SizeAsc,
};

impl SortPair {
    /// The column's `aria-sort` while the table is sorted by `current`.
    pub fn aria(self, current: SortBy) -> &'static str {
        if current == self.desc {
            "descending"
        } else if current == self.asc {
            "ascending"
        } else {
            "none"
        }
    }

    /// The order a click on the column picks: ascending after descending, else descending.
    pub fn next(self, current: SortBy) -> SortBy {
        if current == self.desc {
            self.asc
        } else {
            self.desc
        }
    }
}

/// The filter's case folding: ASCII letters only. Unicode's case tables cost the browser's wasm
/// 18 KB (6.7 KB brotli) for rule and group names that are ASCII in practice; a non-ASCII
/// letter matches in the case it was typed.
pub fn fold(text: &str) -> String {
    text.to_ascii_lowercase()
}

/// Does row `i`'s rule or group contain `filter` (already trimmed and [`fold`]ed)?
pub fn matches(plan: &Option<Plan>, i: usize, filter: &str) -> bool {
    fold(&rule_at(plan, i)).contains(filter) || fold(&group_at(plan, i)).contains(filter)
}

/// The indices of the rows `keep` accepts, sorted by `sort` (rows come newest first; equal
/// sizes keep that order).
pub fn indices(rows: &[Row], sort: SortBy, keep: impl Fn(usize) -> bool) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..rows.len()).filter(|i| keep(*i)).collect();
    match sort {
        SortBy::DateDesc => {}
        SortBy::DateAsc => idx.reverse(),
        SortBy::SizeDesc | SortBy::SizeAsc => {
            // One sort for both directions (each sort is ~3 KB of wasm); the row index breaks
            // ties, so the keys are unique and an unstable sort keeps the rows' order.
            let desc = sort == SortBy::SizeDesc;
            let size = |i: usize| {
                if desc {
                    u64::MAX - rows[i].bytes
                } else {
                    rows[i].bytes
                }
            };
            idx.sort_unstable_by_key(|&i| (size(i), i));
        }
    }
    idx
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn rows(bytes: &[u64]) -> Vec<Row> {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        bytes
            .iter()
            .enumerate()
            .map(|(i, b)| Row {
                id: retention::DeploymentId::new(format!("d{i}")).unwrap(),
                at,
                date_ts: at.timestamp(),
                age_secs: 0,
                objects: 1,
                bytes: *b,
            })
            .collect()
    }

    #[test]
    fn sorts_by_date_and_by_size_with_ties_in_row_order() {
        let r = rows(&[5, 9, 5, 1]);
        let all = |_| true;
        assert_eq!(indices(&r, SortBy::DateDesc, all), [0, 1, 2, 3]);
        assert_eq!(indices(&r, SortBy::DateAsc, all), [3, 2, 1, 0]);
        assert_eq!(indices(&r, SortBy::SizeDesc, all), [1, 0, 2, 3]);
        assert_eq!(indices(&r, SortBy::SizeAsc, all), [3, 0, 2, 1]);
    }

    #[test]
    fn keeps_only_what_the_filter_accepts() {
        let r = rows(&[5, 9, 5, 1]);
        assert_eq!(indices(&r, SortBy::SizeDesc, |i| i != 1), [0, 2, 3]);
    }

    #[test]
    fn the_filter_ignores_the_case_of_ascii_letters() {
        assert_eq!(fold("PR-482 Previews"), "pr-482 previews");
        assert!(fold("Release-41").contains(&fold("RELEASE")));
        assert_eq!(fold("Ünïcode"), "Ünïcode", "non-ASCII letters as typed");
    }

    #[test]
    fn a_click_flips_a_sorted_column_and_picks_descending_first() {
        assert_eq!(BY_DATE.next(SortBy::DateDesc), SortBy::DateAsc);
        assert_eq!(BY_DATE.next(SortBy::DateAsc), SortBy::DateDesc);
        assert_eq!(BY_SIZE.next(SortBy::DateAsc), SortBy::SizeDesc);
        assert_eq!(BY_SIZE.aria(SortBy::SizeAsc), "ascending");
        assert_eq!(BY_SIZE.aria(SortBy::DateDesc), "none");
        assert_eq!(BY_DATE.aria(SortBy::DateDesc), "descending");
    }
}
