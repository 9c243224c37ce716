//! The in-memory pair: two endpoints on one thread, datagrams moved between
//! them through in-memory queues (no loss, no reordering, encryption on).
//! Shared by `examples/pair`, the criterion benches and `tests/no_alloc.rs`
//! (each includes this file with `#[path]`).
//!
//! Owns: the loop that moves datagrams, reads what arrives as it arrives, and
//! tops up the senders' queues as acknowledgements drain them.
//! Never: allocates per datagram itself (datagram buffers come from a pool),
//! so an allocation counted while it runs is the core's.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant as StdInstant};

use bytes::Bytes;
use stt::{Cipher, Provider};
use stt::{Config, Endpoint, Event, Instant, SessionId, StreamEvent, StreamLimits};

const NET: &[u8] = b"shared_secret_32bytes_minimum!";

/// What the senders send (sliced, never copied).
static PAYLOAD: [u8; SEGMENT] = [0xab; SEGMENT];

/// Bytes of one `send_all` message (the core's default segment).
pub const SEGMENT: usize = 64 * 1024;

/// How the pair's clock runs.
///
/// `Real` feeds `std::time::Instant` to the core, so RTT, pacing and timers
/// behave as on a real host whose network is infinitely fast: what limits
/// the transfer is the CPU. It is the honest choice for goodput and is the
/// default.
///
/// `Sim` makes a run deterministic (for callgrind instruction counts and the
/// allocation test): time advances by each datagram's serialization time on
/// a link of `link_gbps`, and jumps to the next timer when nothing moves. The
/// core then sees the same kind of tiny, stable RTT as with `Real`, so the
/// code paths are the same; only wall time is no longer an input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Clock {
    /// Wall clock.
    Real,
    /// Serialization time on a link of this many Gbit/s.
    Sim { link_gbps: u64 },
}

/// What to build.
#[derive(Debug, Clone)]
pub struct Opts {
    pub streams: u32,
    pub sessions: u32,
    pub datagram: usize,
    pub provider: Provider,
    pub cipher: Cipher,
    pub clock: Clock,
    /// Datagrams one side may have queued towards the other before it must
    /// wait for the other to read them: a socket buffer that blocks instead
    /// of dropping. 0 is unbounded: each side sends everything the
    /// congestion window and pacer allow before the other reads. The
    /// default, 256 datagrams (about 370 KB), is the order of a Linux UDP
    /// socket buffer; quinn's anchor runs unbounded, so compare with it at 0.
    pub queue: usize,
    /// Congestion controller (`--cc`); `None` keeps the crate's default.
    pub controller: Option<stt::ControllerKind>,
    /// `RecoveryConfig::pacing_granularity`: how late the driver's timer
    /// may fire. The default is the adapters' (1 ms, a tokio timer's), so
    /// `pair` and the socket benchmarks pace alike: the pacer lets a burst
    /// hold what the pacing rate sends in that time (10 to 256 datagrams).
    /// Zero keeps the core's fixed 10-datagram bursts, which in memory
    /// costs a turn (and an acknowledgement) per 10 datagrams.
    pub pacing_granularity: Duration,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            streams: 1,
            sessions: 1,
            datagram: 1452,
            provider: Provider::default(),
            cipher: Cipher::default(),
            clock: Clock::Real,
            queue: 256,
            controller: None,
            pacing_granularity: Duration::from_millis(1),
        }
    }
}

/// Flow-control windows of quinn's anchor (8 MiB a stream, 16 MiB a
/// session, fixed), which never limit a transfer in memory; the session
/// window grows with the stream count so that every stream can have some.
pub fn big_limits(streams: u32) -> StreamLimits {
    let per_stream: u64 = 8 << 20;
    let session = (u64::from(streams) * (1 << 20)).max(16 << 20);
    let mut limits = StreamLimits::default();
    limits.stream_window = per_stream;
    limits.max_stream_window = per_stream;
    limits.session_window = session;
    limits.max_session_window = session;
    limits.max_send_queue = 1 << 40;
    // Thousands of streams of large messages: no session budget.
    limits.max_session_buffer = u64::MAX;
    limits
}

pub fn config(node: &str, opts: &Opts) -> Config {
    let seed = format!("{node:-<32}");
    let mut recovery = stt::RecoveryConfig::default();
    if let Some(cc) = opts.controller {
        recovery.controller = cc;
    }
    recovery.pacing_granularity = opts.pacing_granularity;
    Config::builder(seed.as_bytes(), NET)
        .recovery(recovery)
        .max_datagram_size(opts.datagram)
        .provider(opts.provider)
        .cipher(opts.cipher)
        .streams(big_limits(opts.streams))
        .max_half_open(opts.sessions.max(256) as usize)
        .idle_timeout(Duration::from_secs(600))
        .build()
        .expect("valid configuration")
}

