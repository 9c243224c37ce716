//! A BBR-style controller: a model of the path (its bottleneck rate and
//! its minimum round trip) built from delivery-rate samples, a pacing rate
//! and a window taken from that model, and probing cycles that keep the
//! model current. The ideas follow draft-ietf-ccwg-bbr (BBRv3); the design
//! choices below that differ are this crate's, with the reasons.
//!
//! Owns: the phases (start-up, drain, the four-part bandwidth probing cycle,
//! min-RTT probing), the bandwidth filter (the largest delivery rate over
//! the current and the previous probing cycle), the minimum RTT and its
//! age, the upper and lower inflight bounds, the per-round loss accounting
//! and the pacing rate.
//! Never: tracks packets, measures rates itself (the shared
//! [`super::delivery_rate`] sampler does), reads a clock, or uses floating
//! point: rates are bytes per second, gains integer percentages.
//!
//! # Phases
//! - start-up: pacing at 2.77x the estimate, window growing with every
//!   byte acknowledged (application-limited or not) up to twice the
//!   estimate's BDP, until the estimate stops growing by 25 % for three
//!   rounds, a round's loss is congestive, a queue persists through a
//!   whole round that did not lift the estimate by 25 %, or a datagram is
//!   lost while every sample of the round so far showed that queue and
//!   none was 25 % above the round before (see below);
//! - drain: pacing at 0.35x until what is in flight fits one BDP;
//! - probing cycle, each gain multiplying the fair rate (below): DOWN
//!   (0.9x, until in flight is at most one BDP and below the upper bound's
//!   headroom, or a full round has passed), CRUISE (1.0x, the fair rate
//!   moving each round toward the same queue for every flow, the lower
//!   bounds reacting to congestive loss), REFILL (1.0x for one round with
//!   the lower bounds lifted), UP (1.25x, the upper bound raised by a
//!   doubling step each round in which it limited the window, until a
//!   congestive round, or a round with 1.25x the fair rate's BDP in flight
//!   that neither lifted the estimate by 5 % nor raised the bound). A cycle
//!   probes again after 2-3 s or 63 rounds, whichever comes first (the
//!   second keeps it fair to Reno/CUBIC flows on short paths);
//! - min-RTT probing: when for 10 s no RTT sample came within the no-queue
//!   slack of the minimum (1/16 of it, at least 1 ms), the window drops to
//!   half a BDP for 200 ms and a round, so queues drain and the floor is
//!   measured again. A sample that close already shows the path without a
//!   queue, so a flow that keeps none (pacing at the estimate, alone on
//!   its bottleneck) never gives up that window. BBR's rule, a sample at
//!   or below the minimum itself, rarely holds on a path with microseconds
//!   of jitter, and then costs a 200 ms path about 2 % of the link (half
//!   the window for 1.5 round trips every 10 s). A floor that rose by less
//!   than the slack stays that much low.
//!
//! # Telling congestion from random loss (this crate's design)
//! BBRv3 reacts when more than 2 % of a round's packets are lost. On a link
//! that drops 5-20 % at random every round is over that, and the lower
//! bounds then shrink the rate round after round (each round's delivery
//! rate is itself cut by the loss). Here a round's loss is congestive only
//! when all of these hold:
//! - the round saw a **queue**: its largest RTT sample exceeded the minimum
//!   by 1/16 of it (at least 1 ms). A drop-tail queue that overflows has
//!   filled first; random loss comes without delay; and
//! - its loss fraction exceeds the path's **baseline** loss by 2 points:
//!   the baseline is the loss fraction of rounds that were not congestive
//!   (a running mean over the first eight, then a moving average of weight
//!   1/8), so random loss raises it and stops counting, while a queue
//!   overflow is a jump above it; and
//! - it lost at least **six datagrams**; and
//! - the margin over the baseline is also **four standard deviations** of a
//!   round of that many datagrams at the baseline rate: a small flow's
//!   round holds a few losses, and their tail is heavier than the normal
//!   one (at three, a flow of 80 datagrams a round on a 5 % link reads one
//!   round in fifty as congestion, the large flow beside it almost none).
//!
//! The six-datagram floor: a flow holding a small share sends few
//! datagrams a round: at 40 a round and 1 % random loss, two losses (5 %)
//! come in one round of 16 and three in one of 100, and before the
//! baseline is learned nothing else tells them from an overflow. Each such
//! verdict would cut the small flow's lower bounds to 0.7x, or end its
//! start-up, while a flow with hundreds of datagrams a round stays under
//! the 2-point margin: random loss would starve the smaller flow and never
//! the larger. A real overflow drops a datagram of every flow at the tail
//! for as long as it lasts, so six is reached in a round of any flow that
//! holds a share of the queue.
//!
//! The baseline learns from every round that was not congestive, queue or
//! not: a flow that joins a link another flow already shares sees that
//! flow's queue (the fair rule's, below) in nearly every round, and a
//! baseline learned only from queue-free rounds would stay near zero for
//! it while the incumbent's holds the path's loss rate: on a 5 % link the
//! newcomer would pace below its share and read rounds of ordinary loss as
//! congestion.
//!
//! A buffer too shallow to show as delay (under 1/16 of the RTT) leaves
//! only the other signals: start-up still ends when the estimate stops
//! growing, and the bounds still follow the delivery rate.
//! Random loss then costs only its retransmissions; a real overflow still
//! sets the upper bound (while probing) or cuts the lower bounds (while
//! cruising) at once.
//!
//! Delivery-rate samples count only what arrived, so with a baseline loss
//! `b` they measure `(1 - b)` of what the path carries: the model divides
//! its estimate by `1 - b` (b at most 30 %) before pacing and sizing the
//! window. Without that, a flow on a lossy link paces below the link by the
//! loss rate and its estimate can only grow by `1.25 * (1 - b)` per probe.
//! If part of the baseline were in fact congestion, the extra rate builds a
//! queue, and the next loss above the baseline is read as congestion.
//!
//! # Converging to a fair share (this crate's design)
//! A response in proportion to a flow's own rate (the estimate's gains,
//! the 0.7x cuts, a queue allowance in time at one's own rate) holds
//! whatever split two flows reach, and random loss (which is not read as
//! congestion) never makes the larger one yield. So in the probing cycle
//! each flow paces and sizes its window from a **fair rate** that steers
//! the amount of its own data in the bottleneck queue toward the same
//! number of datagrams for every flow, as TCP Vegas, FAST TCP and Copa do:
//! behind one FIFO queue that means equal rates, whatever the random loss
//! or the round trip (`fair.rs` has the rule and why its constants). The
//! lower bounds give way to it in the cycle; the upper bound still caps
//! its window; and it gives way itself to a queue it cannot drain (one a
//! loss-based flow keeps). A flow that starts late beside an incumbent ends its
//! start-up at a fraction of the link; besides the fair rule:
//! - DOWN ends after a full round even if in flight still exceeds a BDP:
//!   the queue the other flow keeps does not drain at this flow's 0.9x,
//!   and a small flow would otherwise spend whole cycles below its
//!   estimate;
//! - UP goes on while it pays: while a round lifts the estimate by 5 % or
//!   raises the upper bound (a bound set by one congestive round would
//!   otherwise grow by one datagram per cycle, UP ending after a round).
//!
//! # Low delay (this crate's design)
//! A session that carries datagrams beside its streams asks for a small
//! queue ([`Controller::set_low_delay`]): see `low_delay.rs`.
//!
//! # Other choices
//! - Start-up also ends when every RTT sample of a round (ack delay
//!   removed) was at least a quarter above the minimum: a queue that does
//!   not drain for a whole round means the pipe is full, whatever the
//!   estimate does. The plateau test alone can run three more rounds into
//!   a full queue when a late sample lifts the estimate by 25 % and resets
//!   its count (a bulk send after an application-limited phase lost four
//!   rounds of overflow that way, where a clean start lost one). The
//!   quarter is above what jitter, reordering or a delayed ack leave in a
//!   round's smallest sample. A loss while every sample of the round so
//!   far sat that high ends start-up at once: the buffer behind the queue
//!   overflowed. Waiting for the round's end keeps a window of two BDPs
//!   for up to another round trip, which overflows a one-BDP buffer a
//!   second time; each overflow holds the data behind it at the receiver
//!   until its repair arrives, and the flow windows can run dry meanwhile.
//!   Random loss comes without that queue. Neither queue test counts
//!   while the flow's delivery rate still grows by a quarter a round (the
//!   round's estimate, or for the loss test the round's samples so far
//!   against the round before): a flow alone that filled the pipe stops
//!   gaining, while one that starts beside another flow's standing queue
//!   sees that queue from its first rounds and still gains on the link.
//!   Ended there, start-up would leave it at a twentieth of the link,
//!   which probing regains only 10-30 % a cycle; the estimate's plateau
//!   (three rounds under 25 %) still ends it.
//! - Cruise paces at the estimate itself, without BBR's 1 % margin below
//!   it, after four rounds in a row that lost nothing and whose smallest
//!   RTT sample sat within a quarter of the no-queue slack of the minimum
//!   (1/64 of it, at least 250 us), on a path with no baseline loss. Four,
//!   not one: on a path with 1 % random loss a small flow's round is often
//!   lossless, and pacing at the estimate there shifted shares between
//!   flows (four sessions at 1 % loss, seed 3: Jain 0.90 after single
//!   rounds, 0.98 after four). Cruise is most of a
//!   long transfer, and the margin leaves 1 % of the link idle throughout
//!   it. Any other round brings the margin back: an estimate above the
//!   link builds a queue at 100 %, which the next round's smallest sample
//!   shows, and the margin then drains it; under random loss (the
//!   estimate divided by `1 - b` multiplies its error) and with reordering
//!   (acknowledgements in bursts lift rate samples) the margin stays.
//! - In cruise the window keeps 15 % headroom below the upper bound, but
//!   never less than one BDP: pacing at the estimate already keeps the queue
//!   empty, and a window below one BDP would leave the link idle.
//! - The probe wait is spread over 2-3 s by a hash of the round count and
//!   the bytes delivered, not a random draw, so runs replay exactly.
//! - RTT fairness: outside start-up, drain and min-RTT probing the window is at
//!   most one BDP (1.25 while probing up) plus 20 ms of queue at the estimate,
//!   not `2 * BDP` (and within it, the fair rule's window). A `2 * BDP` window
//!   lets an 80 ms flow keep 80 ms of queue while a 20 ms flow behind that queue
//!   is window-limited from 20 ms on: its delivery rate, then its estimate and
//!   its window, shrink cycle after cycle (simulated 20 ms against 80 ms on one
//!   bottleneck: 0.16 / 0.84 of it after 120 s). With the queue allowance counted
//!   in time, both flows stop at the same queue; the fair rule then evens their
//!   rates (0.42 / 0.54 of the link over 60 s).

