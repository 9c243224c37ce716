//! The send half of one stream: queued messages, what has been sent, what was
//! acknowledged, and what must be sent again.
//!
//! Owns: fragmentation of messages into frame-sized chunks, the stream's
//! offset space, and retransmission of lost ranges.
//! Never: decides *when* to send (the scheduler does), encodes bytes (the wire
//! layer does) or copies payloads: messages are kept as `Bytes` and handed out
//! as slices.
//!
//! # Offset space
//! Every message occupies `len + 1` units of the stream's offset space: its
//! bytes and one end-of-message unit. The end unit travels in the same frame
//! as the message's last byte (or alone, for an empty message), so a range of
//! units always maps to whole frames and an empty message still has something
//! to acknowledge. Flow control counts units too: one unit of framing per
//! message, like a length prefix.

use alloc::collections::VecDeque;
use bytes::Bytes;
use core::ops::Range;

use super::deadline::Clock;
use crate::ranges::RangeSet;
use crate::time::Instant;

mod expire;

/// One queued message.
#[derive(Debug)]
struct OutMessage {
    seq: u64,
    /// Unit offset of the first byte.
    start: u64,
    data: Bytes,
    /// When it is worth nothing any more (`None`: reliable, or its
    /// deadline no longer matters because all of it was acknowledged).
    deadline: Option<Instant>,
    /// Given up: nothing more of it is sent, and what was sent counts as
    /// acknowledged (see `expire`).
    abandoned: bool,
}

impl OutMessage {
    /// One past the end unit.
    fn end(&self) -> u64 {
        self.start + self.data.len() as u64 + 1
    }
}

/// The header fields of the chunk about to be cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkHead {
    /// Unit offset of the first data byte.
    pub offset: u64,
    /// Message sequence number.
    pub seq: u64,
    /// Total length of the message.
    pub msg_len: u64,
    /// Offset of the chunk inside its message.
    pub frag_offset: u64,
}

/// A piece of one message, ready to be framed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Unit offset of the first data byte (the frame's `offset`).
    pub offset: u64,
    /// Message sequence number.
    pub seq: u64,
    /// Total length of the message.
    pub msg_len: u64,
    /// Offset of `data` inside its message.
    pub frag_offset: u64,
    /// The bytes (a slice of the queued message, no copy).
    pub data: Bytes,
}

impl Chunk {
    /// Units this chunk covers: its bytes, plus the end unit if it carries the
    /// message's last byte.
    pub fn units(&self) -> Range<u64> {
        let last = self.frag_offset + self.data.len() as u64 == self.msg_len;
        self.offset..self.offset + self.data.len() as u64 + u64::from(last)
    }
}

/// Send-side buffers of a stream. Allocated only while the stream has
/// something queued or unacknowledged, so idle streams stay small.
#[derive(Debug, Default)]
pub struct SendBuf {
    /// Messages not yet fully acknowledged, by increasing `start`.
    queue: VecDeque<OutMessage>,
    /// Units acknowledged beyond `acked_prefix`.
    acked: RangeSet,
    /// Units sent, then declared lost, and not acknowledged since.
    lost: RangeSet,
    /// Index in `queue` of the message new data was last cut from: where
    /// the next new chunk most likely starts (checked before use).
    hint: usize,
    /// Deadline bookkeeping, from the first message with a deadline on;
    /// a stream without deadlines pays this pointer.
    timed: Option<alloc::boxed::Box<expire::SendTimed>>,
}

/// Counters of the send half (held in full by a busy stream, packed by an
/// idle one: see `stream::Idle`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SendState {
    /// Next message sequence number (`sequence` in the statistics).
    pub next_seq: u64,
    /// Units queued so far (end of the last queued message).
    pub queued_end: u64,
    /// Units below this were sent at least once.
    pub sent_end: u64,
    /// Every unit below this is acknowledged.
    pub acked_prefix: u64,
    /// The peer's limit for this stream (`MAX_STREAM_DATA`).
    pub max_data: u64,
}

impl SendState {
    /// Units queued and not yet acknowledged.
    pub fn unacked(&self) -> u64 {
        self.queued_end - self.acked_prefix
    }

    /// Units the peer still lets us send for the first time.
    pub fn credit(&self) -> u64 {
        self.max_data.saturating_sub(self.sent_end)
    }
}

impl SendBuf {
    /// Queues one message; returns its sequence number.
    #[cfg(test)]
    pub fn push(&mut self, st: &mut SendState, data: Bytes) -> u64 {
        self.push_until(st, data, None)
    }

