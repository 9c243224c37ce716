//! Bulk transfers over the deterministic network simulator: goodput,
//! fairness, and a plot of goodput and congestion window over time.
//!
//! ```text
//! cargo run --release --features sim --example simulate -- \
//!     --rate-mbit 100 --rtt-ms 40 --queue-bdp 1 --loss 1% --seconds 10 --plot out.svg
//! ```
//!
//! Prints `goodput_fraction=<x>` (payload bits the receiving application
//! read, over the bottleneck rate, for the whole run including handshake and
//! slow start) with the median and 95th percentile of the RTT samples the
//! sender took (`rtt_p50_ms=`, `rtt_p95_ms=`) and the share of packets it
//! had to send again, then per-session goodput and fairness when
//! `--sessions > 1`.
//! The same flags and seed always print the same numbers.
//!
//! `--rtt-mix 20,80` runs one session per listed round trip, each on its
//! own path and all through one bottleneck (queue: `--queue-bdp` times the
//! BDP of the longest round trip), and adds a line
//! `rtt_mix_ms=20,80 shares=<a>,<b> max_min_ratio=<x>`: RTT fairness.
//!
//! `--qlog FILE` (feature `trace`) writes the client's trace as qlog (with
//! `--rtt-mix`, the first session's client); with `--plot` too, the window
//! panel is drawn from that trace (every window change, and a tick per lost
//! packet) instead of the 100 ms samples.
//!
//! `--rate-schedule 20@0,4@10,20@15` changes the bottleneck rate over
//! time (Mbit/s from a second of the run on); the queue stays sized from
//! `--rate-mbit`.
//!
//! `--workload game` runs one session that sends `--dgram-rate` datagrams a
//! second of `--dgram-size` bytes beside a bulk stream, and prints the
//! datagrams' delivered fraction and one-way delay percentiles against the
//! path's one-way delay, and the bulk stream's share of the rest of the
//! link (`docs/PERFORMANCE.md`, "Datagrams beside bulk").
//!
//! `--workload live` runs one session that sends `--fps` frames a second
//! of `--frame-bytes` on one stream, each due `--frame-deadline-ms` after it
//! is produced, as deadline messages, plain reliable messages or deadline
//! messages sized to the session's delivery rate (`--live-mode`), and
//! prints the on-time fraction, delays and, with a `--rate-schedule` drop,
//! how the frames fared through it (`docs/PERFORMANCE.md`, "Live media").
//!
//! The command line is declared in `args.rs` (clap derive): `--help` lists
//! every flag with its default; a bad value is refused with status 2.

use std::process::ExitCode;
use std::time::Duration;

use stt::sim::{
    run_bulk_with, run_game_with, AppLimited, BulkConfig, BurstLoss, GameConfig, LinkConfig,
};
use stt::Ratio;

/// Prints a line to stdout; a closed pipe (`| head -1`) is not an error.
macro_rules! out {
    ($($arg:tt)*) => {
        let _ = std::io::Write::write_fmt(&mut std::io::stdout(), format_args!("{}\n", format_args!($($arg)*)));
    };
}

mod args;
mod live;
mod plot;
#[cfg(feature = "trace")]
#[path = "../adapters/qlog.rs"]
mod qlog;

use args::{parse_args, Args, Workload};
use plot::{svg, window_from_qlog};

pub(crate) fn ms(x: f64) -> Duration {
    Duration::from_secs_f64(x / 1000.0)
}

