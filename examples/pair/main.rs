//! Throughput and memory of the core in memory: two endpoints on one thread,
//! datagrams moved through in-memory queues (no loss, encryption on).
//!
//!     cargo run --release --example pair -- [--bytes N] [--streams N]
//!         [--sessions N] [--datagram N] [--provider ring|rustcrypto]
//!         [--cipher chacha20poly1305|aes256gcm]
//!         [--clock real|sim] [--idle-streams N] [--handshakes N] [--queue N] [--no-aead]
//!
//! (`--help` lists them with what each does.)
//!
//! Prints `goodput_mib_s` (application bytes read by the receiver per
//! second of wall time, handshakes excluded) and, measured in the same
//! process with the same provider and packet size, `aead_limit_mib_s`: the
//! rate at which the same payload could move if sealing and opening every
//! packet were the only work. Their ratio is what the protocol costs on top
//! of its cryptography. With `--idle-streams N` it prints what an idle stream
//! and an idle session cost in memory instead, counted by a global
//! allocator; with `--handshakes N`, handshakes completed per second with
//! both ends on this one thread (fresh endpoints each time, then one
//! long-lived pair), and `dh_limit_per_s`, the rate if the handshake's
//! X25519 multiplications were its only work.
//!
//! Times are this thread's CPU time (from `/proc/thread-self/schedstat`,
//! wall time where that is missing), so that other load on a shared machine
//! does not count; `wall_goodput_mib_s` is printed too. Compare only
//! figures from one run on one machine: the ratios mean something, bare
//! rates on a shared machine do not.

#[path = "../../tests/counting/mod.rs"]
mod counting;
#[path = "driver.rs"]
mod driver;

use std::time::{Duration, Instant as StdInstant};

use clap::{Parser, ValueEnum};
use driver::{Clock, Opts, Pair};
use stt::__private::crypto::{Cipher, PacketKey, Provider, TAG_LEN};
use stt::__private::wire::SHORT_HEADER_LEN;

#[global_allocator]
static A: counting::Counting = counting::Counting;

struct Args {
    bytes: u64,
    opts: Opts,
    idle_streams: Option<u32>,
    handshakes: Option<u32>,
    quinn: Option<std::path::PathBuf>,
    only: Option<String>,
    no_aead: bool,
}

