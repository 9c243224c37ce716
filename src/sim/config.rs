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
    /// Changes of the bottleneck rate mid-run (a link that slows down and
    /// recovers); `queue_bytes` stays as it is.
    pub rate_changes: RateSchedule,
}

/// Changes the bottleneck rate may make, at most, in one [`RateSchedule`].
pub const MAX_RATE_CHANGES: usize = 8;

/// Times at which a link's bottleneck rate changes: from each change's
/// instant (the run's clock) until the next one, the link serialises at its
/// rate instead of [`LinkConfig::rate_bits_per_sec`].
///
/// Plain data of a fixed size, so a [`LinkConfig`] stays `Copy`. A
/// datagram is serialised at the rate in force when its serialisation
/// starts (the bottleneck is FIFO, so that is once the datagrams ahead of
/// it have left), and the queue's backlog in bytes is read at that rate.
///
/// ```
/// use stt::sim::RateSchedule;
/// use stt::Instant;
///
/// let s = RateSchedule::new()
///     .with_change(Instant::from_millis(10_000), 4_000_000)
///     .with_change(Instant::from_millis(15_000), 20_000_000);
/// assert_eq!(s.rate_at(Instant::from_millis(9_999)), None);
/// assert_eq!(s.rate_at(Instant::from_millis(12_000)), Some(4_000_000));
/// assert_eq!(s.rate_at(Instant::from_millis(15_000)), Some(20_000_000));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateSchedule {
    /// (from, bits per second), ascending by instant; `len` of them used.
    changes: [(crate::time::Instant, u64); MAX_RATE_CHANGES],
    /// Changes asked for; more than [`MAX_RATE_CHANGES`] makes the config
    /// invalid ([`ConfigError::TooManyRateChanges`]).
    len: usize,
}

impl RateSchedule {
    /// No change: the link's own rate throughout.
    pub const fn new() -> Self {
        RateSchedule {
            changes: [(crate::time::Instant::ZERO, 0); MAX_RATE_CHANGES],
            len: 0,
        }
    }

    /// Adds a change to `bits_per_sec` from `at` on (replacing one at the
    /// same instant). Past [`MAX_RATE_CHANGES`] the change is not kept and
    /// [`LinkConfig::validate`] refuses the config.
    pub fn with_change(mut self, at: crate::time::Instant, bits_per_sec: u64) -> Self {
        let used = self.len.min(MAX_RATE_CHANGES);
        // Invariant: `changes[..used]` stays sorted by instant, no two equal.
        if let Some(c) = self.changes[..used].iter_mut().find(|c| c.0 == at) {
            c.1 = bits_per_sec;
            return self;
        }
        self.len = self.len.saturating_add(1);
        if used == MAX_RATE_CHANGES {
            return self;
        }
        let i = self.changes[..used].partition_point(|c| c.0 < at);
        self.changes.copy_within(i..used, i + 1);
        self.changes[i] = (at, bits_per_sec);
        self
    }

    /// The changes kept, ascending by instant.
    pub fn changes(&self) -> &[(crate::time::Instant, u64)] {
        &self.changes[..self.len.min(MAX_RATE_CHANGES)]
    }

    /// The rate the schedule sets at `now`; `None` before its first change.
    pub fn rate_at(&self, now: crate::time::Instant) -> Option<u64> {
        let c = self.changes();
        let i = c.partition_point(|c| c.0 <= now);
        i.checked_sub(1).and_then(|i| c.get(i)).map(|c| c.1)
    }
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
            rate_changes: RateSchedule::new(),
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

    /// From `at` on (until a later change), the bottleneck serialises at
    /// `bits_per_sec` (see [`RateSchedule`]). Needs a rate set with
    /// [`with_rate`](Self::with_rate): a link without one has no bottleneck.
    pub fn with_rate_change(mut self, at: crate::time::Instant, bits_per_sec: u64) -> Self {
        self.rate_changes = self.rate_changes.with_change(at, bits_per_sec);
        self
    }

