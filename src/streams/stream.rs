//! One stream's state: counters and flags kept inline, buffers allocated only
//! while something is in flight.
//!
//! Owns: the per-stream record the manager keeps in its map, and the
//! statistics the application reads.
//! Never: schedules or frames; the manager and the session do.
//!
//! Size matters here: a session may hold 100,000 idle streams. An idle stream
//! is this struct with `bufs == None`, its offsets and counters packed into
//! [`Idle`] (exactly: a state that does not pack stays in full in the
//! buffers' box); see the size tests below.

use alloc::boxed::Box;
use core::time::Duration;

use super::flow::RecvWindow;
use super::recv::{OutOfOrder, RecvBuf, RecvState};
use super::send::{SendBuf, SendState};
use crate::ids::{SessionId, StreamId};
use crate::time::Instant;

/// Flag bits of a stream.
pub(crate) mod flag {
    /// In the scheduler's queue.
    pub const QUEUED: u16 = 1 << 0;
    /// No more sends: closed by the application (or implied by the peer's end).
    pub const LOCAL_CLOSED: u16 = 1 << 1;
    /// The application closed or reset it: hidden from get/list.
    pub const USER_CLOSED: u16 = 1 << 2;
    /// Our end-of-stream (or reset) was acknowledged.
    pub const FIN_ACKED: u16 = 1 << 3;
    /// The peer announced its end of stream.
    pub const PEER_FIN: u16 = 1 << 4;
    /// Reset by either side: buffers dropped.
    pub const RESET: u16 = 1 << 5;
    /// A MAX_STREAM_DATA frame is queued.
    pub const MSD_QUEUED: u16 = 1 << 6;
    /// A readable event was emitted and not yet consumed by a read.
    pub const READABLE_SENT: u16 = 1 << 7;
    /// The finished event was emitted.
    pub const FINISHED_SENT: u16 = 1 << 8;
    /// Waiting for session-level credit.
    pub const SESSION_BLOCKED: u16 = 1 << 9;
    /// Reset by the peer (so no reset of ours is owed).
    pub const PEER_RESET: u16 = 1 << 10;
    /// The application read up to the peer's end (`Finished`).
    pub const FINISH_SEEN: u16 = 1 << 11;
    /// Closed by the application while data was still unsent: the FIN is
    /// queued once the last of it goes out, since its final offset must lie
    /// within what the peer's window has allowed.
    pub const FIN_AFTER_DATA: u16 = 1 << 12;
    /// A `send` returned `WouldBlock` and no `Writable` event has said
    /// the stream can take more since.
    pub const WRITE_BLOCKED: u16 = 1 << 13;
    /// In the deadline table's list of streams to watch: it has messages
    /// with a deadline, or owes a skip.
    pub const TIMED: u16 = 1 << 14;
    /// A STREAM_SKIP frame is queued or in flight, not yet acknowledged:
    /// the stream stays until it is (the peer may be waiting on it).
    pub const SKIP_QUEUED: u16 = 1 << 15;
}

/// A stream's offsets, sequence numbers and receive window, in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct State {
    pub send: SendState,
    pub recv: RecvState,
    pub window: RecvWindow,
}

/// What an idle stream keeps of its [`State`]: 48 bytes where the full
/// state takes 88. It holds only while everything queued was sent and
/// acknowledged (`sent_end == acked_prefix == queued_end`), everything
/// received was consumed (`highest == released`), and the sequence
/// numbers, the window and the limit's lead on `released` (which the
/// window bounds) fit in 32 bits; a stream for which one of these fails
/// keeps its state in full in [`Buffers`], so nothing is ever rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Idle {
    queued_end: u64,
    send_max: u64,
    released: u64,
    last_update: Instant,
    next_seq: u32,
    expected_seq: u32,
    window: u32,
    /// `recv.max_data - released`.
    ahead: u32,
}

