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
//! `--qlog FILE` (feature `trace`) writes the client's trace as qlog; with
//! `--plot` too, the window panel is drawn from that trace (every window
//! change, and a tick per lost packet) instead of the 100 ms samples.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use stt::recovery::{ControllerKind, Ratio};
use stt::sim::{run_bulk_with, AppLimited, BulkConfig, BulkReport, BurstLoss, LinkConfig};

#[cfg(feature = "trace")]
#[path = "adapters/qlog.rs"]
mod qlog;

const USAGE: &str = "\
usage: simulate [options]
  --rate-mbit R     bottleneck rate, Mbit/s of UDP payload (default 100)
  --rtt-ms T        round-trip propagation delay (default 40)
  --queue-bdp Q     bottleneck queue, in bandwidth-delay products (default 1)
  --loss P          random loss per datagram, e.g. 0.01 or 1% (default 0)
  --burst P         mean loss of Gilbert-Elliott bursts (runs of ~4 datagrams)
  --reorder P       share of datagrams held back --reorder-ms (default 0)
  --reorder-ms D    extra delay of a reordered datagram (default 10)
  --dup P           share of datagrams delivered twice (default 0)
  --jitter-ms J     uniform extra delay per datagram, 0..=J (default 0)
  --sessions N      sessions sharing the bottleneck (default 1)
  --seconds S       virtual duration of the transfer (default 10)
  --seed N          seed of the network and the endpoints (default 1)
  --cc NAME         cubic | newreno | bbr (default: the crate's default)
  --cc-mix A,B,...  controllers of the sessions in connect order (e.g.
                    bbr,cubic); the rest use --cc
  --app-mbit R      first send only R Mbit/s of small messages per session...
  --app-seconds S   ...for S seconds (default 0: bulk from the start)
  --tolerated-loss P  loss tolerated without a standing queue (default: the
                    crate's, 5%); 0 makes every loss a congestion signal
  --mtu N           largest UDP payload the path carries, bytes (default:
                    no limit)
  --max-datagram N  ceiling of the sessions' datagram size search
                    (default: the crate's, 1452)
  --base-datagram N datagram size the sessions start at (default 1200)
  --plot FILE.svg   draw goodput and congestion window over time
  --qlog FILE       write the client's trace as qlog (feature trace); with
                    --plot, the window panel is drawn from it, with losses
";

struct Args {
    rate_mbit: f64,
    rtt_ms: f64,
    queue_bdp: f64,
    loss: f64,
    burst: f64,
    reorder: f64,
    reorder_ms: f64,
    dup: f64,
    jitter_ms: f64,
    sessions: usize,
    seconds: f64,
    seed: u64,
    cc: Option<ControllerKind>,
    cc_mix: Vec<ControllerKind>,
    app_mbit: f64,
    app_seconds: f64,
    tolerated_loss: Option<f64>,
    plot: Option<String>,
    mtu: Option<usize>,
    max_datagram: Option<usize>,
    base_datagram: Option<usize>,
    qlog: Option<String>,
}

fn probability(v: &str) -> Result<f64, String> {
    let p = match v.strip_suffix('%') {
        Some(pct) => pct.parse::<f64>().map(|x| x / 100.0),
        None => v.parse::<f64>(),
    }
    .map_err(|e| format!("{v}: {e}"))?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{v}: probability outside 0..=1"))
    }
}

fn controller(v: &str) -> Result<ControllerKind, String> {
    Ok(match v {
        "cubic" => ControllerKind::Cubic,
        "newreno" | "reno" => ControllerKind::NewReno,
        "bbr" => ControllerKind::Bbr,
        _ => return Err(format!("unknown controller {v}")),
    })
}

fn number<T: std::str::FromStr>(v: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    v.parse().map_err(|e| format!("{v}: {e}"))
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args {
        rate_mbit: 100.0,
        rtt_ms: 40.0,
        queue_bdp: 1.0,
        loss: 0.0,
        burst: 0.0,
        reorder: 0.0,
        reorder_ms: 10.0,
        dup: 0.0,
        jitter_ms: 0.0,
        sessions: 1,
        seconds: 10.0,
        seed: 1,
        cc: None,
        cc_mix: Vec::new(),
        app_mbit: 0.0,
        app_seconds: 0.0,
        tolerated_loss: None,
        plot: None,
        mtu: None,
        max_datagram: None,
        base_datagram: None,
        qlog: None,
    };
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--rate-mbit" => a.rate_mbit = number(&v)?,
            "--rtt-ms" => a.rtt_ms = number(&v)?,
            "--queue-bdp" => a.queue_bdp = number(&v)?,
            "--loss" => a.loss = probability(&v)?,
            "--burst" => a.burst = probability(&v)?,
            "--reorder" => a.reorder = probability(&v)?,
            "--reorder-ms" => a.reorder_ms = number(&v)?,
            "--dup" => a.dup = probability(&v)?,
            "--jitter-ms" => a.jitter_ms = number(&v)?,
            "--sessions" => a.sessions = number(&v)?,
            "--seconds" => a.seconds = number(&v)?,
            "--seed" => a.seed = number(&v)?,
            "--cc" => a.cc = Some(controller(&v)?),
            "--cc-mix" => {
                a.cc_mix = v.split(',').map(controller).collect::<Result<_, _>>()?;
            }
            "--app-mbit" => a.app_mbit = number(&v)?,
            "--app-seconds" => a.app_seconds = number(&v)?,
            "--tolerated-loss" => a.tolerated_loss = Some(probability(&v)?),
            "--plot" => a.plot = Some(v),
            "--mtu" => a.mtu = Some(number(&v)?),
            "--max-datagram" => a.max_datagram = Some(number(&v)?),
            "--base-datagram" => a.base_datagram = Some(number(&v)?),
            "--qlog" => a.qlog = Some(v),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    let positive = [a.rate_mbit, a.seconds];
    if positive.iter().any(|x| !(*x > 0.0 && x.is_finite())) || a.sessions == 0 {
        return Err("--rate-mbit, --seconds and --sessions must be positive".into());
    }
    let non_negative = [a.rtt_ms, a.queue_bdp, a.reorder_ms, a.jitter_ms];
    if non_negative.iter().any(|x| !(*x >= 0.0 && x.is_finite())) {
        return Err("durations and --queue-bdp must not be negative".into());
    }
    Ok(a)
}

fn ms(x: f64) -> Duration {
    Duration::from_secs_f64(x / 1000.0)
}

fn config(a: &Args) -> BulkConfig {
    let rate = (a.rate_mbit * 1e6) as u64;
    let bdp_bytes = a.rate_mbit * 1e6 / 8.0 * a.rtt_ms / 1000.0;
    let mut link = LinkConfig::default()
        .with_latency(ms(a.rtt_ms / 2.0))
        .with_rate(rate)
        .with_queue_bytes((bdp_bytes * a.queue_bdp) as usize)
        .with_loss(a.loss)
        .with_duplicate(a.dup)
        .with_reorder(a.reorder, ms(a.reorder_ms))
        .with_jitter(ms(a.jitter_ms));
    if let Some(mtu) = a.mtu {
        link = link.with_mtu(mtu);
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
        sessions: a.sessions,
        duration: Duration::from_secs_f64(a.seconds),
        seed: a.seed,
        ..BulkConfig::default()
    };
    if a.max_datagram.is_some() || a.base_datagram.is_some() {
        let ceiling = a
            .max_datagram
            .unwrap_or(stt::config::DEFAULT_MAX_DATAGRAM_SIZE);
        // An explicit base above the ceiling is the config's error to report.
        let base = a
            .base_datagram
            .unwrap_or(stt::path::DEFAULT_BASE_DATAGRAM_SIZE.min(ceiling));
        cfg.datagram_sizes = Some((base, ceiling));
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

/// Prints a line to stdout; a closed pipe (`| head -1`) is not an error.
macro_rules! out {
    ($($arg:tt)*) => {
        let _ = writeln!(std::io::stdout(), $($arg)*);
    };
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}");
            }
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let cfg = config(&args);
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
        "datagram_size={} mtu_probes_sent={} mtu_probes_lost={}",
        report
            .datagram_size
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(","),
        report.mtu_probes.0,
        report.mtu_probes.1,
    );
    if args.sessions > 1 {
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

// ----- trace: qlog out, and the window and losses read back -----

/// Installs a qlog sink on the client if `--qlog` asked for one.
#[cfg(feature = "trace")]
fn trace_to(client: &mut stt::Endpoint, path: Option<&str>) {
    let Some(path) = path else { return };
    match qlog::QlogSink::file(path.as_ref(), "stt simulate", qlog::Vantage::Client) {
        Ok(sink) => {
            client.set_trace_sink(Some(Box::new(sink)));
        }
        Err(e) => eprintln!("cannot write {path}: {e}; running without a trace"),
    }
}

#[cfg(not(feature = "trace"))]
fn trace_to(_: &mut stt::Endpoint, path: Option<&str>) {
    if path.is_some() {
        eprintln!("--qlog needs the `trace` feature (--features sim,trace); running without");
    }
}

/// The congestion window (KiB) over time and the times of losses, per
/// session in order of appearance, from a qlog file.
struct Traced {
    window: Vec<Series>,
    losses: Vec<Vec<f64>>,
}

fn window_from_qlog(path: &str) -> Result<Traced, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut groups: Vec<String> = Vec::new();
    let mut t = Traced {
        window: Vec::new(),
        losses: Vec::new(),
    };
    for rec in text.split('\u{1e}').skip(2) {
        let v: serde_json::Value = serde_json::from_str(rec).map_err(|e| e.to_string())?;
        let group = v["group_id"].as_str().unwrap_or("").to_string();
        let i = match groups.iter().position(|g| *g == group) {
            Some(i) => i,
            None => {
                groups.push(group);
                t.window.push(Vec::new());
                t.losses.push(Vec::new());
                groups.len() - 1
            }
        };
        let at = v["time"].as_f64().unwrap_or(0.0) / 1000.0;
        match v["name"].as_str() {
            Some("recovery:metrics_updated") => {
                let w = v["data"]["congestion_window"].as_f64().unwrap_or(0.0);
                t.window[i].push((at, w / 1024.0));
            }
            Some("recovery:packet_lost") => t.losses[i].push(at),
            _ => {}
        }
    }
    Ok(t)
}

// ----- plot: two stacked panels of polylines, hand-written SVG -----

const W: f64 = 900.0;
const PANEL_H: f64 = 260.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const GAP: f64 = 60.0;
const COLORS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// A series of (seconds, value) points.
type Series = Vec<(f64, f64)>;

fn svg(r: &BulkReport, a: &Args, traced: Option<&Traced>) -> String {
    let n = r.delivered.len();
    let t_end = r.duration.as_secs_f64().max(1e-3);
    // Goodput per interval between samples, Mbit/s.
    let mut goodput: Vec<Series> = vec![Vec::new(); n];
    let mut total: Series = Vec::new();
    for w in r.samples.windows(2) {
        let dt = (w[1].at - w[0].at).as_secs_f64();
        if dt <= 0.0 {
            continue;
        }
        let t = w[1].at.as_micros() as f64 / 1e6;
        let mut sum = 0.0;
        for (i, g) in goodput.iter_mut().enumerate() {
            let bytes = w[1].delivered[i].saturating_sub(w[0].delivered[i]);
            let mbit = bytes as f64 * 8.0 / dt / 1e6;
            sum += mbit;
            g.push((t, mbit));
        }
        total.push((t, sum));
    }
    let sampled = || -> Vec<Series> {
        (0..n)
            .map(|i| {
                r.samples
                    .iter()
                    .map(|s| (s.at.as_micros() as f64 / 1e6, s.cwnd[i] as f64 / 1024.0))
                    .collect()
            })
            .collect()
    };
    let cwnd: Vec<Series> = match traced {
        // Drawn as steps (the window holds until its next change), thinned
        // to the first and last change per half pixel.
        Some(t) => t
            .window
            .iter()
            .map(|s| {
                let bucket = |at: f64| (at / t_end * 2.0 * W) as i64;
                let mut out: Series = Vec::new();
                for (i, &(at, w)) in s.iter().enumerate() {
                    let b = bucket(at);
                    let first = i == 0 || bucket(s[i - 1].0) != b;
                    let last = s.get(i + 1).is_none_or(|n| bucket(n.0) != b);
                    if !(first || last) {
                        continue;
                    }
                    if let Some(&(_, prev)) = out.last() {
                        out.push((at, prev));
                    }
                    out.push((at, w));
                }
                out
            })
            .collect(),
        None => sampled(),
    };
    let link = r.link_rate as f64 / 1e6;
    let mut out = String::new();
    let h = TOP + 3.0 * PANEL_H + 2.0 * GAP + 40.0;
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let title = format!(
        "stt simulate: {:.0} Mbit/s, {:.0} ms RTT, queue {} BDP, loss {}%, {} session(s), goodput {:.1}% of link",
        a.rate_mbit,
        a.rtt_ms,
        a.queue_bdp,
        a.loss * 100.0,
        n,
        r.goodput_fraction() * 100.0
    );
    let _ = writeln!(
        out,
        r#"<text x="{LEFT}" y="20" font-size="14">{title}</text>"#
    );
    let mut series: Vec<(&Series, String, bool)> = goodput
        .iter()
        .enumerate()
        .map(|(i, s)| (s, format!("session {i}"), false))
        .collect();
    if n > 1 {
        series.push((&total, "total".into(), true));
    }
    let ymax = nice_ceiling(
        series
            .iter()
            .flat_map(|(s, _, _)| s.iter().map(|p| p.1))
            .fold(link, f64::max),
    );
    panel(
        &mut out,
        TOP,
        "goodput (Mbit/s)",
        t_end,
        ymax,
        &series,
        Some(link),
    );
    let cw_series: Vec<(&Series, String, bool)> = cwnd
        .iter()
        .enumerate()
        .map(|(i, s)| (s, format!("session {i}"), false))
        .collect();
    let cmax = nice_ceiling(
        cwnd.iter()
            .flat_map(|s| s.iter().map(|p| p.1))
            .fold(1.0, f64::max),
    );
    let label = if traced.is_some() {
        "congestion window (KiB), from the qlog trace; red ticks: packets lost"
    } else {
        "congestion window (KiB)"
    };
    panel(
        &mut out,
        TOP + PANEL_H + GAP,
        label,
        t_end,
        cmax,
        &cw_series,
        None,
    );
    if let Some(t) = traced {
        let pw = W - LEFT - RIGHT;
        let base = TOP + 2.0 * PANEL_H + GAP;
        let mut xs: Vec<i64> = t
            .losses
            .iter()
            .flatten()
            .map(|at| ((LEFT + at / t_end * pw) * 2.0) as i64)
            .collect();
        xs.sort_unstable();
        xs.dedup();
        for x in xs {
            let x = x as f64 / 2.0;
            let _ = writeln!(
                out,
                r##"<line x1="{x:.1}" x2="{x:.1}" y1="{:.1}" y2="{base:.1}" stroke="#d62728" stroke-width="1"/>"##,
                base - 10.0
            );
        }
    }
    // Rates, Mbit/s: what each session paced at and what it estimated the
    // path delivers.
    let rate_of = |f: fn(&stt::sim::Sample, usize) -> u64, i: usize| -> Series {
        r.samples
            .iter()
            .map(|s| (s.at.as_micros() as f64 / 1e6, f(s, i) as f64 * 8.0 / 1e6))
            .collect()
    };
    let pacing: Vec<Series> = (0..n)
        .map(|i| rate_of(|s, i| s.pacing_rate[i], i))
        .collect();
    let estimate: Vec<Series> = (0..n)
        .map(|i| rate_of(|s, i| s.delivery_rate[i], i))
        .collect();
    let mut rate_series: Vec<(&Series, String, bool)> = Vec::new();
    for i in 0..n {
        rate_series.push((&pacing[i], format!("pacing {i}"), false));
        rate_series.push((&estimate[i], format!("delivery est. {i}"), false));
    }
    let rmax = nice_ceiling(
        rate_series
            .iter()
            .flat_map(|(s, _, _)| s.iter().map(|p| p.1))
            .fold(link, f64::max)
            .min(link * 4.0),
    );
    panel(
        &mut out,
        TOP + 2.0 * (PANEL_H + GAP),
        "pacing rate and delivery-rate estimate (Mbit/s)",
        t_end,
        rmax,
        &rate_series,
        Some(link),
    );
    out.push_str("</svg>\n");
    out
}

/// The smallest of 1, 2, 5 or 10 times a power of ten, times five, at or
/// above `v`: an axis of five round steps.
fn nice_ceiling(v: f64) -> f64 {
    let step = v.max(1e-9) / 5.0;
    let magnitude = 10f64.powf(step.log10().floor());
    let nice = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= step)
        .unwrap_or(10.0 * magnitude);
    nice * 5.0
}

fn panel(
    out: &mut String,
    top: f64,
    label: &str,
    t_end: f64,
    ymax: f64,
    series: &[(&Series, String, bool)],
    reference: Option<f64>,
) {
    let pw = W - LEFT - RIGHT;
    let x = |t: f64| LEFT + t / t_end * pw;
    let y = |v: f64| top + PANEL_H - v / ymax * PANEL_H;
    let _ = writeln!(
        out,
        r##"<rect x="{LEFT}" y="{top}" width="{pw}" height="{PANEL_H}" fill="none" stroke="#444"/>"##
    );
    let _ = writeln!(out, r#"<text x="{LEFT}" y="{}" >{label}</text>"#, top - 6.0);
    for k in 0..=5 {
        let v = ymax * k as f64 / 5.0;
        let _ = writeln!(
            out,
            r##"<line x1="{LEFT}" x2="{}" y1="{yy}" y2="{yy}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{v:.0}</text>"##,
            LEFT + pw,
            LEFT - 6.0,
            y(v) + 4.0,
            yy = y(v),
        );
        let t = t_end * k as f64 / 5.0;
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="middle">{t:.1} s</text>"#,
            x(t),
            top + PANEL_H + 16.0
        );
    }
    if let Some(r) = reference {
        let _ = writeln!(
            out,
            r##"<line x1="{LEFT}" x2="{}" y1="{yy}" y2="{yy}" stroke="#888" stroke-dasharray="6 4"/><text x="{}" y="{}" text-anchor="end" fill="#666">link</text>"##,
            LEFT + pw,
            LEFT + pw - 4.0,
            y(r) - 4.0,
            yy = y(r),
        );
    }
    for (i, (s, name, thick)) in series.iter().enumerate() {
        let color = if *thick {
            "#000"
        } else {
            COLORS[i % COLORS.len()]
        };
        let points: Vec<String> = s
            .iter()
            .map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(v.min(ymax))))
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{color}" stroke-width="{}" points="{}"/>"#,
            if *thick { 2.0 } else { 1.3 },
            points.join(" ")
        );
        let lx = LEFT + 10.0 + 110.0 * i as f64;
        let _ = writeln!(
            out,
            r#"<line x1="{lx}" x2="{}" y1="{ly}" y2="{ly}" stroke="{color}" stroke-width="2"/><text x="{}" y="{}">{name}</text>"#,
            lx + 20.0,
            lx + 24.0,
            top + 16.0,
            ly = top + 12.0,
        );
    }
}
