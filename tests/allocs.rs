//! Heap allocations per seal and per open, counted by a global allocator.
//!
//! The budget: once a thread is warm, a seal allocates at most once beyond
//! what serde needs to serialize `T` (the returned `String`), and an open
//! at most once beyond what serde needs to deserialize `T`. With the tower
//! feature, a request through the session layer allocates no more with 60
//! other cookies in its `Cookie` headers than with none: reading the
//! headers allocates nothing. Runs without the test harness so no other
//! thread allocates while counting.

use std::alloc::System;

use serde::de::DeserializeOwned;
use serde::Serialize;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[path = "../benches/common/mod.rs"]
mod common;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Allocations (fresh and grown) made by `f`, the least of a few runs.
fn count<R>(mut f: impl FnMut() -> R) -> usize {
    (0..5)
        .map(|_| {
            let region = Region::new(GLOBAL);
            let result = f();
            let change = region.change();
            drop(result);
            change.allocations + change.reallocations
        })
        .min()
        .expect("five runs")
}

fn check<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    size: &str,
    value: &T,
) -> usize {
    let payload = postcard::to_allocvec(value).expect("serializes");
    let mut slice = vec![0u8; payload.len()];
    let serde_ser = count(|| postcard::to_slice(value, &mut slice).map(|s| s.len()));
    let serde_de = count(|| postcard::from_bytes::<T>(&payload).expect("decodes"));
    let mut checked = 0;
    for (algorithm, name) in common::ALGORITHMS {
        let sealer = common::sealer(algorithm);
        // Warm the thread's working buffer.
        let sealed = sealer.seal(value).expect("seals");
        assert_eq!(&sealer.open::<T>(&sealed).expect("opens").value, value);
        let seal = count(|| sealer.seal(value).expect("seals"));
        let open = count(|| sealer.open::<T>(&sealed).expect("opens"));
        println!(
            "{size:<6} {name:<18} seal {seal} (serde {serde_ser}), open {open} (serde {serde_de})"
        );
        assert!(
            seal <= serde_ser + 1,
            "{size} {name}: seal allocates {seal}"
        );
        assert!(open <= serde_de + 1, "{size} {name}: open allocates {open}");
        checked += 2;
    }
    checked
}

/// Allocations of one request through the tower session layer that
/// carries the session's cookie among `neighbours` other cookies, in two
/// headers, with a handler that reads the session.
#[cfg(feature = "tower")]
fn layer_request(neighbours: usize) -> usize {
    use core::future::Future as _;
    use core::task::{Context, Poll, Waker};
    use sealed_session::tower::{SessionExt, SessionLayer};
    use sealed_session::SessionConfig;
    use tower::{service_fn, Layer as _, Service as _};

    let sealer = common::sealer(common::ALGORITHMS[0].0);
    let cookie = format!(
        "{}={}",
        common::NAME,
        sealer.seal(&common::small()).expect("seals")
    );
    let others: Vec<String> = (0..neighbours)
        .map(|i| format!("other{i}=value-{i}"))
        .collect();
    let first = [others[..neighbours / 2].join("; "), cookie].join("; ");
    let second = others[neighbours / 2..].join("; ");
    let config = SessionConfig::new(sealer).expect("valid");
    let mut service =
        SessionLayer::<common::Session>::new(config).layer(service_fn(|req: hyper::Request<()>| {
            let session = req.session::<common::Session>().expect("the layer ran");
            assert_eq!(
                session.with(|v| v.map(|s| s.user_id)),
                Some(common::small().user_id)
            );
            std::future::ready(Ok::<_, std::convert::Infallible>(hyper::Response::new(())))
        }));
    let request = || {
        hyper::Request::builder()
            .header(hyper::header::COOKIE, first.as_str())
            .header(hyper::header::COOKIE, second.as_str())
            .body(())
            .expect("valid")
    };
    let mut call = |req| {
        let mut future = std::pin::pin!(service.call(req));
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(Ok(response)) => response,
            _ => panic!("the handler answers at once"),
        }
    };
    drop(call(request()));
    // The request itself (its header map) is built outside the count.
    let mut requests: Vec<_> = (0..5).map(|_| request()).collect();
    count(|| call(requests.pop().expect("five")))
}

fn main() {
    let mut passed = check("small", &common::small());
    passed += check("large", &common::large());
    #[cfg(feature = "tower")]
    {
        let few = layer_request(0);
        let many = layer_request(60);
        println!("layer  request with 0 other cookies {few}, with 60 {many}");
        assert_eq!(few, many, "reading the Cookie headers allocates");
        passed += 1;
    }
    println!("allocs: {passed} passed, 0 failed");
}
