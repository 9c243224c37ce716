//! Packet headers: the long header of the four handshake packets and the
//! 13-byte short header of every packet after the handshake.
//!
//! Owns: the first-byte bit layout, the version check, the token field,
//! routing (`peek_dst`) and the reconstruction of a full packet number from
//! its 32-bit truncation.
//! Never: decrypts, looks inside payloads, or panics. A short packet's body
//! is returned as opaque bytes (ciphertext + tag); the 13 header bytes are
//! its AEAD associated data.

use super::codec::{varint_len, Reader, Writer};
use super::WireError;
use crate::ids::SessionId;

/// The only protocol version this crate speaks.
pub const VERSION: u32 = 1;

/// Longest token an Initial or Retry may carry.
pub const MAX_TOKEN_LEN: usize = 64;

/// Size of a short header: first byte, 8-byte dst, 4-byte packet number.
pub const SHORT_HEADER_LEN: usize = 13;

/// Size of a long header before its token field: first byte, version, dst, src.
const LONG_FIXED_LEN: usize = 21;

/// First-byte bits.
mod bits {
    pub const LONG: u8 = 0x80;
    pub const FIXED: u8 = 0x40;
    pub const LONG_RESERVED: u8 = 0x30;
    pub const LONG_TYPE: u8 = 0x0f;
    pub const KEY_PHASE: u8 = 0x20;
    pub const SHORT_RESERVED: u8 = 0x1f;
}

/// The type of a long-header (handshake) packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LongType {
    /// Initiator to responder: Noise message 1, optionally with a Retry token.
    Initial,
    /// Responder to initiator: Noise message 2 with the responder's parameters.
    Response,
    /// Initiator to responder: Noise message 3 with the initiator's parameters.
    Finish,
    /// Responder to initiator: a token to echo in a new Initial; no payload.
    Retry,
    /// Initiator to responder: a session ticket, message 1 of the resume
    /// pattern and, as the fallback, message 1 of the full handshake.
    Resume,
    /// Responder to initiator: message 2 of the resume pattern with the
    /// responder's parameters.
    Resumed,
}

impl LongType {
    /// The type's value in bits 3-0 of the first byte.
    pub const fn bits(self) -> u8 {
        match self {
            LongType::Initial => 1,
            LongType::Response => 2,
            LongType::Finish => 3,
            LongType::Retry => 4,
            LongType::Resume => 5,
            LongType::Resumed => 6,
        }
    }

    /// The type with value `bits` (low four bits of the first byte), if any.
    pub const fn from_bits(bits: u8) -> Option<Self> {
        match bits {
            1 => Some(LongType::Initial),
            2 => Some(LongType::Response),
            3 => Some(LongType::Finish),
            4 => Some(LongType::Retry),
            5 => Some(LongType::Resume),
            6 => Some(LongType::Resumed),
            _ => None,
        }
    }

    /// True for the types with a token field (Initial and Retry).
    pub const fn has_token(self) -> bool {
        matches!(self, LongType::Initial | LongType::Retry)
    }
}

/// A long header. Its payload (the rest of the datagram) is kept apart in
/// [`Packet::Long`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongHeader<'a> {
    /// Packet type.
    pub ty: LongType,
    /// Protocol version; [`Packet::parse`] accepts only [`VERSION`].
    pub version: u32,
    /// The receiver's session id (0 in an Initial).
    pub dst: SessionId,
    /// The sender's session id (0 in a Retry).
    pub src: SessionId,
    /// Retry token (Initial and Retry only; empty otherwise).
    pub token: &'a [u8],
}

impl<'a> LongHeader<'a> {
    /// Bytes [`LongHeader::encode`] writes.
    pub fn encoded_len(&self) -> usize {
        if self.ty.has_token() {
            LONG_FIXED_LEN + varint_len(self.token.len() as u64) + self.token.len()
        } else {
            LONG_FIXED_LEN
        }
    }

