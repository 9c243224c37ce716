//! The send half's deadline decisions: which messages to abandon, and
//! which resends go twice.
//!
//! Owns: per-stream deadline bookkeeping (how many queued messages carry a
//! live deadline, the earliest of them, the second copies owed), giving up
//! a message that can no longer arrive in time, and passing over what is
//! left of it.
//! Never: touches a stream without deadlines (the record is absent), or
//! tells the peer anything: the stream manager owes the skip.
//!
//! # The rules
//! With `reach` the time one more delivery takes (about half the smoothed
//! round trip plus half its variation) and `round` the time a lost packet
//! takes to be found lost (about 9/8 of the smoothed round trip plus its
//! variation):
//! - a message with units still to send (never sent, or lost) whose
//!   deadline is nearer than `reach` plus the time its unsent units (and
//!   the unsent ones queued before it) take at the rate the sender sends
//!   at (the delivery rate, or the pacing rate where that is higher) is
//!   abandoned, and so is one all in flight once its deadline is nearer
//!   than `reach` (its skip then reaches the peer about at the deadline,
//!   behind the message's own packets). For a message whose first byte
//!   has not left, `reach` is the path's one-way base plus the queue ahead
//!   of it, and its units go at the path's recent rate where that is lower
//!   (see `Clock::with_queue`): whole messages are dropped before a queue
//!   they cannot cross, never one part sent. Whatever of an abandoned
//!   message was sent counts as acknowledged, its lost ranges and second
//!   copies are forgotten, and what was never sent is passed over
//!   (spending credit as if sent). One that never left is dropped unsent.
//! - a lost range of a message whose deadline is less than `round + reach`
//!   away is on its last chance: if this resend is lost too, the next one
//!   cannot arrive in time. It goes twice, the second copy from the next
//!   packet on, so one lost packet does not take both.

use core::ops::Range;

use super::{OutMessage, SendBuf, SendState};
use crate::ranges::RangeSet;
use crate::streams::deadline::Clock;
use crate::time::Instant;

/// Deadline bookkeeping of one stream's send half.
#[derive(Debug, Default)]
pub(crate) struct SendTimed {
    /// Queued messages with a deadline, neither abandoned nor freed.
    pub live: usize,
    /// No live deadline is earlier than this (`None`: unknown, look).
    earliest: Option<Instant>,
    /// Second copies of last-chance resends, owed from the next packet.
    pending_again: RangeSet,
    /// Second copies that may go now.
    pub(super) again: RangeSet,
}

impl SendTimed {
    pub(super) fn on_push(&mut self, deadline: Instant) {
        self.live += 1;
        self.earliest = Some(self.earliest.map_or(deadline, |e| e.min(deadline)));
    }

    pub(super) fn has_again(&self) -> bool {
        !self.again.is_empty()
    }

    /// A lost range of a message with `deadline` was just cut for
    /// resending: on its last chance it is owed a second copy.
    pub(super) fn on_resend(&mut self, deadline: Option<Instant>, c: &Clock, units: Range<u64>) {
        if deadline.is_some_and(|d| c.now + c.round + c.reach >= d) {
            self.pending_again.insert(units);
        }
    }
}

impl SendBuf {
    /// Passes over the unsent rest of abandoned messages at `sent_end`,
    /// within `allowed` units of credit; returns the credit left, or
    /// `None` when an abandoned message's rest needs more than is left.
    pub(super) fn pass_abandoned(&mut self, st: &mut SendState, mut allowed: u64) -> Option<u64> {
        while st.sent_end < st.queued_end {
            let i = self.find_hinted(st.sent_end)?;
            if !self.queue[i].abandoned {
                break;
            }
            let (from, to) = (st.sent_end, self.queue[i].end());
            if to - from > allowed {
                return None;
            }
            allowed -= to - from;
            st.sent_end = to;
            self.on_ack(st, from..to);
        }
        Some(allowed)
    }

    /// The message index and range of the next second copy owed, if any
    /// (copies of messages freed or abandoned since are forgotten here).
    pub(super) fn next_again(&mut self) -> Option<(usize, Range<u64>)> {
        loop {
            let r = self.timed.as_ref()?.again.min()?;
            match self.find(r.start) {
                Some(i) if !self.queue[i].abandoned => return Some((i, r)),
                _ => self.timed.as_mut()?.again.remove(r),
            }
        }
    }

