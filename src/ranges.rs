//! A set of disjoint, non-adjacent `u64` ranges, kept sorted.
//!
//! Owns: the bookkeeping of which packet numbers were received (for ACK
//! frames) and which stream bytes were acknowledged or are waiting for
//! retransmission.
//! Never: grows without bound on its own. Callers that take ranges from the
//! network cap the count with [`RangeSet::len`] and [`RangeSet::pop_min`].

use alloc::collections::BTreeMap;
use core::ops::Range;

/// Sorted, disjoint, non-adjacent half-open ranges.
///
/// Invariant: for consecutive entries `a` and `b`, `a.end < b.start` (touching
/// ranges are merged on insert), and no entry is empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeSet {
    // start -> end
    map: BTreeMap<u64, u64>,
}

impl RangeSet {
    /// An empty set.
    pub const fn new() -> Self {
        RangeSet {
            map: BTreeMap::new(),
        }
    }

    /// Number of disjoint ranges.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no value is in the set.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// True if `value` is in the set.
    pub fn contains(&self, value: u64) -> bool {
        self.map
            .range(..=value)
            .next_back()
            .is_some_and(|(_, &end)| value < end)
    }

    /// True if every value of `range` is in the set.
    pub fn contains_range(&self, range: Range<u64>) -> bool {
        if range.is_empty() {
            return true;
        }
        self.map
            .range(..=range.start)
            .next_back()
            .is_some_and(|(_, &end)| range.end <= end)
    }

    /// Adds `range`, merging with neighbours. Returns true if any value was new.
    pub fn insert(&mut self, range: Range<u64>) -> bool {
        if range.is_empty() {
            return false;
        }
        // Fast path: at or past the start of the last range (packet numbers
        // and acknowledged bytes mostly arrive in order): extend it in
        // place, or append.
        if let Some(mut last) = self.map.last_entry() {
            let (start, end) = (*last.key(), *last.get());
            if range.start >= start {
                if range.start <= end {
                    if range.end <= end {
                        return false;
                    }
                    *last.get_mut() = range.end;
                } else {
                    self.map.insert(range.start, range.end);
                }
                return true;
            }
        }
        if self.contains_range(range.clone()) {
            return false;
        }
        let mut start = range.start;
        let mut end = range.end;
        // Merge with a predecessor that overlaps or touches.
        if let Some((&s, &e)) = self.map.range(..=start).next_back() {
            if e >= start {
                start = s;
                end = end.max(e);
                self.map.remove(&s);
            }
        }
        // Merge with successors that overlap or touch.
        while let Some((&s, &e)) = self.map.range(start..).next() {
            if s > end {
                break;
            }
            end = end.max(e);
            self.map.remove(&s);
        }
        self.map.insert(start, end);
        true
    }

    /// Removes `range` from the set, splitting ranges as needed.
    pub fn remove(&mut self, range: Range<u64>) {
        if range.is_empty() {
            return;
        }
        // Collect overlapping entries: the predecessor and any starting inside.
        let mut hits: heapless::Vec<(u64, u64), 2> = heapless::Vec::new();
        if let Some((&s, &e)) = self.map.range(..range.start).next_back() {
            if e > range.start {
                self.map.remove(&s);
                let _ = hits.push((s, e));
            }
        }
        let mut last_tail = None;
        while let Some((&s, &e)) = self.map.range(range.start..range.end).next() {
            self.map.remove(&s);
            if e > range.end {
                last_tail = Some(e);
            }
        }
        for (s, e) in hits {
            if s < range.start {
                self.map.insert(s, range.start);
            }
            if e > range.end {
                self.map.insert(range.end, e);
            }
        }
        if let Some(e) = last_tail {
            self.map.insert(range.end, e);
        }
    }

    /// The smallest range.
    pub fn min(&self) -> Option<Range<u64>> {
        self.map.iter().next().map(|(&s, &e)| s..e)
    }

    /// The largest range.
    pub fn max(&self) -> Option<Range<u64>> {
        self.map.iter().next_back().map(|(&s, &e)| s..e)
    }

    /// Removes and returns the smallest range.
    pub fn pop_min(&mut self) -> Option<Range<u64>> {
        let (&s, &e) = self.map.iter().next()?;
        self.map.remove(&s);
        Some(s..e)
    }

    /// Ranges in ascending order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Range<u64>> + '_ {
        self.map.iter().map(|(&s, &e)| s..e)
    }

    /// Ranges that intersect `window`, clipped to it, ascending.
    pub fn iter_within(&self, window: Range<u64>) -> impl Iterator<Item = Range<u64>> + '_ {
        let first = self
            .map
            .range(..window.start)
            .next_back()
            .filter(|(_, &e)| e > window.start)
            .map(|(&s, &e)| (s, e));
        first
            .into_iter()
            .chain(
                self.map
                    .range(window.start..window.end)
                    .map(|(&s, &e)| (s, e)),
            )
            .map(move |(s, e)| s.max(window.start)..e.min(window.end))
    }

    /// Empties the set.
    pub fn clear(&mut self) {
        self.map.clear();
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
        }
    }
}
