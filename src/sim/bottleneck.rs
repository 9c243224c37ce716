//! The rate-limited, drop-tail bottleneck of one link.
//!
//! Owns: when the link's serialiser becomes free, and whether a datagram fits
//! in the queue in front of it.
//! Never: stores datagrams. The queue is tracked as "busy until", which is all
//! a FIFO serialiser needs, so its memory is constant whatever is sent.
//!
//! Time is kept in units of (microseconds x bits per second), i.e. millionths
//! of a bit at the current rate, so serialisation times add up exactly
//! instead of accumulating a rounding error per datagram.

use crate::time::Instant;

/// Millionths of a bit per byte.
const SCALED_PER_BYTE: u128 = 8 * 1_000_000;

/// FIFO serialiser state of one link.
#[derive(Clone, Debug, Default)]
pub(crate) struct Bottleneck {
    /// Instant (in micros) the last accepted bit leaves, times `rate`.
    busy_scaled: u128,
    /// Rate `busy_scaled` is expressed in; 0 before first use.
    rate: u64,
}

impl Bottleneck {
    /// Offers a datagram of `len` bytes at `now`. Returns the instant its last
    /// bit leaves the bottleneck, or `None` if the queue is full (or the rate
    /// is zero, which never drains).
    ///
    /// The queue counts the bytes not yet serialised at `now`; the datagram is
    /// accepted if the bottleneck is idle, or if it fits in `queue_bytes` on
    /// top of that backlog. An empty datagram is charged one byte, so even a
    /// stream of empty datagrams keeps the in-flight count bounded.
    pub(crate) fn offer(
        &mut self,
        now: Instant,
        len: usize,
        rate: u64,
        queue_bytes: usize,
    ) -> Option<Instant> {
        if rate == 0 {
            return None;
        }
        self.rescale(rate);
        let now_scaled = u128::from(now.as_micros()).saturating_mul(u128::from(rate));
        let start = self.busy_scaled.max(now_scaled);
        let backlog = (start - now_scaled).div_ceil(SCALED_PER_BYTE);
        let len = u128::try_from(len.max(1)).unwrap_or(u128::MAX);
        let queue = u128::try_from(queue_bytes).unwrap_or(u128::MAX);
        if backlog > 0 && backlog.saturating_add(len) > queue {
            return None;
        }
        self.busy_scaled = start.saturating_add(len.saturating_mul(SCALED_PER_BYTE));
        Some(to_instant(self.busy_scaled, rate))
    }

    /// When a datagram offered at `now` would start to serialise: once the
    /// bottleneck is free (FIFO). A link whose rate changes over time picks
    /// the rate in force then for it.
    pub(crate) fn starts_at(&self, now: Instant) -> Instant {
        if self.rate == 0 {
            return now;
        }
        to_instant(self.busy_scaled, self.rate).max(now)
    }

    /// Bytes waiting at `now` (including the unsent part of the datagram on
    /// the wire).
    #[cfg(test)]
    pub(crate) fn backlog_bytes(&self, now: Instant) -> u128 {
        let now_scaled = u128::from(now.as_micros()).saturating_mul(u128::from(self.rate));
        self.busy_scaled
            .saturating_sub(now_scaled)
            .div_ceil(SCALED_PER_BYTE)
    }

    /// Re-expresses the busy time at a new rate (the link was reconfigured);
    /// what is already queued keeps its departure time, rounded up to a
    /// microsecond.
    fn rescale(&mut self, rate: u64) {
        if rate != self.rate {
            let busy = if self.rate == 0 {
                0
            } else {
                to_instant(self.busy_scaled, self.rate).as_micros()
            };
            self.busy_scaled = u128::from(busy).saturating_mul(u128::from(rate));
            self.rate = rate;
        }
    }
}

