//! Integration tests: the real `vline` binary and the library against the sandbox over loopback.
//! One test binary for the whole suite (faster to build on a 2-core machine).

mod amortized;
mod audit;
mod bulk_bench;
mod bulkmap;
mod client;
mod completions;
mod config;
mod conformance;
mod doctor;
mod formats;
mod host;
mod human;
mod input;
mod journal;
mod movius_paths;
mod new_users;
mod plan;
mod preflight;
mod procedures;
mod props;
mod reliability;
mod repl;
mod sandbox;
mod security;
mod support;
mod zoomcsv;
