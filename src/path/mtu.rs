//! The datagram size search: how big this path lets a session's datagrams
//! be, learned by probing (in the spirit of RFC 8899, DPLPMTUD).
//!
//! Owns: the size data packets use now, the search above it (a binary
//! search between the largest size acknowledged and the smallest size known
//! to fail, up to the configured ceiling), the probes in flight, black-hole
//! detection (packets above the base size lost while the path still
//! answers) and the quiet-period timer that tries to raise the size again.
//! Never: builds or sends packets, reads a clock, or touches congestion
//! state. The session asks it for the current size and for a probe size,
//! sends a probe (PING + PADDING up to that size) outside the congestion
//! window, and reports every probe's fate and every large packet's fate.
//!
//! Sizes are UDP payload bytes. The search is exact: it ends when the
//! largest working size and the smallest failing size are one byte apart,
//! so the size it settles on is the largest the path carries (up to the
//! ceiling). Its first probe in a fresh search is the ceiling itself (the
//! common case: the path carries it, and one round trip settles the
//! search); after that it halves the interval each step.

use core::time::Duration;

use crate::time::Instant;

/// A datagram size every IPv4 and IPv6 path carries (IPv6's minimum link
/// MTU of 1280 less 40 bytes of IPv6 and 8 of UDP, rounded down), the
/// default base size.
pub const DEFAULT_BASE_DATAGRAM_SIZE: usize = 1200;

/// Probes of one size lost before the size is taken as too large.
pub const DEFAULT_MAX_PROBES: u8 = 3;

/// After a search ends below the ceiling, a new one starts this long later
/// (RFC 8899 suggests 10 minutes), in case the path grew.
pub const DEFAULT_RAISE_AFTER: Duration = Duration::from_secs(600);

/// Packets above the base size lost, with no packet above the base size
/// acknowledged after them, before the path is taken to be a black hole
/// for the current size. Eight, not three: at 20 % random loss a probe
/// timeout's base-size probe is often the largest packet acknowledged, and
/// three tail losses before it made false black holes (the search then
/// settled below the path's size); a real black hole loses every large
/// packet of a flight, so eight come as fast as three.
pub const BLACK_HOLE_LOSSES: u32 = 8;

/// Probes of one size in flight at once (the first, then the retries).
const MAX_IN_FLIGHT: usize = DEFAULT_MAX_PROBES as usize;

/// Tuning of the search. Checked by the session's configuration builder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MtuConfig {
    /// Size used from the first packet, and the fallback.
    pub base: usize,
    /// Largest size ever probed or used.
    pub ceiling: usize,
    /// Lost probes of one size before it is given up (at least 1).
    pub max_probes: u8,
    /// Quiet period before a search that ended below the ceiling runs again.
    pub raise_after: Duration,
}

impl MtuConfig {
    /// Base and ceiling as given, the other settings at their defaults.
    pub fn new(base: usize, ceiling: usize) -> Self {
        MtuConfig {
            base,
            ceiling: ceiling.max(base),
            max_probes: DEFAULT_MAX_PROBES,
            raise_after: DEFAULT_RAISE_AFTER,
        }
    }
}

/// Where the search is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Probing: the next size lies strictly between `low` and `high`.
    Searching,
    /// Settled; a new search starts at `raise_at` (`Instant::MAX`: never,
    /// at the ceiling; a sentinel keeps the phase 8 bytes).
    Settled { raise_at: Instant },
}

/// Counters of the search, for statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MtuStats {
    /// Probe packets sent.
    pub probes_sent: u64,
    /// Probe packets declared lost.
    pub probes_lost: u64,
    /// Falls back to the base size after a black hole.
    pub black_holes: u64,
}

