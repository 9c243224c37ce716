//! A pair of endpoints joined by an in-memory link with a fixed latency and a
//! simulated clock: whole handshakes and transfers as deterministic tests.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use stt::{Config, Endpoint, Event, Instant, SessionId};

pub const NET: &[u8] = b"shared_secret_32bytes_minimum!";

pub fn config(node: &str) -> stt::ConfigBuilder {
    let seed = format!("{node:-<32}");
    Config::builder(seed.as_bytes(), NET)
}

/// The fuzz harness's raw peer: it runs the real handshake by hand and
/// seals with the real packet key, so a test can send any frame as an
/// authenticated peer would.
#[path = "../../fuzz/src/harness/raw_peer.rs"]
pub mod raw_peer;

/// Endpoint `b` (node `config("b")`, seed `[2; 32]`) with a session that a
/// [`raw_peer::RawPeer`] holding node `a`'s identity established from
/// `addr` at `now`. `b`'s `Accepted` event and first flight are still
/// queued.
pub fn raw_session(now: Instant, addr: SocketAddr) -> (Endpoint, raw_peer::RawPeer) {
    let mut b = Endpoint::new(config("b").build().unwrap(), [2; 32]);
    let seed = format!("{:-<32}", "a");
    let peer = raw_peer::RawPeer::connect(
        &mut b,
        now,
        addr,
        seed.as_bytes(),
        NET,
        stt::__private::wire::TransportParams::DEFAULT,
    )
    .expect("raw handshake");
    (b, peer)
}

/// What a filter does with a datagram in flight.
pub enum Fate {
    Deliver,
    Drop,
}

pub type Filter = Box<dyn FnMut(bool, &mut Vec<u8>) -> Fate>;

pub struct Pair {
    pub a: Endpoint,
    pub b: Endpoint,
    pub a_addr: SocketAddr,
    pub b_addr: SocketAddr,
    pub now: Instant,
    pub latency: Duration,
    /// (arrival, a_to_b, datagram), in send order.
    in_flight: VecDeque<(Instant, bool, Vec<u8>)>,
    /// Every datagram sent: (a_to_b, bytes).
    pub sent: Vec<(bool, Vec<u8>)>,
    pub filter: Option<Filter>,
    pub events_a: Vec<Event>,
    pub events_b: Vec<Event>,
    buf: Vec<u8>,
}

impl Pair {
    pub fn new(a: Config, b: Config) -> Self {
        Pair::with_seeds(a, b, [1; 32], [2; 32])
    }

    pub fn with_seeds(a: Config, b: Config, sa: [u8; 32], sb: [u8; 32]) -> Self {
        Pair {
            a: Endpoint::new(a, sa),
            b: Endpoint::new(b, sb),
            a_addr: "10.0.0.1:1000".parse().unwrap(),
            b_addr: "10.0.0.2:2000".parse().unwrap(),
            now: Instant::from_millis(1_000),
            latency: Duration::from_millis(10),
            in_flight: VecDeque::new(),
            sent: Vec::new(),
            filter: None,
            events_a: Vec::new(),
            events_b: Vec::new(),
            buf: vec![0; 65_536],
        }
    }

    pub fn default_pair() -> Self {
        Pair::new(config("a").build().unwrap(), config("b").build().unwrap())
    }

    /// Sends everything both endpoints want to send now.
    fn flush(&mut self) -> bool {
        let mut any = false;
        for from_a in [true, false] {
            loop {
                let ep = if from_a { &mut self.a } else { &mut self.b };
                let Some(t) = ep.poll_transmit(self.now, &mut self.buf) else {
                    break;
                };
                any = true;
                let mut d = self.buf[..t.len].to_vec();
                if std::env::var_os("STT_TRACE").is_some() {
                    eprintln!(
                        "{} {} {} bytes first={:02x}",
                        self.now,
                        if from_a { "a->b" } else { "b->a" },
                        d.len(),
                        d[0]
                    );
                }
                self.sent.push((from_a, d.clone()));
                let keep = match &mut self.filter {
                    Some(f) => matches!(f(from_a, &mut d), Fate::Deliver),
                    None => true,
                };
                if keep {
                    self.in_flight
                        .push_back((self.now + self.latency, from_a, d));
                }
            }
        }
        any
    }

    fn collect_events(&mut self) {
        while let Some(e) = self.a.poll_event() {
            self.events_a.push(e);
        }
        while let Some(e) = self.b.poll_event() {
            self.events_b.push(e);
        }
    }

