//! Seal and open the shared workloads with each algorithm.
//!
//! `cargo bench --bench seal` in `benches/speed`.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use serde::de::DeserializeOwned;
use serde::Serialize;

#[path = "../../common/mod.rs"]
mod common;

fn bench_size<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    c: &mut Criterion,
    size: &str,
    value: &T,
) {
    let mut group = c.benchmark_group(size);
    group.throughput(Throughput::Bytes(common::postcard_len(value) as u64));
    for (algorithm, name) in common::ALGORITHMS {
        let sealer = common::sealer(algorithm);
        let sealed = sealer.seal(value).expect("seals");
        let opened = sealer.open::<T>(&sealed).expect("opens");
        assert_eq!(&opened.value, value);
        group.bench_function(format!("seal/{name}"), |b| {
            b.iter(|| sealer.seal(black_box(value)).expect("seals"));
        });
        group.bench_function(format!("open/{name}"), |b| {
            b.iter(|| sealer.open::<T>(black_box(&sealed)).expect("opens"));
        });
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench_size(&mut c, "small", &common::small());
    bench_size(&mut c, "large", &common::large());
    c.final_summary();
}
