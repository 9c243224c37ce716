//! Many idle sessions on one endpoint: what each costs in memory and what
//! keeping it alive costs in CPU, as the count grows.
//!
//!     cargo run --release --example scale -- [--sessions N]... [--seconds S]
//!
//! For each count (default 1,000, 10,000 and 100,000), endpoint `a` opens
//! that many sessions to endpoint `b` through real handshakes, in batches
//! below the half-open bound, over an in-memory link (1 ms one way, no loss)
//! with a simulated clock. Each count lives in a process of its own (the
//! harness runs itself with a hidden `--serve N`), so each has its own
//! heap as a deployment of that size would; all are opened first and held
//! at once. Then they sit idle with the default configuration's
//! keep-alives (10 s) and idle timeout (30 s), taking turns in rounds: a
//! round is one keep-alive interval of the largest count and as many
//! keep-alives of each smaller one (100 intervals of the 1,000 sessions
//! beside one of the 100,000), and there are `--seconds` / 10 rounds
//! (default 60 s: 6). Every row is so measured over the same number of
//! keep-alives, spread over the same stretch of the run, and a change in
//! the machine's speed (another tenant, the clock frequency) falls on all
//! rows alike. Printed per count:
//! - `bytes_a` / `bytes_b`: live heap per session on each side, counted by
//!   a global allocator as each endpoint is dropped;
//! - `keepalives`: keep-alive packets sent in the idle phase (each one
//!   answered by an acknowledgement);
//! - `cpu_ns_per_keepalive`: this thread's CPU time over the idle phase,
//!   every call into both endpoints and the harness, per keep-alive;
//! - `timer_ns_per_keepalive`: the part of it spent in `handle_timeout`
//!   and `poll_timeout` (where the timer index is read and updated);
//! - `best_round_cpu_ns`: the CPU per keep-alive of the least costly round;
//! - `allocs_per_keepalive`: heap allocations per keep-alive, both sides;
//! - `timer_index_alone_ns`: the timer index by itself, holding as many
//!   deadlines spread over one interval: taking the earliest due session
//!   out and indexing its next deadline, per keep-alive;
//! - `lost`: sessions gone by the end (must be 0).
//!
//! and, for each larger count, its CPU per keep-alive over the smallest
//! count's: over the whole phase, and the median, least and greatest of
//! the rounds' ratios.
//!
//! Times are this thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), so other
//! load on the machine counts only through the caches and the clock
//! frequency it shares. For instruction counts, run one count under
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
    /// Internal: hold this many sessions and idle them round by round as
    /// the parent process asks on standard input.
    #[arg(long, hide = true)]
    serve: Option<u32>,
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

/// One count's sessions, opened and settled, and what its idle phase cost.
struct Row {
    n: u32,
    net: Net,
    handshake_s: f64,
    /// Over the whole idle phase: CPU, of it in the timer calls, datagrams
    /// moved and allocations made.
    cpu: Duration,
    timer: Duration,
    moved: u64,
    allocs: u64,
    /// The least CPU per keep-alive of a round.
    best: f64,
}

impl Row {
    /// Opens `n` sessions and lets what the handshakes owed (confirmations,
    /// acknowledgements) go out.
    fn open(n: u32) -> Self {
        let mut net = Net::new(n);
        let t0 = StdInstant::now();
        net.open(n);
        let handshake_s = t0.elapsed().as_secs_f64();
        net.idle(Duration::from_secs(1));
        Row {
            n,
            net,
            handshake_s,
            cpu: Duration::ZERO,
            timer: Duration::ZERO,
            moved: 0,
            allocs: 0,
            best: f64::MAX,
        }
    }

    /// `slices` keep-alive intervals of idling, measured.
    fn idle_slices(&mut self, slices: u64) {
        let (m, t, a, c) = (
            self.net.moved,
            self.net.timer_time,
            counting::allocations(),
            cpu_time(),
        );
        for _ in 0..slices {
            self.net.idle_phase(Duration::from_secs(SLICE_S));
        }
        let cpu = cpu_time() - c;
        let moved = self.net.moved - m;
        self.cpu += cpu;
        self.timer += self.net.timer_time - t;
        self.moved += moved;
        self.allocs += counting::allocations() - a;
        self.best = self
            .best
            .min(per_keepalive(cpu.as_nanos() as f64, moved / 2));
        println!("round cpu_ns={} keepalives={}", cpu.as_nanos(), moved / 2);
    }

    /// Counts what is left on both sides, frees them (measuring each
    /// side's heap as it goes) and prints the row.
    fn finish(self) {
        let n = self.n;
        let mut net = self.net;
        let alive = (net.a.sessions().count(), net.b.sessions().count());
        let lost = (n as usize - alive.0.min(alive.1)) as u64 + net.closed;
        // Memory: each endpoint's share of the heap, as dropping it frees.
        // The link is empty and its spare buffers go first.
        net.free = Vec::new();
        net.wire = VecDeque::new();
        let Net { a, b, .. } = net;
        let m0 = counting::live();
        drop(a);
        let m1 = counting::live();
        drop(b);
        let m2 = counting::live();
        let per = |bytes: isize| bytes as f64 / f64::from(n);
        // A keep-alive and its acknowledgement: two datagrams (nothing
        // else moves on an idle session).
        let keepalives = self.moved / 2;
        let per_ka = |d: Duration| per_keepalive(d.as_nanos() as f64, keepalives);
        let best = self.best;
        println!(
            "sessions={n} bytes_a={:.0} bytes_b={:.0} datagrams={} keepalives={keepalives} \
             cpu_ns_per_keepalive={:.0} timer_ns_per_keepalive={:.0} \
             best_round_cpu_ns={best:.0} allocs_per_keepalive={:.1} lost={lost} \
             timer_index_alone_ns={:.0} handshake_wall_s={:.1}",
            per(m0 - m1),
            per(m1 - m2),
            self.moved,
            per_ka(self.cpu),
            per_ka(self.timer),
            self.allocs as f64 / keepalives.max(1) as f64,
            timer_index(n, 20),
            self.handshake_s,
        );
    }
}

