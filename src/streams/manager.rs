//! The stream manager: a session's streams, their creation and closing, and
//! everything that crosses between streams: the scheduler and session-wide
//! flow control.
//!
//! Owns: the stream map, retired ids, stream events, the queue of control
//! frames streams owe the peer, and the session-level windows.
//! Never: encodes frames or touches packets. The session asks it for the next
//! chunk or control item and reports acknowledgements and losses back.
//!
//! The application's calls and the sending side are here; frames from the
//! peer and the credit given back for them are in `manager/peer.rs`.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use bytes::Bytes;
use core::time::Duration;

use super::budget::RecvBudget;
use super::deadline::Deadlines;
use super::flow::{Reader, RecvWindow};
use super::map::StreamMap;
use super::recv::{Fragment, RecvError};
use super::scheduler::{Scheduler, DEFAULT_PRIORITY, MAX_PRIORITY};
use super::send::{ChunkHead, SendBuf};
use super::stream::{flag, Stream, StreamStats};
use super::{StreamError, StreamEvent, StreamLimits};
use crate::ids::{SessionId, StreamId};
use crate::queue::Queue;
use crate::ranges::RangeSet;
use crate::time::Instant;
use crate::violation::Violation;
pub use control::{Control, ControlFrame};

/// Most ranges of retired ids remembered (ids retired longer ago may be
/// reused by a `create`).
const MAX_RETIRED_RANGES: usize = 4096;

/// Ids of retired streams.
#[derive(Debug, Default)]
struct Gone {
    retired: RangeSet,
    /// The retired ids the peer ended (the rest this side closed or reset),
    /// so a late `recv` still says `Finished`.
    finished: RangeSet,
}

impl Gone {
    /// Stream `id` was retired (and may not be opened again).
    fn retired(gone: &Option<Box<Gone>>, id: StreamId) -> bool {
        gone.as_ref()
            .is_some_and(|g| g.retired.contains(u64::from(id)))
    }

    /// Stream `id` was retired after the peer ended it.
    fn finished(gone: &Option<Box<Gone>>, id: StreamId) -> bool {
        gone.as_ref()
            .is_some_and(|g| g.finished.contains(u64::from(id)))
    }
}

/// All streams of one session.
#[derive(Debug)]
pub struct StreamManager {
    /// Shared by the endpoint's sessions.
    limits: Arc<StreamLimits>,
    /// Boxed: the map's nodes stay small and an idle stream costs one
    /// allocation of its own size (see the idle-stream test).
    streams: StreamMap,
    /// Ids of streams gone, boxed from the first one: a session whose
    /// streams all live (an idle one with its default stream) pays a
    /// pointer.
    gone: Option<Box<Gone>>,
    sched: Scheduler,
    /// Streams waiting for session-level credit.
    session_blocked: Queue<StreamId>,
    /// Streams parked on session credit since the session last asked, for
    /// trace events (bounded: past its size, the rest go untold). Boxed
    /// while it holds any, so a session that never blocks pays a pointer.
    #[cfg(feature = "trace")]
    newly_blocked: Option<Box<heapless::Deque<StreamId, 16>>>,
    control: Queue<Control>,
    events: Queue<StreamEvent>,
    /// Peer's per-stream initial limit (0 until its parameters arrive).
    peer_stream_window: u64,
    /// Largest message the peer accepts.
    peer_max_message: u64,
    /// Session-level send credit from the peer, and units sent for the first
    /// time on all streams.
    send_max: u64,
    sent_total: u64,
    /// Session-level receive side.
    recv_window: RecvWindow,
    recv_advertised: u64,
    recv_highest_total: u64,
    recv_released_total: u64,
    max_data_queued: bool,
    /// Bytes buffered for the application on all streams.
    budget: RecvBudget,
    /// Lifetimes, owed skips and expiry counts of the streams that use
    /// deadlines; `None` until one does.
    deadlines: Option<Box<Deadlines>>,
}

/// Bytes a stream's receive side holds.
fn held(s: &Stream) -> u64 {
    s.bufs.as_ref().map_or(0, |b| b.recv.buffered_bytes())
}

