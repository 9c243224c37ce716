//! A set of disjoint, non-adjacent `u64` ranges, kept sorted.
//!
//! Owns: the bookkeeping of which packet numbers were received (for ACK
//! frames) and which stream bytes were acknowledged or are waiting for
//! retransmission.
//! Never: grows without bound on its own. Callers that take ranges from the
//! network cap the count with [`RangeSet::len`] and [`RangeSet::pop_min`].

use alloc::collections::VecDeque;
use core::ops::Range;

/// Sorted, disjoint, non-adjacent half-open ranges.
///
/// Invariant: for consecutive entries `a` and `b`, `a.end < b.start` (touching
/// ranges are merged on insert), and no entry is empty.
///
/// Kept as a sorted double-ended queue of `(start, end)`: sets here hold a
/// handful of ranges (one, mostly), grow at the back and shrink at the
/// front, so a contiguous buffer beats a tree in time and memory (16 bytes
/// for a set of one range against a 192-byte tree node).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeSet {
    ranges: VecDeque<(u64, u64)>,
}

impl RangeSet {
    /// An empty set.
    pub const fn new() -> Self {
        RangeSet {
            ranges: VecDeque::new(),
        }
    }

    /// Number of disjoint ranges.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// True when no value is in the set.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Index of the first range that ends after `value` (so the only one
    /// that may contain it).
    fn first_ending_after(&self, value: u64) -> usize {
        self.ranges.partition_point(|&(_, e)| e <= value)
    }

    /// True if `value` is in the set.
    pub fn contains(&self, value: u64) -> bool {
        let i = self.first_ending_after(value);
        self.ranges.get(i).is_some_and(|&(s, _)| s <= value)
    }

    /// True if every value of `range` is in the set.
    pub fn contains_range(&self, range: Range<u64>) -> bool {
        if range.is_empty() {
            return true;
        }
        let i = self.first_ending_after(range.start);
        self.ranges
            .get(i)
            .is_some_and(|&(s, e)| s <= range.start && range.end <= e)
    }

    /// Adds `range`, merging with neighbours. Returns true if any value was new.
    pub fn insert(&mut self, range: Range<u64>) -> bool {
        if range.is_empty() {
            return false;
        }
        // Fast path: at or past the start of the last range (packet numbers
        // and acknowledged bytes mostly arrive in order).
        if let Some(last) = self.ranges.back_mut() {
            if range.start >= last.0 {
                if range.start <= last.1 {
                    if range.end <= last.1 {
                        return false;
                    }
                    last.1 = range.end;
                } else {
                    self.ranges.push_back((range.start, range.end));
                }
                return true;
            }
        } else {
            // A set's first range: room for exactly one (most stay at one).
            self.ranges.reserve_exact(1);
            self.ranges.push_back((range.start, range.end));
            return true;
        }
        if self.contains_range(range.clone()) {
            return false;
        }
        // Ranges that overlap or touch `range`: i..j.
        let i = self.ranges.partition_point(|&(_, e)| e < range.start);
        let j = self.ranges.partition_point(|&(s, _)| s <= range.end);
        let mut start = range.start;
        let mut end = range.end;
        if let Some(&(s, _)) = self.ranges.get(i).filter(|_| i < j) {
            start = start.min(s);
        }
        if let Some(&(_, e)) = j
            .checked_sub(1)
            .and_then(|k| self.ranges.get(k))
            .filter(|_| i < j)
        {
            end = end.max(e);
        }
        self.ranges.drain(i..j);
        self.ranges.insert(i, (start, end));
        true
    }

