//! The window the loss-based controllers (NewReno, CUBIC) share: its
//! limits, the slow-start threshold, slow start itself (with its
//! delay-based exit), the once-per-round-trip reduction and the collapse on
//! persistent congestion.
//!
//! Owns: everything NewReno and CUBIC do alike; each embeds one
//! [`LossBasedWindow`] and keeps only its congestion-avoidance growth and
//! its reduction factor.
//! Never: grows the window in congestion avoidance (that rule is what
//! tells the controllers apart) or detects losses.

use super::{mul_div, ControllerPhase, RecoveryPeriod, SlowStartExit, WindowLimits};
use crate::recovery::rtt::RttEstimator;
use crate::time::Instant;

/// A congestion window with slow start, reductions and recovery periods.
#[derive(Clone, Debug)]
pub(crate) struct LossBasedWindow {
    pub(crate) limits: WindowLimits,
    /// The window in bytes. Invariant: at least `limits.minimum` once
    /// reduced (it starts at `limits.initial`, itself at least the minimum).
    pub(crate) window: u64,
    /// Slow-start threshold in bytes (`u64::MAX` before slow start ends).
    pub(crate) ssthresh: u64,
    recovery: RecoveryPeriod,
    /// A reduction happened and no packet sent after it was acknowledged
    /// yet (the [`ControllerPhase::Recovery`] phase).
    recovering: bool,
    slow_start: SlowStartExit,
}

/// What a loss-based window keeps while its session rests (see
/// [`super::ControllerRest`]): the window, the threshold and the unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LossRest {
    pub(crate) window: u64,
    pub(crate) ssthresh: u64,
    pub(crate) datagram: u64,
    /// CUBIC's plateau (0 for NewReno).
    pub(crate) w_max: u64,
}

impl LossBasedWindow {
    /// A window of `limits.initial` bytes, in slow start.
    pub(crate) fn new(limits: WindowLimits) -> Self {
        LossBasedWindow {
            limits,
            window: limits.initial,
            ssthresh: u64::MAX,
            recovery: RecoveryPeriod::default(),
            recovering: false,
            slow_start: SlowStartExit::default(),
        }
    }

    /// The window, threshold and unit, kept while the session rests.
    pub(crate) fn rest(&self) -> LossRest {
        LossRest {
            window: self.window,
            ssthresh: self.ssthresh,
            datagram: self.limits.datagram,
            w_max: 0,
        }
    }

    /// A window waking from `r`: the window and threshold kept (never
    /// below the minimum), no recovery period, slow start's exit test
    /// fresh (RFC 9002 keeps the window of a sender that was
    /// application-limited; a restart says nothing about the path's queue).
    pub(crate) fn wake(limits: WindowLimits, r: &LossRest) -> Self {
        let mut w = LossBasedWindow::new(limits);
        if r.datagram != limits.datagram {
            w.set_datagram_size(r.datagram);
        }
        w.window = r.window.max(w.limits.minimum);
        w.ssthresh = r.ssthresh;
        w
    }

    /// The datagram size changed: the unit of growth and the minimum window
    /// follow it; the window itself, in bytes, is kept.
    pub(crate) fn set_datagram_size(&mut self, bytes: u64) {
        self.limits = self.limits.with_datagram(bytes);
        self.window = self.window.max(self.limits.minimum);
    }

    /// A packet sent at `sent_time` was acknowledged. Returns false if it
    /// belongs to the current recovery period: its acknowledgement must not
    /// grow the window. One sent after the period began ends the period.
    pub(crate) fn on_ack(&mut self, sent_time: Instant) -> bool {
        if self.recovery.covers(sent_time) {
            return false;
        }
        self.recovering = false;
        true
    }

    /// Slow start's share of an acknowledgement of `bytes` bytes (not
    /// application-limited, outside recovery). Returns true if slow start
    /// took it (the window grew by `bytes`, or a fraction in the
    /// conservative phase); false in congestion avoidance, which includes
    /// the acknowledgement that ends slow start because a queue is building
    /// (the threshold is then set to the current window).
    pub(crate) fn slow_start(
        &mut self,
        now: Instant,
        sent_time: Instant,
        bytes: u64,
        rtt: &RttEstimator,
    ) -> bool {
        if self.window >= self.ssthresh {
            return false;
        }
        match self.slow_start.on_ack(now, sent_time, rtt.latest()) {
            Some(divisor) => {
                self.window = self.window.saturating_add(bytes / divisor);
                true
            }
            None => {
                self.ssthresh = self.window;
                false
            }
        }
    }

