//! The bucket crate against a real LocalStack (started by `make test`), one test binary with a
//! module per guarantee: one link instead of one per file.

mod common;

mod changed;
mod delete;
mod inventory;
mod lifecycle;
mod scan;
