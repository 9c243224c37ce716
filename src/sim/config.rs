//! What one directional path of the simulated network does to datagrams.
//!
//! Owns: [`LinkConfig`], [`BurstLoss`], their builders and their validation.
//! Never: holds state or draws randomness. A config is plain data; the link
//! that applies it lives in `link.rs`.

use core::time::Duration;

/// Gilbert-Elliott burst loss: a two-state chain (good, bad) stepped once per
/// datagram, losing datagrams only while in the bad state.
///
/// The chain starts good. Before each datagram it moves good to bad with
/// probability `p_good_to_bad` and bad to good with `p_bad_to_good`; a
/// datagram sent in the bad state is lost with probability `loss_in_bad`.
/// Bad periods last `1 / p_bad_to_good` datagrams on average, which is what
/// makes the losses come in runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BurstLoss {
    /// Probability of entering the bad state, per datagram sent while good.
    pub p_good_to_bad: f64,
    /// Probability of leaving the bad state, per datagram sent while bad.
    pub p_bad_to_good: f64,
    /// Probability that a datagram sent in the bad state is lost.
    pub loss_in_bad: f64,
}

impl BurstLoss {
    /// A burst model from its three probabilities.
    pub const fn new(p_good_to_bad: f64, p_bad_to_good: f64, loss_in_bad: f64) -> Self {
        BurstLoss {
            p_good_to_bad,
            p_bad_to_good,
            loss_in_bad,
        }
    }

    /// Long-run fraction of datagrams this model loses: the share of time in
    /// the bad state times `loss_in_bad`. Zero if the chain never moves.
    pub fn mean_loss(&self) -> f64 {
        let moves = self.p_good_to_bad + self.p_bad_to_good;
        if moves > 0.0 {
            self.p_good_to_bad / moves * self.loss_in_bad
        } else {
            0.0
        }
    }
}

/// Behaviour of one directional link (`from` to `to`).
///
/// A datagram offered to a link goes through these stages, in order:
/// 1. dropped if larger than `mtu`;
/// 2. if `rate_bits_per_sec` is set, queued at the bottleneck (dropped if the
///    drop-tail queue of `queue_bytes` is full) and serialised at that rate;
/// 3. lost to the burst model, then to random `loss`;
/// 4. delayed by `latency` plus a uniform draw from `0..=jitter`; jitter never
///    reorders: a datagram never arrives before one sent earlier on the same
///    link, unless `reorder` picked that earlier one;
/// 5. with probability `reorder`, delayed a further `reorder_delay`, so that
///    datagrams sent after it may overtake it;
/// 6. with probability `duplicate`, delivered a second time (the copy gets
///    its own jitter draw and does not use the bottleneck again).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkConfig {
    /// One-way propagation delay, added to every datagram.
    pub latency: Duration,
    /// Upper bound of the uniform extra delay drawn per datagram.
    pub jitter: Duration,
    /// Probability that a datagram is lost, independently of the others.
    pub loss: f64,
    /// Optional burst-loss model, applied before `loss`.
    pub burst: Option<BurstLoss>,
    /// Probability that a datagram is held back by `reorder_delay`.
    pub reorder: f64,
    /// Extra delay of a datagram picked by `reorder`.
    pub reorder_delay: Duration,
    /// Probability that a datagram is delivered twice.
    pub duplicate: f64,
    /// Bottleneck rate; `None` serialises instantly (infinite rate).
    /// `Some(0)` is rejected by [`LinkConfig::validate`].
    pub rate_bits_per_sec: Option<u64>,
    /// Drop-tail queue at the bottleneck, in bytes not yet serialised
    /// (including the unsent part of the datagram on the wire). A datagram
    /// that finds the bottleneck idle is always accepted. Ignored without a
    /// rate.
    pub queue_bytes: usize,
    /// Largest datagram (UDP payload, in bytes) the link carries; larger ones
    /// are dropped.
    pub mtu: usize,
    /// A change of `mtu` mid-run: from this instant on (the run's clock),
    /// the link carries at most this many bytes instead (a route change).
    pub mtu_change: Option<(crate::time::Instant, usize)>,
}

