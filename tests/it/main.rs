//! Integration tests: the real `vline` binary and the library against the sandbox over loopback.
//! One test binary for the whole suite (faster to build on a 2-core machine).

mod support;
mod journal;
mod client;
mod sandbox;
mod config;
