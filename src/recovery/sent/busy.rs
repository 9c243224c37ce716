//! The part of send-side recovery only a session with packets in flight
//! needs, and what a quiet session keeps of it instead.
//!
//! Owns: [`Model`]: either [`Busy`] (the congestion controller, the
//! delivery-rate sampler, the loss signal and the window-use tracker,
//! boxed) or [`Rest`] (a few words: the controller's kept estimates, the
//! smoothed loss fraction, the latest delivery rate, the
//! application-limited mark); the change between them.
//! Never: rests while anything is recorded in the ledger (every record's
//! delivery-rate snapshot refers to the sampler it was taken from), or
//! changes what the controller does with what it is told: a woken
//! controller restarts from its kept model the way each controller
//! restarts after an idle period (`congestion/rest.rs`).
//!
//! A session rests at the idle trim (quiet for a while, nothing in flight)
//! and wakes on the next packet it sends, or the next acknowledgement that
//! tells it something (a spurious loss found late). While the endpoint's
//! spares are lent (`spares.rs`), the box comes from them on waking and
//! goes back to them on resting.

use alloc::boxed::Box;

use super::spares::Spares;
use super::window_use::WindowUse;
use crate::recovery::congestion::{AnyController, ControllerRest, DeliveryRate};
use crate::recovery::loss_signal::LossSignal;
use crate::recovery::RecoveryConfig;
use crate::spare::rebox;
use crate::time::Instant;

/// What a busy sender's recovery runs on.
#[derive(Debug)]
pub(super) struct Busy {
    pub(super) window_use: WindowUse,
    pub(super) rate: DeliveryRate,
    pub(super) controller: AnyController,
    pub(super) loss_signal: LossSignal,
}

/// What a resting sender keeps.
#[derive(Debug)]
pub(super) struct Rest {
    pub(super) controller: ControllerRest,
    /// The loss signal's smoothed loss fraction (at most 1 in its units,
    /// 2^16).
    loss_smoothed: u32,
    /// The latest delivery-rate sample's rate, bytes per second.
    pub(super) last_rate: u64,
    /// The sender was application-limited when it went quiet.
    pub(super) app_limited: bool,
}

/// Busy or resting.
#[derive(Debug)]
pub(super) enum Model {
    Busy(Box<Busy>),
    Resting(Rest),
}

impl Busy {
    /// Fresh state for a new path at `now`.
    pub(super) fn new(config: &RecoveryConfig, now: Instant) -> Self {
        Busy {
            window_use: WindowUse::new(config.datagram_bytes()),
            rate: DeliveryRate::new(now),
            controller: AnyController::new(config),
            loss_signal: new_loss_signal(config),
        }
    }

    /// What is kept of it at rest.
    fn rest(&self) -> Rest {
        Rest {
            controller: self.controller.rest(),
            loss_smoothed: u32::try_from(self.loss_signal.rest()).unwrap_or(u32::MAX),
            last_rate: self.rate.last().rate(),
            app_limited: self.rate.is_app_limited(),
        }
    }
}

impl Rest {
    /// The state woken at `now` from what was kept.
    fn wake(&self, config: &RecoveryConfig, now: Instant) -> Busy {
        let mut rate = DeliveryRate::new(now);
        if self.app_limited {
            rate.on_app_limited(0);
        }
        let mut window_use = WindowUse::new(config.datagram_bytes());
        window_use.set_datagram_size(self.controller.datagram());
        Busy {
            window_use,
            rate,
            controller: self.controller.wake(config, now),
            loss_signal: new_loss_signal(config).woken(u64::from(self.loss_smoothed)),
        }
    }

    /// A fresh controller's rest, as on a new path.
    pub(super) fn fresh(config: &RecoveryConfig) -> Self {
        Rest {
            controller: AnyController::new(config).rest(),
            loss_smoothed: 0,
            last_rate: 0,
            app_limited: false,
        }
    }
}

impl Model {
    /// The busy part, woken at `now` if resting (into a spare box if
    /// `spares` holds one).
    pub(super) fn wake<T>(
        &mut self,
        config: &RecoveryConfig,
        now: Instant,
        spares: &mut Option<Box<Spares<T>>>,
    ) -> &mut Busy {
        if let Model::Resting(rest) = self {
            let woken = rest.wake(config, now);
            let spare = spares.as_mut().and_then(|s| s.take_busy());
            *self = Model::Busy(rebox(spare, woken));
        }
        match self {
            Model::Busy(busy) => busy,
            Model::Resting(_) => unreachable!("woken just above"),
        }
    }

    /// Releases the busy part, keeping its summary; the box goes to
    /// `spares` if lent. Only with an empty ledger (the caller checks).
    pub(super) fn rest<T>(&mut self, spares: &mut Option<Box<Spares<T>>>) {
        if let Model::Busy(busy) = self {
            let rest = busy.rest();
            if let Model::Busy(busy) = core::mem::replace(self, Model::Resting(rest)) {
                if let Some(s) = spares {
                    s.give_busy(busy);
                }
            }
        }
    }

    /// The busy part (tests only: panics while resting).
    #[cfg(test)]
    pub(super) fn busy(&self) -> &Busy {
        match self {
            Model::Busy(busy) => busy,
            Model::Resting(_) => panic!("resting"),
        }
    }

    pub(super) fn is_busy(&self) -> bool {
        matches!(self, Model::Busy(_))
    }
}

/// A loss signal for a fresh path, tuned by `config`.
pub(super) fn new_loss_signal(config: &RecoveryConfig) -> LossSignal {
    LossSignal::new(
        config.tolerated_loss,
        config.standing_queue,
        config.granularity,
    )
}
