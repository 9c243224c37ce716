//! What the core tells the application: sessions coming and going, stream
//! happenings, and datagrams' arrivals and fates.
//!
//! Owns: the [`Event`] type and the typed reasons a session ends.
//! Never: carries message payloads (those are read with `recv`), so the
//! event queue stays small however much data flows.

use bytes::Bytes;
use core::net::SocketAddr;

use crate::ids::{NodeId, SessionId, StreamId};
use crate::streams::{DatagramEvent, StreamEvent};
pub use crate::violation::Violation;

/// Something the application should know about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
    /// 0-RTT: the first `messages` messages of `stream` on this accepted
    /// session came with the initiator's first flight, before the
    /// handshake ended (`Endpoint::connect_with_early` on the other side).
    /// Such messages may be a replay of another session's first flight
    /// (docs/SECURITY.md): act on them only where doing it twice is
    /// harmless. Raised before the stream's `Readable`.
    EarlyMessages {
        /// The session.
        session: SessionId,
        /// The stream.
        stream: StreamId,
        /// How many messages, from the stream's first.
        messages: u64,
    },
    /// 0-RTT refused: the peer did not take this session's ticket, so the
    /// `messages` early messages of `stream` did not arrive with the first
    /// flight. They go out again once the session is up, as any message:
    /// nothing is lost, nothing is delivered twice.
    EarlyRefused {
        /// The session.
        session: SessionId,
        /// The stream.
        stream: StreamId,
        /// How many messages, from the stream's first.
        messages: u64,
    },
    /// Datagrams arrived for the session, or the fate of one it sent with
    /// [`DatagramOptions::report_fate`](crate::DatagramOptions::report_fate)
    /// is known.
    Datagram {
        /// The session.
        session: SessionId,
        /// What happened.
        event: DatagramEvent,
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
            | Event::Stream { session, .. }
            | Event::EarlyMessages { session, .. }
            | Event::EarlyRefused { session, .. }
            | Event::Datagram { session, .. } => *session,
        }
    }

    /// The stream the event is about, if any.
    pub fn stream(&self) -> Option<StreamId> {
        match self {
            Event::Stream { event, .. } => Some(event.stream()),
            _ => None,
        }
    }
}

/// Close codes on the wire (CLOSE frame). Codes from
/// [`APPLICATION_CODE_BASE`](code::APPLICATION_CODE_BASE) up carry an
/// application's own code; [`NO_ERROR`](code::NO_ERROR) is an orderly close
/// and reads as application code 0; the codes between are protocol errors.
pub mod code {
    /// Closed without error: an orderly close, read as application code 0.
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

    /// The wire code of application code `app`: `0x100 + app`, held to the
    /// largest varint.
    pub(crate) fn from_application(app: u64) -> u64 {
        app.saturating_add(APPLICATION_CODE_BASE)
            .min(crate::wire::MAX_VARINT)
    }
}

impl CloseReason {
    /// What a CLOSE frame from the peer with `wire_code` means: an
    /// application code n (sent as `0x100 + n`), an orderly close
    /// ([`code::NO_ERROR`], the same as application code 0), or a protocol
    /// error this side made.
    pub(crate) fn from_peer(wire_code: u64, reason: Bytes) -> CloseReason {
        match wire_code {
            code::NO_ERROR => CloseReason::Peer { code: 0, reason },
            c if c >= code::APPLICATION_CODE_BASE => CloseReason::Peer {
                code: c - code::APPLICATION_CODE_BASE,
                reason,
            },
            c => CloseReason::PeerError { code: c, reason },
        }
    }
}

