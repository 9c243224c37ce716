//! Round-trip time estimation.
//!
//! Owns: the minimum, latest, smoothed and variance estimates of the path's
//! round-trip time, and the base duration of a probe timeout.
//! Never: takes a sample on its own or trusts the peer's reported ack delay
//! beyond what the rules allow (the delay is capped and never pushes a sample
//! below the minimum RTT). All arithmetic saturates.

use core::time::Duration;

/// Estimates of the path's round-trip time from acknowledgement samples.
///
/// Before the first sample every estimate is derived from the initial RTT
/// given to [`RttEstimator::new`]: smoothed = initial, variance = initial / 2,
/// minimum = latest = initial.
///
/// Estimates are held in nanoseconds (8 bytes each where a `Duration` takes
/// 16); a duration past `u64::MAX` nanoseconds (584 years) saturates there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RttEstimator {
    latest: u64,
    /// `latest` less the ack delay the smoothed estimate accepted.
    latest_adjusted: u64,
    smoothed: u64,
    rttvar: u64,
    /// The minimum in the low 63 bits (292 years at most), and in the top
    /// bit whether a sample was taken: the estimator stays 40 bytes.
    min: u64,
}

/// The bit of `min` that says a sample was taken.
const SAMPLED: u64 = 1 << 63;

/// `d` in nanoseconds, saturating.
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl RttEstimator {
    /// An estimator that assumes `initial` until the first sample.
    pub fn new(initial: Duration) -> Self {
        let initial = nanos(initial);
        RttEstimator {
            latest: initial,
            latest_adjusted: initial,
            smoothed: initial,
            rttvar: initial / 2,
            min: initial & !SAMPLED,
        }
    }

    /// Folds in one sample: `sample` is the time from sending the largest
    /// newly acknowledged packet to receiving its acknowledgement, `ack_delay`
    /// what the peer says it waited before acknowledging.
    ///
    /// Rules: the minimum RTT takes the raw sample; the ack delay is capped at
    /// `max_ack_delay` (pass `Duration::MAX` while the peer's limit is not yet
    /// known) and subtracted only if the result stays at or above the
    /// minimum; the first sample ignores the ack delay and seeds every
    /// estimate.
    pub fn update(&mut self, ack_delay: Duration, sample: Duration, max_ack_delay: Duration) {
        let sample = nanos(sample);
        self.latest = sample;
        self.latest_adjusted = sample;
        if !self.has_sample() {
            self.min = sample.min(!SAMPLED) | SAMPLED;
            self.smoothed = sample;
            self.rttvar = sample / 2;
            return;
        }
        let min = self.min_nanos().min(sample);
        self.min = min | SAMPLED;
        let ack_delay = nanos(ack_delay.min(max_ack_delay));
        let adjusted = match sample.checked_sub(ack_delay) {
            Some(rest) if rest >= min => rest,
            _ => sample,
        };
        self.latest_adjusted = adjusted;
        let deviation = self.smoothed.abs_diff(adjusted);
        self.rttvar = weighted(self.rttvar, 3, deviation, 1, 4);
        self.smoothed = weighted(self.smoothed, 7, adjusted, 1, 8);
    }

    /// True once at least one sample was taken.
    pub fn has_sample(&self) -> bool {
        self.min & SAMPLED != 0
    }

    /// The minimum, in nanoseconds.
    fn min_nanos(&self) -> u64 {
        self.min & !SAMPLED
    }

    /// Smoothed RTT.
    pub fn smoothed(&self) -> Duration {
        Duration::from_nanos(self.smoothed)
    }

    /// RTT variance (mean deviation).
    pub fn rttvar(&self) -> Duration {
        Duration::from_nanos(self.rttvar)
    }

    /// Smallest sample seen (the initial RTT before any sample).
    pub fn min(&self) -> Duration {
        Duration::from_nanos(self.min_nanos())
    }

    /// Most recent sample (the initial RTT before any sample).
    pub fn latest(&self) -> Duration {
        Duration::from_nanos(self.latest)
    }

    /// Most recent sample less the peer's ack delay, under the same rules
    /// as the smoothed estimate (capped, never below the minimum): the
    /// path's own delay, without the time the peer held its
    /// acknowledgement. A queue shows here; a delayed ack does not.
    pub fn latest_adjusted(&self) -> Duration {
        Duration::from_nanos(self.latest_adjusted)
    }

    /// Base of a probe timeout: `smoothed + max(4 * rttvar, granularity)`.
    /// The caller adds the peer's maximum ack delay and the backoff.
    pub fn pto_base(&self, granularity: Duration) -> Duration {
        self.smoothed()
            .saturating_add(self.rttvar().saturating_mul(4).max(granularity))
    }
}

