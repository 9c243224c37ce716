//! Pacing: spreading what the congestion window allows over a round trip
//! instead of sending it in one burst.
//!
//! Owns: a token bucket refilled at a rate in bytes per second: the
//! controller's own pacing rate when it models one (BBR), else
//! `5/4 * window / smoothed_rtt` (a little faster than the window, so pacing
//! never becomes the bottleneck); it holds at most a burst of a few
//! datagrams, or, when the caller's timer is coarse (a granularity is set),
//! what the rate allows in one tick of that timer, up to a ceiling.
//! Never: decides whether the window allows a packet (that is
//! [`crate::recovery::Recovery::can_send`]) or reads a clock; all arithmetic
//! is integer, so a run replays exactly.

use core::time::Duration;

use super::to_u64;
use crate::time::Instant;

/// Pacing rate numerator/denominator over `window / rtt`.
const RATE_NUM: u128 = 5;
const RATE_DEN: u128 = 4;

/// Token-bucket pacer.
#[derive(Clone, Debug)]
pub struct Pacer {
    /// Invariant: `base <= capacity <= max(base, ceiling)`.
    capacity: u64,
    /// The burst without a granularity, in bytes.
    base: u64,
    /// Most bytes one burst may grow to with a granularity.
    ceiling: u64,
    /// The caller's timer granularity in microseconds; 0: none.
    granularity_us: u64,
    tokens: u64,
    last_refill: Option<Instant>,
}

impl Pacer {
    /// A pacer that allows bursts of `burst_packets` datagrams of
    /// `max_datagram_size` bytes (about 10 is customary). It starts full.
    pub fn new(max_datagram_size: usize, burst_packets: u64) -> Self {
        let capacity = to_u64(max_datagram_size)
            .saturating_mul(burst_packets)
            .max(1);
        Pacer {
            capacity,
            base: capacity,
            ceiling: capacity,
            granularity_us: 0,
            tokens: capacity,
            last_refill: None,
        }
    }

    /// The datagram size changed: the burst without a granularity is
    /// `burst_packets` datagrams of `datagram_size` bytes from now on
    /// (tokens above the new capacity are dropped). The ceiling stays what
    /// `with_granularity` set, but never below the new base.
    pub fn set_datagram_size(&mut self, datagram_size: usize, burst_packets: u64) {
        self.base = to_u64(datagram_size).saturating_mul(burst_packets).max(1);
        self.ceiling = self.ceiling.max(self.base);
        self.capacity = if self.granularity_us == 0 {
            self.base
        } else {
            self.capacity.clamp(self.base, self.ceiling)
        };
        self.tokens = self.tokens.min(self.capacity);
    }

    /// The same pacer for a caller whose timer fires up to `granularity`
    /// late (a tokio timer: 1 ms): a burst may hold what the pacing rate
    /// allows in that long, up to `max_packets` datagrams, instead of asking
    /// for a wake-up the caller cannot deliver in time. Zero: no change.
    pub fn with_granularity(
        mut self,
        granularity: Duration,
        max_datagram_size: usize,
        max_packets: u64,
    ) -> Self {
        self.granularity_us = u64::try_from(granularity.as_micros()).unwrap_or(u64::MAX);
        self.ceiling = to_u64(max_datagram_size)
            .saturating_mul(max_packets)
            .max(self.base);
        self
    }

    /// Sets the burst from the current rate (with a granularity only).
    fn fit_capacity(&mut self, rate: u64) {
        if self.granularity_us == 0 {
            return;
        }
        let per_tick = u128::from(rate).saturating_mul(u128::from(self.granularity_us)) / 1_000_000;
        let per_tick = u64::try_from(per_tick).unwrap_or(u64::MAX);
        self.capacity = per_tick.clamp(self.base, self.ceiling);
        self.tokens = self.tokens.min(self.capacity);
    }

    /// When a packet of `bytes` bytes may leave, given the current window
    /// `cwnd` and smoothed RTT `srtt`: `None` means now. A packet larger than
    /// the whole burst waits only for a full bucket.
    pub fn delay(
        &mut self,
        now: Instant,
        bytes: usize,
        cwnd: u64,
        srtt: Duration,
    ) -> Option<Instant> {
        self.delay_at(now, bytes, window_rate(cwnd, srtt))
    }

