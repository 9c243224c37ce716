//! The endpoint's spare allocations, lent to one session at a time.
//!
//! Owns: [`Spares`]: what sessions gave back as they rested (scratch
//! buffers, pacers, and the sender's kinds in `recovery/sent/spares.rs`),
//! lending it to a session for one call, and when what sat unused is
//! forgotten.
//! Never: is held by a session between calls (the endpoint lends and takes
//! back around every call), keeps a buffer that grew past a small size,
//! or changes what a session does: a spare is cleared or overwritten
//! whole before use, so a session woken from spares behaves as one woken
//! from fresh allocations.
//!
//! Sessions rest together and wake together (a keep-alive round, a burst
//! of requests), more at once than an allocator's per-size cache holds;
//! at a hundred thousand sessions its slow path walks cold memory.

use alloc::boxed::Box;
use core::time::Duration;

use super::{Scratch, SentInfo, Session};
use crate::recovery::sent::Spares as SenderSpares;
use crate::recovery::Pacer;
use crate::spare::Spare;
use crate::time::Instant;

/// How long a spare may sit untaken before it is freed: between one and
/// two of these.
const FORGET_AFTER: Duration = Duration::from_secs(1);

/// The most of each kind kept, whatever the session limit.
const MAX_KEPT: usize = 256;

/// The most outcomes or acknowledgement ranges a spare scratch may have
/// room for.
const SCRATCH_ROOM: usize = 16;

/// Spare allocations of the session's own kinds.
#[derive(Debug)]
pub(super) struct SessionSpares {
    scratch: Spare<Box<Scratch>>,
    pacers: Spare<Box<Pacer>>,
}

/// An endpoint's spare allocations.
#[derive(Debug)]
pub(crate) struct Spares {
    session: Option<Box<SessionSpares>>,
    sender: Option<Box<SenderSpares<SentInfo>>>,
    /// When what was not taken is next forgotten; `None` while nothing is
    /// kept.
    forget_at: Option<Instant>,
}

impl Spares {
    /// Spares for an endpoint of at most `max_sessions` sessions: as many
    /// of each kind as it has sessions, at most [`MAX_KEPT`].
    pub(crate) fn new(max_sessions: usize) -> Self {
        let cap = max_sessions.min(MAX_KEPT);
        Spares {
            session: Some(Box::new(SessionSpares {
                scratch: Spare::new(cap),
                pacers: Spare::new(cap),
            })),
            sender: Some(Box::new(SenderSpares::new(cap))),
            forget_at: None,
        }
    }

    /// When [`Spares::on_time`] next has something to free.
    pub(crate) fn forget_at(&self) -> Option<Instant> {
        self.forget_at
    }

    /// Frees what sat untaken for a period, if one ended by `now`, and
    /// starts a period if something is kept and none runs. Call after
    /// sessions ran (they may have given spares back).
    pub(crate) fn on_time(&mut self, now: Instant) {
        let ended = self.forget_at.is_some_and(|t| now >= t);
        if ended {
            if let Some(s) = &mut self.session {
                s.scratch.forget_unused();
                s.pacers.forget_unused();
            }
            if let Some(s) = &mut self.sender {
                s.forget_unused();
            }
        }
        if ended || self.forget_at.is_none() {
            self.forget_at = self.holds().then(|| now + FORGET_AFTER);
        }
    }

    /// How many busy parts are kept.
    #[cfg(test)]
    pub(crate) fn busy_kept(&self) -> usize {
        self.sender.as_ref().map_or(0, |s| s.busy_kept())
    }

    /// True when anything is kept.
    fn holds(&self) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| !s.scratch.is_empty() || !s.pacers.is_empty())
            || self.sender.as_ref().is_some_and(|s| !s.is_empty())
    }
}

impl Session {
    /// Lends `spares` to this session, or takes them back (the same swap).
    pub(crate) fn swap_spares(&mut self, spares: &mut Spares) {
        core::mem::swap(&mut self.spares, &mut spares.session);
        self.recovery.swap_spares(&mut spares.sender);
    }

    /// A spare scratch, if lent and kept (its buffers empty).
    pub(super) fn spare_scratch(&mut self) -> Option<Box<Scratch>> {
        self.spares.as_mut()?.scratch.take()
    }

    /// A spare pacer box, if lent and kept (the taker overwrites it).
    pub(super) fn spare_pacer(&mut self) -> Option<Box<Pacer>> {
        self.spares.as_mut()?.pacers.take()
    }

    /// Gives the scratch buffers and the pacer to the lent spares, if
    /// any, instead of freeing them (a scratch only if its buffers are
    /// small); either way the session no longer holds them.
    pub(super) fn give_spares(&mut self) {
        let (scratch, pacer) = (self.scratch.take(), self.pacer.take());
        let Some(s) = &mut self.spares else {
            return;
        };
        if let Some(mut scratch) = scratch {
            if scratch.outcomes.capacity() <= SCRATCH_ROOM
                && scratch.ack_ranges.capacity() <= SCRATCH_ROOM
            {
                scratch.outcomes.clear();
                scratch.ack_ranges.clear();
                s.scratch.give(scratch);
            }
        }
        if let Some(pacer) = pacer {
            s.pacers.give(pacer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn give_scratch(s: &mut Spares) {
        s.session.as_mut().unwrap().scratch.give(Box::default());
    }

    #[test]
    fn frees_what_sat_untaken_for_a_whole_period() {
        let t0 = Instant::from_millis(5_000);
        let mut s = Spares::new(1_000);
        s.on_time(t0);
        assert_eq!(s.forget_at(), None, "nothing kept, nothing to free");
        give_scratch(&mut s);
        give_scratch(&mut s);
        s.on_time(t0);
        assert_eq!(s.forget_at(), Some(t0 + FORGET_AFTER));
        // Before the period ends nothing changes.
        s.on_time(t0 + FORGET_AFTER / 2);
        assert_eq!(s.forget_at(), Some(t0 + FORGET_AFTER));
        // Given in the period that ended: kept through the next one.
        s.on_time(t0 + FORGET_AFTER);
        assert!(s.holds());
        // One taken in the next period: the other was never needed.
        let part = s.session.as_mut().unwrap();
        assert!(part.scratch.take().is_some());
        s.on_time(t0 + FORGET_AFTER * 2);
        assert!(!s.holds());
        assert_eq!(s.forget_at(), None);
    }

    #[test]
    fn keeps_no_more_than_the_session_limit_or_the_cap() {
        let mut s = Spares::new(3);
        for _ in 0..5 {
            give_scratch(&mut s);
        }
        let part = s.session.as_mut().unwrap();
        let mut n = 0;
        while part.scratch.take().is_some() {
            n += 1;
        }
        assert_eq!(n, 3);
        let mut s = Spares::new(1_000_000);
        for _ in 0..MAX_KEPT + 1 {
            give_scratch(&mut s);
        }
        let part = s.session.as_mut().unwrap();
        let mut n = 0;
        while part.scratch.take().is_some() {
            n += 1;
        }
        assert_eq!(n, MAX_KEPT);
    }
}