impl StreamManager {
    /// A manager with stream 0 already open.
    pub fn new(limits: impl Into<Arc<StreamLimits>>, now: Instant) -> Self {
        let limits = limits.into();
        let mut m = StreamManager {
            recv_window: RecvWindow::new(limits.session_window),
            recv_advertised: limits.session_window,
            sched: Scheduler::with_quantum(limits.turn_quantum),
            budget: RecvBudget::new(),
            limits,
            streams: StreamMap::default(),
            gone: None,
            session_blocked: Queue::new(),
            #[cfg(feature = "trace")]
            newly_blocked: None,
            control: Queue::new(),
            events: Queue::new(),
            peer_stream_window: 0,
            peer_max_message: u64::MAX,
            send_max: 0,
            sent_total: 0,
            recv_highest_total: 0,
            recv_released_total: 0,
            max_data_queued: false,
            deadlines: None,
        };
        m.insert(now, 0);
        m
    }

    fn insert(&mut self, now: Instant, id: StreamId) -> &mut Stream {
        let s = Stream::new(
            now,
            DEFAULT_PRIORITY,
            self.limits.stream_window,
            self.peer_stream_window,
        );
        self.streams.get_or_insert_with(id, || Box::new(s))
    }

    /// Applies the peer's transport parameters (initial credits, message
    /// size limit).
    pub fn set_peer_limits(&mut self, max_data: u64, max_stream_data: u64, max_message: u64) {
        self.peer_max_message = max_message;
        self.send_max = self.send_max.max(max_data);
        self.peer_stream_window = max_stream_data;
        let ids: Vec<StreamId> = self.streams.keys().copied().collect();
        for id in ids {
            if let Some(s) = self.streams.get_mut(&id) {
                s.update(|st| st.send.max_data = st.send.max_data.max(max_stream_data));
            }
            self.wake(id);
        }
    }

    // ----- application calls -----

    /// Creates stream `id`. An id in use, or recently closed, is an error.
    pub fn create(&mut self, now: Instant, id: StreamId) -> Result<(), StreamError> {
        if self.streams.contains_key(&id) {
            return Err(StreamError::AlreadyExists(id));
        }
        if self.is_retired(id) {
            return Err(StreamError::Closed(id));
        }
        if self.streams.len() >= self.limits.max_streams {
            return Err(StreamError::TooManyStreams);
        }
        self.insert(now, id);
        Ok(())
    }

    /// The stream, unless missing or closed by the application.
    pub fn get(&self, id: StreamId) -> Option<&Stream> {
        self.streams.get(&id).filter(|s| !s.has(flag::USER_CLOSED))
    }

