//! A controller at rest: what a quiet session keeps of its congestion
//! controller while the controller itself is released, and the controller
//! rebuilt from it when the session sends again.
//!
//! Owns: [`ControllerRest`], one variant per controller kind, and what it
//! reports while the controller is away (window, pacing rate, estimate,
//! phase).
//! Never: decides anything a controller decides: each controller says
//! what it keeps and how it restarts (`LossBasedWindow::wake`,
//! [`Cubic::wake`](super::Cubic), `bbr/rest.rs`).

use super::ControllerPhase;
use super::{AnyController, Bbr, BbrRest, Cubic, LossRest, NewReno, WindowLimits};
use crate::recovery::RecoveryConfig;
use crate::time::Instant;

/// What a resting session keeps of its controller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ControllerRest {
    /// NewReno's window and threshold.
    NewReno(LossRest),
    /// CUBIC's window, threshold and plateau.
    Cubic(LossRest),
    /// BBR's model.
    Bbr(BbrRest),
}

impl AnyController {
    /// What this controller keeps while its session rests.
    pub(crate) fn rest(&self) -> ControllerRest {
        match self {
            AnyController::NewReno(c) => ControllerRest::NewReno(c.rest()),
            AnyController::Cubic(c) => ControllerRest::Cubic(c.rest()),
            AnyController::Bbr(c) => ControllerRest::Bbr(c.rest()),
        }
    }
}

impl ControllerRest {
    /// The controller of the same kind rebuilt at `now`, its limits from
    /// `config` (the kind is the rested one's, which a session may have
    /// chosen over the configured one).
    pub(crate) fn wake(&self, config: &RecoveryConfig, now: Instant) -> AnyController {
        let limits = WindowLimits::from_config(config);
        match self {
            ControllerRest::NewReno(r) => AnyController::NewReno(NewReno::wake(limits, r)),
            ControllerRest::Cubic(r) => AnyController::Cubic(Cubic::wake(limits, r)),
            ControllerRest::Bbr(r) => {
                AnyController::Bbr(Bbr::wake(limits, config.initial_rtt, r, now))
            }
        }
    }

    /// Congestion window in bytes.
    pub(crate) fn window(&self) -> u64 {
        match self {
            ControllerRest::NewReno(r) | ControllerRest::Cubic(r) => r.window,
            ControllerRest::Bbr(r) => r.window(),
        }
    }

    /// The pacing rate, for a controller that models one.
    pub(crate) fn pacing_rate(&self) -> Option<u64> {
        match self {
            ControllerRest::Bbr(r) => Some(r.pacing_rate()),
            _ => None,
        }
    }

    /// The bottleneck estimate, for a controller that keeps one.
    pub(crate) fn delivery_rate(&self) -> Option<u64> {
        match self {
            ControllerRest::Bbr(r) => Some(r.bw()),
            _ => None,
        }
    }

    /// The phase the controller resumes in.
    pub(crate) fn phase(&self) -> ControllerPhase {
        match self {
            ControllerRest::NewReno(r) | ControllerRest::Cubic(r) => {
                if r.window < r.ssthresh {
                    ControllerPhase::SlowStart
                } else {
                    ControllerPhase::CongestionAvoidance
                }
            }
            ControllerRest::Bbr(r) => r.phase(),
        }
    }

    /// The datagram size (the window's unit) it rests with.
    pub(crate) fn datagram(&self) -> u64 {
        match self {
            ControllerRest::NewReno(r) | ControllerRest::Cubic(r) => r.datagram,
            ControllerRest::Bbr(r) => r.datagram(),
        }
    }

    /// The datagram size changed while resting: applied on the restart.
    pub(crate) fn set_datagram_size(&mut self, bytes: u64) {
        match self {
            ControllerRest::NewReno(r) | ControllerRest::Cubic(r) => r.datagram = bytes,
            ControllerRest::Bbr(r) => r.set_datagram_size(bytes),
        }
    }
}

/// Rests `c` and wakes it at `now`: what a quiet session's controller
/// goes through (for tests of each controller's restart).
#[cfg(test)]
pub(crate) fn rest_and_wake(
    c: &AnyController,
    config: &RecoveryConfig,
    now: Instant,
) -> AnyController {
    c.rest().wake(config, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recovery::congestion::Controller;
    use crate::recovery::{ControllerKind, RttEstimator};
    use core::time::Duration;

    #[test]
    fn loss_based_controllers_keep_window_and_threshold() {
        for kind in [ControllerKind::NewReno, ControllerKind::Cubic] {
            let config = RecoveryConfig {
                controller: kind,
                ..RecoveryConfig::default()
            };
            let mut c = AnyController::new(&config);
            let rtt = RttEstimator::new(Duration::from_millis(50));
            let t = Instant::from_millis;
            for i in 0..20 {
                c.on_packet_sent(t(i), 1200);
                c.on_ack(t(i + 50), t(i), 1200, &rtt, false);
            }
            c.on_congestion_event(t(100), t(90), false);
            c.set_datagram_size(1400);
            assert_eq!(c.phase(), ControllerPhase::Recovery);
            let before = c.window();
            let w = rest_and_wake(&c, &config, t(5000));
            // The window is kept; the recovery period is over.
            assert_eq!(w.window(), before, "{kind:?}");
            assert_eq!(w.phase(), ControllerPhase::CongestionAvoidance);
            assert_eq!(c.rest().window(), before);
            assert_eq!(c.rest().phase(), w.phase());
            assert_eq!(
                w.rest(),
                c.rest(),
                "{kind:?}: a round trip through rest is stable"
            );
        }
    }
}
