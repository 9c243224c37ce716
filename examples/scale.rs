//! Many idle sessions on one endpoint: what each costs in memory and what
//! keeping it alive costs in CPU, as the count grows.
//!
//!     cargo run --release --example scale -- [--sessions N]... [--seconds S]
//!
//! For each count (default 1,000, 10,000 and 100,000), endpoint `a` opens
//! that many sessions to endpoint `b` through real handshakes, in batches
//! below the half-open bound, over an in-memory link (1 ms one way, no loss)
//! with a simulated clock. The sessions then sit idle for `--seconds` of
//! simulated time (default 60) with the default configuration's
//! keep-alives (10 s) and idle timeout (30 s). Printed per count:
//! - `bytes_a` / `bytes_b`: live heap per session on each side, counted by
//!   a global allocator (`b` after `a` is dropped; `a` the rest);
//! - `keepalives`: keep-alive packets sent in the idle phase (each one
//!   answered by an acknowledgement);
//! - `cpu_ns_per_keepalive`: this thread's CPU time over the idle phase,
//!   every call into both endpoints and the harness, per keep-alive;
//! - `timer_ns_per_keepalive`: the part of it spent in `handle_timeout`
//!   and `poll_timeout` (where the timer index is read and updated);
//! - `best_slice_cpu_ns` / `best_slice_timer_ns`: the same over the least
//!   costly 10 s slice of the phase (each slice holds one keep-alive per
//!   session), which other load on the machine inflates least;
//! - `timer_index_alone_ns`: the timer index by itself, holding as many
//!   deadlines spread over one interval: taking the earliest due session
//!   out and indexing its next deadline, per keep-alive;
//! - `lost`: sessions gone by the end (must be 0).
//!
//! Times are this thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), so other
//! load on the machine does not count; compare the rows of one run. For
//! instruction counts, run one count under
//! `valgrind --tool=callgrind --toggle-collect='*Net::idle_phase*'`: only
//! the idle phase is counted.

#[path = "../tests/counting/mod.rs"]
mod counting;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant as StdInstant};

use clap::Parser;
use stt::{Config, Endpoint, Event, Instant};

#[global_allocator]
static A: counting::Counting = counting::Counting;

const NET: &[u8] = b"shared_secret_32bytes_minimum!";

/// One-way latency of the in-memory link.
const LATENCY: Duration = Duration::from_millis(1);

/// Simulated seconds of one measured slice: the keep-alive interval.
const SLICE_S: u64 = 10;

/// Sessions opened at once: below the default half-open bound (256).
const BATCH: usize = 200;

/// Idle sessions on one endpoint: memory and keep-alive CPU by count.
#[derive(Debug, Parser)]
#[command(name = "scale")]
struct Cli {
    /// Session counts to measure, one run each.
    #[arg(long, num_args = 1.., default_values_t = [1_000u32, 10_000, 100_000])]
    sessions: Vec<u32>,
    /// Simulated seconds of idling after the handshakes.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
}

fn config(node: &str, sessions: u32) -> Config {
    let seed = format!("{node:-<32}");
    Config::builder(seed.as_bytes(), NET)
        .max_sessions(sessions as usize + 16)
        .build()
        .expect("config")
}

/// This thread's CPU time.
fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to write.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Two endpoints, a link with a fixed latency and a simulated clock.
struct Net {
    a: Endpoint,
    b: Endpoint,
    a_addr: SocketAddr,
    b_addr: SocketAddr,
    now: Instant,
    /// (arrival, to b, datagram).
    wire: VecDeque<(Instant, bool, Vec<u8>)>,
    /// Spent datagram buffers, reused.
    free: Vec<Vec<u8>>,
    buf: Vec<u8>,
    /// Time in `handle_timeout` and `poll_timeout`.
    timer_time: Duration,
    /// Datagrams moved.
    moved: u64,
    /// Sessions that ended or failed.
    closed: u64,
}