    /// Writes the header (not the payload). Refuses a token longer than
    /// [`MAX_TOKEN_LEN`] and a non-empty token on Response or Finish.
    pub fn encode(&self, w: &mut Writer) -> Result<(), WireError> {
        if self.ty.has_token() && self.token.len() > MAX_TOKEN_LEN {
            return Err(WireError::TokenTooLong);
        }
        if !self.ty.has_token() && !self.token.is_empty() {
            return Err(WireError::UnexpectedToken);
        }
        if w.remaining() < self.encoded_len() {
            return Err(WireError::BufferTooSmall);
        }
        w.all_or_nothing(|w| {
            w.put_u8(bits::LONG | bits::FIXED | self.ty.bits())?;
            w.put_u32(self.version)?;
            w.put_u64(self.dst.0)?;
            w.put_u64(self.src.0)?;
            if self.ty.has_token() {
                w.put_varint(self.token.len() as u64)?;
                w.put_slice(self.token)?;
            }
            Ok(())
        })
    }

    fn parse(first: u8, r: &mut Reader<'a>) -> Result<LongHeader<'a>, WireError> {
        let version = r.u32()?;
        if version != VERSION {
            return Err(WireError::UnsupportedVersion(version));
        }
        if first & bits::FIXED == 0 || first & bits::LONG_RESERVED != 0 {
            return Err(WireError::ReservedBits);
        }
        let ty = LongType::from_bits(first & bits::LONG_TYPE)
            .ok_or(WireError::UnknownPacketType(first))?;
        let dst = SessionId(r.u64()?);
        let src = SessionId(r.u64()?);
        let token = if ty.has_token() {
            let len = r.varint()?;
            if len > MAX_TOKEN_LEN as u64 {
                return Err(WireError::TokenTooLong);
            }
            // len <= MAX_TOKEN_LEN, so the cast cannot truncate.
            r.bytes(len as usize)?
        } else {
            &[]
        };
        Ok(LongHeader {
            ty,
            version,
            dst,
            src,
            token,
        })
    }
}

/// A short header: every packet after the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShortHeader {
    /// Which of the two current packet keys sealed the body.
    pub key_phase: bool,
    /// The receiver's session id.
    pub dst: SessionId,
    /// The low 32 bits of the packet number; see [`decode_packet_number`].
    pub pn_truncated: u32,
}

impl ShortHeader {
    /// Bytes [`ShortHeader::encode`] writes: always [`SHORT_HEADER_LEN`].
    pub const fn encoded_len(&self) -> usize {
        SHORT_HEADER_LEN
    }

    /// Writes the 13 header bytes.
    pub fn encode(&self, w: &mut Writer) -> Result<(), WireError> {
        let mut b = [0u8; SHORT_HEADER_LEN];
        b[0] = bits::FIXED | if self.key_phase { bits::KEY_PHASE } else { 0 };
        b[1..9].copy_from_slice(&self.dst.0.to_be_bytes());
        b[9..13].copy_from_slice(&self.pn_truncated.to_be_bytes());
        w.put_slice(&b)
    }

    fn parse(first: u8, r: &mut Reader<'_>) -> Result<ShortHeader, WireError> {
        if first & bits::FIXED == 0 || first & bits::SHORT_RESERVED != 0 {
            return Err(WireError::ReservedBits);
        }
        let dst = SessionId(r.u64()?);
        let pn_truncated = r.u32()?;
        Ok(ShortHeader {
            key_phase: first & bits::KEY_PHASE != 0,
            dst,
            pn_truncated,
        })
    }
}

/// A parsed datagram: one packet per datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet<'a> {
    /// A handshake packet.
    Long {
        /// The header.
        header: LongHeader<'a>,
        /// The rest of the datagram: a Noise handshake message (Initial,
        /// Response, Finish); empty when a Retry is sent, ignored when one
        /// is received.
        payload: &'a [u8],
    },
    /// A protected packet.
    Short {
        /// The header (also the AEAD associated data).
        header: ShortHeader,
        /// Ciphertext followed by the 16-byte tag; not checked here.
        body: &'a [u8],
    },
}

