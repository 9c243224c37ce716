//! BBR's tuning: gains, thresholds and durations, each with the rule it
//! feeds.
//!
//! Owns: the constants the state machine in [`super`] reads; why each has
//! its value is in the module notes there.
//! Never: holds state or logic; a value changes only with the notes that
//! explain it.

use core::time::Duration;

/// Gains, in per cent.
pub(super) const STARTUP_PACING: u64 = 277;
pub(super) const DRAIN_PACING: u64 = 35;
pub(super) const UP_PACING: u64 = 125;
pub(super) const DOWN_PACING: u64 = 90;
pub(super) const CWND_GAIN: u64 = 200;
/// Pacing runs 1 % below the modelled rate, so the estimate's own error
/// does not build a queue; not in cruise after a clean round (see the
/// module notes and [`CLEAN_ROUNDS`]).
pub(super) const PACING_MARGIN: u64 = 99;
/// Start-up ends when the estimate grew less than this (per cent) for
/// [`FULL_BW_ROUNDS`] rounds.
pub(super) const FULL_BW_GROWTH: u64 = 125;
pub(super) const FULL_BW_ROUNDS: u32 = 3;
/// Probing up goes on while a round lifts the estimate by this (per cent).
pub(super) const UP_GROWTH: u64 = 105;
/// A round is congestive only when its loss exceeds the baseline by this
/// many standard deviations of a round of its size at the baseline rate.
pub(super) const LOSS_SIGMAS: u64 = 4;
/// Start-up ends after a round whose every RTT sample exceeded the minimum
/// by this share (per cent) of it: a standing queue.
pub(super) const STARTUP_QUEUE_PCT: u64 = 25;
/// Fewest datagrams a round must deliver for its smallest sample to count.
pub(super) const STARTUP_QUEUE_MIN_PACKETS: u64 = 4;
/// A round is congestive when its loss exceeds the baseline by this many
/// thousandths and a queue showed.
pub(super) const LOSS_THRESH_PM: u64 = 20;
/// Fewest datagrams a round must lose to be congestive (BBRv3's start-up
/// count of loss events): fewer cannot be told from random loss in a
/// small flow's round (see the module notes).
pub(super) const LOSS_MIN_PACKETS: u64 = 6;
/// The baseline is a running mean over its first rounds, then a moving
/// average with this weight.
pub(super) const BASELINE_WEIGHT: u64 = 8;
/// Highest baseline loss believed to be random, in thousandths.
pub(super) const MAX_BASELINE_PM: u64 = 300;
/// Multiplicative decrease of the bounds on a congestive round, per cent.
pub(super) const BETA: u64 = 70;
/// Share of the upper bound used while cruising, per cent.
pub(super) const HEADROOM: u64 = 85;
/// Queue a flow may keep in the probing cycle, in time at its estimate.
pub(super) const QUEUE_ALLOWANCE: Duration = Duration::from_millis(20);
/// Minimum-RTT filter window; its expiry starts min-RTT probing.
pub(super) const MIN_RTT_WINDOW: Duration = Duration::from_secs(10);
pub(super) const PROBE_RTT_DURATION: Duration = Duration::from_millis(200);
/// Probe wait: this plus up to [`PROBE_WAIT_SPREAD_MS`].
pub(super) const PROBE_WAIT_BASE: Duration = Duration::from_secs(2);
pub(super) const PROBE_WAIT_SPREAD_MS: u64 = 1000;
/// Rounds after which a cycle probes whatever the clock says.
pub(super) const MAX_PROBE_ROUNDS: u64 = 63;
/// Smallest window, in datagrams.
pub(super) const MIN_CWND_PACKETS: u64 = 4;
/// Extra window over `gain * BDP`, in datagrams (delayed and aggregated
/// acknowledgements).
pub(super) const QUANTA_PACKETS: u64 = 3;
/// Rounds in a row that must lose nothing and show no queue before cruise
/// paces at the estimate: a lossy path's occasional lossless round does
/// not qualify it.
pub(super) const CLEAN_ROUNDS: u8 = 4;
/// The queue each flow aims to keep of its own data, in datagrams (see
/// `fair.rs`).
pub(super) const FAIR_QUEUE_PACKETS: u64 = 8;
/// The same in low-delay mode.
pub(super) const FAIR_QUEUE_PACKETS_LOW_DELAY: u64 = 2;
/// Share of the way to the fair rule's target taken each round, per cent.
pub(super) const FAIR_GAIN: u64 = 75;
/// Bounds of the fair rate around the estimate, per cent.
pub(super) const FAIR_MIN: u64 = 50;
pub(super) const FAIR_MAX: u64 = 125;
/// Cruising rounds in a row whose queue held more than
/// [`FAIR_CONTEST_ALPHAS`] times alpha of this flow's data before the fair
/// rule gives way to the model's own rate (see `fair.rs`).
pub(super) const FAIR_CONTEST_ROUNDS: u8 = 8;
pub(super) const FAIR_CONTEST_ALPHAS: u64 = 2;
