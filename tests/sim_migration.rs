//! Path validation and migration in simulated time: a NAT that rebinds the
//! client mid-transfer, a client that moves to a new IP address, an on-path
//! attacker racing copies of the client's packets from a victim address,
//! and a new address whose validation fails. Deterministic: fixed seeds.
//!
//! The transfer is a download: the server sends `MESSAGES` messages on
//! stream 1 to the client behind the NAT, so after a change it is the
//! server that must find the client again.
#![cfg(feature = "sim")]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use stt::sim::{step, App, AttackStats, Attacker, EndpointNode, LinkConfig, Nat, Network, Node};
use stt::{Config, Endpoint, Event, Instant, SessionId, StreamError, StreamEvent};

const NET: &[u8] = b"sim migration network key.......";
const MESSAGES: usize = 400;
const MESSAGE_LEN: usize = 8 * 1024;
/// One-way latency; the round trip is twice this.
const ONE_WAY: Duration = Duration::from_millis(20);
const RTT_MS: f64 = 40.0;
const RATE: u64 = 20_000_000;
const BOUND: Instant = Instant::from_millis(30_000);

fn client_addr() -> SocketAddr {
    "10.0.0.1:5000".parse().unwrap()
}
fn server_addr() -> SocketAddr {
    "10.0.0.2:6000".parse().unwrap()
}

fn body(seq: usize) -> Bytes {
    (0..MESSAGE_LEN)
        .map(|i| (seq * 31 + i * 7 + i / 253) as u8)
        .collect::<Vec<u8>>()
        .into()
}

/// The server side: sends every message as soon as the stream takes it.
#[derive(Default)]
struct Sender {
    session: Option<SessionId>,
    sent: usize,
}

impl App for Sender {
    fn on_wake(&mut self, _now: Instant, ep: &mut Endpoint) {
        while let Some(e) = ep.poll_event() {
            if let Event::Accepted { session, .. } = e {
                self.session = Some(session);
            }
        }
        let Some(id) = self.session else { return };
        let Some(s) = ep.session_mut(id) else { return };
        while self.sent < MESSAGES {
            match s.send(1, body(self.sent)) {
                Ok(_) => self.sent += 1,
                Err(StreamError::WouldBlock(_)) => break,
                Err(e) => panic!("send: {e}"),
            }
        }
    }
}

/// The client side: reads messages, checks each is the next one and whole,
/// and records when each arrived.
#[derive(Default)]
struct Receiver {
    session: Option<SessionId>,
    arrivals: Vec<Instant>,
}

impl App for Receiver {
    fn on_wake(&mut self, now: Instant, ep: &mut Endpoint) {
        while let Some(e) = ep.poll_event() {
            match e {
                Event::Connected { session, .. } => self.session = Some(session),
                Event::Stream {
                    session,
                    event: StreamEvent::Readable(id),
                } => {
                    let s = ep.session_mut(session).unwrap();
                    while let Ok(Some(m)) = s.recv(id) {
                        let seq = self.arrivals.len();
                        assert!(seq < MESSAGES, "more messages than sent");
                        assert_eq!(m, body(seq), "message {seq} whole and in order");
                        self.arrivals.push(now);
                    }
                }
                Event::Closed { reason, .. } => panic!("session closed: {reason:?}"),
                _ => {}
            }
        }
    }
}

fn endpoint(name: &str, seed: u8) -> Endpoint {
    let cfg = Config::builder(format!("{name:-<32}").as_bytes(), NET)
        .build()
        .unwrap();
    Endpoint::new(cfg, [seed; 32])
}

fn link() -> LinkConfig {
    LinkConfig::default().with_latency(ONE_WAY).with_rate(RATE)
}

/// What one run shows.
#[derive(Debug)]
struct Run {
    arrivals: Vec<Instant>,
    /// The server's view of its session at each step.
    peers_seen: Vec<SocketAddr>,
    /// Server congestion window just before the change, and just after
    /// the server moved (if it did).
    cwnd_before: u64,
    cwnd_after: Option<u64>,
    srtt_after: Option<Duration>,
    server_peer: SocketAddr,
    path: stt::PathStats,
    client_established: bool,
    /// The server's path trace events, in order (feature `trace`).
    #[cfg_attr(not(feature = "trace"), allow(dead_code))]
    path_events: PathLog,
}

