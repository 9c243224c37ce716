//! The application's calls on a session's streams: create, send, receive,
//! prioritise, close, reset, and what it may read about them.
//!
//! Owns: forwarding each call to the stream manager with the session's
//! time (and round-trip estimate, for receive), refusing new work once the
//! session is closing, and tracing what the application did to a stream.
//! Never: keeps stream state itself (the stream manager does) or sends
//! anything: frames go out when the endpoint next asks the session for a
//! datagram.

use alloc::vec::Vec;
use bytes::Bytes;
use core::ops::Range;
use core::time::Duration;

use super::Session;
use crate::ids::StreamId;
use crate::streams::{SendOptions, Stream, StreamError, StreamStats};
use crate::trace::{trace_event, Side, TraceEvent};

impl Session {
    fn open(&self) -> Result<(), StreamError> {
        if self.is_closed() {
            Err(StreamError::SessionClosed)
        } else {
            Ok(())
        }
    }

    /// Creates stream `id` (the chapter's `create_stream`). Stream 0 exists
    /// already; an id in use is [`StreamError::AlreadyExists`].
    pub fn create_stream(&mut self, id: StreamId) -> Result<(), StreamError> {
        self.open()?;
        self.streams.create(self.now, id)?;
        trace_event!(
            self.trace.tracer,
            self.now,
            Some(self.id),
            TraceEvent::StreamOpened {
                stream: id,
                by: Side::Local
            }
        );
        Ok(())
    }

    /// Gets stream `id`, creating it if it does not exist yet (either side
    /// may open any id).
    pub fn open_stream(&mut self, id: StreamId) -> Result<(), StreamError> {
        match self.create_stream(id) {
            Err(StreamError::AlreadyExists(_)) => Ok(()),
            other => other,
        }
    }

    /// Stream `id`, unless missing or closed (the chapter's `get_stream`).
    pub fn stream(&self, id: StreamId) -> Option<&Stream> {
        self.streams.get(id)
    }

    /// Ids of the session's open streams, ascending (the chapter's
    /// `get_streams`).
    pub fn stream_ids(&self) -> Vec<StreamId> {
        self.streams.ids().collect()
    }

    /// Sends one message of any size up to the limit on stream `id`;
    /// returns its sequence number.
    pub fn send(&mut self, id: StreamId, data: impl Into<Bytes>) -> Result<u64, StreamError> {
        self.open()?;
        self.streams.send(self.now, id, data.into())
    }

    /// Sends one message with options: a deadline after which it is worth
    /// nothing (see [`SendOptions`]); returns its sequence number. Without
    /// a deadline in `opts` the stream's lifetime applies, if it has one
    /// ([`set_stream_lifetime`](Self::set_stream_lifetime)). A message that
    /// can no longer arrive in time is abandoned and a
    /// [`StreamEvent::MessageExpired`](crate::StreamEvent) says so; the
    /// peer skips it and delivers the messages after it in order.
    pub fn send_with(
        &mut self,
        id: StreamId,
        data: impl Into<Bytes>,
        opts: SendOptions,
    ) -> Result<u64, StreamError> {
        self.open()?;
        self.streams.send_with(self.now, id, data.into(), opts)
    }

    /// Sets the default lifetime of stream `id`'s messages: each message
    /// sent after this call without a deadline of its own gets
    /// `now + lifetime` (`send`, `send_all` and `send_with` alike).
    /// `None` makes later messages reliable again. Messages already queued
    /// keep the deadline they got.
    pub fn set_stream_lifetime(
        &mut self,
        id: StreamId,
        lifetime: Option<Duration>,
    ) -> Result<(), StreamError> {
        self.streams.set_lifetime(id, lifetime)
    }

    /// The default lifetime of stream `id`'s messages, if it has one.
    pub fn stream_lifetime(&self, id: StreamId) -> Option<Duration> {
        self.streams.lifetime(id)
    }

    /// Sends bulk data cut into messages of the configured segment size
    /// (64 KiB by default); returns the sequence numbers used.
    pub fn send_all(
        &mut self,
        id: StreamId,
        data: impl Into<Bytes>,
    ) -> Result<Range<u64>, StreamError> {
        let segment = self.cfg.segment_size;
        self.send_all_with(id, data, segment)
    }

    /// [`send_all`](Self::send_all) with a segment size for this call.
    pub fn send_all_with(
        &mut self,
        id: StreamId,
        data: impl Into<Bytes>,
        segment: usize,
    ) -> Result<Range<u64>, StreamError> {
        self.open()?;
        self.streams.send_all(self.now, id, data.into(), segment)
    }

    /// The next whole message on stream `id`, if one is ready.
    /// `Err(Finished)` once the peer ended the stream and all was read.
    pub fn recv(&mut self, id: StreamId) -> Result<Option<Bytes>, StreamError> {
        let rtt = self.recovery.rtt().smoothed();
        self.streams.recv(self.now, rtt, id)
    }

    /// Sets a stream's priority, 0..=1000 (default 500).
    pub fn set_priority(&mut self, id: StreamId, priority: u16) -> Result<(), StreamError> {
        self.streams.set_priority(id, priority)
    }

    /// Closes stream `id` gracefully: queued messages are still delivered,
    /// then the peer sees its end.
    pub fn close_stream(&mut self, id: StreamId) -> Result<(), StreamError> {
        self.streams.close(id)?;
        trace_event!(
            self.trace.tracer,
            self.now,
            Some(self.id),
            TraceEvent::StreamClosed {
                stream: id,
                by: Side::Local
            }
        );
        Ok(())
    }

    /// Closes every open stream of the session.
    pub fn close_all_streams(&mut self) {
        self.streams.close_all()
    }

    /// Abandons stream `id` at once, telling the peer `code`.
    pub fn reset_stream(&mut self, id: StreamId, code: u64) -> Result<(), StreamError> {
        self.streams.reset(id, code)?;
        trace_event!(
            self.trace.tracer,
            self.now,
            Some(self.id),
            TraceEvent::StreamReset {
                stream: id,
                code,
                by: Side::Local
            }
        );
        Ok(())
    }

    /// Statistics of stream `id` (the chapter's `get_statistics`).
    pub fn stream_stats(&self, id: StreamId) -> Option<StreamStats> {
        self.streams.stats(self.now, id, self.id)
    }

    /// True when every message queued on every stream (closed ones
    /// included) was acknowledged.
    pub fn is_flushed(&self) -> bool {
        self.streams.is_flushed()
    }
}
