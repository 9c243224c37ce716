//! The receive half of one stream: reassembly of fragmented messages, the
//! out-of-order buffer, in-order delivery and the credit it releases.
//!
//! Owns: turning stream frames (possibly lost, duplicated, reordered or
//! re-cut) into whole messages delivered once each, in sequence order.
//! Never: buffers past what flow control allows (every frame is checked
//! against the limit this side advertised) and never keeps a large packet
//! alive for a small fragment (fragments are copied out).
//!
//! # Credit
//! `released` is how far the sender may consider its units consumed. It
//! moves when the application reads a message, and also while the head
//! message (the next one to deliver) arrives in order: a message larger than
//! the window would otherwise deadlock, since it can only be read whole. So
//! one stream buffers at most one message plus one window.

use alloc::collections::{BTreeMap, VecDeque};
use bytes::{Bytes, BytesMut};

use crate::ranges::RangeSet;

/// Largest capacity reserved up front for a head message being assembled.
const HEAD_PREALLOC_MAX: u64 = 1 << 20;

/// A stream frame as the receive side needs it.
#[derive(Debug, Clone, Copy)]
pub struct Fragment<'a> {
    /// Unit offset of the first byte.
    pub offset: u64,
    /// Message sequence number.
    pub seq: u64,
    /// Total message length.
    pub msg_len: u64,
    /// Offset of `data` inside the message.
    pub frag_offset: u64,
    /// The bytes.
    pub data: &'a [u8],
}

impl Fragment<'_> {
    fn is_last(&self) -> bool {
        self.frag_offset + self.data.len() as u64 == self.msg_len
    }

    /// One past the last unit this fragment covers.
    pub fn unit_end(&self) -> u64 {
        self.offset + self.data.len() as u64 + u64::from(self.is_last())
    }

    fn msg_start(&self) -> Option<u64> {
        self.offset.checked_sub(self.frag_offset)
    }
}

/// Why a fragment was refused. Each closes the session with a typed reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecvError {
    /// The peer sent past the limit this side advertised.
    #[error("peer exceeded the stream's flow-control limit")]
    FlowControl,
    /// The message is larger than the configured maximum.
    #[error("message larger than the configured maximum")]
    MessageTooLarge,
    /// Fragments of one message disagree (in length, start, or the bytes of
    /// a range sent twice), or data lies past the stream's end.
    #[error("inconsistent stream data")]
    Inconsistent,
}

/// What a fragment did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Accepted {
    /// New units beyond the highest seen (for session-level accounting).
    pub new_units: u64,
    /// Messages that became ready for the application.
    pub newly_ready: usize,
    /// Credit released by in-order progress of the head message.
    pub released: u64,
    /// Bytes of the messages that became ready.
    pub delivered_bytes: u64,
}

/// A message not yet deliverable.
#[derive(Debug)]
struct Partial {
    start: u64,
    msg_len: u64,
    /// Contiguous bytes from the message's start.
    head: BytesMut,
    /// Out-of-order pieces beyond `head`, keyed by offset inside the message.
    pieces: BTreeMap<u64, Bytes>,
    /// Bytes received past `head` (held in `pieces`); empty while
    /// fragments arrive in order, so an in-order message costs no
    /// allocation beyond its own bytes.
    received: RangeSet,
}

impl Partial {
    fn new(start: u64, msg_len: u64) -> Self {
        Partial {
            start,
            msg_len,
            head: BytesMut::new(),
            pieces: BTreeMap::new(),
            received: RangeSet::new(),
        }
    }

    /// Bytes received so far (in `head` and `pieces`).
    fn held_bytes(&self) -> u64 {
        let past_head: u64 = self.received.iter().map(|r| r.end - r.start).sum();
        self.head.len() as u64 + past_head
    }

    fn is_complete(&self) -> bool {
        self.head.len() as u64 == self.msg_len
    }

    /// True if `data` at `at` disagrees with a byte already received there
    /// (the peer re-sent a range with different content). Compares only the
    /// overlap.
    fn conflicts(&self, at: u64, data: &[u8]) -> bool {
        let end = at + data.len() as u64;
        let differs = |stored: Option<&[u8]>, from: u64, to: u64| {
            stored != data.get((from - at) as usize..(to - at) as usize)
        };
        let head_len = self.head.len() as u64;
        if at >= head_len && self.pieces.is_empty() {
            return false; // appends or lies past all data: nothing to compare
        }
        if at < head_len {
            let to = end.min(head_len);
            if differs(self.head.get(at as usize..to as usize), at, to) {
                return true;
            }
        }
        // Pieces never overlap one another, so walking back from the last one
        // starting before `end` stops at the first that ends before `at`.
        for (&p_at, piece) in self.pieces.range(..end).rev() {
            let p_end = p_at + piece.len() as u64;
            if p_end <= at {
                break;
            }
            let (from, to) = (p_at.max(at), p_end.min(end));
            let stored = piece.get((from - p_at) as usize..(to - p_at) as usize);
            if differs(stored, from, to) {
                return true;
            }
        }
        false
    }

