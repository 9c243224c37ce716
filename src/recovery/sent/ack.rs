//! Acknowledgement processing: an ACK frame's ranges turned into acked
//! packets, an RTT sample, delivery-rate samples and the controller's
//! growth, then loss detection.
//!
//! Owns: [`Recovery::on_ack_received`] and the order of its steps
//! (validate everything first; spurious losses; RTT sample; resolve;
//! detect losses; rate sample; free resolved records).
//! Never: changes any state for an acknowledgement that names a packet
//! never sent.

use alloc::vec::Vec;
use core::ops::Range;
use core::time::Duration;

use super::slot::State;
use super::{Outcome, Recovery};
use crate::recovery::congestion::Controller;
use crate::recovery::RecoveryError;
use crate::time::Instant;

impl<T> Recovery<T> {
    /// Processes an acknowledgement received at `now` covering `ranges`
    /// (half-open, in any order, overlaps allowed) with the peer's reported
    /// `ack_delay`. Newly acknowledged and newly lost packets are appended to
    /// `out`.
    ///
    /// If any range names a packet number never sent, returns
    /// [`RecoveryError::AckOfUnsentPacket`] with the first such number found
    /// and changes nothing. Numbers of packets resolved long ago are ignored.
    pub fn on_ack_received(
        &mut self,
        now: Instant,
        ranges: impl IntoIterator<Item = Range<u64>>,
        ack_delay: Duration,
        out: &mut Vec<Outcome<T>>,
    ) -> Result<(), RecoveryError> {
        let mut scratch = self
            .scratch
            .take()
            .or_else(|| self.spares.as_mut()?.take_ranges())
            .unwrap_or_default();
        scratch.clear();
        scratch.extend(ranges.into_iter().filter(|r| r.start < r.end));
        let result = self.sent.validate(&scratch);
        if result.is_ok() {
            self.apply_ack(now, &scratch, ack_delay, out);
        }
        self.scratch = Some(scratch);
        result
    }

    fn apply_ack(
        &mut self,
        now: Instant,
        ranges: &[Range<u64>],
        ack_delay: Duration,
        out: &mut Vec<Outcome<T>>,
    ) {
        let Some(frame_largest) = ranges.iter().map(|r| r.end - 1).max() else {
            return;
        };
        for r in ranges {
            if let Some((spurious, late)) = self.reordering.take_spurious(r, now) {
                self.stats.spurious_losses += spurious;
                let busy = self.model.wake(&self.config, now, &mut self.spares);
                busy.loss_signal.on_spurious(spurious);
                self.reordering.on_reordering(late, &self.rtt);
            }
        }
        // First pass: is anything new, and is any of it ack-eliciting?
        let mut newly_acked = false;
        let mut any_eliciting = false;
        for r in ranges {
            let (i, j) = self.sent.index_span(r);
            for slot in self.sent.slots.range(i..j) {
                if matches!(slot.state, State::Outstanding(_)) {
                    newly_acked = true;
                    any_eliciting |= slot.ack_eliciting;
                }
            }
        }
        if !newly_acked {
            return;
        }
        self.sent.on_acked_up_to(frame_largest);
        // RTT sample: only when the frame's largest is itself newly acked.
        let largest_idx = self.sent.index_of_first_at_or_after(frame_largest);
        if let Some(slot) = self.sent.slots.get(largest_idx) {
            if slot.pn == frame_largest
                && matches!(slot.state, State::Outstanding(_))
                && any_eliciting
            {
                self.rtt
                    .update(ack_delay, now - slot.time_sent, self.peer_max_ack_delay());
                self.loss.first_rtt_sample.get_or_insert(now);
                self.stats.rtt_samples += 1;
            }
        }
        // Second pass: resolve, with the updated RTT available to the controller.
        // Whether the window is in use is judged once per frame.
        let busy = self.model.wake(&self.config, now, &mut self.spares);
        let in_use = busy.window_use.in_use(busy.controller.window());
        let next_pn = self.sent.next_pn();
        for r in ranges {
            let (i, j) = self.sent.index_span(r);
            for idx in i..j {
                let Some(slot) = self.sent.slots.get_mut(idx) else {
                    break;
                };
                let State::Outstanding(info) = core::mem::replace(&mut slot.state, State::Acked)
                else {
                    continue;
                };
                out.push(Outcome::Acked(info));
                self.stats.packets_acked += 1;
                self.flight.release(slot);
                if slot.ack_eliciting && !slot.probe {
                    busy.loss_signal.on_acked(slot.pn, next_pn);
                    let snap = slot.snapshot();
                    busy.rate
                        .on_acked(now, slot.time_sent, &snap, u64::from(slot.bytes));
                    let bytes = usize::try_from(slot.bytes).unwrap_or(usize::MAX);
                    let limited = snap.app_limited || !in_use;
                    busy.controller
                        .on_ack(now, slot.time_sent, bytes, &self.rtt, limited);
                }
            }
        }
        self.probe.count = 0;
        self.detect_lost(now, out);
        let min_rtt = if self.rtt.has_sample() {
            self.rtt.min()
        } else {
            Duration::ZERO
        };
        let busy = self.model.wake(&self.config, now, &mut self.spares);
        if let Some(sample) = busy.rate.finish(min_rtt) {
            busy.window_use.on_rate_sample(&sample, self.flight.bytes);
            busy.controller
                .on_rate_sample(now, &sample, self.flight.bytes, &self.rtt);
        }
        self.sent.pop_resolved();
    }
}
