//! Congestion control: the interface every controller implements, the
//! delivery-rate sampler they share, and the enum that selects one without
//! boxing.
//!
//! Owns: the contract between loss detection ([`crate::recovery::Recovery`])
//! and a controller: acknowledged bytes (with whether the sender was using
//! its window), lost bytes, delivery-rate samples, congestion events (at
//! most one reduction per round trip), persistent congestion; and what a
//! controller gives back: a window in bytes and, optionally, a pacing rate.
//! Never: tracks packets itself or decides what is lost.
//!
//! Application-limited rule (RFC 9002 section 7.8), kept by every
//! controller: an acknowledgement reported with `app_limited` set never
//! grows the window. Recovery sets it for packets sent while the sender was
//! not using its window: less than half of it in flight, or inside a
//! delivery-rate application-limited mark (nothing to send, flow control).

pub mod bbr;
pub mod cubic;
pub mod delivery_rate;
mod loss_based;
pub mod new_reno;
mod phase;
mod rest;
mod slow_start;

pub use bbr::Bbr;
pub(crate) use bbr::BbrRest;
pub use cubic::Cubic;
pub use delivery_rate::{DeliveryRate, RateSample, Snapshot};
pub use new_reno::NewReno;
pub use phase::ControllerPhase;
pub(crate) use rest::ControllerRest;

pub(crate) use loss_based::{LossBasedWindow, LossRest};
pub(crate) use slow_start::SlowStartExit;

use super::rtt::RttEstimator;
use super::{ControllerKind, RecoveryConfig};
use crate::time::Instant;
use core::time::Duration;

/// A window-based congestion controller.
///
/// The window is in bytes. A congestion event reduces the window at most once
/// per round trip: losses of packets sent before the current recovery period
/// began are part of the event that started it.
pub trait Controller {
    /// An ack-eliciting packet of `bytes` bytes was sent at `now`.
    fn on_packet_sent(&mut self, now: Instant, bytes: usize);

    /// An ack-eliciting packet of `bytes` bytes, sent at `sent_time`, was
    /// acknowledged at `now`. `app_limited` says the sender was not using the
    /// window it had, in which case the window must not grow.
    fn on_ack(
        &mut self,
        now: Instant,
        sent_time: Instant,
        bytes: usize,
        rtt: &RttEstimator,
        app_limited: bool,
    );

    /// Packets were declared lost at `now`; the newest of them was sent at
    /// `sent_time`. `persistent` means the losses spanned long enough that
    /// the path must be probed again from the minimum window.
    fn on_congestion_event(&mut self, now: Instant, sent_time: Instant, persistent: bool);

    /// An ack-eliciting packet of `bytes` bytes was declared lost; when it
    /// was sent, `in_flight_at_send` bytes were in flight (itself included).
    /// Called for every such packet, congestion or not, before
    /// [`Controller::on_congestion_event`].
    fn on_packet_lost(&mut self, _bytes: u64, _in_flight_at_send: u64) {}

    /// An acknowledgement frame was processed at `now` (its packets acked,
    /// its losses reported): the delivery-rate sample it gave, and what is
    /// in flight now.
    fn on_rate_sample(
        &mut self,
        _now: Instant,
        _sample: &RateSample,
        _in_flight: u64,
        _rtt: &RttEstimator,
    ) {
    }

    /// Congestion window in bytes.
    fn window(&self) -> u64;

    /// The rate to pace at, in bytes per second, if the controller models
    /// one; `None` leaves pacing to the window (`5/4 * window / srtt`).
    fn pacing_rate(&self) -> Option<u64> {
        None
    }

    /// The controller's delivery-rate (bottleneck) estimate in bytes per
    /// second, if it keeps one.
    fn delivery_rate(&self) -> Option<u64> {
        None
    }

    /// What the controller is doing, for statistics and traces.
    fn phase(&self) -> ControllerPhase;

    /// The session carries traffic that queueing delays hurt (unreliable
    /// datagrams beside its streams): a controller that keeps a queue of
    /// its own choosing keeps a smaller one. Loss-based controllers fill
    /// the buffer whatever they are told and ignore it.
    fn set_low_delay(&mut self, _on: bool) {}

    /// True while the window grows exponentially (below the slow-start
    /// threshold).
    fn in_slow_start(&self) -> bool;

    /// True if a packet sent at `sent_time` belongs to the current recovery
    /// period: its loss adds no new reduction and its acknowledgement no
    /// growth.
    fn in_recovery(&self, sent_time: Instant) -> bool;
}

