//! Telling congestion from noise: whether lost packets should shrink the
//! congestion window.
//!
//! Owns: the per-round-trip loss counts, their smoothed loss fraction, and
//! the rule that classifies a loss event as congestive or not.
//! Never: declares packets lost (loss detection does) or touches the window
//! (the controller does); it only answers "is this a congestion signal?".
//!
//! # Why
//! A loss-based controller reads every loss as a full queue. On a path that
//! also drops packets at random (radio, a flaky link), that caps the window
//! near `1.2 / sqrt(loss)` datagrams whatever the capacity: about 12
//! datagrams per round trip at 1 % loss, a few Mbit/s on any long path.
//!
//! # Rule
//! A queue that overflows has first filled, and a full queue shows as
//! delay. So a loss event is congestive when either
//! - both the latest RTT sample and the smoothed RTT exceed the minimum by
//!   at least `standing_queue * min_rtt` (never less than the timer
//!   granularity): there is a standing queue, and the loss may well be its
//!   overflow. The latest sample alone would take a reordered packet for a
//!   queue; the smoothed value alone would still see a queue for a while
//!   after a reduction drained it; or
//! - losses are frequent: the smoothed per-round loss fraction exceeds
//!   `tolerated_loss`, or the current round already lost at least
//!   [`BURST_FLOOR`] packets and more than [`HEAVY_ROUND`] times that
//!   fraction of a round (the larger of this one so far and the previous
//!   one). This
//!   bounds the loss a flow causes at a bottleneck whose buffer is too
//!   shallow to show delay, where the first rule never fires.
//!
//! Otherwise the packets are resent and the window is left alone. A
//! tolerance of zero makes every loss congestive (classic behaviour).

use core::time::Duration;

use super::rtt::RttEstimator;
use super::Ratio;

/// Fixed-point unit of the smoothed loss fraction.
const ONE: u64 = 1 << 16;
/// Losses in the current round that, above [`HEAVY_ROUND`] times the
/// tolerated fraction, count as congestion before the round ends.
pub const BURST_FLOOR: u64 = 8;
/// How many times the tolerated fraction one round must lose to count as
/// congestion at once (a slow-start overshoot at a shallow buffer), rather
/// than through the smoothed fraction (which a burst of loss on a noisy
/// link should not trip).
pub const HEAVY_ROUND: u64 = 4;

/// Classifies loss events as congestion or noise.
#[derive(Clone, Debug)]
pub struct LossSignal {
    tolerated: Ratio,
    standing_queue: Ratio,
    granularity: Duration,
    /// First packet number of the next round; `None` before any packet.
    round_end: Option<u64>,
    round_acked: u64,
    round_lost: u64,
    /// Packets resolved (acknowledged or lost) in the previous round.
    last_round: u64,
    /// Smoothed fraction of packets lost per round, in units of `1 / ONE`.
    smoothed: u64,
}

impl LossSignal {
    /// A classifier tolerating a loss fraction of `tolerated` while the RTT
    /// stays below `(1 + standing_queue) * min_rtt`.
    pub fn new(tolerated: Ratio, standing_queue: Ratio, granularity: Duration) -> Self {
        LossSignal {
            tolerated,
            standing_queue,
            granularity,
            round_end: None,
            round_acked: 0,
            round_lost: 0,
            last_round: 0,
            smoothed: 0,
        }
    }

    /// The smoothed loss fraction, in the classifier's own units: what a
    /// resting session keeps of it.
    pub(crate) fn rest(&self) -> u64 {
        self.smoothed
    }

    /// The classifier of a session waking from rest: rounds start over,
    /// the smoothed loss fraction `smoothed` (from [`LossSignal::rest`]) is
    /// kept.
    pub(crate) fn woken(mut self, smoothed: u64) -> Self {
        self.smoothed = smoothed;
        self
    }

    /// An ack-eliciting packet `pn` was acknowledged; `next_pn` is one past
    /// the largest number sent so far. A round ends when a packet sent after
    /// it began is acknowledged.
    pub fn on_acked(&mut self, pn: u64, next_pn: u64) {
        if self.round_end.is_none_or(|end| pn >= end) {
            self.end_round(next_pn);
        }
        self.round_acked = self.round_acked.saturating_add(1);
    }

    /// An ack-eliciting packet was declared lost.
    pub fn on_lost(&mut self) {
        self.round_lost = self.round_lost.saturating_add(1);
    }

    /// `n` packets declared lost were acknowledged after all: they no
    /// longer count against the current round.
    pub fn on_spurious(&mut self, n: u64) {
        self.round_lost = self.round_lost.saturating_sub(n);
    }

    /// The window was just reduced: the losses counted so far have been
    /// answered, and must not reduce it again round after round while their
    /// average decays.
    pub fn on_reduction(&mut self) {
        self.smoothed = 0;
        self.round_lost = 0;
    }

    fn end_round(&mut self, next_pn: u64) {
        let total = self.round_acked.saturating_add(self.round_lost);
        if total > 0 && self.round_end.is_some() {
            let fraction = self.round_lost.saturating_mul(ONE) / total;
            self.smoothed = (self.smoothed * 7 + fraction) / 8;
        }
        self.round_end = Some(next_pn);
        self.last_round = total;
        self.round_acked = 0;
        self.round_lost = 0;
    }

    /// Smoothed fraction of packets lost per round trip, in `0..=1`.
    pub fn loss_fraction(&self) -> Ratio {
        Ratio {
            num: u32::try_from(self.smoothed).unwrap_or(u32::MAX),
            den: ONE as u32,
        }
    }

    fn above_tolerance(&self, lost: u64, total: u64) -> bool {
        let num = u128::from(self.tolerated.num);
        let den = u128::from(self.tolerated.den.max(1));
        u128::from(lost) * den > num * u128::from(total)
    }