impl Idle {
    /// A placeholder for a stream whose state is held in full.
    const EMPTY: Idle = Idle {
        queued_end: 0,
        send_max: 0,
        released: 0,
        last_update: Instant::MAX,
        next_seq: 0,
        expected_seq: 0,
        window: 0,
        ahead: 0,
    };

    /// `st` held in 48 bytes, if it can be without loss.
    fn pack(st: &State) -> Option<Idle> {
        let (send, recv) = (&st.send, &st.recv);
        if send.sent_end != send.queued_end
            || send.acked_prefix != send.queued_end
            || recv.highest != recv.released
        {
            return None;
        }
        let ahead = recv.max_data.checked_sub(recv.released)?;
        Some(Idle {
            queued_end: send.queued_end,
            send_max: send.max_data,
            released: recv.released,
            last_update: st.window.last_update(),
            next_seq: u32::try_from(send.next_seq).ok()?,
            expected_seq: u32::try_from(recv.expected_seq).ok()?,
            window: u32::try_from(st.window.size).ok()?,
            ahead: u32::try_from(ahead).ok()?,
        })
    }

    /// The full state this was packed from.
    fn unpack(&self) -> State {
        State {
            send: self.send(),
            recv: self.recv(),
            window: RecvWindow::from_parts(u64::from(self.window), self.last_update),
        }
    }

    fn send(&self) -> SendState {
        SendState {
            next_seq: u64::from(self.next_seq),
            queued_end: self.queued_end,
            sent_end: self.queued_end,
            acked_prefix: self.queued_end,
            max_data: self.send_max,
        }
    }

    fn recv(&self) -> RecvState {
        RecvState {
            expected_seq: u64::from(self.expected_seq),
            released: self.released,
            highest: self.released,
            max_data: self.released + u64::from(self.ahead),
        }
    }
}

/// What only a busy stream holds: its send and receive buffers and its
/// state in full. Allocated while something is queued, unacknowledged or
/// buffered (or while the state does not pack, see [`Idle`]).
#[derive(Debug)]
pub(crate) struct Buffers {
    pub send: SendBuf,
    pub recv: RecvBuf,
    pub st: State,
}

impl Buffers {
    fn holding(st: State) -> Self {
        Buffers {
            send: SendBuf::default(),
            recv: RecvBuf::default(),
            st,
        }
    }
}

/// Application-facing counters.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counters {
    // Messages and bytes sent follow from the send state (each message is
    // its length plus one unit), messages received from the next expected
    // sequence number: only bytes received needs a counter of its own.
    pub bytes_received: u64,
    pub created_at: Instant,
    pub last_activity: Instant,
}

/// One stream.
#[derive(Debug)]
pub struct Stream {
    pub(crate) priority: u16,
    pub(crate) flags: u16,
    /// The state while `bufs` is `None`; stale while it is `Some`.
    idle: Idle,
    /// End of stream announced by the peer: (final offset, final sequence).
    /// Boxed: most streams live without one.
    fin: Option<Box<(u64, u64)>>,
    pub(crate) counters: Counters,
    /// Invariant: `Some` whenever the state does not pack into `idle`.
    pub(crate) bufs: Option<Box<Buffers>>,
}

impl Stream {
    pub(crate) fn new(now: Instant, priority: u16, recv_window: u64, send_max: u64) -> Self {
        let st = State {
            send: SendState {
                max_data: send_max,
                ..SendState::default()
            },
            recv: RecvState {
                max_data: recv_window,
                ..RecvState::default()
            },
            window: RecvWindow::new(recv_window),
        };
        let (idle, bufs) = match Idle::pack(&st) {
            Some(idle) => (idle, None),
            None => (Idle::EMPTY, Some(Box::new(Buffers::holding(st)))),
        };
        Stream {
            priority,
            flags: 0,
            idle,
            fin: None,
            counters: Counters {
                created_at: now,
                last_activity: now,
                ..Counters::default()
            },
            bufs,
        }
    }

