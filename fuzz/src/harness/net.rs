//! Two endpoints joined by an in-memory network with a simulated clock and
//! one-shot faults (drop, duplicate, reorder, delay the next datagram).
//! Datagrams are routed by side, not by address, so an endpoint that moved
//! its idea of the peer's address still reaches it.

use std::net::SocketAddr;
use std::time::Duration;

use stt::{Config, Endpoint, Event, Instant, SessionId};

/// The network key every harness node shares.
pub const NET_SEED: &[u8] = b"fuzz-network-shared-seed-32bytes";

/// Steps in a row that may leave the clock where it is with nothing sent or
/// delivered before the harness calls it a livelock.
const MAX_STALLS: u32 = 10_000;
/// Datagrams kept in [`Net::sent`] (the mutation sources of a run).
const MAX_LOG: usize = 512;

/// A configuration builder for node `name` in the harness network, with
/// small limits so runs stay cheap.
pub fn config(name: &str) -> stt::ConfigBuilder {
    let seed = format!("{name:-<32}");
    let mut limits = stt::StreamLimits::default();
    limits.max_streams = 16;
    limits.max_message_size = 64 << 10;
    limits.stream_window = 32 << 10;
    limits.max_stream_window = 256 << 10;
    limits.session_window = 128 << 10;
    limits.max_session_window = 1 << 20;
    limits.max_send_queue = 1 << 20;
    // Small turns, so short fuzz inputs still see streams rotate.
    limits.turn_quantum = 4 << 10;
    // The most an honest peer can make a session hold: the session window
    // plus one message per stream. Exactly at that bound, so pair_ops
    // checks that honest traffic never crosses it.
    limits.max_session_buffer = (1 << 20) + 16 * (64 << 10);
    Config::builder(seed.as_bytes(), NET_SEED)
        .max_sessions(8)
        .max_half_open(2)
        .handshake_timeout(Duration::from_secs(2))
        .idle_timeout(Duration::from_secs(5))
        .keep_alive(Some(Duration::from_secs(1)))
        .streams(limits)
}

/// `config(name).build()` for node "a" or "b", built once per thread:
/// building derives the node's key pair from its seed, which costs as much
/// as a good part of a handshake, and every input starts from the same two.
pub fn built(name: &str) -> Config {
    thread_local! {
        static BUILT: [Config; 2] = [
            config("a").build().unwrap(),
            config("b").build().unwrap(),
        ];
    }
    let i = match name {
        "a" => 0,
        "b" => 1,
        _ => return config(name).build().unwrap(),
    };
    BUILT.with(|c| c[i].clone())
}

/// What happens to the next datagram either side sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Lost.
    Drop,
    /// Delivered twice.
    Duplicate,
    /// Delivered after the datagrams sent after it.
    Reorder,
    /// Delivered this much later than usual.
    Delay(Duration),
}

struct Flight {
    at: Instant,
    to_b: bool,
    data: Vec<u8>,
}

/// Two endpoints `a` and `b` and the datagrams between them.
pub struct Net {
    /// The first endpoint (usually the initiator).
    pub a: Endpoint,
    /// The second endpoint (usually the responder).
    pub b: Endpoint,
    /// Address of `a` as `b` sees it.
    pub a_addr: SocketAddr,
    /// Address of `b` as `a` sees it.
    pub b_addr: SocketAddr,
    /// The simulated clock.
    pub now: Instant,
    /// One-way delay.
    pub latency: Duration,
    flight: Vec<Flight>,
    /// The first datagrams sent: (to b, bytes).
    pub sent: Vec<(bool, Vec<u8>)>,
    /// Faults for the next datagrams sent, first first.
    pub faults: Vec<Fault>,
    /// Events of `a` and of `b`, in order.
    pub events_a: Vec<Event>,
    /// Events of `b`.
    pub events_b: Vec<Event>,
    buf: Vec<u8>,
    stalls: u32,
}

impl Net {
    /// Endpoints from two configurations and fixed seeds (runs replay).
    pub fn new(a: Config, b: Config) -> Net {
        Net {
            a: super::trace::traced(Endpoint::new(a, [1; 32])),
            b: super::trace::traced(Endpoint::new(b, [2; 32])),
            a_addr: "192.0.2.1:1000".parse().unwrap(),
            b_addr: "192.0.2.2:2000".parse().unwrap(),
            now: Instant::from_millis(1_000),
            latency: Duration::from_millis(10),
            flight: Vec::new(),
            sent: Vec::new(),
            faults: Vec::new(),
            events_a: Vec::new(),
            events_b: Vec::new(),
            buf: vec![0; 65_536],
            stalls: 0,
        }
    }

    /// The harness pair: nodes "a" and "b" with [`config`].
    pub fn standard() -> Net {
        Net::new(built("a"), built("b"))
    }

    fn enqueue(&mut self, at: Instant, to_b: bool, data: Vec<u8>) {
        let i = self.flight.partition_point(|f| f.at <= at);
        self.flight.insert(i, Flight { at, to_b, data });
    }

