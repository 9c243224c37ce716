//! The simulated network: links between addresses and the datagrams in flight.
//!
//! Owns: the table of directional links, the default link config, the
//! bottlenecks several links share, and the time-ordered set of datagrams in
//! flight.
//! Never: reads a clock or the OS's randomness. Every instant is an argument,
//! and every random draw comes from a link's generator, derived from the one
//! seed given to [`Network::new`] and the link's two addresses.

use super::bottleneck::Bottleneck;
use super::config::{ConfigError, LinkConfig};
use super::link::{Fate, Link, LinkStats};
use crate::rand::Rng;
use crate::time::Instant;
use alloc::collections::{BTreeMap, BinaryHeap};
use alloc::vec::Vec;
use blake2::{Blake2s256, Digest};
use bytes::Bytes;
use core::cmp::Reverse;
use core::net::SocketAddr;

/// A datagram handed out by [`Network::poll_arrival`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Sender's address.
    pub from: SocketAddr,
    /// Receiver's address.
    pub to: SocketAddr,
    /// The datagram, exactly as sent.
    pub data: Bytes,
    /// When it arrives.
    pub at: Instant,
}

/// Where a datagram in flight waits: its arrival instant, its send order
/// (unique: ties on the instant go in send order), and its slot in
/// `Network::slots`. The heap orders these 24-byte keys, not the datagrams,
/// so a pop moves little however many are in flight (tens of thousands on
/// a 1 Gbit/s path with a long round trip).
type Key = (Instant, u64, u32);

/// A deterministic network of directional links between socket addresses,
/// run in virtual time.
///
/// Send datagrams with [`send`](Network::send); take them out, earliest
/// first, with [`poll_arrival`](Network::poll_arrival) once the caller's
/// virtual clock reaches [`next_arrival`](Network::next_arrival). Datagrams
/// with the same arrival instant come out in the order they were sent, so a
/// seed and a sequence of calls reproduce a run exactly.
///
/// Each link has its own generator, derived from the seed and its addresses:
/// traffic on one link never changes what happens on another.
///
/// Links may share one bottleneck ([`share_bottleneck`](Network::share_bottleneck)):
/// a dumbbell whose flows have different delays but one queue.
///
/// Memory: with a bottleneck rate set, a link (or a group sharing one
/// bottleneck) holds at most its queue plus what the rate can put on the
/// wire during the latency (jitter and reorder delay included), times two
/// for duplicates. Without a rate, every datagram
/// sent stays in memory until its arrival is polled: the bound is whatever
/// the caller sends during one link delay.
#[derive(Debug)]
pub struct Network {
    seed: [u8; 32],
    default: LinkConfig,
    links: BTreeMap<(SocketAddr, SocketAddr), Link>,
    /// Bottlenecks shared by several links; a link names one by index.
    shared: Vec<Bottleneck>,
    in_flight: BinaryHeap<Reverse<Key>>,
    /// The datagrams the keys name; `None`: free, its index in `free`.
    slots: Vec<Option<Delivery>>,
    free: Vec<u32>,
    next_seq: u64,
}

impl Network {
    /// An empty network whose every random choice follows from `seed`. All
    /// pairs use [`LinkConfig::default`] until configured.
    pub fn new(seed: [u8; 32]) -> Self {
        Network {
            seed,
            default: LinkConfig::default(),
            links: BTreeMap::new(),
            shared: Vec::new(),
            in_flight: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
        }
    }

    /// Sets the config of the directional link `from` to `to`. Datagrams
    /// already in flight keep their fate; the link's counters are kept.
    pub fn set_link(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        cfg: LinkConfig,
    ) -> Result<(), ConfigError> {
        cfg.validate()?;
        self.link_mut(from, to).cfg = Some(cfg);
        Ok(())
    }

    /// Sets the same config on both directions between `a` and `b`.
    pub fn set_path(
        &mut self,
        a: SocketAddr,
        b: SocketAddr,
        cfg: LinkConfig,
    ) -> Result<(), ConfigError> {
        self.set_link(a, b, cfg)?;
        self.set_link(b, a, cfg)
    }