    /// The state in full.
    #[cfg(test)]
    pub(crate) fn state(&self) -> State {
        match &self.bufs {
            Some(b) => b.st,
            None => self.idle.unpack(),
        }
    }

    /// The send half's counters.
    pub(crate) fn send(&self) -> SendState {
        match &self.bufs {
            Some(b) => b.st.send,
            None => self.idle.send(),
        }
    }

    /// The receive half's counters.
    pub(crate) fn recv(&self) -> RecvState {
        match &self.bufs {
            Some(b) => b.st.recv,
            None => self.idle.recv(),
        }
    }

    /// Changes the state through `f`; an idle stream stays idle if the
    /// result packs, else it holds the result in full.
    pub(crate) fn update<R>(&mut self, f: impl FnOnce(&mut State) -> R) -> R {
        if let Some(b) = &mut self.bufs {
            return f(&mut b.st);
        }
        let mut st = self.idle.unpack();
        let r = f(&mut st);
        self.store(st);
        r
    }

    /// Holds `st` as an idle stream's state (`bufs` is `None`).
    fn store(&mut self, st: State) {
        debug_assert!(self.bufs.is_none());
        match Idle::pack(&st) {
            Some(idle) => self.idle = idle,
            None => self.bufs = Some(Box::new(Buffers::holding(st))),
        }
    }

    /// The buffers, allocated (holding the state) if the stream was idle.
    pub(crate) fn bufs_mut(&mut self) -> &mut Buffers {
        let idle = &self.idle;
        self.bufs
            .get_or_insert_with(|| Box::new(Buffers::holding(idle.unpack())))
    }

    /// End of stream announced by the peer: (final offset, final sequence).
    pub(crate) fn fin(&self) -> Option<(u64, u64)> {
        self.fin.as_deref().copied()
    }

    /// Records the peer's end of stream.
    pub(crate) fn set_fin(&mut self, final_offset: u64, final_seq: u64) {
        self.fin = Some(Box::new((final_offset, final_seq)));
    }

    pub(crate) fn has(&self, f: u16) -> bool {
        self.flags & f != 0
    }

    pub(crate) fn set(&mut self, f: u16) {
        self.flags |= f;
    }

    pub(crate) fn clear(&mut self, f: u16) {
        self.flags &= !f;
    }

    /// True when the application has read every whole message: nothing
    /// it could take now waits in the receive buffer (the flow-control
    /// window's test of a reader that is keeping up).
    pub(crate) fn caught_up(&self) -> bool {
        self.bufs.as_ref().is_none_or(|b| b.recv.ready_len() == 0)
    }

    /// Frees the buffers once nothing is held in them. A stream whose
    /// state does not pack keeps the box, its buffers emptied as new.
    pub(crate) fn maybe_free(&mut self) {
        if let Some(b) = &mut self.bufs {
            if b.send.is_drained(&b.st.send) && b.recv.is_empty() {
                match Idle::pack(&b.st) {
                    Some(idle) => {
                        self.idle = idle;
                        self.bufs = None;
                    }
                    None => **b = Buffers::holding(b.st),
                }
            }
        }
    }

    /// True while the stream can still send and receive: neither side closed
    /// or reset it.
    pub fn is_active(&self) -> bool {
        !self.has(flag::LOCAL_CLOSED | flag::PEER_FIN | flag::RESET)
    }

    /// Priority, 0..=1000.
    pub fn priority(&self) -> u16 {
        self.priority
    }

    /// Units the peer still lets us send on this stream.
    pub fn send_window(&self) -> u64 {
        self.send().credit()
    }

    /// Current receive window size (auto-tuned).
    pub fn receive_window(&self) -> u64 {
        match &self.bufs {
            Some(b) => b.st.window.size,
            None => u64::from(self.idle.window),
        }
    }