use core::time::Duration;

use super::delivery_rate::RateSample;
use super::{bytes_in, mul_div, Controller, ControllerPhase, RecoveryPeriod, WindowLimits};
use crate::recovery::rtt::RttEstimator;
use crate::recovery::to_u64;
use crate::time::Instant;

use params::*;

/// The most an RTT sample may exceed the minimum by and still show no
/// queue: 1/16 of it, at least 1 ms.
fn queue_slack(min_rtt: Duration) -> Duration {
    (min_rtt / 16).max(Duration::from_millis(1))
}

/// BBR's state machine; reported as a [`ControllerPhase`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BbrPhase {
    /// Exponential search for the bottleneck rate.
    Startup,
    /// Draining the queue start-up built.
    Drain,
    /// Probing cycle: draining below the estimate.
    ProbeBwDown,
    /// Probing cycle: sending at the estimate.
    ProbeBwCruise,
    /// Probing cycle: one round at the estimate with the lower bounds lifted.
    ProbeBwRefill,
    /// Probing cycle: sending above the estimate.
    ProbeBwUp,
    /// Measuring the minimum RTT with a small window.
    ProbeRtt,
}

/// Round-trip accounting, reset at each round start.
#[derive(Clone, Copy, Debug, Default)]
struct Round {
    /// Total delivered when the round began.
    delivered_start: u64,
    lost: u64,
    /// Largest in-flight at send of a packet lost in the round.
    lost_inflight: u64,
    max_rtt: Duration,
    /// Smallest RTT sample of the round, ack delay removed (`None` before
    /// the round's first).
    min_rtt: Option<Duration>,
    /// Largest valid delivery rate and delivered-bytes of the round.
    bw: u64,
    inflight: u64,
}