    /// Collects and sends what both endpoints want to send now, applying
    /// pending faults. Returns true if anything was sent.
    pub fn flush(&mut self) -> bool {
        let mut any = false;
        for to_b in [true, false] {
            // An endpoint sends at most this many datagrams per flush.
            for _ in 0..10_000 {
                let ep = if to_b { &mut self.a } else { &mut self.b };
                let Some(t) = ep.poll_transmit(self.now, &mut self.buf) else {
                    break;
                };
                any = true;
                assert!(t.len <= self.buf.len());
                let d = self.buf[..t.len].to_vec();
                if self.sent.len() < MAX_LOG {
                    self.sent.push((to_b, d.clone()));
                }
                let base = self.now + self.latency;
                let fault = (!self.faults.is_empty()).then(|| self.faults.remove(0));
                match fault {
                    None => self.enqueue(base, to_b, d),
                    Some(Fault::Drop) => {}
                    Some(Fault::Duplicate) => {
                        self.enqueue(base, to_b, d.clone());
                        self.enqueue(base + Duration::from_millis(1), to_b, d);
                    }
                    Some(Fault::Reorder) => {
                        self.enqueue(base + self.latency + Duration::from_millis(1), to_b, d)
                    }
                    Some(Fault::Delay(x)) => self.enqueue(base + x, to_b, d),
                }
            }
        }
        any
    }

    /// Moves the events of both endpoints into `events_a` / `events_b`.
    pub fn collect_events(&mut self) {
        while let Some(e) = self.a.poll_event() {
            self.events_a.push(e);
        }
        while let Some(e) = self.b.poll_event() {
            self.events_b.push(e);
        }
    }

    /// Hands `data` to one side now, as if from `from` (`None`: the other
    /// side's address).
    pub fn inject(&mut self, to_b: bool, from: Option<SocketAddr>, mut data: Vec<u8>) {
        let (ep, peer) = if to_b {
            (&mut self.b, self.a_addr)
        } else {
            (&mut self.a, self.b_addr)
        };
        ep.handle_datagram(self.now, from.unwrap_or(peer), &mut data);
        self.collect_events();
    }

    /// One step: send, deliver what is due, run due timers, send again, then
    /// move the clock to the next thing that will happen, but not past
    /// `limit`. Returns false when nothing at all is pending.
    ///
    /// Panics if timers stay due without anything moving (a livelock: the
    /// core asks to be woken at `now` forever).
    pub fn step_until(&mut self, limit: Instant) -> bool {
        let mut progress = self.flush();
        while self.flight.first().is_some_and(|f| f.at <= self.now) {
            let f = self.flight.remove(0);
            progress = true;
            let mut d = f.data;
            if f.to_b {
                self.b.handle_datagram(self.now, self.a_addr, &mut d);
            } else {
                self.a.handle_datagram(self.now, self.b_addr, &mut d);
            }
        }
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
        self.collect_events();
        progress |= self.flush();
        let next = [
            self.flight.first().map(|f| f.at),
            self.a.poll_timeout(),
            self.b.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = next else {
            self.stalls = 0;
            return false;
        };
        if next <= self.now && !progress {
            self.stalls += 1;
            assert!(
                self.stalls < MAX_STALLS,
                "livelock: a timer stays due at {} and nothing moves",
                self.now
            );
        } else {
            self.stalls = 0;
        }
        self.now = self.now.max(next.min(limit));
        true
    }

    /// [`step_until`](Self::step_until) without a limit.
    pub fn step(&mut self) -> bool {
        self.step_until(Instant::from_micros(u64::MAX))
    }

    /// Runs the network for `d` of simulated time.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while self.now < end {
            if !self.step_until(end) {
                self.now = end;
            }
        }
        self.flush();
    }

    /// Steps until `done` holds or `limit` of simulated time passes; returns
    /// whether `done` held.
    pub fn drive_until(&mut self, limit: Duration, mut done: impl FnMut(&mut Net) -> bool) -> bool {
        let end = self.now + limit;
        loop {
            if done(self) {
                return true;
            }
            if self.now >= end || !self.step_until(end) {
                return done(self);
            }
        }
    }

    /// Nothing in flight and every session on both sides closed or with all
    /// its data acknowledged.
    pub fn quiet(&self) -> bool {
        let flushed = |ep: &Endpoint| {
            ep.sessions().all(|id| {
                ep.session(id)
                    .is_none_or(|s| s.is_closed() || s.is_flushed())
            })
        };
        self.flight.is_empty() && flushed(&self.a) && flushed(&self.b)
    }

    /// Datagrams in flight.
    pub fn in_flight(&self) -> usize {
        self.flight.len()
    }

    /// Connects `a` to `b`; returns (a's id, b's id) once both are up.
    pub fn connect(&mut self) -> (SessionId, SessionId) {
        let sa = self.a.connect(self.now, self.b_addr).unwrap();
        let ok = self.drive_until(Duration::from_secs(5), |n| {
            n.events_a
                .iter()
                .any(|e| matches!(e, Event::Connected { session, .. } if *session == sa))
                && n.events_b
                    .iter()
                    .any(|e| matches!(e, Event::Accepted { .. }))
        });
        assert!(
            ok,
            "handshake failed: {:?} / {:?}",
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
}
