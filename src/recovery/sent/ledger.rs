//! The ledger of sent packets and what is in flight.
//!
//! Owns: the map of sent packets by number ([`Ledger`]: each packet's
//! record until it and everything older is resolved, the largest numbers
//! sent and acknowledged, the check that an acknowledgement names only
//! packets that were sent) and the flight counters ([`InFlight`]: bytes
//! and ack-eliciting packets outstanding, the run of packets that elicit
//! no acknowledgement).
//! Never: decides that a packet is acknowledged or lost (the ack and loss
//! files do, and resolve its record here), or holds a record past the span
//! from the oldest unresolved packet to the newest.

use alloc::collections::VecDeque;
use core::ops::Range;

use super::slot::{Slot, State};
use crate::recovery::{to_u64, RecoveryError};
use crate::time::Instant;

/// Sent packets by increasing number.
#[derive(Debug)]
pub(super) struct Ledger<T> {
    /// Invariant: numbers strictly increase front to back; resolved records
    /// stay as tombstones until everything older is resolved too, and the
    /// front one is never resolved after [`Ledger::pop_resolved`].
    pub(super) slots: VecDeque<Slot<T>>,
    /// The largest number sent and the largest acknowledged, each plus
    /// one (0: none yet): 8 bytes each where an `Option<u64>` takes 16.
    /// A number acknowledged was sent, so it is below `u64::MAX`.
    sent_end: u64,
    acked_end: u64,
}

impl<T> Ledger<T> {
    pub(super) fn new() -> Self {
        Ledger {
            slots: VecDeque::new(),
            sent_end: 0,
            acked_end: 0,
        }
    }

    /// The largest number sent.
    pub(super) fn largest_sent(&self) -> Option<u64> {
        self.sent_end.checked_sub(1)
    }

    /// The largest number acknowledged.
    pub(super) fn largest_acked(&self) -> Option<u64> {
        self.acked_end.checked_sub(1)
    }

    /// True if `pn` is larger than every number sent so far.
    pub(super) fn is_next(&self, pn: u64) -> bool {
        pn >= self.sent_end
    }

    /// Appends the record of a packet whose number passed
    /// [`Ledger::is_next`].
    pub(super) fn push(&mut self, slot: Slot<T>) {
        self.sent_end = slot.pn.saturating_add(1);
        if self.slots.capacity() == 0 {
            // A session that sends now and then (keep-alives, a request)
            // holds one record, not the four a first push would reserve;
            // a busy one doubles from here as usual.
            self.slots.reserve_exact(1);
        }
        self.slots.push_back(slot);
    }

    /// The largest acknowledged number becomes at least `pn`.
    pub(super) fn on_acked_up_to(&mut self, pn: u64) {
        self.acked_end = self.acked_end.max(pn.saturating_add(1));
    }

    /// The number after the largest sent (0 before any).
    pub(super) fn next_pn(&self) -> u64 {
        self.sent_end
    }

    /// Oldest packet number still in the map, or the next one to be sent.
    fn base_pn(&self) -> u64 {
        match self.slots.front() {
            Some(slot) => slot.pn,
            None => self.sent_end,
        }
    }

    /// Index of the first record numbered `pn` or above.
    pub(super) fn index_of_first_at_or_after(&self, pn: u64) -> usize {
        self.slots.partition_point(|s| s.pn < pn)
    }

    /// Indices of the map covered by `r`.
    pub(super) fn index_span(&self, r: &Range<u64>) -> (usize, usize) {
        (
            self.index_of_first_at_or_after(r.start),
            self.index_of_first_at_or_after(r.end),
        )
    }