/// BBR-style congestion control.
#[derive(Clone, Debug)]
pub struct Bbr {
    limits: WindowLimits,
    phase: BbrPhase,
    cwnd: u64,
    /// Bytes per second.
    pacing_rate: u64,
    /// Largest delivery rate of the current and of the previous cycle.
    bw: [u64; 2],
    /// Lower bounds (`u64::MAX` when lifted) and upper bound (`u64::MAX`
    /// until a congestive round sets it).
    bw_lo: u64,
    inflight_lo: u64,
    inflight_hi: u64,
    min_rtt: Option<Duration>,
    min_rtt_stamp: Instant,
    next_round_delivered: u64,
    round_count: u64,
    round: Round,
    /// The largest delivery rate sample of the round before this one.
    last_round_bw: u64,
    /// Smoothed loss fraction of non-congestive rounds, in thousandths.
    baseline_pm: u64,
    /// Rounds the baseline was computed from (counting from 1).
    baseline_rounds: u64,
    full_bw: u64,
    full_bw_count: u32,
    filled_pipe: bool,
    cycle_start: Instant,
    cycle_round: u64,
    probe_wait: Duration,
    phase_round: u64,
    up_step: u64,
    /// The estimate when the current UP round began.
    up_bw: u64,
    /// The round that just ended raised the upper bound while probing up.
    up_raised: bool,
    /// Rounds in a row that lost nothing and showed no queue, on a path
    /// without baseline loss: from [`CLEAN_ROUNDS`] on, cruise paces at the
    /// estimate.
    clean_rounds: u8,
    probe_rtt_done: Option<Instant>,
    probe_rtt_round_done: bool,
    /// Acknowledged bytes of window-limited packets since the last sample.
    growth: u64,
    /// Acknowledged bytes of application-limited packets since the last
    /// sample, counted in start-up only.
    growth_app: u64,
    recovery: RecoveryPeriod,
    /// The session carries latency-sensitive traffic (`low_delay.rs`).
    low_delay: bool,
    /// Bytes per second the probing cycle paces at before its gains; 0
    /// until the first cruising round (`fair.rs`).
    fair_rate: u64,
    /// The latest rate sample was application-limited.
    fair_app_limited: bool,
    /// Settled cruising rounds in a row with a queue the fair rule does
    /// not drain (`fair.rs`).
    fair_contest: u8,
}

