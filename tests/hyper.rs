//! The acceptance suite against the tower adapter under plain hyper 1
//! (through hyper-util) on 127.0.0.1:0: the server is
//! `tests/servers/hyper.rs`, shared with `tests/mixed.rs`.
#![cfg(feature = "tower")]

#[macro_use]
mod common;
#[path = "servers/hyper.rs"]
mod hyper_server;

acceptance_suite!(hyper_server::start);
