//! Reordering: noticing losses that were not (a packet declared lost and
//! acknowledged after all) and loosening loss detection to match.
//!
//! Owns: the loss thresholds (packets behind, age in RTTs), the memory of
//! recently lost packet numbers and their send times, and the rule that a
//! spurious loss switches detection to age only and raises the age needed.
//! Never: declares packets lost itself or grows with the transfer: both
//! memories are capped.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use core::ops::Range;
use core::time::Duration;

use crate::ranges::RangeSet;
use crate::recovery::rtt::RttEstimator;
use crate::recovery::Ratio;
use crate::time::Instant;

/// Packet threshold once the path was seen to reorder: in effect, losses
/// are then declared by age only.
const MAX_PACKET_THRESHOLD: u64 = u64::MAX;
/// Largest time threshold spurious losses can raise the configured one to,
/// in eighths of the RTT.
const MAX_TIME_THRESHOLD_EIGHTHS: u32 = 16;
/// How many send times of recently lost packets are kept.
const LOST_SENT_TIMES: usize = 64;
/// How many ranges of recently lost packet numbers are kept to notice
/// spurious losses.
const RECENTLY_LOST_RANGES: usize = 16;

/// Loss thresholds and the memory of recent losses that adapts them.
#[derive(Debug)]
pub(super) struct Reordering {
    packet_threshold: u64,
    time_threshold: Ratio,
    /// Boxed while any lost number is remembered: a session that lost
    /// nothing lately (an idle one, most often) pays a pointer.
    memory: Option<Box<LossMemory>>,
}

/// Recently lost packets.
#[derive(Debug, Default)]
struct LossMemory {
    /// Invariant: not empty (the memory goes with its last range).
    recently_lost: RangeSet,
    /// Send times of the latest packets declared lost, to tell how late a
    /// spurious one was (only those in `recently_lost` are looked up).
    lost_sent_times: VecDeque<(u64, Instant)>,
}

impl Reordering {
    pub(super) fn new(packet_threshold: u64, time_threshold: Ratio) -> Self {
        Reordering {
            packet_threshold,
            time_threshold,
            memory: None,
        }
    }

    /// Packets a later acknowledged packet must be ahead of a missing one to
    /// declare it lost.
    pub(super) fn packet_threshold(&self) -> u64 {
        self.packet_threshold
    }

    /// Age, as a multiple of the RTT, at which a packet behind an
    /// acknowledged one is declared lost.
    pub(super) fn time_threshold(&self) -> Ratio {
        self.time_threshold
    }

    /// Packet `pn`, sent at `sent`, was declared lost (a congestion-path
    /// loss: size probes and packets sent to an old address are not kept).
    pub(super) fn on_lost(&mut self, pn: u64, sent: Instant) {
        let m = self.memory.get_or_insert_default();
        m.recently_lost.insert(pn..pn.saturating_add(1));
        if m.lost_sent_times.len() >= LOST_SENT_TIMES {
            m.lost_sent_times.pop_front();
        }
        m.lost_sent_times.push_back((pn, sent));
    }

    /// Caps the memory of lost numbers after a round of detection.
    pub(super) fn trim(&mut self) {
        let Some(m) = &mut self.memory else { return };
        while m.recently_lost.len() > RECENTLY_LOST_RANGES {
            m.recently_lost.pop_min();
        }
    }

    /// An acknowledgement at `now` covers `r`: how many recently lost
    /// packets it names (they are forgotten) and how late the latest of them
    /// came, after it was sent (zero if unknown). `None` if it names none.
    pub(super) fn take_spurious(
        &mut self,
        r: &Range<u64>,
        now: Instant,
    ) -> Option<(u64, Duration)> {
        let m = self.memory.as_mut()?;
        let mut spurious = 0;
        let mut late = Duration::ZERO;
        for h in m.recently_lost.iter_within(r.clone()) {
            spurious += h.end - h.start;
            for (_, sent) in m.lost_sent_times.iter().filter(|(pn, _)| h.contains(pn)) {
                late = late.max(now - *sent);
            }
        }
        if spurious == 0 {
            return None;
        }
        m.recently_lost.remove(r.clone());
        if m.recently_lost.is_empty() {
            // No number left to look a send time up for.
            self.memory = None;
        }
        Some((spurious, late))
    }

    /// A packet declared lost was acknowledged after all, `late` after it
    /// was sent (zero if unknown): the path reorders. Counting packets is
    /// then no measure of loss (how far a late packet falls behind grows
    /// with the sending rate), so only age declares packets lost from now
    /// on, and the age needed grows to cover what was seen, up to twice
    /// the RTT.
    pub(super) fn on_reordering(&mut self, late: Duration, rtt: &RttEstimator) {
        self.packet_threshold = MAX_PACKET_THRESHOLD;
        let rtt = rtt.latest().max(rtt.smoothed()).as_micros().max(1);
        let eighths = late.as_micros().saturating_mul(8).div_ceil(rtt) + 1;
        let eighths = u32::try_from(eighths).unwrap_or(u32::MAX);
        let current = self.time_threshold;
        let current_eighths = u64::from(current.num) * 8 / u64::from(current.den.max(1));
        if u64::from(eighths) > current_eighths {
            self.time_threshold = Ratio {
                num: eighths.min(MAX_TIME_THRESHOLD_EIGHTHS),
                den: 8,
            };
        }
    }

    /// A new path: losses seen on the old one say nothing about it (the
    /// thresholds learned are kept).
    pub(super) fn forget_losses(&mut self) {
        self.memory = None;
    }
}