    /// When a packet of `bytes` bytes may leave at `rate` bytes per second:
    /// `None` means now. A zero rate does not hold packets back.
    pub fn delay_at(&mut self, now: Instant, bytes: usize, rate: u64) -> Option<Instant> {
        if rate == 0 {
            // No meaningful rate: do not hold packets back.
            self.tokens = self.capacity;
            self.last_refill = Some(now);
            return None;
        }
        self.fit_capacity(rate);
        self.refill(now, rate);
        let need = to_u64(bytes).min(self.capacity);
        if self.tokens >= need {
            return None;
        }
        // Time for the missing bytes at the pacing rate, rounded up.
        let missing = u128::from(need - self.tokens);
        let wait = missing.saturating_mul(1_000_000).div_ceil(u128::from(rate));
        Some(now + Duration::from_micros(u64::try_from(wait).unwrap_or(u64::MAX)))
    }

    /// A packet of `bytes` bytes was sent at `now`: it spends tokens (a
    /// packet sent despite an empty bucket, such as a probe, is not held
    /// against later ones).
    pub fn on_sent(&mut self, now: Instant, bytes: usize) {
        if self.last_refill.is_none() {
            self.last_refill = Some(now);
        }
        self.tokens = self.tokens.saturating_sub(to_u64(bytes));
    }

    /// The burst a coarse caller timer makes the pacer let out, in bytes
    /// (what the pacing rate allows in one tick, as of the last
    /// [`Pacer::delay_at`]); 0 without a granularity.
    pub fn timer_burst(&self) -> u64 {
        if self.granularity_us == 0 {
            0
        } else {
            self.capacity
        }
    }

    /// Tokens, in bytes, available right now (as of the last refill).
    pub fn tokens(&self) -> u64 {
        self.tokens
    }

    fn refill(&mut self, now: Instant, rate: u64) {
        let Some(last) = self.last_refill else {
            self.last_refill = Some(now);
            return;
        };
        if self.tokens >= self.capacity {
            // A full bucket does not bank idle time.
            self.last_refill = Some(now);
            return;
        }
        let elapsed = (now - last).as_micros();
        let add = elapsed.saturating_mul(u128::from(rate)) / 1_000_000;
        if add == 0 {
            // Keep accumulating elapsed time until at least a byte is due.
            return;
        }
        let add = u64::try_from(add).unwrap_or(u64::MAX);
        self.tokens = self.tokens.saturating_add(add).min(self.capacity);
        self.last_refill = Some(now);
    }
}

/// A rate in bytes per second as bits per second (for traces and stats).
pub fn bits_per_sec(bytes_per_sec: u64) -> u64 {
    bytes_per_sec.saturating_mul(8)
}