/// The controller a session runs, chosen by [`ControllerKind`].
#[derive(Clone, Debug)]
pub enum AnyController {
    /// NewReno.
    NewReno(NewReno),
    /// CUBIC.
    Cubic(Cubic),
    /// BBR-style model-based control.
    Bbr(Bbr),
}

impl AnyController {
    /// The controller `config.controller` names, sized from `config`.
    pub fn new(config: &RecoveryConfig) -> Self {
        let limits = WindowLimits::from_config(config);
        match config.controller {
            ControllerKind::NewReno => AnyController::NewReno(NewReno::new(limits)),
            ControllerKind::Cubic => AnyController::Cubic(Cubic::new(limits)),
            ControllerKind::Bbr => AnyController::Bbr(Bbr::new(limits, config.initial_rtt)),
        }
    }

    /// Starts over on a new path: the same kind of controller, fresh from
    /// `config` (window, model, phase), as at session start.
    pub fn reset(&mut self, config: &RecoveryConfig) {
        *self = AnyController::new(config);
    }

    /// The datagram size changed: see [`Cubic::set_datagram_size`].
    pub fn set_datagram_size(&mut self, bytes: u64) {
        match self {
            AnyController::NewReno(c) => c.set_datagram_size(bytes),
            AnyController::Cubic(c) => c.set_datagram_size(bytes),
            AnyController::Bbr(c) => c.set_datagram_size(bytes),
        }
    }

    fn inner(&self) -> &dyn Controller {
        match self {
            AnyController::NewReno(c) => c,
            AnyController::Cubic(c) => c,
            AnyController::Bbr(c) => c,
        }
    }

    fn inner_mut(&mut self) -> &mut dyn Controller {
        match self {
            AnyController::NewReno(c) => c,
            AnyController::Cubic(c) => c,
            AnyController::Bbr(c) => c,
        }
    }
}

impl Controller for AnyController {
    fn on_packet_sent(&mut self, now: Instant, bytes: usize) {
        self.inner_mut().on_packet_sent(now, bytes)
    }

    fn on_ack(
        &mut self,
        now: Instant,
        sent_time: Instant,
        bytes: usize,
        rtt: &RttEstimator,
        app_limited: bool,
    ) {
        self.inner_mut()
            .on_ack(now, sent_time, bytes, rtt, app_limited)
    }

    fn on_congestion_event(&mut self, now: Instant, sent_time: Instant, persistent: bool) {
        self.inner_mut()
            .on_congestion_event(now, sent_time, persistent)
    }

    fn on_packet_lost(&mut self, bytes: u64, in_flight_at_send: u64) {
        self.inner_mut().on_packet_lost(bytes, in_flight_at_send)
    }

    fn on_rate_sample(
        &mut self,
        now: Instant,
        sample: &RateSample,
        in_flight: u64,
        rtt: &RttEstimator,
    ) {
        self.inner_mut().on_rate_sample(now, sample, in_flight, rtt)
    }

    fn window(&self) -> u64 {
        self.inner().window()
    }

    fn pacing_rate(&self) -> Option<u64> {
        self.inner().pacing_rate()
    }

    fn delivery_rate(&self) -> Option<u64> {
        self.inner().delivery_rate()
    }

    fn phase(&self) -> ControllerPhase {
        self.inner().phase()
    }

    fn set_low_delay(&mut self, on: bool) {
        self.inner_mut().set_low_delay(on)
    }

    fn in_slow_start(&self) -> bool {
        self.inner().in_slow_start()
    }

    fn in_recovery(&self, sent_time: Instant) -> bool {
        self.inner().in_recovery(sent_time)
    }
}

/// Window sizes, in bytes, every controller starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowLimits {
    /// One datagram: the unit of additive increase.
    pub datagram: u64,
    /// Window at start.
    pub initial: u64,
    /// Window never goes below this.
    pub minimum: u64,
}

impl WindowLimits {
    /// Limits from `config` (each at least one datagram).
    pub fn from_config(config: &RecoveryConfig) -> Self {
        let datagram = config.datagram_bytes();
        let minimum = datagram.saturating_mul(config.minimum_window_packets.max(1));
        let initial = datagram
            .saturating_mul(config.initial_window_packets)
            .max(minimum);
        WindowLimits {
            datagram,
            initial,
            minimum,
        }
    }
}

