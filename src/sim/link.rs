//! One directional link of the simulated network: its state and counters.
//!
//! Owns: deciding, at send time, what happens to one datagram on this link
//! (dropped, lost, or delivered at which instant(s)), and counting it.
//! Never: holds datagram bytes or draws from another link's generator; the
//! network (`network.rs`) keeps what is in flight.

use super::bottleneck::Bottleneck;
use super::config::LinkConfig;
use super::loss::{chance, uniform_up_to, Loss, LossState};
use crate::rand::Rng;
use crate::time::Instant;
use core::time::Duration;

/// Counters of one directional link, since the network was created.
///
/// Every datagram sent is eventually counted once as delivered, lost or
/// dropped; a duplicate adds one more delivery. So at any time
/// `sent + duplicated == delivered + lost_random + lost_burst + dropped_queue
/// + dropped_mtu + (datagrams of this link still in flight)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Datagrams offered to the link.
    pub sent: u64,
    /// Datagrams handed out by [`Network::poll_arrival`](super::Network::poll_arrival),
    /// duplicates included.
    pub delivered: u64,
    /// Datagrams lost to independent random loss.
    pub lost_random: u64,
    /// Datagrams lost in the bad state of the burst model.
    pub lost_burst: u64,
    /// Datagrams dropped because the bottleneck queue was full.
    pub dropped_queue: u64,
    /// Datagrams dropped for being larger than the MTU.
    pub dropped_mtu: u64,
    /// Extra copies created by duplication.
    pub duplicated: u64,
    /// Datagrams given the extra reorder delay (whether or not a later one
    /// actually overtook them depends on the traffic).
    pub reordered: u64,
    /// Payload bytes handed out, duplicates included.
    pub bytes_delivered: u64,
}

impl LinkStats {
    /// All datagrams lost or dropped, whatever the reason.
    pub fn lost(&self) -> u64 {
        self.lost_random + self.lost_burst + self.dropped_queue + self.dropped_mtu
    }
}

/// What the link does with one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Dropped or lost; already counted.
    Gone,
    /// Arrives at `at`, and a copy at `copy` if duplicated.
    Arrives {
        /// Arrival of the datagram.
        at: Instant,
        /// Arrival of its duplicate, if any.
        copy: Option<Instant>,
    },
}

/// State of one directional link.
#[derive(Debug)]
pub(crate) struct Link {
    /// Own config, or `None` to follow the network's default.
    pub(crate) cfg: Option<LinkConfig>,
    rng: Rng,
    loss: LossState,
    bottleneck: Bottleneck,
    /// Index of the network's shared bottleneck this link feeds instead of
    /// its own, if any.
    pub(crate) shared: Option<usize>,
    /// Latest arrival of a datagram not picked for reordering: jitter never
    /// lets a later datagram arrive before it.
    last_arrival: Instant,
    pub(crate) stats: LinkStats,
}

impl Link {
    /// A fresh link drawing from `rng`.
    pub(crate) fn new(rng: Rng, cfg: Option<LinkConfig>) -> Self {
        Link {
            cfg,
            rng,
            loss: LossState::default(),
            bottleneck: Bottleneck::default(),
            shared: None,
            last_arrival: Instant::ZERO,
            stats: LinkStats::default(),
        }
    }

