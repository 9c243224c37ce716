//! What the core tells the application: sessions coming and going, and
//! stream happenings.
//!
//! Owns: the [`Event`] type and the typed reasons a session ends.
//! Never: carries message payloads (those are read with `recv`), so the
//! event queue stays small however much data flows.

use bytes::Bytes;
use core::net::SocketAddr;

use crate::ids::{NodeId, SessionId, StreamId};
use crate::streams::StreamEvent;

/// Something the application should know about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A session this endpoint initiated completed its handshake.
    Connected {
        /// The session.
        session: SessionId,
        /// The peer's address.
        peer: SocketAddr,
        /// The peer's proven identity.
        node: NodeId,
    },
    /// A session initiated by a peer completed its handshake.
    Accepted {
        /// The session.
        session: SessionId,
        /// The peer's address.
        peer: SocketAddr,
        /// The peer's proven identity.
        node: NodeId,
    },
    /// A handshake this endpoint initiated failed.
    ConnectFailed {
        /// The session id `connect` returned.
        session: SessionId,
        /// Why.
        reason: CloseReason,
    },
    /// An established session ended.
    Closed {
        /// The session.
        session: SessionId,
        /// Why.
        reason: CloseReason,
    },
    /// Something happened on one of the session's streams.
    Stream {
        /// The session.
        session: SessionId,
        /// What happened.
        event: StreamEvent,
    },
}

impl Event {
    /// The session the event is about.
    pub fn session(&self) -> SessionId {
        match self {
            Event::Connected { session, .. }
            | Event::Accepted { session, .. }
            | Event::ConnectFailed { session, .. }
            | Event::Closed { session, .. }
            | Event::Stream { session, .. } => *session,
        }
    }

    /// The stream the event is about, if any.
    pub fn stream(&self) -> Option<StreamId> {
        match self {
            Event::Stream { event, .. } => Some(match *event {
                StreamEvent::Opened(id)
                | StreamEvent::Readable(id)
                | StreamEvent::Finished(id)
                | StreamEvent::Reset(id, _) => id,
            }),
            _ => None,
        }
    }
}

/// Close codes on the wire (CLOSE frame). Codes from
/// [`APPLICATION_CODE_BASE`](code::APPLICATION_CODE_BASE) up carry an
/// application's own code.
pub mod code {
    /// Closed without error.
    pub const NO_ERROR: u64 = 0;
    /// Internal error of the sender.
    pub const INTERNAL: u64 = 1;
    /// The receiver of the CLOSE broke the protocol (bad frame).
    pub const PROTOCOL_VIOLATION: u64 = 2;
    /// The receiver of the CLOSE sent past a flow-control limit.
    pub const FLOW_CONTROL: u64 = 3;
    /// The receiver of the CLOSE opened too many streams.
    pub const STREAM_LIMIT: u64 = 4;
    /// A message over the size limit.
    pub const MESSAGE_TOO_LARGE: u64 = 5;
    /// Application codes are sent as this plus the application's code.
    pub const APPLICATION_CODE_BASE: u64 = 0x100;
}

/// Why a session ended or a handshake failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// This side's application closed it with this code.
    Local {
        /// The application's code.
        code: u64,
    },
    /// The peer's application closed it.
    Peer {
        /// The peer application's code.
        code: u64,
        /// The peer's reason text, as sent (at most 256 bytes).
        reason: Bytes,
    },
    /// The peer closed it because of a protocol error on this side (the
    /// wire code, see [`code`]).
    PeerError {
        /// The protocol code.
        code: u64,
        /// The peer's reason text.
        reason: Bytes,
    },
    /// This side closed it because the peer broke the protocol.
    Violation(Violation),
    /// Nothing heard from the peer for the idle timeout.
    IdleTimeout,
    /// The handshake did not complete in time (also what a wrong network
    /// key looks like from the initiator: the responder stays silent).
    HandshakeTimeout,
    /// The endpoint had no room for another session.
    TooManySessions,
}

/// A peer's misbehaviour that made this side close the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// A frame that does not parse, or a frame not allowed where it was.
    #[error("malformed or unexpected frame")]
    Protocol,
    /// Data past a flow-control limit.
    #[error("flow-control limit exceeded")]
    FlowControl,
    /// More streams than allowed.
    #[error("stream limit exceeded")]
    StreamLimit,
    /// A message over the size limit.
    #[error("message too large")]
    MessageTooLarge,
    /// Contradictory stream data.
    #[error("inconsistent stream data")]
    Inconsistent,
    /// An acknowledgement of a packet never sent.
    #[error("acknowledgement of a packet never sent")]
    InvalidAck,
}

impl Violation {
    /// The wire code sent in the CLOSE frame.
    pub fn wire_code(self) -> u64 {
        match self {
            Violation::Protocol | Violation::Inconsistent | Violation::InvalidAck => {
                code::PROTOCOL_VIOLATION
            }
            Violation::FlowControl => code::FLOW_CONTROL,
            Violation::StreamLimit => code::STREAM_LIMIT,
            Violation::MessageTooLarge => code::MESSAGE_TOO_LARGE,
        }
    }
}