/// Why a session ended or a handshake failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// This side's application closed it with this code.
    Local {
        /// The application's code.
        code: u64,
    },
    /// The peer's application closed it, or the peer closed in an orderly
    /// way without a code of its own (wire code 0, read as code 0).
    Peer {
        /// The peer application's code.
        code: u64,
        /// The peer's reason text, as sent (at most 256 bytes).
        reason: Bytes,
    },
    /// The peer closed it because of a protocol error on this side (the
    /// wire code, one of [`close_code`](crate::close_code)).
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
    /// The peer answered with a stateless reset: it no longer knows the
    /// session (it restarted, or lost the session's state). Only the peer
    /// can send one: it ends with a token the peer gave in the handshake.
    StatelessReset,
}

impl core::fmt::Display for CloseReason {
    /// One line for logs and error messages; the peer's reason text is shown
    /// when it is UTF-8, its length otherwise.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        fn text(f: &mut core::fmt::Formatter<'_>, reason: &Bytes) -> core::fmt::Result {
            match core::str::from_utf8(reason) {
                Ok("") => Ok(()),
                Ok(s) => write!(f, ": {s:?}"),
                Err(_) => write!(f, " ({} bytes of reason)", reason.len()),
            }
        }
        match self {
            CloseReason::Local { code } => write!(f, "closed by this side (code {code})"),
            CloseReason::Peer { code, reason } => {
                write!(f, "closed by the peer (code {code})")?;
                text(f, reason)
            }
            CloseReason::PeerError { code, reason } => {
                write!(f, "the peer reported protocol error {code}")?;
                text(f, reason)
            }
            CloseReason::Violation(v) => write!(f, "the peer broke the protocol: {v}"),
            CloseReason::IdleTimeout => f.write_str("idle timeout: nothing heard from the peer"),
            CloseReason::HandshakeTimeout => f.write_str(
                "handshake timeout: no answer (peer unreachable, or a different shared seed)",
            ),
            CloseReason::TooManySessions => f.write_str("the endpoint has no room for a session"),
            CloseReason::StatelessReset => f.write_str(
                "stateless reset: the peer no longer knows this session (it restarted or lost its state)",
            ),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn peer_close_codes_map_to_reasons() {
        let r = || Bytes::from_static(b"bye");
        let orderly = CloseReason::Peer {
            code: 0,
            reason: r(),
        };
        assert_eq!(CloseReason::from_peer(code::NO_ERROR, r()), orderly);
        assert_eq!(CloseReason::from_peer(0x100, r()), orderly);
        assert_eq!(
            CloseReason::from_peer(0x107, r()),
            CloseReason::Peer {
                code: 7,
                reason: r()
            }
        );
        for c in [code::INTERNAL, code::STREAM_LIMIT, 0xff] {
            assert_eq!(
                CloseReason::from_peer(c, r()),
                CloseReason::PeerError {
                    code: c,
                    reason: r()
                }
            );
        }
        assert_eq!(code::from_application(0), 0x100);
        assert_eq!(code::from_application(7), 0x107);
        assert_eq!(code::from_application(u64::MAX), crate::wire::MAX_VARINT);
        assert_eq!(
            CloseReason::from_peer(code::from_application(u64::MAX), r()),
            CloseReason::Peer {
                code: crate::wire::MAX_VARINT - 0x100,
                reason: r()
            }
        );
    }

    #[test]
    fn close_reasons_read_as_one_line() {
        let peer = CloseReason::Peer {
            code: 7,
            reason: Bytes::from_static(b"bye"),
        };
        assert_eq!(peer.to_string(), "closed by the peer (code 7): \"bye\"");
        let binary = CloseReason::PeerError {
            code: 2,
            reason: Bytes::from_static(&[0xff, 0xfe]),
        };
        assert_eq!(
            binary.to_string(),
            "the peer reported protocol error 2 (2 bytes of reason)"
        );
        assert!(CloseReason::HandshakeTimeout
            .to_string()
            .starts_with("handshake timeout"));
        assert_eq!(
            CloseReason::Violation(Violation::FlowControl).to_string(),
            "the peer broke the protocol: flow-control limit exceeded"
        );
    }
}