    /// Whether the losses just detected are a congestion signal.
    pub fn is_congestion(&self, rtt: &RttEstimator) -> bool {
        if self.tolerated.num == 0 {
            return true;
        }
        let queue = rtt.latest().min(rtt.smoothed()).saturating_sub(rtt.min());
        let threshold = self.standing_queue.of(rtt.min()).max(self.granularity);
        if queue >= threshold {
            return true;
        }
        if self.above_tolerance(self.smoothed, ONE) {
            return true;
        }
        // Losses found early in a round are mostly of packets sent in the
        // previous one: measure against the larger of the two rounds.
        let total = self
            .round_acked
            .saturating_add(self.round_lost)
            .max(self.last_round);
        self.round_lost >= BURST_FLOOR
            && self.above_tolerance(self.round_lost, total.saturating_mul(HEAVY_ROUND))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn signal() -> LossSignal {
        LossSignal::new(Ratio { num: 1, den: 20 }, Ratio { num: 1, den: 4 }, ms(1))
    }

    /// An estimator whose minimum is `min` and whose smoothed RTT has
    /// settled just below `settled`.
    fn rtt(min: u64, settled: u64) -> RttEstimator {
        let mut r = RttEstimator::new(ms(100));
        r.update(Duration::ZERO, ms(min), ms(25));
        for _ in 0..40 {
            r.update(Duration::ZERO, ms(settled), ms(25));
        }
        r
    }

    /// One round of `acked` acknowledged and `lost` lost packets, numbered
    /// from `*pn`.
    fn round(s: &mut LossSignal, pn: &mut u64, acked: u64, lost: u64) {
        for _ in 0..lost {
            s.on_lost();
        }
        let first = *pn;
        *pn += acked + lost;
        for i in 0..acked {
            s.on_acked(first + i, *pn);
        }
    }

    #[test]
    fn rare_loss_without_queue_is_noise_with_queue_is_congestion() {
        let mut s = signal();
        let mut pn = 0;
        for _ in 0..20 {
            round(&mut s, &mut pn, 99, 1);
        }
        assert!(!s.is_congestion(&rtt(40, 40)));
        assert!(!s.is_congestion(&rtt(40, 49)), "9 ms of queue < 40 / 4");
        assert!(s.is_congestion(&rtt(40, 51)), "10 ms of queue");
        // A single late sample is not a queue.
        let mut r = rtt(40, 40);
        r.update(Duration::ZERO, ms(70), ms(25));
        assert!(!s.is_congestion(&r));
        let f = s.loss_fraction();
        assert!(
            f.num * 100 / f.den == 0 || f.num * 100 / f.den == 1,
            "{f:?}"
        );
    }

    #[test]
    fn frequent_loss_is_congestion_even_without_delay() {
        let mut s = signal();
        let mut pn = 0;
        round(&mut s, &mut pn, 100, 0);
        for _ in 0..30 {
            round(&mut s, &mut pn, 90, 10);
        }
        assert!(s.is_congestion(&rtt(40, 40)));
        let f = s.loss_fraction();
        assert!(f.num * 100 / f.den >= 9, "{f:?}");
    }

    #[test]
    fn a_heavy_round_counts_before_it_ends_a_burst_does_not() {
        let mut s = signal();
        let mut pn = 0;
        round(&mut s, &mut pn, 30, 0);
        // The next round: 7 of its first 30 lost is not yet enough (fewer
        // than eight)...
        for i in 0..23 {
            s.on_acked(pn + i, pn + 200);
        }
        for _ in 0..7 {
            s.on_lost();
        }
        assert!(!s.is_congestion(&rtt(40, 40)));
        // ...8 of 31 (over 4 x 5 %) is.
        s.on_lost();
        assert!(s.is_congestion(&rtt(40, 40)), "8 of 31");
        // A burst of 12 in a round of 100 is noise for now (12 % < 20 %).
        let mut s = signal();
        let mut pn = 0;
        round(&mut s, &mut pn, 100, 0);
        for i in 0..88 {
            s.on_acked(pn + i, pn + 100);
        }
        for _ in 0..12 {
            s.on_lost();
        }
        assert!(!s.is_congestion(&rtt(40, 40)));
    }

    #[test]
    fn a_reduction_answers_the_losses_counted_so_far() {
        let mut s = signal();
        let mut pn = 0;
        for _ in 0..5 {
            round(&mut s, &mut pn, 60, 40);
        }
        assert!(s.is_congestion(&rtt(40, 40)));
        s.on_reduction();
        assert!(!s.is_congestion(&rtt(40, 40)));
        assert_eq!(s.loss_fraction().num, 0);
    }

    #[test]
    fn zero_tolerance_makes_every_loss_congestion() {
        let s = LossSignal::new(Ratio { num: 0, den: 1 }, Ratio { num: 1, den: 4 }, ms(1));
        assert!(s.is_congestion(&rtt(40, 40)));
    }

    #[test]
    fn tiny_rtts_use_the_granularity_as_threshold() {
        let s = signal();
        assert!(!s.is_congestion(&rtt(1, 1)));
        let mut r = RttEstimator::new(ms(100));
        r.update(Duration::ZERO, Duration::from_micros(200), ms(25));
        for _ in 0..40 {
            r.update(Duration::ZERO, Duration::from_micros(900), ms(25));
        }
        assert!(!s.is_congestion(&r), "700 us of queue < 1 ms granularity");
        for _ in 0..40 {
            r.update(Duration::ZERO, Duration::from_micros(1300), ms(25));
        }
        assert!(s.is_congestion(&r), "1 ms of queue");
    }
}