    /// A congestion event at `now` whose newest lost packet was sent at
    /// `sent_time`. Unless that packet belongs to the current recovery
    /// period, a new period starts and the window keeps `num / den` of
    /// itself (never below the minimum), which becomes the threshold; slow
    /// start is over. Returns the window before the reduction if there was
    /// one.
    pub(crate) fn reduce(
        &mut self,
        now: Instant,
        sent_time: Instant,
        num: u64,
        den: u64,
    ) -> Option<u64> {
        if !self.recovery.enter(now, sent_time) {
            return None;
        }
        let before = self.window;
        self.ssthresh = mul_div(before, num, den).max(self.limits.minimum);
        self.window = self.ssthresh;
        self.recovering = true;
        self.slow_start.reset(false);
        Some(before)
    }

    /// Persistent congestion: the window collapses to the minimum, the
    /// recovery period is forgotten and slow start begins again (up to the
    /// threshold the last reduction set).
    pub(crate) fn collapse(&mut self) {
        self.window = self.limits.minimum;
        self.recovery.reset();
        self.recovering = false;
        self.slow_start.reset(true);
    }

    /// True while the window is below the slow-start threshold.
    pub(crate) fn in_slow_start(&self) -> bool {
        self.window < self.ssthresh
    }

    /// True if a packet sent at `sent_time` belongs to the current recovery
    /// period.
    pub(crate) fn in_recovery(&self, sent_time: Instant) -> bool {
        self.recovery.covers(sent_time)
    }

    /// Slow start, recovery or congestion avoidance.
    pub(crate) fn phase(&self) -> ControllerPhase {
        if self.recovering {
            ControllerPhase::Recovery
        } else if self.in_slow_start() {
            ControllerPhase::SlowStart
        } else {
            ControllerPhase::CongestionAvoidance
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;

    fn window() -> LossBasedWindow {
        LossBasedWindow::new(WindowLimits {
            datagram: 1000,
            initial: 10_000,
            minimum: 2_000,
        })
    }

    #[test]
    fn phases_follow_reductions_and_acknowledgements() {
        let t = Instant::from_millis;
        let rtt = RttEstimator::new(Duration::from_millis(100));
        let mut w = window();
        assert_eq!(w.phase(), ControllerPhase::SlowStart);
        assert!(w.on_ack(t(0)));
        assert!(w.slow_start(t(100), t(0), 1000, &rtt));
        assert_eq!(w.window, 11_000);
        assert_eq!(w.reduce(t(200), t(150), 1, 2), Some(11_000));
        assert_eq!((w.window, w.ssthresh), (5_500, 5_500));
        assert_eq!(w.phase(), ControllerPhase::Recovery);
        assert_eq!(w.reduce(t(210), t(190), 1, 2), None, "same period");
        assert!(!w.on_ack(t(200)), "sent before the period began");
        assert_eq!(w.phase(), ControllerPhase::Recovery);
        assert!(w.on_ack(t(201)));
        assert_eq!(w.phase(), ControllerPhase::CongestionAvoidance);
        assert!(!w.slow_start(t(300), t(201), 1000, &rtt));
        w.collapse();
        assert_eq!(w.window, 2_000);
        assert_eq!(w.phase(), ControllerPhase::SlowStart);
        assert!(!w.in_recovery(t(150)));
    }

    #[test]
    fn reductions_never_go_below_the_minimum_and_sizes_follow_the_datagram() {
        let t = Instant::from_millis;
        let mut w = window();
        for i in 0..10 {
            w.reduce(t(100 * i + 50), t(100 * i + 10), 1, 2);
        }
        assert_eq!(w.window, 2_000);
        w.set_datagram_size(1500);
        assert_eq!((w.limits.minimum, w.window), (3_000, 3_000));
    }
}