    /// Stores the new bytes of `data` at `at`. Returns bytes added.
    fn insert(&mut self, at: u64, data: &[u8]) -> u64 {
        let head = self.head.len() as u64;
        let end = at + data.len() as u64;
        if end <= head {
            return 0;
        }
        if self.pieces.is_empty() && at <= head {
            // In order (the common case): extend the head, no bookkeeping.
            self.place(head, &data[(head - at) as usize..]);
            return end - head;
        }
        // Out of order: what lies past the head is tracked in `received`.
        let at_or_head = at.max(head);
        let data = &data[(at_or_head - at) as usize..];
        let at = at_or_head;
        if self.received.contains_range(at..end) {
            return 0;
        }
        // The gaps of `received` inside at..end are the new bytes.
        let mut added = 0;
        let mut cursor = at;
        let have: alloc::vec::Vec<_> = self.received.iter_within(at..end).collect();
        for r in have.iter().cloned().chain(core::iter::once(end..end)) {
            if cursor < r.start {
                self.place(
                    cursor,
                    &data[(cursor - at) as usize..(r.start - at) as usize],
                );
                added += r.start - cursor;
            }
            cursor = cursor.max(r.end);
        }
        self.received.insert(at..end);
        self.absorb();
        self.received.remove(0..self.head.len() as u64);
        added
    }

    fn place(&mut self, at: u64, bytes: &[u8]) {
        if at == self.head.len() as u64 {
            if self.head.capacity() == 0 {
                self.head
                    .reserve(self.msg_len.min(HEAD_PREALLOC_MAX) as usize);
            }
            self.head.extend_from_slice(bytes);
        } else {
            self.pieces.insert(at, Bytes::copy_from_slice(bytes));
        }
    }

    /// Moves pieces that now continue `head` into it.
    fn absorb(&mut self) {
        while let Some(entry) = self.pieces.first_entry() {
            let at = *entry.key();
            let len = self.head.len() as u64;
            if at > len {
                break;
            }
            let piece = entry.remove();
            let skip = (len - at) as usize;
            if skip < piece.len() {
                self.head.extend_from_slice(&piece[skip..]);
            }
        }
    }
}

/// A whole message waiting to be read.
#[derive(Debug)]
struct Ready {
    seq: u64,
    start: u64,
    data: Bytes,
}

/// Counters of the receive half (the peer's end of stream is the
/// stream's, see `Stream::fin`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RecvState {
    /// Next sequence number to become ready (`expected_sequence`).
    pub expected_seq: u64,
    /// Units credited back to the sender (see module docs).
    pub released: u64,
    /// Highest unit end received.
    pub highest: u64,
    /// The limit last advertised to the peer (`MAX_STREAM_DATA`).
    pub max_data: u64,
}

/// Receive-side buffers; allocated only while something is buffered.
#[derive(Debug, Default)]
pub struct RecvBuf {
    /// Whole messages in order, waiting for the application.
    ready: VecDeque<Ready>,
    /// Messages at or after `expected_seq` that are not whole yet or wait
    /// behind a gap, by sequence number.
    partial: BTreeMap<u64, Partial>,
    /// Bytes held in `partial`.
    partial_bytes: u64,
    /// Bytes held in `ready`.
    ready_bytes: u64,
    /// Where the peer's last skip moved delivery on: the units below it
    /// are consumed once every message before them is read.
    skipped_to: u64,
}

/// What a skip did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Skipped {
    /// New units beyond the highest seen (for session-level accounting).
    pub new_units: u64,
    /// Messages that became ready for the application.
    pub newly_ready: usize,
    /// Credit released.
    pub released: u64,
    /// Bytes of the messages that became ready.
    pub delivered_bytes: u64,
    /// Messages passed over, never to be delivered.
    pub skipped: u64,
}

/// What waits in the out-of-order buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct OutOfOrder {
    /// The sequence number delivery waits for.
    pub waiting_for: u64,
    /// Messages buffered behind it (whole or partial).
    pub messages: usize,
    /// Bytes buffered behind it.
    pub bytes: u64,
}

