//! The session-wide receive budget: how many bytes of stream data one
//! session may hold for the application, across all its streams.
//!
//! Owns: the count of bytes buffered on the receive side (whole messages not
//! yet read, and messages being reassembled or waiting behind a gap), its
//! high-water mark, and the verdict when a peer pushes it past the limit.
//! Never: looks inside streams or frees anything; the stream manager
//! reports every change and closes the session on a verdict.
//!
//! # Why flow control is not enough
//! Flow control bounds the credit not yet released, but the head message of
//! each stream releases credit as it arrives in order (a message larger than
//! a window must not deadlock: it can only be read whole). So without this
//! a peer could leave one unfinished message on every stream, and what a
//! session holds would grow with `max_streams x max_message_size`.
//!
//! # Why a violation, not back-pressure
//! The receiver cannot make an honest sender hold back without deadlock:
//! the sender chooses which stream spends the session credit, so withheld
//! credit can leave every buffered message waiting on bytes no credit
//! remains for. Refusing packets (leaving them unacknowledged) was tried:
//! when every packet is refused no acknowledgement comes back, loss
//! detection never runs, and the sender probes with new data for ever (the
//! `pair_ops` fuzz target found that livelock). So the limit is a hard
//! bound, sized so that one stream used within the configured windows never
//! reaches it (see `ConfigError::SessionBufferTooSmall`).

/// The receive budget of one session. The limit is the endpoint's
/// (`StreamLimits::max_session_buffer`), held once and passed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecvBudget {
    buffered: u64,
    /// Most `buffered` has been (a violation's last count included).
    peak: u64,
}

impl RecvBudget {
    /// Nothing buffered.
    pub const fn new() -> Self {
        RecvBudget {
            buffered: 0,
            peak: 0,
        }
    }

    /// Reports a stream's buffered bytes going from `before` to `after`.
    pub fn changed(&mut self, before: u64, after: u64) {
        self.buffered = self.buffered.saturating_add(after).saturating_sub(before);
        self.peak = self.peak.max(self.buffered);
    }

    /// True if the session holds more than `limit` bytes.
    pub fn is_over(&self, limit: u64) -> bool {
        self.buffered > limit
    }

    /// Bytes buffered on all streams.
    pub fn buffered(&self) -> u64 {
        self.buffered
    }

    /// Most bytes buffered on all streams at once so far.
    pub fn peak(&self) -> u64 {
        self.peak
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_changes_and_is_over_only_past_the_limit() {
        let mut b = RecvBudget::new();
        b.changed(0, 60);
        b.changed(0, 40);
        assert_eq!(b.buffered(), 100);
        assert!(!b.is_over(100), "the limit itself is allowed");
        b.changed(40, 41);
        assert!(b.is_over(100));
        b.changed(60, 0);
        assert_eq!(b.buffered(), 41);
        assert!(!b.is_over(100));
        assert_eq!(b.peak(), 101, "the high-water mark stays");
    }
}