    /// Decides the fate of a datagram of `len` bytes sent at `now` under
    /// `cfg`, and counts it. The draws happen in a fixed order: loss (burst,
    /// then random), reorder, jitter, duplicate, jitter of the copy. With
    /// `shared`, the datagram queues there instead of at the link's own
    /// bottleneck.
    pub(crate) fn admit(
        &mut self,
        cfg: &LinkConfig,
        now: Instant,
        len: usize,
        shared: Option<&mut Bottleneck>,
    ) -> Fate {
        self.stats.sent += 1;
        if len > cfg.mtu_at(now) {
            self.stats.dropped_mtu += 1;
            return Fate::Gone;
        }
        let departs = match cfg.rate_bits_per_sec {
            None => now,
            Some(_) => {
                let b = shared.unwrap_or(&mut self.bottleneck);
                // Serialised at the rate in force when its turn comes.
                let rate = cfg.rate_at(b.starts_at(now)).unwrap_or(1);
                match b.offer(now, len, rate, cfg.queue_bytes) {
                    Some(t) => t,
                    None => {
                        self.stats.dropped_queue += 1;
                        return Fate::Gone;
                    }
                }
            }
        };
        match self.loss.decide(cfg, &mut self.rng) {
            Some(Loss::Burst) => {
                self.stats.lost_burst += 1;
                return Fate::Gone;
            }
            Some(Loss::Random) => {
                self.stats.lost_random += 1;
                return Fate::Gone;
            }
            None => {}
        }
        let base = departs + cfg.latency;
        let reordered = chance(&mut self.rng, cfg.reorder);
        let at = if reordered {
            self.stats.reordered += 1;
            base + self.jitter(cfg) + cfg.reorder_delay
        } else {
            let t = base + self.jitter(cfg);
            self.in_order(t)
        };
        let copy = if chance(&mut self.rng, cfg.duplicate) {
            self.stats.duplicated += 1;
            let t = base + self.jitter(cfg);
            Some(self.in_order(t))
        } else {
            None
        };
        Fate::Arrives { at, copy }
    }

    /// Counts a delivery of `len` bytes.
    pub(crate) fn delivered(&mut self, len: usize) {
        self.stats.delivered += 1;
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        self.stats.bytes_delivered = self.stats.bytes_delivered.saturating_add(len);
    }

    fn jitter(&mut self, cfg: &LinkConfig) -> Duration {
        let max = u64::try_from(cfg.jitter.as_micros()).unwrap_or(u64::MAX);
        Duration::from_micros(uniform_up_to(&mut self.rng, max))
    }

