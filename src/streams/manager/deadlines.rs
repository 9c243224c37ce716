//! The stream manager's deadline work: sends with a deadline, stream
//! lifetimes, the expiry pass over the streams that use deadlines, the
//! skips owed, and the peer's skips.
//!
//! Owns: the deadline side table (see `streams/deadline.rs`), the list of
//! streams to watch, and when a STREAM_SKIP is owed: once the stream's
//! acknowledged prefix (abandoned units counting as acknowledged) reaches
//! the end of the last abandoned message, so every message below the
//! skip's point is either acknowledged or abandoned.
//! Never: runs for a session whose streams use no deadline (the table is
//! absent), or changes scheduling or priorities.

use super::*;
use crate::streams::deadline::{Clock, SendOptions, SKIP_COPIES};

/// Something the expiry pass found for a stream, done once it is over.
#[derive(Clone, Copy)]
struct Due {
    id: StreamId,
    wake: bool,
    skip: bool,
}

impl StreamManager {
    /// The deadline a message sent now on `id` gets from the stream's
    /// lifetime.
    fn default_deadline(&self, now: Instant, id: StreamId) -> Option<Instant> {
        self.lifetime(id).map(|l| now + l)
    }

    /// Queues one message; returns its sequence number.
    pub fn send(&mut self, now: Instant, id: StreamId, data: Bytes) -> Result<u64, StreamError> {
        let deadline = self.default_deadline(now, id);
        self.send_until(now, id, data, deadline)
    }

    /// Queues one message with options (a deadline); returns its sequence
    /// number.
    pub fn send_with(
        &mut self,
        now: Instant,
        id: StreamId,
        data: Bytes,
        opts: SendOptions,
    ) -> Result<u64, StreamError> {
        let deadline = opts.deadline.or_else(|| self.default_deadline(now, id));
        self.send_until(now, id, data, deadline)
    }

    fn send_until(
        &mut self,
        now: Instant,
        id: StreamId,
        data: Bytes,
        deadline: Option<Instant>,
    ) -> Result<u64, StreamError> {
        let s = self.sendable(now, id, data.len() as u64)?;
        s.counters.last_activity = now;
        let b = s.bufs_mut();
        let seq = b.send.push_until(&mut b.st.send, data, deadline);
        if deadline.is_some() {
            self.watch(id);
        }
        self.wake(id);
        Ok(seq)
    }

    /// Queues `data` cut into messages of `segment` bytes (the last may be
    /// shorter; empty data sends nothing), each with the stream's lifetime
    /// if it has one. Returns the sequence numbers used.
    pub fn send_all(
        &mut self,
        now: Instant,
        id: StreamId,
        data: Bytes,
        segment: usize,
    ) -> Result<core::ops::Range<u64>, StreamError> {
        if segment == 0 {
            return Err(StreamError::InvalidSegmentSize);
        }
        let deadline = self.default_deadline(now, id);
        let s = self.sendable(now, id, (segment as u64).min(data.len() as u64))?;
        let b = s.bufs_mut();
        let first = b.st.send.next_seq;
        let mut at = 0;
        while at < data.len() {
            let end = data.len().min(at + segment);
            b.send
                .push_until(&mut b.st.send, data.slice(at..end), deadline);
            at = end;
        }
        let seqs = first..b.st.send.next_seq;
        s.counters.last_activity = now;
        if deadline.is_some() && !seqs.is_empty() {
            self.watch(id);
        }
        self.wake(id);
        Ok(seqs)
    }

    /// Sets the default lifetime of `id`'s messages.
    pub fn set_lifetime(
        &mut self,
        id: StreamId,
        lifetime: Option<Duration>,
    ) -> Result<(), StreamError> {
        self.usable(id)?;
        let d = self.deadlines.get_or_insert_default();
        d.streams.entry(id).or_default().lifetime = lifetime;
        Ok(())
    }

    /// The default lifetime of `id`'s messages.
    pub fn lifetime(&self, id: StreamId) -> Option<Duration> {
        self.deadlines
            .as_ref()?
            .streams
            .get(&id)
            .and_then(|t| t.lifetime)
    }

    /// Puts `id` on the list the expiry pass walks.
    fn watch(&mut self, id: StreamId) {
        let d = self.deadlines.get_or_insert_default();
        if let Some(s) = self.streams.get_mut(&id) {
            if !s.has(flag::TIMED) {
                s.set(flag::TIMED);
                d.active.push(id);
            }
        }
    }

    /// True while some stream has messages with a deadline or owes a skip.
    #[inline]
    pub fn has_deadlines(&self) -> bool {
        self.deadlines
            .as_ref()
            .is_some_and(|d| !d.active.is_empty())
    }