    /// Removes `range` from the set, splitting ranges as needed.
    pub fn remove(&mut self, range: Range<u64>) {
        if range.is_empty() || self.ranges.is_empty() {
            return;
        }
        // Ranges that overlap `range`: i..j.
        let i = self.first_ending_after(range.start);
        let j = self.ranges.partition_point(|&(s, _)| s < range.end);
        if i >= j {
            return;
        }
        let head = self
            .ranges
            .get(i)
            .filter(|&&(s, _)| s < range.start)
            .map(|&(s, _)| (s, range.start));
        let tail = self
            .ranges
            .get(j - 1)
            .filter(|&&(_, e)| e > range.end)
            .map(|&(_, e)| (range.end, e));
        self.ranges.drain(i..j);
        for (at, piece) in (i..).zip([head, tail].into_iter().flatten()) {
            self.ranges.insert(at, piece);
        }
    }

    /// The smallest range.
    pub fn min(&self) -> Option<Range<u64>> {
        self.ranges.front().map(|&(s, e)| s..e)
    }

    /// The largest range.
    pub fn max(&self) -> Option<Range<u64>> {
        self.ranges.back().map(|&(s, e)| s..e)
    }

    /// Removes and returns the smallest range.
    pub fn pop_min(&mut self) -> Option<Range<u64>> {
        self.ranges.pop_front().map(|(s, e)| s..e)
    }

    /// Ranges in ascending order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Range<u64>> + '_ {
        self.ranges.iter().map(|&(s, e)| s..e)
    }

    /// Ranges that intersect `window`, clipped to it, ascending.
    pub fn iter_within(&self, window: Range<u64>) -> impl Iterator<Item = Range<u64>> + '_ {
        let i = self.first_ending_after(window.start);
        self.ranges
            .range(i..)
            .take_while(move |&&(s, _)| s < window.end)
            .map(move |&(s, e)| s.max(window.start)..e.min(window.end))
            .filter(|r| !r.is_empty())
    }

    /// Empties the set.
    pub fn clear(&mut self) {
        self.ranges.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn ranges(s: &RangeSet) -> Vec<Range<u64>> {
        s.iter().collect()
    }

    #[test]
    fn merges_touching_and_overlapping() {
        let mut s = RangeSet::new();
        assert!(s.insert(0..2));
        assert!(s.insert(4..6));
        assert!(s.insert(2..4));
        assert_eq!(ranges(&s), alloc::vec![0..6]);
        assert!(!s.insert(1..5));
        assert!(s.insert(10..12));
        assert!(s.insert(5..11));
        assert_eq!(ranges(&s), alloc::vec![0..12]);
    }

    #[test]
    fn remove_splits() {
        let mut s = RangeSet::new();
        s.insert(0..10);
        s.insert(20..30);
        s.remove(5..25);
        assert_eq!(ranges(&s), [0..5, 25..30]);
        s.remove(0..100);
        assert!(s.is_empty());
    }

    #[test]
    fn iter_within_clips() {
        let mut s = RangeSet::new();
        s.insert(0..10);
        s.insert(20..30);
        let got: Vec<_> = s.iter_within(5..25).collect();
        assert_eq!(got, [5..10, 20..25]);
    }

    proptest! {
        #[test]
        fn matches_a_bitmap(ops in proptest::collection::vec((any::<bool>(), 0u64..64, 0u64..16), 0..64)) {
            let mut s = RangeSet::new();
            let mut bits = [false; 96];
            for (add, start, len) in ops {
                let r = start..start + len;
                if add { s.insert(r.clone()); } else { s.remove(r.clone()); }
                for b in r { bits[b as usize] = add; }
            }
            for (i, &b) in bits.iter().enumerate() {
                prop_assert_eq!(s.contains(i as u64), b);
            }
            let v = ranges(&s);
            for w in v.windows(2) {
                prop_assert!(w[0].end < w[1].start);
            }
            prop_assert!(v.iter().all(|r| !r.is_empty()));
            // Window queries agree with the bitmap too.
            let within: Vec<u64> = s.iter_within(10..50).flatten().collect();
            let expect: Vec<u64> = (10..50u64).filter(|&b| bits[b as usize]).collect();
            prop_assert_eq!(within, expect);
            for start in 0..80u64 {
                let r = start..start + 5;
                prop_assert_eq!(s.contains_range(r.clone()), r.clone().all(|b| bits[b as usize]));
            }
        }
    }
}