/// The datagram size search of one path.
#[derive(Clone, Debug)]
pub struct DatagramSize {
    /// The configuration, held in the narrowest types that carry it (a
    /// UDP payload is under 64 KiB; see [`DatagramSize::new`]).
    base: u16,
    ceiling: u16,
    max_probes: u8,
    raise_after_ms: u32,
    /// Size data packets use: the largest size acknowledged in this search
    /// (the base at first). Invariant: `base <= current <= ceiling`.
    current: u16,
    /// Smallest size known (or, at a search's start, assumed) to fail:
    /// `ceiling + 1` until a probe fails. Invariant: `current < high`.
    high: u32,
    phase: Phase,
    /// Next probe is the first of a fresh search (probes `high - 1`).
    first_step: bool,
    /// Size being probed, while a search runs.
    probing: Option<u16>,
    /// Packet numbers of probes of `probing` still in flight.
    in_flight: heapless::Vec<u64, MAX_IN_FLIGHT>,
    /// Probes of `probing` sent and lost so far.
    sent_of_size: u8,
    lost_of_size: u8,
    /// Largest packet number above the base size that was acknowledged.
    largest_large_acked: Option<u64>,
    /// Packets above the base size lost after `largest_large_acked`.
    suspicious_losses: u32,
    /// The counters of [`MtuStats`], held as u32: a search sends a few
    /// dozen probes at most and starts again only after a quiet period,
    /// a path change or a black hole.
    probes_sent: u32,
    probes_lost: u32,
    black_holes: u32,
}

impl DatagramSize {
    /// A search that starts at `cfg.base` and probes from `now` on. Sizes
    /// above 65,535 bytes (more than a UDP payload holds) are taken as
    /// 65,535, and a quiet period as at most `u32::MAX` milliseconds.
    pub fn new(cfg: MtuConfig, now: Instant) -> Self {
        let narrow = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
        let base = narrow(cfg.base);
        let ceiling = narrow(cfg.ceiling).max(base);
        let mut s = DatagramSize {
            base,
            ceiling,
            max_probes: cfg.max_probes,
            raise_after_ms: u32::try_from(cfg.raise_after.as_millis()).unwrap_or(u32::MAX),
            current: base,
            high: u32::from(ceiling) + 1,
            phase: Phase::Searching,
            first_step: true,
            probing: None,
            in_flight: heapless::Vec::new(),
            sent_of_size: 0,
            lost_of_size: 0,
            largest_large_acked: None,
            suspicious_losses: 0,
            probes_sent: 0,
            probes_lost: 0,
            black_holes: 0,
        };
        s.restart(now);
        s
    }

    /// The size data packets may use now.
    pub fn current(&self) -> usize {
        usize::from(self.current)
    }

    /// The size data packets may use now, as held.
    pub fn current_u16(&self) -> u16 {
        self.current
    }

    /// The base size (what every path carries).
    pub fn base(&self) -> usize {
        usize::from(self.base)
    }

    /// True once a search has ended (until the next one starts).
    #[cfg(test)]
    pub fn is_settled(&self) -> bool {
        matches!(self.phase, Phase::Settled { .. })
    }

    /// Counters.
    pub fn stats(&self) -> MtuStats {
        MtuStats {
            probes_sent: self.probes_sent.into(),
            probes_lost: self.probes_lost.into(),
            black_holes: self.black_holes.into(),
        }
    }

    /// The path changed (the peer moved, or the session wants to start
    /// over): back to the base size at once, and a fresh search from the
    /// base up to the ceiling. Probes still in flight are forgotten, so a
    /// late acknowledgement from the old path cannot raise the size.
    pub fn restart(&mut self, now: Instant) {
        self.current = self.base;
        self.largest_large_acked = None;
        self.suspicious_losses = 0;
        self.search(u32::from(self.ceiling) + 1, true, now);
    }

    /// Starts a search above `current` below `high`.
    fn search(&mut self, high: u32, first_step: bool, now: Instant) {
        self.high = high.min(u32::from(self.ceiling) + 1);
        self.first_step = first_step;
        self.phase = Phase::Searching;
        self.forget_probe();
        self.settle_if_done(now);
    }

    fn forget_probe(&mut self) {
        self.probing = None;
        self.in_flight.clear();
        self.sent_of_size = 0;
        self.lost_of_size = 0;
    }