impl Bbr {
    /// A controller in start-up, with `limits` and the RTT assumed before
    /// the first sample.
    pub fn new(limits: WindowLimits, initial_rtt: Duration) -> Self {
        let mut b = Bbr {
            limits,
            phase: BbrPhase::Startup,
            cwnd: limits.initial,
            pacing_rate: 0,
            bw: [0; 2],
            bw_lo: u64::MAX,
            inflight_lo: u64::MAX,
            inflight_hi: u64::MAX,
            min_rtt: None,
            min_rtt_stamp: Instant::ZERO,
            next_round_delivered: 0,
            round_count: 0,
            round: Round::default(),
            last_round_bw: 0,
            baseline_pm: 0,
            baseline_rounds: 1,
            full_bw: 0,
            full_bw_count: 0,
            filled_pipe: false,
            cycle_start: Instant::ZERO,
            cycle_round: 0,
            probe_wait: PROBE_WAIT_BASE,
            phase_round: 0,
            up_step: limits.datagram,
            up_bw: 0,
            up_raised: false,
            clean_rounds: 0,
            probe_rtt_done: None,
            probe_rtt_round_done: false,
            growth: 0,
            growth_app: 0,
            recovery: RecoveryPeriod::default(),
            low_delay: false,
            fair_rate: 0,
            fair_app_limited: false,
            fair_contest: 0,
        };
        b.pacing_rate = b.initial_pacing(initial_rtt);
        b
    }

    /// The current state of the state machine.
    #[cfg(test)]
    pub(crate) fn bbr_phase(&self) -> BbrPhase {
        self.phase
    }

    /// The bottleneck rate estimate, bytes per second (0 before a sample).
    pub fn max_bw(&self) -> u64 {
        self.bw[0].max(self.bw[1])
    }

