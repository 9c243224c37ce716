//! The wire format: datagram bytes to typed packets, frames and transport
//! parameters, and back.
//!
//! Owns: every byte layout of the protocol (described in `docs/PROTOCOL.md`),
//! the QUIC-style variable-length integer, and the errors a malformed
//! datagram produces.
//! Never: keeps state, decrypts, allocates, or panics. Every parser takes a
//! byte slice from the network and returns `Ok` or a [`WireError`]; every
//! encoder writes into the caller's buffer through a [`Writer`] and, on
//! error, leaves the writer's position where it was.
//!
//! Layers of a datagram, outermost first:
//!
//! ```text
//!  datagram ──► header::Packet::parse ──► Long  { header, payload: Noise message }
//!                                     └─► Short { header (13 B, the AAD), body: ciphertext+tag }
//!  plaintext of a short packet ──► frame::Frames ──► Frame, Frame, ...
//!  Noise payload of Response / Finish ──► params::TransportParams::parse
//!  short datagram for a session lost ──► reset::reset_tail (token at the end)
//! ```

pub mod codec;
pub mod frame;
pub mod header;
pub mod params;
pub mod reset;

pub use codec::{varint_len, Reader, Writer, MAX_VARINT};
pub use frame::{
    ack_len, datagram_frame_len, datagram_overhead, encode_ack, encode_datagram,
    max_datagram_data_in, AckFrame, AckRanges, Frame, Frames, StreamFrame, StreamHeader,
    MAX_ACK_RANGES, MAX_REASON_LEN, PATH_DATA_LEN,
};
pub use header::{
    decode_packet_number, peek_dst, LongHeader, LongType, Packet, ShortHeader, MAX_TOKEN_LEN,
    SHORT_HEADER_LEN, VERSION,
};
pub use params::TransportParams;
pub use reset::{
    encode_reset, reset_len, reset_tail, MAX_RESET_LEN, MIN_RESET_LEN, RESET_TOKEN_LEN,
};

/// Why bytes could not be parsed, or a value could not be encoded.
///
/// Parsing errors mean the peer (or the network) sent something malformed;
/// the caller drops the datagram or closes the session with
/// `ProtocolViolation`. Encoding errors mean the caller's buffer or values
/// were wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The input ended in the middle of a field.
    #[error("input truncated")]
    Truncated,
    /// The output buffer has no room for the value being written.
    #[error("output buffer too small")]
    BufferTooSmall,
    /// A value above [`MAX_VARINT`] cannot be encoded as a varint.
    #[error("value too large for a varint")]
    VarintTooLarge,
    /// A long header carries a packet type this version does not define
    /// (the whole first byte is given).
    #[error("unknown packet type in first byte {0:#04x}")]
    UnknownPacketType(u8),
    /// A fixed bit is 0 or a reserved bit is 1 in a packet's first byte.
    #[error("reserved or fixed bits have the wrong value")]
    ReservedBits,
    /// A long header names a protocol version other than [`VERSION`].
    #[error("unsupported protocol version {0}")]
    UnsupportedVersion(u32),
    /// A token is longer than [`MAX_TOKEN_LEN`].
    #[error("token too long")]
    TokenTooLong,
    /// A token was given for a packet type that carries none (Response,
    /// Finish); only encoders return this.
    #[error("token not allowed in this packet type")]
    UnexpectedToken,
    /// A frame type this version does not define.
    #[error("unknown frame type {0:#x}")]
    UnknownFrame(u64),
    /// A stream id above `u32::MAX`.
    #[error("stream id {0} too large")]
    StreamIdTooLarge(u64),
    /// ACK ranges that underflow below packet number 0, or (when encoding)
    /// ranges that are empty, not descending, overlapping or adjacent.
    #[error("invalid ACK ranges")]
    InvalidAckRanges,
    /// An ACK frame with more than [`MAX_ACK_RANGES`] additional ranges.
    #[error("too many ACK ranges")]
    TooManyAckRanges,
    /// A CLOSE reason longer than [`MAX_REASON_LEN`].
    #[error("close reason too long")]
    ReasonTooLong,
    /// A STREAM frame whose offsets and lengths contradict each other.
    #[error("invalid STREAM frame")]
    InvalidStreamFrame,
    /// A STREAM_SKIP whose sequence number exceeds its offset: every
    /// message takes at least one unit, so no stream can have that.
    #[error("invalid STREAM_SKIP frame")]
    InvalidSkip,
    /// Malformed transport parameters (duplicate id, or a value that does
    /// not fill its length exactly).
    #[error("invalid transport parameters")]
    InvalidParams,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SessionId;

    /// One whole short-header datagram, built by hand, read through the
    /// re-exports only: header, then (pretending it was decrypted) frames.
    #[test]
    fn golden_short_datagram_end_to_end() {
        #[rustfmt::skip]
        let datagram = [
            0x60,                                           // short, fixed, key phase 1
            0, 0, 0, 0, 0, 0, 0x01, 0x02,                   // dst
            0, 0, 0, 0x07,                                  // pn low 32 bits
            0x01,                                           // PING
            0x03,                                           // HANDSHAKE_DONE
            0x05, 0x44, 0x00,                               // MAX_DATA 0x400
            0x00, 0x00,                                     // PADDING x2
        ];
        let (long, dst) = peek_dst(&datagram).unwrap();
        assert!(!long);
        assert_eq!(dst, SessionId(0x0102));
        let Ok(Packet::Short { header, body }) = Packet::parse(&datagram) else {
            panic!("not a short packet");
        };
        assert!(header.key_phase);
        assert_eq!(decode_packet_number(Some(6), header.pn_truncated), 7);
        let frames: alloc::vec::Vec<_> = Frames::new(body).collect();
        assert_eq!(
            frames,
            [
                Ok(Frame::Ping),
                Ok(Frame::HandshakeDone),
                Ok(Frame::MaxData(0x400)),
                Ok(Frame::Padding(2)),
            ]
        );
    }

    #[test]
    fn errors_print_their_payload() {
        use alloc::string::ToString;
        assert_eq!(
            WireError::UnknownPacketType(0xc7).to_string(),
            "unknown packet type in first byte 0xc7"
        );
        assert_eq!(
            WireError::UnknownFrame(0x2a).to_string(),
            "unknown frame type 0x2a"
        );
    }
}
