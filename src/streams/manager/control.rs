//! The control frames streams and the session owe the peer: credits,
//! stream ends, resets and skips.
//!
//! Owns: the queue of owed control items, filling in their values when a
//! packet has room (so a resent one carries the newest value), and what an
//! acknowledgement or loss of one means.
//! Never: encodes bytes (the session does) or decides when credit is owed
//! (`peer.rs` and the send path do).

use super::*;

/// A control frame a stream or the session owes the peer. Values are filled
/// in when the frame is written, so a resent one carries the newest value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Session-wide credit.
    MaxData,
    /// Credit for one stream.
    MaxStreamData(StreamId),
    /// End of our side of a stream.
    Fin(StreamId),
    /// Abandon a stream.
    Reset(StreamId, u64),
    /// Move the peer past abandoned messages.
    Skip(StreamId),
}

/// A control item with its values, ready to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlFrame {
    /// MAX_DATA.
    MaxData(u64),
    /// MAX_STREAM_DATA.
    MaxStreamData(StreamId, u64),
    /// STREAM_FIN: id, final offset, final sequence.
    Fin(StreamId, u64, u64),
    /// STREAM_RESET: id, code, final offset, final sequence.
    Reset(StreamId, u64, u64, u64),
    /// STREAM_SKIP: id, offset and sequence number delivery goes on from.
    Skip(StreamId, u64, u64),
}

impl StreamManager {
    /// The next control frame owed, with current values.
    pub fn next_control(&mut self) -> Option<(Control, ControlFrame)> {
        while let Some(c) = self.control.pop_front() {
            let frame = match c {
                Control::MaxData => {
                    self.max_data_queued = false;
                    ControlFrame::MaxData(self.recv_advertised)
                }
                // After the peer's FIN the limit no longer grows, but the
                // frame that raised it may have been lost while data the
                // FIN announced is still missing: it goes until all is in.
                Control::MaxStreamData(id) => match self.streams.get_mut(&id) {
                    Some(s) if !s.has(flag::RESET) && !s.recv_complete() => {
                        s.clear(flag::MSD_QUEUED);
                        ControlFrame::MaxStreamData(id, s.recv().max_data)
                    }
                    _ => continue,
                },
                Control::Fin(id) => match self.streams.get(&id) {
                    Some(s) if !s.has(flag::RESET) => {
                        let send = s.send();
                        ControlFrame::Fin(id, send.queued_end, send.next_seq)
                    }
                    _ => continue,
                },
                // A reset's final offset is what was sent: nothing more comes.
                Control::Reset(id, code) => match self.streams.get(&id) {
                    Some(s) => {
                        let send = s.send();
                        ControlFrame::Reset(id, code, send.sent_end, send.next_seq)
                    }
                    None => continue,
                },
                Control::Skip(id) => match self.streams.get_mut(&id) {
                    Some(s) if !s.has(flag::RESET) => {
                        let (offset, seq) = s
                            .bufs
                            .as_ref()
                            .map_or((s.send().acked_prefix, s.send().next_seq), |b| {
                                b.send.skip_point(&b.st.send)
                            });
                        ControlFrame::Skip(id, offset, seq)
                    }
                    _ => continue,
                },
            };
            return Some((c, frame));
        }
        None
    }

    /// Puts a control item back (it did not fit, or its packet was lost).
    pub fn requeue_control(&mut self, c: Control) {
        match c {
            Control::MaxData if !self.max_data_queued => {
                self.max_data_queued = true;
                self.control.push_back(c);
            }
            Control::MaxData => {}
            Control::MaxStreamData(id) => {
                if let Some(s) = self.streams.get_mut(&id) {
                    if !s.has(flag::MSD_QUEUED) {
                        s.set(flag::MSD_QUEUED);
                        self.control.push_back(c);
                    }
                }
            }
            // Queued by the expiry pass and resent from here; one already
            // queued carries the newest point, so a lost copy merges into it.
            Control::Skip(id) => {
                if self.streams.get(&id).is_some_and(|s| !s.has(flag::RESET)) {
                    if self.control.contains(&c) {
                        self.skip_settled(id);
                    } else {
                        self.control.push_back(c);
                    }
                }
            }
            Control::Fin(_) | Control::Reset(..) => self.control.push_back(c),
        }
    }

    /// One STREAM_SKIP of `id` is no longer queued or in flight
    /// (acknowledged, or merged into a queued one).
    ///
    /// Invariant kept here and in the expiry pass: `SKIP_QUEUED` is set
    /// while any skip of the stream is queued or in flight, so the stream
    /// is not freed while the peer may still wait for one.
    fn skip_settled(&mut self, id: StreamId) {
        let t = self.deadlines.as_mut().and_then(|d| d.streams.get_mut(&id));
        let out = t.map_or(0, |t| {
            t.skips_out = t.skips_out.saturating_sub(1);
            t.skips_out
        });
        if out == 0 {
            if let Some(s) = self.streams.get_mut(&id) {
                s.clear(flag::SKIP_QUEUED);
            }
        }
    }

    /// True if control frames are owed.
    pub fn has_control(&self) -> bool {
        !self.control.is_empty()
    }

    /// Our FIN or RESET for `id` was acknowledged.
    pub fn on_control_acked(&mut self, c: Control) {
        if let Control::Skip(id) = c {
            self.skip_settled(id);
            self.gc(id);
        }
        if let Control::Fin(id) | Control::Reset(id, _) = c {
            if let Some(s) = self.streams.get_mut(&id) {
                s.set(flag::FIN_ACKED);
            }
            self.gc(id);
        }
    }
}
