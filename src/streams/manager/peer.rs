//! The stream manager's side facing the peer: STREAM, STREAM_FIN,
//! STREAM_RESET and the credit frames, and the credit this side gives back.
//!
//! Owns: opening streams on the peer's first frame, the checks that turn a
//! peer's misbehaviour into a [`Violation`], and when MAX_DATA and
//! MAX_STREAM_DATA are owed.
//! Never: trusts a peer-supplied number without a bound (offsets, lengths
//! and final sizes are checked before they size anything), or gives credit
//! past the configured windows.

use core::time::Duration;

use super::*;

impl StreamManager {
    /// Looks up (or opens, on the peer's first frame) stream `id`. `None`:
    /// retired, frames for it are stale and ignored.
    pub(super) fn peer_stream(&mut self, now: Instant, id: StreamId) -> Result<bool, Violation> {
        if !self.streams.contains_key(&id) {
            if self.is_retired(id) {
                return Ok(false);
            }
            if self.streams.len() >= self.limits.max_streams {
                return Err(Violation::StreamLimit);
            }
            self.insert(now, id);
            self.events.push_back(StreamEvent::Opened(id));
        }
        Ok(true)
    }

    /// A STREAM frame. The stream is looked up once (this runs for every
    /// data packet); the rare paths (opening, discarding) look it up again.
    pub fn on_stream_frame(
        &mut self,
        now: Instant,
        rtt: Duration,
        id: StreamId,
        f: Fragment<'_>,
    ) -> Result<(), Violation> {
        let max_message = self.limits.max_message_size;
        let max_stream_buffer = self.limits.max_stream_window.saturating_add(max_message);
        let s = match self.streams.get_mut(&id) {
            Some(s) => s,
            None => {
                if !self.peer_stream(now, id)? {
                    return Ok(());
                }
                match self.streams.get_mut(&id) {
                    Some(s) => s,
                    None => return Ok(()),
                }
            }
        };
        let discard = s.has(flag::USER_CLOSED | flag::RESET);
        let before = held(s);
        let fin = s.fin();
        let b = s.bufs_mut();
        let acc = b
            .recv
            .on_fragment(&mut b.st.recv, fin, f, max_message)
            .map_err(super::violation)?;
        let buffered = held(s);
        self.budget.changed(before, buffered);
        self.recv_highest_total += acc.new_units;
        if self.recv_highest_total > self.recv_advertised {
            return Err(Violation::FlowControl);
        }
        // Past what one stream can hold: its window plus its head message.
        if buffered > max_stream_buffer {
            return Err(Violation::FlowControl);
        }
        if discard {
            self.discard_received(now, rtt, id, buffered);
            return Ok(());
        }
        // Past the session's receive budget (see `RecvBudget`).
        if self.budget.is_over(self.limits.max_session_buffer) {
            return Err(Violation::FlowControl);
        }
        note_accepted(
            s,
            &mut self.events,
            id,
            now,
            acc.newly_ready,
            acc.delivered_bytes,
        );
        self.recv_released_total += acc.released;
        if stream_credit(s, now, rtt, self.limits.max_stream_window, false) {
            self.control.push_back(Control::MaxStreamData(id));
        }
        if finished_now(s) {
            self.events.push_back(StreamEvent::Finished(id));
        }
        let caught_up = s.caught_up();
        self.credit_session(now, rtt, caught_up, false);
        Ok(())
    }

    /// STREAM_FIN.
    pub fn on_fin(
        &mut self,
        now: Instant,
        id: StreamId,
        final_offset: u64,
        final_seq: u64,
    ) -> Result<(), Violation> {
        if !self.peer_stream(now, id)? {
            return Ok(());
        }
        let Some(s) = self.streams.get_mut(&id) else {
            return Ok(());
        };
        if let Some(prev) = s.fin() {
            if prev != (final_offset, final_seq) {
                return Err(Violation::Inconsistent);
            }
            return Ok(());
        }
        let recv = s.recv();
        if final_offset < recv.highest || final_seq < recv.expected_seq {
            return Err(Violation::Inconsistent);
        }
        // The rest of the data (if any) is still to come in stream frames,
        // which flow control counts as they arrive.
        s.set_fin(final_offset, final_seq);
        s.set(flag::PEER_FIN);
        if s.has(flag::USER_CLOSED) {
            self.release_all_recv(id);
        }
        self.finish(id); // our side closes too, after what we queued
        self.check_finished(id);
        self.gc(id);
        Ok(())
    }

