//! BBR's round-trip accounting: what a round that just ended says about
//! the path, and the reaction to a congestive one.
//!
//! Owns: the loss classification (baseline random loss, the 2-point and
//! 4-sigma margin, the six-datagram floor, queue evidence), start-up's
//! "the estimate stopped growing", "a queue stood through the round" and
//! "a loss behind a standing queue" tests, the upper bound's growth while
//! probing, the bounds a congestive round sets, and whether the round was
//! clean (nothing lost, no queue) for cruise's pacing; it hands every
//! round that was not congestive to the fair rule (`fair.rs`).
//! Never: changes the phase except where a round's verdict (or, for a
//! loss behind a standing queue, the round's verdict so far) demands it
//! (start-up to drain, probing up to down), or paces and sizes the window
//! (the parent module does, after this).

use core::time::Duration;

use super::{
    queue_slack, Bbr, BbrPhase, Round, BASELINE_WEIGHT, BETA, FULL_BW_GROWTH, FULL_BW_ROUNDS,
    LOSS_MIN_PACKETS, LOSS_SIGMAS, LOSS_THRESH_PM, MAX_BASELINE_PM, STARTUP_QUEUE_MIN_PACKETS,
    STARTUP_QUEUE_PCT,
};
use crate::recovery::congestion::delivery_rate::RateSample;
use crate::recovery::congestion::mul_div;
use crate::time::Instant;

impl Bbr {
    /// Classifies the round that just ended and reacts to it.
    pub(super) fn end_round(&mut self, now: Instant, rs: &RateSample, in_flight: u64) {
        let r = self.round;
        let delivered = rs.total_delivered.saturating_sub(r.delivered_start);
        let total = delivered.saturating_add(r.lost);
        let loss_pm = if total > 0 {
            mul_div(r.lost, 1000, total)
        } else {
            0
        };
        let queue = self.min_rtt.is_some_and(|m| r.max_rtt > m + queue_slack(m));
        // Above the baseline by 2 points and by four standard deviations
        // of a round of this many packets at the baseline rate (a round of
        // 300 packets at 10 % random loss varies by 1.7 points). Four, not
        // three: a small flow's round holds a few losses, whose tail is
        // heavier than the normal one (at 80 datagrams and 4.5 % random
        // loss, 3 sigma is crossed in about one round in fifty).
        let packets = (total / self.limits.datagram.max(1)).max(1);
        let b = self.baseline_pm;
        let sigma_pm = (b * (1000 - b.min(1000)) / packets).isqrt();
        let over = loss_pm > b + LOSS_THRESH_PM.max(LOSS_SIGMAS * sigma_pm);
        let enough = r.lost >= self.limits.datagram.saturating_mul(LOSS_MIN_PACKETS);
        let congestive = enough && over && queue;
        if congestive {
            self.on_congestive_round(now, in_flight);
        } else {
            self.update_fair_rate(&r, rs.app_limited);
        }
        if !congestive && total > 0 {
            // Loss that is not congestion is the path's own: the baseline
            // learns it, quickly (a running mean) over the first rounds. A
            // queue does not stop the learning: a flow that joins a shared
            // link sees another flow's queue in nearly every round, and a
            // baseline learned only from queue-free rounds stayed near zero
            // for it while the incumbent's held the path's rate.
            let weight = self.baseline_rounds.clamp(1, BASELINE_WEIGHT);
            self.baseline_pm =
                ((self.baseline_pm * (weight - 1) + loss_pm) / weight).min(MAX_BASELINE_PM);
            self.baseline_rounds = self.baseline_rounds.saturating_add(1);
        }
        if self.phase == BbrPhase::Startup && !rs.app_limited {
            let max = self.max_bw();
            let grew = max >= mul_div(self.full_bw, FULL_BW_GROWTH, 100);
            if grew {
                self.full_bw = max;
                self.full_bw_count = 0;
            } else {
                self.full_bw_count += 1;
                if self.full_bw_count >= FULL_BW_ROUNDS {
                    self.filled_pipe = true;
                }
            }
            // A queue through a round that still lifted the estimate by a
            // quarter is not this flow's: another flow keeps it, and this
            // one still gains on the link (see the module notes).
            if !grew && self.standing_queue(&r, delivered) {
                self.filled_pipe = true;
            }
            if self.filled_pipe {
                self.phase = BbrPhase::Drain;
            }
        }
        let clean = r.lost == 0 && self.baseline_pm == 0 && self.queue_free(&r);
        self.clean_rounds = if clean {
            self.clean_rounds.saturating_add(1)
        } else {
            0
        };
        self.up_raised = self.phase == BbrPhase::ProbeBwUp
            && self.inflight_hi != u64::MAX
            && self.cwnd >= self.inflight_hi;
        if self.up_raised {
            // The upper bound is what limits the window while probing: raise
            // it, by a step that doubles each round.
            self.inflight_hi = self.inflight_hi.saturating_add(self.up_step);
            self.up_step = self.up_step.saturating_mul(2);
        }
        self.last_round_bw = r.bw;
        self.round = Round {
            delivered_start: rs.total_delivered,
            ..Round::default()
        };
    }