    /// Makes the directional `links` feed one bottleneck: one FIFO queue
    /// serialised at one rate, as where several access paths meet at one
    /// router. Each datagram is still lost, delayed (by its own link's
    /// `latency`, after the bottleneck), reordered and duplicated by its own
    /// link's config; the shared queue takes the rate and the queue size from
    /// the config of the link each datagram is offered on, so give every
    /// link of the group the same `rate_bits_per_sec` and `queue_bytes`.
    /// A link already in a group moves to the new one; drops at the shared
    /// queue are counted on the link that offered the datagram.
    pub fn share_bottleneck(&mut self, links: &[(SocketAddr, SocketAddr)]) {
        let index = self.shared.len();
        self.shared.push(Bottleneck::default());
        for &(from, to) in links {
            self.link_mut(from, to).shared = Some(index);
        }
    }

    /// Sets the config of every link without one of its own, including links
    /// already used.
    pub fn set_default_link(&mut self, cfg: LinkConfig) -> Result<(), ConfigError> {
        cfg.validate()?;
        self.default = cfg;
        Ok(())
    }

    /// The config that applies to datagrams from `from` to `to`.
    pub fn link_config(&self, from: SocketAddr, to: SocketAddr) -> &LinkConfig {
        self.links
            .get(&(from, to))
            .and_then(|l| l.cfg.as_ref())
            .unwrap_or(&self.default)
    }

    /// Sends a copy of `datagram` from `from` to `to` at `now`. Dropped and
    /// lost datagrams are only counted; the bytes are copied only if the
    /// datagram will arrive.
    pub fn send(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, datagram: &[u8]) {
        if let Some(fate) = self.route(now, from, to, datagram.len()) {
            self.enqueue(from, to, Bytes::copy_from_slice(datagram), fate);
        }
    }

    /// Like [`send`](Network::send), without copying the bytes.
    pub fn send_bytes(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, datagram: Bytes) {
        if let Some(fate) = self.route(now, from, to, datagram.len()) {
            self.enqueue(from, to, datagram, fate);
        }
    }

    /// Arrival instant of the next datagram in flight, if any.
    pub fn next_arrival(&self) -> Option<Instant> {
        self.in_flight.peek().map(|&Reverse((at, _, _))| at)
    }

    /// The next datagram whose arrival instant is at or before `now`:
    /// earliest first, and in send order among equal instants.
    pub fn poll_arrival(&mut self, now: Instant) -> Option<Delivery> {
        if self.next_arrival()? > now {
            return None;
        }
        let Reverse((_, _, slot)) = self.in_flight.pop()?;
        let d = self.slots.get_mut(slot as usize)?.take()?;
        self.free.push(slot);
        if let Some(link) = self.links.get_mut(&(d.from, d.to)) {
            link.delivered(d.data.len());
        }
        Some(d)
    }

    /// Counters of the directional link `from` to `to` (all zero if unused).
    pub fn stats(&self, from: SocketAddr, to: SocketAddr) -> LinkStats {
        self.links
            .get(&(from, to))
            .map(|l| l.stats)
            .unwrap_or_default()
    }

    /// Number of datagrams in flight (duplicates counted separately).
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    fn route(
        &mut self,
        now: Instant,
        from: SocketAddr,
        to: SocketAddr,
        len: usize,
    ) -> Option<(Instant, Option<Instant>)> {
        let default = self.default;
        let link = link_entry(&mut self.links, &self.seed, from, to);
        let cfg = link.cfg.unwrap_or(default);
        let shared = link.shared.and_then(|i| self.shared.get_mut(i));
        match link.admit(&cfg, now, len, shared) {
            Fate::Gone => None,
            Fate::Arrives { at, copy } => Some((at, copy)),
        }
    }

    fn enqueue(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        data: Bytes,
        (at, copy): (Instant, Option<Instant>),
    ) {
        if let Some(copy_at) = copy {
            self.push(from, to, data.clone(), at);
            self.push(from, to, data, copy_at);
        } else {
            self.push(from, to, data, at);
        }
    }

