//! The endpoint's timer index: the earliest deadline of every session,
//! ordered, so finding what is due costs O(log sessions).
//!
//! Owns: one (deadline, session) entry per session with a timer. The
//! deadline a session is indexed under is kept by the caller (beside the
//! session), so an unchanged deadline costs no lookup here.
//! Never: decides what a timer means; sessions do when called.

use alloc::collections::BTreeSet;

use crate::ids::SessionId;
use crate::time::Instant;

/// Deadlines by time.
#[derive(Debug, Default)]
pub struct Timers {
    by_time: BTreeSet<(Instant, SessionId)>,
}

impl Timers {
    /// Moves `id` from deadline `old` (where it was indexed, if anywhere)
    /// to `new` (or out, with `None`).
    pub fn set(&mut self, id: SessionId, old: Option<Instant>, new: Option<Instant>) {
        if old == new {
            return;
        }
        if let Some(old) = old {
            self.by_time.remove(&(old, id));
        }
        if let Some(new) = new {
            self.by_time.insert((new, id));
        }
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.by_time.first().map(|(t, _)| *t)
    }

    /// Takes out a session whose deadline is at or before `now`: it is no
    /// longer indexed.
    pub fn pop_due(&mut self, now: Instant) -> Option<SessionId> {
        let &(at, id) = self.by_time.first()?;
        if at > now {
            return None;
        }
        self.by_time.remove(&(at, id));
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_updates_replace() {
        let mut t = Timers::default();
        let (a, b) = (SessionId(1), SessionId(2));
        t.set(a, None, Some(Instant::from_millis(5)));
        t.set(b, None, Some(Instant::from_millis(3)));
        t.set(
            b,
            Some(Instant::from_millis(3)),
            Some(Instant::from_millis(9)),
        );
        assert_eq!(t.next(), Some(Instant::from_millis(5)));
        assert_eq!(t.pop_due(Instant::from_millis(4)), None);
        assert_eq!(t.pop_due(Instant::from_millis(9)), Some(a));
        assert_eq!(t.pop_due(Instant::from_millis(9)), Some(b));
        assert_eq!(t.next(), None);
    }

    #[test]
    fn clearing_removes_and_unchanged_keeps() {
        let mut t = Timers::default();
        let a = SessionId(1);
        let at = Some(Instant::from_millis(5));
        t.set(a, None, at);
        t.set(a, at, at);
        assert_eq!(t.next(), at);
        t.set(a, at, None);
        assert_eq!(t.next(), None);
        assert_eq!(t.pop_due(Instant::from_millis(9)), None);
    }
}
