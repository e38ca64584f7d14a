//! The intents of runs written before 2026-12-08: each batch's keys, written before it was
//! sent (grouped with the batches waiting beside it, `intents-FFFFFF-LLLLLL.json`). Runs now
//! write their intent once, the folders they may delete from (`crate::journal::FoldersPart`);
//! these parts are still read, so those runs are restored as they were written.
//!
//! What a part holds and how it is named: [`part`].

mod part;

pub(crate) use part::{batches_of, may_hold_unanswered};