    /// The rate the model sends at: the estimate under the lower bound,
    /// divided by the share of packets the path's random loss lets through
    /// (see the module notes).
    pub fn bw(&self) -> u64 {
        self.loss_scaled(self.max_bw().min(self.bw_lo))
    }

    /// `bw` divided by the share of packets the path's random loss lets
    /// through.
    fn loss_scaled(&self, bw: u64) -> u64 {
        mul_div(bw, 1000, 1000 - self.baseline_pm.min(MAX_BASELINE_PM))
    }

    /// The minimum RTT the model holds.
    pub fn min_rtt(&self) -> Option<Duration> {
        self.min_rtt
    }

    /// The upper inflight bound (`u64::MAX` while unset).
    pub fn inflight_hi(&self) -> u64 {
        self.inflight_hi
    }

    /// The baseline (random) loss the model attributes to the path, in
    /// thousandths.
    pub fn baseline_loss_pm(&self) -> u64 {
        self.baseline_pm
    }

    /// The datagram size changed (path MTU discovery): the window unit and
    /// minimum follow; the window in bytes is kept.
    pub fn set_datagram_size(&mut self, bytes: u64) {
        self.limits = self.limits.with_datagram(bytes);
        self.cwnd = self.cwnd.max(self.min_cwnd());
    }

    fn min_cwnd(&self) -> u64 {
        self.limits
            .datagram
            .saturating_mul(MIN_CWND_PACKETS)
            .max(self.limits.minimum)
    }

    fn initial_pacing(&self, rtt: Duration) -> u64 {
        let micros = rtt.as_micros().max(1);
        let rate = u128::from(self.limits.initial)
            .saturating_mul(u128::from(STARTUP_PACING))
            .saturating_mul(10_000)
            / micros;
        u64::try_from(rate).unwrap_or(u64::MAX)
    }

    /// `gain` per cent of the bandwidth-delay product, or `None` before a
    /// model exists.
    fn bdp(&self, gain: u64) -> Option<u64> {
        let rtt = self.min_rtt?;
        let bw = self.bw();
        if bw == 0 {
            return None;
        }
        Some(mul_div(bytes_in(bw, rtt), gain, 100))
    }

    fn update_min_rtt(&mut self, now: Instant, rtt: Duration) -> bool {
        let expired = self
            .min_rtt
            .is_some_and(|_| now.saturating_duration_since(self.min_rtt_stamp) > MIN_RTT_WINDOW);
        if rtt.is_zero() {
            return expired;
        }
        match self.min_rtt {
            Some(m) if rtt > m && !expired => {
                // A sample within the no-queue slack of the floor shows the
                // path without a queue: the floor holds, and min-RTT probing
                // (a half-BDP window for 200 ms and a round) would only
                // measure it again.
                if rtt <= m + queue_slack(m) {
                    self.min_rtt_stamp = now;
                }
            }
            _ => {
                self.min_rtt = Some(rtt);
                self.min_rtt_stamp = now;
            }
        }
        expired
    }

    /// A new probing cycle begins (entering DOWN): the bandwidth filter
    /// moves on one cycle.
    fn start_cycle_marker(&mut self) {
        self.bw[1] = self.bw[0];
        self.bw[0] = 0;
        self.cycle_round = self.round_count;
        self.phase_round = self.round_count;
        let spread = (self
            .round_count
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(self.next_round_delivered)
            >> 20)
            % PROBE_WAIT_SPREAD_MS;
        self.probe_wait = PROBE_WAIT_BASE + Duration::from_millis(spread);
    }

    fn enter(&mut self, phase: BbrPhase, now: Instant) {
        self.phase = phase;
        self.phase_round = self.round_count;
        match phase {
            BbrPhase::ProbeBwDown => {
                self.start_cycle_marker();
                self.cycle_start = now;
            }
            BbrPhase::ProbeBwCruise if self.fair_rate == 0 => self.fair_rate = self.bw(),
            BbrPhase::ProbeBwRefill => {
                self.bw_lo = u64::MAX;
                self.inflight_lo = u64::MAX;
                self.up_step = self.limits.datagram;
            }
            BbrPhase::ProbeBwUp => self.up_bw = self.max_bw(),
            _ => {}
        }
    }

