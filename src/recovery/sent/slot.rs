//! The record of one sent packet, as the send-side recovery keeps it.
//!
//! Owns: the packet's number, send time, size, what it carried (an opaque
//! `T`), its delivery-rate snapshot and the window-use flags, compressed.
//! Never: holds anything that grows: one fixed-size record per packet.

use crate::recovery::congestion::Snapshot;
use crate::time::Instant;

#[derive(Debug)]
pub(super) enum State<T> {
    Outstanding(T),
    Acked,
    Lost,
}

/// One sent packet. Kept compact (one is stored per packet in flight):
/// the delivery-rate snapshot's times are stored as microseconds before
/// `time_sent` in 32 bits (saturating at 71 minutes, which only lengthens a
/// sample's interval), byte counts in 32 bits (saturating).
#[derive(Debug)]
pub(super) struct Slot<T> {
    pub(super) pn: u64,
    pub(super) time_sent: Instant,
    /// Bytes delivered when sent (delivery-rate snapshot).
    pub(super) delivered: u64,
    pub(super) bytes: u32,
    /// Bytes in flight just after it was sent (itself included).
    pub(super) in_flight_at_send: u32,
    pub(super) delivered_age_us: u32,
    pub(super) first_sent_age_us: u32,
    pub(super) ack_eliciting: bool,
    /// A datagram size probe: ack-eliciting, but outside congestion
    /// control (not in bytes in flight, its loss is no congestion signal).
    pub(super) probe: bool,
    /// Sent inside the delivery-rate application-limited mark.
    pub(super) app_limited: bool,
    pub(super) state: State<T>,
}

pub(super) fn age_us(later: Instant, earlier: Instant) -> u32 {
    u32::try_from(later.saturating_duration_since(earlier).as_micros()).unwrap_or(u32::MAX)
}

pub(super) fn sat_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<T> Slot<T> {
    pub(super) fn snapshot(&self) -> Snapshot {
        let back = |us: u32| {
            Instant::from_micros(self.time_sent.as_micros().saturating_sub(u64::from(us)))
        };
        Snapshot {
            delivered: self.delivered,
            delivered_time: back(self.delivered_age_us),
            first_sent_time: back(self.first_sent_age_us),
            app_limited: self.app_limited,
        }
    }
}
