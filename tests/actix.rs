//! The acceptance suite against the actix-web adapter, served by actix-web
//! 4 on 127.0.0.1:0: the server is `tests/servers/actix.rs`, shared with
//! `tests/mixed.rs` and `tests/errors.rs`.
#![cfg(feature = "actix")]

#[macro_use]
mod common;
#[path = "servers/actix.rs"]
mod actix_server;

acceptance_suite!(actix_server::start);
