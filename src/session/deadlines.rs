//! Deadline messages at the session: the clock and round-trip figures the
//! streams' expiry and resending decisions need, and the peer's skips.
//!
//! Owns: handing the stream manager the session's time and RTT estimate
//! for deadline decisions, and tracing skips.
//! Never: decides which message expires (the streams do) or when a packet
//! is lost (recovery does).

use super::Session;
use crate::ids::StreamId;
use crate::time::Instant;
use crate::violation::Violation;

impl Session {
    /// A STREAM_SKIP from the peer.
    pub(super) fn on_skip_frame(
        &mut self,
        now: Instant,
        id: StreamId,
        offset: u64,
        seq: u64,
    ) -> Result<(), Violation> {
        let rtt = self.recovery.rtt().smoothed();
        self.streams.on_skip(now, rtt, id, offset, seq)
    }
}
