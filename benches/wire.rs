//! Wire codecs: STREAM and ACK frames and the short header, encoded into and
//! parsed from a packet-sized buffer, as the session does per packet.

use std::hint::black_box;
use std::ops::Range;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stt::__private::wire::{encode_ack, Frame, Packet, Reader, ShortHeader, StreamHeader, Writer};
use stt::SessionId;

/// A full-sized data fragment, as in a 1452-byte packet.
const DATA_LEN: usize = 1400;

fn stream(c: &mut Criterion) {
    let data = vec![0x5a_u8; DATA_LEN];
    let header = StreamHeader {
        stream_id: 7,
        offset: 1 << 30,
        seq: 16_000,
        msg_len: 65_536,
        frag_offset: 32_000,
    };
    let mut buf = [0u8; 1500];
    let mut g = c.benchmark_group("wire/stream");
    g.throughput(Throughput::Elements(1));
    g.bench_function("encode", |b| {
        b.iter(|| {
            let mut w = Writer::new(&mut buf);
            black_box(&header)
                .encode(&mut w, black_box(&data), true)
                .unwrap();
            w.written()
        })
    });
    let len = {
        let mut w = Writer::new(&mut buf);
        header.encode(&mut w, &data, true).unwrap();
        w.written()
    };
    g.bench_function("decode", |b| {
        b.iter(|| {
            let mut r = Reader::new(black_box(&buf[..len]));
            match Frame::parse(&mut r).unwrap() {
                Frame::Stream(f) => f.data.len(),
                _ => unreachable!(),
            }
        })
    });
    g.finish();
}

/// `n` ranges, largest first, of 10 packets each with gaps of 3.
fn ranges(n: u64) -> Vec<Range<u64>> {
    (0..n)
        .rev()
        .map(|i| 1_000_000 + i * 13..1_000_000 + i * 13 + 10)
        .collect()
}

fn ack(c: &mut Criterion) {
    let mut g = c.benchmark_group("wire/ack");
    g.throughput(Throughput::Elements(1));
    for n in [1u64, 32] {
        let rs = ranges(n);
        let mut buf = [0u8; 1500];
        g.bench_function(format!("encode_{n}_ranges"), |b| {
            b.iter(|| {
                let mut w = Writer::new(&mut buf);
                encode_ack(&mut w, black_box(1234), black_box(&rs)).unwrap();
                w.written()
            })
        });
        let len = {
            let mut w = Writer::new(&mut buf);
            encode_ack(&mut w, 1234, &rs).unwrap();
            w.written()
        };
        g.bench_function(format!("decode_{n}_ranges"), |b| {
            b.iter(|| {
                let mut r = Reader::new(black_box(&buf[..len]));
                match Frame::parse(&mut r).unwrap() {
                    // Decoding includes walking the ranges, as the session does.
                    Frame::Ack(a) => a.iter().map(|r| r.end - r.start).sum::<u64>(),
                    _ => unreachable!(),
                }
            })
        });
    }
    g.finish();
}

fn header(c: &mut Criterion) {
    let h = ShortHeader {
        key_phase: false,
        dst: SessionId(0x0123_4567_89ab_cdef),
        pn_truncated: 0xdead_beef,
    };
    let mut buf = [0u8; 1452];
    let mut g = c.benchmark_group("wire/short_header");
    g.throughput(Throughput::Elements(1));
    g.bench_function("encode", |b| {
        b.iter(|| {
            let mut w = Writer::new(&mut buf);
            black_box(&h).encode(&mut w).unwrap();
            w.written()
        })
    });
    g.bench_function("parse", |b| {
        b.iter(|| match Packet::parse(black_box(&buf)).unwrap() {
            Packet::Short { header, .. } => header.pn_truncated,
            _ => unreachable!(),
        })
    });
    g.finish();
}

criterion_group!(benches, stream, ack, header);
criterion_main!(benches);