fn config(a: &Args) -> BulkConfig {
    let rate = (a.rate_mbit * 1e6) as u64;
    // With --rtt-mix: the shared path has the shortest round trip, each
    // session's own access path the rest, and the queue is sized to the
    // longest round trip's BDP (the flow that needs the most buffer).
    let shortest = a.rtt_mix.iter().copied().fold(f64::INFINITY, f64::min);
    let longest = a.rtt_mix.iter().copied().fold(0.0, f64::max);
    let (base_rtt, queue_rtt) = if a.rtt_mix.is_empty() {
        (a.rtt_ms, a.rtt_ms)
    } else {
        (shortest, longest)
    };
    let bdp_bytes = a.rate_mbit * 1e6 / 8.0 * queue_rtt / 1000.0;
    let mut link = LinkConfig::default()
        .with_latency(ms(base_rtt / 2.0))
        .with_rate(rate)
        .with_queue_bytes((bdp_bytes * a.queue_bdp) as usize)
        .with_loss(a.loss)
        .with_duplicate(a.dup)
        .with_reorder(a.reorder, ms(a.reorder_ms))
        .with_jitter(ms(a.jitter_ms));
    if let Some(mtu) = a.mtu {
        link = link.with_mtu(mtu);
    }
    for &(mbit, secs) in &a.rate_schedule {
        let at = stt::Instant::from_micros((secs * 1e6) as u64);
        link = link.with_rate_change(at, (mbit * 1e6) as u64);
    }
    if a.burst > 0.0 {
        // Bad periods of 4 datagrams on average, all lost; entered often
        // enough that the long-run loss is `burst`.
        let leave = 0.25;
        let enter = (a.burst * leave / (1.0 - a.burst)).min(1.0);
        link = link.with_burst(BurstLoss::new(enter, leave, 1.0));
    }
    let mut cfg = BulkConfig {
        link,
        sessions: a.session_count(),
        duration: Duration::from_secs_f64(a.seconds),
        seed: a.seed,
        extra_delays: a.rtt_mix.iter().map(|r| ms((r - base_rtt) / 2.0)).collect(),
        ..BulkConfig::default()
    };
    if a.max_datagram.is_some() || a.base_datagram.is_some() {
        let ceiling = a.max_datagram.unwrap_or(stt::DEFAULT_MAX_DATAGRAM_SIZE);
        // An explicit base above the ceiling is the config's error to report.
        let base = a
            .base_datagram
            .unwrap_or(stt::DEFAULT_BASE_DATAGRAM_SIZE.min(ceiling));
        cfg.datagram_sizes = Some((base, ceiling));
    }
    if let Some(w) = a.window_mib {
        let w = (w as u64) << 20;
        let l = &mut cfg.streams;
        l.max_stream_window = w;
        l.max_session_window = w;
        l.max_send_queue = w;
        l.max_session_buffer = w.saturating_add(l.max_message_size);
    }
    if let Some(cc) = a.cc {
        cfg.recovery.controller = cc;
    }
    cfg.controllers = a.cc_mix.clone();
    if a.app_mbit > 0.0 && a.app_seconds > 0.0 {
        cfg.app_limited = Some(AppLimited {
            rate: (a.app_mbit * 1e6) as u64,
            duration: Duration::from_secs_f64(a.app_seconds),
        });
    }
    if let Some(p) = a.tolerated_loss {
        cfg.recovery.tolerated_loss = Ratio {
            num: (p * 10_000.0).round() as u32,
            den: 10_000,
        };
    }
    cfg
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args_os().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            // Help and version to stdout with status 0, errors to stderr
            // with status 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let cfg = config(&args);
    match args.workload {
        Workload::Game => return game(&args, &cfg),
        Workload::Live => return live::live(&args, &cfg),
        Workload::Bulk => {}
    }
    let report = match run_bulk_with(&cfg, |client, _| trace_to(client, args.qlog.as_deref())) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("simulation failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    out!(
        "goodput_fraction={:.4} rtt_p50_ms={:.1} rtt_p95_ms={:.1} retransmit_fraction={:.4}",
        report.goodput_fraction(),
        report.rtt_p50.as_secs_f64() * 1e3,
        report.rtt_p95.as_secs_f64() * 1e3,
        report.retransmit_fraction,
    );
    out!(
        "goodput_mbit={:.2} link_mbit={:.2} seconds={:.1} lost_packets={} queue_drops={}",
        report.goodput() / 1e6,
        report.link_rate as f64 / 1e6,
        report.duration.as_secs_f64(),
        report.packets_lost.iter().sum::<u64>(),
        report.queue_drops,
    );
    out!(
        "datagram_size={} mtu_probes_sent={} mtu_probes_lost={} receive_peak_bytes={}",
        report
            .datagram_size
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(","),
        report.mtu_probes.0,
        report.mtu_probes.1,
        report.receive_buffered_peak,
    );
    if args.session_count() > 1 {
        for (i, g) in report.session_goodput().iter().enumerate() {
            out!(
                "session={i} goodput_mbit={:.2} fraction={:.4}",
                g / 1e6,
                g / report.link_rate as f64
            );
        }
        out!(
            "fairness jain_index={:.4} min_max_ratio={:.4}",
            report.jain_index(),
            report.min_max_ratio()
        );
    }
    if !args.rtt_mix.is_empty() {
        let shares = report
            .session_goodput()
            .iter()
            .map(|g| format!("{:.3}", g / report.goodput().max(f64::MIN_POSITIVE)))
            .collect::<Vec<_>>()
            .join(",");
        let ratio = 1.0 / report.min_max_ratio().max(f64::MIN_POSITIVE);
        let mix = args
            .rtt_mix
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>();
        out!(
            "rtt_mix_ms={} shares={shares} max_min_ratio={ratio:.2}",
            mix.join(",")
        );
    }
    if let Some(path) = &args.qlog {
        out!("qlog={path}");
    }
    if let Some(p) = &report.app_phase {
        for i in 0..p.cwnd_at_end.len() {
            out!(
                "app_phase session={i} max_in_flight_kib={:.1} cwnd_at_end_kib={:.1} lost_in_phase={} lost_after={}",
                p.max_in_flight[i] as f64 / 1024.0,
                p.cwnd_at_end[i] as f64 / 1024.0,
                p.lost_at_end[i],
                report.packets_lost[i].saturating_sub(p.lost_at_end[i]),
            );
        }
    }
    if let Some(path) = &args.plot {
        let traced = match args.qlog.as_deref().map(window_from_qlog).transpose() {
            Ok(t) => t,
            Err(e) => {
                eprintln!("cannot read back the qlog file: {e}");
                return ExitCode::FAILURE;
            }
        };
        if let Err(e) = std::fs::write(path, svg(&report, &args, traced.as_ref())) {
            eprintln!("cannot write {path}: {e}");
            return ExitCode::FAILURE;
        }
        out!("plot={path}");
    }
    ExitCode::SUCCESS
}