/// Largest UDP payload over IPv4, the default [`LinkConfig::mtu`].
pub const DEFAULT_MTU: usize = 65_507;

/// Default [`LinkConfig::queue_bytes`]: 64 KiB.
pub const DEFAULT_QUEUE_BYTES: usize = 64 * 1024;

impl Default for LinkConfig {
    /// 10 ms one way, no jitter, no loss, no reordering, no duplication,
    /// unlimited rate, a 64 KiB queue (used once a rate is set) and an MTU
    /// that passes any UDP datagram.
    fn default() -> Self {
        LinkConfig {
            latency: Duration::from_millis(10),
            jitter: Duration::ZERO,
            loss: 0.0,
            burst: None,
            reorder: 0.0,
            reorder_delay: Duration::ZERO,
            duplicate: 0.0,
            rate_bits_per_sec: None,
            queue_bytes: DEFAULT_QUEUE_BYTES,
            mtu: DEFAULT_MTU,
            mtu_change: None,
        }
    }
}

impl LinkConfig {
    /// A perfect wire: no delay, no loss, unlimited rate.
    pub fn ideal() -> Self {
        LinkConfig {
            latency: Duration::ZERO,
            ..LinkConfig::default()
        }
    }

    /// Sets the one-way latency.
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Sets the jitter bound.
    pub fn with_jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets the random loss probability.
    pub fn with_loss(mut self, loss: f64) -> Self {
        self.loss = loss;
        self
    }

    /// Sets the burst-loss model.
    pub fn with_burst(mut self, burst: BurstLoss) -> Self {
        self.burst = Some(burst);
        self
    }

    /// Sets the reordering probability and the extra delay of a reordered
    /// datagram.
    pub fn with_reorder(mut self, probability: f64, delay: Duration) -> Self {
        self.reorder = probability;
        self.reorder_delay = delay;
        self
    }

    /// Sets the duplication probability.
    pub fn with_duplicate(mut self, probability: f64) -> Self {
        self.duplicate = probability;
        self
    }

    /// Sets the bottleneck rate, in bits per second.
    pub fn with_rate(mut self, bits_per_sec: u64) -> Self {
        self.rate_bits_per_sec = Some(bits_per_sec);
        self
    }

    /// Sets the bottleneck queue size, in bytes.
    pub fn with_queue_bytes(mut self, bytes: usize) -> Self {
        self.queue_bytes = bytes;
        self
    }

    /// Sets the largest datagram the link carries.
    pub fn with_mtu(mut self, mtu: usize) -> Self {
        self.mtu = mtu;
        self
    }

    /// From `at` on, the link carries datagrams of at most `mtu` bytes
    /// (before it, [`LinkConfig::mtu`] applies).
    pub fn with_mtu_change(mut self, at: crate::time::Instant, mtu: usize) -> Self {
        self.mtu_change = Some((at, mtu));
        self
    }

    /// The largest datagram the link carries at `now`.
    pub fn mtu_at(&self, now: crate::time::Instant) -> usize {
        match self.mtu_change {
            Some((at, mtu)) if now >= at => mtu,
            _ => self.mtu,
        }
    }

    /// Checks that every probability is within `0..=1` (NaN is not) and that
    /// a bottleneck rate, if any, is not zero.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check(ProbabilityField::Loss, self.loss)?;
        check(ProbabilityField::Reorder, self.reorder)?;
        check(ProbabilityField::Duplicate, self.duplicate)?;
        if let Some(b) = &self.burst {
            check(ProbabilityField::GoodToBad, b.p_good_to_bad)?;
            check(ProbabilityField::BadToGood, b.p_bad_to_good)?;
            check(ProbabilityField::LossInBad, b.loss_in_bad)?;
        }
        if self.rate_bits_per_sec == Some(0) {
            return Err(ConfigError::ZeroRate);
        }
        Ok(())
    }
}

fn check(field: ProbabilityField, value: f64) -> Result<(), ConfigError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::Probability { field, value })
    }
}

