//! One stream's state: counters and flags kept inline, buffers allocated only
//! while something is in flight.
//!
//! Owns: the per-stream record the manager keeps in its map, and the
//! statistics the application reads.
//! Never: schedules or frames; the manager and the session do.
//!
//! Size matters here: a session may hold 100,000 idle streams. An idle stream
//! is this struct with `bufs == None`; see the size test below.

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

/// Send and receive buffers of an active stream.
#[derive(Debug, Default)]
pub(crate) struct Buffers {
    pub send: SendBuf,
    pub recv: RecvBuf,
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
    pub(crate) window: RecvWindow,
    pub(crate) send: SendState,
    pub(crate) recv: RecvState,
    pub(crate) counters: Counters,
    pub(crate) bufs: Option<Box<Buffers>>,
}

impl Stream {
    pub(crate) fn new(now: Instant, priority: u16, recv_window: u64, send_max: u64) -> Self {
        Stream {
            priority,
            flags: 0,
            window: RecvWindow::new(recv_window),
            send: SendState {
                max_data: send_max,
                ..SendState::default()
            },
            recv: RecvState {
                max_data: recv_window,
                ..RecvState::default()
            },
            counters: Counters {
                created_at: now,
                last_activity: now,
                ..Counters::default()
            },
            bufs: None,
        }
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

    /// Frees the buffers once nothing is held in them.
    pub(crate) fn maybe_free(&mut self) {
        if let Some(b) = &self.bufs {
            if b.send.is_drained(&self.send) && b.recv.is_empty() {
                self.bufs = None;
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
        self.send.credit()
    }

    /// Current receive window size (auto-tuned).
    pub fn receive_window(&self) -> u64 {
        self.window.size
    }

    /// What waits in the out-of-order buffer.
    pub fn out_of_order(&self) -> OutOfOrder {
        match &self.bufs {
            Some(b) => b.recv.out_of_order(&self.recv),
            None => OutOfOrder {
                waiting_for: self.recv.expected_seq,
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
            self.send.unacked()
        }
    }

    /// The peer ended the stream and every message up to its end was
    /// delivered.
    pub(crate) fn recv_complete(&self) -> bool {
        self.recv
            .fin()
            .is_some_and(|(_, seq)| self.recv.expected_seq >= seq)
    }

    pub(crate) fn stats(
        &self,
        now: Instant,
        stream_id: StreamId,
        session_id: SessionId,
    ) -> StreamStats {
        StreamStats {
            stream_id,
            session_id,
            is_active: self.is_active(),
            bytes_sent: self.send.queued_end - self.send.next_seq,
            bytes_received: self.counters.bytes_received,
            messages_sent: self.send.next_seq,
            messages_received: self.recv.expected_seq,
            sequence: self.send.next_seq,
            expected_sequence: self.recv.expected_seq,
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
        // (about 26 bytes a stream) an idle one costs 162
        // (tests/idle_streams.rs).
        let size = core::mem::size_of::<Stream>();
        assert!(size <= 136, "Stream is {size} bytes");
    }

    #[test]
    fn is_active_until_either_side_ends() {
        let mut s = Stream::new(Instant::ZERO, 500, 10, 10);
        assert!(s.is_active());
        s.set(flag::PEER_FIN);
        assert!(!s.is_active());
    }
}