    /// Holds `t` back so it is not earlier than the previous in-order arrival.
    fn in_order(&mut self, t: Instant) -> Instant {
        let t = t.max(self.last_arrival);
        self.last_arrival = t;
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> Link {
        Link::new(Rng::from_seed([9; 32]), None)
    }

    #[test]
    fn plain_latency() {
        let cfg = LinkConfig::default();
        let mut l = link();
        let now = Instant::from_millis(3);
        assert_eq!(
            l.admit(&cfg, now, 100, None),
            Fate::Arrives {
                at: Instant::from_millis(13),
                copy: None
            }
        );
        assert_eq!(l.stats.sent, 1);
    }

    #[test]
    fn mtu_drop_is_counted() {
        let cfg = LinkConfig::default().with_mtu(1200);
        let mut l = link();
        assert!(matches!(
            l.admit(&cfg, Instant::ZERO, 1200, None),
            Fate::Arrives { .. }
        ));
        assert_eq!(l.admit(&cfg, Instant::ZERO, 1201, None), Fate::Gone);
        assert_eq!(l.stats.dropped_mtu, 1);
        let later = Instant::ZERO + core::time::Duration::from_secs(1);
        let shrinking = LinkConfig::default().with_mtu_change(later, 1000);
        assert!(matches!(
            l.admit(&shrinking, Instant::ZERO, 1200, None),
            Fate::Arrives { .. }
        ));
        assert!(matches!(l.admit(&shrinking, later, 1200, None), Fate::Gone));
        assert!(matches!(
            l.admit(&shrinking, later, 1000, None),
            Fate::Arrives { .. }
        ));
        assert_eq!(l.stats.dropped_mtu, 2);
        let cfg = cfg.with_mtu(0);
        assert_eq!(l.admit(&cfg, Instant::ZERO, 1, None), Fate::Gone);
        assert!(matches!(
            l.admit(&cfg, Instant::ZERO, 0, None),
            Fate::Arrives { .. }
        ));
    }

    #[test]
    fn certain_loss_and_duplication() {
        let mut l = link();
        let lossy = LinkConfig::default().with_loss(1.0);
        assert_eq!(l.admit(&lossy, Instant::ZERO, 10, None), Fate::Gone);
        assert_eq!(l.stats.lost_random, 1);
        let dup = LinkConfig::default().with_duplicate(1.0);
        let at = Instant::from_millis(10);
        assert_eq!(
            l.admit(&dup, Instant::ZERO, 10, None),
            Fate::Arrives { at, copy: Some(at) }
        );
        assert_eq!(l.stats.duplicated, 1);
    }

    #[test]
    fn rate_schedule_slows_and_restores_the_bottleneck() {
        // 1250 bytes: 1 ms at 10 Mbit/s, 5 ms at 2 Mbit/s.
        let cfg = LinkConfig::default()
            .with_latency(Duration::ZERO)
            .with_rate(10_000_000)
            .with_queue_bytes(usize::MAX)
            .with_rate_change(Instant::from_millis(100), 2_000_000)
            .with_rate_change(Instant::from_millis(200), 10_000_000);
        let mut l = link();
        let at = |l: &mut Link, t: u64| match l.admit(&cfg, Instant::from_millis(t), 1250, None) {
            Fate::Arrives { at, .. } => at,
            Fate::Gone => panic!("dropped"),
        };
        assert_eq!(at(&mut l, 0), Instant::from_millis(1));
        assert_eq!(at(&mut l, 150), Instant::from_millis(155));
        // Two queued behind it at the low rate.
        assert_eq!(at(&mut l, 150), Instant::from_millis(160));
        // Queued across the restore: the third starts at 200 ms, at the
        // high rate again.
        assert_eq!(at(&mut l, 190), Instant::from_millis(195));
        assert_eq!(at(&mut l, 190), Instant::from_millis(200));
        assert_eq!(at(&mut l, 190), Instant::from_millis(201));
        assert_eq!(at(&mut l, 300), Instant::from_millis(301));
        // A datagram offered before the drop but serialised after it
        // already takes the low rate.
        let mut l = link();
        assert_eq!(at(&mut l, 99), Instant::from_millis(100));
        assert_eq!(at(&mut l, 99), Instant::from_millis(105));
    }

    #[test]
    fn rate_schedule_bounds_the_queue_in_bytes() {
        let cfg = LinkConfig::default()
            .with_rate(10_000_000)
            .with_queue_bytes(12_500)
            .with_rate_change(Instant::from_millis(100), 1_000_000);
        let mut l = link();
        let t = Instant::from_millis(100);
        let accepted = (0..100)
            .filter(|_| matches!(l.admit(&cfg, t, 1250, None), Fate::Arrives { .. }))
            .count();
        // Same bytes as at the high rate: the one on the wire and 9 behind.
        assert_eq!(accepted, 10);
        assert_eq!(l.stats.dropped_queue, 90);
    }

    #[test]
    fn reordered_datagram_does_not_hold_back_later_ones() {
        let mut l = link();
        let late = LinkConfig::default().with_reorder(1.0, Duration::from_millis(50));
        let Fate::Arrives { at: first, .. } = l.admit(&late, Instant::ZERO, 10, None) else {
            panic!("lost");
        };
        let plain = LinkConfig::default();
        let Fate::Arrives { at: second, .. } = l.admit(&plain, Instant::from_millis(1), 10, None)
        else {
            panic!("lost");
        };
        assert_eq!(first, Instant::from_millis(60));
        assert_eq!(second, Instant::from_millis(11));
        assert_eq!(l.stats.reordered, 1);
    }

    #[test]
    fn lower_latency_later_does_not_overtake() {
        let mut l = link();
        let slow = LinkConfig::default().with_latency(Duration::from_millis(100));
        let fast = LinkConfig::default().with_latency(Duration::from_millis(1));
        let _ = l.admit(&slow, Instant::ZERO, 10, None);
        assert_eq!(
            l.admit(&fast, Instant::from_millis(1), 10, None),
            Fate::Arrives {
                at: Instant::from_millis(100),
                copy: None
            }
        );
    }
}