/// Which probability of a [`LinkConfig`] was out of range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbabilityField {
    /// [`LinkConfig::loss`].
    Loss,
    /// [`LinkConfig::reorder`].
    Reorder,
    /// [`LinkConfig::duplicate`].
    Duplicate,
    /// [`BurstLoss::p_good_to_bad`].
    GoodToBad,
    /// [`BurstLoss::p_bad_to_good`].
    BadToGood,
    /// [`BurstLoss::loss_in_bad`].
    LossInBad,
}

/// Why a [`LinkConfig`] was rejected.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A probability outside `0..=1`, or NaN.
    #[error("{field:?} probability {value} is outside 0..=1")]
    Probability {
        /// The offending field.
        field: ProbabilityField,
        /// Its value.
        value: f64,
    },
    /// A bottleneck rate of zero bits per second would never deliver.
    #[error("bottleneck rate is zero bits per second")]
    ZeroRate,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_lossless() {
        let c = LinkConfig::default();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.latency, Duration::from_millis(10));
        assert_eq!(c.loss, 0.0);
        assert_eq!(c.rate_bits_per_sec, None);
        assert_eq!(LinkConfig::ideal().latency, Duration::ZERO);
    }

    #[test]
    fn builders_set_fields() {
        let c = LinkConfig::default()
            .with_latency(Duration::from_millis(30))
            .with_jitter(Duration::from_millis(2))
            .with_loss(0.1)
            .with_burst(BurstLoss::new(0.01, 0.5, 1.0))
            .with_reorder(0.2, Duration::from_millis(7))
            .with_duplicate(0.3)
            .with_rate(1_000_000)
            .with_queue_bytes(5000)
            .with_mtu(1200);
        assert_eq!(c.latency, Duration::from_millis(30));
        assert_eq!(c.jitter, Duration::from_millis(2));
        assert_eq!(c.loss, 0.1);
        assert_eq!(c.burst, Some(BurstLoss::new(0.01, 0.5, 1.0)));
        assert_eq!(
            (c.reorder, c.reorder_delay),
            (0.2, Duration::from_millis(7))
        );
        assert_eq!(c.duplicate, 0.3);
        assert_eq!(c.rate_bits_per_sec, Some(1_000_000));
        assert_eq!((c.queue_bytes, c.mtu), (5000, 1200));
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn validate_rejects_bad_probabilities_and_zero_rate() {
        let base = LinkConfig::default();
        let err = |field, value| Err(ConfigError::Probability { field, value });
        assert_eq!(
            base.with_loss(1.5).validate(),
            err(ProbabilityField::Loss, 1.5)
        );
        assert_eq!(
            base.with_loss(-0.1).validate(),
            err(ProbabilityField::Loss, -0.1)
        );
        assert!(matches!(
            base.with_loss(f64::NAN).validate(),
            Err(ConfigError::Probability {
                field: ProbabilityField::Loss,
                ..
            })
        ));
        assert_eq!(
            base.with_reorder(2.0, Duration::ZERO).validate(),
            err(ProbabilityField::Reorder, 2.0)
        );
        assert_eq!(
            base.with_duplicate(-1.0).validate(),
            err(ProbabilityField::Duplicate, -1.0)
        );
        assert_eq!(
            base.with_burst(BurstLoss::new(1.1, 0.5, 1.0)).validate(),
            err(ProbabilityField::GoodToBad, 1.1)
        );
        assert_eq!(
            base.with_burst(BurstLoss::new(0.1, -0.5, 1.0)).validate(),
            err(ProbabilityField::BadToGood, -0.5)
        );
        assert_eq!(
            base.with_burst(BurstLoss::new(0.1, 0.5, f64::INFINITY))
                .validate(),
            err(ProbabilityField::LossInBad, f64::INFINITY)
        );
        assert_eq!(base.with_rate(0).validate(), Err(ConfigError::ZeroRate));
        assert_eq!(base.with_loss(0.0).with_duplicate(1.0).validate(), Ok(()));
    }

    #[test]
    fn burst_mean_loss() {
        let b = BurstLoss::new(0.01, 0.09, 0.5);
        assert!((b.mean_loss() - 0.05).abs() < 1e-12);
        assert_eq!(BurstLoss::new(0.0, 0.0, 1.0).mean_loss(), 0.0);
    }
}
