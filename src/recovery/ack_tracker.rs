//! Receive-side acknowledgement state: which packet numbers arrived and when
//! an acknowledgement is owed.
//!
//! Owns: the set of received packet numbers (as at most `max_ack_ranges`
//! ranges), the delay of the pending acknowledgement, and the rules that make
//! an acknowledgement immediate (a threshold of ack-eliciting packets, an
//! out-of-order arrival, a newly opened gap).
//! Never: encodes an ACK frame (the session does, from
//! [`AckTracker::ranges_desc`]), decides whether a packet is a replay (that is
//! the packet-protection layer's job), or grows past its range bound: the
//! oldest ranges are forgotten first.

use alloc::vec::Vec;
use core::ops::Range;
use core::time::Duration;

use super::RecoveryConfig;
use crate::ranges::RangeSet;
use crate::time::Instant;

/// What this endpoint has received and owes an acknowledgement for.
#[derive(Clone, Debug)]
pub struct AckTracker {
    received: RangeSet,
    /// The configuration's settings in narrow types: at most `u32::MAX`
    /// ranges, the delay in nanoseconds (at most 584 years).
    max_ranges: u32,
    max_ack_delay_ns: u64,
    threshold: u32,
    /// The largest packet number received plus one (0: none yet; a
    /// number of `u64::MAX` is refused): 8 bytes where an `Option<u64>`
    /// takes 16.
    largest_end: u64,
    largest_time: Instant,
    eliciting_since_ack: u32,
    first_unacked_eliciting: Option<Instant>,
    immediate_since: Option<Instant>,
    new_since_ack: bool,
}

impl AckTracker {
    /// An empty tracker using `max_ack_ranges`, `max_ack_delay` and
    /// `ack_eliciting_threshold` from `config`.
    pub fn new(config: &RecoveryConfig) -> Self {
        AckTracker {
            received: RangeSet::new(),
            max_ranges: u32::try_from(config.max_ack_ranges.max(1)).unwrap_or(u32::MAX),
            max_ack_delay_ns: u64::try_from(config.max_ack_delay.as_nanos()).unwrap_or(u64::MAX),
            threshold: config.ack_eliciting_threshold.max(1),
            largest_end: 0,
            largest_time: Instant::ZERO,
            eliciting_since_ack: 0,
            first_unacked_eliciting: None,
            immediate_since: None,
            new_since_ack: false,
        }
    }

    /// Records the arrival of packet `pn` at `now`. Returns false (and changes
    /// nothing) if `pn` is already recorded.
    ///
    /// An ack-eliciting packet makes an acknowledgement pending; it makes it
    /// immediate if it arrives below the largest number seen (reordering or a
    /// filled hole), if it leaves a gap above the largest, or if it is the
    /// `ack_eliciting_threshold`-th ack-eliciting packet since the last
    /// acknowledgement. Non-ack-eliciting packets are recorded but never make
    /// an acknowledgement owed.
    pub fn on_packet_received(&mut self, now: Instant, pn: u64, ack_eliciting: bool) -> bool {
        let Some(end) = pn.checked_add(1) else {
            return false;
        };
        // Past the largest (the common case) it cannot be a duplicate.
        let past_largest = end > self.largest_end;
        if !past_largest && self.received.contains(pn) {
            return false;
        }
        let (out_of_order, gap) = match self.largest() {
            Some(largest) => (pn < largest, pn > largest.saturating_add(1)),
            None => (false, false),
        };
        self.received.insert(pn..end);
        while self.received.len() > self.max_ranges as usize {
            self.received.pop_min();
        }
        if past_largest {
            self.largest_end = end;
            self.largest_time = now;
        }
        self.new_since_ack = true;
        if ack_eliciting {
            self.eliciting_since_ack = self.eliciting_since_ack.saturating_add(1);
            self.first_unacked_eliciting.get_or_insert(now);
            if out_of_order || gap || self.eliciting_since_ack >= self.threshold {
                self.immediate_since.get_or_insert(now);
            }
        }
        true
    }

    /// True when an acknowledgement is owed (an ack-eliciting packet arrived
    /// since the last one was sent).
    pub fn ack_pending(&self) -> bool {
        self.first_unacked_eliciting.is_some()
    }

    /// Makes an owed acknowledgement immediate, as if the arrival at
    /// `now` were one that needs an answer at once. Nothing if none is
    /// owed.
    pub fn ack_at_once(&mut self, now: Instant) {
        if self.first_unacked_eliciting.is_some() {
            self.immediate_since.get_or_insert(now);
        }
    }