    /// Second copies owed since the last packet may go from now on; true
    /// if there are any.
    pub fn arm_again(&mut self) -> bool {
        let Some(t) = self.timed.as_mut() else {
            return false;
        };
        while let Some(r) = t.pending_again.pop_min() {
            t.again.insert(r);
        }
        !t.again.is_empty()
    }

    /// The earliest deadline of a queued message not yet decided.
    pub fn earliest_deadline(&self) -> Option<Instant> {
        self.timed.as_ref().filter(|t| t.live > 0)?.earliest
    }

    /// True while a queued message carries a deadline not yet decided.
    pub fn has_deadlines(&self) -> bool {
        self.timed.as_ref().is_some_and(|t| t.live > 0)
    }

    /// Abandons the messages that can no longer arrive in time (see the
    /// module notes), telling `report` each one's sequence number and
    /// whether any of it was sent. Returns the end unit of the last one
    /// abandoned, which a skip must reach.
    pub fn expire(
        &mut self,
        st: &mut SendState,
        c: &Clock,
        mut report: impl FnMut(u64, bool),
    ) -> Option<u64> {
        let SendBuf {
            queue,
            acked,
            lost,
            timed,
            ..
        } = self;
        let t = timed.as_mut()?;
        // No message needs more sending time than everything unsent.
        let most = c.sending_first(st.queued_end - st.sent_end);
        if t.live == 0 || t.earliest.is_some_and(|e| c.now + c.first + most < e) {
            return None;
        }
        let mut earliest: Option<Instant> = None;
        let mut end = None;
        // Sent parts to count as acknowledged; rarely more than one.
        let mut sent_parts: heapless::Vec<Range<u64>, 4> = heapless::Vec::new();
        let mut overflow = false;
        // Unsent units of abandoned messages, which are passed over, not
        // sent: they take no time.
        let mut dead = 0;
        let unsent = |m: &OutMessage| m.end().saturating_sub(m.start.max(st.sent_end));
        for m in queue.iter_mut() {
            if m.abandoned {
                dead += unsent(m);
                continue;
            }
            let Some(d) = m.deadline else {
                continue;
            };
            // Bytes still to send (never sent, or lost) decide early. A
            // message all in flight is given up one delivery before its
            // deadline: nothing sent after that arrives in time, and the
            // skip then reaches the peer about when the deadline passes,
            // behind the message's own packets (so a message those packets
            // complete is still delivered) and before the next message's
            // deadline (so that one is not held behind this one).
            let range = m.start..m.end();
            let pending = st.sent_end < m.end() || lost.iter_within(range).next().is_some();
            let to_go = if pending {
                m.end().saturating_sub(st.sent_end).saturating_sub(dead)
            } else {
                0
            };
            // One never sent waits behind the path's queue too, and goes
            // at the rate the path delivers now.
            let give_up = if m.start >= st.sent_end {
                c.now + c.first + c.sending_first(to_go) >= d
            } else {
                c.now + c.reach + c.sending(to_go) >= d
            };
            if !give_up {
                earliest = Some(earliest.map_or(d, |e| e.min(d)));
                continue;
            }
            t.live -= 1;
            if m.end() <= st.acked_prefix || acked.contains_range(m.start..m.end()) {
                // All of it arrived: nothing to give up.
                m.deadline = None;
                continue;
            }
            abandon(m, st, lost, t, &mut sent_parts, &mut overflow);
            dead += unsent(m);
            report(m.seq, m.start < st.sent_end);
            end = Some(m.end());
        }
        t.earliest = earliest;
        for r in sent_parts {
            self.on_ack(st, r);
        }
        if overflow {
            // More sent parts than the list holds: count every abandoned
            // message's sent part (acknowledging twice is harmless).
            let parts: alloc::vec::Vec<Range<u64>> = self
                .queue
                .iter()
                .filter(|m| m.abandoned && m.start < st.sent_end)
                .map(|m| m.start..m.end().min(st.sent_end))
                .collect();
            for r in parts {
                self.on_ack(st, r);
            }
        }
        end
    }
}