type PathLog = std::sync::Arc<std::sync::Mutex<Vec<(&'static str, SocketAddr)>>>;

/// Keeps the server's path events: challenge sent, validated, failed,
/// changed, each with the address it names.
#[cfg(feature = "trace")]
struct PathRecorder(PathLog);

#[cfg(feature = "trace")]
impl stt::trace::TraceSink for PathRecorder {
    fn event(&mut self, _at: Instant, _s: Option<SessionId>, ev: &stt::trace::TraceEvent<'_>) {
        use stt::trace::TraceEvent as E;
        let addr = match *ev {
            E::PathChallengeSent { to, .. } | E::PathChanged { to, .. } => to,
            E::PathValidated { addr } | E::PathValidationFailed { addr } => addr,
            _ => return,
        };
        self.0.lock().unwrap().push((ev.name(), addr));
    }
}

#[cfg(feature = "trace")]
impl Run {
    /// The server's path events, with consecutive repeats (a challenge
    /// sent again) folded into one.
    fn path_events(&self) -> Vec<(&'static str, SocketAddr)> {
        let mut v = self.path_events.lock().unwrap().clone();
        v.dedup();
        v
    }
}

impl Run {
    /// The longest time between two messages delivered after `from`, and
    /// the delivery it ended at.
    fn longest_gap_after(&self, from: Instant) -> (Duration, Instant) {
        let mut best = (Duration::ZERO, from);
        let mut prev = from;
        for &t in self.arrivals.iter().filter(|t| **t >= from) {
            if t - prev > best.0 {
                best = (t - prev, t);
            }
            prev = t;
        }
        best
    }
}

/// Runs the download with the client behind `nat_schedule`, with
/// `attacker` copying the client's packets (one that never copies if
/// `None`), on `net`; `change_at` is when the interesting thing happens.
fn run(
    mut net: Network,
    nat_schedule: &[(Instant, SocketAddr)],
    attacker: Option<Attacker>,
    change_at: Instant,
) -> (Run, AttackStats) {
    let mut attacker = attacker
        .unwrap_or_else(|| Attacker::new("10.255.0.1:1".parse().unwrap(), Instant::MAX, None));
    let client = EndpointNode::new(endpoint("client", 1), client_addr(), Receiver::default());
    let mut client = attacker.tap(Nat::new(client, client_addr(), nat_schedule));
    let path_events = PathLog::default();
    #[allow(unused_mut)]
    let mut server_ep = endpoint("server", 2);
    #[cfg(feature = "trace")]
    server_ep.set_trace_sink(Some(Box::new(PathRecorder(path_events.clone()))));
    let mut server = EndpointNode::new(server_ep, server_addr(), Sender::default());
    let cid = client
        .inner
        .inner
        .endpoint_mut()
        .connect(Instant::ZERO, server_addr())
        .unwrap();
    let mut run = Run {
        arrivals: Vec::new(),
        peers_seen: Vec::new(),
        cwnd_before: 0,
        cwnd_after: None,
        srtt_after: None,
        server_peer: server_addr(),
        path: Default::default(),
        client_established: false,
        path_events,
    };
    let mut now = Instant::ZERO;
    loop {
        let next = {
            let mut nodes: [&mut dyn Node; 3] = [&mut client, &mut server, &mut attacker];
            step(&mut net, &mut nodes, now).unwrap()
        };
        if let Some(sid) = server.app.session {
            let s = server.endpoint().session(sid).unwrap();
            run.peers_seen.push(s.peer());
            let st = s.stats();
            if now < change_at {
                run.cwnd_before = st.congestion_window;
            } else if run.cwnd_after.is_none() && s.path_stats().migrations > 0 {
                run.cwnd_after = Some(st.congestion_window);
                run.srtt_after = Some(st.rtt);
            }
        }
        let got = client.inner.inner.app.arrivals.len();
        if got == MESSAGES {
            break;
        }
        match next {
            Some(t) if t <= BOUND => now = t,
            _ => panic!("transfer stuck at {now}: {got} of {MESSAGES} messages"),
        }
    }
    let c = &client.inner.inner;
    run.arrivals = c.app.arrivals.clone();
    run.client_established = c
        .endpoint()
        .session(cid)
        .is_some_and(|s| s.is_established());
    let sid = server.app.session.unwrap();
    let s = server.endpoint().session(sid).unwrap();
    run.server_peer = s.peer();
    run.path = s.path_stats();
    (run, attacker.stats())
}

fn network(seed: u8) -> Network {
    let mut net = Network::new([seed; 32]);
    net.set_default_link(link()).unwrap();
    net
}

fn in_rtts(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0 / RTT_MS
}

#[test]
fn nat_rebinding_mid_transfer_keeps_the_session_the_window_and_every_message() {
    let at = Instant::from_millis(800);
    let rebound: SocketAddr = "10.0.0.1:5999".parse().unwrap();
    let (run, _) = run(network(7), &[(at, rebound)], None, at);
    assert_eq!(run.arrivals.len(), MESSAGES);
    assert!(run.arrivals.first().unwrap() < &at && run.arrivals.last().unwrap() > &at);
    assert!(run.client_established, "the client's session is kept");
    assert_eq!(run.server_peer, rebound, "the server followed the client");
    assert_eq!(run.path.validated, 1);
    assert_eq!(run.path.migrations, 1);
    #[cfg(feature = "trace")]
    assert_eq!(
        run.path_events(),
        [
            ("path_challenge_sent", rebound),
            ("path_validated", rebound),
            ("path_changed", rebound)
        ]
    );
    // Port-only: the window is kept, not reset to the initial 10 packets.
    let after = run.cwnd_after.expect("the server moved");
    let initial = 10 * 1452;
    assert!(
        after > initial && after * 2 >= run.cwnd_before,
        "cwnd {} before, {after} after",
        run.cwnd_before
    );
    let (gap, _) = run.longest_gap_after(Instant::from_millis(500));
    println!(
        "nat rebinding: longest delivery gap {:.1} ms = {:.2} RTT; cwnd {} -> {after}",
        gap.as_secs_f64() * 1000.0,
        in_rtts(gap),
        run.cwnd_before
    );
    assert!(in_rtts(gap) <= 6.0, "stall of {:.2} RTT", in_rtts(gap));
}

#[test]
fn a_new_ip_address_is_validated_and_resets_congestion_state() {
    let at = Instant::from_millis(800);
    let moved: SocketAddr = "10.0.0.3:5000".parse().unwrap();
    let (run, _) = run(network(8), &[(at, moved)], None, at);
    assert_eq!(run.arrivals.len(), MESSAGES);
    assert!(run.client_established);
    assert_eq!(run.server_peer, moved);
    assert_eq!((run.path.validated, run.path.migrations), (1, 1));
    // A new path: the window starts again from the initial window (ten
    // datagrams of the base size: the new path's size search starts over),
    // the RTT estimate from its initial value.
    let initial = 10 * stt::DEFAULT_BASE_DATAGRAM_SIZE as u64;
    assert_eq!(run.cwnd_after, Some(initial));
    assert_eq!(run.srtt_after, Some(Duration::from_millis(100)));
    assert!(run.cwnd_before > initial);
    let (gap, _) = run.longest_gap_after(Instant::from_millis(500));
    println!("new address: longest delivery gap {:.2} RTT", in_rtts(gap));
}

#[test]
fn a_racing_attacker_cannot_redirect_the_session_or_amplify() {
    let victim: SocketAddr = "10.9.9.9:53".parse().unwrap();
    let mut net = network(9);
    // The attacker's copies race the originals: 5 ms against 20 ms.
    let fast = link().with_latency(Duration::from_millis(5));
    net.set_link(victim, server_addr(), fast).unwrap();
    let attacker = Attacker::new(victim, Instant::from_millis(300), Some(server_addr()));
    let (run, a) = run(net, &[], Some(attacker), Instant::from_millis(300));
    assert_eq!(run.arrivals.len(), MESSAGES, "nothing lost");
    assert!(run.client_established);
    assert!(
        run.peers_seen.iter().all(|p| *p == client_addr()),
        "the server never moved to the victim"
    );
    assert!(a.copies_sent > 100, "{a:?}");
    assert!(
        run.path.challenges_sent > 0,
        "the victim address was challenged"
    );
    assert_eq!(run.path.validated, 0);
    assert_eq!(run.path.migrations, 0);
    assert!(
        a.victim_bytes <= 3 * a.bytes_sent,
        "victim got {} bytes for {} the attacker sent",
        a.victim_bytes,
        a.bytes_sent
    );
    println!(
        "attacker: sent {} copies ({} bytes), victim received {} datagrams ({} bytes, {:.4}x)",
        a.copies_sent,
        a.bytes_sent,
        a.victim_datagrams,
        a.victim_bytes,
        a.victim_bytes as f64 / a.bytes_sent as f64
    );
}

#[test]
fn a_failed_validation_leaves_the_session_on_its_validated_address() {
    // The client's NAT maps it to an address the server's packets cannot
    // reach (a one-way path), then back: the challenge of the new address
    // goes unanswered, the server gives up on it and keeps the old one.
    let first = Instant::from_millis(800);
    let back = Instant::from_millis(1_000);
    let oneway: SocketAddr = "10.0.0.1:6111".parse().unwrap();
    let mut net = network(10);
    net.set_link(server_addr(), oneway, link().with_loss(1.0))
        .unwrap();
    let (run, _) = run(net, &[(first, oneway), (back, client_addr())], None, first);
    assert_eq!(run.arrivals.len(), MESSAGES);
    assert!(run.client_established);
    assert_eq!(run.server_peer, client_addr());
    assert!(run.peers_seen.iter().all(|p| *p == client_addr()));
    assert!(run.path.challenges_sent >= 1);
    assert_eq!((run.path.validated, run.path.failed), (0, 1));
    #[cfg(feature = "trace")]
    assert_eq!(
        run.path_events(),
        [
            ("path_challenge_sent", oneway),
            ("path_validation_failed", oneway)
        ]
    );
}