    /// STREAM_RESET.
    pub fn on_reset(
        &mut self,
        now: Instant,
        id: StreamId,
        code: u64,
        final_offset: u64,
    ) -> Result<(), Violation> {
        if !self.peer_stream(now, id)? {
            return Ok(());
        }
        let Some(s) = self.streams.get_mut(&id) else {
            return Ok(());
        };
        let recv = s.recv();
        if final_offset < recv.highest || final_offset > recv.max_data {
            return Err(Violation::Inconsistent);
        }
        self.recv_highest_total += final_offset - recv.highest;
        s.update(|st| st.recv.highest = final_offset);
        let notify = !s.has(flag::USER_CLOSED);
        s.set(flag::PEER_RESET | flag::RESET | flag::LOCAL_CLOSED);
        s.clear(flag::FIN_AFTER_DATA);
        self.budget.changed(held(s), 0);
        if let Some(b) = s.bufs.as_mut() {
            b.send.clear();
            b.recv.clear();
        }
        s.maybe_free();
        let prio = s.priority;
        if s.has(flag::QUEUED) {
            s.clear(flag::QUEUED);
            self.sched.remove(id, prio);
        }
        self.release_all_recv(id);
        if notify {
            self.events.push_back(StreamEvent::Reset(id, code));
        }
        // The stream stays visible (its calls answer `Reset`) until closed.
        if !notify {
            self.gc(id);
        }
        Ok(())
    }

    /// MAX_DATA.
    pub fn on_max_data(&mut self, max: u64) {
        if max > self.send_max {
            self.send_max = max;
            for id in core::mem::take(&mut self.session_blocked) {
                if let Some(s) = self.streams.get_mut(&id) {
                    s.clear(flag::SESSION_BLOCKED);
                }
                self.wake(id);
            }
        }
    }

    /// MAX_STREAM_DATA.
    pub fn on_max_stream_data(
        &mut self,
        now: Instant,
        id: StreamId,
        max: u64,
    ) -> Result<(), Violation> {
        if !self.peer_stream(now, id)? {
            return Ok(());
        }
        let Some(s) = self.streams.get_mut(&id) else {
            return Ok(());
        };
        if max > s.send().max_data {
            s.update(|st| st.send.max_data = max);
            self.wake(id);
        }
        Ok(())
    }

    pub(super) fn check_finished(&mut self, id: StreamId) {
        if self.streams.get_mut(&id).is_some_and(finished_now) {
            self.events.push_back(StreamEvent::Finished(id));
        }
    }

    /// Drops what stream `id` holds received (`held` bytes of the session's
    /// receive budget) because nobody will read it, releasing its credit at
    /// both levels so the peer is never left blocked on it.
    pub(super) fn discard_received(
        &mut self,
        now: Instant,
        rtt: Duration,
        id: StreamId,
        held: u64,
    ) {
        self.budget.changed(held, 0);
        if let Some(s) = self.streams.get_mut(&id) {
            if let Some(b) = s.bufs.as_mut() {
                b.recv.clear();
            }
            s.maybe_free();
        }
        self.release_all_recv(id);
        self.credit_discarded(id);
        self.credit_session(now, rtt, true, false);
    }