impl Net {
    fn new(n: u32) -> Self {
        Net {
            a: Endpoint::new(config("a", n), [1; 32]),
            b: Endpoint::new(config("b", n), [2; 32]),
            a_addr: "10.0.0.1:1000".parse().unwrap(),
            b_addr: "10.0.0.2:2000".parse().unwrap(),
            now: Instant::from_millis(1_000),
            wire: VecDeque::new(),
            free: Vec::new(),
            buf: vec![0; 2048],
            timer_time: Duration::ZERO,
            moved: 0,
            closed: 0,
        }
    }

    /// Sends what both sides owe, delivers what is due, runs due timers,
    /// sends what that made owed and moves the clock to the next thing
    /// that happens (not past `end`).
    /// Returns the events counted by `count` (on both sides), and `None`
    /// once nothing is left to happen before `end`.
    fn step(&mut self, end: Instant, count: fn(&Event) -> bool) -> Option<u64> {
        self.send();
        while self.wire.front().is_some_and(|(t, _, _)| *t <= self.now) {
            let (_, to_b, mut d) = self.wire.pop_front().unwrap();
            if to_b {
                self.b.handle_datagram(self.now, self.a_addr, &mut d);
            } else {
                self.a.handle_datagram(self.now, self.b_addr, &mut d);
            }
            self.free.push(d);
            self.moved += 1;
        }
        let t0 = cpu_time();
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
        self.timer_time += cpu_time() - t0;
        // What the datagrams and timers made owed goes at once, as an
        // event loop sends after each wake-up.
        self.send();
        let t0 = cpu_time();
        let next = [self.a.poll_timeout(), self.b.poll_timeout()];
        self.timer_time += cpu_time() - t0;
        let mut hits = 0;
        for ep in [&mut self.a, &mut self.b] {
            while let Some(e) = ep.poll_event() {
                hits += u64::from(count(&e));
                if matches!(e, Event::Closed { .. } | Event::ConnectFailed { .. }) {
                    self.closed += 1;
                }
            }
        }
        let next = next
            .into_iter()
            .chain([self.wire.front().map(|(t, _, _)| *t)])
            .flatten()
            .min();
        match next {
            Some(t) if t < end => {
                self.now = self.now.max(t);
                Some(hits)
            }
            _ => {
                self.now = end;
                None
            }
        }
    }

    /// Puts on the wire what both sides owe now.
    fn send(&mut self) {
        for to_b in [true, false] {
            let ep = if to_b { &mut self.a } else { &mut self.b };
            while let Some(t) = ep.poll_transmit(self.now, &mut self.buf) {
                let mut d = self.free.pop().unwrap_or_default();
                d.clear();
                d.extend_from_slice(&self.buf[..t.len]);
                self.wire.push_back((self.now + LATENCY, to_b, d));
            }
        }
    }

    /// Opens `n` sessions from a to b, `BATCH` at a time.
    fn open(&mut self, n: u32) {
        let mut done = 0usize;
        while done < n as usize {
            let batch = BATCH.min(n as usize - done);
            for _ in 0..batch {
                self.a.connect(self.now, self.b_addr).expect("connect");
            }
            let mut up = 0;
            let deadline = self.now + Duration::from_secs(30);
            while up < 2 * batch as u64 {
                let hits = self.step(deadline, |e| {
                    matches!(e, Event::Connected { .. } | Event::Accepted { .. })
                });
                up += hits.expect("handshakes stalled");
            }
            done += batch;
        }
    }

    /// Lets `span` of simulated time pass.
    fn idle(&mut self, span: Duration) {
        let end = self.now + span;
        while self.step(end, |_| false).is_some() {}
    }

    /// [`idle`](Self::idle), under a name callgrind can toggle on.
    #[inline(never)]
    fn idle_phase(&mut self, span: Duration) {
        self.idle(span);
    }
}