/// Converts scaled time back to an instant, rounding up. `rate` is non-zero.
fn to_instant(scaled: u128, rate: u64) -> Instant {
    let micros = scaled.div_ceil(u128::from(rate.max(1)));
    Instant::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MBIT10: u64 = 10_000_000;

    #[test]
    fn serialises_back_to_back_exactly() {
        let mut b = Bottleneck::default();
        let t0 = Instant::ZERO;
        // 1250 bytes at 10 Mbit/s is exactly 1 ms.
        for i in 1..=1000u64 {
            let done = b.offer(t0, 1250, MBIT10, usize::MAX);
            assert_eq!(done, Some(Instant::from_millis(i)));
        }
        assert_eq!(b.backlog_bytes(t0), 1_250_000);
        assert_eq!(b.backlog_bytes(Instant::from_millis(1000)), 0);
    }

    #[test]
    fn odd_sizes_do_not_drift() {
        // 1 byte at 3 bit/s: 8/3 s each; 3 of them take exactly 8 s.
        let mut b = Bottleneck::default();
        let mut last = None;
        for _ in 0..3 {
            last = b.offer(Instant::ZERO, 1, 3, usize::MAX);
        }
        assert_eq!(last, Some(Instant::from_millis(8000)));
    }

    #[test]
    fn idle_link_starts_at_now() {
        let mut b = Bottleneck::default();
        let t = Instant::from_millis(500);
        assert_eq!(b.offer(t, 1250, MBIT10, 0), Some(Instant::from_millis(501)));
        // Later, after the link went idle again.
        let t = Instant::from_millis(900);
        assert_eq!(b.offer(t, 1250, MBIT10, 0), Some(Instant::from_millis(901)));
    }

    #[test]
    fn drop_tail_when_full() {
        let mut b = Bottleneck::default();
        // Queue of 10 datagrams' worth: the one on the wire plus 9 behind it.
        let accepted = (0..100)
            .filter(|_| b.offer(Instant::ZERO, 1250, MBIT10, 12_500).is_some())
            .count();
        assert_eq!(accepted, 10);
        // Once one has left, one more fits.
        assert!(b
            .offer(Instant::from_millis(1), 1250, MBIT10, 12_500)
            .is_some());
        assert!(b
            .offer(Instant::from_millis(1), 1250, MBIT10, 12_500)
            .is_none());
    }

    #[test]
    fn zero_queue_passes_only_on_idle_link() {
        let mut b = Bottleneck::default();
        assert!(b.offer(Instant::ZERO, 100, MBIT10, 0).is_some());
        assert!(b.offer(Instant::ZERO, 100, MBIT10, 0).is_none());
    }

    #[test]
    fn zero_rate_and_extremes_do_not_panic() {
        let mut b = Bottleneck::default();
        assert_eq!(b.offer(Instant::ZERO, 100, 0, usize::MAX), None);
        assert!(b
            .offer(Instant::MAX, usize::MAX, u64::MAX, usize::MAX)
            .is_some());
        assert!(b.offer(Instant::MAX, usize::MAX, 1, usize::MAX).is_some());
        let _ = b.offer(Instant::MAX, 0, u64::MAX, 0);
    }

    #[test]
    fn start_of_serialisation_follows_the_backlog() {
        let mut b = Bottleneck::default();
        assert_eq!(
            b.starts_at(Instant::from_millis(5)),
            Instant::from_millis(5)
        );
        let _ = b.offer(Instant::ZERO, 12_500, MBIT10, usize::MAX);
        assert_eq!(b.starts_at(Instant::ZERO), Instant::from_millis(10));
        assert_eq!(
            b.starts_at(Instant::from_millis(20)),
            Instant::from_millis(20)
        );
    }

    #[test]
    fn rate_change_keeps_queued_departures() {
        let mut b = Bottleneck::default();
        assert_eq!(
            b.offer(Instant::ZERO, 1250, MBIT10, usize::MAX),
            Some(Instant::from_millis(1))
        );
        // Halve the rate: the next 1250 bytes take 2 ms after the first leaves.
        assert_eq!(
            b.offer(Instant::ZERO, 1250, MBIT10 / 2, usize::MAX),
            Some(Instant::from_millis(3))
        );
    }
}
