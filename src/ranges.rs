//! A set of disjoint, non-adjacent `u64` ranges, kept sorted.
//!
//! Owns: the bookkeeping of which packet numbers were received (for ACK
//! frames) and which stream bytes were acknowledged or are waiting for
//! retransmission.
//! Never: grows without bound on its own. Callers that take ranges from the
//! network cap the count with [`RangeSet::len`] and [`RangeSet::pop_min`].

use alloc::collections::VecDeque;
use core::ops::Range;

/// A range as stored: `(start, end)`, half-open.
type Entry = (u64, u64);

/// Sorted, disjoint, non-adjacent half-open ranges.
///
/// Invariant: for consecutive entries `a` and `b`, `a.end < b.start` (touching
/// ranges are merged on insert), and no entry is empty.
///
/// Sets here hold a handful of ranges (one, mostly: the packet numbers
/// received in order, the bytes of a stream acknowledged in order), grow at
/// the back and shrink at the front. One range is held inline, with no
/// allocation (a keep-alive's acknowledgement then reads no memory beyond
/// the set's owner); a second spills the set into a sorted double-ended
/// queue, which beats a tree in time and memory (16 bytes a range against a
/// 192-byte tree node) and keeps its buffer until the set is dropped.
#[derive(Clone, Debug, Default)]
pub struct RangeSet {
    repr: Repr,
}

#[derive(Clone, Debug)]
enum Repr {
    /// No range or one, inline.
    Small(Option<Entry>),
    /// Any number, once a second range was inserted.
    Large(VecDeque<Entry>),
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Small(None)
    }
}

impl PartialEq for RangeSet {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for RangeSet {}

impl RangeSet {
    /// An empty set.
    pub const fn new() -> Self {
        RangeSet {
            repr: Repr::Small(None),
        }
    }

    /// The entries in order.
    fn entries(&self) -> impl DoubleEndedIterator<Item = &Entry> + '_ {
        let (a, b) = match &self.repr {
            Repr::Small(one) => (one.as_slice(), &[][..]),
            Repr::Large(q) => q.as_slices(),
        };
        a.iter().chain(b)
    }

    /// Entry `i`.
    fn get(&self, i: usize) -> Option<&Entry> {
        match &self.repr {
            Repr::Small(one) => one.as_ref().filter(|_| i == 0),
            Repr::Large(q) => q.get(i),
        }
    }

    /// The index of the first entry for which `pred` is false (entries
    /// are sorted, so `pred` holds for a prefix).
    fn partition_point(&self, pred: impl FnMut(&Entry) -> bool) -> usize {
        match &self.repr {
            Repr::Small(one) => one.as_slice().partition_point(pred),
            Repr::Large(q) => q.partition_point(pred),
        }
    }

    /// The queue, the inline range moved into it first if the set is
    /// small.
    fn spill(&mut self) -> &mut VecDeque<Entry> {
        if let Repr::Small(one) = self.repr {
            // Room for the first ranges a spilled set usually holds.
            let mut q = VecDeque::with_capacity(4);
            q.extend(one);
            self.repr = Repr::Large(q);
        }
        match &mut self.repr {
            Repr::Large(q) => q,
            Repr::Small(_) => unreachable!("spilled above"),
        }
    }