impl WindowLimits {
    /// The same limits for datagrams of `bytes` bytes: the minimum window
    /// keeps its count of datagrams; the initial window (already used) is
    /// kept in bytes.
    pub fn with_datagram(self, bytes: u64) -> Self {
        let bytes = bytes.max(1);
        let packets = (self.minimum / self.datagram.max(1)).max(1);
        WindowLimits {
            datagram: bytes,
            initial: self.initial,
            minimum: bytes.saturating_mul(packets),
        }
    }
}

/// `a * num / den` without intermediate overflow, saturating; `den` zero is
/// read as one.
pub(crate) fn mul_div(a: u64, num: u64, den: u64) -> u64 {
    let v = u128::from(a).saturating_mul(u128::from(num)) / u128::from(den.max(1));
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// The bytes `rate` (bytes per second) carries in `d`, saturating.
pub(crate) fn bytes_in(rate: u64, d: Duration) -> u64 {
    let v = u128::from(rate).saturating_mul(d.as_micros()) / 1_000_000;
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// Shared "once per round trip" bookkeeping: the start of the current
/// recovery period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RecoveryPeriod {
    start: Option<Instant>,
}

impl RecoveryPeriod {
    /// True if a packet sent at `sent_time` was sent before the period began.
    pub(crate) fn covers(&self, sent_time: Instant) -> bool {
        self.start.is_some_and(|start| sent_time <= start)
    }

    /// Starts a new period at `now` unless `sent_time` is already covered.
    /// Returns true if a new period (and so a reduction) starts.
    pub(crate) fn enter(&mut self, now: Instant, sent_time: Instant) -> bool {
        if self.covers(sent_time) {
            return false;
        }
        self.start = Some(now);
        true
    }

    /// Forgets the period (after persistent congestion the path is probed
    /// afresh, so later losses count as new events).
    pub(crate) fn reset(&mut self) {
        self.start = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_follow_config_and_never_reach_zero() {
        let l = WindowLimits::from_config(&RecoveryConfig::default());
        assert_eq!(l.initial, 14_520);
        assert_eq!(l.minimum, 2_904);
        let odd = WindowLimits::from_config(&RecoveryConfig {
            max_datagram_size: 0,
            initial_window_packets: 0,
            minimum_window_packets: 0,
            ..RecoveryConfig::default()
        });
        assert_eq!((odd.datagram, odd.initial, odd.minimum), (1, 1, 1));
    }

    #[test]
    fn selected_controller_matches_kind() {
        let reno = AnyController::new(&RecoveryConfig {
            controller: ControllerKind::NewReno,
            ..RecoveryConfig::default()
        });
        assert!(matches!(reno, AnyController::NewReno(_)));
        let cubic = AnyController::new(&RecoveryConfig {
            controller: ControllerKind::Cubic,
            ..RecoveryConfig::default()
        });
        assert!(matches!(cubic, AnyController::Cubic(_)));
        assert_eq!(cubic.window(), 14_520);
        assert!(cubic.in_slow_start());
        assert_eq!(cubic.phase(), ControllerPhase::SlowStart);
        assert_eq!(cubic.pacing_rate(), None);
        let mut bbr = AnyController::new(&RecoveryConfig::default());
        assert!(matches!(bbr, AnyController::Bbr(_)), "the default");
        assert_eq!(bbr.phase(), ControllerPhase::Startup);
        // Start-up paces 2.77 initial windows per initial RTT (100 ms):
        // 14 520 * 2.77 / 0.1 s.
        assert_eq!(bbr.pacing_rate(), Some(402_204));
        bbr.reset(&RecoveryConfig {
            controller: ControllerKind::NewReno,
            ..RecoveryConfig::default()
        });
        assert!(matches!(bbr, AnyController::NewReno(_)));
    }

    #[test]
    fn mul_div_is_exact_and_saturating() {
        assert_eq!(
            mul_div(u64::MAX, 17, 20),
            (u128::from(u64::MAX) * 17 / 20) as u64
        );
        assert_eq!(mul_div(u64::MAX, 2, 1), u64::MAX);
        assert_eq!(mul_div(10, 3, 0), 30);
    }

    #[test]
    fn recovery_period_reduces_once_per_round() {
        let mut p = RecoveryPeriod::default();
        let t = Instant::from_millis;
        assert!(p.enter(t(100), t(50)));
        assert!(p.covers(t(100)));
        assert!(
            !p.enter(t(120), t(90)),
            "sent before the period: same event"
        );
        assert!(
            p.enter(t(300), t(150)),
            "sent after the period began: new event"
        );
        p.reset();
        assert!(!p.covers(t(0)));
    }
}