    fn time_to_probe(&self, now: Instant) -> bool {
        let rounds = self.round_count.saturating_sub(self.cycle_round);
        let bdp_packets = self.bdp(100).unwrap_or(0) / self.limits.datagram.max(1);
        now.saturating_duration_since(self.cycle_start) >= self.probe_wait
            || rounds >= MAX_PROBE_ROUNDS.min(bdp_packets.max(1))
    }

    fn advance(&mut self, now: Instant, in_flight: u64, round_start: bool, probe_rtt_due: bool) {
        let bdp = self.bdp(100);
        match self.phase {
            BbrPhase::Startup => {}
            BbrPhase::Drain => {
                if bdp.is_none_or(|b| in_flight <= b) {
                    self.enter(BbrPhase::ProbeBwDown, now);
                }
            }
            BbrPhase::ProbeBwDown => {
                if self.time_to_probe(now) {
                    self.enter(BbrPhase::ProbeBwRefill, now);
                } else if bdp.is_none_or(|b| in_flight <= b.min(self.headroom_bound(b)))
                    // A queue this flow did not build may not drain at its
                    // 0.9x: after a full round it cruises all the same.
                    || (round_start && self.round_count > self.phase_round + 1)
                {
                    self.enter(BbrPhase::ProbeBwCruise, now);
                }
            }
            BbrPhase::ProbeBwCruise => {
                if self.time_to_probe(now) {
                    self.enter(BbrPhase::ProbeBwRefill, now);
                }
            }
            BbrPhase::ProbeBwRefill => {
                if round_start && self.round_count > self.phase_round {
                    self.enter(BbrPhase::ProbeBwUp, now);
                }
            }
            BbrPhase::ProbeBwUp => {
                // Probing is judged by what it delivers: it goes on while a
                // round lifts the estimate or raises the upper bound (the
                // bound, not the path, limited the window), and ends at a
                // round that did neither once 1.25 BDP is in flight.
                // The target is what UP's window lets into flight: the fair
                // rate's BDP at UP's gain, within the estimate's (see
                // `set_cwnd`).
                let up = self.up_pacing();
                let target = self
                    .cycle_bdp(up)
                    .min(self.queue_bound(self.bdp(up).unwrap_or(0), 0));
                if round_start && self.round_count > self.phase_round {
                    let max = self.max_bw();
                    let grew = max >= mul_div(self.up_bw, UP_GROWTH, 100);
                    self.up_bw = max;
                    if !grew && !self.up_raised && in_flight >= target {
                        self.enter(BbrPhase::ProbeBwDown, now);
                    }
                }
            }
            BbrPhase::ProbeRtt => {
                let cap = self.probe_rtt_cwnd();
                match self.probe_rtt_done {
                    None if in_flight <= cap => {
                        self.probe_rtt_done = Some(now + PROBE_RTT_DURATION);
                        self.probe_rtt_round_done = false;
                        self.phase_round = self.round_count;
                    }
                    None => {}
                    Some(done) => {
                        if round_start && self.round_count > self.phase_round {
                            self.probe_rtt_round_done = true;
                        }
                        if self.probe_rtt_round_done && now >= done {
                            self.min_rtt_stamp = now;
                            self.probe_rtt_done = None;
                            self.bw_lo = u64::MAX;
                            self.inflight_lo = u64::MAX;
                            self.fair_rate = 0;
                            if self.filled_pipe {
                                self.enter(BbrPhase::ProbeBwDown, now);
                            } else {
                                self.enter(BbrPhase::Startup, now);
                            }
                        }
                    }
                }
            }
        }
        if probe_rtt_due && self.phase != BbrPhase::ProbeRtt {
            self.enter(BbrPhase::ProbeRtt, now);
            self.probe_rtt_done = None;
        }
    }

    /// The upper bound with cruising headroom, never below one BDP.
    fn headroom_bound(&self, bdp: u64) -> u64 {
        if self.inflight_hi == u64::MAX {
            return u64::MAX;
        }
        mul_div(self.inflight_hi, HEADROOM, 100).max(bdp)
    }