/// The game workload: datagrams beside a bulk stream on one session.
fn game(args: &Args, bulk: &BulkConfig) -> ExitCode {
    let mut datagrams = stt::DatagramLimits::default();
    datagrams.priority = args.dgram_priority;
    let cfg = GameConfig {
        link: bulk.link,
        duration: bulk.duration,
        seed: args.seed,
        rate_hz: u32::try_from(args.dgram_rate).unwrap_or(u32::MAX),
        size: args.dgram_size,
        deadline: args.dgram_deadline_ms.map(ms),
        bulk_send_ahead: if args.no_bulk { 0 } else { bulk.send_ahead },
        datagrams,
        warmup: Duration::from_secs_f64((args.seconds / 6.0).min(5.0)),
    };
    let r = match run_game_with(&cfg, |client, _| trace_to(client, args.qlog.as_deref())) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("simulation failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let msf = |d: Duration| d.as_secs_f64() * 1e3;
    out!(
        "datagrams offered={} sent={} received={} duplicates={} lost={} dropped={} delivered_fraction={:.4}",
        r.offered,
        r.sent,
        r.received,
        r.duplicates,
        r.lost,
        r.dropped,
        r.delivered_fraction(),
    );
    out!(
        "delay_ms one_way={:.1} p50={:.1} p99={:.1} max={:.1} p99_over_one_way={:.1}",
        msf(r.one_way_delay),
        msf(r.delay_percentile(50)),
        msf(r.delay_percentile(99)),
        msf(r.delay_percentile(100)),
        msf(r.delay_percentile(99).saturating_sub(r.one_way_delay)),
    );
    out!(
        "after_warmup_s={:.1} delay_ms p50={:.1} p99={:.1} max={:.1} p99_over_one_way={:.1}",
        cfg.warmup.as_secs_f64(),
        msf(r.steady_delay_percentile(50)),
        msf(r.steady_delay_percentile(99)),
        msf(r.steady_delay_percentile(100)),
        msf(r
            .steady_delay_percentile(99)
            .saturating_sub(r.one_way_delay)),
    );
    let secs = r.duration.as_secs_f64();
    out!(
        "bulk_mbit={:.2} link_mbit={:.2} bulk_share_of_rest={:.4}",
        r.bulk_bytes as f64 * 8.0 / secs / 1e6,
        r.link_rate as f64 / 1e6,
        r.bulk_share(cfg.size),
    );
    ExitCode::SUCCESS
}

// ----- trace: qlog out, and the window and losses read back -----

/// Installs a qlog sink on the client if `--qlog` asked for one.
#[cfg(feature = "trace")]
pub(crate) fn trace_to(client: &mut stt::Endpoint, path: Option<&str>) {
    let Some(path) = path else { return };
    match qlog::QlogSink::file(path.as_ref(), "stt simulate", qlog::Vantage::Client) {
        Ok(sink) => {
            client.set_trace_sink(Some(Box::new(sink)));
        }
        Err(e) => eprintln!("cannot write {path}: {e}; running without a trace"),
    }
}

#[cfg(not(feature = "trace"))]
pub(crate) fn trace_to(_: &mut stt::Endpoint, path: Option<&str>) {
    if path.is_some() {
        eprintln!("--qlog needs the `trace` feature (--features sim,trace); running without");
    }
}
