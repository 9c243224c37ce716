//! NewReno congestion control.
//!
//! Owns: a window that doubles per round trip in slow start, grows by one
//! datagram per window acknowledged in congestion avoidance, halves on a
//! congestion event (once per round trip) and collapses to the minimum on
//! persistent congestion.
//! Never: detects losses or measures time itself; it only reacts to the
//! signals of [`super::Controller`].

use super::{Controller, ControllerPhase, LossBasedWindow, LossRest, WindowLimits};
use crate::recovery::rtt::RttEstimator;
use crate::recovery::to_u64;
use crate::time::Instant;

/// NewReno: additive increase, multiplicative decrease by half.
#[derive(Clone, Debug)]
pub struct NewReno {
    w: LossBasedWindow,
    /// Bytes acknowledged in congestion avoidance not yet turned into growth.
    acked_carry: u64,
}

impl NewReno {
    /// The datagram size changed (the path's size search moved): the unit
    /// of growth and the minimum window follow it; the window itself, in
    /// bytes, is kept.
    pub fn set_datagram_size(&mut self, bytes: u64) {
        self.w.set_datagram_size(bytes);
    }

    /// A controller starting at `limits.initial`, in slow start.
    pub fn new(limits: WindowLimits) -> Self {
        NewReno {
            w: LossBasedWindow::new(limits),
            acked_carry: 0,
        }
    }

    /// What the controller keeps while its session rests.
    pub(crate) fn rest(&self) -> LossRest {
        self.w.rest()
    }

    /// The controller waking from `r` (see [`LossBasedWindow::wake`]).
    pub(crate) fn wake(limits: WindowLimits, r: &LossRest) -> Self {
        NewReno {
            w: LossBasedWindow::wake(limits, r),
            acked_carry: 0,
        }
    }

    /// Slow-start threshold in bytes (`u64::MAX` before the first loss).
    pub fn ssthresh(&self) -> u64 {
        self.w.ssthresh
    }
}

impl Controller for NewReno {
    fn on_packet_sent(&mut self, _now: Instant, _bytes: usize) {}

    fn on_ack(
        &mut self,
        now: Instant,
        sent_time: Instant,
        bytes: usize,
        rtt: &RttEstimator,
        app_limited: bool,
    ) {
        if !self.w.on_ack(sent_time) || app_limited {
            return;
        }
        let bytes = to_u64(bytes);
        if self.w.slow_start(now, sent_time, bytes, rtt) {
            return;
        }
        self.acked_carry = self.acked_carry.saturating_add(bytes);
        if self.acked_carry >= self.w.window {
            self.acked_carry -= self.w.window;
            self.w.window = self.w.window.saturating_add(self.w.limits.datagram);
        }
    }

    fn on_congestion_event(&mut self, now: Instant, sent_time: Instant, persistent: bool) {
        if self.w.reduce(now, sent_time, 1, 2).is_some() {
            self.acked_carry = 0;
        }
        if persistent {
            self.w.collapse();
            self.acked_carry = 0;
        }
    }

    fn window(&self) -> u64 {
        self.w.window
    }

    fn in_slow_start(&self) -> bool {
        self.w.in_slow_start()
    }

    fn in_recovery(&self, sent_time: Instant) -> bool {
        self.w.in_recovery(sent_time)
    }

    fn phase(&self) -> ControllerPhase {
        self.w.phase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recovery::RecoveryConfig;
    use core::time::Duration;

    const MSS: usize = 1000;

    fn reno() -> (NewReno, RttEstimator) {
        let limits = WindowLimits::from_config(&RecoveryConfig {
            max_datagram_size: MSS,
            ..RecoveryConfig::default()
        });
        (
            NewReno::new(limits),
            RttEstimator::new(Duration::from_millis(100)),
        )
    }

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn slow_start_grows_by_acked_bytes() {
        let (mut c, rtt) = reno();
        assert_eq!(c.window(), 10_000);
        assert!(c.in_slow_start());
        for _ in 0..10 {
            c.on_ack(t(100), t(0), MSS, &rtt, false);
        }
        assert_eq!(c.window(), 20_000, "one round trip doubles the window");
    }

    #[test]
    fn app_limited_acks_do_not_grow() {
        let (mut c, rtt) = reno();
        c.on_ack(t(100), t(0), MSS, &rtt, true);
        assert_eq!(c.window(), 10_000);
    }

    #[test]
    fn halves_once_per_round_and_exits_recovery() {
        let (mut c, rtt) = reno();
        for _ in 0..10 {
            c.on_ack(t(100), t(0), MSS, &rtt, false);
        }
        c.on_congestion_event(t(200), t(150), false);
        assert_eq!(c.window(), 10_000);
        assert_eq!(c.ssthresh(), 10_000);
        assert!(!c.in_slow_start());
        // More losses from the same flight: no second halving.
        c.on_congestion_event(t(210), t(160), false);
        c.on_congestion_event(t(220), t(200), false);
        assert_eq!(c.window(), 10_000);
        assert!(c.in_recovery(t(200)));
        // Acks of packets sent before recovery began do not grow the window.
        for _ in 0..20 {
            c.on_ack(t(230), t(190), MSS, &rtt, false);
        }
        assert_eq!(c.window(), 10_000);
        // A packet sent after recovery began ends it: congestion avoidance,
        // one datagram per window acknowledged.
        assert!(!c.in_recovery(t(201)));
        for _ in 0..10 {
            c.on_ack(t(300), t(201), MSS, &rtt, false);
        }
        assert_eq!(c.window(), 11_000);
        for _ in 0..5 {
            c.on_ack(t(400), t(301), MSS, &rtt, false);
        }
        assert_eq!(c.window(), 11_000, "half a window acked: no growth yet");
        // A loss of a packet sent after the recovery period began is a new event.
        c.on_congestion_event(t(500), t(301), false);
        assert_eq!(c.window(), 5_500);
    }

    #[test]
    fn never_below_minimum_and_persistent_congestion_collapses() {
        let (mut c, _) = reno();
        for i in 0..10 {
            c.on_congestion_event(t(100 * i + 50), t(100 * i + 10), false);
        }
        assert_eq!(c.window(), 2_000);
        let (mut d, _) = reno();
        d.on_congestion_event(t(100), t(50), true);
        assert_eq!(d.window(), 2_000);
        assert_eq!(d.ssthresh(), 5_000);
        assert!(!d.in_recovery(t(50)), "persistent congestion ends recovery");
        assert!(d.in_slow_start());
    }
}
