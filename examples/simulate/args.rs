//! Command-line arguments of `simulate`, declared with clap's derive (help
//! text, typed values and errors generated), and the value parsers they
//! share: probabilities (`0.01` or `1%`), controller names, finite
//! non-negative and positive numbers.

use std::ffi::OsString;

use clap::{Parser, ValueEnum};
use stt::ControllerKind;

/// Bulk transfers over the deterministic network simulator: goodput,
/// fairness, RTT distribution, and a plot over time. Virtual time: the same
/// flags and seed always print the same numbers.
#[derive(Debug, Parser)]
// A flag given twice takes its last value, as the hand-written parser did.
#[command(name = "simulate", args_override_self = true)]
pub(crate) struct Args {
    /// Bottleneck rate, Mbit/s of UDP payload.
    #[arg(long, value_name = "R", default_value = "100", value_parser = positive)]
    pub(crate) rate_mbit: f64,
    /// Bottleneck rate over time: `R@T,...` sets R Mbit/s from T seconds
    /// on (e.g. `20@0,4@10,20@15`); the queue stays sized by --queue-bdp
    /// from --rate-mbit. At most 8 changes.
    #[arg(long, value_name = "R@T,...", value_delimiter = ',', value_parser = rate_step)]
    pub(crate) rate_schedule: Vec<(f64, f64)>,
    /// Round-trip propagation delay, ms.
    #[arg(long, value_name = "T", default_value = "40", value_parser = non_negative)]
    pub(crate) rtt_ms: f64,
    /// One session per listed round trip (ms), e.g. `20,80`: each on its own
    /// path, all through one bottleneck whose queue is --queue-bdp of the
    /// longest round trip's BDP. Replaces --rtt-ms and --sessions.
    #[arg(long, value_name = "T,T,...", value_delimiter = ',', value_parser = non_negative,
          conflicts_with_all = ["rtt_ms", "sessions"])]
    pub(crate) rtt_mix: Vec<f64>,
    /// Bottleneck queue, in bandwidth-delay products.
    #[arg(long, value_name = "Q", default_value = "1", value_parser = non_negative)]
    pub(crate) queue_bdp: f64,
    /// Random loss per datagram, e.g. 0.01 or 1%.
    #[arg(long, value_name = "P", default_value = "0", value_parser = probability)]
    pub(crate) loss: f64,
    /// Mean loss of Gilbert-Elliott bursts (runs of ~4 datagrams).
    #[arg(long, value_name = "P", default_value = "0", value_parser = probability)]
    pub(crate) burst: f64,
    /// Share of datagrams held back --reorder-ms.
    #[arg(long, value_name = "P", default_value = "0", value_parser = probability)]
    pub(crate) reorder: f64,
    /// Extra delay of a reordered datagram, ms.
    #[arg(long, value_name = "D", default_value = "10", value_parser = non_negative)]
    pub(crate) reorder_ms: f64,
    /// Share of datagrams delivered twice.
    #[arg(long, value_name = "P", default_value = "0", value_parser = probability)]
    pub(crate) dup: f64,
    /// Uniform extra delay per datagram, 0..=J ms.
    #[arg(long, value_name = "J", default_value = "0", value_parser = non_negative)]
    pub(crate) jitter_ms: f64,
    /// Sessions sharing the bottleneck.
    #[arg(long, value_name = "N", default_value = "1", value_parser = count)]
    pub(crate) sessions: usize,
    /// Virtual duration of the transfer, s.
    #[arg(long, value_name = "S", default_value = "10", value_parser = positive)]
    pub(crate) seconds: f64,
    /// Seed of the network and the endpoints.
    #[arg(long, value_name = "N", default_value = "1")]
    pub(crate) seed: u64,
    /// Congestion controller: cubic, newreno (or reno), bbr [default: the
    /// crate's].
    #[arg(long, value_name = "NAME", value_parser = controller)]
    pub(crate) cc: Option<ControllerKind>,
    /// Controllers of the sessions in connect order (e.g. bbr,cubic); the
    /// rest use --cc.
    #[arg(long, value_name = "A,B,...", value_delimiter = ',', value_parser = controller)]
    pub(crate) cc_mix: Vec<ControllerKind>,
    /// First send only R Mbit/s of small messages per session...
    #[arg(long, value_name = "R", default_value = "0", value_parser = non_negative)]
    pub(crate) app_mbit: f64,
    /// ...for S seconds (0: bulk from the start).
    #[arg(long, value_name = "S", default_value = "0", value_parser = non_negative)]
    pub(crate) app_seconds: f64,
    /// Loss tolerated without a standing queue [default: the crate's, 5%];
    /// 0 makes every loss a congestion signal.
    #[arg(long, value_name = "P", value_parser = probability)]
    pub(crate) tolerated_loss: Option<f64>,
    /// Largest UDP payload the path carries, bytes [default: no limit].
    #[arg(long, value_name = "N")]
    pub(crate) mtu: Option<usize>,
    /// Ceiling of the sessions' datagram size search [default: the crate's,
    /// 1452].
    #[arg(long, value_name = "N")]
    pub(crate) max_datagram: Option<usize>,
    /// Datagram size the sessions start at [default: 1200].
    #[arg(long, value_name = "N")]
    pub(crate) base_datagram: Option<usize>,
    /// Receive windows of both endpoints may grow to W MiB, stream and
    /// session alike; the send queue is W MiB and the session's receive
    /// budget W + 16 MiB [default: the crate's limits].
    #[arg(long, value_name = "W", value_parser = count)]
    pub(crate) window_mib: Option<usize>,
    /// Draw goodput, congestion window and rates over time.
    #[arg(long, value_name = "FILE.svg")]
    pub(crate) plot: Option<String>,
    /// Write the client's trace as qlog (feature trace); with --plot, the
    /// window panel is drawn from it, with losses.
    #[arg(long, value_name = "FILE")]
    pub(crate) qlog: Option<String>,
    /// What the client sends: `bulk` (every session's stream 0 kept full),
    /// `game` (one session: --dgram-rate datagrams a second of
    /// --dgram-size bytes beside a bulk stream) or `live` (one session:
    /// --fps frames a second of --frame-bytes on one stream, each due
    /// --frame-deadline-ms after it is produced).
    #[arg(long, value_enum, default_value = "bulk")]
    pub(crate) workload: Workload,
    /// Game workload: datagrams per second.
    #[arg(long, value_name = "N", default_value = "60", value_parser = count)]
    pub(crate) dgram_rate: usize,
    /// Game workload: bytes per datagram (at least 16).
    #[arg(long, value_name = "N", default_value = "200")]
    pub(crate) dgram_size: usize,
    /// Game workload: datagrams' priority against the bulk stream, 0..=1000.
    #[arg(long, value_name = "P", default_value = "500")]
    pub(crate) dgram_priority: u16,
    /// Game workload: drop a datagram still queued this long after it was
    /// produced, ms [default: no deadline].
    #[arg(long, value_name = "D", value_parser = non_negative)]
    pub(crate) dgram_deadline_ms: Option<f64>,
    /// Game workload: no bulk stream beside the datagrams.
    #[arg(long)]
    pub(crate) no_bulk: bool,
    /// Live workload: how frames are sent: `deadline` (messages with a
    /// deadline), `reliable` (plain messages) or `adaptive` (deadline
    /// messages sized to the session's delivery rate).
    #[arg(long, value_enum, default_value = "deadline")]
    pub(crate) live_mode: LiveModeArg,
    /// Live workload: frames per second.
    #[arg(long, value_name = "N", default_value = "30", value_parser = count)]
    pub(crate) fps: usize,
    /// Live workload: bytes per frame (at least 16).
    #[arg(long, value_name = "N", default_value = "25000")]
    pub(crate) frame_bytes: usize,
    /// Live workload: a frame is due this long after it is produced, ms.
    #[arg(long, value_name = "D", default_value = "150", value_parser = positive)]
    pub(crate) frame_deadline_ms: f64,
}

