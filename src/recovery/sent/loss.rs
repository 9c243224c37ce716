//! Loss detection: which unresolved packets behind the largest
//! acknowledged one are lost, the loss timer for the rest, persistent
//! congestion, and whether a loss is congestion at all.
//!
//! Owns: [`LossDetection`] (the loss timer, the first RTT sample's time,
//! the persistent-congestion threshold, the time the peer's address last
//! changed) and [`Recovery::detect_lost`], which resolves lost records and
//! tells the reordering memory, the loss signal and the controller.
//! Never: declares a packet lost that is not behind an acknowledged one
//! (the probe timeout only asks for probes), or counts a size probe's loss
//! or a loss on the peer's old address as congestion.

use alloc::vec::Vec;
use core::time::Duration;

use super::slot::State;
use super::{Outcome, Recovery};
use crate::recovery::congestion::Controller;
use crate::time::Instant;

/// Loss-detection state beyond the thresholds (which reordering adapts).
#[derive(Debug)]
pub(super) struct LossDetection {
    /// When the oldest unresolved packet behind the largest acknowledged
    /// one reaches the loss delay.
    pub(super) loss_time: Option<Instant>,
    /// When the first RTT sample was taken: losses before it are no
    /// evidence of persistent congestion.
    pub(super) first_rtt_sample: Option<Instant>,
    /// When the session last moved to a new peer address: packets sent
    /// before went elsewhere, and their loss says nothing about this path.
    pub(super) path_since: Option<Instant>,
}

impl LossDetection {
    pub(super) fn new() -> Self {
        LossDetection {
            loss_time: None,
            first_rtt_sample: None,
            path_since: None,
        }
    }
}

impl<T> Recovery<T> {
    /// Declares lost every unresolved packet below the largest acknowledged
    /// that is `packet_threshold` numbers behind it or older than the loss
    /// delay; arms the loss timer for the rest; tells the controller.
    pub(super) fn detect_lost(&mut self, now: Instant, out: &mut Vec<Outcome<T>>) {
        self.loss.loss_time = None;
        let Some(largest_acked) = self.sent.largest_acked() else {
            return;
        };
        let rtt = self.rtt.latest().max(self.rtt.smoothed());
        let loss_delay = self
            .reordering
            .time_threshold()
            .of(rtt)
            .max(self.config.granularity);
        let packet_threshold = self.reordering.packet_threshold();
        let persistent_span = self.persistent_congestion_span();
        let mut newest_lost_sent: Option<Instant> = None;
        let mut run_start: Option<Instant> = None;
        let mut persistent = false;
        let end = self.sent.index_of_first_at_or_after(largest_acked);
        for idx in 0..end {
            let Some(slot) = self.sent.slots.get_mut(idx) else {
                break;
            };
            match slot.state {
                State::Acked => {
                    run_start = None;
                    continue;
                }
                State::Lost => continue,
                State::Outstanding(_) => {}
            }
            let by_count = largest_acked >= slot.pn.saturating_add(packet_threshold);
            // Compared as the instant the timer is set to (whole
            // microseconds), so a timer that fires always finds the packet
            // lost instead of re-arming itself at `now` forever.
            let at = slot.time_sent + loss_delay;
            let by_time = now >= at;
            if !(by_count || by_time) {
                self.loss.loss_time = Some(self.loss.loss_time.map_or(at, |t| t.min(at)));
                run_start = None;
                continue;
            }
            let State::Outstanding(info) = core::mem::replace(&mut slot.state, State::Lost) else {
                continue;
            };
            out.push(Outcome::Lost(info));
            if slot.probe {
                // Too large for the path, most likely: not congestion.
                self.flight.release(slot);
                continue;
            }
            self.stats.packets_lost += 1;
            self.stats.bytes_lost = self.stats.bytes_lost.saturating_add(u64::from(slot.bytes));
            if self.loss.path_since.is_some_and(|t| slot.time_sent < t) {
                // Sent to the peer's old address: resent, not congestion,
                // and a late acknowledgement of it is no reordering.
                self.flight.release(slot);
                run_start = None;
                continue;
            }
            self.reordering.on_lost(slot.pn, slot.time_sent);
            if !slot.ack_eliciting {
                continue;
            }
            self.flight.release(slot);
            let busy = self.model.wake(&self.config, now, &mut self.spares);
            busy.loss_signal.on_lost();
            busy.controller
                .on_packet_lost(u64::from(slot.bytes), u64::from(slot.in_flight_at_send));
            newest_lost_sent = Some(slot.time_sent);
            // Persistent congestion: ack-eliciting losses, all sent after the
            // first RTT sample, spanning long enough with nothing acked or
            // still outstanding in between.
            if self
                .loss
                .first_rtt_sample
                .is_some_and(|first| slot.time_sent >= first)
            {
                match run_start {
                    None => run_start = Some(slot.time_sent),
                    Some(start) => persistent |= slot.time_sent - start >= persistent_span,
                }
            }
        }
        self.reordering.trim();
        let Some(sent_time) = newest_lost_sent else {
            return;
        };
        let busy = self.model.wake(&self.config, now, &mut self.spares);
        if !persistent && !busy.loss_signal.is_congestion(&self.rtt) {
            // Noise, not a full queue: resend, keep the window.
            self.stats.tolerated_loss_events += 1;
            return;
        }
        if !busy.controller.in_recovery(sent_time) {
            self.stats.congestion_events += 1;
            busy.loss_signal.on_reduction();
        }
        if persistent {
            self.stats.persistent_congestion_events += 1;
        }
        busy.controller
            .on_congestion_event(now, sent_time, persistent);
    }

    /// `(pto base + max ack delay) * threshold`: losses spanning this long
    /// mean persistent congestion.
    fn persistent_congestion_span(&self) -> Duration {
        self.pto_period()
            .saturating_mul(self.config.persistent_congestion_threshold)
    }
}