    /// Number of disjoint ranges.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Small(one) => usize::from(one.is_some()),
            Repr::Large(q) => q.len(),
        }
    }

    /// True when no value is in the set.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Index of the first range that ends after `value` (so the only one
    /// that may contain it).
    fn first_ending_after(&self, value: u64) -> usize {
        self.partition_point(|&(_, e)| e <= value)
    }

    /// True if `value` is in the set.
    pub fn contains(&self, value: u64) -> bool {
        let i = self.first_ending_after(value);
        self.get(i).is_some_and(|&(s, _)| s <= value)
    }

    /// True if every value of `range` is in the set.
    pub fn contains_range(&self, range: Range<u64>) -> bool {
        if range.is_empty() {
            return true;
        }
        let i = self.first_ending_after(range.start);
        self.get(i)
            .is_some_and(|&(s, e)| s <= range.start && range.end <= e)
    }

    /// Adds `range`, merging with any overlapping or touching ranges.
    /// Returns true if it added any value not already in the set.
    pub fn insert(&mut self, range: Range<u64>) -> bool {
        if range.is_empty() {
            return false;
        }
        match &mut self.repr {
            Repr::Small(None) => {
                self.repr = Repr::Small(Some((range.start, range.end)));
                return true;
            }
            Repr::Small(Some(one)) => {
                if range.start <= one.1 && one.0 <= range.end {
                    // Overlapping or touching: one range still.
                    if one.0 <= range.start && range.end <= one.1 {
                        return false;
                    }
                    *one = (one.0.min(range.start), one.1.max(range.end));
                    return true;
                }
            }
            Repr::Large(q) => {
                // Fast path: at or past the start of the last range
                // (packet numbers and acknowledged bytes mostly arrive in
                // order).
                if let Some(last) = q.back_mut() {
                    if range.start >= last.0 {
                        if range.start <= last.1 {
                            if range.end <= last.1 {
                                return false;
                            }
                            last.1 = range.end;
                        } else {
                            q.push_back((range.start, range.end));
                        }
                        return true;
                    }
                }
            }
        }
        if self.contains_range(range.clone()) {
            return false;
        }
        // Ranges that overlap or touch `range`: i..j.
        let i = self.partition_point(|&(_, e)| e < range.start);
        let j = self.partition_point(|&(s, _)| s <= range.end);
        let mut start = range.start;
        let mut end = range.end;
        if let Some(&(s, _)) = self.get(i).filter(|_| i < j) {
            start = start.min(s);
        }
        if let Some(&(_, e)) = j.checked_sub(1).and_then(|k| self.get(k)).filter(|_| i < j) {
            end = end.max(e);
        }
        let q = self.spill();
        q.drain(i..j);
        q.insert(i, (start, end));
        true
    }

    /// Removes `range` from the set, splitting ranges as needed.
    pub fn remove(&mut self, range: Range<u64>) {
        if range.is_empty() || self.is_empty() {
            return;
        }
        // Ranges that overlap `range`: i..j.
        let i = self.first_ending_after(range.start);
        let j = self.partition_point(|&(s, _)| s < range.end);
        if i >= j {
            return;
        }
        let head = self
            .get(i)
            .filter(|&&(s, _)| s < range.start)
            .map(|&(s, _)| (s, range.start));
        let tail = self
            .get(j - 1)
            .filter(|&&(_, e)| e > range.end)
            .map(|&(_, e)| (range.end, e));
        if let Repr::Small(one) = &mut self.repr {
            // The one range overlaps `range`: what is left of it is a
            // head, a tail, both (spilled below) or nothing.
            match (head, tail) {
                (Some(_), Some(_)) => {}
                (piece, None) | (None, piece) => {
                    *one = piece;
                    return;
                }
            }
        }
        let q = self.spill();
        q.drain(i..j);
        for (at, piece) in (i..).zip([head, tail].into_iter().flatten()) {
            q.insert(at, piece);
        }
    }

    /// The smallest range.
    pub fn min(&self) -> Option<Range<u64>> {
        self.get(0).map(|&(s, e)| s..e)
    }

    /// The largest range.
    pub fn max(&self) -> Option<Range<u64>> {
        self.entries().next_back().map(|&(s, e)| s..e)
    }

    /// Removes and returns the smallest range.
    pub fn pop_min(&mut self) -> Option<Range<u64>> {
        match &mut self.repr {
            Repr::Small(one) => one.take(),
            Repr::Large(q) => q.pop_front(),
        }
        .map(|(s, e)| s..e)
    }

    /// Ranges in ascending order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Range<u64>> + '_ {
        self.entries().map(|&(s, e)| s..e)
    }

    /// Ranges that intersect `window`, clipped to it, ascending.
    pub fn iter_within(&self, window: Range<u64>) -> impl Iterator<Item = Range<u64>> + '_ {
        // (Skipping a chain of slices advances them in one step.)
        self.entries()
            .skip(self.first_ending_after(window.start))
            .take_while(move |&&(s, _)| s < window.end)
            .map(move |&(s, e)| s.max(window.start)..e.min(window.end))
            .filter(|r| !r.is_empty())
    }

    /// Empties the set (a spilled set keeps its buffer).
    pub fn clear(&mut self) {
        match &mut self.repr {
            Repr::Small(one) => *one = None,
            Repr::Large(q) => q.clear(),
        }
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

    /// The runs of set bits, ascending.
    fn runs_of(bits: &[bool]) -> Vec<Range<u64>> {
        let mut out: Vec<Range<u64>> = Vec::new();
        for (i, &b) in bits.iter().enumerate() {
            let i = i as u64;
            match out.last_mut() {
                Some(r) if b && r.end == i => r.end = i + 1,
                _ if b => out.push(i..i + 1),
                _ => {}
            }
        }
        out
    }

    #[test]
    fn one_range_stays_inline_and_a_second_spills() {
        let mut s = RangeSet::new();
        s.insert(0..4);
        s.insert(4..9);
        s.remove(0..2);
        assert!(matches!(s.repr, Repr::Small(Some((2, 9)))));
        s.remove(4..5);
        assert!(matches!(s.repr, Repr::Large(_)));
        assert_eq!(ranges(&s), [2..4, 5..9]);
        assert_eq!(s.pop_min(), Some(2..4));
        assert_eq!(s.pop_min(), Some(5..9));
        assert_eq!(s.pop_min(), None);
        s.insert(1..2);
        s.clear();
        assert!(s.is_empty());
    }

    proptest! {
        #[test]
        fn pop_min_takes_ranges_in_order(starts in proptest::collection::vec(0u64..200, 0..12)) {
            let mut s = RangeSet::new();
            for &a in &starts {
                s.insert(a * 3..a * 3 + 1);
            }
            let expect = ranges(&s);
            let mut got = Vec::new();
            while let Some(r) = s.pop_min() {
                got.push(r);
            }
            prop_assert_eq!(got, expect);
            prop_assert!(s.is_empty());
        }

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
            // The runs of the bitmap, as the set's own accessors see them.
            let runs: Vec<Range<u64>> = runs_of(&bits);
            prop_assert_eq!(&v, &runs);
            prop_assert_eq!(s.len(), runs.len());
            prop_assert_eq!(s.is_empty(), runs.is_empty());
            prop_assert_eq!(s.min(), runs.first().cloned());
            prop_assert_eq!(s.max(), runs.last().cloned());
            prop_assert_eq!(s.iter().rev().collect::<Vec<_>>(), runs.iter().rev().cloned().collect::<Vec<_>>());
            let mut rebuilt = RangeSet::new();
            for r in runs.iter().rev() {
                rebuilt.insert(r.clone());
            }
            prop_assert_eq!(&rebuilt, &s);
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