/// `(a * wa + b * wb) / den` in nanoseconds, saturating.
fn weighted(a: u64, wa: u128, b: u64, wb: u128, den: u128) -> u64 {
    let sum = u128::from(a)
        .saturating_mul(wa)
        .saturating_add(u128::from(b).saturating_mul(wb));
    u64::try_from(sum / den).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn before_any_sample_estimates_come_from_initial() {
        let r = RttEstimator::new(ms(100));
        assert!(!r.has_sample());
        assert_eq!(r.smoothed(), ms(100));
        assert_eq!(r.rttvar(), ms(50));
        assert_eq!(r.pto_base(ms(1)), ms(300));
    }

    #[test]
    fn first_sample_seeds_everything_and_ignores_ack_delay() {
        let mut r = RttEstimator::new(ms(100));
        r.update(ms(20), ms(40), ms(25));
        assert_eq!(r.smoothed(), ms(40));
        assert_eq!(r.rttvar(), ms(20));
        assert_eq!(r.min(), ms(40));
        assert_eq!(r.latest(), ms(40));
    }

    #[test]
    fn ack_delay_subtracted_only_above_min_rtt() {
        let mut r = RttEstimator::new(ms(100));
        r.update(Duration::ZERO, ms(40), ms(25));
        // 60 - 10 = 50 >= 40: delay subtracted; smoothed = (7*40 + 50) / 8.
        r.update(ms(10), ms(60), ms(25));
        assert_eq!(r.smoothed(), Duration::from_micros(41_250));
        assert_eq!((r.latest(), r.latest_adjusted()), (ms(60), ms(50)));
        // rttvar = (3*20 + |40 - 50|) / 4 = 17.5 ms.
        assert_eq!(r.rttvar(), Duration::from_micros(17_500));

        // 45 - 10 = 35 < 40: the delay would undercut min_rtt, so it is ignored.
        let mut s = RttEstimator::new(ms(100));
        s.update(Duration::ZERO, ms(40), ms(25));
        s.update(ms(10), ms(45), ms(25));
        assert_eq!(s.smoothed(), Duration::from_micros(40_625));
        assert_eq!(s.latest_adjusted(), ms(45));
    }

    #[test]
    fn ack_delay_capped_by_max_ack_delay() {
        let mut r = RttEstimator::new(ms(100));
        r.update(Duration::ZERO, ms(40), ms(25));
        // Claimed delay 100 ms is capped to 25 ms: adjusted = 175 ms.
        r.update(ms(100), ms(200), ms(25));
        assert_eq!(
            r.smoothed(),
            Duration::from_micros((7 * 40_000 + 175_000) / 8)
        );
        // Uncapped (limit unknown): adjusted = 100 ms.
        let mut u = RttEstimator::new(ms(100));
        u.update(Duration::ZERO, ms(40), ms(25));
        u.update(ms(100), ms(200), Duration::MAX);
        assert_eq!(
            u.smoothed(),
            Duration::from_micros((7 * 40_000 + 100_000) / 8)
        );
    }

    #[test]
    fn min_rtt_tracks_raw_samples() {
        let mut r = RttEstimator::new(ms(100));
        r.update(Duration::ZERO, ms(40), ms(25));
        r.update(ms(20), ms(30), ms(25));
        assert_eq!(r.min(), ms(30));
        assert_eq!(r.latest(), ms(30));
        r.update(Duration::ZERO, ms(90), ms(25));
        assert_eq!(r.min(), ms(30));
    }

    #[test]
    fn pto_base_uses_granularity_floor() {
        let mut r = RttEstimator::new(ms(100));
        r.update(Duration::ZERO, ms(10), ms(25));
        for _ in 0..200 {
            r.update(Duration::ZERO, ms(10), ms(25));
        }
        assert!(r.rttvar() < Duration::from_micros(250));
        assert_eq!(r.pto_base(ms(1)), ms(11));
    }

    #[test]
    fn huge_samples_saturate_instead_of_panicking() {
        let mut r = RttEstimator::new(ms(100));
        r.update(Duration::MAX, Duration::MAX, Duration::MAX);
        r.update(Duration::MAX, Duration::MAX, Duration::MAX);
        r.update(Duration::ZERO, Duration::ZERO, Duration::MAX);
        let _ = r.pto_base(Duration::MAX);
    }
}
