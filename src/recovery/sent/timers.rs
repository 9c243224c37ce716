//! The send side's timers: the loss timer (armed by loss detection) and
//! the probe timeout with its backoff and owed probes.
//!
//! Owns: [`ProbeTimer`] (consecutive probe timeouts, probes owed, a probe
//! owed with nothing in flight) and the [`Recovery`] calls that read or
//! fire the timers.
//! Never: declares a packet lost by a probe timeout: a probe asks the peer
//! for an acknowledgement, and its answer drives loss detection.

use alloc::vec::Vec;
use core::time::Duration;

use super::{Outcome, Recovery, TimeoutAction};
use crate::time::Instant;

/// Largest exponent of the probe-timeout backoff (2^16 times the base).
const MAX_PTO_BACKOFF: u32 = 16;

/// Probe-timeout state.
#[derive(Debug, Default)]
pub(super) struct ProbeTimer {
    /// Consecutive probe timeouts without an acknowledgement.
    pub(super) count: u32,
    /// Probes still to send; [`Recovery::can_send`] lets them through.
    pub(super) owed: u8,
    /// Since when a probe is owed with nothing in flight.
    owed_since: Option<Instant>,
}

impl ProbeTimer {
    /// An ack-eliciting, congestion-controlled packet was sent: it pays
    /// off one owed probe.
    pub(super) fn on_eliciting_sent(&mut self) {
        self.owed = self.owed.saturating_sub(1);
    }

    /// Nothing is in flight any more: no backoff, no probe owed (a probe
    /// owed with nothing in flight stays).
    pub(super) fn reset(&mut self) {
        self.count = 0;
        self.owed = 0;
    }
}

impl<T> Recovery<T> {
    /// Fires whatever timer is due at `now`: the loss timer declares packets
    /// lost (pushed to `out`); the probe timer asks for probes and doubles the
    /// next probe timeout.
    pub fn on_timeout(&mut self, now: Instant, out: &mut Vec<Outcome<T>>) -> TimeoutAction {
        if self.loss.loss_time.is_some_and(|t| t <= now) {
            self.detect_lost(now, out);
            self.sent.pop_resolved();
            return TimeoutAction::LossDetected;
        }
        if self.pto_deadline().is_some_and(|t| t <= now) {
            self.probe.count = self.probe.count.saturating_add(1);
            self.stats.probe_timeouts += 1;
            self.probe.owed = if self.flight.eliciting > 0 { 2 } else { 1 };
            return TimeoutAction::Probe {
                packets: self.probe.owed,
            };
        }
        TimeoutAction::None
    }

    /// When [`Recovery::on_timeout`] must next be called: the earlier of the
    /// loss timer and the probe deadline. The probe timer runs only while
    /// ack-eliciting packets are in flight or a probe is owed
    /// ([`Recovery::set_probe_owed`]).
    pub fn timeout(&self) -> Option<Instant> {
        match (self.loss.loss_time, self.pto_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Keeps the probe timer armed from `now` even with nothing in flight
    /// (`owed = true`), e.g. while the session waits for the peer to confirm
    /// something it has no other way to ask again for; `owed = false` stops
    /// that.
    pub fn set_probe_owed(&mut self, now: Instant, owed: bool) {
        self.probe.owed_since = owed.then_some(now);
    }

    /// Probes still owed after a probe timeout.
    pub fn probes_owed(&self) -> u8 {
        self.probe.owed
    }

    /// Consecutive probe timeouts without an acknowledgement.
    pub fn pto_count(&self) -> u32 {
        self.probe.count
    }

    /// Stops every timer and forgets owed probes (nothing is tracked any
    /// more).
    pub(super) fn stop_timers(&mut self) {
        self.loss.loss_time = None;
        self.probe.owed = 0;
        self.probe.owed_since = None;
    }

    /// `pto base + max ack delay`: one probe timeout before backoff.
    pub(super) fn pto_period(&self) -> Duration {
        self.rtt
            .pto_base(self.config.granularity)
            .saturating_add(self.peer_max_ack_delay())
    }

    fn pto_deadline(&self) -> Option<Instant> {
        let last = self.flight.last_eliciting_sent;
        let base = if self.flight.eliciting > 0 {
            last?
        } else {
            let since = self.probe.owed_since?;
            last.map_or(since, |t| t.max(since))
        };
        let period = self
            .pto_period()
            .saturating_mul(1 << self.probe.count.min(MAX_PTO_BACKOFF));
        Some(base + period)
    }
}