/// The timer index alone, holding `n` sessions' deadlines spread over one
/// keep-alive interval: nanoseconds per keep-alive's worth of index work
/// (take the earliest due session out, index its next deadline one
/// interval later), over `rounds` intervals.
fn timer_index(n: u32, rounds: u32) -> f64 {
    use stt::__private::timers::Timers;
    use stt::SessionId;
    let interval_us = SLICE_S * 1_000_000;
    let spread = |i: u32| u64::from(i).wrapping_mul(2_654_435_761) % interval_us;
    let mut t = Timers::default();
    for i in 0..n {
        t.set(
            SessionId(u64::from(i)),
            None,
            Some(Instant::from_micros(spread(i))),
        );
    }
    let t0 = cpu_time();
    let mut ops = 0u64;
    for round in 1..=u64::from(rounds) {
        let now = Instant::from_micros(round * interval_us);
        while let Some(id) = t.pop_due(now) {
            let next = Instant::from_micros(spread(id.0 as u32) + (round + 1) * interval_us);
            t.set(id, None, Some(next));
            ops += 1;
        }
    }
    (cpu_time() - t0).as_nanos() as f64 / ops.max(1) as f64
}

fn run(n: u32, seconds: u64) {
    let m0 = counting::live();
    let mut net = Net::new(n);
    let t0 = StdInstant::now();
    net.open(n);
    let handshake_s = t0.elapsed().as_secs_f64();
    // What the handshakes owed (confirmations, acknowledgements) goes out.
    net.idle(Duration::from_secs(1));
    // The idle phase in slices of one keep-alive interval (every session
    // sends one keep-alive a slice): the whole phase's CPU per keep-alive,
    // and the least of the slices', which other load on the machine
    // inflates least.
    let (moved0, timer0) = (net.moved, net.timer_time);
    let c0 = cpu_time();
    let mut best = (f64::MAX, f64::MAX);
    for _ in 0..seconds.div_ceil(SLICE_S) {
        let (m, t, c) = (net.moved, net.timer_time, cpu_time());
        net.idle_phase(Duration::from_secs(SLICE_S));
        let ka = ((net.moved - m) / 2).max(1) as f64;
        let cpu = (cpu_time() - c).as_nanos() as f64 / ka;
        let timer = (net.timer_time - t).as_nanos() as f64 / ka;
        best = (best.0.min(cpu), best.1.min(timer));
    }
    let cpu = cpu_time() - c0;
    let moved = net.moved - moved0;
    let timer = net.timer_time - timer0;
    // A keep-alive and its acknowledgement: two datagrams (nothing else
    // moves on an idle session).
    let keepalives = moved / 2;
    let alive = (net.a.sessions().count(), net.b.sessions().count());
    let lost = (n as usize - alive.0.min(alive.1)) as u64 + net.closed;
    // Memory: both endpoints, then b alone once a is gone. The link is
    // empty and its spare buffers go first.
    net.free = Vec::new();
    net.wire = VecDeque::new();
    let both = counting::live() - m0;
    let Net { a, b, .. } = net;
    drop(a);
    let b_only = counting::live() - m0;
    drop(b);
    let per = |bytes: isize| bytes as f64 / f64::from(n);
    let per_ka = |d: Duration| d.as_nanos() as f64 / keepalives.max(1) as f64;
    println!(
        "sessions={n} bytes_a={:.0} bytes_b={:.0} datagrams={moved} keepalives={keepalives} \
         cpu_ns_per_keepalive={:.0} timer_ns_per_keepalive={:.0} \
         best_slice_cpu_ns={:.0} best_slice_timer_ns={:.0} lost={lost} \
         timer_index_alone_ns={:.0} handshake_wall_s={handshake_s:.1}",
        per(both - b_only),
        per(b_only),
        per_ka(cpu),
        per_ka(timer),
        best.0,
        best.1,
        timer_index(n, 20),
    );
}

fn main() {
    let cli = Cli::parse();
    println!(
        "idle seconds={} keep_alive=10s latency={}ms",
        cli.seconds,
        LATENCY.as_millis()
    );
    for &n in &cli.sessions {
        run(n, cli.seconds);
    }
}
