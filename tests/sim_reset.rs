//! A bulk sender whose receiver restarts mid-transfer, in the simulator:
//! 100 ms round trip, 20 Mbit/s bottleneck. The receiver comes back with
//! the same identity (hence the same reset key) and none of its sessions;
//! the sender's session ends with `StatelessReset` about one round trip
//! after the restart, not at its idle timeout. Deterministic: fixed seeds.
#![cfg(feature = "sim")]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use stt::sim::{run_until, App, EndpointNode, LinkConfig, Network};
use stt::{CloseReason, Config, Endpoint, Event, Instant, SessionId};

const NET: &[u8] = b"sim reset network key...........";
const ONE_WAY: Duration = Duration::from_millis(50);
const RESTART_AT: Instant = Instant::from_millis(3_000);

fn config(node: &str) -> Config {
    Config::builder(format!("{node:-<32}").as_bytes(), NET)
        .build()
        .unwrap()
}

/// Reads what arrives on stream 1 of its one session, keeps that stream
/// full if it is the sender, and notes how the session ended.
#[derive(Default)]
struct Bulk {
    sender: bool,
    session: Option<SessionId>,
    closed: Option<(Instant, CloseReason)>,
}

impl App for Bulk {
    fn on_wake(&mut self, now: Instant, ep: &mut Endpoint) {
        while let Some(e) = ep.poll_event() {
            match e {
                Event::Connected { session, .. } | Event::Accepted { session, .. } => {
                    self.session = Some(session)
                }
                Event::Closed { reason, .. } => self.closed = Some((now, reason)),
                _ => {}
            }
        }
        let Some(s) = self.session.and_then(|id| ep.session_mut(id)) else {
            return;
        };
        while let Ok(Some(_)) = s.recv(1) {}
        if !self.sender {
            return;
        }
        // Until the stream takes no more (or the session is gone).
        while s.send(1, Bytes::from(vec![0x5a; 64 * 1024])).is_ok() {}
    }
}

#[test]
fn a_sender_learns_of_the_receivers_restart_within_a_round_trip() {
    let (a, b): (SocketAddr, SocketAddr) = (
        "10.0.0.1:5000".parse().unwrap(),
        "10.0.0.2:6000".parse().unwrap(),
    );
    let mut net = Network::new([3; 32]);
    let link = LinkConfig::default()
        .with_latency(ONE_WAY)
        .with_rate(20_000_000);
    net.set_path(a, b, link).unwrap();
    let node = |name, addr, seed, sender| {
        let app = Bulk {
            sender,
            ..Bulk::default()
        };
        EndpointNode::new(Endpoint::new(config(name), seed), addr, app)
    };
    let mut nodes = vec![
        node("sender", a, [1; 32], true),
        node("receiver", b, [2; 32], false),
    ];
    let sa = nodes[0].endpoint_mut().connect(Instant::ZERO, b).unwrap();
    let now = run_until(&mut net, &mut nodes, Instant::ZERO, RESTART_AT, |_, _| {
        false
    })
    .unwrap();
    assert_eq!(nodes[0].app.session, Some(sa));
    assert!(nodes[0].app.closed.is_none(), "transfer under way");
    let received = nodes[1]
        .endpoint()
        .session(nodes[1].app.session.unwrap())
        .unwrap()
        .stats()
        .bytes_received;
    assert!(received > 1_000_000, "{received} bytes before the restart");

    // The receiver restarts: same identity, a fresh seed, no sessions.
    nodes[1] = node("receiver", b, [7; 32], false);
    let end = run_until(
        &mut net,
        &mut nodes,
        now,
        now + Duration::from_secs(40),
        |_, n| n[0].app.closed.is_some(),
    )
    .unwrap();
    let (at, reason) = nodes[0]
        .app
        .closed
        .clone()
        .expect("the sender's session ended");
    assert_eq!(reason, CloseReason::StatelessReset);
    let took = at.saturating_duration_since(RESTART_AT);
    let rtt = ONE_WAY * 2;
    assert!(
        took <= rtt + Duration::from_millis(10),
        "ended {took:?} after the restart (RTT {rtt:?})"
    );
    assert_eq!(end, at);
    assert!(nodes[1].endpoint().stats().stateless_resets_sent >= 1);
    assert_eq!(nodes[1].endpoint().sessions().count(), 0);
}