/// `5/4 * cwnd / srtt` in bytes per second (0 without a window or an RTT).
pub fn window_rate(cwnd: u64, srtt: Duration) -> u64 {
    let micros = srtt.as_micros();
    if micros == 0 || cwnd == 0 {
        return 0;
    }
    let rate = u128::from(cwnd)
        .saturating_mul(RATE_NUM)
        .saturating_mul(1_000_000)
        / RATE_DEN.saturating_mul(micros);
    u64::try_from(rate).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    const MSS: usize = 1452;

    #[test]
    fn spreads_a_window_over_less_than_an_rtt() {
        let mut p = Pacer::new(MSS, 10);
        let cwnd = 100 * MSS as u64;
        let srtt = Duration::from_millis(100);
        let mut now = Instant::ZERO;
        let mut times = Vec::new();
        while times.len() < 100 {
            match p.delay(now, MSS, cwnd, srtt) {
                None => {
                    p.on_sent(now, MSS);
                    times.push(now);
                }
                Some(at) => {
                    assert!(at > now, "a delay is always in the future");
                    now = at;
                }
            }
        }
        let burst = times.iter().filter(|&&t| t == Instant::ZERO).count();
        assert_eq!(burst, 10, "the burst allowance goes out at once");
        // The rest leave one every 4/5 * rtt / 100 = 800 us.
        let gaps: Vec<u64> = times[10..]
            .windows(2)
            .map(|w| (w[1] - w[0]).as_micros() as u64)
            .collect();
        assert!(gaps.iter().all(|&g| (799..=801).contains(&g)), "{gaps:?}");
        let total = times[99] - Instant::ZERO;
        assert!(
            total >= Duration::from_millis(70) && total <= Duration::from_millis(75),
            "{total:?}"
        );
    }

    #[test]
    fn idle_time_does_not_bank_more_than_a_burst() {
        let mut p = Pacer::new(1000, 4);
        let srtt = Duration::from_millis(10);
        let mut now = Instant::ZERO;
        for _ in 0..4 {
            assert_eq!(p.delay(now, 1000, 40_000, srtt), None);
            p.on_sent(now, 1000);
        }
        assert!(p.delay(now, 1000, 40_000, srtt).is_some());
        now += Duration::from_secs(10);
        let mut sent = 0;
        while p.delay(now, 1000, 40_000, srtt).is_none() {
            p.on_sent(now, 1000);
            sent += 1;
        }
        assert_eq!(sent, 4);
    }

    #[test]
    fn oversized_packet_waits_only_for_a_full_bucket_and_zero_rtt_does_not_pace() {
        let mut p = Pacer::new(1000, 2);
        p.on_sent(Instant::ZERO, 5000);
        assert_eq!(p.tokens(), 0);
        let at = p.delay(Instant::ZERO, 5000, 10_000, Duration::from_millis(10));
        // 2000 bytes at 5/4 * 10_000 B / 10 ms = 1.25 B/us: 1600 us.
        assert_eq!(at, Some(Instant::from_micros(1600)));
        assert_eq!(p.delay(Instant::ZERO, 5000, 10_000, Duration::ZERO), None);
    }

    #[test]
    fn a_controller_rate_spaces_packets_exactly() {
        // 12.5 MB/s (100 Mbit/s): a 1250-byte packet every 100 us once the
        // burst is spent.
        let mut p = Pacer::new(1250, 2);
        let mut now = Instant::ZERO;
        let mut times = Vec::new();
        while times.len() < 12 {
            match p.delay_at(now, 1250, 12_500_000) {
                None => {
                    p.on_sent(now, 1250);
                    times.push(now.as_micros());
                }
                Some(at) => now = at,
            }
        }
        assert_eq!(times[..3], [0, 0, 100]);
        assert!(
            times.windows(2).skip(2).all(|w| w[1] - w[0] == 100),
            "{times:?}"
        );
        assert_eq!(p.delay_at(now, 1250, 0), None, "zero rate: no pacing");
    }

    #[test]
    fn a_coarse_timer_lets_bursts_grow_with_the_rate_up_to_the_ceiling() {
        let srtt = Duration::from_micros(200);
        // 64 KiB a round trip of 200 us: 1 ms of pacing is 400 KB, over
        // the ceiling of 64 datagrams.
        let mut p = Pacer::new(MSS, 10).with_granularity(Duration::from_millis(1), MSS, 64);
        let cwnd = 64 * 1024;
        let mut now = Instant::ZERO;
        let mut sent = 0;
        // Drain the first burst, then let a whole tick pass: the bucket
        // refills to the grown capacity.
        while p.delay(now, MSS, cwnd, srtt).is_none() {
            p.on_sent(now, MSS);
            sent += 1;
        }
        assert_eq!(sent, 10, "the bucket starts with the base burst");
        now += Duration::from_millis(1);
        let mut burst = 0;
        while p.delay(now, MSS, cwnd, srtt).is_none() {
            p.on_sent(now, MSS);
            burst += 1;
        }
        assert_eq!(burst, 64, "one tick's worth, capped at the ceiling");

        // A slow path (1 ms of pacing is less than the base burst) keeps
        // the base burst.
        let mut q = Pacer::new(MSS, 10).with_granularity(Duration::from_millis(1), MSS, 64);
        let slow = 10 * MSS as u64;
        let rtt = Duration::from_millis(40);
        let mut now = Instant::ZERO;
        while q.delay(now, MSS, slow, rtt).is_none() {
            q.on_sent(now, MSS);
        }
        now += Duration::from_secs(1);
        let mut burst = 0;
        while q.delay(now, MSS, slow, rtt).is_none() {
            q.on_sent(now, MSS);
            burst += 1;
        }
        assert_eq!(burst, 10);
    }

    #[test]
    fn timer_burst_is_the_grown_capacity_with_a_granularity_and_zero_without() {
        let srtt = Duration::from_micros(200);
        let cwnd = 64 * 1024;
        let mut plain = Pacer::new(MSS, 10);
        let _ = plain.delay(Instant::ZERO, MSS, cwnd, srtt);
        assert_eq!(plain.timer_burst(), 0, "no coarse timer: no timer burst");
        let mut p = Pacer::new(MSS, 10).with_granularity(Duration::from_millis(1), MSS, 64);
        assert_eq!(p.timer_burst(), 10 * MSS as u64, "the base before any rate");
        let _ = p.delay(Instant::ZERO, MSS, cwnd, srtt);
        assert_eq!(p.timer_burst(), 64 * MSS as u64, "one tick of a fast rate");
    }
}