    /// `bdp` plus the bytes the estimate delivers in [`QUEUE_ALLOWANCE`]
    /// (at most one more BDP) and `quanta`: the queue a flow may keep is
    /// counted in time, the same for a 20 ms and an 80 ms flow (see the
    /// module notes on RTT fairness). No bound without a model (`bdp` 0).
    fn queue_bound(&self, bdp: u64, quanta: u64) -> u64 {
        if bdp == 0 {
            return u64::MAX;
        }
        let allowance = bytes_in(self.bw(), self.queue_allowance()).min(bdp);
        bdp.saturating_add(allowance).saturating_add(quanta)
    }

    fn probe_rtt_cwnd(&self) -> u64 {
        self.bdp(50).unwrap_or(0).max(self.min_cwnd())
    }

    fn pacing_gain(&self) -> u64 {
        match self.phase {
            BbrPhase::Startup => STARTUP_PACING,
            BbrPhase::Drain => DRAIN_PACING,
            BbrPhase::ProbeBwDown => DOWN_PACING,
            BbrPhase::ProbeBwUp => self.up_pacing(),
            BbrPhase::ProbeBwCruise | BbrPhase::ProbeBwRefill | BbrPhase::ProbeRtt => 100,
        }
    }

    fn set_pacing_rate(&mut self, srtt: Duration) {
        let bw = self.bw();
        if bw == 0 {
            self.pacing_rate = self.pacing_rate.max(self.initial_pacing(srtt));
            return;
        }
        let margin = if self.phase == BbrPhase::ProbeBwCruise && self.clean_rounds >= CLEAN_ROUNDS {
            100
        } else {
            PACING_MARGIN
        };
        let rate = mul_div(
            mul_div(self.cycle_rate(), self.pacing_gain(), 100),
            margin,
            100,
        );
        if self.filled_pipe || rate > self.pacing_rate {
            self.pacing_rate = rate;
        }
    }

    fn set_cwnd(&mut self, total_delivered: u64) {
        let growth = core::mem::take(&mut self.growth);
        let growth_app = core::mem::take(&mut self.growth_app);
        let quanta = self.limits.datagram.saturating_mul(QUANTA_PACKETS);
        match self.bdp(self.cwnd_gain()) {
            Some(target) => {
                let target = target.saturating_add(quanta);
                if self.filled_pipe {
                    self.cwnd = self.cwnd.saturating_add(growth).min(target);
                } else {
                    if self.cwnd < target || total_delivered < self.limits.initial {
                        self.cwnd = self.cwnd.saturating_add(growth);
                    }
                    // Application-limited bytes grow the window to twice
                    // the BDP and no further: no allowance for aggregated
                    // acknowledgements, which only a window-limited
                    // sender needs.
                    let plain = target.saturating_sub(quanta);
                    if self.cwnd < plain {
                        self.cwnd = self.cwnd.saturating_add(growth_app).min(plain);
                    }
                }
            }
            None => self.cwnd = self.cwnd.saturating_add(growth),
        }
        let bdp = self.bdp(100).unwrap_or(0);
        let hi = match self.phase {
            BbrPhase::ProbeBwDown | BbrPhase::ProbeBwCruise => {
                self.headroom_bound(bdp).min(self.queue_bound(bdp, quanta))
            }
            BbrPhase::ProbeBwUp => {
                let up = self.bdp(self.up_pacing()).unwrap_or(0);
                self.inflight_hi.min(self.queue_bound(up, quanta))
            }
            _ => self.inflight_hi,
        };
        // The fair rule's window, where it steers, replaces the lower bound.
        let mut cap = hi.min(self.fair_window(quanta).unwrap_or(self.inflight_lo));
        if self.phase == BbrPhase::ProbeRtt {
            cap = cap.min(self.probe_rtt_cwnd());
        }
        self.cwnd = self.cwnd.min(cap).max(self.min_cwnd());
    }
}

impl Controller for Bbr {
    fn on_packet_sent(&mut self, _now: Instant, _bytes: usize) {}

    fn on_ack(
        &mut self,
        _now: Instant,
        _sent_time: Instant,
        bytes: usize,
        _rtt: &RttEstimator,
        app_limited: bool,
    ) {
        // In start-up every acknowledged byte counts, as in BBR: the window
        // is bounded there by twice the estimate's BDP (`set_cwnd`), which
        // only grows with what the path delivered. A sender that flow
        // control held back for a moment marks a whole round's packets
        // application-limited; counting only window-limited bytes, the next
        // round could not grow and start-up would lose a round trip at every
        // such step.
        if !app_limited {
            self.growth = self.growth.saturating_add(to_u64(bytes));
        } else if self.phase == BbrPhase::Startup {
            self.growth_app = self.growth_app.saturating_add(to_u64(bytes));
        }
    }

