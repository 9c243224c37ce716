//! The fair rule: in the probing cycle a flow steers the amount of its own
//! data standing in the bottleneck queue toward the same absolute number
//! of datagrams every flow aims for (the equilibrium of TCP Vegas, FAST TCP
//! and Copa).
//!
//! Owns: the fair rate, its update at the end of each cruising round, the
//! rate the probing cycle's gains multiply and the window it allows.
//! Never: touches the bandwidth filter, the bounds or the phases: the
//! estimate still bounds the fair rate and the phases still choose the
//! gain.
//!
//! Behind one FIFO queue every flow waits the same queueing delay `q` (a
//! round's smallest RTT sample above the minimum RTT), so by Little's law
//! the bytes a flow keeps queued are its rate times `q`. Each cruising
//! round moves the rate toward keeping alpha datagrams queued, as FAST TCP
//! moves its window (`w <- w * base / RTT + alpha`), three quarters of the
//! way:
//!
//! `x <- x + 0.75 * (alpha - x * q) / (base + q)`
//!
//! The equilibrium is `x * q = alpha` for every flow sharing the queue:
//! equal rates, whatever each flow's random loss or round trip, with
//! `N * alpha` datagrams queued in all. The decrease is in proportion to
//! the flow's own rate (`x * q`), the increase the same for every flow
//! (`alpha / RTT`): the additive-increase, multiplicative-decrease pair
//! under which shares converge (Chiu and Jain). A split moves toward even
//! by about `0.75 * q / RTT` a round, so alpha also sets the speed.
//!
//! The rule steers by the window: a flow that fills its window sends the
//! fair rate's BDP (at the minimum RTT, times the phase's gain, plus three
//! datagrams) and paces at the fair rate times the gain. The window clocks
//! the sending: what a round adds to the queue slows the acknowledgements
//! at once, where a pacing rate alone integrates its error into the queue
//! and, with a round trip of delay, overshoots: a flow alone on 100 Mbit/s
//! x 40 ms then swung between an empty queue and several milliseconds of
//! one, and carried 0.935 of the link instead of 0.95. The window only
//! steers a flow that fills it: while its latest rate sample is
//! application-limited (a media or game session), the cycle's usual
//! window (one BDP of the estimate plus the queue allowance) applies,
//! which leaves room for the datagrams random loss holds in flight until
//! they are declared lost (live media at 5 % loss, seed 1, kept 0.88 of
//! its frames on time under the fair window, 0.90 under the usual one).
//!
//! alpha is counted in datagrams, not in time at the flow's own rate,
//! which would hold any split: eight (two in low-delay mode). Its size
//! sets both the standing queue and the speed of convergence. A flow alone
//! keeps alpha datagrams queued (0.9 ms at 100 Mbit/s: median RTT 41.1 ms
//! on a 40 ms path, 40.1 without the rule); two flows at 5 % random loss
//! on 100 Mbit/s x 40 ms (seeds 1, 2, 3, 5, 6, 7, 9, 20 s) ended at
//! min/max 0.81 or more with eight, down to 0.74 with four (median RTT
//! alone 40.4 ms), and up to 0.84 with sixteen at 42.0 ms. Low-delay mode
//! aims for two, so datagrams beside its bulk data wait about 1 ms more
//! at 20 Mbit/s.
//!
//! The fair rate stays within half and 1.25x of the estimate (the filter's
//! maximum, divided by the share random loss lets through, without the
//! lower bound): a flow the path delivers more for lifts its estimate,
//! and with it the bound. DOWN, REFILL and UP multiply the fair rate, so a
//! flow that yielded does not undo its yield by probing from the larger
//! estimate its filter still holds. The rule starts at the model's rate
//! on the first cruising round and again after min-RTT probing. A round
//! is used only when its packets were sent in cruise (from the third round
//! of the phase on) and it was not application-limited; a congestive
//! round is left to the bounds it sets (the upper bound still caps the
//! window): its queue already shows in `q`, and a 0.7x cut of the fair
//! rate on top, regained only additively, cost a flow alone behind a
//! 0.1-BDP buffer a twentieth of the link (0.90 of it instead of 0.95)
//! and one on a 300 ms path at 1 % loss a tenth (0.70 instead of 0.80).
//!
//! A flow that does not steer toward alpha (CUBIC, Reno: loss-based) fills
//! the buffer whatever this flow does, and yielding to its queue would
//! starve this flow (0.12 of the link against CUBIC's 0.83, 100 Mbit/s x
//! 40 ms). A queue that the rule cannot drain tells it apart: after eight
//! settled rounds in a row in which this flow's data in the queue exceeded
//! twice alpha (flows that all steer toward alpha drain such a queue within
//! a few rounds: the largest yields a quarter of its rate a round behind a
//! 20 ms queue), the rule gives way, and the flow runs on the model's own
//! rate and windows (0.44 against CUBIC's 0.52), until a round shows no
//! more than twice alpha of its data queued.
//!
//! alpha is at most a quarter of the estimate's BDP (at least one
//! datagram): on a 1 ms path at 100 Mbit/s a BDP is nine datagrams, and
//! a one-BDP buffer cannot hold eight of them queued; steering toward them
//! overflowed it every round (0.64 % of the data sent twice; 0.02 % with
//! the cap).

