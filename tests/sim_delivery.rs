//! Delivery over bad networks, in simulated time: whatever the path does to
//! datagrams (loss, bursts of loss, reordering, duplication, jitter, long
//! round trips, a narrow bottleneck), every message on every stream arrives
//! exactly once, whole and in order; both sides agree on what was delivered;
//! and every run ends within a bound of virtual time.
//!
//! Property tests explore random profiles and traffic; a fixed list of
//! profiles and seeds runs every time, so a regression shows up without luck.
#![cfg(feature = "sim")]

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use proptest::prelude::*;
use stt::sim::{run_until, App, BurstLoss, EndpointNode, LinkConfig, Network};
use stt::{Config, Endpoint, Event, Instant, SessionId, StreamEvent, StreamId};

const NET: &[u8] = b"sim delivery network key........";
/// Every run must be over by then (virtual time).
const BOUND: Duration = Duration::from_secs(180);

fn addr(n: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, n], 7000 + u16::from(n)))
}

/// The bytes of message `seq` on `stream`: a pattern that differs between
/// messages, so a mix-up cannot go unnoticed.
fn body(stream: StreamId, seq: usize, len: usize) -> Bytes {
    let salt = stream.wrapping_mul(131).wrapping_add(seq as u32 * 17);
    (0..len)
        .map(|i| (salt as usize + i * 7 + i / 251) as u8)
        .collect::<Vec<u8>>()
        .into()
}

/// One side's traffic: messages to send at given times on its own streams.
#[derive(Clone)]
struct Plan {
    /// (send time in ms, stream, message), sorted by time.
    sends: Vec<(u64, StreamId, Bytes)>,
    streams: BTreeSet<StreamId>,
}

impl std::fmt::Debug for Plan {
    /// Lengths only: the bytes follow from `body`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sends: Vec<_> = self
            .sends
            .iter()
            .map(|(at, id, b)| (*at, *id, b.len()))
            .collect();
        f.debug_struct("Plan")
            .field("sends", &sends)
            .field("streams", &self.streams)
            .finish()
    }
}

impl Plan {
    fn new(streams: &[(StreamId, Vec<(u64, usize)>)]) -> Self {
        let mut sends = Vec::new();
        for (id, msgs) in streams {
            let mut at = 0;
            for (seq, (gap, len)) in msgs.iter().enumerate() {
                at += gap;
                sends.push((at, *id, body(*id, seq, *len)));
            }
        }
        // Stable: a stream's messages keep their order at equal times.
        sends.sort_by_key(|(at, _, _)| *at);
        Plan {
            sends,
            streams: streams.iter().map(|(id, _)| *id).collect(),
        }
    }

    fn expected(&self) -> BTreeMap<StreamId, Vec<Bytes>> {
        let mut m: BTreeMap<StreamId, Vec<Bytes>> =
            self.streams.iter().map(|id| (*id, Vec::new())).collect();
        for (_, id, b) in &self.sends {
            m.entry(*id).or_default().push(b.clone());
        }
        m
    }
}

/// The application on each endpoint: sends its plan once the session
/// exists, closes its streams after the last message, reads everything.
#[derive(Debug)]
struct Peer {
    plan: Plan,
    next: usize,
    session: Option<SessionId>,
    /// The client's peer, to connect again after a failed handshake.
    server: Option<SocketAddr>,
    connects: u32,
    closed: bool,
    received: BTreeMap<StreamId, Vec<Bytes>>,
    finished: BTreeSet<StreamId>,
    /// Anything unexpected: failed sends, resets, the session ending.
    trouble: Vec<String>,
    last_wake: Instant,
}

impl Peer {
    fn new(plan: Plan) -> Self {
        Peer {
            plan,
            next: 0,
            session: None,
            server: None,
            connects: 0,
            closed: false,
            received: BTreeMap::new(),
            finished: BTreeSet::new(),
            trouble: Vec::new(),
            last_wake: Instant::ZERO,
        }
    }

    fn connect(&mut self, now: Instant, ep: &mut Endpoint) {
        let Some(server) = self.server else {
            return;
        };
        self.connects += 1;
        self.next = 0;
        self.closed = false;
        self.session = None;
        match ep.connect(now, server) {
            Ok(id) => self.session = Some(id),
            Err(e) => self.trouble.push(format!("connect: {e}")),
        }
    }