/// The in-memory pair benchmark: goodput against the cipher's limit, idle
/// memory, handshake rate.
#[derive(Debug, Parser)]
#[command(name = "pair")]
struct Cli {
    /// Application bytes to move (after a warm-up of 1/16 of them).
    #[arg(long, default_value_t = 256 << 20)]
    bytes: u64,
    /// Streams per session.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    streams: u32,
    /// Sessions between the two endpoints.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    sessions: u32,
    /// Datagram size in bytes.
    #[arg(long, default_value_t = Opts::default().datagram)]
    datagram: usize,
    /// AEAD provider: ring or rustcrypto (as compiled in).
    #[arg(long, value_parser = parse_provider)]
    provider: Option<Provider>,
    /// Packet protection: chacha20poly1305 or aes256gcm.
    #[arg(long, value_parser = parse_cipher)]
    cipher: Option<Cipher>,
    /// Wall clock, or simulated time (deterministic: for callgrind).
    #[arg(long, value_enum, default_value_t = ClockArg::Real)]
    clock: ClockArg,
    /// Measure what N idle streams (and 100 idle sessions) cost in memory.
    #[arg(long, value_name = "N")]
    idle_streams: Option<u32>,
    /// Measure handshakes per second over N handshakes: full ones and
    /// resumed ones (session tickets), and the quinn anchor's if `--quinn`.
    #[arg(long, value_name = "N")]
    handshakes: Option<u32>,
    /// With `--handshakes`: the quinn anchor's `handshakes` binary
    /// (`/work/shared/anchors/quinn-pair`), run in the same process's
    /// measurement for the ratio (its CPU time, as ours).
    #[arg(long, value_name = "PATH")]
    quinn: Option<std::path::PathBuf>,
    /// With `--handshakes`: run only the sequential `full` or `resumed`
    /// handshakes (for an instruction count of one kind under callgrind).
    #[arg(long, value_name = "KIND")]
    only: Option<String>,
    /// Datagrams one side may queue towards the other (0: unbounded).
    #[arg(long, default_value_t = Opts::default().queue)]
    queue: usize,
    /// Skip the AEAD-only rounds (for profiling the transfer alone).
    #[arg(long)]
    no_aead: bool,
    /// Congestion controller: bbr, cubic or newreno (default: the crate's).
    #[arg(long, value_parser = parse_cc)]
    cc: Option<stt::ControllerKind>,
    /// Pacing granularity in microseconds: how late the driver's timer may
    /// fire (the adapters use 1,000); 0 paces in fixed 10-datagram bursts.
    #[arg(long, value_name = "US", default_value_t = 1000)]
    pacing_granularity_us: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ClockArg {
    Real,
    Sim,
}

fn parse_provider(v: &str) -> Result<Provider, String> {
    Provider::from_name(v).ok_or(format!("provider {v} not compiled in"))
}

fn parse_cc(v: &str) -> Result<stt::ControllerKind, String> {
    use stt::ControllerKind;
    match v {
        "bbr" => Ok(ControllerKind::Bbr),
        "cubic" => Ok(ControllerKind::Cubic),
        "newreno" => Ok(ControllerKind::NewReno),
        _ => Err(format!("bbr, cubic or newreno, not {v}")),
    }
}

fn parse_cipher(v: &str) -> Result<Cipher, String> {
    Cipher::from_name(v).ok_or(format!("chacha20poly1305 or aes256gcm, not {v}"))
}

fn parse() -> Args {
    let c = Cli::parse();
    let d = Opts::default();
    Args {
        bytes: c.bytes,
        opts: Opts {
            streams: c.streams,
            sessions: c.sessions,
            datagram: c.datagram,
            provider: c.provider.unwrap_or(d.provider),
            cipher: c.cipher.unwrap_or(d.cipher),
            clock: match c.clock {
                ClockArg::Real => Clock::Real,
                ClockArg::Sim => Clock::Sim { link_gbps: 10 },
            },
            queue: c.queue,
            controller: c.cc,
            pacing_granularity: Duration::from_micros(c.pacing_granularity_us),
        },
        idle_streams: c.idle_streams,
        handshakes: c.handshakes,
        quinn: c.quinn,
        only: c.only,
        no_aead: c.no_aead,
    }
}

fn mib_s(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / (1u64 << 20) as f64 / secs
}

/// Seal then open every packet that `bytes` of payload need, and nothing
/// else; returns the (CPU) time taken. Its rate is the payload rate if packet
/// protection were the only cost.
fn aead_time(provider: Provider, cipher: Cipher, datagram: usize, bytes: u64) -> Duration {
    let key = PacketKey::with_cipher(provider, cipher, &[7; 32]);
    // Upper bound of application bytes per packet (frame headers ignored),
    // so the limit is, if anything, generous.
    let payload = datagram - SHORT_HEADER_LEN - TAG_LEN;
    let packets = bytes.div_ceil(payload as u64);
    let mut buf = vec![0x5a_u8; datagram];
    let (t0, c0) = (StdInstant::now(), driver::cpu_time());
    for pn in 0..packets {
        let (head, body) = buf.split_at_mut(SHORT_HEADER_LEN);
        key.seal(pn, head, body).expect("seal");
        let plain = key.open(pn, head, body).expect("open");
        std::hint::black_box(plain);
    }
    driver::cpu_time().map_or(t0.elapsed(), |c| c - c0.unwrap_or_default())
}

fn throughput(args: &Args) {
    let o = &args.opts;
    let mut p = Pair::new(o);
    p.connect(o.sessions);
    // Warm up (windows, buffer pools) on 1/16 of the bytes, then measure.
    p.transfer((args.bytes / 16).max(1 << 20));
    // The machine may be shared: the transfer runs in rounds, each followed
    // by the AEAD-only work for the same bytes, so both figures see the same
    // load; each rate is total bytes over the sum of its rounds' times.
    const ROUNDS: u64 = 8;
    let round = args.bytes / ROUNDS;
    let allocs0 = counting::allocations();
    let mut m = driver::Moved::default();
    let mut aead = Duration::ZERO;
    for _ in 0..ROUNDS {
        let r = p.transfer(round);
        m.datagrams_ab += r.datagrams_ab;
        m.datagrams_ba += r.datagrams_ba;
        m.bytes += r.bytes;
        m.elapsed += r.elapsed;
        m.cpu += r.cpu;
        m.turns += r.turns;
        m.idle_turns += r.idle_turns;
        if !args.no_aead {
            aead += aead_time(o.provider, o.cipher, o.datagram, round);
        }
    }
    let allocs = counting::allocations() - allocs0;
    let goodput = mib_s(m.bytes, m.cpu.as_secs_f64());
    let limit = mib_s(m.bytes, aead.as_secs_f64());
    let packets = m.datagrams_ab + m.datagrams_ba;
    println!(
        "provider={} cipher={} datagram={} streams={} sessions={} bytes={} clock={:?} queue={}",
        o.provider.name(),
        o.cipher.name(),
        o.datagram,
        o.streams,
        o.sessions,
        m.bytes,
        o.clock,
        o.queue
    );
    println!(
        "datagrams_a_to_b={} datagrams_b_to_a={} turns={} idle_turns={} allocs_per_datagram={:.3}",
        m.datagrams_ab,
        m.datagrams_ba,
        m.turns,
        m.idle_turns,
        allocs as f64 / packets.max(1) as f64
    );
    // The path's size search runs in memory too: it settles on the ceiling
    // (`--datagram`) with its first probe, during the warm-up.
    let settled: Vec<usize> = p
        .sessions_a
        .iter()
        .filter_map(|&id| p.a.session(id).map(|s| s.datagram_size()))
        .collect();
    println!(
        "datagram_size_min={} datagram_size_max={}",
        settled.iter().min().unwrap_or(&0),
        settled.iter().max().unwrap_or(&0)
    );
    println!(
        "wall_goodput_mib_s={:.1}",
        mib_s(m.bytes, m.elapsed.as_secs_f64())
    );
    println!("goodput_mib_s={goodput:.1}");
    println!("aead_limit_mib_s={limit:.1}");
    println!("goodput_over_aead_limit={:.3}", goodput / limit);
}

fn idle(args: &Args, n: u32) {
    let o = &args.opts;
    let mut p = Pair::new(o);
    p.connect(1);
    let sa = p.sessions_a[0];
    let before = counting::live();
    let s = p.a.session_mut(sa).unwrap();
    for id in 1..=n {
        s.create_stream(id).expect("create");
    }
    let stream = (counting::live() - before) as f64 / f64::from(n);

    // Sessions: both ends of `k` idle sessions, halved (each side holds
    // one). Measured between two quiet points of the same pair (simulated
    // clock, 200 ms after the handshakes so that what they owed is sent),
    // after a first `k` sessions and with the harness's datagram pool
    // filled in advance, so only the endpoints' memory is counted.
    let k = 100;
    let settled = Opts {
        clock: Clock::Sim { link_gbps: 10 },
        ..o.clone()
    };
    let mut q = Pair::new(&settled);
    q.connect(k);
    q.settle(std::time::Duration::from_millis(200));
    q.reserve(8 * k as usize);
    let before = counting::live();
    q.connect(k);
    q.settle(std::time::Duration::from_millis(200));
    let session = (counting::live() - before) as f64 / f64::from(2 * k);
    println!("idle_streams={n} idle_sessions={k}");
    println!("idle_stream_bytes={stream:.1}");
    println!("idle_session_bytes={session:.1}");
}

/// Handshakes per second if X25519 were their only work: a Noise XX
/// handshake costs both ends together two fixed-base multiplications (the
/// ephemeral keys) and six variable-base ones (ee, es, se on each side),
/// computed here the way the core computes them (the variable-base ones on
/// the Edwards form, as `crypto::handshake` does).
fn dh_limit(n: u32) -> f64 {
    use curve25519_dalek::MontgomeryPoint;
    let mut k = [7u8; 32];
    let mut u = MontgomeryPoint::mul_base_clamped(k);
    let (t0, c0) = (StdInstant::now(), driver::cpu_time());
    for i in 0..n {
        k[..4].copy_from_slice(&i.to_le_bytes());
        for _ in 0..2 {
            u = MontgomeryPoint::mul_base_clamped(k);
        }
        for _ in 0..6 {
            u = match u.to_edwards(0) {
                Some(p) => p.mul_clamped(k).to_montgomery(),
                None => u.mul_clamped(k),
            };
        }
    }
    std::hint::black_box(u);
    let secs = driver::cpu_time()
        .map_or(t0.elapsed(), |c| c - c0.unwrap_or_default())
        .as_secs_f64();
    f64::from(n) / secs
}

fn handshakes(args: &Args, n: u32) {
    let o = &args.opts;
    if let Some(kind) = &args.only {
        let rate = sequential(o, n, kind == "resumed");
        println!("handshakes={n} {kind}_per_s={rate:.0}");
        return;
    }
    let (ca, cb) = (driver::config("a", o), driver::config("b", o));
    let (t0, c0) = (StdInstant::now(), driver::cpu_time());
    for i in 0..n {
        driver::handshake(o, &ca, &cb, u64::from(i));
    }
    let secs = driver::cpu_time()
        .map_or(t0.elapsed(), |c| c - c0.unwrap_or_default())
        .as_secs_f64();
    println!("handshakes={n} handshakes_per_s={:.0}", f64::from(n) / secs);
    println!("dh_limit_per_s={:.0}", dh_limit(n));

    // The same number again between one long-lived pair of endpoints, in
    // batches of 100 concurrent handshakes: a server's steady state, with
    // no endpoint set-up in the figure.
    let mut p = Pair::new(o);
    let (t0, c0) = (StdInstant::now(), driver::cpu_time());
    let mut done = 0;
    while done < n {
        let batch = (n - done).min(100);
        p.connect(batch);
        done += batch;
    }
    let secs = driver::cpu_time()
        .map_or(t0.elapsed(), |c| c - c0.unwrap_or_default())
        .as_secs_f64();
    println!(
        "handshakes={n} handshakes_per_s_one_endpoint_pair={:.0}",
        f64::from(n) / secs
    );

    // Full against resumed, one at a time between one long-lived pair,
    // each until nothing is left to move (the responder's ticket
    // delivered): the same work per handshake but for the pattern.
    let full = sequential(o, n, false);
    let resumed = sequential(o, n, true);
    println!("handshakes={n} full_per_s={full:.0} resumed_per_s={resumed:.0}");
    println!("resumed_over_full={:.2}", resumed / full);
    if let Some(path) = &args.quinn {
        let quinn = quinn_rate(path, n);
        println!("quinn_full_per_s={quinn:.0}");
        println!("resumed_over_quinn_full={:.2}", resumed / quinn);
        println!("full_over_quinn_full={:.2}", full / quinn);
    }
}

/// Handshakes a second, one after another between one pair of
/// endpoints: full ones (the initiator keeps no tickets) or resumed ones
/// (each presents the ticket the one before left).
fn sequential(o: &Opts, n: u32, resume: bool) -> f64 {
    let mut tickets = stt::TicketConfig::default();
    tickets.resume = resume;
    let ca = driver::config("a", o)
        .to_builder()
        .tickets(tickets)
        .max_sessions(n as usize + 2)
        .build()
        .expect("valid configuration");
    let cb = driver::config("b", o)
        .to_builder()
        .max_sessions(n as usize + 2)
        .build()
        .expect("valid configuration");
    let mut p = Pair::with_configs(o, ca, cb, [3; 32], [4; 32]);
    // The first leaves a ticket behind.
    p.connect_until_quiet();
    let (t0, c0) = (StdInstant::now(), driver::cpu_time());
    for _ in 0..n {
        p.connect_until_quiet();
    }
    let secs = driver::cpu_time()
        .map_or(t0.elapsed(), |c| c - c0.unwrap_or_default())
        .as_secs_f64();
    assert_eq!(
        p.resumed(),
        if resume { u64::from(n) } else { 0 },
        "every handshake of the resumed run resumed, none of the full run"
    );
    f64::from(n) / secs
}

/// The quinn anchor's full TLS 1.3 handshakes a second: `n` of them in a
/// child process, over its CPU time (user and system, as ours).
fn quinn_rate(path: &std::path::Path, n: u32) -> f64 {
    let before = children_cpu();
    let out = std::process::Command::new(path)
        .arg(n.to_string())
        .output()
        .expect("run the quinn anchor");
    assert!(out.status.success(), "quinn anchor failed");
    let cpu = children_cpu() - before;
    f64::from(n) / cpu.as_secs_f64()
}

/// CPU time of the children waited for so far.
fn children_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above; RUSAGE_CHILDREN is a valid `who`.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn main() {
    // --help, or a usage error in clap's style (status 2).
    let args = parse();
    if let Some(n) = args.idle_streams {
        idle(&args, n);
    } else if let Some(n) = args.handshakes {
        handshakes(&args, n);
    } else {
        throughput(&args);
    }
}