    /// Every number in `ranges` must have been sent: at or below the largest
    /// sent and, inside the map's span, present in the map.
    pub(super) fn validate(&self, ranges: &[Range<u64>]) -> Result<(), RecoveryError> {
        let base = self.base_pn();
        for r in ranges {
            let Some(largest) = self.largest_sent() else {
                return Err(RecoveryError::AckOfUnsentPacket(r.start));
            };
            if r.end - 1 > largest {
                return Err(RecoveryError::AckOfUnsentPacket(r.start.max(largest + 1)));
            }
            let start = r.start.max(base);
            if start >= r.end {
                continue;
            }
            let i = self.index_of_first_at_or_after(start);
            let j = self.index_of_first_at_or_after(r.end);
            if to_u64(j - i) != r.end - start {
                let mut expected = start;
                for slot in self.slots.range(i..j) {
                    if slot.pn != expected {
                        break;
                    }
                    expected += 1;
                }
                return Err(RecoveryError::AckOfUnsentPacket(expected));
            }
        }
        Ok(())
    }

    /// Frees resolved packets at the front of the map.
    pub(super) fn pop_resolved(&mut self) {
        while self
            .slots
            .front()
            .is_some_and(|s| !matches!(s.state, State::Outstanding(_)))
        {
            self.slots.pop_front();
        }
    }

    /// Unresolved packets, oldest first, with what they carry.
    pub(super) fn outstanding(&self) -> impl Iterator<Item = (u64, &T)> + '_ {
        self.slots.iter().filter_map(|s| match &s.state {
            State::Outstanding(info) => Some((s.pn, info)),
            _ => None,
        })
    }
}

/// What is in flight, counted as packets are sent and resolved.
#[derive(Debug)]
pub(super) struct InFlight {
    /// Bytes of congestion-controlled ack-eliciting packets unresolved.
    pub(super) bytes: u64,
    /// Ack-eliciting packets unresolved, size probes included.
    pub(super) eliciting: usize,
    /// When the latest ack-eliciting packet was sent.
    pub(super) last_eliciting_sent: Option<Instant>,
    non_eliciting_in_row: u32,
    elicit_ack_after: u32,
}

impl InFlight {
    pub(super) fn new(elicit_ack_after: u32) -> Self {
        InFlight {
            bytes: 0,
            eliciting: 0,
            last_eliciting_sent: None,
            non_eliciting_in_row: 0,
            elicit_ack_after,
        }
    }

    /// Bytes in flight once a packet of `bytes` is sent.
    pub(super) fn after_sending(&self, bytes: u64, ack_eliciting: bool) -> u64 {
        if ack_eliciting {
            self.bytes.saturating_add(bytes)
        } else {
            self.bytes
        }
    }

    /// A packet of `bytes` bytes was sent at `now`; a size `probe` is
    /// ack-eliciting but not counted in bytes.
    pub(super) fn on_sent(&mut self, now: Instant, bytes: u64, ack_eliciting: bool, probe: bool) {
        if !ack_eliciting {
            self.non_eliciting_in_row = self.non_eliciting_in_row.saturating_add(1);
            return;
        }
        if !probe {
            self.bytes = self.bytes.saturating_add(bytes);
        }
        self.eliciting += 1;
        self.last_eliciting_sent = Some(now);
        self.non_eliciting_in_row = 0;
    }

    /// The packet recorded in `slot` was resolved (acknowledged or lost):
    /// it no longer counts.
    pub(super) fn release<T>(&mut self, slot: &Slot<T>) {
        if !slot.ack_eliciting {
            return;
        }
        if !slot.probe {
            self.bytes = self.bytes.saturating_sub(u64::from(slot.bytes));
        }
        self.eliciting = self.eliciting.saturating_sub(1);
    }

    /// Nothing is in flight any more (every packet was resolved at once).
    pub(super) fn clear(&mut self) {
        self.bytes = 0;
        self.eliciting = 0;
    }

    /// True after `elicit_ack_after` non-ack-eliciting packets in a row.
    pub(super) fn should_elicit_ack(&self) -> bool {
        self.non_eliciting_in_row >= self.elicit_ack_after
    }
}
