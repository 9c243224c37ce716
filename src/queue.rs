//! A first-in, first-out queue that costs one pointer while it holds no
//! memory.
//!
//! Owns: [`Queue`], for the queues a session keeps that are empty most of
//! its life (events, control frames owed, streams waiting for credit): an
//! idle session holds many of them, and an empty `VecDeque` is four words.
//! Never: frees on its own: a queue emptied keeps its memory (a busy
//! session does not allocate per packet) until [`Queue::release`], which
//! the idle trim calls.

use alloc::boxed::Box;
use alloc::collections::VecDeque;

/// A queue boxed from its first push.
// The box is the point: `None` is one word where an empty `VecDeque` is
// four, and the extra allocation is made once per busy period.
#[allow(clippy::box_collection)]
#[derive(Debug)]
pub(crate) struct Queue<T>(Option<Box<VecDeque<T>>>);

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue(None)
    }
}

impl<T> Queue<T> {
    /// An empty queue holding no memory.
    pub(crate) const fn new() -> Self {
        Queue(None)
    }

    /// Appends `item`.
    pub(crate) fn push_back(&mut self, item: T) {
        self.0.get_or_insert_default().push_back(item);
    }

    /// Takes the oldest item.
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        self.0.as_mut()?.pop_front()
    }

    /// True if `item` is queued.
    pub(crate) fn contains(&self, item: &T) -> bool
    where
        T: PartialEq,
    {
        self.0.as_ref().is_some_and(|q| q.contains(item))
    }

    /// Nothing queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|q| q.is_empty())
    }

    /// Items queued.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |q| q.len())
    }

    /// True while it holds memory (empty or not).
    pub(crate) fn is_allocated(&self) -> bool {
        self.0.is_some()
    }

    /// Gives its memory back if it is empty.
    pub(crate) fn release(&mut self) {
        if self.is_empty() {
            self.0 = None;
        }
    }
}

impl<T> IntoIterator for Queue<T> {
    type Item = T;
    type IntoIter = core::iter::Flatten<core::option::IntoIter<VecDeque<T>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.map(|q| *q).into_iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn boxed_from_the_first_push_until_released_empty() {
        let mut q = Queue::new();
        assert!(q.is_empty() && !q.is_allocated() && q.pop_front().is_none());
        q.push_back(1);
        q.push_back(2);
        assert_eq!(q.len(), 2);
        q.release();
        assert!(q.is_allocated(), "not released while holding items");
        assert_eq!(q.pop_front(), Some(1));
        q.push_back(3);
        assert_eq!(q.into_iter().collect::<Vec<_>>(), [2, 3]);
        let mut q: Queue<u8> = Queue::default();
        q.push_back(1);
        q.pop_front();
        assert!(q.is_empty() && q.is_allocated());
        q.release();
        assert!(!q.is_allocated());
        assert_eq!(q.into_iter().count(), 0);
    }
}
