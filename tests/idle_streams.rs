//! 100,000 streams in one session, and what an idle stream costs in memory,
//! counted by a global allocator. One test in this binary, so nothing else
//! allocates while it counts.

mod common;
mod counting;

use common::Pair;

#[global_allocator]
static A: counting::Counting = counting::Counting;

const N: u32 = 100_000;

#[test]
// The bound is the target, 128 bytes (122 either way: the 96-byte record
// and the B-tree's share), so whatever grows an idle stream past it
// raises it on purpose.
fn a_hundred_thousand_streams_and_the_cost_of_an_idle_one() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();

    // Streams created locally and never used.
    let big0 = counting::big_live();
    let hist0 = counting::by_size();
    let m0 = counting::live();
    let before = m0;
    let s = p.a.session_mut(sa).unwrap();
    for id in 1..=N {
        s.create_stream(id).unwrap();
    }
    let local = (counting::live() - before) as f64 / N as f64;
    let hist1 = counting::by_size();
    let big_local = counting::big_grown(big0, counting::big_live());
    for (size, n) in counting::grown(&hist0, &hist1) {
        println!(
            "  local {size} B x {n} = {:.1} a stream",
            (size as isize * n) as f64 / N as f64
        );
    }
    assert_eq!(p.a.session(sa).unwrap().stream_ids().len(), N as usize + 1);

    // Streams opened by the peer with one message each, read, then idle.
    for id in 1..=N {
        p.a.session_mut(sa).unwrap().send(id, &b"x"[..]).unwrap();
    }
    let mut read = 0u32;
    let ok = p.drive_until(std::time::Duration::from_secs(300), |p| {
        let readable: Vec<u32> = p
            .events_b
            .drain(..)
            .filter_map(|e| match e {
                stt::Event::Stream {
                    event: stt::StreamEvent::Readable(id),
                    ..
                } => Some(id),
                _ => None,
            })
            .collect();
        let s = p.b.session_mut(sb).unwrap();
        for id in readable {
            while let Ok(Some(_)) = s.recv(id) {
                read += 1;
            }
        }
        read == N && p.quiet()
    });
    assert!(ok, "read {read} of {N}");
    // Idle: a second with nothing to send, so what the transfer grew and
    // no longer needs is given back, as on any quiet session.
    p.drive_until(std::time::Duration::from_secs(1), |_| false);
    assert_eq!(p.b.session(sb).unwrap().stream_ids().len(), N as usize + 1);
    // The harness's own logs (events, every datagram sent, its link queue)
    // are not the endpoint's memory.
    p.forget_logs();
    // Drop a (its streams and everything it kept of the traffic): what is
    // left above m0 is b's growth, short of the few KiB a held at m0.
    p.a = stt::Endpoint::new(common::config("spare").build().unwrap(), [9; 32]);
    let opened = (counting::live() - m0) as f64 / N as f64;
    let hist2 = counting::by_size();
    let big = counting::big_grown(big0, counting::big_live()) - big_local;
    for (size, n) in counting::grown(&hist0, &hist2) {
        println!(
            "  opened {size} B x {n} = {:.1} a stream",
            (size as isize * n) as f64 / N as f64
        );
    }
    println!(
        "  opened: {:.1} a stream in allocations of 4 KiB or more",
        big as f64 / N as f64
    );
    println!("idle_stream_bytes_local={local:.1} idle_stream_bytes_peer_opened={opened:.1}");
    assert!(
        local < 128.0,
        "a locally created idle stream costs {local:.1} bytes"
    );
    assert!(
        opened < 128.0,
        "a peer-opened idle stream costs {opened:.1} bytes"
    );
}