impl RecvBuf {
    /// Takes in one fragment. `fin`: the peer's end of stream (final
    /// offset, final sequence), if announced; `max_message` bounds message
    /// size.
    pub fn on_fragment(
        &mut self,
        st: &mut RecvState,
        fin: Option<(u64, u64)>,
        f: Fragment<'_>,
        max_message: u64,
    ) -> Result<Accepted, RecvError> {
        let start = f.msg_start().ok_or(RecvError::Inconsistent)?;
        let unit_end = f.unit_end();
        if f.frag_offset + f.data.len() as u64 > f.msg_len {
            return Err(RecvError::Inconsistent);
        }
        if f.msg_len > max_message {
            return Err(RecvError::MessageTooLarge);
        }
        if unit_end > st.max_data {
            return Err(RecvError::FlowControl);
        }
        if let Some((final_offset, final_seq)) = fin {
            if unit_end > final_offset || f.seq >= final_seq {
                return Err(RecvError::Inconsistent);
            }
        }
        let mut acc = Accepted {
            new_units: unit_end.saturating_sub(st.highest),
            ..Accepted::default()
        };
        st.highest = st.highest.max(unit_end);
        let ready_before = self.ready_bytes;
        if f.seq < st.expected_seq {
            return Ok(acc); // duplicate of a delivered message
        }
        if f.seq == st.expected_seq && f.frag_offset == 0 && f.is_last() {
            // Fast path: a whole message in order. A resend can carry whole
            // a message some of whose pieces arrived before: drop them, or
            // the stale entry would block every later message forever.
            if let Some(p) = self.partial.get(&f.seq) {
                if p.start != start || p.msg_len != f.msg_len {
                    return Err(RecvError::Inconsistent);
                }
                self.partial_bytes -= p.held_bytes();
                self.partial.remove(&f.seq);
            }
            self.push_ready(f.seq, start, Bytes::copy_from_slice(f.data));
            st.expected_seq += 1;
            acc.newly_ready = 1 + self.drain_in_order(st);
        } else {
            let p = self
                .partial
                .entry(f.seq)
                .or_insert_with(|| Partial::new(start, f.msg_len));
            if p.start != start || p.msg_len != f.msg_len || p.conflicts(f.frag_offset, f.data) {
                return Err(RecvError::Inconsistent);
            }
            self.partial_bytes += p.insert(f.frag_offset, f.data);
            // Invariant (kept by every path that adds data): after each
            // fragment the message at `expected_seq`, if any, is not whole.
            // So only a fragment of that message can make something ready.
            if f.seq == st.expected_seq && p.is_complete() {
                acc.newly_ready = self.drain_in_order(st);
            }
        }
        acc.released = self.settle(st);
        acc.delivered_bytes = self.ready_bytes - ready_before;
        Ok(acc)
    }

    /// The peer abandoned the messages before `seq` it has not had
    /// acknowledged: delivers those held whole, in order, drops the rest,
    /// and goes on with message `seq` at unit `offset`. The caller checked
    /// that `seq` is past `expected_seq` and `offset` within the limits.
    pub fn skip(&mut self, st: &mut RecvState, offset: u64, seq: u64) -> Skipped {
        let ready_before = self.ready_bytes;
        let passed = seq - st.expected_seq;
        let mut delivered = 0;
        while let Some(entry) = self.partial.first_entry() {
            if *entry.key() >= seq {
                break;
            }
            let (s, p) = entry.remove_entry();
            if p.is_complete() {
                self.partial_bytes -= p.msg_len;
                self.push_ready(s, p.start, p.head.freeze());
                delivered += 1;
            } else {
                self.partial_bytes -= p.held_bytes();
            }
        }
        st.expected_seq = seq;
        let new_units = offset.saturating_sub(st.highest);
        st.highest = st.highest.max(offset);
        self.skipped_to = self.skipped_to.max(offset);
        let newly_ready = delivered + self.drain_in_order(st);
        Skipped {
            new_units,
            newly_ready,
            released: self.settle(st),
            delivered_bytes: self.ready_bytes - ready_before,
            skipped: passed - delivered as u64,
        }
    }

    fn push_ready(&mut self, seq: u64, start: u64, data: Bytes) {
        self.ready_bytes += data.len() as u64;
        self.ready.push_back(Ready { seq, start, data });
    }

