//! The in-memory pair of `examples/pair`: bulk transfer on one stream and on
//! 1,000 active streams with 1452-byte datagrams, and handshakes completed
//! per second with both ends on this one thread. Throughput is reported in
//! bytes (or handshakes) per second; compare benches of one run only.

#[path = "../examples/pair/driver.rs"]
mod driver;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use driver::{Opts, Pair};
use std::time::Duration;

/// Bytes moved per iteration: enough for every one of 1,000 streams to
/// carry whole 32 KiB messages, small enough for a run of a few minutes.
const PER_ITER: u64 = 32 << 20;

fn transfer(c: &mut Criterion) {
    let mut g = c.benchmark_group("pair");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(15))
        .throughput(Throughput::Bytes(PER_ITER));
    for streams in [1u32, 1000] {
        let opts = Opts {
            streams,
            ..Opts::default()
        };
        let mut p = Pair::new(&opts);
        p.connect(1);
        p.transfer(PER_ITER);
        g.bench_function(format!("{streams}_streams_1452"), |b| {
            b.iter(|| p.transfer(PER_ITER))
        });
    }
    g.finish();
}

fn handshakes(c: &mut Criterion) {
    let opts = Opts::default();
    let (ca, cb) = (driver::config("a", &opts), driver::config("b", &opts));
    let mut g = c.benchmark_group("pair");
    g.throughput(Throughput::Elements(1))
        .measurement_time(Duration::from_secs(10));
    let mut seed = 0;
    g.bench_function("handshake", |b| {
        b.iter(|| {
            seed += 1;
            driver::handshake(&opts, &ca, &cb, seed)
        })
    });
    g.finish();
}

criterion_group!(benches, transfer, handshakes);
criterion_main!(benches);
