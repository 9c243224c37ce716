//! Whether the sender is using its congestion window, so an
//! acknowledgement may grow it (RFC 9002 section 7.8).
//!
//! Owns: the most bytes in flight this round and the round before (a
//! round ends when a packet sent after it began is acknowledged) and the
//! datagram size the test leaves room for.
//! Never: changes the window; the controller is told whether an
//! acknowledgement came while the window was in use.

use crate::recovery::congestion::RateSample;

/// Peak use of the window over the last two rounds.
#[derive(Debug)]
pub(super) struct WindowUse {
    peak_flight: u64,
    prev_peak_flight: u64,
    /// Delivered bytes that end the current round.
    peak_round_end: u64,
    datagram: u64,
}

impl WindowUse {
    pub(super) fn new(datagram: u64) -> Self {
        WindowUse {
            peak_flight: 0,
            prev_peak_flight: 0,
            peak_round_end: 0,
            datagram,
        }
    }

    /// A packet was sent; `in_flight` bytes are in flight now.
    pub(super) fn on_sent(&mut self, in_flight: u64) {
        self.peak_flight = self.peak_flight.max(in_flight);
    }

    /// An acknowledgement gave the rate sample `sample`, `in_flight` bytes
    /// are in flight after it: a round that ended starts the next one's
    /// peak from what is in flight.
    pub(super) fn on_rate_sample(&mut self, sample: &RateSample, in_flight: u64) {
        if sample.prior_delivered >= self.peak_round_end {
            self.prev_peak_flight = self.peak_flight;
            self.peak_flight = in_flight;
            self.peak_round_end = sample.total_delivered;
        }
    }

    /// The window of `window` bytes is in use (and may grow) while the
    /// most bytes in flight in this round or the last reached half of it,
    /// less two datagrams: room for one acknowledgement's growth (up to two
    /// datagrams in slow start with every other packet acknowledged), so
    /// the window ends within twice what was used. A sender held back by
    /// its application, by flow control or by pacing never gets there, so
    /// its window stays within twice what it actually used.
    pub(super) fn in_use(&self, window: u64) -> bool {
        self.peak_flight
            .max(self.prev_peak_flight)
            .saturating_mul(2)
            >= window.saturating_add(self.datagram.saturating_mul(2))
    }

    /// The datagram size changed.
    pub(super) fn set_datagram_size(&mut self, bytes: u64) {
        self.datagram = bytes.max(1);
    }
}