/// `cpu_ns` nanoseconds over `keepalives` keep-alives.
fn per_keepalive(cpu_ns: f64, keepalives: u64) -> f64 {
    cpu_ns / keepalives.max(1) as f64
}

/// The median of `v` (not empty).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Holds `n` sessions for the parent: `ready` once they are open, then
/// for each `round S` line on standard input, S keep-alive intervals of
/// idling and a `round` line with what they cost; on `finish`, the row.
fn serve(n: u32) {
    let mut row = Row::open(n);
    println!("ready");
    for line in std::io::stdin().lines() {
        let line = line.expect("stdin");
        match line.split_once(' ') {
            Some(("round", slices)) => row.idle_slices(slices.parse().expect("slices")),
            _ => break,
        }
    }
    row.finish();
}

/// One count's process, as the parent sees it.
struct Child {
    n: u32,
    proc: std::process::Child,
    out: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
    /// CPU per keep-alive of each round.
    rounds: Vec<f64>,
    /// CPU nanoseconds and keep-alives over all rounds.
    cpu_ns: f64,
    keepalives: u64,
}

impl Child {
    fn spawn(n: u32) -> Self {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let exe = std::env::current_exe().expect("own path");
        let mut proc = Command::new(exe)
            .args(["--serve", &n.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn");
        let out = std::io::BufReader::new(proc.stdout.take().expect("stdout")).lines();
        Child {
            n,
            proc,
            out,
            rounds: Vec::new(),
            cpu_ns: 0.0,
            keepalives: 0,
        }
    }

    fn line(&mut self) -> String {
        self.out.next().expect("child ended").expect("child output")
    }

    fn send(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.proc.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{line}").expect("to child");
    }

    /// Runs one round of `slices` intervals and waits for it.
    fn round(&mut self, slices: u64) {
        self.send(&format!("round {slices}"));
        let line = self.line();
        let field = |k: &str| -> u64 {
            line.split(' ')
                .find_map(|f| f.strip_prefix(k))
                .and_then(|v| v.parse().ok())
                .expect("round line")
        };
        let (cpu_ns, keepalives) = (field("cpu_ns=") as f64, field("keepalives="));
        self.rounds.push(per_keepalive(cpu_ns, keepalives));
        self.cpu_ns += cpu_ns;
        self.keepalives += keepalives;
    }
}

fn run(counts: &[u32], seconds: u64) {
    // Each count lives in a process of its own (its own heap, as a
    // deployment holding that many sessions has), all held at once.
    let mut children: Vec<Child> = counts.iter().map(|&n| Child::spawn(n)).collect();
    for child in &mut children {
        assert_eq!(child.line(), "ready", "sessions={}", child.n);
    }
    // The counts take turns, a round at a time, each round giving every
    // count as many keep-alives as the largest sends in one interval, so
    // that the machine's changing speed (other tenants, frequency) falls
    // on every row alike.
    let largest = counts.iter().copied().max().unwrap_or(1);
    for _ in 0..seconds.div_ceil(SLICE_S) {
        for child in &mut children {
            child.round(u64::from(largest / child.n.max(1)).max(1));
        }
    }
    for child in &mut children {
        child.send("finish");
        println!("{}", child.line());
        child.proc.wait().expect("child exit");
    }
    // Each count's CPU per keep-alive over the smallest count's: over
    // the whole phase, and round by round.
    let Some(small) = children.iter().min_by_key(|c| c.n) else {
        return;
    };
    for child in children.iter().filter(|c| c.n != small.n) {
        let ratios: Vec<f64> = child
            .rounds
            .iter()
            .zip(&small.rounds)
            .map(|(r, s)| r / s)
            .collect();
        let lo = ratios.iter().copied().fold(f64::MAX, f64::min);
        let hi = ratios.iter().copied().fold(0.0, f64::max);
        println!(
            "sessions={} over sessions={}: whole={:.2} rounds median={:.2} min={lo:.2} max={hi:.2}",
            child.n,
            small.n,
            per_keepalive(child.cpu_ns, child.keepalives)
                / per_keepalive(small.cpu_ns, small.keepalives),
            median(ratios),
        );
    }
}

fn main() {
    let cli = Cli::parse();
    if let Some(n) = cli.serve {
        serve(n);
        return;
    }
    println!(
        "idle seconds={} keep_alive=10s latency={}ms",
        cli.seconds,
        LATENCY.as_millis()
    );
    run(&cli.sessions, cli.seconds);
}