    /// Ends the search once no size is left between `current` and `high`.
    fn settle_if_done(&mut self, now: Instant) {
        if self.phase == Phase::Searching && self.high <= u32::from(self.current) + 1 {
            let raise_at = if self.current < self.ceiling {
                now + Duration::from_millis(u64::from(self.raise_after_ms))
            } else {
                Instant::MAX
            };
            self.phase = Phase::Settled { raise_at };
            self.forget_probe();
        }
    }

    /// The quiet period ended by `now`: a new search starts (its probes go
    /// out when data waits). Invariant kept: once this ran at or after
    /// [`timeout`](Self::timeout), `timeout` is no longer due, so a session
    /// with nothing to send cannot be woken at the same instant forever.
    pub fn on_timeout(&mut self, now: Instant) {
        if let Phase::Settled { raise_at: at } = self.phase {
            if at != Instant::MAX && now >= at {
                self.search(u32::from(self.ceiling) + 1, true, now);
            }
        }
    }

    /// When the search wants [`probe_size`](Self::probe_size) asked again
    /// without any other reason: the quiet period's end.
    pub fn timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Settled { raise_at } => (raise_at != Instant::MAX).then_some(raise_at),
            Phase::Searching => None,
        }
    }

    /// The size of a probe to send now, if one is due (and records it as
    /// sent under packet number `pn` only through
    /// [`on_probe_sent`](Self::on_probe_sent)). Starts a new search when
    /// the quiet period is over.
    pub fn probe_size(&mut self, now: Instant) -> Option<usize> {
        self.on_timeout(now);
        if self.phase != Phase::Searching {
            return None;
        }
        let size = match self.probing {
            Some(size) => size,
            None => {
                // Below `high`, which is at most `ceiling + 1`: a u16.
                let current = u32::from(self.current);
                let size = if self.first_step {
                    self.high - 1
                } else {
                    current + (self.high - current) / 2
                };
                let size = u16::try_from(size).unwrap_or(self.ceiling);
                self.probing = Some(size);
                size
            }
        };
        // The first probe of a size goes alone; once one is lost, the
        // remaining tries go together, so a size that fails costs about two
        // round trips rather than one per try.
        let wanted = if self.lost_of_size == 0 {
            1
        } else {
            usize::from(self.max_probes.max(1) - self.lost_of_size)
        };
        let may_send = self.sent_of_size < self.max_probes.max(1)
            && self.in_flight.len() < wanted.min(MAX_IN_FLIGHT);
        may_send.then_some(usize::from(size))
    }

    /// A probe of `size` bytes went out as packet `pn`.
    pub fn on_probe_sent(&mut self, pn: u64, size: usize) {
        if !self.is_probing(size) || self.in_flight.push(pn).is_err() {
            return;
        }
        self.sent_of_size = self.sent_of_size.saturating_add(1);
        self.probes_sent = self.probes_sent.saturating_add(1);
    }

    /// Probe packet `pn` of `size` bytes was acknowledged: the path carries
    /// `size`, and data packets use it from now on.
    pub fn on_probe_acked(&mut self, now: Instant, pn: u64, size: usize) {
        self.note_large_acked(pn, size);
        if !self.take_in_flight(pn) || !self.is_probing(size) {
            return;
        }
        // `size` is the size probed, a u16.
        let size = u16::try_from(size).unwrap_or(self.ceiling);
        if size > self.current {
            self.current = size;
        }
        self.first_step = false;
        self.forget_probe();
        self.settle_if_done(now);
    }

    /// Probe packet `pn` of `size` bytes was declared lost.
    pub fn on_probe_lost(&mut self, now: Instant, pn: u64, size: usize) {
        if !self.take_in_flight(pn) || !self.is_probing(size) {
            return;
        }
        self.probes_lost = self.probes_lost.saturating_add(1);
        self.lost_of_size = self.lost_of_size.saturating_add(1);
        if self.lost_of_size >= self.max_probes.max(1) {
            // Too large: search below it.
            self.high = u32::try_from(size).unwrap_or(u32::MAX).min(self.high);
            self.first_step = false;
            self.forget_probe();
            self.settle_if_done(now);
        }
    }

    /// Whether `size` is the size being probed.
    fn is_probing(&self, size: usize) -> bool {
        self.probing.is_some_and(|p| usize::from(p) == size)
    }

    fn take_in_flight(&mut self, pn: u64) -> bool {
        match self.in_flight.iter().position(|&p| p == pn) {
            Some(i) => {
                self.in_flight.swap_remove(i);
                true
            }
            None => false,
        }
    }

    fn note_large_acked(&mut self, pn: u64, size: usize) {
        if size > self.base() && self.largest_large_acked.is_none_or(|l| pn > l) {
            self.largest_large_acked = Some(pn);
            self.suspicious_losses = 0;
        }
    }

    /// A data packet `pn` of `size` bytes was acknowledged.
    pub fn on_packet_acked(&mut self, pn: u64, size: usize) {
        self.note_large_acked(pn, size);
    }

    /// A data packet `pn` of `size` bytes was declared lost. Returns true
    /// if this made the search fall back to the base size (a black hole:
    /// several packets above the base lost, none acknowledged after them,
    /// while the path still acknowledges what declared them lost).
    pub fn on_packet_lost(&mut self, now: Instant, pn: u64, size: usize) -> bool {
        // Only packets at the current size tell about it: larger ones were
        // sent before a fallback (their loss is already accounted for).
        if size <= self.base()
            || size > self.current()
            || self.largest_large_acked.is_some_and(|l| pn < l)
        {
            return false;
        }
        self.suspicious_losses = self.suspicious_losses.saturating_add(1);
        if self.suspicious_losses < BLACK_HOLE_LOSSES {
            return false;
        }
        // The size that was failing is the new upper bound; search below it
        // at once (the path may have shrunk, e.g. a route change).
        let failed = u32::try_from(self.current().max(size)).unwrap_or(u32::MAX);
        self.black_holes = self.black_holes.saturating_add(1);
        self.current = self.base;
        self.largest_large_acked = None;
        self.suspicious_losses = 0;
        self.search(failed, false, now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> Instant {
        Instant::ZERO + Duration::from_millis(ms)
    }

    /// Runs a search against a path that carries `path` bytes: every probe
    /// is answered at once. Returns the sizes probed, in order.
    fn run(s: &mut DatagramSize, path: usize, pn: &mut u64) -> alloc::vec::Vec<usize> {
        let mut probed = alloc::vec::Vec::new();
        for _ in 0..200 {
            let Some(size) = s.probe_size(t(0)) else {
                break;
            };
            probed.push(size);
            *pn += 1;
            s.on_probe_sent(*pn, size);
            if size <= path {
                s.on_probe_acked(t(0), *pn, size);
            } else {
                s.on_probe_lost(t(0), *pn, size);
            }
        }
        probed
    }

    #[test]
    fn settles_on_the_ceiling_in_one_probe_when_the_path_carries_it() {
        let mut s = DatagramSize::new(MtuConfig::new(1200, 1452), t(0));
        assert_eq!(s.current(), 1200);
        let mut pn = 0;
        assert_eq!(run(&mut s, 1472, &mut pn), [1452]);
        assert_eq!((s.current(), s.is_settled()), (1452, true));
        assert_eq!(s.timeout(), None, "at the ceiling: nothing to raise");
    }

    #[test]
    fn binary_search_finds_the_exact_size() {
        let mut s = DatagramSize::new(MtuConfig::new(1200, 1452), t(0));
        let mut pn = 0;
        let probed = run(&mut s, 1372, &mut pn);
        assert_eq!(s.current(), 1372);
        // The ceiling (three tries), then halving [1200, 1452): each step
        // halves the interval, so about log2(252) = 8 distinct sizes.
        assert_eq!(&probed[..3], &[1452, 1452, 1452]);
        assert_eq!(probed[3], 1326, "midpoint of 1200..1452");
        let mut distinct = probed.clone();
        distinct.dedup();
        assert!(distinct.len() <= 10, "{distinct:?}");
        assert!(s.is_settled());
        assert_eq!(s.stats().probes_sent, probed.len() as u64);
        // Every size above 1372 was given up after exactly three losses.
        for size in distinct.iter().filter(|&&x| x > 1372) {
            assert_eq!(probed.iter().filter(|&&x| x == *size).count(), 3, "{size}");
        }
    }

    #[test]
    fn every_path_size_between_base_and_ceiling_is_found() {
        for path in [1200, 1201, 1280, 1400, 1444, 1451, 1452, 9000] {
            let mut s = DatagramSize::new(MtuConfig::new(1200, 1452), t(0));
            let mut pn = 0;
            run(&mut s, path, &mut pn);
            assert_eq!(s.current(), path.min(1452), "path {path}");
        }
        let mut s = DatagramSize::new(MtuConfig::new(1200, 8972), t(0));
        let mut pn = 0;
        run(&mut s, 8972, &mut pn);
        assert_eq!(s.current(), 8972);
    }

    #[test]
    fn one_lost_probe_is_retried_and_retries_go_together() {
        let mut s = DatagramSize::new(MtuConfig::new(1200, 1452), t(0));
        assert_eq!(s.probe_size(t(0)), Some(1452));
        s.on_probe_sent(1, 1452);
        assert_eq!(s.probe_size(t(0)), None, "one probe at a time at first");
        s.on_probe_lost(t(1), 1, 1452);
        assert_eq!(s.current(), 1200);
        // Two tries left: both may go now.
        assert_eq!(s.probe_size(t(1)), Some(1452));
        s.on_probe_sent(2, 1452);
        assert_eq!(s.probe_size(t(1)), Some(1452));
        s.on_probe_sent(3, 1452);
        assert_eq!(s.probe_size(t(1)), None, "three sent: no more of this size");
        // A random loss of the second, then the third gets through.
        s.on_probe_lost(t(2), 2, 1452);
        s.on_probe_acked(t(2), 3, 1452);
        assert_eq!((s.current(), s.is_settled()), (1452, true));
        assert_eq!(s.stats().probes_lost, 2);
    }

    #[test]
    fn acks_of_unknown_or_forgotten_probes_change_nothing() {
        let mut s = DatagramSize::new(MtuConfig::new(1200, 1452), t(0));
        let size = s.probe_size(t(0)).unwrap();
        s.on_probe_sent(7, size);
        s.on_probe_acked(t(1), 8, size);
        assert_eq!(s.current(), 1200, "pn 8 was never a probe");
        s.restart(t(1));
        s.on_probe_acked(t(2), 7, size);
        assert_eq!(s.current(), 1200, "probe from before the restart");
    }

    #[test]
    fn black_hole_falls_back_to_base_then_searches_below_the_failed_size() {
        let mut s = DatagramSize::new(MtuConfig::new(1200, 1452), t(0));
        let mut pn = 0;
        run(&mut s, 1500, &mut pn);
        assert_eq!(s.current(), 1452);
        // Large data packets acknowledged: no suspicion.
        s.on_packet_acked(100, 1452);
        assert!(!s.on_packet_lost(t(10), 99, 1452), "older than an ack");
        // The route changes: 101.. lost, nothing large acknowledged; the
        // last of BLACK_HOLE_LOSSES large losses makes it a black hole.
        let last = 101 + u64::from(BLACK_HOLE_LOSSES);
        for pn in 101..last - 1 {
            assert!(!s.on_packet_lost(t(10), pn, 1452));
        }
        assert!(
            !s.on_packet_lost(t(10), last - 1, 1200),
            "base-size loss is no sign"
        );
        assert!(s.on_packet_lost(t(10), last, 1452));
        assert_eq!(s.current(), 1200);
        // The rest of the old flight is lost too: no second fallback.
        for pn in last + 1..last + 16 {
            assert!(!s.on_packet_lost(t(11), pn, 1452));
        }
        assert_eq!(s.stats().black_holes, 1);
        assert!(!s.is_settled());
        // Searches again below 1452 and finds the new path size.
        let probed = run(&mut s, 1252, &mut pn);
        assert!(probed.iter().all(|&p| p < 1452), "{probed:?}");
        assert_eq!(s.current(), 1252);
    }

    #[test]
    fn a_large_ack_between_losses_is_congestion_not_a_black_hole() {
        let mut s = DatagramSize::new(MtuConfig::new(1200, 1452), t(0));
        let mut pn = 0;
        run(&mut s, 1500, &mut pn);
        for i in 0..10u64 {
            assert!(!s.on_packet_lost(t(1), 100 + 3 * i, 1452));
            assert!(!s.on_packet_lost(t(1), 101 + 3 * i, 1452));
            s.on_packet_acked(102 + 3 * i, 1452);
        }
        assert_eq!(s.current(), 1452);
    }

    #[test]
    fn raises_again_after_the_quiet_period() {
        let cfg = MtuConfig {
            raise_after: Duration::from_secs(600),
            ..MtuConfig::new(1200, 1452)
        };
        let mut s = DatagramSize::new(cfg, t(0));
        let mut pn = 0;
        run(&mut s, 1300, &mut pn);
        assert_eq!(s.current(), 1300);
        let at = s.timeout().expect("below the ceiling: a raise is due");
        assert_eq!(at, t(0) + Duration::from_secs(600));
        assert_eq!(s.probe_size(t(1000)), None, "quiet until then");
        // The path grew meanwhile.
        assert_eq!(s.probe_size(at), Some(1452), "a fresh search tries the top");
        let mut probed = alloc::vec![];
        while let Some(size) = s.probe_size(at) {
            pn += 1;
            s.on_probe_sent(pn, size);
            s.on_probe_acked(at, pn, size);
            probed.push(size);
        }
        assert_eq!(probed, [1452]);
        assert_eq!(s.current(), 1452);
    }

    #[test]
    fn the_quiet_periods_end_is_handled_by_the_timer_alone() {
        // A session with nothing to send never asks for a probe: the timer
        // itself must start the new search, or it stays due forever (found
        // by the pair_ops fuzz target as a livelock).
        let cfg = MtuConfig {
            raise_after: Duration::from_secs(600),
            ..MtuConfig::new(1200, 1452)
        };
        let mut s = DatagramSize::new(cfg, t(0));
        let mut pn = 0;
        run(&mut s, 1300, &mut pn);
        let at = s.timeout().expect("a raise is due");
        s.on_timeout(at - Duration::from_millis(1));
        assert_eq!(s.timeout(), Some(at), "not before its time");
        s.on_timeout(at);
        assert_eq!(s.timeout(), None, "no longer due once handled");
        assert_eq!(s.current(), 1300, "the size holds until a probe succeeds");
        assert_eq!(s.probe_size(at), Some(1452), "the new search tries the top");
    }

    #[test]
    fn restart_goes_back_to_base_and_searches_the_whole_range() {
        let mut s = DatagramSize::new(MtuConfig::new(1200, 1452), t(0));
        let mut pn = 0;
        run(&mut s, 1300, &mut pn);
        assert_eq!(s.current(), 1300);
        s.restart(t(5));
        assert_eq!((s.current(), s.is_settled()), (1200, false));
        run(&mut s, 1452, &mut pn);
        assert_eq!(s.current(), 1452);
    }

    #[test]
    fn base_equal_to_ceiling_never_probes() {
        let mut s = DatagramSize::new(MtuConfig::new(1452, 1452), t(0));
        assert!(s.is_settled());
        assert_eq!((s.probe_size(t(0)), s.timeout()), (None, None));
        assert!(!s.on_packet_lost(t(0), 5, 1452), "nothing above the base");
    }
}
