//! Accepting sessions under load: the half-open cap, Retry cookies and the
//! anti-amplification limit.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{config, Pair};
use stt::{Endpoint, Event, Instant};

/// The Initial a fresh initiator would send.
fn initial_from(i: u32) -> Vec<u8> {
    let mut ep = Endpoint::new(config(&format!("flood{i}")).build().unwrap(), [i as u8; 32]);
    ep.connect(Instant::ZERO, "10.0.0.2:2000".parse().unwrap())
        .unwrap();
    let mut buf = vec![0u8; 2048];
    let t = ep.poll_transmit(Instant::ZERO, &mut buf).unwrap();
    buf.truncate(t.len);
    buf
}

#[test]
fn past_the_half_open_cap_initials_get_a_cookie_and_no_state() {
    let b = config("b").max_half_open(4).build().unwrap();
    let mut ep = Endpoint::new(b, [2; 32]);
    let mut buf = vec![0u8; 2048];
    let mut retries = 0;
    for i in 0..100u32 {
        let from: SocketAddr = format!("10.1.{}.{}:{}", i / 250, i % 250, 1000 + i)
            .parse()
            .unwrap();
        let mut d = initial_from(i);
        ep.handle_datagram(Instant::ZERO, from, &mut d);
        while let Some(t) = ep.poll_transmit(Instant::ZERO, &mut buf) {
            if buf[0] & 0x0f == 4 {
                retries += 1;
                assert_eq!(t.destination, from);
            }
        }
    }
    assert_eq!(ep.sessions().count(), 4, "half-open state stays at the cap");
    assert_eq!(retries, 96);
    assert_eq!(ep.stats().retries_sent, 96);
}

#[test]
fn an_initiator_that_gets_a_retry_completes_with_the_cookie() {
    let b = config("b").max_half_open(0).build().unwrap();
    let mut p = Pair::new(config("a").build().unwrap(), b);
    let (sa, sb) = p.connect();
    assert_eq!(p.b.stats().retries_sent, 1);
    p.a.session_mut(sa)
        .unwrap()
        .send(0, &b"through the cookie"[..])
        .unwrap();
    p.drive();
    assert_eq!(p.recv_all_b(sb, 0), vec![b"through the cookie".to_vec()]);
}

#[test]
fn a_forged_cookie_gets_nothing() {
    let b = config("b").max_half_open(0).build().unwrap();
    let mut ep = Endpoint::new(b, [2; 32]);
    let mut d = initial_from(1);
    // Give the Initial a made-up 20-byte token: header is 21 bytes, then
    // token length 0; rebuild it with a token.
    let mut forged = d[..21].to_vec();
    forged.push(20);
    forged.extend_from_slice(&[0xAA; 20]);
    forged.extend_from_slice(&d[22..]);
    ep.handle_datagram(Instant::ZERO, "10.9.9.9:9".parse().unwrap(), &mut forged);
    ep.handle_datagram(Instant::ZERO, "10.9.9.9:9".parse().unwrap(), &mut d);
    assert_eq!(ep.sessions().count(), 0);
    assert_eq!(ep.stats().retries_sent, 2, "each answered statelessly");
}

#[test]
fn the_responder_sends_at_most_three_times_what_it_received_before_validation() {
    let mut p = Pair::default_pair();
    // Lose the Response a few times (so a resends its Initial and b answers
    // again) and every Finish (so b never validates a's address).
    let _sa = p.a.connect(p.now, p.b_addr).unwrap();
    let mut responses = 0;
    p.filter = Some(Box::new(move |a_to_b, d| {
        let drop = if a_to_b {
            d[0] == 0xc3 || d[0] & 0x80 == 0
        } else {
            responses += 1;
            responses <= 3
        };
        if drop {
            common::Fate::Drop
        } else {
            common::Fate::Deliver
        }
    }));
    p.drive_until(Duration::from_secs(3), |p| {
        p.events_b
            .iter()
            .any(|e| matches!(e, Event::Accepted { .. }))
    });
    let received: usize = p
        .sent
        .iter()
        .filter(|(ab, d)| *ab && d[0] & 0x80 != 0)
        .map(|(_, d)| d.len())
        .sum();
    let sent_back: usize = p
        .sent
        .iter()
        .filter(|(ab, d)| !*ab && d[0] & 0x80 != 0)
        .map(|(_, d)| d.len())
        .sum();
    assert!(sent_back <= 3 * received, "{sent_back} > 3 x {received}");
    assert!(
        sent_back > 0
            && !p
                .events_b
                .iter()
                .any(|e| matches!(e, Event::Accepted { .. }))
    );
}

#[test]
fn a_spoofed_initial_is_answered_once_within_the_budget() {
    let mut ep = Endpoint::new(config("b").build().unwrap(), [2; 32]);
    let victim: SocketAddr = "10.7.7.7:7".parse().unwrap();
    let mut d = initial_from(3);
    let received = d.len();
    ep.handle_datagram(Instant::ZERO, victim, &mut d);
    let mut buf = vec![0u8; 2048];
    let mut sent = 0;
    let mut now = Instant::ZERO;
    // Let every timer run for a minute: the responder never resends on its own.
    for _ in 0..100 {
        while let Some(t) = ep.poll_transmit(now, &mut buf) {
            assert_eq!(t.destination, victim);
            sent += t.len;
        }
        match ep.poll_timeout() {
            Some(t) => {
                now = t;
                ep.handle_timeout(now);
            }
            None => break,
        }
    }
    assert!(
        sent > 0 && sent <= 3 * received,
        "sent {sent} for {received}"
    );
    assert_eq!(ep.sessions().count(), 0, "the half-open session expired");
}
