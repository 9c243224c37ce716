//! Streams: many independent, ordered, flow-controlled message channels
//! inside one session.
//!
//! Owns: per-stream send and receive buffers, flow-control windows, the
//! priority scheduler, per-stream statistics and the stream manager.
//! Never: touches packets, keys or timers; the session layer moves frames
//! between the wire and these structures.

pub mod budget;
pub mod datagrams;
pub mod deadline;
pub mod flow;
pub mod manager;
pub mod map;
pub mod recv;
pub mod scheduler;
pub mod send;
pub mod stream;

pub use datagrams::{DatagramError, DatagramEvent, DatagramId, DatagramLimits, DatagramOptions};
pub(crate) use datagrams::{Datagrams, Unsent};
pub use deadline::SendOptions;
pub use manager::{Control, ControlFrame, StreamManager};
pub use recv::OutOfOrder;
pub use scheduler::{DEFAULT_PRIORITY, MAX_PRIORITY, MIN_PRIORITY};
pub use stream::{Stream, StreamStats};

use crate::ids::StreamId;

/// Default segment size of `send_all`: 64 KiB, as in the STT chapter.
pub const DEFAULT_SEGMENT_SIZE: usize = 64 * 1024;

/// Default of [`StreamLimits::max_session_buffer`]: 128 MiB, twice the
/// default `max_session_window`.
pub const DEFAULT_MAX_SESSION_BUFFER: u64 = 128 << 20;

/// Default of both [`StreamLimits::max_stream_window`] and
/// [`StreamLimits::max_session_window`]: 64 MiB, enough for one stream to
/// fill 1 Gbit/s across a 400 ms round trip.
const DEFAULT_MAX_WINDOW: u64 = 64 << 20;

/// Limits and initial windows of a session's streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamLimits {
    /// Streams open at once (both sides together).
    pub max_streams: usize,
    /// Largest message `send` accepts and the peer may send.
    pub max_message_size: u64,
    /// Initial per-stream receive window (256 KiB by default).
    pub stream_window: u64,
    /// Largest per-stream receive window auto-tuning may reach (64 MiB by
    /// default). A window grows only while the reader keeps up and the
    /// window is what holds the sender back, up to about four times what
    /// the reader's rate times the round trip needs. A window of `W` keeps
    /// up to about `3/4 W` in flight, so it fills a path whose rate times
    /// round trip (queueing included) is below that: the default fills
    /// 1 Gbit/s across 400 ms, or 10 Gbit/s across 40 ms, while nothing is
    /// lost (after a loss the data behind the gap holds its credit until
    /// the repair arrives, a round trip later). It is credit, not
    /// memory: without loss a fast reader holds next to nothing, and what
    /// a peer can make the session hold is bounded by
    /// `max_session_buffer` whatever the window.
    pub max_stream_window: u64,
    /// Initial session-wide receive window (1 MiB by default).
    pub session_window: u64,
    /// Largest session-wide receive window (64 MiB by default), grown by
    /// the same rule as a stream's; a stream can use no more than it.
    pub max_session_window: u64,
    /// Unacknowledged bytes a stream may hold before `send` says
    /// `WouldBlock` (64 MiB by default). What a stream has in flight is
    /// part of it, so a path needs it as large as the window it needs.
    pub max_send_queue: u64,
    /// Bytes a stream sends in one turn before the next stream of its
    /// priority gets the packet (round robin inside a priority); 64 KiB
    /// by default. Smaller interleaves equal streams more finely, larger
    /// finishes each message sooner.
    pub turn_quantum: u64,
    /// Bytes of received stream data one session may hold for the
    /// application, on all its streams together: whole messages not yet
    /// read, and messages being reassembled or waiting behind a gap. A peer
    /// that makes the session hold more closes it with
    /// `Violation::FlowControl`. Flow control alone does not bound this
    /// across streams: each stream's head message releases credit as it
    /// arrives (so that a message larger than a window can complete), so a
    /// session may hold the session window plus one message per stream.
    /// Must be at least `max_session_window + max_message_size`, what one
    /// stream can make it hold. Default 128 MiB: one stream at the default
    /// limits takes at most 80 MiB, which leaves 48 MiB for unfinished or unread
    /// messages on other streams. An application with many streams of
    /// large messages, or one that reads slowly, raises it.
    pub max_session_buffer: u64,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            max_streams: 1 << 20,
            max_message_size: 16 << 20,
            stream_window: 256 << 10,
            max_stream_window: DEFAULT_MAX_WINDOW,
            session_window: 1 << 20,
            max_session_window: DEFAULT_MAX_WINDOW,
            max_send_queue: 64 << 20,
            turn_quantum: scheduler::DEFAULT_QUANTUM,
            max_session_buffer: DEFAULT_MAX_SESSION_BUFFER,
        }
    }
}