/// A pool of datagram buffers, grown on demand and reused: past warm-up the
/// harness allocates nothing per datagram.
struct Wire {
    queue: VecDeque<(Box<[u8]>, usize)>,
    free: Vec<Box<[u8]>>,
    size: usize,
}

impl Wire {
    fn new(size: usize) -> Self {
        Wire {
            queue: VecDeque::new(),
            free: Vec::new(),
            size,
        }
    }

    fn take(&mut self) -> Box<[u8]> {
        self.free
            .pop()
            .unwrap_or_else(|| vec![0u8; self.size].into_boxed_slice())
    }
}

/// Counters of a transfer.
#[derive(Debug, Default, Clone, Copy)]
pub struct Moved {
    /// Datagrams a -> b.
    pub datagrams_ab: u64,
    /// Datagrams b -> a.
    pub datagrams_ba: u64,
    /// Application bytes b read.
    pub bytes: u64,
    /// Wall time of the transfer.
    pub elapsed: Duration,
    /// CPU time this thread spent on it (wall time where the kernel does
    /// not say): on a shared machine, time spent descheduled is not ours.
    pub cpu: Duration,
    /// Turns of the loop, and those in which nothing moved.
    pub turns: u64,
    pub idle_turns: u64,
}

/// Two endpoints, `sessions` sessions from a to b, `streams` streams each.
pub struct Pair {
    pub a: Endpoint,
    pub b: Endpoint,
    a_addr: SocketAddr,
    b_addr: SocketAddr,
    clock: Clock,
    start: StdInstant,
    sim_nanos: u64,
    ab: Wire,
    ba: Wire,
    /// a's session ids, by index.
    pub sessions_a: Vec<SessionId>,
    /// b's session id -> index.
    index_b: HashMap<SessionId, usize>,
    streams: u32,
    /// Per (session, stream): bytes queued by a, bytes read by b.
    queued: Vec<u64>,
    read: Vec<u64>,
    queued_total: u64,
    read_total: u64,
    payload: Bytes,
    /// b reads messages as each datagram arrives (during transfers).
    reading: bool,
    /// Datagrams a side may queue per turn (0: unbounded).
    queue_cap: usize,
    pub moved: Moved,
}

impl Pair {
    pub fn new(opts: &Opts) -> Pair {
        Pair::with_configs(opts, config("a", opts), config("b", opts), [1; 32], [2; 32])
    }

    pub fn with_configs(opts: &Opts, ca: Config, cb: Config, sa: [u8; 32], sb: [u8; 32]) -> Pair {
        Pair {
            a: traced(Endpoint::new(ca, sa)),
            b: traced(Endpoint::new(cb, sb)),
            a_addr: "10.0.0.1:1000".parse().unwrap(),
            b_addr: "10.0.0.2:2000".parse().unwrap(),
            clock: opts.clock,
            start: StdInstant::now(),
            sim_nanos: 1_000_000_000,
            ab: Wire::new(opts.datagram.max(2048)),
            ba: Wire::new(opts.datagram.max(2048)),
            sessions_a: Vec::new(),
            index_b: HashMap::new(),
            streams: opts.streams,
            queued: Vec::new(),
            read: Vec::new(),
            queued_total: 0,
            read_total: 0,
            payload: Bytes::from_static(&PAYLOAD),
            reading: false,
            queue_cap: opts.queue,
            moved: Moved::default(),
        }
    }

    pub fn now(&self) -> Instant {
        match self.clock {
            Clock::Real => {
                Instant::from_micros(1_000_000 + self.start.elapsed().as_micros() as u64)
            }
            Clock::Sim { .. } => Instant::from_micros(self.sim_nanos / 1000),
        }
    }

    fn on_wire(&mut self, len: usize) {
        if let Clock::Sim { link_gbps } = self.clock {
            // bits / Gbit/s = ns
            self.sim_nanos += (len as u64 * 8).div_ceil(link_gbps.max(1));
        }
    }

    /// Nothing moved: let time reach the next deadline.
    fn idle(&mut self) {
        if let Clock::Sim { .. } = self.clock {
            let next = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            if let Some(t) = next {
                self.sim_nanos = self.sim_nanos.max(t.as_micros() * 1000);
            } else {
                self.sim_nanos += 1000;
            }
        }
    }