    fn read(&mut self, ep: &mut Endpoint, session: SessionId, stream: StreamId) {
        let Some(s) = ep.session_mut(session) else {
            return;
        };
        loop {
            match s.recv(stream) {
                Ok(Some(m)) => self.received.entry(stream).or_default().push(m),
                Ok(None) => break,
                // A stream the peer finished is forgotten once it was read
                // to the end and our side's end was acknowledged; reads then
                // say `Closed` (the manager keeps no reason for retired ids).
                Err(stt::StreamError::Finished(_)) | Err(stt::StreamError::Closed(_))
                    if !self.plan.streams.contains(&stream) =>
                {
                    self.finished.insert(stream);
                    break;
                }
                Err(e) => {
                    self.trouble.push(format!("recv on {stream}: {e}"));
                    break;
                }
            }
        }
    }
}

impl App for Peer {
    fn on_wake(&mut self, now: Instant, ep: &mut Endpoint) {
        self.last_wake = now;
        while let Some(e) = ep.poll_event() {
            match e {
                Event::Connected { session, .. } | Event::Accepted { session, .. } => {
                    self.session = Some(session);
                }
                // A long enough burst of loss can outlast the handshake; the
                // application tries again, resending everything.
                Event::ConnectFailed { session, .. } if Some(session) == self.session => {
                    self.connect(now, ep);
                }
                Event::Stream { session, event } => match event {
                    StreamEvent::Readable(id) => self.read(ep, session, id),
                    StreamEvent::Finished(id) => {
                        self.read(ep, session, id);
                        self.finished.insert(id);
                    }
                    StreamEvent::Reset(id, code) => {
                        self.trouble.push(format!("stream {id} reset with {code}"))
                    }
                    _ => {}
                },
                other => self.trouble.push(format!("{other:?}")),
            }
        }
        let Some(id) = self.session else {
            return;
        };
        let Some(s) = ep.session_mut(id) else {
            return;
        };
        while let Some((at, stream, data)) = self.plan.sends.get(self.next) {
            if Instant::from_millis(*at) > now {
                break;
            }
            if let Err(e) = s.open_stream(*stream) {
                self.trouble.push(format!("open {stream}: {e}"));
            }
            if let Err(e) = s.send(*stream, data.clone()) {
                self.trouble.push(format!("send on {stream}: {e}"));
            }
            self.next += 1;
        }
        if self.next == self.plan.sends.len() && !self.closed {
            self.closed = true;
            for stream in &self.plan.streams {
                // A stream with no message is opened just to be closed.
                let r = s.open_stream(*stream).and_then(|_| s.close_stream(*stream));
                if let Err(e) = r {
                    self.trouble.push(format!("close {stream}: {e}"));
                }
            }
        }
    }

    fn wakeup(&self) -> Option<Instant> {
        self.session?;
        let (at, _, _) = self.plan.sends.get(self.next)?;
        Some(Instant::from_millis(*at).max(self.last_wake + Duration::from_micros(1)))
    }
}

/// A profile: what both directions of the path do.
#[derive(Clone, Copy, Debug)]
struct Profile {
    one_way_ms: u64,
    jitter_ms: u64,
    loss: f64,
    burst: Option<(f64, f64, f64)>,
    reorder: f64,
    reorder_ms: u64,
    dup: f64,
    /// Bottleneck in Mbit/s and queue in KB.
    rate: Option<(u64, usize)>,
}

impl Profile {
    const CLEAN: Profile = Profile {
        one_way_ms: 20,
        jitter_ms: 0,
        loss: 0.0,
        burst: None,
        reorder: 0.0,
        reorder_ms: 0,
        dup: 0.0,
        rate: None,
    };

    fn link(&self) -> LinkConfig {
        let mut l = LinkConfig::default()
            .with_latency(Duration::from_millis(self.one_way_ms))
            .with_jitter(Duration::from_millis(self.jitter_ms))
            .with_loss(self.loss)
            .with_reorder(self.reorder, Duration::from_millis(self.reorder_ms))
            .with_duplicate(self.dup)
            .with_mtu(1500);
        if let Some((a, b, c)) = self.burst {
            l = l.with_burst(BurstLoss::new(a, b, c));
        }
        if let Some((mbit, kb)) = self.rate {
            l = l.with_rate(mbit * 1_000_000).with_queue_bytes(kb * 1000);
        }
        l
    }
}