    /// Moves whole messages at `expected_seq` onwards into `ready`.
    fn drain_in_order(&mut self, st: &mut RecvState) -> usize {
        let mut n = 0;
        while let Some(entry) = self.partial.first_entry() {
            if *entry.key() != st.expected_seq || !entry.get().is_complete() {
                break;
            }
            let (seq, p) = entry.remove_entry();
            self.partial_bytes -= p.msg_len;
            self.push_ready(seq, p.start, p.head.freeze());
            st.expected_seq += 1;
            n += 1;
        }
        n
    }

    /// Releases credit (see module docs): up to the end of what was read, and,
    /// while the application is caught up, up to the head message's in-order
    /// progress. Returns the increase.
    fn settle(&mut self, st: &mut RecvState) -> u64 {
        let mut to = st.released;
        if self.ready.is_empty() {
            to = to.max(self.skipped_to);
            if let Some(p) = self.partial.get(&st.expected_seq) {
                to = to.max(p.start + p.head.len() as u64);
            }
        }
        let d = to - st.released;
        st.released = to;
        d
    }

    /// The next whole message, with its sequence number and the credit its
    /// reading released.
    pub fn pop(&mut self, st: &mut RecvState) -> Option<(u64, Bytes, u64)> {
        let m = self.ready.pop_front()?;
        self.ready_bytes -= m.data.len() as u64;
        let end = m.start + m.data.len() as u64 + 1;
        let before = st.released;
        st.released = st.released.max(end);
        self.settle(st);
        Some((m.seq, m.data, st.released - before))
    }

    /// Whole messages waiting for the application.
    pub fn ready_len(&self) -> usize {
        self.ready.len()
    }

    /// Bytes buffered in total (ready and out of order).
    pub fn buffered_bytes(&self) -> u64 {
        self.ready_bytes + self.partial_bytes
    }

    /// What the out-of-order buffer holds.
    pub fn out_of_order(&self, st: &RecvState) -> OutOfOrder {
        OutOfOrder {
            waiting_for: st.expected_seq,
            messages: self.partial.len(),
            bytes: self.partial_bytes,
        }
    }

    /// True when nothing is buffered: the buffer may be freed.
    pub fn is_empty(&self) -> bool {
        self.ready.is_empty() && self.partial.is_empty()
    }

    /// Drops everything buffered (stream reset or close).
    pub fn clear(&mut self) {
        self.ready.clear();
        self.partial.clear();
        self.skipped_to = 0;
        self.ready_bytes = 0;
        self.partial_bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    const MAX: u64 = 1 << 20;

    fn frag(seq: u64, start: u64, msg: &[u8], at: usize, len: usize) -> Fragment<'_> {
        Fragment {
            offset: start + at as u64,
            seq,
            msg_len: msg.len() as u64,
            frag_offset: at as u64,
            data: &msg[at..at + len],
        }
    }

    fn setup() -> (RecvBuf, RecvState) {
        let st = RecvState {
            max_data: 1000,
            ..RecvState::default()
        };
        (RecvBuf::default(), st)
    }

    fn drain(b: &mut RecvBuf, st: &mut RecvState) -> Vec<(u64, Vec<u8>)> {
        core::iter::from_fn(|| b.pop(st).map(|(s, d, _)| (s, d.to_vec()))).collect()
    }

    #[test]
    fn out_of_order_messages_wait_for_the_gap() {
        let (mut b, mut st) = setup();
        let (m0, m1, m2) = (b"aa".as_slice(), b"bbb".as_slice(), b"c".as_slice());
        // Units: m0 0..3, m1 3..7, m2 7..9. Arrival order 0, 2, 1.
        b.on_fragment(&mut st, None, frag(0, 0, m0, 0, 2), MAX)
            .unwrap();
        let a = b
            .on_fragment(&mut st, None, frag(2, 7, m2, 0, 1), MAX)
            .unwrap();
        assert_eq!(a.newly_ready, 0);
        let ooo = b.out_of_order(&st);
        assert_eq!((ooo.waiting_for, ooo.messages), (1, 1));
        let a = b
            .on_fragment(&mut st, None, frag(1, 3, m1, 0, 3), MAX)
            .unwrap();
        assert_eq!(a.newly_ready, 2);
        let got = drain(&mut b, &mut st);
        assert_eq!(
            got,
            [
                (0, b"aa".to_vec()),
                (1, b"bbb".to_vec()),
                (2, b"c".to_vec())
            ]
        );
        assert_eq!(b.out_of_order(&st).messages, 0);
        assert_eq!(st.released, 9);
    }