impl<'a> Packet<'a> {
    /// Parses a whole datagram. Checks every header field; never looks
    /// inside the payload or body.
    pub fn parse(datagram: &'a [u8]) -> Result<Packet<'a>, WireError> {
        let mut r = Reader::new(datagram);
        let first = r.u8()?;
        if first & bits::LONG != 0 {
            let header = LongHeader::parse(first, &mut r)?;
            Ok(Packet::Long {
                header,
                payload: r.rest(),
            })
        } else {
            let header = ShortHeader::parse(first, &mut r)?;
            Ok(Packet::Short {
                header,
                body: r.rest(),
            })
        }
    }

    /// Bytes [`Packet::encode`] writes.
    pub fn encoded_len(&self) -> usize {
        match self {
            Packet::Long { header, payload } => header.encoded_len() + payload.len(),
            Packet::Short { header, body } => header.encoded_len() + body.len(),
        }
    }

    /// Writes the header followed by the payload or body, or nothing.
    pub fn encode(&self, w: &mut Writer) -> Result<(), WireError> {
        if w.remaining() < self.encoded_len() {
            return Err(WireError::BufferTooSmall);
        }
        w.all_or_nothing(|w| match self {
            Packet::Long { header, payload } => {
                header.encode(w)?;
                w.put_slice(payload)
            }
            Packet::Short { header, body } => {
                header.encode(w)?;
                w.put_slice(body)
            }
        })
    }
}

/// Cheap routing: whether the datagram has a long header, and its dst
/// session id. Checks only the length, not the version or reserved bits.
pub fn peek_dst(datagram: &[u8]) -> Result<(bool, SessionId), WireError> {
    let mut r = Reader::new(datagram);
    let long = r.u8()? & bits::LONG != 0;
    if long {
        r.u32()?;
    }
    Ok((long, SessionId(r.u64()?)))
}

/// The full packet number whose low 32 bits are `truncated` and which is
/// closest to the next expected one (`largest + 1`, or 0 when nothing was
/// received yet). Near the ends of the `u64` range the result stays inside
/// it rather than wrapping.
pub fn decode_packet_number(largest: Option<u64>, truncated: u32) -> u64 {
    const WIN: u64 = 1 << 32;
    const HALF: u64 = WIN / 2;
    let expected = largest.map_or(0, |l| l.saturating_add(1));
    let candidate = (expected & !(WIN - 1)) | u64::from(truncated);
    if candidate.saturating_add(HALF) <= expected {
        // The truncation wrapped forward; take the next window if it exists.
        candidate.checked_add(WIN).unwrap_or(candidate)
    } else if candidate > expected.saturating_add(HALF) && candidate >= WIN {
        candidate - WIN
    } else {
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn encode(p: &Packet) -> Vec<u8> {
        let mut buf = vec![0u8; p.encoded_len()];
        let mut w = Writer::new(&mut buf);
        p.encode(&mut w).unwrap();
        assert_eq!(w.remaining(), 0);
        buf
    }

    #[rustfmt::skip]
    const INITIAL: [u8; 26] = [
        0xc1,                                     // long, fixed, type 1 (Initial)
        0x00, 0x00, 0x00, 0x01,                   // version 1
        0, 0, 0, 0, 0, 0, 0, 0,                   // dst 0
        0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, // src
        0x02, 0xaa, 0xbb,                         // token len 2, token
        0x01, 0x02,                               // payload
    ];

    #[test]
    fn golden_initial() {
        let p = Packet::parse(&INITIAL).unwrap();
        let expect = Packet::Long {
            header: LongHeader {
                ty: LongType::Initial,
                version: VERSION,
                dst: SessionId(0),
                src: SessionId(0x1122_3344_5566_7788),
                token: &[0xaa, 0xbb],
            },
            payload: &[1, 2],
        };
        assert_eq!(p, expect);
        assert_eq!(encode(&expect), INITIAL);
        assert_eq!(peek_dst(&INITIAL), Ok((true, SessionId(0))));
    }

    #[test]
    fn golden_response_has_no_token_field() {
        #[rustfmt::skip]
        let bytes = [
            0xc2, 0, 0, 0, 1,
            0, 0, 0, 0, 0, 0, 0, 0x05,            // dst
            0, 0, 0, 0, 0, 0, 0, 0x09,            // src
            0x02,                                 // payload (not a token length)
        ];
        let header = LongHeader {
            ty: LongType::Response,
            version: VERSION,
            dst: SessionId(5),
            src: SessionId(9),
            token: &[],
        };
        assert_eq!(
            Packet::parse(&bytes),
            Ok(Packet::Long {
                header,
                payload: &[2]
            })
        );
        assert_eq!(
            encode(&Packet::Long {
                header,
                payload: &[2]
            }),
            bytes
        );
        assert_eq!(peek_dst(&bytes), Ok((true, SessionId(5))));
    }

    #[test]
    fn golden_finish_and_retry_first_bytes() {
        let h = |ty| LongHeader {
            ty,
            version: VERSION,
            dst: SessionId(1),
            src: SessionId(0),
            token: &[],
        };
        let first = |ty| {
            encode(&Packet::Long {
                header: h(ty),
                payload: &[],
            })[0]
        };
        assert_eq!(first(LongType::Finish), 0xc3);
        assert_eq!(first(LongType::Retry), 0xc4);
        // A Retry has a token field even when empty.
        assert_eq!(
            encode(&Packet::Long {
                header: h(LongType::Retry),
                payload: &[]
            })
            .len(),
            22
        );
    }

    #[test]
    fn golden_short() {
        #[rustfmt::skip]
        let bytes = [
            0x60,                                   // short, fixed, key phase 1
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // dst
            0xde, 0xad, 0xbe, 0xef,                 // pn low 32 bits
            0xff,                                   // body
        ];
        let header = ShortHeader {
            key_phase: true,
            dst: SessionId(0x0102_0304_0506_0708),
            pn_truncated: 0xdead_beef,
        };
        assert_eq!(
            Packet::parse(&bytes),
            Ok(Packet::Short {
                header,
                body: &[0xff]
            })
        );
        assert_eq!(
            encode(&Packet::Short {
                header,
                body: &[0xff]
            }),
            bytes
        );
        assert_eq!(peek_dst(&bytes), Ok((false, header.dst)));
        let plain = ShortHeader {
            key_phase: false,
            ..header
        };
        assert_eq!(
            encode(&Packet::Short {
                header: plain,
                body: &[]
            })[0],
            0x40
        );
    }

    #[test]
    fn malformed_headers_are_rejected() {
        let mut b = INITIAL;
        b[0] = 0xd1; // reserved bit 4
        assert_eq!(Packet::parse(&b), Err(WireError::ReservedBits));
        b[0] = 0x81; // fixed bit clear
        assert_eq!(Packet::parse(&b), Err(WireError::ReservedBits));
        b[0] = 0xc7;
        assert_eq!(Packet::parse(&b), Err(WireError::UnknownPacketType(0xc7)));
        b[0] = 0xc0;
        assert_eq!(Packet::parse(&b), Err(WireError::UnknownPacketType(0xc0)));
        let mut b = INITIAL;
        b[4] = 2;
        assert_eq!(Packet::parse(&b), Err(WireError::UnsupportedVersion(2)));
        let mut b = INITIAL;
        b[21] = 63;
        assert_eq!(Packet::parse(&b), Err(WireError::Truncated));
        b[21] = 0x40;
        b[22] = 65; // 2-byte varint 65
        assert_eq!(Packet::parse(&b), Err(WireError::TokenTooLong));
        assert_eq!(Packet::parse(&INITIAL[..22]), Err(WireError::Truncated));
        assert_eq!(Packet::parse(&[0x00; 13]), Err(WireError::ReservedBits));
        assert_eq!(Packet::parse(&[0x41; 13]), Err(WireError::ReservedBits));
        assert_eq!(Packet::parse(&[0x40; 12]), Err(WireError::Truncated));
        assert_eq!(Packet::parse(&[]), Err(WireError::Truncated));
        assert_eq!(peek_dst(&[0x40; 8]), Err(WireError::Truncated));
        assert_eq!(peek_dst(&INITIAL[..12]), Err(WireError::Truncated));
    }

    #[test]
    fn bad_tokens_are_not_encoded() {
        let long = [0u8; MAX_TOKEN_LEN + 1];
        let mut h = LongHeader {
            ty: LongType::Retry,
            version: VERSION,
            dst: SessionId(1),
            src: SessionId(0),
            token: &long,
        };
        let mut buf = [0u8; 128];
        let mut w = Writer::new(&mut buf);
        assert_eq!(h.encode(&mut w), Err(WireError::TokenTooLong));
        h.ty = LongType::Finish;
        h.token = &[1];
        assert_eq!(h.encode(&mut w), Err(WireError::UnexpectedToken));
        h.token = &[];
        let mut small = [0u8; 20];
        assert_eq!(
            h.encode(&mut Writer::new(&mut small)),
            Err(WireError::BufferTooSmall)
        );
        assert_eq!(w.written(), 0);
    }

    #[test]
    fn packet_numbers_decode_around_the_window() {
        assert_eq!(decode_packet_number(None, 0), 0);
        assert_eq!(decode_packet_number(None, 5), 5);
        assert_eq!(decode_packet_number(None, u32::MAX), u64::from(u32::MAX));
        // Just past a 2^32 boundary.
        assert_eq!(decode_packet_number(Some(0xffff_fffe), 1), 0x1_0000_0001);
        // A late packet from before the boundary.
        assert_eq!(
            decode_packet_number(Some(0x1_0000_0002), 0xffff_fff0),
            0xffff_fff0
        );
        // Both ends of u64 stay in range.
        assert_eq!(decode_packet_number(Some(u64::MAX), 0xffff_ffff), u64::MAX);
        assert_eq!(
            decode_packet_number(Some(u64::MAX), 0),
            0xffff_ffff_0000_0000
        );
        assert_eq!(
            decode_packet_number(Some(u64::MAX - 1), 0),
            0xffff_ffff_0000_0000
        );
    }

    fn arb_long() -> impl Strategy<Value = (LongType, u64, u64, Vec<u8>, Vec<u8>)> {
        let ty = prop_oneof![
            Just(LongType::Initial),
            Just(LongType::Response),
            Just(LongType::Finish),
            Just(LongType::Retry),
        ];
        let token = proptest::collection::vec(any::<u8>(), 0..=MAX_TOKEN_LEN);
        let payload = proptest::collection::vec(any::<u8>(), 0..80);
        (ty, any::<u64>(), any::<u64>(), token, payload)
    }

    proptest! {
        #[test]
        fn long_round_trips((ty, dst, src, token, payload) in arb_long()) {
            let token = if ty.has_token() { &token[..] } else { &[][..] };
            let header = LongHeader { ty, version: VERSION, dst: SessionId(dst), src: SessionId(src), token };
            let p = Packet::Long { header, payload: &payload };
            let bytes = encode(&p);
            prop_assert_eq!(Packet::parse(&bytes), Ok(p));
            prop_assert_eq!(peek_dst(&bytes), Ok((true, SessionId(dst))));
        }

        #[test]
        fn short_round_trips(key_phase: bool, dst: u64, pn: u32,
                             body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let header = ShortHeader { key_phase, dst: SessionId(dst), pn_truncated: pn };
            let p = Packet::Short { header, body: &body };
            let bytes = encode(&p);
            prop_assert_eq!(&bytes[..SHORT_HEADER_LEN], &encode(&Packet::Short { header, body: &[] })[..]);
            prop_assert_eq!(Packet::parse(&bytes), Ok(p));
        }

        #[test]
        fn random_datagrams_never_panic(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let parsed = Packet::parse(&data);
            let peeked = peek_dst(&data);
            if let Ok(p) = parsed {
                // Anything accepted re-encodes to a packet that parses the
                // same (bytes may differ in a non-minimal token length).
                let again = encode(&p);
                prop_assert!(again.len() <= data.len());
                prop_assert_eq!(Packet::parse(&again), Ok(p));
                let long = matches!(p, Packet::Long { .. });
                prop_assert_eq!(peeked.map(|x| x.0), Ok(long));
            }
        }

        #[test]
        fn mutated_initials_never_panic(edits in proptest::collection::vec((0usize..26, any::<u8>()), 1..4),
                                        cut in 0usize..=26) {
            let mut b = INITIAL;
            for (i, v) in edits {
                b[i] = v;
            }
            if let Ok(p) = Packet::parse(&b[..cut]) {
                let again = encode(&p);
                prop_assert_eq!(Packet::parse(&again), Ok(p));
            }
        }

        #[test]
        fn packet_numbers_near_expected_are_recovered(largest in 0u64..(1 << 62),
                                                      delta in -(1i64 << 31) + 1..(1i64 << 31)) {
            let expected = largest + 1;
            let pn = expected.saturating_add_signed(delta);
            let got = decode_packet_number(Some(largest), pn as u32);
            prop_assert_eq!(got, pn);
        }

        #[test]
        fn packet_number_decoding_keeps_the_low_bits(largest: Option<u64>, t: u32) {
            prop_assert_eq!(decode_packet_number(largest, t) as u32, t);
        }
    }
}
