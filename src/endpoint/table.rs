//! The endpoint's session table: a slab indexed by the low bits of the
//! session id, so routing a datagram to its session costs the same with
//! one session as with ten thousand.
//!
//! Owns: the sessions, each boxed in an [`Entry`] with the endpoint's
//! per-session flags beside it; the slot chosen for a new id.
//! Never: hands out a session for an id that is not its own (the full id
//! is checked on every lookup, so an id from a session that is gone never
//! reaches the one that took its slot), nor picks an id's random bits.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::ids::SessionId;
use crate::session::Session;
use crate::time::Instant;

/// Slot bits at most: four billion sessions, and at least 32 random bits
/// in every id.
const MAX_SLOT_BITS: u32 = 32;

/// A session and what the endpoint keeps about it, side by side so one
/// lookup serves a whole datagram.
#[derive(Debug)]
pub(super) struct Entry {
    pub session: Session,
    /// Its id is in the ready queue.
    pub in_ready: bool,
    /// Changed through `session_mut` and not yet brought up to date.
    pub dirty: bool,
    /// Its deadline may have moved since it was last indexed.
    pub stale: bool,
    /// A responder still in its handshake, listed in the half-open maps.
    pub half_open: bool,
    /// Seen established: its peer's reset token (if any) is indexed.
    pub reset_indexed: bool,
    /// The deadline the timer index holds for it.
    pub deadline: Option<Instant>,
}

impl Entry {
    pub fn new(session: Session) -> Self {
        Entry {
            session,
            in_ready: false,
            dirty: false,
            stale: false,
            half_open: false,
            reset_indexed: false,
            deadline: None,
        }
    }
}

/// Sessions by slot; the slot is the low `bits` of the id.
#[derive(Debug)]
pub(super) struct Table {
    slots: Vec<Option<Box<Entry>>>,
    /// Empty slots below `slots.len()`, the most recently freed last.
    free: Vec<u32>,
    len: usize,
    mask: u64,
    /// Slots at most: `max_sessions`, capped by the slot bits.
    capacity: usize,
}

impl Table {
    /// A table for up to `max_sessions` sessions at once.
    pub fn new(max_sessions: usize) -> Self {
        let bits = (max_sessions.max(1) as u64)
            .checked_next_power_of_two()
            .map_or(MAX_SLOT_BITS, |p| p.trailing_zeros().min(MAX_SLOT_BITS));
        let mask = (1u64 << bits) - 1;
        let slots = usize::try_from(mask).map_or(usize::MAX, |m| m.saturating_add(1));
        Table {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            mask,
            capacity: max_sessions.min(slots),
        }
    }

    /// Sessions held.
    pub fn len(&self) -> usize {
        self.len
    }

    fn slot(&self, id: SessionId) -> usize {
        // The mask keeps at most 32 bits: the cast loses nothing.
        (id.0 & self.mask) as usize
    }

    /// The entry of session `id`.
    pub fn get(&self, id: SessionId) -> Option<&Entry> {
        let e = self.slots.get(self.slot(id))?.as_deref()?;
        (e.session.id() == id).then_some(e)
    }

    /// The entry of session `id`, to change.
    pub fn get_mut(&mut self, id: SessionId) -> Option<&mut Entry> {
        let slot = self.slot(id);
        let e = self.slots.get_mut(slot)?.as_deref_mut()?;
        (e.session.id() == id).then_some(e)
    }

    /// An id for the next session: the slot [`insert`](Self::insert) will
    /// fill, in the low bits, `random`'s other bits above. `None` when the
    /// table is full. The id may be 0: the caller draws again.
    pub fn next_id(&self, random: u64) -> Option<SessionId> {
        let slot = match self.free.last() {
            Some(&s) => s as u64,
            None if self.slots.len() < self.capacity => self.slots.len() as u64,
            None => return None,
        };
        Some(SessionId((random & !self.mask) | slot))
    }