fn config(name: &str) -> Config {
    let seed = format!("{name:-<32}");
    Config::builder(seed.as_bytes(), NET)
        // Patient enough that only a bug, not a bad draw, ends a session
        // (a failed handshake is retried by the application).
        .handshake_timeout(Duration::from_secs(30))
        .idle_timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

/// What one run produced.
struct Outcome {
    done: bool,
    end: Instant,
    client: Peer,
    server: Peer,
}

fn run(profile: Profile, seed: u64, client_plan: Plan, server_plan: Plan) -> Outcome {
    let mut net = Network::new(seed_bytes(seed, 0));
    net.set_path(addr(1), addr(2), profile.link()).unwrap();
    let client = Endpoint::new(config("client"), seed_bytes(seed, 1));
    let server = Endpoint::new(config("server"), seed_bytes(seed, 2));
    let mut nodes = [
        EndpointNode::new(client, addr(1), Peer::new(client_plan)),
        EndpointNode::new(server, addr(2), Peer::new(server_plan)),
    ];
    nodes[0].with(|ep, app| {
        app.server = Some(addr(2));
        app.connect(Instant::ZERO, ep);
    });
    let expect_at_server = nodes[0].app.plan.expected();
    let expect_at_client = nodes[1].app.plan.expected();
    let deadline = Instant::ZERO + BOUND;
    let mut done = false;
    let end = run_until(&mut net, &mut nodes, Instant::ZERO, deadline, |_, n| {
        let got_all = |p: &Peer, want: &BTreeMap<StreamId, Vec<Bytes>>| {
            want.keys().all(|id| p.finished.contains(id))
        };
        let flushed = |node: &EndpointNode<Peer>| {
            node.app.closed
                && node
                    .app
                    .session
                    .and_then(|id| node.endpoint().session(id))
                    .is_some_and(|s| s.is_flushed())
        };
        done = got_all(&n[1].app, &expect_at_server)
            && got_all(&n[0].app, &expect_at_client)
            && flushed(&n[0])
            && flushed(&n[1]);
        done || !n[0].app.trouble.is_empty() || !n[1].app.trouble.is_empty()
    })
    .expect("the simulation never livelocks");
    let [c, s] = nodes;
    Outcome {
        done,
        end,
        client: c.into_parts().1,
        server: s.into_parts().1,
    }
}

fn seed_bytes(seed: u64, role: u8) -> [u8; 32] {
    let mut b = [role; 32];
    b[..8].copy_from_slice(&seed.to_le_bytes());
    b
}

/// Runs one case and checks every promise; `Err` says what broke.
fn check(profile: Profile, seed: u64, client: Plan, server: Plan) -> Result<Duration, String> {
    let to_server = client.expected();
    let to_client = server.expected();
    let o = run(profile, seed, client, server);
    let tag = format!("{profile:?} seed {seed}");
    for (who, p) in [("client", &o.client), ("server", &o.server)] {
        if !p.trouble.is_empty() {
            return Err(format!("{tag}: {who} saw {:?}", p.trouble));
        }
    }
    if !o.done {
        return Err(format!("{tag}: not done by {} (bound {BOUND:?})", o.end));
    }
    for (who, p, want) in [
        ("server", &o.server, &to_server),
        ("client", &o.client, &to_client),
    ] {
        for (id, msgs) in want {
            let got = p.received.get(id).map_or(&[][..], |v| &v[..]);
            if got.len() != msgs.len() {
                let lens = |v: &[Bytes]| v.iter().map(|b| b.len()).collect::<Vec<_>>();
                return Err(format!(
                    "{tag}: {who} stream {id}: got {:?}, sent {:?} (lengths)",
                    lens(got),
                    lens(msgs)
                ));
            }
            if let Some(i) = got.iter().zip(msgs).position(|(g, m)| g != m) {
                return Err(format!("{tag}: {who} stream {id}: message {i} differs"));
            }
        }
        let extra: Vec<_> = p
            .received
            .keys()
            .filter(|id| !want.contains_key(id))
            .collect();
        if !extra.is_empty() {
            return Err(format!(
                "{tag}: {who} got data on unplanned streams {extra:?}"
            ));
        }
    }
    Ok(o.end - Instant::ZERO)
}

// ----- traffic and profile generators -----

fn message_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        2 => Just(0usize),
        4 => 1usize..64,
        4 => 64usize..1400,
        3 => 1400usize..20_000,
        1 => 20_000usize..80_000,
    ]
}

