//! The acceptance suite against the tower adapter in an `axum::Router`,
//! the session taken as an extractor, on 127.0.0.1:0: the server is
//! `tests/servers/axum.rs`, shared with `tests/errors.rs`.
#![cfg(feature = "axum")]

#[macro_use]
mod common;
#[path = "servers/axum.rs"]
mod axum_server;

acceptance_suite!(axum_server::start);