    /// Opens `n` sessions a -> b and waits until both sides are up.
    pub fn connect(&mut self, n: u32) {
        let now = self.now();
        for _ in 0..n {
            let id = self.a.connect(now, self.b_addr).expect("connect");
            self.sessions_a.push(id);
        }
        let mut accepted = Vec::new();
        let mut connected = 0;
        let limit = StdInstant::now() + Duration::from_secs(120);
        while connected < n || (accepted.len() as u32) < n {
            let moved = self.step_raw();
            while let Some(e) = self.a.poll_event() {
                if let Event::Connected { .. } = e {
                    connected += 1;
                }
            }
            while let Some(e) = self.b.poll_event() {
                if let Event::Accepted { session, .. } = e {
                    accepted.push(session);
                }
            }
            if moved == 0 {
                self.idle();
            }
            assert!(StdInstant::now() < limit, "handshakes did not complete");
        }
        // Sessions are accepted in the order the Initials went out.
        let base = self.index_b.len();
        for (i, id) in accepted.into_iter().enumerate() {
            self.index_b.insert(id, base + i);
        }
        let slots = self.sessions_a.len() * self.streams as usize;
        self.queued.resize(slots, 0);
        self.read.resize(slots, 0);
        for &sa in &self.sessions_a {
            let s = self.a.session_mut(sa).unwrap();
            for id in 0..self.streams {
                s.open_stream(id).unwrap();
            }
        }
    }

    /// Opens one session a -> b and moves datagrams until nothing is left
    /// to move: the handshake, its confirmation and the ticket the
    /// responder gives are all through. Events are drained unread.
    pub fn connect_until_quiet(&mut self) {
        let now = self.now();
        self.a.connect(now, self.b_addr).expect("connect");
        loop {
            let moved = self.step_raw();
            while self.a.poll_event().is_some() {}
            while self.b.poll_event().is_some() {}
            if moved == 0 {
                break;
            }
        }
    }

    /// Sessions b accepted with a ticket so far.
    pub fn resumed(&self) -> u64 {
        self.b.stats().sessions_resumed
    }

    /// Puts `n` datagram buffers in each direction's pool, so that a
    /// measurement of the endpoints' memory does not see the pool grow.
    pub fn reserve(&mut self, n: usize) {
        for w in [&mut self.ab, &mut self.ba] {
            while w.free.len() < n {
                let b = vec![0u8; w.size].into_boxed_slice();
                w.free.push(b);
            }
        }
    }

    /// Lets `span` of simulated time pass (a `Sim` clock only) with both
    /// sides exchanging what they owe (delayed acknowledgements, the
    /// handshake's confirmation), events drained: afterwards the sessions
    /// are idle.
    pub fn settle(&mut self, span: Duration) {
        let end = self.now() + span;
        while self.now() < end {
            let moved = self.step_raw();
            while self.a.poll_event().is_some() {}
            while self.b.poll_event().is_some() {}
            if moved == 0 {
                let before = self.now();
                self.idle();
                if self.now() == before {
                    break;
                }
            }
        }
    }

    /// Moves every datagram each side wants to send now, runs due timers.
    /// Returns the number of datagrams moved. Reads nothing.
    fn step_raw(&mut self) -> u64 {
        let now = self.now();
        let mut moved = 0;
        let cap = self.queue_cap;
        for a_to_b in [true, false] {
            let (from, wire) = if a_to_b {
                (&mut self.a, &mut self.ab)
            } else {
                (&mut self.b, &mut self.ba)
            };
            while cap == 0 || wire.queue.len() < cap {
                let mut buf = wire.take();
                match from.poll_transmit(now, &mut buf) {
                    Some(t) => wire.queue.push_back((buf, t.len)),
                    None => {
                        wire.free.push(buf);
                        break;
                    }
                }
            }
            let n = wire.queue.len() as u64;
            moved += n;
            if a_to_b {
                self.moved.datagrams_ab += n;
            } else {
                self.moved.datagrams_ba += n;
            }
            let mut bytes = 0;
            while let Some((mut buf, len)) = if a_to_b {
                self.ab.queue.pop_front()
            } else {
                self.ba.queue.pop_front()
            } {
                let (to, from_addr) = if a_to_b {
                    (&mut self.b, self.a_addr)
                } else {
                    (&mut self.a, self.b_addr)
                };
                to.handle_datagram(now, from_addr, &mut buf[..len]);
                if a_to_b {
                    self.ab.free.push(buf);
                    if self.reading {
                        // A reader that keeps up: it reads what each datagram
                        // completed before the next one arrives.
                        self.read_b();
                    }
                } else {
                    self.ba.free.push(buf);
                }
                bytes += len;
            }
            self.on_wire(bytes);
        }
        let now = self.now();
        for ep in [&mut self.a, &mut self.b] {
            if ep.poll_timeout().is_some_and(|t| t <= now) {
                ep.handle_timeout(now);
            }
        }
        moved
    }

