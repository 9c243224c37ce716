//! A bounded stack of spare allocations, and forgetting the ones that sat
//! unused.
//!
//! Owns: [`Spare`]: allocations a quiet session gave back (a boxed busy
//! part, an empty queue with its capacity), kept for the next session that
//! needs one, newest on top; the low-water mark that tells which were not
//! needed since the last look.
//! Never: holds more than the cap it is given, keeps an allocation through
//! a whole period in which nothing was taken from under it, or says
//! anything about what its allocations held (the taker overwrites or
//! clears them).
//!
//! An endpoint whose sessions wake and rest by the thousand (keep-alives)
//! allocates and frees the same few sizes over and over; many sessions
//! rest together and wake together, more than a general-purpose
//! allocator's per-size cache holds, and each trip through its slow path
//! touches memory that is cold at that scale. Handing the allocations from
//! the session that rests to the next that wakes skips the allocator.

use alloc::boxed::Box;
use alloc::vec::Vec;

/// Spare allocations of one kind.
#[derive(Debug)]
pub(crate) struct Spare<X> {
    /// Invariant: at most `cap` items.
    items: Vec<X>,
    /// The least `items.len()` since the last [`Spare::forget_unused`]:
    /// the items below it were not taken in that time.
    low: usize,
    cap: usize,
}

/// `x` in `spare`'s box if there is one (overwriting what it held), in a
/// new box if not.
pub(crate) fn rebox<X>(spare: Option<Box<X>>, x: X) -> Box<X> {
    match spare {
        Some(mut b) => {
            *b = x;
            b
        }
        None => Box::new(x),
    }
}

impl<X> Spare<X> {
    /// None kept yet; at most `cap` kept.
    pub(crate) fn new(cap: usize) -> Self {
        Spare {
            items: Vec::new(),
            low: 0,
            cap,
        }
    }

    /// The newest spare, if any.
    pub(crate) fn take(&mut self) -> Option<X> {
        let x = self.items.pop()?;
        self.low = self.low.min(self.items.len());
        Some(x)
    }

    /// Keeps `x` for a later [`Spare::take`] if fewer than the cap are
    /// kept; drops it otherwise.
    pub(crate) fn give(&mut self, x: X) {
        if self.items.len() < self.cap {
            self.items.push(x);
        }
    }

    /// True when nothing is kept (and no buffer for it is held).
    pub(crate) fn is_empty(&self) -> bool {
        self.items.capacity() == 0
    }

    /// How many are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Drops what was not taken since the last call (the oldest, at the
    /// bottom of the stack); the rest is counted unused from now.
    pub(crate) fn forget_unused(&mut self) {
        self.items.drain(..self.low);
        if self.items.is_empty() {
            self.items = Vec::new();
        }
        self.low = self.items.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_newest_first_and_keeps_at_most_cap() {
        let mut s = Spare::new(3);
        for i in 0..5 {
            s.give(i);
        }
        assert_eq!(s.take(), Some(2));
        assert_eq!(s.take(), Some(1));
        assert_eq!(s.take(), Some(0));
        assert_eq!(s.take(), None);
    }

    #[test]
    fn forgets_what_was_not_taken_in_a_period() {
        let mut s = Spare::new(8);
        for i in 0..4 {
            s.give(i);
        }
        // Given since the last look: counted unused from the first look.
        s.forget_unused();
        assert_eq!(s.items, [0, 1, 2, 3]);
        // Two taken in this period, one given back: the two at the bottom
        // were never needed.
        assert_eq!(s.take(), Some(3));
        assert_eq!(s.take(), Some(2));
        s.give(9);
        s.forget_unused();
        assert_eq!(s.items, [9]);
        // A quiet period: all of it goes, buffer included.
        s.forget_unused();
        assert!(s.is_empty());
        assert_eq!(s.take(), None);
    }
}
