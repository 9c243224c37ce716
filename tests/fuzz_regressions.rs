//! Replays every crash reproducer under `tests/fuzz_regressions/<target>/`
//! and the seed corpus under `fuzz/corpus/<target>/` through the same
//! harness code the fuzz targets run (`fuzz/src/harness`), in plain
//! `cargo test` on stable Rust. The `session_frames` harness enters frames
//! through the plaintext hook in cargo-fuzz builds (`cfg(fuzzing)`); here it
//! seals them with the real key, as a peer would.
//!
//! To add a reproducer: copy the crash file from `fuzz/artifacts/<target>/`
//! into `tests/fuzz_regressions/<target>/` under a name saying what it
//! found.

#[allow(dead_code)]
#[path = "../fuzz/src/harness/mod.rs"]
mod harness;

use std::path::Path;

fn replay_dir(dir: &Path, run: fn(&[u8])) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    for f in &files {
        let data = std::fs::read(f).unwrap();
        let name = f.display().to_string();
        if std::panic::catch_unwind(|| run(&data)).is_err() {
            panic!("{name} fails again");
        }
    }
    files.len()
}

fn replay(target: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = harness::TARGETS
        .iter()
        .find(|(n, _)| *n == target)
        .map(|(_, r)| *r)
        .unwrap();
    let reproducers = root.join("tests/fuzz_regressions").join(target);
    let n = replay_dir(&reproducers, run) + replay_dir(&root.join("fuzz/corpus").join(target), run);
    // Reproducers that needed more than a fuzzed input may ask for replay
    // under the limits they were found with too.
    if let Some((_, wide)) = harness::WIDE.iter().find(|(n, _)| *n == target) {
        replay_dir(&reproducers, *wide);
    }
    // An empty input is always a valid case.
    run(&[]);
    eprintln!("{target}: {n} files replayed");
}

#[test]
fn wire_decode() {
    replay("wire_decode");
}

#[test]
fn endpoint_datagrams() {
    replay("endpoint_datagrams");
}

#[test]
fn session_frames() {
    replay("session_frames");
}

#[test]
fn pair_ops() {
    replay("pair_ops");
}

/// Prints how the harness reads the input file named by `STT_FUZZ_FILE`
/// (for a target named by `STT_FUZZ_TARGET`):
/// `STT_FUZZ_TARGET=pair_ops STT_FUZZ_FILE=crash-... cargo test --test
/// fuzz_regressions explain -- --ignored --nocapture`.
#[test]
#[ignore]
fn explain() {
    let target = std::env::var("STT_FUZZ_TARGET").unwrap();
    let data = std::fs::read(std::env::var("STT_FUZZ_FILE").unwrap()).unwrap();
    let text = match target.as_str() {
        "endpoint_datagrams" => harness::endpoint_datagrams::describe(&data),
        "session_frames" => harness::session_frames::describe(&data),
        "pair_ops" => harness::pair_ops::describe(&data),
        _ => format!("{data:02x?}"),
    };
    println!("{text}");
}

/// Regenerates the `wire_decode` seeds in `fuzz/corpus/wire_decode/` from a
/// real session: every datagram of a handshake and transfer, the decrypted
/// frames of the server's packets, and transport parameters.
/// `cargo test --test fuzz_regressions write_wire_seeds -- --ignored`
#[test]
#[ignore]
fn write_wire_seeds() {
    use harness::net::Net;
    use harness::raw_peer::RawPeer;
    use std::time::Duration;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/wire_decode");
    std::fs::create_dir_all(&dir).unwrap();
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    let mut n = Net::standard();
    let (sa, sb) = n.connect();
    n.a.session_mut(sa).unwrap().send(0, &b"seed"[..]).unwrap();
    n.b.session_mut(sb).unwrap().open_stream(1).unwrap();
    n.b.session_mut(sb)
        .unwrap()
        .send(1, vec![9u8; 2000])
        .unwrap();
    n.drive_until(Duration::from_secs(2), |n| n.quiet());
    n.a.session_mut(sa).unwrap().close(3, b"done");
    n.advance(Duration::from_millis(200));
    seeds.extend(n.sent.iter().map(|(_, d)| d.clone()).take(12));
    // Plaintexts: what an endpoint puts inside its packets.
    let cfg = harness::net::config("b").build().unwrap();
    let mut ep = stt::Endpoint::new(cfg, [2; 32]);
    let now = stt::Instant::from_millis(1_000);
    let addr = "192.0.2.1:1000".parse().unwrap();
    let params = stt::__private::wire::TransportParams::DEFAULT;
    let mut peer = RawPeer::connect(
        &mut ep,
        now,
        addr,
        b"seed-peer-node-seed-32-bytes....",
        harness::net::NET_SEED,
        params,
    )
    .unwrap();
    seeds.extend(peer.drain(&mut ep, now));
    let sid = ep.sessions().next().unwrap();
    ep.session_mut(sid).unwrap().open_stream(2).unwrap();
    ep.session_mut(sid)
        .unwrap()
        .send(2, vec![1u8; 3000])
        .unwrap();
    ep.session_mut(sid).unwrap().close_stream(2).unwrap();
    seeds.extend(peer.drain(&mut ep, now));
    seeds.push(peer.ack_plaintext());
    let mut p = vec![0u8; params.encoded_len()];
    params
        .encode(&mut stt::__private::wire::Writer::new(&mut p))
        .unwrap();
    seeds.push(p);
    for (i, s) in seeds.iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{i:02}")), s).unwrap();
    }
}

/// Found by `pair_ops`: a stream closed right after a send still delivers
/// the message, and the session is not "flushed" before it is acknowledged.
#[test]
fn flushed_waits_for_the_queued_messages_of_a_closed_stream() {
    use harness::net::Net;
    use std::time::Duration;
    let mut n = Net::standard();
    let (sa, sb) = n.connect();
    n.a.session_mut(sa)
        .unwrap()
        .send(5, vec![1u8; 38_293])
        .unwrap();
    n.a.session_mut(sa).unwrap().close_stream(5).unwrap();
    assert!(
        !n.a.session(sa).unwrap().is_flushed(),
        "the message is queued"
    );
    assert!(n.drive_until(Duration::from_secs(10), |n| n.quiet()));
    let s = n.b.session_mut(sb).unwrap();
    assert_eq!(s.recv(5).unwrap().map(|m| m.len()), Some(38_293));
}
