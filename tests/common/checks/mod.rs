//! The acceptance checks, by topic. Each takes the adapter's `start`
//! function, starts the servers it needs and checks what goes over the
//! wire (and, in `logging`, what the server logs).

mod chunks;
mod csrf;
mod flash;
mod hostile;
mod lifecycle;
mod logging;
mod revocation;
mod rotation;
mod tossing;

// Not every test binary runs every check (`tests/errors.rs` none).
#[allow(unused_imports)]
pub(crate) use chunks::*;
#[allow(unused_imports)]
pub(crate) use csrf::*;
#[allow(unused_imports)]
pub(crate) use flash::*;
#[allow(unused_imports)]
pub(crate) use hostile::*;
#[allow(unused_imports)]
pub(crate) use lifecycle::*;
#[allow(unused_imports)]
pub(crate) use logging::*;
#[allow(unused_imports)]
pub(crate) use revocation::*;
#[allow(unused_imports)]
pub(crate) use rotation::*;
#[allow(unused_imports)]
pub(crate) use tossing::*;
