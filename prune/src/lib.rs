//! The one apply engine of s3-prune. Every front end (CLI, dashboard, scheduled job) runs the
//! same sequence through here, and nowhere else:
//!
//! 1. [`scan_and_plan`]: a fresh scan of the bucket, decided by the `retention` core;
//! 2. [`check`]: the plan against what was confirmed (and its blocking checks), giving a
//!    [`Checked`] plan or one [`Refusal`] — the only way to obtain something [`apply`] accepts;
//! 3. [`apply`]: journal a `started` record, delete (never a key newer than the plan), complete
//!    the record, and return the [`Report`].
//!
//! And the way back: [`check_restore`] and [`restore`] remove the delete markers an apply on a
//! versioned bucket recorded.
//!
//! Policies are built from what a front end gathered with one [`PolicySpec`] (from `retention`,
//! so the browser's preview builds its policy the same way).

mod answers;
mod apply;
pub mod approval;
mod check;
mod doc;
mod error;
pub mod expire;
pub mod health;
mod intents;
pub mod journal;
mod lease;
mod notify;
mod pins;
mod plan;
mod restore;
mod undo_window;
mod watch;

pub use apply::{apply, ApplyContext, ApplyError, Journal, JournalError, LogJournal, Report};
pub use check::{check, Checked, Refusal, SetChange};
pub use doc::{escape_controls, PlanDoc};
pub use expire::Handovers;
pub use notify::{BadWebhookUrl, Notifier, Summary, WebhookUrl};
pub use pins::{set_pin, PinChange, PinError};
pub use plan::{scan, scan_and_plan, Planned, ScanSettings};
pub use restore::{
    check_restore, check_restore_named, check_restore_run, restore, RestoreContext, RestoreRefusal,
    Restored, ToRestore,
};
pub use retention::{PolicySpec, SpecError, Widening};
pub use undo_window::{set_undo_window, UndoWindowBy, UndoWindowError};