    /// Reads every message that arrived at b.
    fn read_b(&mut self) {
        while let Some(e) = self.b.poll_event() {
            let Event::Stream {
                session,
                event: StreamEvent::Readable(id),
            } = e
            else {
                continue;
            };
            let Some(&i) = self.index_b.get(&session) else {
                continue;
            };
            let s = self.b.session_mut(session).unwrap();
            let slot = i * self.streams as usize + id as usize;
            while let Ok(Some(m)) = s.recv(id) {
                self.read[slot] += m.len() as u64;
                self.read_total += m.len() as u64;
            }
        }
        while self.a.poll_event().is_some() {}
    }

    /// Keeps every stream of every session busy: when what a has queued
    /// and b has not read falls below half the target, each stream gets
    /// `quantum`-byte `send_all` calls in turn until it holds its share.
    /// Working only at half the target keeps the harness's own cost per
    /// packet flat with the number of streams.
    fn top_up(&mut self, end: u64, quantum: u64) {
        let slots = self.queued.len() as u64;
        let per_stream = (32u64 << 20).div_ceil(slots).max(2 * quantum);
        let outstanding = self.queued_total - self.read_total;
        if outstanding > per_stream * slots / 2 || self.queued_total >= end {
            return;
        }
        let streams = self.streams as usize;
        let mut progress = true;
        while progress && self.queued_total < end {
            progress = false;
            for (si, &sa) in self.sessions_a.iter().enumerate() {
                let s = self.a.session_mut(sa).unwrap();
                for id in 0..self.streams {
                    let slot = si * streams + id as usize;
                    let held = self.queued[slot] - self.read[slot];
                    if held >= per_stream || self.queued_total >= end {
                        continue;
                    }
                    let n = quantum.min(end - self.queued_total);
                    s.send_all(id, self.payload.slice(..n as usize)).unwrap();
                    self.queued[slot] += n;
                    self.queued_total += n;
                    progress = true;
                }
            }
        }
    }

    /// Moves `bytes` more application bytes a -> b over every stream of
    /// every session, reading at b as messages arrive.
    pub fn transfer(&mut self, bytes: u64) -> Moved {
        let before = self.moved;
        let t0 = StdInstant::now();
        let c0 = cpu_time();
        let end = self.queued_total + bytes;
        let goal = self.read_total + bytes;
        // Messages of one segment, smaller only if the transfer is too short
        // to give every stream one.
        let quantum = (bytes / self.queued.len() as u64).clamp(1, SEGMENT as u64);
        self.reading = true;
        while self.read_total < goal {
            self.top_up(end, quantum);
            let moved = self.step_raw();
            self.read_b();
            self.moved.turns += 1;
            if moved == 0 {
                self.moved.idle_turns += 1;
                self.idle();
            }
        }
        self.reading = false;
        self.moved.bytes += bytes;
        self.moved.elapsed += t0.elapsed();
        let cpu = cpu_time().map_or(t0.elapsed(), |c| c - c0.unwrap_or_default());
        self.moved.cpu += cpu;
        Moved {
            datagrams_ab: self.moved.datagrams_ab - before.datagrams_ab,
            datagrams_ba: self.moved.datagrams_ba - before.datagrams_ba,
            bytes,
            elapsed: t0.elapsed(),
            cpu,
            turns: self.moved.turns - before.turns,
            idle_turns: self.moved.idle_turns - before.idle_turns,
        }
    }
}

/// One handshake between fresh endpoints built from `ca` and `cb`: the
/// time of both ends' work on one thread.
pub fn handshake(opts: &Opts, ca: &Config, cb: &Config, seed: u64) {
    let mut sa = [1u8; 32];
    let mut sb = [2u8; 32];
    sa[..8].copy_from_slice(&seed.to_le_bytes());
    sb[..8].copy_from_slice(&seed.to_le_bytes());
    let mut p = Pair::with_configs(opts, ca.clone(), cb.clone(), sa, sb);
    p.connect(1);
}

/// CPU time of the calling thread so far, from `/proc/thread-self/schedstat`
/// (nanoseconds on the CPU); `None` where that file does not exist.
pub fn cpu_time() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// With the feature `trace` and `STT_PAIR_TRACE=discard`, `ep` traces into
/// a sink that drops every event: what tracing costs the core without any
/// output. Unset, the feature is compiled in but off at run time.
#[cfg(feature = "trace")]
fn traced(mut ep: Endpoint) -> Endpoint {
    if std::env::var("STT_PAIR_TRACE").is_ok_and(|v| v == "discard") {
        ep.set_trace_sink(Some(Box::new(stt::trace::DiscardSink)));
    }
    ep
}

#[cfg(not(feature = "trace"))]
fn traced(ep: Endpoint) -> Endpoint {
    ep
}
