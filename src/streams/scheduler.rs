//! The priority scheduler: which stream's bytes go into the next packet.
//!
//! Owns: the queue of streams that have something to send, by priority.
//! Never: looks inside streams. A stream is queued when it has sendable data
//! and taken out when it has none; the session keeps that in step.
//!
//! Rule: the highest priority with a queued stream always goes first; streams
//! of equal priority take turns (round-robin), one frame each. Cost per
//! decision is O(log levels), independent of the number of streams.

use alloc::collections::{BTreeMap, VecDeque};
use core::cmp::Reverse;

use crate::ids::StreamId;

/// Lowest priority.
pub const MIN_PRIORITY: u16 = 0;
/// Highest priority.
pub const MAX_PRIORITY: u16 = 1000;
/// Priority of a new stream.
pub const DEFAULT_PRIORITY: u16 = 500;

/// Streams with data to send, grouped by priority.
#[derive(Debug, Default)]
pub struct Scheduler {
    // Invariant: no empty level is kept; a stream id appears at most once
    // (the session queues a stream only when its `queued` flag is clear).
    levels: BTreeMap<Reverse<u16>, VecDeque<StreamId>>,
    len: usize,
}

impl Scheduler {
    /// Queues `id` at `priority`, behind streams of the same priority.
    pub fn push(&mut self, id: StreamId, priority: u16) {
        self.levels
            .entry(Reverse(priority))
            .or_default()
            .push_back(id);
        self.len += 1;
    }

    /// The stream to serve next.
    pub fn peek(&self) -> Option<StreamId> {
        self.levels.values().next().and_then(|q| q.front().copied())
    }

    /// Takes the stream at the front out of the queue.
    pub fn pop(&mut self) -> Option<StreamId> {
        let mut entry = self.levels.first_entry()?;
        let id = entry.get_mut().pop_front();
        if entry.get().is_empty() {
            entry.remove();
        }
        self.len -= usize::from(id.is_some());
        id
    }

    /// Moves the front stream behind its equals (its turn is over).
    pub fn rotate(&mut self) {
        if let Some(mut entry) = self.levels.first_entry() {
            let q = entry.get_mut();
            if let Some(id) = q.pop_front() {
                q.push_back(id);
            }
        }
    }

    /// Removes `id` queued at `priority` (O(streams at that priority); used
    /// only when a queued stream's priority changes or it is reset).
    pub fn remove(&mut self, id: StreamId, priority: u16) -> bool {
        let Some(q) = self.levels.get_mut(&Reverse(priority)) else {
            return false;
        };
        let Some(pos) = q.iter().position(|&x| x == id) else {
            return false;
        };
        q.remove(pos);
        if q.is_empty() {
            self.levels.remove(&Reverse(priority));
        }
        self.len -= 1;
        true
    }

    /// Number of queued streams.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if no stream is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highest_priority_first_then_round_robin() {
        let mut s = Scheduler::default();
        s.push(1, 100);
        s.push(2, 900);
        s.push(3, 900);
        assert_eq!(s.peek(), Some(2));
        s.rotate();
        assert_eq!(s.peek(), Some(3));
        s.rotate();
        assert_eq!(s.peek(), Some(2));
        assert_eq!(s.pop(), Some(2));
        assert_eq!(s.pop(), Some(3));
        assert_eq!(s.pop(), Some(1));
        assert_eq!(s.pop(), None);
        assert!(s.is_empty());
    }

    #[test]
    fn remove_reprioritises() {
        let mut s = Scheduler::default();
        s.push(1, 100);
        s.push(2, 500);
        assert!(s.remove(1, 100));
        s.push(1, 1000);
        assert_eq!(s.pop(), Some(1));
        assert!(!s.remove(7, 500));
        assert_eq!(s.len(), 1);
    }
}