    /// Queues one message that is worth nothing after `deadline` (if
    /// given); returns its sequence number.
    pub fn push_until(
        &mut self,
        st: &mut SendState,
        data: Bytes,
        deadline: Option<Instant>,
    ) -> u64 {
        let seq = st.next_seq;
        let start = st.queued_end;
        st.next_seq += 1;
        st.queued_end = start + data.len() as u64 + 1;
        if let Some(d) = deadline {
            self.timed.get_or_insert_default().on_push(d);
        }
        self.queue.push_back(OutMessage {
            seq,
            start,
            data,
            deadline,
            abandoned: false,
        });
        seq
    }

    /// True if lost data (or a second copy of a resend on its last
    /// chance) waits to be sent.
    pub fn has_lost(&self) -> bool {
        !self.lost.is_empty() || self.timed.as_ref().is_some_and(|t| t.has_again())
    }

    /// Where a skip sent now takes the peer: the start and sequence number
    /// of the first message not yet acknowledged or abandoned in whole
    /// (every message before it is one or the other).
    pub fn skip_point(&self, st: &SendState) -> (u64, u64) {
        match self.queue.front() {
            Some(m) => (m.start, m.seq),
            None => (st.acked_prefix, st.next_seq),
        }
    }

    /// True if never-sent data waits (flow control permitting).
    pub fn has_unsent(st: &SendState) -> bool {
        st.sent_end < st.queued_end
    }

    /// True when nothing is queued or unacknowledged: the buffer may be freed.
    pub fn is_drained(&self, st: &SendState) -> bool {
        self.queue.is_empty() && st.acked_prefix == st.queued_end
    }

    /// Index of the message containing unit `offset`, trying the hint and
    /// the message after it before searching.
    fn find_hinted(&mut self, offset: u64) -> Option<usize> {
        for i in [self.hint, self.hint + 1] {
            if self
                .queue
                .get(i)
                .is_some_and(|m| m.start <= offset && offset < m.end())
            {
                self.hint = i;
                return Some(i);
            }
        }
        let i = self.find(offset)?;
        self.hint = i;
        Some(i)
    }

    /// Index of the message containing unit `offset`.
    fn find(&self, offset: u64) -> Option<usize> {
        let i = self.queue.partition_point(|m| m.end() <= offset);
        (i < self.queue.len() && self.queue[i].start <= offset).then_some(i)
    }

    /// The next chunk to send. Retransmissions come first. `fit` is told the
    /// chunk's header fields and answers how many data bytes fit (the frame
    /// header's size depends on them), or `None` if not even the header does. `new_data_allowed` caps how many units
    /// of never-sent data may go (flow control); retransmissions are not
    /// capped. `None` when nothing is due or nothing fits.
    ///
    /// `clock` (given while the session has deadline streams) marks a
    /// resend on its last chance for a second copy (see `expire`);
    /// abandoned messages are passed over, their unsent units spending
    /// credit as if sent, since the peer counts them once it skips them.
    pub fn next_chunk(
        &mut self,
        st: &mut SendState,
        fit: impl FnOnce(&ChunkHead) -> Option<usize>,
        mut new_data_allowed: u64,
        clock: Option<&Clock>,
    ) -> Option<Chunk> {
        // Lost ranges first: drop any part acknowledged since.
        while let Some(r) = self.lost.min() {
            let Some(i) = self.find(r.start) else {
                // Already freed, hence acknowledged.
                self.lost.remove(r);
                continue;
            };
            let chunk = self.cut(i, r, fit)?;
            self.lost.remove(chunk.units());
            if let (Some(t), Some(c)) = (self.timed.as_mut(), clock) {
                t.on_resend(self.queue[i].deadline, c, chunk.units());
            }
            return Some(chunk);
        }
        if let Some((i, r)) = self.next_again() {
            let chunk = self.cut(i, r, fit)?;
            if let Some(t) = self.timed.as_mut() {
                t.again.remove(chunk.units());
            }
            return Some(chunk);
        }
        if self.timed.is_some() {
            new_data_allowed = self.pass_abandoned(st, new_data_allowed)?;
        }
        if st.sent_end >= st.queued_end || new_data_allowed == 0 {
            return None;
        }
        let i = self.find_hinted(st.sent_end)?;
        let limit = st.sent_end.saturating_add(new_data_allowed);
        let chunk = self.cut(i, st.sent_end..limit.min(st.queued_end), fit)?;
        st.sent_end = chunk.units().end;
        Some(chunk)
    }

