//! Every integration test of the `s3-prune` binary in one test binary (ripgrep's pattern): one
//! link of the whole stack instead of one per file. LocalStack is started by `make test`.

mod common;
mod proxy;

mod approval;
mod check;
mod cli;
mod clock;
mod config;
mod engine;
mod errors;
mod faults;
mod inventory;
mod journal;
mod lambda;
mod lifecycle;
mod live;
mod load;
mod metrics;
mod newer;
mod notify;
mod partly;
mod restore;
mod safety;
mod serve;
mod terraform;
mod usage;