    fn on_packet_lost(&mut self, bytes: u64, in_flight_at_send: u64) {
        self.round.lost = self.round.lost.saturating_add(bytes);
        self.round.lost_inflight = self.round.lost_inflight.max(in_flight_at_send);
    }

    fn on_rate_sample(
        &mut self,
        now: Instant,
        rs: &RateSample,
        in_flight: u64,
        rtt: &RttEstimator,
    ) {
        let (latest, path_delay) = if rtt.has_sample() {
            (rtt.latest(), rtt.latest_adjusted())
        } else {
            (Duration::ZERO, Duration::ZERO)
        };
        let probe_rtt_due = self.update_min_rtt(now, latest);
        let rate = if rs.is_valid() { rs.rate() } else { 0 };
        if rate > 0 && (rate >= self.max_bw() || !rs.app_limited) {
            self.bw[0] = self.bw[0].max(rate);
        }
        // A sample that starts a round belongs to the new one.
        let round_start = rs.prior_delivered >= self.next_round_delivered;
        if round_start {
            self.next_round_delivered = rs.total_delivered;
            self.round_count += 1;
            self.end_round(now, rs, in_flight);
        }
        // Queue evidence comes from the path's delay, not from the time the
        // peer held its acknowledgement: under random loss a receiver often
        // sees a lone packet and waits out its ack delay, which would read
        // as a queue and make a lossy round congestive (ending start-up in
        // its second round at 20 % loss).
        self.round.max_rtt = self.round.max_rtt.max(path_delay);
        if !path_delay.is_zero() {
            let m = self.round.min_rtt.map_or(path_delay, |m| m.min(path_delay));
            self.round.min_rtt = Some(m);
        }
        if rate > 0 {
            self.round.bw = self.round.bw.max(rate);
            self.round.inflight = self.round.inflight.max(rs.delivered);
        }
        self.check_startup_overflow(rs);
        self.advance(now, in_flight, round_start, probe_rtt_due);
        self.set_pacing_rate(rtt.smoothed());
        self.fair_app_limited = rs.app_limited;
        self.set_cwnd(rs.total_delivered);
    }

    fn on_congestion_event(&mut self, now: Instant, sent_time: Instant, persistent: bool) {
        // Loss is read per round in `end_round`; only the bookkeeping of
        // "one event per round trip" and persistent congestion act here.
        self.recovery.enter(now, sent_time);
        if persistent {
            self.cwnd = self.min_cwnd();
            self.bw_lo = u64::MAX;
            self.inflight_lo = u64::MAX;
            self.recovery.reset();
        }
    }

    fn window(&self) -> u64 {
        self.cwnd
    }

    fn in_slow_start(&self) -> bool {
        self.phase == BbrPhase::Startup
    }

    fn in_recovery(&self, sent_time: Instant) -> bool {
        self.recovery.covers(sent_time)
    }

    fn pacing_rate(&self) -> Option<u64> {
        Some(self.pacing_rate)
    }

    fn phase(&self) -> ControllerPhase {
        match self.phase {
            BbrPhase::Startup => ControllerPhase::Startup,
            BbrPhase::Drain => ControllerPhase::Drain,
            BbrPhase::ProbeBwDown => ControllerPhase::ProbeBwDown,
            BbrPhase::ProbeBwCruise => ControllerPhase::ProbeBwCruise,
            BbrPhase::ProbeBwRefill => ControllerPhase::ProbeBwRefill,
            BbrPhase::ProbeBwUp => ControllerPhase::ProbeBwUp,
            BbrPhase::ProbeRtt => ControllerPhase::ProbeRtt,
        }
    }

    fn delivery_rate(&self) -> Option<u64> {
        Some(self.bw())
    }

    fn set_low_delay(&mut self, on: bool) {
        self.low_delay = on;
    }
}

mod fair;
mod low_delay;
mod params;
mod rest;
mod rounds;
#[cfg(test)]
mod tests;

pub(crate) use rest::BbrRest;
