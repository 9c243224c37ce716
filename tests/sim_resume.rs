//! Time to the first reply on a fresh session in the simulator, 100 ms
//! round trip: a request queued at `connect`, answered by the peer at
//! once. Full handshake, resumed handshake, and a ticket refused by a
//! restarted responder (the fallback inside the same exchange): all three
//! get their reply two round trips after `connect`; the resumed one costs
//! a third of the full one's X25519 work (`pair --handshakes`), and a
//! refused ticket costs no extra round trip. Deterministic: fixed seeds.
#![cfg(feature = "sim")]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use stt::sim::{run_until, App, EndpointNode, LinkConfig, Network};
use stt::{Config, Endpoint, Event, Instant, SessionId, StreamEvent};

const NET: &[u8] = b"sim resume network key..........";
const ONE_WAY: Duration = Duration::from_millis(50);

fn config(node: &str) -> Config {
    Config::builder(format!("{node:-<32}").as_bytes(), NET)
        .build()
        .unwrap()
}

/// The client notes when each session's first reply arrives; the server
/// answers every request on stream 0.
#[derive(Default)]
struct Rpc {
    server: bool,
    replies: Vec<(SessionId, Instant)>,
}

impl App for Rpc {
    fn on_wake(&mut self, now: Instant, ep: &mut Endpoint) {
        while let Some(e) = ep.poll_event() {
            let Event::Stream {
                session,
                event: StreamEvent::Readable(0),
            } = e
            else {
                continue;
            };
            let Some(s) = ep.session_mut(session) else {
                continue;
            };
            while let Ok(Some(_)) = s.recv(0) {
                if self.server {
                    let _ = s.send(0, Bytes::from_static(b"reply"));
                } else {
                    self.replies.push((session, now));
                }
            }
        }
    }
}

type Node = EndpointNode<Rpc>;

fn server(seed: u8) -> Node {
    let app = Rpc {
        server: true,
        ..Rpc::default()
    };
    EndpointNode::new(Endpoint::new(config("server"), [seed; 32]), B, app)
}

const A: SocketAddr = SocketAddr::new(
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)),
    5000,
);
const B: SocketAddr = SocketAddr::new(
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2)),
    6000,
);

/// Connects at `at`, queues the request at once (as early data if
/// `early`), runs until the reply: how long it took, and whether the
/// session was resumed.
fn first_reply(
    net: &mut Network,
    nodes: &mut [Node],
    at: Instant,
    early: bool,
) -> (Duration, bool) {
    let sa = nodes[0].with(|ep, _| {
        let request = Bytes::from_static(b"request");
        if early {
            let c = ep.connect_with_early(at, B, &[(0, request)]).unwrap();
            assert_eq!(c.early, 1, "the request goes in the first flight");
            return c.session;
        }
        let sa = ep.connect(at, B).unwrap();
        ep.session_mut(sa).unwrap().send(0, request).unwrap();
        sa
    });
    let end = run_until(net, nodes, at, at + Duration::from_secs(5), |_, n| {
        n[0].app.replies.iter().any(|(s, _)| *s == sa)
    })
    .unwrap();
    let resumed = nodes[0].endpoint().session(sa).unwrap().is_resumed();
    // Let the confirmations and the next ticket through.
    run_until(net, nodes, end, end + Duration::from_secs(1), |_, _| false).unwrap();
    (end.saturating_duration_since(at), resumed)
}

#[test]
fn the_first_reply_comes_two_round_trips_after_connect_full_resumed_or_refused() {
    let mut net = Network::new([5; 32]);
    net.set_path(A, B, LinkConfig::default().with_latency(ONE_WAY))
        .unwrap();
    let client = EndpointNode::new(Endpoint::new(config("client"), [1; 32]), A, Rpc::default());
    let mut nodes = vec![client, server(2)];
    let rtt = ONE_WAY * 2;

    let (full, resumed) = first_reply(&mut net, &mut nodes, Instant::ZERO, false);
    assert!(!resumed);
    let (again, resumed) = first_reply(&mut net, &mut nodes, Instant::from_millis(10_000), false);
    assert!(
        resumed,
        "the second session presents the first one's ticket"
    );
    let (zero_rtt, resumed) = first_reply(&mut net, &mut nodes, Instant::from_millis(20_000), true);
    assert!(resumed);
    // The server restarts: its new ticket keys refuse the ticket, and the
    // early request arrives after the handshake instead.
    nodes[1] = server(3);
    let (refused, resumed) = first_reply(&mut net, &mut nodes, Instant::from_millis(30_000), true);
    assert!(!resumed);
    assert_eq!(nodes[1].endpoint().stats().tickets_refused, 1);
    println!(
        "time_to_first_reply_ms full={} resumed={} resumed_0rtt={} refused_ticket_0rtt={} (RTT {} ms)",
        full.as_millis(),
        again.as_millis(),
        zero_rtt.as_millis(),
        refused.as_millis(),
        rtt.as_millis()
    );
    for (what, t) in [("full", full), ("resumed", again), ("refused", refused)] {
        assert!(
            t >= rtt * 2 && t < rtt * 2 + Duration::from_millis(5),
            "{what}: first reply after {t:?}"
        );
    }
    assert!(
        zero_rtt >= rtt && zero_rtt < rtt + Duration::from_millis(5),
        "0-RTT: first reply after {zero_rtt:?}"
    );
}
