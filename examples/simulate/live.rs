//! The live workload of `simulate`: frames with a deadline on one stream
//! (or the same frames as plain reliable messages, or sized to the
//! session's delivery rate), and the figures printed for them.

use std::process::ExitCode;
use std::time::Duration;

use stt::sim::{run_live_with, BulkConfig, LiveConfig, LiveMode};

use crate::args::{Args, LiveModeArg};
use crate::{ms, trace_to};

/// Runs the live workload on `bulk`'s link and prints what it measured.
pub(crate) fn live(args: &Args, bulk: &BulkConfig) -> ExitCode {
    let cfg = LiveConfig {
        link: bulk.link,
        duration: bulk.duration,
        seed: args.seed,
        fps: u32::try_from(args.fps).unwrap_or(u32::MAX),
        frame_bytes: args.frame_bytes,
        deadline: ms(args.frame_deadline_ms),
        mode: match args.live_mode {
            LiveModeArg::Deadline => LiveMode::Deadline,
            LiveModeArg::Reliable => LiveMode::Reliable,
            LiveModeArg::Adaptive => LiveMode::Adaptive,
        },
        ..LiveConfig::default()
    };
    let r = match run_live_with(&cfg, |client, _| trace_to(client, args.qlog.as_deref())) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("simulation failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let msf = |d: Duration| d.as_secs_f64() * 1e3;
    out!(
        "frames produced={} on_time={} on_time_fraction={:.4} late={} delivered_late={} expired={} out_of_order={}",
        r.produced(),
        r.on_time(),
        r.on_time_fraction(),
        r.late(),
        r.delivered_late(),
        r.expired,
        r.out_of_order,
    );
    out!(
        "source_mbit={:.2} delay_ms p50={:.1} p99={:.1} max={:.1} max_lateness={:.1}",
        r.source_bits_per_sec() / 1e6,
        msf(r.delay_percentile(50)),
        msf(r.delay_percentile(99)),
        msf(r.delay_percentile(100)),
        msf(r.max_lateness()),
    );
    if let Some(d) = r.drop {
        let opt = |x: Option<f64>| x.map_or_else(|| "-".to_string(), |x| format!("{x:.4}"));
        out!(
            "rate_drop from_s={:.1} to_s={:.1} low_mbit={:.2} on_time_fraction={} on_time_share_of_low_rate={} recovered_after_ms={}",
            d.from.as_micros() as f64 / 1e6,
            d.to.as_micros() as f64 / 1e6,
            d.rate as f64 / 1e6,
            opt(r.drop_on_time_fraction()),
            opt(r.drop_on_time_share()),
            r.recovered_after_drop()
                .map_or_else(|| "never".to_string(), |t| format!("{:.0}", msf(t))),
        );
    }
    ExitCode::SUCCESS
}