    /// Cuts a chunk from message `i` starting at `units.start`, within
    /// `units`, at most `max_bytes` data bytes. `None` if no unit fits.
    ///
    /// Invariant kept here: the end unit is only included together with the
    /// message's last byte, and only if `units` covers it; so a chunk never
    /// exceeds the flow-control limit by its end unit.
    fn cut(
        &self,
        i: usize,
        units: Range<u64>,
        fit: impl FnOnce(&ChunkHead) -> Option<usize>,
    ) -> Option<Chunk> {
        let m = self.queue.get(i)?;
        let len = m.data.len() as u64;
        let frag_offset = units.start.checked_sub(m.start)?;
        let max_bytes = fit(&ChunkHead {
            offset: units.start,
            seq: m.seq,
            msg_len: len,
            frag_offset,
        })?;
        let end_unit = m.start + len;
        let avail = units.end.min(end_unit).saturating_sub(units.start);
        let mut take = avail.min(max_bytes as u64);
        if frag_offset + take == len && units.end <= end_unit {
            // The end unit is not ours to send: hold the last byte back.
            take = take.saturating_sub(1);
            if take == 0 {
                return None;
            }
        }
        if take == 0 && frag_offset + take != len {
            return None;
        }
        let from = frag_offset as usize;
        let to = (frag_offset + take) as usize;
        Some(Chunk {
            offset: units.start,
            seq: m.seq,
            msg_len: len,
            frag_offset,
            data: m.data.slice(from..to),
        })
    }

    /// Records that `units` were acknowledged; frees fully acknowledged
    /// messages. Returns how many messages were freed.
    pub fn on_ack(&mut self, st: &mut SendState, units: Range<u64>) -> usize {
        if units.end <= st.acked_prefix {
            return 0;
        }
        if !self.lost.is_empty() {
            self.lost.remove(units.clone());
        }
        if units.start <= st.acked_prefix && self.acked.is_empty() {
            // In order (the common case): the prefix grows, no set to keep.
            st.acked_prefix = units.end;
        } else {
            self.acked
                .insert(units.start.max(st.acked_prefix)..units.end);
            if let Some(first) = self.acked.min() {
                if first.start <= st.acked_prefix {
                    st.acked_prefix = first.end;
                    self.acked.pop_min();
                }
            }
        }
        let mut freed = 0;
        while self
            .queue
            .front()
            .is_some_and(|m| m.end() <= st.acked_prefix)
        {
            if let Some(m) = self.queue.pop_front() {
                if m.deadline.is_some() && !m.abandoned {
                    if let Some(t) = self.timed.as_mut() {
                        t.live -= 1;
                    }
                }
            }
            freed += 1;
        }
        self.hint = self.hint.saturating_sub(freed);
        freed
    }

    /// The first `messages` messages went ahead of the stream, in a
    /// handshake the peer accepted (0-RTT early data): they count as
    /// sent and acknowledged, so they are never sent again. Returns the
    /// units they take (credit spent), or `None` (and changes nothing)
    /// unless the stream has sent nothing yet and queues at least that
    /// many messages from sequence 0.
    pub fn settle_early(&mut self, st: &mut SendState, messages: u64) -> Option<u64> {
        let n = usize::try_from(messages).ok()?;
        if n == 0 || st.sent_end != 0 || st.acked_prefix != 0 {
            return None;
        }
        let last = self.queue.get(n - 1)?;
        if last.seq != messages - 1 || self.queue.front().map(|m| m.seq) != Some(0) {
            return None;
        }
        let end = last.end();
        st.sent_end = end;
        self.on_ack(st, 0..end);
        Some(end)
    }

    /// Records that `units` were declared lost: what is not acknowledged by
    /// now goes back for retransmission.
    pub fn on_lost(&mut self, st: &SendState, units: Range<u64>) {
        let start = units.start.max(st.acked_prefix);
        if start >= units.end {
            return;
        }
        self.lost.insert(start..units.end);
        // Usually empty, and an empty collect does not allocate.
        let acked: alloc::vec::Vec<_> = self.acked.iter_within(start..units.end).collect();
        for r in acked {
            self.lost.remove(r);
        }
    }

