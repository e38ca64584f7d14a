//! One apply or restore per bucket from this dashboard: the bucket's mark while it runs, and
//! what runs, for whoever is refused meanwhile. (Across front ends the bucket's lease holds.)

use super::AppError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What runs on a bucket from this dashboard (one at a time), for whoever is refused meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Work {
    Apply,
    Restore,
    /// An approved request's apply.
    Approved,
}

impl Work {
    fn running(self) -> &'static str {
        match self {
            Work::Apply => "an apply",
            Work::Restore => "a restore",
            Work::Approved => "an approved apply",
        }
    }
}

/// A bucket's mark while an apply or restore from this dashboard runs; released when dropped —
/// on success, error, a dropped request or a panic alike.
pub(super) struct Busy {
    key: String,
    set: Arc<Mutex<HashMap<String, Work>>>,
}

impl Busy {
    pub(super) fn take(
        set: &Arc<Mutex<HashMap<String, Work>>>,
        key: &str,
        work: Work,
    ) -> Result<Busy, AppError> {
        let mut s = set.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(running) = s.get(key) {
            return Err(AppError(format!(
                "{} on '{key}' is already running from this dashboard: wait for it to end",
                running.running()
            )));
        }
        s.insert(key.to_string(), work);
        Ok(Busy {
            key: key.to_string(),
            set: set.clone(),
        })
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_busy_with_a_restore_says_so_not_an_apply() {
        let set = Arc::new(Mutex::new(HashMap::new()));
        let restore = Busy::take(&set, "site", Work::Restore).unwrap();
        let refused = Busy::take(&set, "site", Work::Apply).err().unwrap().0;
        // Before: "an apply on 'site' is already running", whatever ran.
        assert_eq!(
            refused,
            "a restore on 'site' is already running from this dashboard: wait for it to end"
        );
        assert!(Busy::take(&set, "other", Work::Apply).is_ok());
        drop(restore);
        assert!(Busy::take(&set, "site", Work::Apply).is_ok(), "released");
    }
}