    /// What waits in the out-of-order buffer.
    pub fn out_of_order(&self) -> OutOfOrder {
        match &self.bufs {
            Some(b) => b.recv.out_of_order(&b.st.recv),
            None => OutOfOrder {
                waiting_for: u64::from(self.idle.expected_seq),
                ..OutOfOrder::default()
            },
        }
    }

    /// Messages whole and waiting to be read.
    pub fn readable_messages(&self) -> usize {
        self.bufs.as_ref().map_or(0, |b| b.recv.ready_len())
    }

    /// Received bytes held for the application (readable or out of order).
    pub fn buffered_bytes(&self) -> u64 {
        self.bufs.as_ref().map_or(0, |b| b.recv.buffered_bytes())
    }

    /// Units queued for sending and not yet acknowledged; 0 once the stream
    /// is reset (by either side), since nothing of it will be sent or
    /// acknowledged any more.
    pub fn unacked(&self) -> u64 {
        if self.has(flag::RESET) {
            0
        } else {
            self.send().unacked()
        }
    }

    /// The peer ended the stream and every message up to its end was
    /// delivered.
    pub(crate) fn recv_complete(&self) -> bool {
        self.fin()
            .is_some_and(|(_, seq)| self.recv().expected_seq >= seq)
    }

    pub(crate) fn stats(
        &self,
        now: Instant,
        stream_id: StreamId,
        session_id: SessionId,
    ) -> StreamStats {
        let (send, recv) = (self.send(), self.recv());
        StreamStats {
            stream_id,
            session_id,
            is_active: self.is_active(),
            bytes_sent: send.queued_end - send.next_seq,
            bytes_received: self.counters.bytes_received,
            messages_sent: send.next_seq,
            messages_received: recv.expected_seq,
            sequence: send.next_seq,
            expected_sequence: recv.expected_seq,
            created_at: self.counters.created_at,
            last_activity: self.counters.last_activity,
            uptime: now.saturating_duration_since(self.counters.created_at),
            priority: self.priority,
            send_window: self.send_window(),
            receive_window: self.receive_window(),
            unacked: self.unacked(),
            out_of_order: self.out_of_order(),
            messages_expired: 0,
            messages_skipped: 0,
        }
    }
}