    /// Puts `session` in the slot its id names. `None` (and the session
    /// dropped) if that slot is taken or beyond the table.
    pub fn insert(&mut self, session: Session) -> Option<&mut Entry> {
        let slot = self.slot(session.id());
        if slot == self.slots.len() && slot < self.capacity {
            self.slots.push(None);
        } else if let Some(i) = self.free.iter().rposition(|&s| s as usize == slot) {
            // `next_id` hands out the last free slot: found at once.
            self.free.remove(i);
        } else {
            return None;
        }
        let place @ None = self.slots.get_mut(slot)? else {
            return None;
        };
        self.len += 1;
        Some(place.insert(Box::new(Entry::new(session))))
    }

    /// Takes session `id` out.
    pub fn remove(&mut self, id: SessionId) -> Option<Box<Entry>> {
        let slot = self.slot(id);
        let place = self.slots.get_mut(slot)?;
        if place.as_ref()?.session.id() != id {
            return None;
        }
        let e = place.take()?;
        self.len -= 1;
        // A slot index fits the slot bits, at most 32.
        self.free.push(slot as u32);
        Some(e)
    }

    /// Ids of all sessions, in slot order.
    pub fn ids(&self) -> impl Iterator<Item = SessionId> + '_ {
        self.slots
            .iter()
            .filter_map(|s| s.as_ref().map(|e| e.session.id()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use alloc::sync::Arc;

    fn session(id: SessionId) -> Session {
        let cfg = Config::builder(&[1; 32], &[2; 32]).build().unwrap();
        let addr = "127.0.0.1:4433".parse().unwrap();
        Session::initiator(Arc::new(cfg), id, addr, [3; 32], Instant::from_millis(0)).unwrap()
    }

    #[test]
    fn the_slot_is_in_the_low_bits_and_the_rest_is_random() {
        let t = Table::new(1000);
        assert_eq!(t.mask, 1023);
        let id = t.next_id(0xdead_beef_0000_0fff).unwrap();
        assert_eq!(id, SessionId(0xdead_beef_0000_0c00));
        assert_eq!(Table::new(1).mask, 0);
        assert_eq!(Table::new(usize::MAX).mask, u64::from(u32::MAX));
    }

    #[test]
    fn lookups_check_the_whole_id() {
        let mut t = Table::new(16);
        let a = t.next_id(0x1234_5678_9abc_def0).unwrap();
        t.insert(session(a)).unwrap();
        assert!(t.get(a).is_some());
        // Same slot, other random bits: not this session.
        assert!(t.get(SessionId(a.0 ^ 0x100)).is_none());
        assert!(t.get_mut(SessionId(a.0 ^ 0x100)).is_none());
        assert!(t.remove(SessionId(a.0 ^ 0x100)).is_none());
        // A slot beyond the table.
        assert!(t.get(SessionId(a.0 | 0xf)).is_none());
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn a_freed_slot_serves_a_new_id_and_never_the_old_one() {
        let mut t = Table::new(16);
        let a = t.next_id(0xaaaa_0000).unwrap();
        t.insert(session(a)).unwrap();
        let b = t.next_id(0xbbbb_0000).unwrap();
        t.insert(session(b)).unwrap();
        assert_ne!(a.0 & 0xf, b.0 & 0xf);
        assert_eq!(t.remove(a).unwrap().session.id(), a);
        assert!(t.remove(a).is_none(), "removed once");
        let c = t.next_id(0xcccc_0000).unwrap();
        assert_eq!(c.0 & 0xf, a.0 & 0xf, "the freed slot is reused");
        t.insert(session(c)).unwrap();
        assert!(
            t.get(a).is_none(),
            "the old id does not reach the new session"
        );
        assert_eq!(t.get(c).unwrap().session.id(), c);
        let mut ids: alloc::vec::Vec<_> = t.ids().collect();
        ids.sort();
        let mut want = alloc::vec![b, c];
        want.sort();
        assert_eq!(ids, want);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn a_full_table_gives_no_id_and_a_taken_slot_refuses() {
        let mut t = Table::new(3);
        for r in 1..=3u64 {
            let id = t.next_id(r << 40).unwrap();
            t.insert(session(id)).unwrap();
        }
        assert_eq!(t.next_id(7 << 40), None);
        // Slot 3 exists in the id space (4 slots) but not under the cap.
        assert!(t.insert(session(SessionId((9 << 40) | 3))).is_none());
        // Slot 0 is taken.
        assert!(t.insert(session(SessionId(9 << 40))).is_none());
        assert_eq!(t.len(), 3);
    }
}
