//! The dashboard's rows: what the page shows of each deployment whatever the policy, in plan
//! order (newest first).

use crate::format;
use retention::{DeploymentId, Ordered};

/// One row of what the page shows, independent of the policy (dates and order do not change
/// when the controls do). Its date and age are formatted only when shown (`date`, `age`): the
/// server renders ~50 rows of 2,000, and formatting them all was ~12 % of a page's CPU
/// (perf, `bench/load.sh`).
#[derive(Clone)]
pub struct Row {
    pub id: DeploymentId,
    pub at: chrono::DateTime<chrono::Utc>,
    pub date_ts: i64,
    pub age_secs: i64,
    pub objects: u64,
    pub bytes: u64,
}

impl Row {
    pub fn date(&self) -> String {
        format::date(&self.at)
    }
    pub fn age(&self) -> String {
        retention::human_age(self.age_secs)
    }
}

/// The policy-independent facts of every deployment, in plan order (newest first): from the
/// scan's order, made once per scan (on the server, not for every page).
pub fn rows_of(ordered: &Ordered, now: chrono::DateTime<chrono::Utc>) -> Vec<Row> {
    ordered
        .dated()
        .map(|x| Row {
            id: x.d.id.clone(),
            at: x.date,
            date_ts: x.date.timestamp(),
            age_secs: x.age_secs(now),
            objects: x.d.objects,
            bytes: x.d.bytes,
        })
        .collect()
}
