//! The endpoint's timer index: the earliest deadline of every session,
//! ordered, so finding what is due costs O(log sessions).
//!
//! Owns: one (deadline, session) entry per session with a timer.
//! Never: decides what a timer means; sessions do when called.

use alloc::collections::{BTreeMap, BTreeSet};

use crate::ids::SessionId;
use crate::time::Instant;

/// Deadlines by time, and each session's current one.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    by_time: BTreeSet<(Instant, SessionId)>,
    by_session: BTreeMap<SessionId, Instant>,
}

impl Timers {
    /// Sets (or clears, with `None`) the deadline of `id`.
    pub fn set(&mut self, id: SessionId, at: Option<Instant>) {
        if let Some(old) = self.by_session.get(&id) {
            if Some(*old) == at {
                return;
            }
            self.by_time.remove(&(*old, id));
            self.by_session.remove(&id);
        }
        if let Some(at) = at {
            self.by_time.insert((at, id));
            self.by_session.insert(id, at);
        }
    }

    /// Forgets `id`.
    pub fn remove(&mut self, id: SessionId) {
        self.set(id, None);
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.by_time.first().map(|(t, _)| *t)
    }

    /// Takes out a session whose deadline is at or before `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<SessionId> {
        let &(at, id) = self.by_time.first()?;
        if at > now {
            return None;
        }
        self.by_time.remove(&(at, id));
        self.by_session.remove(&id);
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_updates_replace() {
        let mut t = Timers::default();
        t.set(SessionId(1), Some(Instant::from_millis(5)));
        t.set(SessionId(2), Some(Instant::from_millis(3)));
        t.set(SessionId(2), Some(Instant::from_millis(9)));
        assert_eq!(t.next(), Some(Instant::from_millis(5)));
        assert_eq!(t.pop_due(Instant::from_millis(4)), None);
        assert_eq!(t.pop_due(Instant::from_millis(9)), Some(SessionId(1)));
        assert_eq!(t.pop_due(Instant::from_millis(9)), Some(SessionId(2)));
        assert_eq!(t.next(), None);
    }
}