    /// Ends start-up at the first loss of a round whose every RTT sample so
    /// far sat a quarter above the minimum: the buffer behind a standing
    /// queue overflowed, so the pipe is full. Waiting for the round's end
    /// (the standing-queue test) keeps a window of two BDPs for up to one
    /// more round trip, which overflows the buffer again; each overflow
    /// holds the data behind it at the receiver until the repair arrives.
    pub(super) fn check_startup_overflow(&mut self, rs: &RateSample) {
        if self.phase != BbrPhase::Startup || self.round.lost == 0 {
            return;
        }
        // Samples of this round already a quarter above the round before:
        // the flow still gains on the link, and the queue is another's.
        if self.round.bw >= mul_div(self.last_round_bw, FULL_BW_GROWTH, 100) {
            return;
        }
        let delivered = rs
            .total_delivered
            .saturating_sub(self.round.delivered_start);
        if self.standing_queue(&self.round, delivered) {
            self.filled_pipe = true;
            self.phase = BbrPhase::Drain;
        }
    }

    /// True when the round's smallest RTT sample sat a quarter above the
    /// minimum: a queue that never drained while the round's packets were
    /// acknowledged.
    fn standing_queue(&self, r: &Round, delivered: u64) -> bool {
        let (Some(floor), Some(round_min)) = (self.min_rtt, r.min_rtt) else {
            return false;
        };
        let enough = delivered
            >= self
                .limits
                .datagram
                .saturating_mul(STARTUP_QUEUE_MIN_PACKETS);
        let margin = floor * u32::try_from(STARTUP_QUEUE_PCT).unwrap_or(u32::MAX) / 100;
        enough && round_min > floor + margin.max(Duration::from_millis(1))
    }

    /// True when the round's smallest RTT sample sat within a quarter of
    /// the no-queue slack of the minimum (1/64 of it, at least 250 us): the
    /// flow kept no standing queue through the round.
    fn queue_free(&self, r: &Round) -> bool {
        let (Some(floor), Some(round_min)) = (self.min_rtt, r.min_rtt) else {
            return false;
        };
        round_min <= floor + queue_slack(floor) / 4
    }

    fn on_congestive_round(&mut self, now: Instant, in_flight: u64) {
        let bdp = self.bdp(100).unwrap_or(self.limits.initial);
        let at_loss = mul_div(self.round.lost_inflight.max(in_flight), BETA, 100);
        match self.phase {
            BbrPhase::Startup | BbrPhase::ProbeBwUp | BbrPhase::ProbeBwRefill => {
                self.inflight_hi = at_loss.max(bdp).max(self.min_cwnd());
                if self.phase == BbrPhase::Startup {
                    self.filled_pipe = true;
                    self.phase = BbrPhase::Drain;
                } else {
                    self.enter(BbrPhase::ProbeBwDown, now);
                }
            }
            _ => {
                let bw_lo = self.bw_lo.min(self.max_bw());
                self.bw_lo = mul_div(bw_lo, BETA, 100).max(self.round.bw);
                let lo = self.inflight_lo.min(self.cwnd);
                self.inflight_lo = mul_div(lo, BETA, 100)
                    .max(self.round.inflight)
                    .max(self.min_cwnd());
            }
        }
    }
}