/// Up to four streams, each up to ten messages with gaps of up to 400 ms.
fn plan(first_stream: StreamId) -> impl Strategy<Value = Plan> {
    proptest::collection::vec(
        proptest::collection::vec((0u64..400, message_len()), 0..10),
        1..=4,
    )
    .prop_map(move |streams| {
        let streams: Vec<_> = streams
            .into_iter()
            .enumerate()
            .map(|(i, m)| (first_stream + 2 * i as StreamId, m))
            .collect();
        Plan::new(&streams)
    })
}

fn profile() -> impl Strategy<Value = Profile> {
    (
        (0u64..=150, prop_oneof![3 => Just(0u64), 1 => 1u64..=10]),
        (
            0.0..=0.10f64,
            proptest::option::weighted(0.3, (0.005..0.05f64, 0.2..0.8f64, 0.5..=1.0f64)),
        ),
        (0.0..=0.10f64, 0u64..=30, 0.0..=0.05f64),
        proptest::option::weighted(
            0.4,
            (prop_oneof![Just(2u64), Just(10), Just(100)], 20usize..=300),
        ),
    )
        .prop_map(
            |((one_way_ms, jitter_ms), (loss, burst), (reorder, reorder_ms, dup), rate)| Profile {
                one_way_ms,
                jitter_ms,
                loss,
                burst,
                reorder,
                reorder_ms,
                dup,
                rate,
            },
        )
}

proptest! {
    // 40 cases by default; PROPTEST_CASES=n explores more.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(40),
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_message_arrives_once_whole_and_in_order(
        profile in profile(),
        seed in any::<u64>(),
        client in plan(1),
        server in plan(2),
    ) {
        if let Err(e) = check(profile, seed, client, server) {
            prop_assert!(false, "{}", e);
        }
    }
}

// ----- fixed profiles and seeds, run every time -----

fn fixed_plan(first_stream: StreamId, seed: u64) -> Plan {
    // Sizes cycle through empty, tiny, one packet, several and many packets.
    let sizes = [0usize, 1, 700, 1452, 5_000, 40_000, 0, 130, 17_000, 64_000];
    let streams: Vec<_> = (0..3)
        .map(|i| {
            let msgs = (0..8)
                .map(|k| {
                    let j = (seed as usize + i * 3 + k * 7) % sizes.len();
                    ((k as u64 * 37 + seed) % 150, sizes[j])
                })
                .collect();
            (first_stream + 2 * i as StreamId, msgs)
        })
        .collect();
    Plan::new(&streams)
}

fn fixed_profiles() -> Vec<(&'static str, Profile)> {
    let p = Profile::CLEAN;
    vec![
        ("clean", p),
        ("instant", Profile { one_way_ms: 0, ..p }),
        ("loss 10%", Profile { loss: 0.10, ..p }),
        (
            "bursts",
            Profile {
                burst: Some((0.02, 0.25, 1.0)),
                ..p
            },
        ),
        (
            "reorder",
            Profile {
                reorder: 0.10,
                reorder_ms: 25,
                jitter_ms: 5,
                ..p
            },
        ),
        ("duplicates", Profile { dup: 0.05, ..p }),
        (
            "300 ms rtt",
            Profile {
                one_way_ms: 150,
                loss: 0.02,
                ..p
            },
        ),
        (
            "narrow",
            Profile {
                rate: Some((2, 20)),
                loss: 0.01,
                ..p
            },
        ),
        (
            "everything",
            Profile {
                one_way_ms: 60,
                jitter_ms: 10,
                loss: 0.05,
                burst: Some((0.01, 0.3, 0.9)),
                reorder: 0.05,
                reorder_ms: 20,
                dup: 0.03,
                rate: Some((10, 100)),
            },
        ),
    ]
}

#[test]
fn fixed_profiles_and_seeds_deliver_everything() {
    let mut slowest = Duration::ZERO;
    for (name, profile) in fixed_profiles() {
        for seed in [1u64, 2, 3] {
            let took = check(profile, seed, fixed_plan(1, seed), fixed_plan(2, seed + 10))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            slowest = slowest.max(took);
        }
    }
    assert!(slowest < BOUND);
}

#[test]
fn runs_replay_exactly() {
    let p = fixed_profiles()[8].1;
    let a = run(p, 7, fixed_plan(1, 7), fixed_plan(2, 8));
    let b = run(p, 7, fixed_plan(1, 7), fixed_plan(2, 8));
    assert!(a.done && b.done);
    assert_eq!(a.end, b.end);
    assert_eq!(a.server.received, b.server.received);
}