/// Gives up message `m`: nothing more of it is resent, and what was sent
/// is to be counted as acknowledged (`sent_parts`).
fn abandon(
    m: &mut OutMessage,
    st: &SendState,
    lost: &mut RangeSet,
    t: &mut SendTimed,
    sent_parts: &mut heapless::Vec<Range<u64>, 4>,
    overflow: &mut bool,
) {
    m.abandoned = true;
    let all = m.start..m.end();
    lost.remove(all.clone());
    t.again.remove(all.clone());
    t.pending_again.remove(all);
    if m.start < st.sent_end {
        let part = m.start..m.end().min(st.sent_end);
        if sent_parts.push(part).is_err() {
            *overflow = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use core::time::Duration;

    fn clock(ms: u64) -> Clock {
        // 60 ms round trip, no variation: reach 30 ms, round 67.5 ms.
        Clock::new(
            Instant::from_millis(ms),
            Duration::from_millis(60),
            Duration::ZERO,
            0,
        )
    }

    fn msg(n: usize) -> Bytes {
        Bytes::from(alloc::vec![1u8; n])
    }

    fn expire_all(b: &mut SendBuf, st: &mut SendState, c: &Clock) -> alloc::vec::Vec<(u64, bool)> {
        let mut out = alloc::vec::Vec::new();
        b.expire(st, c, |seq, sent| out.push((seq, sent)));
        out
    }

    /// One 10-byte message due at 150 ms, sent whole in one chunk, and
    /// that chunk declared lost.
    fn sent_whole_then_lost() -> (SendBuf, SendState, super::super::Chunk) {
        let (mut b, mut st) = (SendBuf::default(), SendState::default());
        b.push_until(&mut st, msg(10), Some(Instant::from_millis(150)));
        let c = b
            .next_chunk(&mut st, |_| Some(1000), u64::MAX, None)
            .unwrap();
        b.on_lost(&st, c.units());
        (b, st, c)
    }

    #[test]
    fn an_unsent_message_past_reach_is_dropped_and_passed_over() {
        let (mut b, mut st) = (SendBuf::default(), SendState::default());
        b.push_until(&mut st, msg(10), Some(Instant::from_millis(100)));
        b.push_until(&mut st, msg(10), None);
        // 80 ms: the deadline is 20 ms away, less than the 30 ms reach.
        assert_eq!(expire_all(&mut b, &mut st, &clock(80)), [(0, false)]);
        let c = b
            .next_chunk(&mut st, |_| Some(1000), u64::MAX, None)
            .unwrap();
        assert_eq!((c.seq, c.units()), (1, 11..22), "the reliable one goes");
        assert_eq!(st.sent_end, 22);
        assert_eq!(st.acked_prefix, 11, "the dropped one counts as done");
        assert_eq!(b.skip_point(&st), (11, 1));
    }

    #[test]
    fn a_sent_message_stops_being_resent_once_it_cannot_make_it() {
        let (mut b, mut st) = (SendBuf::default(), SendState::default());
        b.push_until(&mut st, msg(10), Some(Instant::from_millis(100)));
        let c = b.next_chunk(&mut st, |_| Some(4), u64::MAX, None).unwrap();
        b.on_lost(&st, c.units());
        assert!(b.has_lost());
        assert!(
            expire_all(&mut b, &mut st, &clock(50)).is_empty(),
            "still in time"
        );
        assert_eq!(expire_all(&mut b, &mut st, &clock(71)), [(0, true)]);
        assert!(!b.has_lost(), "no resend of an abandoned message");
        // Its unsent rest is passed over, spending credit like data.
        assert!(b.next_chunk(&mut st, |_| Some(1000), 6, None).is_none());
        assert_eq!(st.sent_end, 4, "six units of credit do not cover seven");
        assert!(b.next_chunk(&mut st, |_| Some(1000), 7, None).is_none());
        assert_eq!((st.sent_end, st.acked_prefix), (11, 11));
        assert!(b.is_drained(&st));
    }

    #[test]
    fn a_resend_on_its_last_chance_goes_twice_from_the_next_packet() {
        let (mut b, mut st, _) = sent_whole_then_lost();
        // 60 ms: 90 ms left, less than 67.5 + 30: the last chance.
        let now = clock(60);
        let r = b
            .next_chunk(&mut st, |_| Some(1000), u64::MAX, Some(&now))
            .unwrap();
        assert_eq!(r.units(), 0..11);
        assert!(!b.has_lost(), "the second copy waits for the next packet");
        assert!(b.arm_again());
        let again = b
            .next_chunk(&mut st, |_| Some(1000), u64::MAX, Some(&now))
            .unwrap();
        assert_eq!(again.units(), 0..11);
        assert!(!b.arm_again(), "two copies, not more");
        // Earlier, with time for another round, one copy is enough.
        let (mut b, mut st, _) = sent_whole_then_lost();
        b.next_chunk(&mut st, |_| Some(1000), u64::MAX, Some(&clock(40)))
            .unwrap();
        assert!(!b.arm_again());
    }

    #[test]
    fn a_message_that_cannot_be_sent_in_time_at_the_path_rate_is_dropped() {
        let (mut b, mut st) = (SendBuf::default(), SendState::default());
        b.push_until(&mut st, msg(9_999), Some(Instant::from_millis(100)));
        b.push_until(&mut st, msg(9_999), Some(Instant::from_millis(200)));
        // 100 kB/s: each takes 100 ms to send; 30 ms reach.
        let c = Clock {
            rate: 100_000,
            ..clock(0)
        };
        assert_eq!(expire_all(&mut b, &mut st, &c), [(0, false)]);
        assert!(
            expire_all(&mut b, &mut st, &c).is_empty(),
            "the second fits once the first is gone"
        );
    }

    #[test]
    fn a_message_all_in_flight_is_given_up_one_delivery_before_its_deadline() {
        let (mut b, mut st) = (SendBuf::default(), SendState::default());
        b.push_until(&mut st, msg(10), Some(Instant::from_millis(100)));
        b.next_chunk(&mut st, |_| Some(1000), u64::MAX, None)
            .unwrap();
        // 30 ms reach: a skip sent from 70 ms on arrives about at 100 ms.
        assert!(expire_all(&mut b, &mut st, &clock(69)).is_empty());
        assert_eq!(expire_all(&mut b, &mut st, &clock(70)), [(0, true)]);
    }

    #[test]
    fn a_message_not_started_waits_behind_the_queue_at_the_recent_rate() {
        let (mut b, mut st) = (SendBuf::default(), SendState::default());
        b.push_until(&mut st, msg(9_999), Some(Instant::from_millis(150)));
        b.push_until(&mut st, msg(9_999), Some(Instant::from_millis(200)));
        // The first has started: it goes on at the estimate (1 MB/s).
        b.next_chunk(&mut st, |_| Some(1000), u64::MAX, None)
            .unwrap();
        // 120 ms round trips over a 60 ms floor, 100 kB/s delivered of
        // late, 16 kB in flight: 100 ms queued, 30 ms base; the second
        // needs 130 ms plus 190 ms at 100 kB/s, far past its deadline.
        let c = Clock {
            rate: 1_000_000,
            ..clock(0)
        }
        .with_queue(
            Duration::from_millis(60),
            Duration::from_millis(120),
            100_000,
            16_000,
        );
        assert_eq!(c.first, Duration::from_millis(130));
        assert_eq!(expire_all(&mut b, &mut st, &c), [(1, false)]);
        // No queue in the round trip: the recent rate is not used (an
        // application-limited sender's samples measure what it offered).
        let c = clock(0).with_queue(
            Duration::from_millis(60),
            Duration::from_millis(65),
            100_000,
            16_000,
        );
        assert_eq!((c.first, c.recent), (Duration::from_millis(35), 0));
    }

    #[test]
    fn a_stale_second_copy_does_not_hold_up_new_data() {
        let (mut b, mut st, c) = sent_whole_then_lost();
        let now = clock(60);
        b.next_chunk(&mut st, |_| Some(1000), u64::MAX, Some(&now))
            .unwrap();
        assert!(b.arm_again());
        b.on_ack(&mut st, c.units());
        b.push_until(&mut st, msg(5), None);
        let n = b
            .next_chunk(&mut st, |_| Some(1000), u64::MAX, Some(&now))
            .unwrap();
        assert_eq!(
            (n.seq, n.units()),
            (1, 11..17),
            "the copy of a freed message is dropped"
        );
        assert!(!b.has_lost());
    }

    #[test]
    fn an_acknowledged_message_is_not_reported() {
        let (mut b, mut st) = (SendBuf::default(), SendState::default());
        b.push_until(&mut st, msg(10), None);
        b.push_until(&mut st, msg(10), Some(Instant::from_millis(100)));
        let c0 = b
            .next_chunk(&mut st, |_| Some(1000), u64::MAX, None)
            .unwrap();
        let c1 = b
            .next_chunk(&mut st, |_| Some(1000), u64::MAX, None)
            .unwrap();
        b.on_ack(&mut st, c1.units());
        assert!(expire_all(&mut b, &mut st, &clock(100)).is_empty());
        assert!(!b.has_deadlines());
        b.on_ack(&mut st, c0.units());
        assert!(b.is_drained(&st));
    }
}