    fn push(&mut self, from: SocketAddr, to: SocketAddr, data: Bytes, at: Instant) {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        let d = Some(Delivery { from, to, data, at });
        let slot = match self.free.pop() {
            Some(i) => {
                if let Some(s) = self.slots.get_mut(i as usize) {
                    *s = d;
                }
                i
            }
            None => {
                // Slots never outnumber the datagrams in flight at once,
                // which the links' rates and queues bound (see above).
                self.slots.push(d);
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        self.in_flight.push(Reverse((at, seq, slot)));
    }

    fn link_mut(&mut self, from: SocketAddr, to: SocketAddr) -> &mut Link {
        link_entry(&mut self.links, &self.seed, from, to)
    }
}

/// The link `from` to `to`, created on first use.
fn link_entry<'a>(
    links: &'a mut BTreeMap<(SocketAddr, SocketAddr), Link>,
    seed: &[u8; 32],
    from: SocketAddr,
    to: SocketAddr,
) -> &'a mut Link {
    links
        .entry((from, to))
        .or_insert_with(|| Link::new(Rng::from_seed(link_seed(seed, from, to)), None))
}

/// The seed of one link's generator: a hash of the network seed and the
/// link's two addresses.
fn link_seed(seed: &[u8; 32], from: SocketAddr, to: SocketAddr) -> [u8; 32] {
    let mut h = Blake2s256::new();
    h.update(b"stt sim link v1");
    h.update(seed);
    hash_addr(&mut h, from);
    hash_addr(&mut h, to);
    h.finalize().into()
}