    /// Drops the harness's own records (every datagram sent, the events
    /// collected) and the room its link queue grew to, so that what a
    /// counting allocator sees next is the endpoints' memory.
    pub fn forget_logs(&mut self) {
        self.sent = Vec::new();
        self.events_a = Vec::new();
        self.events_b = Vec::new();
        if self.in_flight.is_empty() {
            self.in_flight = VecDeque::new();
        }
    }

    /// Delivers a datagram to one side directly (for replay tests).
    pub fn inject(&mut self, to_b: bool, mut d: Vec<u8>) {
        let (ep, from) = if to_b {
            (&mut self.b, self.a_addr)
        } else {
            (&mut self.a, self.b_addr)
        };
        ep.handle_datagram(self.now, from, &mut d);
        self.collect_events();
    }

    /// One step: send, deliver what is due, run due timers, then advance the
    /// clock to the next event. Returns false when nothing is pending at all.
    pub fn step(&mut self) -> bool {
        self.flush();
        while self
            .in_flight
            .front()
            .is_some_and(|(t, _, _)| *t <= self.now)
        {
            let (_, a_to_b, mut d) = self.in_flight.pop_front().unwrap();
            if a_to_b {
                self.b.handle_datagram(self.now, self.a_addr, &mut d);
            } else {
                self.a.handle_datagram(self.now, self.b_addr, &mut d);
            }
        }
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
        self.collect_events();
        self.flush();
        let next = [
            self.in_flight.front().map(|(t, _, _)| *t),
            self.a.poll_timeout(),
            self.b.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min();
        match next {
            Some(t) => {
                self.now = self.now.max(t);
                true
            }
            None => false,
        }
    }

    /// Steps until `done` holds or `limit` of simulated time passes.
    pub fn drive_until(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&mut Pair) -> bool,
    ) -> bool {
        let end = self.now + limit;
        for _ in 0..10_000_000 {
            if done(self) {
                return true;
            }
            if self.now >= end || !self.step() {
                return done(self);
            }
        }
        false
    }

    /// True when nothing is in flight and every session on both sides has
    /// had all its stream data and control frames acknowledged.
    pub fn quiet(&mut self) -> bool {
        let flushed = |ep: &stt::Endpoint| {
            ep.sessions().all(|id| {
                ep.session(id)
                    .is_none_or(|s| s.is_closed() || s.is_flushed())
            })
        };
        self.in_flight.is_empty() && flushed(&self.a) && flushed(&self.b)
    }

    /// Steps until [`quiet`](Self::quiet), within 60 s of simulated time.
    pub fn drive(&mut self) {
        let ok = self.drive_until(Duration::from_secs(60), |p| {
            p.flush();
            p.quiet()
        });
        self.collect_events();
        assert!(ok, "never went quiet");
    }

    /// Drives to quiet while b reads `stream` of session `sb` as messages
    /// arrive (a reader that keeps up); returns what it read.
    pub fn drive_reading_b(&mut self, sb: SessionId, stream: u32) -> Vec<Vec<u8>> {
        let mut got = Vec::new();
        let ok = self.drive_until(Duration::from_secs(120), |p| {
            got.extend(p.recv_all_b(sb, stream));
            p.flush();
            p.quiet()
        });
        got.extend(self.recv_all_b(sb, stream));
        assert!(ok, "never went quiet");
        got
    }

    /// Connects a to b; returns (a's id, b's id) once both sides are up.
    pub fn connect(&mut self) -> (SessionId, SessionId) {
        let sa = self.a.connect(self.now, self.b_addr).unwrap();
        let ok = self.drive_until(Duration::from_secs(5), |p| {
            p.events_a
                .iter()
                .any(|e| matches!(e, Event::Connected { .. }))
                && p.events_b
                    .iter()
                    .any(|e| matches!(e, Event::Accepted { .. }))
        });
        assert!(
            ok,
            "handshake did not complete: {:?} / {:?}",
            self.events_a, self.events_b
        );
        let sb = self
            .events_b
            .iter()
            .find_map(|e| match e {
                Event::Accepted { session, .. } => Some(*session),
                _ => None,
            })
            .unwrap();
        (sa, sb)
    }

    /// Reads every ready message of `stream` on b's session.
    pub fn recv_all_b(&mut self, sb: SessionId, stream: u32) -> Vec<Vec<u8>> {
        let s = self.b.session_mut(sb).unwrap();
        let mut out = Vec::new();
        while let Ok(Some(m)) = s.recv(stream) {
            out.push(m.to_vec());
        }
        out
    }

    pub fn recv_all_a(&mut self, sa: SessionId, stream: u32) -> Vec<Vec<u8>> {
        let s = self.a.session_mut(sa).unwrap();
        let mut out = Vec::new();
        while let Ok(Some(m)) = s.recv(stream) {
            out.push(m.to_vec());
        }
        out
    }
}