    /// The application closed `id` while the peer may still be sending: what
    /// arrives is dropped, but the credit must keep moving, or the peer would
    /// block for ever on data it can never deliver (and never flush). Grants
    /// a window past what was released once half of it is used, at both
    /// levels, without auto-tuning.
    pub(super) fn credit_discarded(&mut self, id: StreamId) {
        if let Some(s) = self.streams.get_mut(&id) {
            let size = s.receive_window();
            let recv = s.recv();
            let limit = recv.released.saturating_add(size);
            let stale = limit.saturating_sub(recv.max_data) >= size / 2;
            if !s.has(flag::PEER_FIN | flag::RESET) && limit > recv.max_data && stale {
                s.update(|st| st.recv.max_data = limit);
                if !s.has(flag::MSD_QUEUED) {
                    s.set(flag::MSD_QUEUED);
                    self.control.push_back(Control::MaxStreamData(id));
                }
            }
        }
        let size = self.recv_window.size;
        let limit = self.recv_released_total.saturating_add(size);
        if limit > self.recv_advertised && limit - self.recv_advertised >= size / 2 {
            self.recv_advertised = limit;
            self.requeue_control(Control::MaxData);
        }
    }

    /// Credit for `id` after the application read from it.
    pub(super) fn credit_stream(&mut self, now: Instant, rtt: Duration, id: StreamId) {
        let max = self.limits.max_stream_window;
        if self
            .streams
            .get_mut(&id)
            .is_some_and(|s| stream_credit(s, now, rtt, max, true))
        {
            self.control.push_back(Control::MaxStreamData(id));
        }
    }

    /// `caught_up`: the stream whose progress released this credit has
    /// nothing whole left unread; `read`: the application's read released
    /// it (see `RecvWindow::update`).
    pub(super) fn credit_session(
        &mut self,
        now: Instant,
        rtt: Duration,
        caught_up: bool,
        read: bool,
    ) {
        let max = self.limits.max_session_window;
        let blocked = caught_up
            && self
                .recv_window
                .peer_used_limit(self.recv_highest_total, self.recv_advertised);
        if let Some(limit) = self.recv_window.update(
            now,
            rtt,
            self.recv_released_total,
            self.recv_advertised,
            max,
            Reader {
                read_caught_up: read && caught_up,
                peer_blocked: blocked,
            },
        ) {
            self.recv_advertised = limit;
            self.requeue_control(Control::MaxData);
        }
    }
}

/// Grows `s`'s receive credit if its window says so; true if a
/// MAX_STREAM_DATA must be queued (it was not already). `read`: the
/// application's read released the credit.
fn stream_credit(s: &mut Stream, now: Instant, rtt: Duration, max: u64, read: bool) -> bool {
    if s.has(flag::PEER_FIN | flag::RESET) {
        return false;
    }
    // Credit moves only while the application reads, or while it is caught
    // up (see `recv`): with nothing whole left unread, a peer on the limit
    // is held back by the window, not by the reader.
    let caught_up = s.caught_up();
    let advertised = s.update(|st| {
        let recv = &mut st.recv;
        let blocked = caught_up && st.window.peer_used_limit(recv.highest, recv.max_data);
        let limit = st.window.update(
            now,
            rtt,
            recv.released,
            recv.max_data,
            max,
            Reader {
                read_caught_up: read && caught_up,
                peer_blocked: blocked,
            },
        )?;
        recv.max_data = limit;
        Some(limit)
    });
    if advertised.is_none() {
        return false;
    }
    if s.has(flag::MSD_QUEUED) {
        return false;
    }
    s.set(flag::MSD_QUEUED);
    true
}

/// What a received frame completed, on the stream's record: the activity
/// time and the bytes when messages became ready, and one `Readable` event
/// until a read finds nothing more (which clears the flag).
pub(super) fn note_accepted(
    s: &mut Stream,
    events: &mut Queue<StreamEvent>,
    id: StreamId,
    now: Instant,
    newly_ready: usize,
    delivered_bytes: u64,
) {
    if newly_ready > 0 {
        s.counters.last_activity = now;
        if !s.has(flag::READABLE_SENT) {
            s.set(flag::READABLE_SENT);
            events.push_back(StreamEvent::Readable(id));
        }
    }
    s.counters.bytes_received += delivered_bytes;
}

/// True once, when everything up to the peer's FIN has been delivered
/// and the application still has the stream: FINISHED is owed.
fn finished_now(s: &mut Stream) -> bool {
    let all_in = s.recv_complete();
    if all_in && !s.has(flag::FINISHED_SENT | flag::USER_CLOSED) {
        s.set(flag::FINISHED_SENT);
        return true;
    }
    false
}