/// Something that happened on a stream, for the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamEvent {
    /// The peer opened this stream by sending on it. Never raised for
    /// stream 0, which is open from the start: watch it for `Readable`.
    Opened(StreamId),
    /// Messages are ready to read (sent once until a read drains them).
    Readable(StreamId),
    /// The peer ended the stream and every message was delivered.
    Finished(StreamId),
    /// The peer abandoned the stream with this code.
    Reset(StreamId, u64),
    /// A stream whose `send` or `send_all` returned
    /// [`StreamError::WouldBlock`] can take more: acknowledgements brought
    /// its unacknowledged bytes under `StreamLimits::max_send_queue`.
    /// Emitted once per refusal (once for any number of refused calls
    /// before it), never for a stream that was not refused. A stream
    /// closed or reset (by either side, or with its session) while
    /// refused gets no `Writable`: its calls answer with the error.
    Writable(StreamId),
    /// The sender abandoned message `seq` of `stream`: its deadline came
    /// too close for it to arrive in time (see [`SendOptions`]). Once per
    /// abandoned message. The sender stops sending it; the peer still
    /// delivers it if all its bytes reach the peer before the skip does (a
    /// message given up with every byte in flight often arrives in time),
    /// so the peer's `StreamStats::messages_skipped` counts the messages
    /// never delivered.
    #[non_exhaustive]
    MessageExpired {
        /// The stream.
        stream: StreamId,
        /// The message's sequence number.
        seq: u64,
        /// Some of its bytes had been sent; false: it never left.
        sent: bool,
    },
}

impl StreamEvent {
    /// The stream the event is about.
    pub fn stream(&self) -> StreamId {
        match *self {
            StreamEvent::Opened(id)
            | StreamEvent::Readable(id)
            | StreamEvent::Finished(id)
            | StreamEvent::Reset(id, _)
            | StreamEvent::Writable(id)
            | StreamEvent::MessageExpired { stream: id, .. } => id,
        }
    }
}

/// Errors of stream calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// `create` of an id already open.
    #[error("stream {0} already exists")]
    AlreadyExists(StreamId),
    /// No such stream.
    #[error("stream {0} not found")]
    NotFound(StreamId),
    /// The stream was closed by this side.
    #[error("stream {0} is closed")]
    Closed(StreamId),
    /// The peer closed the stream; nothing more can be sent on it.
    #[error("stream {0} was closed by the peer")]
    ClosedByPeer(StreamId),
    /// The peer ended the stream and every message has been read.
    #[error("stream {0} is finished")]
    Finished(StreamId),
    /// The stream was reset by the peer.
    #[error("stream {0} was reset")]
    Reset(StreamId),
    /// The message is over the configured maximum.
    #[error("message of {size} bytes exceeds the maximum of {max}")]
    MessageTooLarge {
        /// Size of the message.
        size: u64,
        /// The configured maximum.
        max: u64,
    },
    /// The stream's send queue is full (`StreamLimits::max_send_queue`
    /// bytes sent or queued and not yet acknowledged); nothing was queued.
    /// A [`StreamEvent::Writable`] for this stream says when to retry.
    #[error("send queue of stream {0} is full")]
    WouldBlock(StreamId),
    /// Priority outside 0..=1000.
    #[error("priority {0} is outside 0..=1000")]
    InvalidPriority(u16),
    /// Too many streams open in this session.
    #[error("too many streams in this session")]
    TooManyStreams,
    /// The session is closing or closed.
    #[error("the session is closed")]
    SessionClosed,
    /// `send_all` with a zero segment size.
    #[error("segment size must be at least 1")]
    InvalidSegmentSize,
}