    #[test]
    fn reassembles_overlapping_recut_fragments_once() {
        let (mut b, mut st) = setup();
        let m: Vec<u8> = (0..100).collect();
        b.on_fragment(&mut st, None, frag(0, 0, &m, 50, 50), MAX)
            .unwrap();
        b.on_fragment(&mut st, None, frag(0, 0, &m, 10, 30), MAX)
            .unwrap();
        b.on_fragment(&mut st, None, frag(0, 0, &m, 10, 30), MAX)
            .unwrap();
        assert_eq!(b.ready_len(), 0);
        let a = b
            .on_fragment(&mut st, None, frag(0, 0, &m, 0, 60), MAX)
            .unwrap();
        assert_eq!(a.newly_ready, 1);
        assert_eq!(drain(&mut b, &mut st), [(0, m.clone())]);
        // A late duplicate changes nothing.
        let a = b
            .on_fragment(&mut st, None, frag(0, 0, &m, 0, 100), MAX)
            .unwrap();
        assert_eq!(a.newly_ready, 0);
        assert!(b.is_empty());
    }

    #[test]
    fn overlapping_fragment_with_other_bytes_is_inconsistent() {
        let m: Vec<u8> = (0..100).collect();
        let mut other = m.clone();
        other[55] ^= 0xff;
        // Overlapping the out-of-order piece 50..100 with a changed byte.
        let (mut b, mut st) = setup();
        b.on_fragment(&mut st, None, frag(0, 0, &m, 50, 50), MAX)
            .unwrap();
        b.on_fragment(&mut st, None, frag(0, 0, &m, 0, 20), MAX)
            .unwrap();
        assert_eq!(
            b.on_fragment(&mut st, None, frag(0, 0, &other, 40, 20), MAX),
            Err(RecvError::Inconsistent)
        );
        // Overlapping the assembled head with a changed byte.
        let mut early = m.clone();
        early[5] ^= 1;
        assert_eq!(
            b.on_fragment(&mut st, None, frag(0, 0, &early, 0, 10), MAX),
            Err(RecvError::Inconsistent)
        );
        // The same bytes again are fine, and complete the message.
        b.on_fragment(&mut st, None, frag(0, 0, &m, 10, 45), MAX)
            .unwrap();
        assert_eq!(drain(&mut b, &mut st), [(0, m.clone())]);
    }

    #[test]
    fn in_order_head_then_gap_then_overlaps_count_each_byte_once() {
        let (mut b, mut st) = setup();
        let m: Vec<u8> = (0..100).collect();
        let mut added = 0;
        for (at, len) in [(0, 20), (10, 20), (60, 20), (50, 15), (25, 40), (0, 100)] {
            b.on_fragment(&mut st, None, frag(0, 0, &m, at, len), MAX)
                .unwrap();
            added = b.buffered_bytes();
        }
        assert_eq!(added, 100, "every byte counted once");
        assert_eq!(drain(&mut b, &mut st), [(0, m.clone())]);
    }

    #[test]
    fn whole_resend_of_a_partly_received_message_clears_its_pieces() {
        let (mut b, mut st) = setup();
        let (m0, m1) = (b"0123456789".as_slice(), b"next".as_slice());
        // Its last byte arrives alone; then a resend carries it whole.
        b.on_fragment(&mut st, None, frag(0, 0, m0, 9, 1), MAX)
            .unwrap();
        assert_eq!(b.out_of_order(&st).bytes, 1);
        let a = b
            .on_fragment(&mut st, None, frag(0, 0, m0, 0, 10), MAX)
            .unwrap();
        assert_eq!(a.newly_ready, 1);
        assert_eq!(b.out_of_order(&st).messages, 0);
        // The next message is not held behind a stale piece of the first.
        let a = b
            .on_fragment(&mut st, None, frag(1, 11, m1, 0, 4), MAX)
            .unwrap();
        assert_eq!(a.newly_ready, 1);
        assert_eq!(drain(&mut b, &mut st), [(0, m0.to_vec()), (1, m1.to_vec())]);
        assert!(b.is_empty());
        assert_eq!(b.buffered_bytes(), 0);
    }

    #[test]
    fn empty_message_is_delivered() {
        let (mut b, mut st) = setup();
        b.on_fragment(&mut st, None, frag(0, 0, b"", 0, 0), MAX)
            .unwrap();
        assert_eq!(drain(&mut b, &mut st), [(0, Vec::new())]);
        assert_eq!(st.released, 1);
    }