    /// True when anything (ack-eliciting or not) arrived since the last
    /// acknowledgement: worth piggybacking an ACK frame on a packet that is
    /// being sent anyway, even if none is owed.
    pub fn new_since_ack(&self) -> bool {
        self.new_since_ack
    }

    /// When the owed acknowledgement must be sent, or `None` if none is owed.
    ///
    /// An immediate acknowledgement reports the arrival that made it
    /// immediate (a time at or before "now"): the caller treats any deadline
    /// not in the future as due. Otherwise it is the first unacknowledged
    /// ack-eliciting arrival plus `max_ack_delay`.
    pub fn ack_deadline(&self) -> Option<Instant> {
        let first = self.first_unacked_eliciting?;
        let delayed = first + Duration::from_nanos(self.max_ack_delay_ns);
        Some(self.immediate_since.map_or(delayed, |t| t.min(delayed)))
    }

    /// The received ranges, half-open, largest first, written into `out`
    /// (cleared first; its allocation is reused). At most `max_ack_ranges`.
    pub fn ranges_desc(&self, out: &mut Vec<Range<u64>>) {
        out.clear();
        out.extend(self.received.iter().rev());
    }

    /// The ack delay to report if an acknowledgement is sent at `now`: time
    /// since the largest packet number was received.
    pub fn ack_delay(&self, now: Instant) -> Duration {
        if self.largest_end == 0 {
            return Duration::ZERO;
        }
        now - self.largest_time
    }

    /// Records that an acknowledgement covering everything in
    /// [`AckTracker::ranges_desc`] was sent at `now`: nothing is owed any more.
    pub fn on_ack_sent(&mut self, _now: Instant) {
        self.eliciting_since_ack = 0;
        self.first_unacked_eliciting = None;
        self.immediate_since = None;
        self.new_since_ack = false;
    }

    /// Largest packet number received.
    pub fn largest(&self) -> Option<u64> {
        self.largest_end.checked_sub(1)
    }

    /// The peer acknowledged a packet carrying an acknowledgement whose
    /// largest number was `largest_in_that_ack`: it knows we have everything
    /// up to there, so those ranges need not be repeated. The newest range is
    /// always kept whole, so every acknowledgement still names the largest
    /// packet received.
    pub fn on_ack_acked(&mut self, largest_in_that_ack: u64) {
        let Some(newest) = self.received.max() else {
            return;
        };
        let cut = largest_in_that_ack.saturating_add(1).min(newest.start);
        self.received.remove(0..cut);
    }

    /// Number of ranges currently remembered.
    pub fn range_count(&self) -> usize {
        self.received.len()
    }
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // lists of packet-number ranges
mod tests {
    use super::*;
    use alloc::vec;

    fn tracker(threshold: u32, max_ranges: usize) -> AckTracker {
        AckTracker::new(&RecoveryConfig {
            ack_eliciting_threshold: threshold,
            max_ack_ranges: max_ranges,
            ..RecoveryConfig::default()
        })
    }

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    fn ranges(a: &AckTracker) -> Vec<Range<u64>> {
        let mut v = vec![5..6]; // stale content must be cleared
        a.ranges_desc(&mut v);
        v
    }

    #[test]
    fn in_order_packets_are_acked_every_second_one() {
        let mut a = tracker(2, 32);
        assert!(a.on_packet_received(t(0), 0, true));
        assert!(a.ack_pending());
        assert_eq!(a.ack_deadline(), Some(t(25)));
        assert!(a.on_packet_received(t(3), 1, true));
        assert_eq!(
            a.ack_deadline(),
            Some(t(3)),
            "second packet makes it immediate"
        );
        assert_eq!(ranges(&a), vec![0..2]);
        assert_eq!(a.ack_delay(t(5)), Duration::from_millis(2));
        a.on_ack_sent(t(5));
        assert!(!a.ack_pending());
        assert_eq!(a.ack_deadline(), None);
        assert!(a.on_packet_received(t(6), 2, true));
        assert_eq!(a.ack_deadline(), Some(t(31)));
    }

    #[test]
    fn non_eliciting_packets_never_make_an_ack_owed() {
        let mut a = tracker(2, 32);
        a.on_packet_received(t(0), 0, false);
        a.on_packet_received(t(1), 1, false);
        a.on_packet_received(t(2), 5, false);
        assert!(!a.ack_pending());
        assert!(a.new_since_ack());
        assert_eq!(a.ack_deadline(), None);
        assert_eq!(ranges(&a), vec![5..6, 0..2]);
    }