/// A stream's statistics: every field of the STT chapter's
/// `get_statistics()`, plus flow-control and buffer figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamStats {
    /// The stream's id.
    pub stream_id: StreamId,
    /// The session it belongs to.
    pub session_id: SessionId,
    /// Neither side closed or reset it.
    pub is_active: bool,
    /// Message bytes accepted for sending.
    pub bytes_sent: u64,
    /// Message bytes delivered in order.
    pub bytes_received: u64,
    /// Messages accepted for sending.
    pub messages_sent: u64,
    /// Messages delivered in order.
    pub messages_received: u64,
    /// Sequence number the next sent message gets.
    pub sequence: u64,
    /// Sequence number delivery waits for next.
    pub expected_sequence: u64,
    /// When the stream was created (the caller's clock).
    pub created_at: Instant,
    /// Last send or delivery.
    pub last_activity: Instant,
    /// Time since creation.
    pub uptime: Duration,
    /// Priority, 0..=1000.
    pub priority: u16,
    /// Units the peer still lets us send.
    pub send_window: u64,
    /// Current receive window.
    pub receive_window: u64,
    /// Units queued and not yet acknowledged.
    pub unacked: u64,
    /// The out-of-order buffer.
    pub out_of_order: OutOfOrder,
    /// Messages this side abandoned because of their deadline (each told
    /// by a [`StreamEvent::MessageExpired`](crate::StreamEvent)), sent or
    /// not.
    pub messages_expired: u64,
    /// Messages the peer abandoned that this side skipped, never
    /// delivering them.
    pub messages_skipped: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_stream_is_small() {
        // The chapter claims ~500 bytes per stream; with the map's share
        // (about 26 bytes a stream) an idle one costs 122
        // (tests/idle_streams.rs).
        let size = core::mem::size_of::<Stream>();
        assert!(size <= 96, "Stream is {size} bytes");
        let s = Stream::new(Instant::ZERO, 500, 256 << 10, 256 << 10);
        assert!(s.bufs.is_none(), "a new stream packs");
    }

    #[test]
    fn is_active_until_either_side_ends() {
        let mut s = Stream::new(Instant::ZERO, 500, 10, 10);
        assert!(s.is_active());
        s.set(flag::PEER_FIN);
        assert!(!s.is_active());
    }

    /// A state with its offsets at `base` plus a little, small sequence
    /// numbers, and a window of `window`.
    fn state(base: u64, window: u64) -> State {
        State {
            send: SendState {
                next_seq: 1,
                queued_end: base + 7,
                sent_end: base + 7,
                acked_prefix: base + 7,
                max_data: base + 9,
            },
            recv: RecvState {
                expected_seq: 2,
                released: base + 5,
                highest: base + 5,
                max_data: base + 5 + window,
            },
            window: RecvWindow::from_parts(window, Instant::from_micros(base + 3)),
        }
    }

    #[test]
    fn an_idle_state_packs_and_unpacks_exactly() {
        for st in [state(0, 1), state(1 << 40, u64::from(u32::MAX))] {
            let mut s = Stream::new(Instant::ZERO, 500, 10, 10);
            s.update(|full| *full = st);
            assert!(s.bufs.is_none(), "{st:?} packs");
            assert_eq!(s.state(), st);
        }
        // Anything in flight or unconsumed does not pack.
        let mut st = state(0, 10);
        st.send.acked_prefix -= 1;
        assert_eq!(Idle::pack(&st), None);
        let mut st = state(0, 10);
        st.recv.highest += 1;
        assert_eq!(Idle::pack(&st), None);
    }

    #[test]
    fn counters_past_32_bits_stay_exact() {
        // Sequence numbers, the window and the limit's lead past what 32
        // bits hold: the state stays in full, exact, idle or not, and the
        // statistics read it.
        let wide = 1u64 << 32;
        let cases: [fn(&mut State); 4] = [
            |st| st.send.next_seq += 1 << 32,
            |st| st.recv.expected_seq += 1 << 32,
            |st| st.window.size = 1 << 33,
            |st| st.recv.max_data += 1 << 32,
        ];
        for widen in cases {
            let mut s = Stream::new(Instant::ZERO, 500, 10, 10);
            let mut st = state(wide, 10);
            widen(&mut st);
            s.update(|full| *full = st);
            assert!(s.bufs.is_some(), "{st:?} is held in full");
            s.maybe_free();
            assert!(s.bufs.is_some(), "and stays so while idle");
            assert_eq!(s.state(), st);
            let stats = s.stats(Instant::ZERO, 1, SessionId(1));
            assert_eq!(stats.sequence, st.send.next_seq);
            assert_eq!(stats.expected_sequence, st.recv.expected_seq);
            assert_eq!(stats.receive_window, st.window.size);
            assert_eq!(stats.bytes_sent, st.send.queued_end - st.send.next_seq);
            assert_eq!(stats.send_window, st.send.max_data - st.send.sent_end);
        }
        // A window configured past 32 bits: the new stream holds it in full.
        let s = Stream::new(Instant::ZERO, 500, wide, wide);
        assert_eq!(s.receive_window(), wide);
        assert_eq!(s.recv().max_data, wide);
    }

    #[test]
    fn offsets_far_past_32_bits_pack() {
        // Offsets are held in full (up to 2^62); only values the window
        // bounds are narrowed.
        let mut s = Stream::new(Instant::ZERO, 500, 10, 10);
        let st = state((1 << 62) - 100, 50);
        s.update(|full| *full = st);
        assert!(s.bufs.is_none());
        assert_eq!(s.state(), st);
    }
}
