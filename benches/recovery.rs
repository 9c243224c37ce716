//! Acknowledgement processing with many ranges: `Recovery::on_ack_received`
//! for an ACK of 32 and 64 ranges over a few thousand packets in flight
//! (the gaps are declared lost in the same call, as on a lossy path).

use std::hint::black_box;
use std::ops::Range;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use stt::__private::recovery::{Outcome, Recovery, RecoveryConfig};
use stt::Instant;

const IN_FLIGHT: u64 = 4096;

fn sent(cfg: &RecoveryConfig) -> Recovery<u64> {
    let mut r = Recovery::new(cfg, Instant::ZERO);
    for pn in 0..IN_FLIGHT {
        r.on_packet_sent(Instant::from_micros(pn), pn, 1452, true, pn);
    }
    r
}

/// `n` ranges spread over every packet in flight, largest first: runs of
/// acknowledged packets separated by one missing packet each.
fn ranges(n: u64) -> Vec<Range<u64>> {
    let run = IN_FLIGHT / n - 1;
    (0..n)
        .map(|i| {
            let end = IN_FLIGHT - i * (run + 1);
            end - run..end
        })
        .collect()
}

fn on_ack(c: &mut Criterion) {
    let cfg = {
        let mut cfg = RecoveryConfig::default();
        cfg.max_ack_ranges = 64;
        cfg
    };
    let mut g = c.benchmark_group("recovery/on_ack_received");
    for n in [32u64, 64] {
        let rs = ranges(n);
        // Every range new: the ACK resolves all 4,096 packets (the gaps
        // as lost).
        g.throughput(Throughput::Elements(n));
        g.bench_function(format!("{n}_ranges_all_new"), |b| {
            let mut out: Vec<Outcome<u64>> = Vec::with_capacity(IN_FLIGHT as usize);
            b.iter_batched_ref(
                || sent(&cfg),
                |r| {
                    out.clear();
                    r.on_ack_received(
                        Instant::from_millis(50),
                        black_box(rs.iter().cloned()),
                        Duration::from_millis(1),
                        &mut out,
                    )
                    .unwrap();
                    out.len()
                },
                BatchSize::LargeInput,
            )
        });
        // The steady state of a long transfer: the ACK repeats ranges
        // already processed and only its newest range is news.
        g.bench_function(format!("{n}_ranges_one_new"), |b| {
            let mut out: Vec<Outcome<u64>> = Vec::with_capacity(IN_FLIGHT as usize);
            b.iter_batched_ref(
                || {
                    let mut r = sent(&cfg);
                    r.on_ack_received(
                        Instant::from_millis(40),
                        rs[1..].iter().cloned(),
                        Duration::from_millis(1),
                        &mut Vec::new(),
                    )
                    .unwrap();
                    r
                },
                |r| {
                    out.clear();
                    r.on_ack_received(
                        Instant::from_millis(50),
                        black_box(rs.iter().cloned()),
                        Duration::from_millis(1),
                        &mut out,
                    )
                    .unwrap();
                    out.len()
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, on_ack);
criterion_main!(benches);