    #[test]
    fn gap_and_reordering_make_the_ack_immediate() {
        let mut a = tracker(10, 32);
        a.on_packet_received(t(0), 0, true);
        assert_eq!(a.ack_deadline(), Some(t(25)));
        a.on_packet_received(t(1), 2, true); // gap: 1 missing
        assert_eq!(a.ack_deadline(), Some(t(1)));
        a.on_ack_sent(t(1));
        a.on_packet_received(t(2), 1, true); // fills the hole: out of order
        assert_eq!(a.ack_deadline(), Some(t(2)));
        assert_eq!(ranges(&a), vec![0..3]);
        assert_eq!(a.largest(), Some(2));
        assert_eq!(
            a.ack_delay(t(4)),
            Duration::from_millis(3),
            "delay runs from the largest"
        );
    }

    #[test]
    fn an_owed_acknowledgement_can_be_made_immediate() {
        let mut a = tracker(2, 8);
        a.ack_at_once(t(1));
        assert_eq!(a.ack_deadline(), None, "nothing owed: nothing to hasten");
        a.on_packet_received(t(2), 0, true);
        assert_eq!(a.ack_deadline(), Some(t(27)), "one packet waits");
        a.ack_at_once(t(3));
        assert_eq!(a.ack_deadline(), Some(t(3)));
        a.on_ack_sent(t(3));
        assert_eq!(a.ack_deadline(), None);
    }

    #[test]
    fn duplicates_change_nothing() {
        let mut a = tracker(2, 32);
        a.on_packet_received(t(0), 7, true);
        a.on_ack_sent(t(0));
        assert!(!a.on_packet_received(t(1), 7, true));
        assert!(!a.ack_pending());
        assert!(!a.new_since_ack());
        assert!(!a.on_packet_received(t(1), u64::MAX, true));
    }

    #[test]
    fn range_count_is_bounded_by_dropping_the_oldest() {
        let mut a = tracker(2, 3);
        for pn in [0, 2, 4, 6, 8] {
            a.on_packet_received(t(pn), pn, true);
        }
        assert_eq!(a.range_count(), 3);
        assert_eq!(ranges(&a), vec![8..9, 6..7, 4..5]);
        // A very old straggler is recorded and then forgotten at once.
        a.on_packet_received(t(9), 1, true);
        assert_eq!(ranges(&a), vec![8..9, 6..7, 4..5]);
    }

    #[test]
    fn acked_ack_prunes_but_keeps_the_newest_range() {
        let mut a = tracker(2, 32);
        for pn in [0, 1, 3, 4, 6, 7] {
            a.on_packet_received(t(pn), pn, true);
        }
        a.on_ack_acked(3);
        assert_eq!(ranges(&a), vec![6..8, 4..5]);
        a.on_ack_acked(100);
        assert_eq!(ranges(&a), vec![6..8], "newest range is never pruned");
        assert_eq!(a.largest(), Some(7));
    }

    proptest::proptest! {
        #[test]
        fn ranges_stay_bounded_sorted_and_name_the_largest(
            arrivals in proptest::collection::vec((0u64..300, proptest::bool::ANY, proptest::bool::ANY), 1..200),
            max_ranges in 1usize..8,
        ) {
            let mut a = tracker(2, max_ranges);
            let mut out = Vec::new();
            let mut owed = false;
            for (i, (pn, eliciting, send_ack)) in arrivals.into_iter().enumerate() {
                let now = t(i as u64);
                if a.on_packet_received(now, pn, eliciting) && eliciting {
                    owed = true;
                }
                proptest::prop_assert_eq!(a.ack_pending(), owed);
                proptest::prop_assert_eq!(a.ack_deadline().is_some(), owed);
                if let Some(deadline) = a.ack_deadline() {
                    proptest::prop_assert!(deadline <= now + Duration::from_millis(25));
                }
                a.ranges_desc(&mut out);
                proptest::prop_assert!(!out.is_empty() && out.len() <= max_ranges);
                proptest::prop_assert!(out.iter().all(|r| r.start < r.end));
                proptest::prop_assert!(out.windows(2).all(|w| w[1].end < w[0].start));
                let largest = a.largest().unwrap();
                proptest::prop_assert!(out[0].contains(&largest) && out[0].end == largest + 1);
                if send_ack {
                    a.on_ack_sent(now);
                    owed = false;
                }
            }
        }
    }
}