    /// Drops everything (stream reset).
    pub fn clear(&mut self) {
        self.queue.clear();
        self.hint = 0;
        self.acked.clear();
        self.lost.clear();
        self.timed = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn msg(n: usize, b: u8) -> Bytes {
        Bytes::from(alloc::vec![b; n])
    }

    #[test]
    fn fragments_a_large_message_and_marks_the_end_unit() {
        let (mut b, mut st) = (SendBuf::default(), SendState::default());
        assert_eq!(b.push(&mut st, msg(2500, 1)), 0);
        let mut chunks = Vec::new();
        while let Some(c) = b.next_chunk(&mut st, |_| Some(1000), u64::MAX, None) {
            chunks.push(c);
        }
        let lens: Vec<_> = chunks.iter().map(|c| c.data.len()).collect();
        assert_eq!(lens, [1000, 1000, 500]);
        assert_eq!(chunks[2].units(), 2000..2501);
        assert_eq!(chunks[1].frag_offset, 1000);
        assert_eq!(st.sent_end, 2501);
    }

    #[test]
    fn empty_message_is_one_unit() {
        let (mut b, mut st) = (SendBuf::default(), SendState::default());
        b.push(&mut st, Bytes::new());
        b.push(&mut st, msg(3, 2));
        let c0 = b
            .next_chunk(&mut st, |_| Some(100), u64::MAX, None)
            .unwrap();
        assert_eq!((c0.seq, c0.data.len(), c0.units()), (0, 0, 0..1));
        let c1 = b
            .next_chunk(&mut st, |_| Some(100), u64::MAX, None)
            .unwrap();
        assert_eq!((c1.seq, c1.offset, c1.units()), (1, 1, 1..5));
    }

    #[test]
    fn flow_control_caps_new_data_only() {
        let (mut b, mut st) = (SendBuf::default(), SendState::default());
        b.push(&mut st, msg(100, 1));
        let c = b.next_chunk(&mut st, |_| Some(1000), 40, None).unwrap();
        assert_eq!(c.data.len(), 40);
        assert_eq!(c.units(), 0..40);
        assert!(b.next_chunk(&mut st, |_| Some(1000), 0, None).is_none());
        b.on_lost(&st, c.units());
        let r = b.next_chunk(&mut st, |_| Some(1000), 0, None).unwrap();
        assert_eq!(r.units(), 0..40, "retransmission ignores the credit");
    }

    #[test]
    fn acks_free_messages_and_cancel_retransmissions() {
        let (mut b, mut st) = (SendBuf::default(), SendState::default());
        b.push(&mut st, msg(10, 1));
        b.push(&mut st, msg(10, 2));
        let c0 = b
            .next_chunk(&mut st, |_| Some(1000), u64::MAX, None)
            .unwrap();
        let c1 = b
            .next_chunk(&mut st, |_| Some(1000), u64::MAX, None)
            .unwrap();
        b.on_lost(&st, c0.units());
        b.on_lost(&st, c1.units());
        assert_eq!(
            b.on_ack(&mut st, c1.units()),
            0,
            "first message still unacked"
        );
        let r = b
            .next_chunk(&mut st, |_| Some(1000), u64::MAX, None)
            .unwrap();
        assert_eq!(r.seq, 0);
        assert!(b
            .next_chunk(&mut st, |_| Some(1000), u64::MAX, None)
            .is_none());
        assert_eq!(b.on_ack(&mut st, r.units()), 2);
        assert!(b.is_drained(&st));
    }

    #[test]
    fn end_unit_never_exceeds_credit() {
        let (mut b, mut st) = (SendBuf::default(), SendState::default());
        b.push(&mut st, msg(10, 1));
        let c = b.next_chunk(&mut st, |_| Some(1000), 10, None).unwrap();
        assert_eq!(
            c.units(),
            0..9,
            "last byte waits for credit for the end unit"
        );
        assert!(b.next_chunk(&mut st, |_| Some(1000), 1, None).is_none());
        let c = b.next_chunk(&mut st, |_| Some(1000), 2, None).unwrap();
        assert_eq!(c.units(), 9..11);
    }

    #[test]
    fn settled_early_messages_are_never_sent() {
        let (mut b, mut st) = (SendBuf::default(), SendState::default());
        b.push(&mut st, msg(10, 1));
        b.push(&mut st, msg(5, 2));
        b.push(&mut st, msg(3, 3));
        assert_eq!(b.settle_early(&mut st, 4), None, "only three queued");
        assert_eq!(b.settle_early(&mut st, 2), Some(17));
        assert_eq!((st.sent_end, st.acked_prefix), (17, 17));
        let c = b
            .next_chunk(&mut st, |_| Some(100), u64::MAX, None)
            .unwrap();
        assert_eq!((c.seq, c.units()), (2, 17..21), "the third goes");
        assert!(b
            .next_chunk(&mut st, |_| Some(100), u64::MAX, None)
            .is_none());
        assert_eq!(b.settle_early(&mut st, 1), None, "something was sent");
    }

    #[test]
    fn lost_then_acked_is_not_resent() {
        let (mut b, mut st) = (SendBuf::default(), SendState::default());
        b.push(&mut st, msg(10, 1));
        let c = b.next_chunk(&mut st, |_| Some(4), u64::MAX, None).unwrap();
        b.on_ack(&mut st, c.units());
        b.on_lost(&st, c.units());
        assert!(!b.has_lost());
    }
}
