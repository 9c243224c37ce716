//! The ways a peer can break the protocol.
//!
//! Owns: [`Violation`], what the layers that read the peer's bytes
//! (streams, session) report when those bytes break the protocol, and what
//! a session closed for it tells the application
//! ([`CloseReason::Violation`](crate::CloseReason::Violation)).
//! Never: depends on another module of the crate, so every layer can name
//! it without reaching up. The wire code each one is sent under lives with
//! the other close codes (`Violation::wire_code`, in `event.rs`).

/// A peer's misbehaviour that made this side close the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