    /// Ids of the streams `get` would return, ascending.
    pub fn ids(&self) -> impl Iterator<Item = StreamId> + '_ {
        self.streams
            .iter()
            .filter(|(_, s)| !s.has(flag::USER_CLOSED))
            .map(|(&id, _)| id)
    }

    /// Stream `id` was retired (and may not be opened again).
    fn is_retired(&self, id: StreamId) -> bool {
        Gone::retired(&self.gone, id)
    }

    /// Number of streams held, including closing ones.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    fn usable(&mut self, id: StreamId) -> Result<&mut Stream, StreamError> {
        match self.streams.get_mut(&id) {
            Some(s) if s.has(flag::USER_CLOSED) => Err(StreamError::Closed(id)),
            Some(s) if s.has(flag::PEER_RESET) => {
                // The application has now heard of the reset: the stream
                // may go at the next clean-up.
                s.set(flag::FINISH_SEEN);
                Err(StreamError::Reset(id))
            }
            Some(s) => Ok(s),
            None if Gone::finished(&self.gone, id) => Err(StreamError::Finished(id)),
            None if Gone::retired(&self.gone, id) => Err(StreamError::Closed(id)),
            None => Err(StreamError::NotFound(id)),
        }
    }

    fn sendable(
        &mut self,
        now: Instant,
        id: StreamId,
        len: u64,
    ) -> Result<&mut Stream, StreamError> {
        let max_message = self.limits.max_message_size.min(self.peer_max_message);
        let max_queue = self.limits.max_send_queue;
        if !self.streams.contains_key(&id) && !self.is_retired(id) {
            // Streams open on demand: the first send creates one.
            self.create(now, id)?;
        }
        let s = self.usable(id).map_err(|e| match e {
            StreamError::Finished(id) => StreamError::ClosedByPeer(id),
            e => e,
        })?;
        if s.has(flag::LOCAL_CLOSED) {
            return Err(if s.has(flag::PEER_FIN) {
                StreamError::ClosedByPeer(id)
            } else {
                StreamError::Closed(id)
            });
        }
        if len > max_message {
            return Err(StreamError::MessageTooLarge {
                size: len,
                max: max_message,
            });
        }
        if s.send().unacked() >= max_queue {
            // Owed a `Writable` once acknowledgements drain it.
            s.set(flag::WRITE_BLOCKED);
            return Err(StreamError::WouldBlock(id));
        }
        Ok(s)
    }

    /// The next whole message, if any. `Err(Finished)` once the peer ended
    /// the stream and everything was read.
    pub fn recv(
        &mut self,
        now: Instant,
        rtt: Duration,
        id: StreamId,
    ) -> Result<Option<Bytes>, StreamError> {
        // A stream is retired only once the peer ended (or reset) its side
        // and nothing is left to read: to the reader it is finished.
        if !self.streams.contains_key(&id) && self.is_retired(id) {
            return Err(StreamError::Finished(id));
        }
        let s = self.usable(id)?;
        let popped = s.bufs.as_mut().and_then(|b| {
            let b = &mut **b;
            b.recv.pop(&mut b.st.recv)
        });
        let Some((_, data, released)) = popped else {
            s.clear(flag::READABLE_SENT);
            let done = s.has(flag::PEER_FIN) && s.recv_complete();
            return if done {
                s.set(flag::FINISH_SEEN);
                self.gc(id);
                Err(StreamError::Finished(id))
            } else {
                Ok(None)
            };
        };
        s.counters.last_activity = now;
        s.maybe_free();
        let caught_up = s.caught_up();
        self.budget.changed(data.len() as u64, 0);
        self.recv_released_total += released;
        self.credit_stream(now, rtt, id);
        self.credit_session(now, rtt, caught_up, true);
        self.gc(id);
        Ok(Some(data))
    }

    /// Sets a stream's priority (0..=1000).
    pub fn set_priority(&mut self, id: StreamId, priority: u16) -> Result<(), StreamError> {
        if priority > MAX_PRIORITY {
            return Err(StreamError::InvalidPriority(priority));
        }
        let s = self.usable(id)?;
        let old = s.priority;
        s.priority = priority;
        if s.has(flag::QUEUED) && old != priority && self.sched.remove(id, old) {
            self.sched.push(id, priority);
        }
        Ok(())
    }

    /// Closes a stream gracefully: what was queued is still delivered, then
    /// the peer sees the end of the stream. Unread received data is dropped.
    pub fn close(&mut self, id: StreamId) -> Result<(), StreamError> {
        let s = self.usable(id)?;
        s.set(flag::USER_CLOSED);
        let dropped = s.bufs.as_mut().map_or(0, |b| {
            let n = b.recv.buffered_bytes();
            b.recv.clear();
            n
        });
        self.budget.changed(dropped, 0);
        self.release_all_recv(id);
        self.credit_discarded(id);
        self.finish(id);
        self.gc(id);
        Ok(())
    }

    /// Closes every stream of the session the application can see.
    pub fn close_all(&mut self) {
        let ids: Vec<StreamId> = self.ids().collect();
        for id in ids {
            let _ = self.close(id);
        }
    }

    /// Abandons a stream at once: queued data is dropped and the peer is told
    /// with `code`.
    pub fn reset(&mut self, id: StreamId, code: u64) -> Result<(), StreamError> {
        let s = self.usable(id)?;
        s.set(flag::USER_CLOSED | flag::LOCAL_CLOSED | flag::RESET);
        s.clear(flag::FIN_AFTER_DATA);
        let dropped = held(s);
        if let Some(b) = s.bufs.as_mut() {
            b.send.clear();
            b.recv.clear();
        }
        let prio = s.priority;
        if s.has(flag::QUEUED) {
            s.clear(flag::QUEUED);
            self.sched.remove(id, prio);
        }
        self.budget.changed(dropped, 0);
        self.release_all_recv(id);
        self.control.push_back(Control::Reset(id, code));
        Ok(())
    }

    /// Statistics of one stream.
    pub fn stats(&self, now: Instant, id: StreamId, session: SessionId) -> Option<StreamStats> {
        let mut stats = self.get(id)?.stats(now, id, session);
        self.deadline_stats(id, &mut stats);
        Some(stats)
    }

    /// The next stream event.
    pub fn poll_event(&mut self) -> Option<StreamEvent> {
        self.events.pop_front()
    }

    // ----- internal state changes -----

    /// Marks our side finished and owes the peer a FIN, at once if all
    /// queued data went out, else once it has (the FIN carries the final
    /// offset, which must be within the credit the peer gave).
    fn finish(&mut self, id: StreamId) {
        if let Some(s) = self.streams.get_mut(&id) {
            if !s.has(flag::LOCAL_CLOSED) {
                s.set(flag::LOCAL_CLOSED);
                if SendBuf::has_unsent(&s.send()) && !s.has(flag::RESET) {
                    s.set(flag::FIN_AFTER_DATA);
                } else {
                    self.control.push_back(Control::Fin(id));
                }
            }
        }
    }

    /// Treats everything received or announced on `id` as consumed, so the
    /// session-level window does not shrink for data nobody will read.
    fn release_all_recv(&mut self, id: StreamId) {
        if let Some(s) = self.streams.get_mut(&id) {
            self.recv_released_total += s.update(|st| {
                let to = st.recv.highest;
                let d = to.saturating_sub(st.recv.released);
                st.recv.released = st.recv.released.max(to);
                d
            });
        }
    }

    /// Queues `id` in the scheduler if it has something it may send.
    fn wake(&mut self, id: StreamId) {
        let session_credit = self.send_max.saturating_sub(self.sent_total);
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        if s.has(flag::QUEUED | flag::RESET) {
            return;
        }
        let lost = s.bufs.as_ref().is_some_and(|b| b.send.has_lost());
        let send = s.send();
        let fresh = SendBuf::has_unsent(&send) && send.credit() > 0;
        if lost || (fresh && session_credit > 0) {
            s.set(flag::QUEUED);
            self.sched.push(id, s.priority);
        } else if fresh && !s.has(flag::SESSION_BLOCKED) {
            s.set(flag::SESSION_BLOCKED);
            self.session_blocked.push_back(id);
            #[cfg(feature = "trace")]
            self.note_blocked(id);
        }
    }

    /// True when an empty queue (control frames, stream events, streams
    /// blocked on session credit) still holds the allocation it grew to.
    pub fn holds_idle_memory(&self) -> bool {
        (self.control.is_empty() && self.control.is_allocated())
            || (self.events.is_empty() && self.events.is_allocated())
            || (self.session_blocked.is_empty() && self.session_blocked.is_allocated())
    }

    /// Frees the allocations of the empty queues
    /// [`holds_idle_memory`](Self::holds_idle_memory) names; for a quiet
    /// session only, since a busy one would allocate them again at once.
    pub fn trim_idle_memory(&mut self) {
        self.control.release();
        self.events.release();
        self.session_blocked.release();
    }

    /// A stream parked on session credit since the last call (feature
    /// `trace`).
    #[cfg(feature = "trace")]
    pub fn take_newly_blocked(&mut self) -> Option<StreamId> {
        let id = self.newly_blocked.as_mut()?.pop_front();
        if id.is_none() {
            self.newly_blocked = None;
        }
        id
    }

    #[cfg(feature = "trace")]
    fn note_blocked(&mut self, id: StreamId) {
        let _ = self.newly_blocked.get_or_insert_default().push_back(id);
    }

    /// The next chunk of stream data to send, chosen by priority. `fit` gets
    /// the stream id and the chunk's header fields and answers how many data
    /// bytes fit in the packet (`None`: not even the frame header; the
    /// packet is full).
    pub fn next_chunk(
        &mut self,
        mut fit: impl FnMut(StreamId, &ChunkHead) -> Option<usize>,
    ) -> Option<(StreamId, super::send::Chunk)> {
        while let Some(id) = self.sched.peek() {
            let session_credit = self.send_max.saturating_sub(self.sent_total);
            let Some(s) = self.streams.get_mut(&id) else {
                self.sched.pop();
                continue;
            };
            let allowed = s.send().credit().min(session_credit);
            let clock = self.deadlines.as_ref().and_then(|d| d.clock.as_ref());
            let mut too_big = false;
            let mut sent = 0;
            let chunk = s.bufs.as_mut().and_then(|b| {
                let b = &mut **b;
                let before = b.st.send.sent_end;
                let c = b.send.next_chunk(
                    &mut b.st.send,
                    |h| {
                        let n = fit(id, h);
                        too_big = matches!(n, None | Some(0));
                        n
                    },
                    allowed,
                    clock,
                );
                sent = b.st.send.sent_end - before;
                c
            });
            self.sent_total += sent;
            let send = s.send();
            if s.has(flag::FIN_AFTER_DATA) && !SendBuf::has_unsent(&send) {
                s.clear(flag::FIN_AFTER_DATA);
                self.control.push_back(Control::Fin(id));
            }
            match chunk {
                Some(c) => {
                    let more = s.bufs.as_ref().is_some_and(|b| b.send.has_lost())
                        || (SendBuf::has_unsent(&send)
                            && send.credit() > 0
                            && self.send_max > self.sent_total);
                    if more {
                        self.sched.charge(id, c.data.len() as u64);
                    } else {
                        self.sched.pop();
                        s.clear(flag::QUEUED);
                        self.wake(id); // parks it as session-blocked if so
                    }
                    return Some((id, c));
                }
                None if too_big => return None, // packet full
                None => {
                    // Nothing it may send now although credit is left: the
                    // credit ends at a message's last byte, which cannot go
                    // without its end unit. Park it until credit grows
                    // (MAX_STREAM_DATA wakes it; MAX_DATA wakes the session-
                    // blocked list). Waking it here would re-queue it at once
                    // and spin forever.
                    self.sched.pop();
                    s.clear(flag::QUEUED);
                    if send.credit() >= session_credit && !s.has(flag::SESSION_BLOCKED) {
                        s.set(flag::SESSION_BLOCKED);
                        self.session_blocked.push_back(id);
                        #[cfg(feature = "trace")]
                        self.note_blocked(id);
                    }
                }
            }
        }
        None
    }

    /// True when every message queued on every stream, closed ones
    /// included, was acknowledged (reset streams excepted), and no control
    /// frame is owed.
    pub fn is_flushed(&self) -> bool {
        !self.has_control()
            && self
                .streams
                .values()
                .all(|s| s.has(flag::RESET) || (s.unacked() == 0 && !s.has(flag::SKIP_QUEUED)))
    }

    /// True if stream data is ready to go (credit permitting).
    pub fn has_data(&self) -> bool {
        !self.sched.is_empty()
    }

    /// The priority of the stream whose data goes next, if any has data.
    pub fn top_priority(&self) -> Option<u16> {
        self.sched.top_priority()
    }

    /// Units of a stream were acknowledged.
    pub fn on_chunk_acked(&mut self, id: StreamId, units: core::ops::Range<u64>) {
        if let Some(s) = self.streams.get_mut(&id) {
            if let Some(b) = s.bufs.as_mut() {
                let b = &mut **b;
                b.send.on_ack(&mut b.st.send, units);
            }
            s.maybe_free();
            self.check_writable(id);
            self.gc(id);
        }
    }

    /// The first `messages` messages of stream `id` went as early data
    /// in a handshake the peer accepted: the peer holds them, so they
    /// count as sent (spending stream and session credit, as the peer
    /// counted them) and acknowledged, and are never sent again. A
    /// stream that already sent something is left as it is.
    pub fn settle_early(&mut self, id: StreamId, messages: u64) {
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        let Some(units) = s.bufs.as_mut().and_then(|b| {
            let b = &mut **b;
            b.send.settle_early(&mut b.st.send, messages)
        }) else {
            return;
        };
        self.sent_total += units;
        let idle =
            !SendBuf::has_unsent(&s.send()) && !s.bufs.as_ref().is_some_and(|b| b.send.has_lost());
        if idle && s.has(flag::QUEUED) {
            s.clear(flag::QUEUED);
            let prio = s.priority;
            self.sched.remove(id, prio);
        }
        s.maybe_free();
        self.check_writable(id);
        self.gc(id);
    }

    /// Units of a stream were lost: they go back for retransmission.
    pub fn on_chunk_lost(&mut self, id: StreamId, units: core::ops::Range<u64>) {
        if let Some(s) = self.streams.get_mut(&id) {
            if s.has(flag::RESET) {
                return;
            }
            if let Some(b) = s.bufs.as_mut() {
                b.send.on_lost(&b.st.send, units);
            }
            self.wake(id);
        }
    }

    /// Tells the application a stream that refused a send can take more.
    /// Invariant: `WRITE_BLOCKED` is set only by a `WouldBlock` answer and
    /// cleared here, so each refusal is answered by at most one `Writable`;
    /// a stream that can no longer send (closed or reset, by either side)
    /// drops the flag without one, since its calls now fail for good.
    fn check_writable(&mut self, id: StreamId) {
        let max_queue = self.limits.max_send_queue;
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        if !s.has(flag::WRITE_BLOCKED) {
            return;
        }
        if s.has(flag::LOCAL_CLOSED | flag::USER_CLOSED | flag::RESET) {
            s.clear(flag::WRITE_BLOCKED);
        } else if s.send().unacked() < max_queue {
            s.clear(flag::WRITE_BLOCKED);
            self.events.push_back(StreamEvent::Writable(id));
        }
    }

    /// Removes a stream once both sides are done with it.
    fn gc(&mut self, id: StreamId) {
        let Some(s) = self.streams.get(&id) else {
            return;
        };
        let ours_done = s.has(flag::LOCAL_CLOSED)
            && (s.has(flag::FIN_ACKED) || s.has(flag::PEER_RESET))
            && (!s.has(flag::SKIP_QUEUED) || s.has(flag::RESET))
            && s.bufs
                .as_ref()
                .is_none_or(|b| b.send.is_drained(&b.st.send) || s.has(flag::RESET));
        // The application learns of the peer's end by reading to `Finished`
        // (or by closing); until then the stream stays to tell it.
        let theirs_done = s.has(flag::PEER_FIN | flag::PEER_RESET)
            && (s.has(flag::USER_CLOSED) || s.has(flag::FINISH_SEEN));
        if ours_done && theirs_done && !s.has(flag::QUEUED) {
            let ended_by_peer = !s.has(flag::USER_CLOSED | flag::PEER_RESET);
            let ids = u64::from(id)..u64::from(id) + 1;
            self.budget.changed(held(s), 0);
            self.streams.remove(&id);
            self.forget_deadlines(id);
            let gone = self.gone.get_or_insert_default();
            if ended_by_peer {
                gone.finished.insert(ids.clone());
            }
            gone.retired.insert(ids);
            while gone.retired.len() > MAX_RETIRED_RANGES {
                gone.retired.pop_min();
            }
            while gone.finished.len() > MAX_RETIRED_RANGES {
                gone.finished.pop_min();
            }
        }
    }

    /// Bytes of received stream data held for the application on all
    /// streams (bounded by `StreamLimits::max_session_buffer`).
    pub fn recv_buffered(&self) -> u64 {
        self.budget.buffered()
    }

    /// Most of [`StreamManager::recv_buffered`] at once so far.
    pub fn recv_buffered_peak(&self) -> u64 {
        self.budget.peak()
    }

    /// Session-level figures: (send credit left, receive window size).
    pub fn session_windows(&self) -> (u64, u64) {
        (
            self.send_max.saturating_sub(self.sent_total),
            self.recv_window.size,
        )
    }
}

/// The violation a receive-side error is. A function, not a `From` impl:
/// `Violation` is public and `RecvError` is not, and a trait impl would
/// show the private type in the API.
fn violation(e: RecvError) -> Violation {
    match e {
        RecvError::FlowControl => Violation::FlowControl,
        RecvError::MessageTooLarge => Violation::MessageTooLarge,
        RecvError::Inconsistent => Violation::Inconsistent,
    }
}

mod control;
mod deadlines;
mod peer;
#[cfg(test)]
mod tests;
