//! The plot `--plot` writes: goodput, congestion window and rates over
//! time as hand-written SVG, and the window and losses read back from the
//! `--qlog` trace when there is one.
//!
//! Owns: turning a finished [`BulkReport`] (and optionally a qlog file) into
//! an SVG document. Never: runs the simulation or prints to stdout.

use std::fmt::Write as _;

use stt::sim::BulkReport;

use crate::args::Args;

/// The congestion window (KiB) over time and the times of losses, per
/// session in order of appearance, from a qlog file.
pub(crate) struct Traced {
    window: Vec<Series>,
    losses: Vec<Vec<f64>>,
}

pub(crate) fn window_from_qlog(path: &str) -> Result<Traced, String> {
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

pub(crate) fn svg(r: &BulkReport, a: &Args, traced: Option<&Traced>) -> String {
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
    let rtt = if a.rtt_mix.is_empty() {
        format!("{:.0} ms RTT", a.rtt_ms)
    } else {
        format!("{} ms RTT", a.rtt_mix_label())
    };
    let title = format!(
        "stt simulate: {:.0} Mbit/s, {rtt}, queue {} BDP, loss {}%, {} session(s), goodput {:.1}% of link",
        a.rate_mbit,
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