/// See [`Args::live_mode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LiveModeArg {
    /// Messages with a deadline.
    Deadline,
    /// Plain reliable messages.
    Reliable,
    /// Deadline messages sized to the delivery rate.
    Adaptive,
}

/// See [`Args::workload`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Workload {
    /// Bulk transfers.
    Bulk,
    /// Datagrams at a fixed rate beside a bulk stream.
    Game,
    /// Frames with a deadline on one stream.
    Live,
}

impl Args {
    /// Sessions the run has: one per --rtt-mix entry, else --sessions.
    pub(crate) fn session_count(&self) -> usize {
        if self.rtt_mix.is_empty() {
            self.sessions
        } else {
            self.rtt_mix.len()
        }
    }

    /// The --rtt-mix round trips as `20/80`.
    pub(crate) fn rtt_mix_label(&self) -> String {
        let v: Vec<String> = self.rtt_mix.iter().map(|r| r.to_string()).collect();
        v.join("/")
    }
}

/// Parses the command line (`args` without the program name).
pub(crate) fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Args, clap::Error> {
    Args::try_parse_from(std::iter::once(OsString::from("simulate")).chain(args))
}

fn probability(v: &str) -> Result<f64, String> {
    let p = match v.strip_suffix('%') {
        Some(pct) => pct.parse::<f64>().map(|x| x / 100.0),
        None => v.parse::<f64>(),
    }
    .map_err(|e| format!("{e}"))?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err("probability outside 0..=1 (or 0%..=100%)".into())
    }
}

