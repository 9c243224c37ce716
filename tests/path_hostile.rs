//! A hostile peer against path validation, at the session level: answers
//! with the wrong data, and floods of PATH_CHALLENGEs from ever new
//! addresses. The peer is the fuzz harness's [`RawPeer`]: it runs the real
//! Noise handshake with endpoint `b` and seals every packet with the real
//! packet key, so what it sends authenticates; each datagram then enters
//! through `handle_datagram` from whatever address the step needs.
//!
//! One test in this file: it measures the heap with the counting
//! allocator, and another test running beside it would disturb the count.

mod common;
mod counting;

#[global_allocator]
static A: counting::Counting = counting::Counting;

use std::net::SocketAddr;
use std::time::Duration;

use common::raw_peer::RawPeer;
use stt::__private::wire::{encode_ack, Frame, Packet, Writer};
use stt::{Endpoint, Event, Instant, SessionId};

/// Everything `ep` sends now: (destination, length, packet number if short).
fn drain(ep: &mut Endpoint, now: Instant) -> Vec<(SocketAddr, usize, Option<u64>)> {
    let mut buf = vec![0u8; 65_536];
    let mut out = Vec::new();
    while let Some(t) = ep.poll_transmit(now, &mut buf) {
        let pn = match Packet::parse(&buf[..t.len]) {
            Ok(Packet::Short { header, .. }) => Some(u64::from(header.pn_truncated)),
            _ => None,
        };
        out.push((t.destination, t.len, pn));
    }
    out
}

fn session(ep: &Endpoint, sb: SessionId) -> &stt::Session {
    ep.session(sb).unwrap()
}

fn plaintext(frames: &[Frame<'_>], ack_upto: Option<u64>) -> Vec<u8> {
    let mut buf = vec![0u8; 256];
    let mut w = Writer::new(&mut buf);
    if let Some(top) = ack_upto {
        // One range: every packet `b` sent so far.
        #[allow(clippy::single_range_in_vec_init)]
        let everything = [0..top + 1];
        encode_ack(&mut w, 0, &everything).unwrap();
    }
    for f in frames {
        f.encode(&mut w).unwrap();
    }
    let n = w.written();
    buf.truncate(n);
    buf
}

/// Seals `plain` as the peer's packet `pn` and hands it to `ep` as if it
/// came from `from`; returns the datagram's length.
fn deliver(
    ep: &mut Endpoint,
    peer: &RawPeer,
    now: Instant,
    from: SocketAddr,
    pn: u64,
    plain: &[u8],
) -> usize {
    let mut datagram = peer.seal_pn(pn, plain);
    ep.handle_datagram(now, from, &mut datagram);
    datagram.len()
}

fn stranger(i: u32) -> SocketAddr {
    SocketAddr::from(([203, 0, 113, (i % 250) as u8 + 1], 1000 + (i / 250) as u16))
}

/// Endpoint `b` with one session established by a [`RawPeer`] at
/// `a_addr`, whose first flight the peer has opened and acknowledged.
fn connected(now: Instant, a_addr: SocketAddr) -> (Endpoint, SessionId, RawPeer) {
    let (mut b, mut peer) = common::raw_session(now, a_addr);
    let sb = loop {
        match b.poll_event() {
            Some(Event::Accepted { session, .. }) => break session,
            Some(_) => {}
            None => panic!("no Accepted event"),
        }
    };
    let got = peer.drain(&mut b, now);
    assert!(!got.is_empty(), "b sends its first flight");
    let ack = peer.ack_plaintext();
    let mut d = peer.seal(&ack);
    b.handle_datagram(now, a_addr, &mut d);
    drain(&mut b, now);
    (b, sb, peer)
}

#[test]
fn wrong_answers_are_ignored_and_challenge_floods_stay_bounded() {
    let now = Instant::from_millis(1_000);
    let a_addr: SocketAddr = "10.0.0.1:1000".parse().unwrap();
    let (mut b, sb, peer) = connected(now, a_addr);
    assert!(session(&b, sb).is_established());
    assert_eq!(session(&b, sb).peer(), a_addr);

    // 1. A packet from a new address with the highest number: challenged.
    let x: SocketAddr = "198.51.100.7:4444".parse().unwrap();
    let mut pn = 100_000;
    let ping = plaintext(&[Frame::Ping], None);
    let ping_len = deliver(&mut b, &peer, now, x, pn, &ping);
    let sent = drain(&mut b, now);
    let to_x: Vec<_> = sent.iter().filter(|(d, _, _)| *d == x).collect();
    assert_eq!(to_x.len(), 1, "one challenge to the new address: {sent:?}");
    assert!(to_x[0].1 <= 3 * ping_len, "within 3x");
    assert_eq!(session(&b, sb).peer(), a_addr, "data stays put");
    // 2. A response with the wrong data, even from the address itself.
    pn += 1;
    let wrong = plaintext(&[Frame::PathResponse([0x5a; 8])], None);
    deliver(&mut b, &peer, now, x, pn, &wrong);
    let st = session(&b, sb).path_stats();
    assert_eq!((st.responses_ignored, st.validated), (1, 0));
    assert_eq!(session(&b, sb).peer(), a_addr);
    // 3. Nobody answers: two more tries, then the candidate fails, and the
    // session is where it was.
    let mut t = now;
    let mut tries = 1;
    while t < now + Duration::from_secs(5) {
        let Some(next) = b.poll_timeout() else {
            break;
        };
        t = next.max(t);
        b.handle_timeout(t);
        tries += drain(&mut b, t).iter().filter(|(d, _, _)| *d == x).count();
        if session(&b, sb).path_stats().failed == 1 {
            break;
        }
    }
    let st = session(&b, sb).path_stats();
    assert_eq!((tries, st.challenges_sent, st.failed), (3, 3, 1));
    assert!(session(&b, sb).is_established());
    assert_eq!(session(&b, sb).peer(), a_addr);

    // 4. A flood: every packet from a new address, each a challenge and
    // an acknowledgement of all `b` sent (an honest-looking flooder), the
    // heap measured after a warm-up and at the end.
    let mut top: Option<u64> = None;
    let mut injected_bytes = 0u64;
    let mut unvalidated = 0u64;
    let mut live_after_warmup = 0;
    let total = 20_000u32;
    for i in 0..total {
        pn += 1;
        let from = stranger(i);
        let mut data = [0u8; 8];
        data[..4].copy_from_slice(&i.to_le_bytes());
        let plain = plaintext(&[Frame::PathChallenge(data)], top);
        injected_bytes += deliver(&mut b, &peer, t, from, pn, &plain) as u64;
        for (dest, len, spn) in drain(&mut b, t) {
            if dest != a_addr {
                unvalidated += len as u64;
            }
            top = spn.max(top);
        }
        if i == 2_000 {
            live_after_warmup = counting::live();
        }
    }
    let growth = counting::live() - live_after_warmup;
    let s = session(&b, sb);
    let st = s.path_stats();
    assert!(s.is_established());
    assert_eq!(s.peer(), a_addr, "no stranger took the session");
    assert!(unvalidated <= 3 * injected_bytes);
    assert_eq!(st.unvalidated_bytes_sent, unvalidated + (3 * 38));
    assert!(st.candidates_refused > 19_000, "{st:?}");
    assert!(
        growth < 16 * 1024,
        "heap grew {growth} bytes over {} challenges",
        total - 2_000
    );
    println!("flood: {st:?}, heap growth {growth} bytes");
}