    /// The expiry pass, run before each packet is built (and when a timer
    /// fires): abandons what can no longer arrive in time, lets the second
    /// copies owed since the last packet go, and queues the skips owed.
    pub fn expire(&mut self, clock: Clock) {
        let Some(d) = self.deadlines.as_mut() else {
            return;
        };
        d.clock = Some(clock);
        let mut due: Vec<Due> = Vec::new();
        let mut i = 0;
        while i < d.active.len() {
            let id = d.active[i];
            let Some(s) = self.streams.get_mut(&id) else {
                d.active.swap_remove(i);
                continue;
            };
            let t = d.streams.entry(id).or_default();
            let mut wake = false;
            let mut live = false;
            if let Some(b) = s.bufs.as_mut() {
                let b = &mut **b;
                let events = &mut self.events;
                let end = b.send.expire(&mut b.st.send, &clock, |seq, sent| {
                    t.expired += 1;
                    events.push_back(StreamEvent::MessageExpired {
                        stream: id,
                        seq,
                        sent,
                    });
                });
                if let Some(end) = end {
                    t.skip_to = t.skip_to.max(end);
                    // Its unsent rest is passed over when the stream is next
                    // served.
                    wake = true;
                }
                wake |= b.send.arm_again();
                live = b.send.has_deadlines();
            }
            // A skip goes as soon as it is owed, one in flight or not (each
            // carries the newest point when written), and its copies go
            // in the packets after it, one a packet.
            let mut skip = false;
            if !s.has(flag::RESET) {
                if t.skip_to != 0 && s.send().acked_prefix >= t.skip_to {
                    t.skip_to = 0;
                    t.copies_owed = SKIP_COPIES;
                    skip = true;
                } else if t.copies_owed > 0 && !self.control.contains(&Control::Skip(id)) {
                    t.copies_owed -= 1;
                    skip = true;
                }
            }
            if skip {
                t.skips_out = t.skips_out.saturating_add(1);
                s.set(flag::SKIP_QUEUED);
            }
            if wake || skip {
                due.push(Due { id, wake, skip });
            }
            if (live || t.skip_to != 0 || t.copies_owed > 0) && !s.has(flag::RESET) {
                i += 1;
            } else {
                s.clear(flag::TIMED);
                d.active.swap_remove(i);
            }
        }
        for Due { id, wake, skip } in due {
            if skip {
                self.control.push_back(Control::Skip(id));
            }
            if wake {
                self.wake(id);
            }
        }
    }

    /// The earliest deadline of a message not yet decided, on any stream.
    pub fn earliest_deadline(&self) -> Option<Instant> {
        let d = self.deadlines.as_ref()?;
        d.active
            .iter()
            .filter_map(|id| {
                self.streams
                    .get(id)?
                    .bufs
                    .as_ref()?
                    .send
                    .earliest_deadline()
            })
            .min()
    }

    /// STREAM_SKIP: the peer abandoned messages; delivery goes on from
    /// message `seq` at unit `offset`. True if it moved the stream on.
    ///
    /// Flow control: the skipped units count as received (against both
    /// windows, like data) and as consumed once everything before them is
    /// read, so credit moves on as if they had been delivered and read.
    pub fn on_skip(
        &mut self,
        now: Instant,
        rtt: Duration,
        id: StreamId,
        offset: u64,
        seq: u64,
    ) -> Result<bool, Violation> {
        if !self.peer_stream(now, id)? {
            return Ok(false);
        }
        let Some(s) = self.streams.get_mut(&id) else {
            return Ok(false);
        };
        if let Some((final_offset, final_seq)) = s.fin() {
            if offset > final_offset || seq > final_seq {
                return Err(Violation::Inconsistent);
            }
        }
        let recv = s.recv();
        if offset > recv.max_data {
            return Err(Violation::FlowControl);
        }
        if s.has(flag::RESET) || seq <= recv.expected_seq {
            return Ok(false); // stale: a resent or overtaken skip
        }
        // Every message takes a unit, so `seq - expected` messages need as
        // many units past what was consumed; fewer is a skip backwards.
        let room = offset.checked_sub(recv.released);
        if room.is_none_or(|r| r < seq - recv.expected_seq) {
            return Err(Violation::Inconsistent);
        }
        let before = held(s);
        let b = s.bufs_mut();
        let acc = b.recv.skip(&mut b.st.recv, offset, seq);
        let buffered = held(s);
        self.budget.changed(before, buffered);
        self.recv_highest_total += acc.new_units;
        if self.recv_highest_total > self.recv_advertised {
            return Err(Violation::FlowControl);
        }
        self.deadlines
            .get_or_insert_default()
            .streams
            .entry(id)
            .or_default()
            .skipped += acc.skipped;
        let Some(s) = self.streams.get_mut(&id) else {
            return Ok(true);
        };
        if s.has(flag::USER_CLOSED) {
            let held = held(s);
            self.discard_received(now, rtt, id, held);
            return Ok(true);
        }
        super::peer::note_accepted(
            s,
            &mut self.events,
            id,
            now,
            acc.newly_ready,
            acc.delivered_bytes,
        );
        s.maybe_free();
        self.recv_released_total += acc.released;
        self.credit_stream(now, rtt, id);
        self.check_finished(id);
        let caught_up = self.streams.get(&id).is_some_and(|s| s.caught_up());
        self.credit_session(now, rtt, caught_up, false);
        Ok(true)
    }

    /// Fills in a stream's deadline counts.
    pub(super) fn deadline_stats(&self, id: StreamId, stats: &mut StreamStats) {
        if let Some(t) = self.deadlines.as_ref().and_then(|d| d.streams.get(&id)) {
            stats.messages_expired = t.expired;
            stats.messages_skipped = t.skipped;
            // The in-order point passed the skipped ones undelivered.
            stats.messages_received = stats.messages_received.saturating_sub(t.skipped);
        }
    }

    /// Forgets a stream that is gone.
    pub(super) fn forget_deadlines(&mut self, id: StreamId) {
        if let Some(d) = self.deadlines.as_mut() {
            d.streams.remove(&id);
        }
    }
}
