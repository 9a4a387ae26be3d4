//! Heap allocations per seal and per open, counted by a global allocator.
//!
//! The budget: once a thread is warm, a seal allocates at most once beyond
//! what serde needs to serialize `T` (the returned `String`), and an open
//! at most once beyond what serde needs to deserialize `T`. Runs without the
//! test harness so no other thread allocates while counting.

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

fn main() {
    let mut passed = check("small", &common::small());
    passed += check("large", &common::large());
    println!("allocs: {passed} passed, 0 failed");
}
