//! The acceptance suite against the actix-web adapter, served by actix-web
//! 4 on 127.0.0.1:0.
#![cfg(feature = "actix")]

#[macro_use]
mod common;
#[path = "servers/actix.rs"]
mod actix_server;

use actix_server::start;

acceptance_suite!(start);