    #[test]
    fn flow_control_and_size_limits_are_enforced() {
        let (mut b, mut st) = setup();
        let big = alloc::vec![0u8; 1000];
        assert_eq!(
            b.on_fragment(&mut st, None, frag(0, 0, &big, 0, 1000), MAX),
            Err(RecvError::FlowControl),
            "1000 bytes + end unit exceed a 1000-unit limit"
        );
        assert_eq!(
            b.on_fragment(&mut st, None, frag(0, 0, &big, 0, 10), 999),
            Err(RecvError::MessageTooLarge)
        );
        let m = b"xyz".as_slice();
        b.on_fragment(&mut st, None, frag(0, 0, m, 0, 1), MAX)
            .unwrap();
        let mut bad = frag(0, 0, m, 1, 1);
        bad.msg_len = 4;
        assert_eq!(
            b.on_fragment(&mut st, None, bad, MAX),
            Err(RecvError::Inconsistent)
        );
    }

    #[test]
    fn slow_reader_holds_credit_caught_up_reader_releases_head_progress() {
        let (mut b, mut st) = setup();
        let m: Vec<u8> = alloc::vec![7; 100];
        // Head message arriving in order releases its bytes while nothing is unread.
        let a = b
            .on_fragment(&mut st, None, frag(0, 0, &m, 0, 40), MAX)
            .unwrap();
        assert_eq!(a.released, 40);
        b.on_fragment(&mut st, None, frag(0, 0, &m, 40, 60), MAX)
            .unwrap();
        assert_eq!(b.ready_len(), 1);
        // Now message 1 arrives while message 0 is unread: no release.
        let a = b
            .on_fragment(&mut st, None, frag(1, 101, &m, 0, 40), MAX)
            .unwrap();
        assert_eq!(a.released, 0);
        let (_, _, rel) = b.pop(&mut st).unwrap();
        assert_eq!(
            rel,
            60 + 1 + 40,
            "rest of msg 0, its end unit, and msg 1's head progress"
        );
    }

    #[test]
    fn a_skip_delivers_whole_messages_drops_the_rest_and_moves_on() {
        let (mut b, mut st) = setup();
        let (m0, m1, m2, m3) = (
            b"aaaa".as_slice(),
            b"bb".as_slice(),
            b"c".as_slice(),
            b"dd".as_slice(),
        );
        // Units: m0 0..5, m1 5..8, m2 8..10, m3 10..13. m0 arrives in
        // part, m1 whole (behind m0's gap), m3 whole; m2 never.
        b.on_fragment(&mut st, None, frag(0, 0, m0, 0, 2), MAX)
            .unwrap();
        b.on_fragment(&mut st, None, frag(1, 5, m1, 0, 2), MAX)
            .unwrap();
        b.on_fragment(&mut st, None, frag(3, 10, m3, 0, 2), MAX)
            .unwrap();
        assert_eq!(b.ready_len(), 0);
        let sk = b.skip(&mut st, 10, 3);
        assert_eq!(
            (sk.newly_ready, sk.skipped),
            (2, 2),
            "m1 and m3 ready; m0, m2 skipped"
        );
        assert_eq!(st.expected_seq, 4);
        assert_eq!(drain(&mut b, &mut st), [(1, m1.to_vec()), (3, m3.to_vec())]);
        assert_eq!(st.released, 13, "skipped units count as consumed");
        assert!(b.is_empty());
        assert_eq!(b.buffered_bytes(), 0);
        // Late pieces of a skipped message change nothing.
        let a = b
            .on_fragment(&mut st, None, frag(2, 8, m2, 0, 1), MAX)
            .unwrap();
        assert_eq!(a.newly_ready, 0);
        assert!(b.is_empty());
    }

    #[test]
    fn skipped_units_are_released_only_after_what_precedes_them_is_read() {
        let (mut b, mut st) = setup();
        b.on_fragment(&mut st, None, frag(0, 0, b"xy", 0, 2), MAX)
            .unwrap();
        let sk = b.skip(&mut st, 20, 5);
        assert_eq!((sk.released, sk.new_units, sk.skipped), (0, 17, 4));
        let (_, _, rel) = b.pop(&mut st).unwrap();
        assert_eq!(rel, 20, "message 0 read: its units and the skipped ones");
    }

    #[test]
    fn data_past_the_announced_end_is_refused() {
        let (mut b, mut st) = setup();
        assert_eq!(
            b.on_fragment(&mut st, Some((3, 1)), frag(1, 3, b"a", 0, 1), MAX),
            Err(RecvError::Inconsistent)
        );
    }
}
