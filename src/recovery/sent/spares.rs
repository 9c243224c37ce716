//! What resting senders give back for the next sender that wakes.
//!
//! Owns: [`Spares`]: boxed busy parts, empty ledger queues with their
//! room, and acknowledgement range lists, each kept by [`Spare`] up to a
//! cap; lending them to a [`Recovery`] and taking them back.
//! Never: keeps a queue or list that grew past a small size (a transfer's
//! ledger is freed as before), or carries state from one sender to the
//! next (a busy part is overwritten whole as it wakes, a queue is empty, a
//! list is cleared before use).

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::ops::Range;

use super::busy::Busy;
use super::slot::Slot;
use super::Recovery;
use crate::spare::Spare;

/// The most records an empty ledger queue may have room for and still be
/// kept: a keep-alive's or a request's, not a transfer's.
const LEDGER_ROOM: usize = 8;

/// The most ranges a spare acknowledgement range list may have room for.
const RANGES_ROOM: usize = 16;

/// Spare allocations for senders of records `T`, lent by the endpoint.
#[derive(Debug)]
pub(crate) struct Spares<T> {
    busy: Spare<Box<Busy>>,
    ledgers: Spare<VecDeque<Slot<T>>>,
    #[allow(clippy::box_collection)]
    ranges: Spare<Box<Vec<Range<u64>>>>,
}

impl<T> Spares<T> {
    /// None kept yet; at most `cap` of each kind.
    pub(crate) fn new(cap: usize) -> Self {
        Spares {
            busy: Spare::new(cap),
            ledgers: Spare::new(cap),
            ranges: Spare::new(cap),
        }
    }

    /// True when nothing is kept.
    pub(crate) fn is_empty(&self) -> bool {
        self.busy.is_empty() && self.ledgers.is_empty() && self.ranges.is_empty()
    }

    /// How many busy parts are kept.
    #[cfg(test)]
    pub(crate) fn busy_kept(&self) -> usize {
        self.busy.len()
    }

    /// Drops what was not taken since the last call.
    pub(crate) fn forget_unused(&mut self) {
        self.busy.forget_unused();
        self.ledgers.forget_unused();
        self.ranges.forget_unused();
    }

    /// A busy part's box, if one is kept (the taker overwrites it).
    pub(super) fn take_busy(&mut self) -> Option<Box<Busy>> {
        self.busy.take()
    }

    /// Keeps a busy part's box.
    pub(super) fn give_busy(&mut self, busy: Box<Busy>) {
        self.busy.give(busy);
    }

    /// An empty ledger queue with room, if one is kept.
    pub(super) fn take_ledger(&mut self) -> Option<VecDeque<Slot<T>>> {
        self.ledgers.take()
    }

    /// Keeps an empty ledger queue if its room is small.
    pub(super) fn give_ledger(&mut self, q: VecDeque<Slot<T>>) {
        if q.is_empty() && (1..=LEDGER_ROOM).contains(&q.capacity()) {
            self.ledgers.give(q);
        }
    }

    /// A range list, if one is kept (the taker clears it).
    #[allow(clippy::box_collection)]
    pub(super) fn take_ranges(&mut self) -> Option<Box<Vec<Range<u64>>>> {
        self.ranges.take()
    }

    /// Keeps a range list if its room is small.
    #[allow(clippy::box_collection)]
    pub(super) fn give_ranges(&mut self, list: Box<Vec<Range<u64>>>) {
        if list.capacity() <= RANGES_ROOM {
            self.ranges.give(list);
        }
    }
}

impl<T> Recovery<T> {
    /// Lends `spares` to this sender, or takes them back (the same swap).
    /// While lent, what the sender allocates to wake comes from them when
    /// they hold it, and what it frees to rest goes to them.
    pub(crate) fn swap_spares(&mut self, spares: &mut Option<Box<Spares<T>>>) {
        core::mem::swap(&mut self.spares, spares);
    }
}