fn hash_addr(h: &mut Blake2s256, addr: SocketAddr) {
    match addr {
        SocketAddr::V4(a) => {
            h.update([4]);
            h.update(a.ip().octets());
            h.update(a.port().to_be_bytes());
        }
        SocketAddr::V6(a) => {
            h.update([6]);
            h.update(a.ip().octets());
            h.update(a.port().to_be_bytes());
            h.update(a.flowinfo().to_be_bytes());
            h.update(a.scope_id().to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::BurstLoss;
    use super::*;
    use alloc::vec::Vec;
    use core::net::{Ipv4Addr, SocketAddrV4};
    use core::time::Duration;
    use proptest::prelude::*;

    fn addr(n: u8) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(
            Ipv4Addr::new(10, 0, 0, n),
            4000 + u16::from(n),
        ))
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Sends `count` datagrams carrying their index, one every `gap`, and
    /// returns every delivery (polled as time passes, then drained).
    fn pump(
        net: &mut Network,
        from: SocketAddr,
        to: SocketAddr,
        count: u32,
        gap: Duration,
        len: usize,
    ) -> Vec<(u32, Instant)> {
        let mut out = Vec::new();
        let mut now = Instant::ZERO;
        let mut buf = alloc::vec![0u8; len.max(4)];
        for i in 0..count {
            if let Some(head) = buf.get_mut(..4) {
                head.copy_from_slice(&i.to_be_bytes());
            }
            net.send(now, from, to, buf.get(..len.max(4)).unwrap_or(&[]));
            now += gap;
            while let Some(d) = net.poll_arrival(now) {
                out.push((seq_of(&d), d.at));
            }
        }
        while let Some(t) = net.next_arrival() {
            while let Some(d) = net.poll_arrival(t) {
                out.push((seq_of(&d), d.at));
            }
        }
        out
    }

    fn seq_of(d: &Delivery) -> u32 {
        let mut b = [0u8; 4];
        b.copy_from_slice(d.data.get(..4).unwrap_or(&[0; 4]));
        u32::from_be_bytes(b)
    }

    fn rough() -> LinkConfig {
        LinkConfig::default()
            .with_latency(ms(20))
            .with_jitter(ms(3))
            .with_loss(0.02)
            .with_burst(BurstLoss::new(0.01, 0.3, 0.8))
            .with_reorder(0.05, ms(15))
            .with_duplicate(0.02)
            .with_rate(20_000_000)
            .with_queue_bytes(30_000)
    }

    fn scenario(seed: [u8; 32], extra_traffic: bool) -> Vec<Delivery> {
        let mut net = Network::new(seed);
        net.set_default_link(rough()).unwrap();
        let mut out = Vec::new();
        for i in 0..3000u32 {
            let now = Instant::from_micros(u64::from(i) * 600);
            net.send(now, addr(1), addr(2), &i.to_be_bytes());
            net.send(now, addr(2), addr(1), &[0u8; 1200]);
            if extra_traffic {
                net.send(now, addr(3), addr(4), &[1u8; 900]);
            }
            while let Some(d) = net.poll_arrival(now) {
                out.push(d);
            }
        }
        while let Some(d) = net.poll_arrival(Instant::MAX) {
            out.push(d);
        }
        out
    }

    #[test]
    fn latency_is_exact_without_jitter() {
        let mut net = Network::new([0; 32]);
        net.set_link(addr(1), addr(2), LinkConfig::default().with_latency(ms(37)))
            .unwrap();
        for t in [0u64, 5, 5, 1000, 123_456] {
            net.send(Instant::from_millis(t), addr(1), addr(2), b"x");
            assert_eq!(net.next_arrival(), Some(Instant::from_millis(t + 37)));
            assert_eq!(net.poll_arrival(Instant::from_millis(t + 36)), None);
            let d = net.poll_arrival(Instant::from_millis(t + 37)).unwrap();
            assert_eq!(
                (d.from, d.to, d.at, &d.data[..]),
                (addr(1), addr(2), Instant::from_millis(t + 37), &b"x"[..])
            );
        }
        // The reverse direction uses the default (10 ms).
        net.send(Instant::ZERO, addr(2), addr(1), b"y");
        assert_eq!(net.next_arrival(), Some(Instant::from_millis(10)));
    }

    #[test]
    fn equal_arrival_times_come_out_in_send_order() {
        let mut net = Network::new([0; 32]);
        net.set_link(addr(1), addr(2), LinkConfig::default().with_latency(ms(20)))
            .unwrap();
        net.set_link(addr(3), addr(2), LinkConfig::default().with_latency(ms(10)))
            .unwrap();
        net.send(Instant::ZERO, addr(1), addr(2), b"a");
        net.send(Instant::from_millis(10), addr(3), addr(2), b"b");
        net.send(Instant::ZERO, addr(1), addr(2), b"c");
        assert_eq!(net.in_flight(), 3);
        let order: Vec<_> = core::iter::from_fn(|| net.poll_arrival(Instant::from_millis(20)))
            .map(|d| d.data)
            .collect();
        assert_eq!(order, [&b"a"[..], b"b", b"c"]);
        assert_eq!(net.in_flight(), 0);
    }

    #[test]
    fn same_seed_replays_and_other_seeds_differ() {
        let a = scenario([1; 32], false);
        assert!(a.len() > 5000);
        assert_eq!(a, scenario([1; 32], false));
        assert_ne!(a, scenario([2; 32], false));
    }

    #[test]
    fn traffic_on_one_link_does_not_perturb_another() {
        let only = |v: Vec<Delivery>| -> Vec<Delivery> {
            v.into_iter().filter(|d| d.from == addr(1)).collect()
        };
        assert_eq!(
            only(scenario([5; 32], false)),
            only(scenario([5; 32], true))
        );
    }

    #[test]
    fn random_loss_fraction() {
        let mut net = Network::new([3; 32]);
        net.set_link(addr(1), addr(2), LinkConfig::ideal().with_loss(0.05))
            .unwrap();
        let got = pump(
            &mut net,
            addr(1),
            addr(2),
            100_000,
            Duration::from_micros(10),
            4,
        );
        let s = net.stats(addr(1), addr(2));
        assert_eq!(s.sent, 100_000);
        assert!((4_500..=5_500).contains(&s.lost_random), "{s:?}");
        assert_eq!(s.delivered + s.lost_random, s.sent);
        assert_eq!(s.delivered as usize, got.len());
        assert_eq!(s.bytes_delivered, s.delivered * 4);
        assert_eq!(s.lost(), s.lost_random);
    }

    /// Mean length of runs of consecutive lost sequence numbers.
    fn mean_loss_run(got: &[(u32, Instant)], count: u32) -> f64 {
        let mut seen = alloc::vec![false; count as usize];
        for (s, _) in got {
            if let Some(x) = seen.get_mut(*s as usize) {
                *x = true;
            }
        }
        let (mut runs, mut lost, mut in_run) = (0u32, 0u32, false);
        for ok in seen {
            if !ok {
                lost += 1;
                runs += u32::from(!in_run);
            }
            in_run = !ok;
        }
        f64::from(lost) / f64::from(runs.max(1))
    }

    #[test]
    fn gilbert_elliott_loses_in_bursts() {
        let burst = BurstLoss::new(0.01, 0.3, 1.0);
        let mut net = Network::new([4; 32]);
        net.set_link(addr(1), addr(2), LinkConfig::ideal().with_burst(burst))
            .unwrap();
        let got = pump(
            &mut net,
            addr(1),
            addr(2),
            100_000,
            Duration::from_micros(10),
            4,
        );
        let s = net.stats(addr(1), addr(2));
        let frac = s.lost_burst as f64 / 100_000.0;
        assert!((frac - burst.mean_loss()).abs() < 0.006, "{frac}");
        assert_eq!(s.lost_random, 0);
        let run = mean_loss_run(&got, 100_000);
        assert!(run > 1.5, "mean burst {run}");

        // The same loss rate without bursts gives runs close to 1.
        let mut net = Network::new([4; 32]);
        net.set_link(
            addr(1),
            addr(2),
            LinkConfig::ideal().with_loss(burst.mean_loss()),
        )
        .unwrap();
        let got = pump(
            &mut net,
            addr(1),
            addr(2),
            100_000,
            Duration::from_micros(10),
            4,
        );
        assert!(mean_loss_run(&got, 100_000) < 1.1);
    }

    #[test]
    fn reordering_at_configured_rate() {
        let mut net = Network::new([6; 32]);
        let cfg = LinkConfig::default().with_reorder(0.1, ms(50));
        net.set_link(addr(1), addr(2), cfg).unwrap();
        let got = pump(&mut net, addr(1), addr(2), 20_000, ms(1), 4);
        let s = net.stats(addr(1), addr(2));
        assert!((1_800..=2_200).contains(&s.reordered), "{s:?}");
        assert_eq!(got.len(), 20_000);
        // Every held-back datagram is overtaken by the next one (sent 1 ms
        // later), except possibly the last datagram sent.
        let mut highest = None;
        let late = got
            .iter()
            .filter(|(seq, _)| {
                let overtaken = highest.is_some_and(|h| h > *seq);
                highest = highest.max(Some(*seq));
                overtaken
            })
            .count() as u64;
        assert!(
            late == s.reordered || late + 1 == s.reordered,
            "{late} vs {s:?}"
        );
        // Arrivals come out in time order.
        assert!(got.windows(2).all(|w| w[0].1 <= w[1].1));
    }

    #[test]
    fn duplicates_at_configured_rate_and_jitter_keeps_order() {
        let mut net = Network::new([7; 32]);
        let cfg = LinkConfig::default()
            .with_duplicate(0.02)
            .with_jitter(ms(5));
        net.set_link(addr(1), addr(2), cfg).unwrap();
        let got = pump(&mut net, addr(1), addr(2), 50_000, ms(1), 4);
        let s = net.stats(addr(1), addr(2));
        assert!((850..=1_150).contains(&s.duplicated), "{s:?}");
        assert_eq!(s.delivered, s.sent + s.duplicated);
        assert_eq!(got.len() as u64, s.delivered);
        // First copies arrive in send order, within latency..=latency+jitter.
        let mut seen = alloc::vec![0u8; 50_000];
        let mut next_first = 0u32;
        let (mut min, mut max) = (Duration::MAX, Duration::ZERO);
        for (seq, at) in &got {
            let n = seen.get_mut(*seq as usize).unwrap();
            *n += 1;
            if *n == 1 {
                assert_eq!(*seq, next_first);
                next_first += 1;
                let delay = *at - Instant::from_millis(u64::from(*seq));
                assert!(delay >= ms(10) && delay <= ms(15), "{delay:?}");
                min = min.min(delay);
                max = max.max(delay);
            }
        }
        assert!(seen.iter().all(|&n| n == 1 || n == 2));
        assert!(max - min > ms(4), "jitter barely varies: {min:?}..{max:?}");
    }

    #[test]
    fn rate_limit_paces_deliveries() {
        let mut net = Network::new([8; 32]);
        let cfg = LinkConfig::default()
            .with_rate(10_000_000)
            .with_queue_bytes(2_000_000);
        net.set_link(addr(1), addr(2), cfg).unwrap();
        let got = pump(&mut net, addr(1), addr(2), 1000, Duration::ZERO, 1250);
        assert_eq!(got.len(), 1000);
        for (i, (seq, at)) in got.iter().enumerate() {
            assert_eq!(*seq as usize, i);
            // Serialised back to back: the i-th leaves after (i+1) ms.
            assert_eq!(*at, Instant::from_millis(10 + i as u64 + 1));
        }
        let s = net.stats(addr(1), addr(2));
        assert_eq!(s.bytes_delivered, 1_250_000);
        assert_eq!(s.dropped_queue, 0);
    }

    #[test]
    fn full_queue_drops_the_tail() {
        let mut net = Network::new([8; 32]);
        let cfg = LinkConfig::default()
            .with_rate(10_000_000)
            .with_queue_bytes(12_500);
        net.set_link(addr(1), addr(2), cfg).unwrap();
        let got = pump(&mut net, addr(1), addr(2), 100, Duration::ZERO, 1250);
        let seqs: Vec<u32> = got.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, (0..10).collect::<Vec<_>>());
        let s = net.stats(addr(1), addr(2));
        assert_eq!((s.delivered, s.dropped_queue), (10, 90));
    }

    #[test]
    fn zero_queue_passes_one_at_a_time() {
        let mut net = Network::new([8; 32]);
        net.set_link(
            addr(1),
            addr(2),
            LinkConfig::default()
                .with_rate(1_000_000)
                .with_queue_bytes(0),
        )
        .unwrap();
        let got = pump(&mut net, addr(1), addr(2), 10, Duration::ZERO, 100);
        assert_eq!(got.len(), 1);
        // Spaced wider than the serialisation time (0.8 ms), all pass.
        let mut net = Network::new([8; 32]);
        net.set_link(
            addr(1),
            addr(2),
            LinkConfig::default()
                .with_rate(1_000_000)
                .with_queue_bytes(0),
        )
        .unwrap();
        let got = pump(&mut net, addr(1), addr(2), 10, ms(1), 100);
        assert_eq!(got.len(), 10);
    }

    #[test]
    fn oversized_datagrams_are_dropped() {
        let mut net = Network::new([9; 32]);
        net.set_link(addr(1), addr(2), LinkConfig::default().with_mtu(1200))
            .unwrap();
        net.send(Instant::ZERO, addr(1), addr(2), &[0; 1201]);
        assert_eq!(net.in_flight(), 0);
        net.send(Instant::ZERO, addr(1), addr(2), &[0; 1200]);
        assert_eq!(net.in_flight(), 1);
        let s = net.stats(addr(1), addr(2));
        assert_eq!((s.sent, s.dropped_mtu), (2, 1));
    }

    #[test]
    fn invalid_configs_are_rejected_and_change_nothing() {
        let mut net = Network::new([0; 32]);
        let bad = LinkConfig::default().with_rate(0);
        assert_eq!(
            net.set_link(addr(1), addr(2), bad),
            Err(ConfigError::ZeroRate)
        );
        assert_eq!(net.set_default_link(bad), Err(ConfigError::ZeroRate));
        assert!(net
            .set_path(addr(1), addr(2), LinkConfig::default().with_loss(2.0))
            .is_err());
        assert_eq!(net.link_config(addr(1), addr(2)), &LinkConfig::default());
        net.send(Instant::ZERO, addr(1), addr(2), b"ok");
        assert_eq!(net.in_flight(), 1);
    }

    #[test]
    fn default_link_applies_to_links_without_their_own() {
        let mut net = Network::new([0; 32]);
        net.send(Instant::ZERO, addr(1), addr(2), b"a");
        net.set_link(addr(2), addr(1), LinkConfig::ideal()).unwrap();
        net.set_default_link(LinkConfig::default().with_latency(ms(50)))
            .unwrap();
        assert_eq!(net.link_config(addr(1), addr(2)).latency, ms(50));
        assert_eq!(net.link_config(addr(2), addr(1)).latency, Duration::ZERO);
        net.send(Instant::from_millis(100), addr(1), addr(2), b"b");
        let _ = net.poll_arrival(Instant::from_millis(10)).unwrap();
        assert_eq!(net.next_arrival(), Some(Instant::from_millis(150)));
        assert_eq!(net.stats(addr(1), addr(2)).sent, 2);
        assert_eq!(net.stats(addr(3), addr(4)), LinkStats::default());
    }

    fn any_config() -> impl Strategy<Value = LinkConfig> {
        (
            (
                0u64..50_000,
                0u64..10_000,
                0.0..=1.0f64,
                0.0..=1.0f64,
                0u64..30_000,
            ),
            (
                proptest::option::of((0.0..=1.0f64, 0.0..=1.0f64, 0.0..=1.0f64)),
                0.0..=1.0f64,
            ),
            (
                proptest::option::of(1u64..100_000_000),
                0usize..20_000,
                0usize..2_000,
            ),
        )
            .prop_map(
                |((lat, jit, loss, reorder, rdelay), (burst, dup), (rate, queue, mtu))| {
                    LinkConfig {
                        latency: Duration::from_micros(lat),
                        jitter: Duration::from_micros(jit),
                        loss,
                        burst: burst.map(|(a, b, c)| BurstLoss::new(a, b, c)),
                        reorder,
                        reorder_delay: Duration::from_micros(rdelay),
                        duplicate: dup,
                        rate_bits_per_sec: rate,
                        queue_bytes: queue,
                        mtu,
                        mtu_change: None,
                        rate_changes: Default::default(),
                    }
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn every_datagram_is_accounted_for(
            cfg in any_config(),
            sends in proptest::collection::vec((0u64..5_000, 0usize..2_500), 0..200),
        ) {
            prop_assert_eq!(cfg.validate(), Ok(()));
            let mut net = Network::new([11; 32]);
            net.set_link(addr(1), addr(2), cfg).unwrap();
            let mut now = Instant::ZERO;
            let mut last_at = Instant::ZERO;
            let mut bytes = alloc::vec![0u8; 2_500];
            for (i, (gap, len)) in sends.iter().enumerate() {
                now += Duration::from_micros(*gap);
                if let Some(b) = bytes.get_mut(0) { *b = i as u8; }
                net.send(now, addr(1), addr(2), bytes.get(..*len).unwrap_or(&[]));
                while let Some(d) = net.poll_arrival(now) {
                    prop_assert!(d.at <= now && d.at >= last_at);
                    last_at = d.at;
                }
                let s = net.stats(addr(1), addr(2));
                prop_assert_eq!(s.sent + s.duplicated, s.delivered + s.lost() + net.in_flight() as u64);
            }
            while let Some(d) = net.poll_arrival(Instant::MAX) {
                prop_assert!(d.at >= last_at);
                last_at = d.at;
            }
            let s = net.stats(addr(1), addr(2));
            prop_assert_eq!(s.sent, sends.len() as u64);
            prop_assert_eq!(s.sent + s.duplicated, s.delivered + s.lost());
        }
    }
}
