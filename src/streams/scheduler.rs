//! The priority scheduler: which stream's bytes go into the next packet.
//!
//! Owns: the queue of streams that have something to send, by priority.
//! Never: looks inside streams. A stream is queued when it has sendable data
//! and taken out when it has none; the session keeps that in step.
//!
//! Rule: the highest priority with a queued stream always goes first; streams
//! of equal priority take turns (round-robin), a turn lasting until the
//! stream has sent a quantum of bytes (64 KiB by default, one `send_all`
//! segment). Cost per decision is O(log levels), independent of the number
//! of streams.
//!
//! Why a quantum and not one frame a turn: with n busy streams, one frame a
//! turn keeps n messages half-built at the receiver at once (n x 64 KiB of
//! reassembly memory touched in turn, far past the caches at n = 1,000) and
//! makes every message wait for n times its own transfer time. Turns of a
//! quantum finish messages one after another with the same long-run
//! fairness; a higher priority still preempts at the next frame.

use alloc::collections::{BTreeMap, VecDeque};
use core::cmp::Reverse;

use crate::ids::StreamId;

/// Lowest priority.
pub const MIN_PRIORITY: u16 = 0;
/// Highest priority.
pub const MAX_PRIORITY: u16 = 1000;
/// Priority of a new stream.
pub const DEFAULT_PRIORITY: u16 = 500;

/// Bytes a stream may send in one turn by default.
pub const DEFAULT_QUANTUM: u64 = 64 * 1024;

/// Streams with data to send, grouped by priority.
#[derive(Debug)]
pub struct Scheduler {
    // Invariant: no empty level is kept; a stream id appears at most once
    // (the session queues a stream only when its `queued` flag is clear).
    levels: BTreeMap<Reverse<u16>, VecDeque<StreamId>>,
    // Streams queued (each id once: at most `u32::MAX`).
    len: u32,
    // A turn's bytes, at most `u32::MAX` (4 GiB; a larger quantum is
    // taken as that): the count below saturates there.
    quantum: u32,
    // The stream whose turn it is and the bytes it has sent in it. Only
    // meaningful while that stream is at the front; `charge` restarts the
    // count for any other.
    turn: (StreamId, u32),
}

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler::with_quantum(DEFAULT_QUANTUM)
    }
}

impl Scheduler {
    /// A scheduler whose turns last `quantum` bytes (at least one frame:
    /// 0 is taken as 1).
    pub fn with_quantum(quantum: u64) -> Self {
        Scheduler {
            levels: BTreeMap::new(),
            len: 0,
            quantum: u32::try_from(quantum.max(1)).unwrap_or(u32::MAX),
            turn: (0, 0),
        }
    }

    /// Queues `id` at `priority`, behind streams of the same priority.
    pub fn push(&mut self, id: StreamId, priority: u16) {
        self.levels
            .entry(Reverse(priority))
            .or_default()
            .push_back(id);
        self.len = self.len.saturating_add(1);
    }

    /// The stream to serve next.
    pub fn peek(&self) -> Option<StreamId> {
        self.levels.values().next().and_then(|q| q.front().copied())
    }

    /// The priority of the stream to serve next (what the session's
    /// datagram queue is weighed against).
    pub fn top_priority(&self) -> Option<u16> {
        self.levels.keys().next().map(|Reverse(p)| *p)
    }

    /// Takes the stream at the front out of the queue.
    pub fn pop(&mut self) -> Option<StreamId> {
        let mut entry = self.levels.first_entry()?;
        let id = entry.get_mut().pop_front();
        self.turn.1 = 0;
        if entry.get().is_empty() {
            entry.remove();
        }
        self.len -= u32::from(id.is_some());
        id
    }

    /// Counts `bytes` just sent by `id`, the front stream; once its turn
    /// reaches the quantum it moves behind its equals.
    pub fn charge(&mut self, id: StreamId, bytes: u64) {
        if self.turn.0 != id {
            self.turn = (id, 0);
        }
        let bytes = u32::try_from(bytes).unwrap_or(u32::MAX);
        self.turn.1 = self.turn.1.saturating_add(bytes);
        if self.turn.1 >= self.quantum {
            self.turn.1 = 0;
            self.rotate();
        }
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
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len as usize
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
        assert_eq!(s.top_priority(), Some(900));
        s.rotate();
        assert_eq!(s.peek(), Some(3));
        s.rotate();
        assert_eq!(s.peek(), Some(2));
        assert_eq!(s.pop(), Some(2));
        assert_eq!(s.pop(), Some(3));
        assert_eq!(s.pop(), Some(1));
        assert_eq!(s.pop(), None);
        assert!(s.is_empty());
        assert_eq!(s.top_priority(), None);
    }

    #[test]
    fn a_turn_lasts_a_quantum() {
        let mut s = Scheduler::with_quantum(3000);
        s.push(1, 500);
        s.push(2, 500);
        s.charge(1, 1400);
        s.charge(1, 1400);
        assert_eq!(s.peek(), Some(1), "2,800 bytes: still its turn");
        s.charge(1, 1400);
        assert_eq!(s.peek(), Some(2), "quantum reached: next stream");
        s.charge(2, 1400);
        // A higher priority preempts at once and starts its own count.
        s.push(3, 900);
        assert_eq!(s.peek(), Some(3));
        s.charge(3, 2999);
        assert_eq!(s.peek(), Some(3));
        assert_eq!(s.pop(), Some(3));
        // Stream 2 resumes with a fresh turn.
        s.charge(2, 2999);
        assert_eq!(s.peek(), Some(2));
        s.charge(2, 1);
        assert_eq!(s.peek(), Some(1));
    }

    #[test]
    fn quantum_of_one_frame_alternates() {
        let mut s = Scheduler::with_quantum(0);
        s.push(1, 500);
        s.push(2, 500);
        s.charge(1, 10);
        assert_eq!(s.peek(), Some(2));
        s.charge(2, 10);
        assert_eq!(s.peek(), Some(1));
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