/// One `R@T` step of --rate-schedule: (Mbit/s, seconds).
fn rate_step(v: &str) -> Result<(f64, f64), String> {
    let (r, t) = v
        .split_once('@')
        .ok_or("a step is RATE_MBIT@SECONDS, e.g. 4@10")?;
    Ok((positive(r)?, non_negative(t)?))
}

fn controller(v: &str) -> Result<ControllerKind, String> {
    Ok(match v {
        "cubic" => ControllerKind::Cubic,
        "newreno" | "reno" => ControllerKind::NewReno,
        "bbr" => ControllerKind::Bbr,
        _ => return Err("unknown controller (cubic, newreno, bbr)".into()),
    })
}

fn non_negative(v: &str) -> Result<f64, String> {
    let x: f64 = v.parse().map_err(|e| format!("{e}"))?;
    if x >= 0.0 && x.is_finite() {
        Ok(x)
    } else {
        Err("must be a finite number, not negative".into())
    }
}

fn positive(v: &str) -> Result<f64, String> {
    let x: f64 = v.parse().map_err(|e| format!("{e}"))?;
    if x > 0.0 && x.is_finite() {
        Ok(x)
    } else {
        Err("must be a finite number above 0".into())
    }
}

fn count(v: &str) -> Result<usize, String> {
    match v.parse::<usize>().map_err(|e| format!("{e}"))? {
        0 => Err("must be at least 1".into()),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;
    use clap::CommandFactory;

    fn args(v: &[&str]) -> Result<Args, clap::Error> {
        parse_args(v.iter().map(OsString::from))
    }

    fn kind(v: &[&str]) -> ErrorKind {
        args(v).map(|_| ()).unwrap_err().kind()
    }

    #[test]
    fn the_declaration_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let a = args(&[]).unwrap();
        assert_eq!(
            (a.rate_mbit, a.rtt_ms, a.queue_bdp, a.seconds, a.seed),
            (100.0, 40.0, 1.0, 10.0, 1)
        );
        assert_eq!(
            (a.loss, a.reorder_ms, a.sessions, a.session_count()),
            (0.0, 10.0, 1, 1)
        );
        assert!(a.cc.is_none() && a.cc_mix.is_empty() && a.rtt_mix.is_empty());
        assert!(a.mtu.is_none() && a.plot.is_none() && a.qlog.is_none());
        assert_eq!(a.workload, Workload::Bulk);
        assert_eq!(
            (a.dgram_rate, a.dgram_size, a.dgram_priority),
            (60, 200, 500)
        );
        assert_eq!(
            (a.live_mode, a.fps, a.frame_bytes, a.frame_deadline_ms),
            (LiveModeArg::Deadline, 30, 25_000, 150.0)
        );
        let l = args(&["--workload", "live", "--live-mode", "reliable"]).unwrap();
        assert_eq!(
            (l.workload, l.live_mode),
            (Workload::Live, LiveModeArg::Reliable)
        );
        let g = args(&["--workload", "game", "--dgram-deadline-ms", "50"]).unwrap();
        assert_eq!(
            (g.workload, g.dgram_deadline_ms),
            (Workload::Game, Some(50.0))
        );
    }

    #[test]
    fn values_keep_their_syntax() {
        let a = args(&[
            "--loss",
            "20%",
            "--burst",
            "0.01",
            "--cc-mix",
            "bbr,cubic",
            "--cc",
            "reno",
            "--mtu",
            "1400",
            "--tolerated-loss",
            "0",
            "--sessions",
            "2",
            "--seed",
            "7",
        ])
        .unwrap();
        assert_eq!((a.loss, a.burst, a.tolerated_loss), (0.2, 0.01, Some(0.0)));
        assert_eq!(a.cc_mix, [ControllerKind::Bbr, ControllerKind::Cubic]);
        assert_eq!(a.cc, Some(ControllerKind::NewReno));
        assert_eq!((a.mtu, a.sessions, a.seed), (Some(1400), 2, 7));
        let a = args(&["--rate-schedule", "20@0,4@10,20@15.5"]).unwrap();
        assert_eq!(a.rate_schedule, [(20.0, 0.0), (4.0, 10.0), (20.0, 15.5)]);
        let a = args(&["--rtt-mix", "20,80", "--queue-bdp=0.5"]).unwrap();
        assert_eq!(
            (a.rtt_mix.as_slice(), a.session_count()),
            (&[20.0, 80.0][..], 2)
        );
        assert_eq!((a.queue_bdp, a.rtt_mix_label().as_str()), (0.5, "20/80"));
    }

    #[test]
    fn bad_values_are_refused_with_their_kind() {
        for bad in [
            &["--loss", "120%"][..],
            &["--loss", "lots"],
            &["--cc", "vegas"],
            &["--cc-mix", "bbr,vegas"],
            &["--sessions", "0"],
            &["--seconds", "0"],
            &["--rate-mbit", "inf"],
            &["--rtt-ms", "NaN"],
            &["--rtt-mix", "20,x"],
            &["--mtu", "-1"],
            &["--rate-schedule", "4"],
            &["--rate-schedule", "0@10"],
            &["--rate-schedule", "4@-1"],
        ] {
            let k = kind(bad);
            assert!(
                matches!(k, ErrorKind::ValueValidation | ErrorKind::UnknownArgument),
                "{bad:?}: {k:?}"
            );
        }
        assert_eq!(
            kind(&["--rtt-mix", "20,80", "--rtt-ms", "40"]),
            ErrorKind::ArgumentConflict
        );
        assert_eq!(
            kind(&["--rtt-mix", "20,80", "--sessions", "3"]),
            ErrorKind::ArgumentConflict
        );
        assert_eq!(kind(&["--bogus", "1"]), ErrorKind::UnknownArgument);
        let twice = args(&["--seconds", "5", "--seconds", "20"]).unwrap();
        assert_eq!(twice.seconds, 20.0, "the last of a repeated flag wins");
        assert_eq!(kind(&["--loss"]), ErrorKind::InvalidValue);
        assert_eq!(kind(&["--help"]), ErrorKind::DisplayHelp);
    }
}
