//! Identifiers a user sees: sessions, streams and nodes, and which side of
//! the handshake a session is.
//!
//! Owns: the newtypes and how they print, and [`Role`]. Every layer may
//! name these (the trace, the session, the endpoint): this module depends
//! on nothing of the crate.
//! Never: carries secrets. A `NodeId` is a public key, safe to log.

use core::fmt;

/// A stream's number inside its session. Any value `0..=u32::MAX`; stream 0
/// exists in every session without being created.
pub type StreamId = u32;

/// The session's routing id on the local endpoint: every packet addressed to
/// this session carries it, so sessions survive a change of the peer's address.
///
/// Chosen at random by the endpoint that receives on it; the peer knows it
/// under the same value. Prints as 16 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SessionId(pub u64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({:016x})", self.0)
    }
}

/// A node's identity: its static X25519 public key, derived from `node_seed`
/// and proven in every handshake.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NodeId(pub [u8; 32]);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId(")?;
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// Which side of the handshake a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sent the Initial.
    Initiator,
    /// Answered it.
    Responder,
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn session_id_prints_as_16_hex_digits() {
        assert_eq!(
            format!("{}", SessionId(0x1a2b3c4d5e6f7a8b)),
            "1a2b3c4d5e6f7a8b"
        );
        assert_eq!(format!("{}", SessionId(1)), "0000000000000001");
    }

    #[test]
    fn node_id_display_is_a_short_prefix() {
        let mut k = [0u8; 32];
        k[0] = 0xab;
        assert_eq!(format!("{}", NodeId(k)), "ab00000000000000");
    }
}