use super::{
    bytes_in, mul_div, Bbr, BbrPhase, Round, FAIR_CONTEST_ALPHAS, FAIR_CONTEST_ROUNDS, FAIR_GAIN,
    FAIR_MAX, FAIR_MIN, FAIR_QUEUE_PACKETS, FAIR_QUEUE_PACKETS_LOW_DELAY,
};

impl Bbr {
    /// The fair rule steers the probing cycle: its first cruising round has
    /// set the fair rate.
    pub(super) fn fair_on(&self) -> bool {
        self.fair_rate != 0
            && self.fair_contest < FAIR_CONTEST_ROUNDS
            && matches!(
                self.phase,
                BbrPhase::ProbeBwDown
                    | BbrPhase::ProbeBwCruise
                    | BbrPhase::ProbeBwRefill
                    | BbrPhase::ProbeBwUp
            )
    }

    /// The rate the probing cycle's gains multiply: the fair rate within
    /// its bounds around the estimate, or the model's rate before the first
    /// cruising round and outside the cycle.
    pub(super) fn cycle_rate(&self) -> u64 {
        if !self.fair_on() {
            return self.bw();
        }
        self.within_estimate(self.fair_rate)
    }

    /// `rate` within half and 1.25x of the estimate: the bandwidth
    /// filter's maximum divided by the share random loss lets through (as
    /// in [`Bbr::bw`]), without the lower bound, for the fair rule is this
    /// flow's response to a queue.
    fn within_estimate(&self, rate: u64) -> u64 {
        let est = self.loss_scaled(self.max_bw());
        rate.clamp(mul_div(est, FAIR_MIN, 100), mul_div(est, FAIR_MAX, 100))
    }

    /// `gain` per cent of what the cycle's rate keeps in flight over the
    /// minimum RTT (0 before a model exists).
    pub(super) fn cycle_bdp(&self, gain: u64) -> u64 {
        let Some(rtt) = self.min_rtt else {
            return 0;
        };
        mul_div(bytes_in(self.cycle_rate(), rtt), gain, 100)
    }

    /// The window the fair rule allows a flow that fills it: the fair
    /// rate's BDP at the phase's gain plus `quanta`; `None` where the rule
    /// does not steer the window (see the module notes).
    pub(super) fn fair_window(&self, quanta: u64) -> Option<u64> {
        if !self.fair_on() || self.fair_app_limited {
            return None;
        }
        let gain = if self.phase == BbrPhase::ProbeBwUp {
            self.up_pacing()
        } else {
            100
        };
        Some(self.cycle_bdp(gain).saturating_add(quanta))
    }

    /// A cruising round ended: move the fair rate toward keeping alpha
    /// datagrams queued (see the module notes).
    pub(super) fn update_fair_rate(&mut self, r: &Round, app_limited: bool) {
        // The round's samples must come from packets sent while cruising:
        // the round that entered cruise and the one after it still show
        // DOWN's or UP's queue.
        let settled = self.phase == BbrPhase::ProbeBwCruise
            && !app_limited
            && self.round_count >= self.phase_round + 3;
        let (Some(base), Some(round_min), true) = (self.min_rtt, r.min_rtt, settled) else {
            return;
        };
        // While the rule gives way this is the model's own rate.
        let x = self.cycle_rate();
        if x == 0 {
            return;
        }
        let q = round_min.saturating_sub(base);
        let rtt_us = (base + q).as_micros().max(1);
        let alpha_packets = if self.low_delay {
            FAIR_QUEUE_PACKETS_LOW_DELAY
        } else {
            FAIR_QUEUE_PACKETS
        };
        // Never more than a quarter of the estimate's BDP: a path of a
        // millisecond or two may buffer less than alpha (see the notes).
        let datagram = self.limits.datagram;
        let alpha = datagram
            .saturating_mul(alpha_packets)
            .min(self.bdp(100).unwrap_or(0) / 4)
            .max(datagram);
        // Little's law: this flow's bytes in the queue.
        let queued = bytes_in(x, q);
        // A queue that stays far above alpha while this flow yields is kept
        // by a flow that does not steer toward alpha (a loss-based one):
        // the model's own rate competes with it until the queue comes down
        // to what flows steering toward alpha keep (see the notes).
        if queued > alpha.saturating_mul(FAIR_CONTEST_ALPHAS) {
            self.fair_contest = self.fair_contest.saturating_add(1);
        } else {
            self.fair_contest = 0;
        }
        if self.fair_contest >= FAIR_CONTEST_ROUNDS {
            return;
        }
        // `bytes` over a round trip, times the gain: bytes per second.
        let step = |bytes: u64| {
            let rate = u128::from(bytes).saturating_mul(1_000_000) / rtt_us;
            mul_div(u64::try_from(rate).unwrap_or(u64::MAX), FAIR_GAIN, 100)
        };
        let fair = if queued < alpha {
            x.saturating_add(step(alpha - queued))
        } else {
            x.saturating_sub(step(queued - alpha))
        };
        self.fair_rate = self.within_estimate(fair).max(1);
    }
}
