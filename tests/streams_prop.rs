//! Property: for random interleavings of sends on many streams with random
//! sizes, every message arrives once, whole, in order on its stream.

mod common;

use std::collections::BTreeMap;

use common::Pair;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Send {
        stream: u32,
        len: usize,
    },
    SendAll {
        stream: u32,
        len: usize,
        segment: usize,
    },
    Step,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u32..6, prop_oneof![0usize..10, 10usize..3000, 3000usize..40_000])
            .prop_map(|(stream, len)| Op::Send { stream, len }),
        1 => (0u32..6, 0usize..100_000, 1usize..20_000)
            .prop_map(|(stream, len, segment)| Op::SendAll { stream, len, segment }),
        2 => Just(Op::Step),
    ]
}

/// A message whose bytes say which stream and message it is.
fn body(stream: u32, n: u32, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (stream as usize * 31 + n as usize * 7 + i) as u8)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]
    #[test]
    fn every_message_once_whole_in_order(ops in proptest::collection::vec(op(), 1..40), both_ways in any::<bool>()) {
        let mut p = Pair::default_pair();
        let (sa, sb) = p.connect();
        let mut want: BTreeMap<u32, Vec<Vec<u8>>> = BTreeMap::new();
        let mut want_back: BTreeMap<u32, Vec<Vec<u8>>> = BTreeMap::new();
        let mut got: BTreeMap<u32, Vec<Vec<u8>>> = BTreeMap::new();
        let mut got_back: BTreeMap<u32, Vec<Vec<u8>>> = BTreeMap::new();
        let mut counter = 0u32;
        for op in ops {
            match op {
                Op::Send { stream, len } => {
                    counter += 1;
                    let m = body(stream, counter, len);
                    p.a.session_mut(sa).unwrap().send(stream, m.clone()).unwrap();
                    want.entry(stream).or_default().push(m.clone());
                    if both_ways {
                        p.b.session_mut(sb).unwrap().send(stream, m.clone()).unwrap();
                        want_back.entry(stream).or_default().push(m);
                    }
                }
                Op::SendAll { stream, len, segment } => {
                    counter += 1;
                    let data = body(stream, counter, len);
                    p.a.session_mut(sa).unwrap().send_all_with(stream, data.clone(), segment).unwrap();
                    let w = want.entry(stream).or_default();
                    w.extend(data.chunks(segment).map(<[u8]>::to_vec));
                }
                Op::Step => {
                    p.step();
                }
            }
            for id in 0..6 {
                got.entry(id).or_default().extend(p.recv_all_b(sb, id));
                got_back.entry(id).or_default().extend(p.recv_all_a(sa, id));
            }
        }
        let ok = p.drive_until(std::time::Duration::from_secs(120), |p| {
            for id in 0..6 {
                got.entry(id).or_default().extend(p.recv_all_b(sb, id));
                got_back.entry(id).or_default().extend(p.recv_all_a(sa, id));
            }
            p.quiet()
        });
        prop_assert!(ok, "transfer did not finish");
        got.retain(|_, v| !v.is_empty());
        got_back.retain(|_, v| !v.is_empty());
        want.retain(|_, v| !v.is_empty());
        prop_assert_eq!(got, want);
        prop_assert_eq!(got_back, want_back);
    }
}