    /// The bottleneck rate at `now`: the schedule's latest change at or
    /// before `now`, else [`rate_bits_per_sec`](Self::rate_bits_per_sec);
    /// `None` (no bottleneck) without the latter.
    pub fn rate_at(&self, now: crate::time::Instant) -> Option<u64> {
        let base = self.rate_bits_per_sec?;
        Some(self.rate_changes.rate_at(now).unwrap_or(base))
    }

    /// The largest datagram the link carries at `now`.
    pub fn mtu_at(&self, now: crate::time::Instant) -> usize {
        match self.mtu_change {
            Some((at, mtu)) if now >= at => mtu,
            _ => self.mtu,
        }
    }

    /// Checks that every probability is within `0..=1` (NaN is not), that
    /// a bottleneck rate, if any, is not zero, and that the rate schedule
    /// holds at most [`MAX_RATE_CHANGES`] changes, none to zero.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check(ProbabilityField::Loss, self.loss)?;
        check(ProbabilityField::Reorder, self.reorder)?;
        check(ProbabilityField::Duplicate, self.duplicate)?;
        if let Some(b) = &self.burst {
            check(ProbabilityField::GoodToBad, b.p_good_to_bad)?;
            check(ProbabilityField::BadToGood, b.p_bad_to_good)?;
            check(ProbabilityField::LossInBad, b.loss_in_bad)?;
        }
        if self.rate_bits_per_sec == Some(0) || self.rate_changes.changes().iter().any(|c| c.1 == 0)
        {
            return Err(ConfigError::ZeroRate);
        }
        if self.rate_changes.len > MAX_RATE_CHANGES {
            return Err(ConfigError::TooManyRateChanges);
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
    /// More rate changes than a [`RateSchedule`] holds.
    #[error("more than {MAX_RATE_CHANGES} bottleneck rate changes")]
    TooManyRateChanges,
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
    fn rate_schedule_orders_replaces_and_bounds_its_changes() {
        use crate::time::Instant;
        let ms = Instant::from_millis;
        let c = LinkConfig::default()
            .with_rate(20_000_000)
            .with_rate_change(ms(15_000), 20_000_000)
            .with_rate_change(ms(10_000), 5_000_000)
            .with_rate_change(ms(10_000), 4_000_000);
        assert_eq!(
            c.rate_changes.changes(),
            [(ms(10_000), 4_000_000), (ms(15_000), 20_000_000)]
        );
        assert_eq!(c.rate_at(ms(0)), Some(20_000_000));
        assert_eq!(c.rate_at(ms(9_999)), Some(20_000_000));
        assert_eq!(c.rate_at(ms(10_000)), Some(4_000_000));
        assert_eq!(c.rate_at(ms(14_999)), Some(4_000_000));
        assert_eq!(c.rate_at(ms(15_000)), Some(20_000_000));
        assert_eq!(c.validate(), Ok(()));
        // Without a base rate there is no bottleneck to change.
        assert_eq!(
            LinkConfig::default()
                .with_rate_change(ms(1), 1)
                .rate_at(ms(2)),
            None
        );
        assert_eq!(
            c.with_rate_change(ms(1), 0).validate(),
            Err(ConfigError::ZeroRate)
        );
        let mut many = c;
        for i in 0..MAX_RATE_CHANGES as u64 {
            many = many.with_rate_change(ms(20_000 + i), 1_000_000);
        }
        assert_eq!(many.rate_changes.changes().len(), MAX_RATE_CHANGES);
        assert_eq!(many.validate(), Err(ConfigError::TooManyRateChanges));
    }

    #[test]
    fn burst_mean_loss() {
        let b = BurstLoss::new(0.01, 0.09, 0.5);
        assert!((b.mean_loss() - 0.05).abs() < 1e-12);
        assert_eq!(BurstLoss::new(0.0, 0.0, 1.0).mean_loss(), 0.0);
    }
}
