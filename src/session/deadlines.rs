//! Deadline messages at the session: the clock and round-trip figures the
//! streams' expiry and resending decisions need, and the peer's skips.
//!
//! Owns: handing the stream manager the session's time and RTT estimate
//! for deadline decisions, and tracing skips.
//! Never: decides which message expires (the streams do) or when a packet
//! is lost (recovery does).

use super::Session;
use crate::ids::StreamId;
use crate::recovery::congestion::ControllerPhase;
use crate::streams::deadline::Clock;
use crate::time::Instant;
use crate::trace::{trace_event, Side, TraceEvent};
use crate::violation::Violation;

impl Session {
    /// The streams' expiry pass (see `StreamManager::expire`), when any
    /// stream uses deadlines. The test is inlined into the packet builder;
    /// the pass is not, so a session without deadlines pays one branch.
    /// Nothing expires towards a peer that cannot read skips.
    #[inline(always)]
    pub(super) fn expire_deadlines(&mut self, now: Instant) {
        if self.peer_skips && self.streams.has_deadlines() {
            self.expire_pass(now);
        }
    }

    #[inline(never)]
    fn expire_pass(&mut self, now: Instant) {
        let rtt = self.recovery.rtt();
        // The rate the sender will send at: the delivery rate, or the
        // pacing rate where that is higher. A delivery rate alone starves
        // itself: right after the handshake (or after a quiet spell) it
        // measures only what was offered, so a large message would "need"
        // more than its lifetime, never be sent, and never let the
        // estimate grow.
        //
        // While the controller still searches for the path's rate (start-
        // up, slow start) its estimate is a floor that doubles each round
        // trip: sending time is not counted then (rate 0, not known).
        let searching = matches!(
            self.recovery.controller_phase(),
            ControllerPhase::Startup | ControllerPhase::SlowStart
        );
        let rate = if searching {
            0
        } else {
            self.recovery
                .delivery_rate()
                .max(self.recovery.effective_pacing_rate())
        };
        let clock = Clock::new(now, rtt.smoothed(), rtt.rttvar(), rate).with_queue(
            rtt.min(),
            rtt.latest_adjusted(),
            self.recovery.recent_delivery_rate(),
            self.recovery.bytes_in_flight(),
        );
        self.streams.expire(clock);
    }

    /// When the expiry pass must next run: one delivery before the
    /// earliest deadline among the streams' messages, when a message all
    /// in flight is given up. Earlier decisions (a message with bytes
    /// still to send) are taken as packets are built.
    pub(super) fn deadline_timeout(&self) -> Option<Instant> {
        if !self.peer_skips {
            return None;
        }
        let at = self.streams.earliest_deadline()?;
        let rtt = self.recovery.rtt();
        let reach = Clock::new(self.now, rtt.smoothed(), rtt.rttvar(), 0).reach;
        Some(at - reach) // saturates at zero
    }

    /// Traces a STREAM_SKIP this side is sending.
    #[cfg(feature = "trace")]
    pub(super) fn trace_skip_sent(&mut self, frame: &crate::streams::ControlFrame) {
        if let crate::streams::ControlFrame::Skip(stream, offset, seq) = *frame {
            trace_event!(
                self.trace.tracer,
                self.now,
                Some(self.id),
                TraceEvent::StreamSkipped {
                    stream,
                    offset,
                    seq,
                    by: Side::Local
                }
            );
        }
    }

    /// A STREAM_SKIP from the peer.
    pub(super) fn on_skip_frame(
        &mut self,
        now: Instant,
        id: StreamId,
        offset: u64,
        seq: u64,
    ) -> Result<(), Violation> {
        let rtt = self.recovery.rtt().smoothed();
        if self.streams.on_skip(now, rtt, id, offset, seq)? {
            trace_event!(
                self.trace.tracer,
                self.now,
                Some(self.id),
                TraceEvent::StreamSkipped {
                    stream: id,
                    offset,
                    seq,
                    by: Side::Remote
                }
            );
        }
        Ok(())
    }
}
