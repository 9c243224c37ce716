//! Transport parameters: the limits each side announces in its encrypted
//! handshake payload (the responder in Response, the initiator in Finish).
//!
//! Owns: the parameter ids, their encoding as (id, len, value) triples,
//! and the defaults that apply to a parameter the peer leaves out.
//! Never: judges whether a value is acceptable for a session; that is the
//! session layer's call. Unknown ids are skipped so later versions can add
//! parameters.

use super::codec::{varint_len, Reader, Writer};
use super::reset::RESET_TOKEN_LEN;
use super::WireError;

/// Parameter ids.
mod id {
    pub const MAX_DATA: u64 = 1;
    pub const MAX_STREAM_DATA: u64 = 2;
    pub const IDLE_TIMEOUT_MS: u64 = 3;
    pub const MAX_MESSAGE_SIZE: u64 = 4;
    pub const MAX_DATAGRAM_FRAME_SIZE: u64 = 5;
    pub const RESET_TOKEN: u64 = 6;
    pub const STREAM_SKIP: u64 = 7;
}

/// The limits one side announces to the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransportParams {
    /// Initial session-wide credit: stream units (a message's bytes plus
    /// one) the peer may send across all streams before a MAX_DATA frame
    /// raises it. Default 4 Mi.
    pub max_data: u64,
    /// Initial credit of every stream: stream units the peer may send on
    /// one stream before a MAX_STREAM_DATA frame raises it. Default 1 Mi.
    pub max_stream_data: u64,
    /// The sender's idle timeout in milliseconds; 0 means it has none.
    /// Default 30 000.
    pub idle_timeout_ms: u64,
    /// The largest message the sender accepts, in bytes. Default 1 MiB.
    pub max_message_size: u64,
    /// The largest DATAGRAM frame the sender accepts (type, length and
    /// data), in bytes; 0 means it accepts no datagrams. Default 0, so a
    /// peer that does not name it is sent none.
    pub max_datagram_frame_size: u64,
    /// The sender's stateless reset token for this session: a datagram
    /// ending with it means the sender lost the session. Sent as 16 raw
    /// bytes; default none (the peer cannot be reset).
    pub reset_token: Option<[u8; RESET_TOKEN_LEN]>,
    /// The sender accepts STREAM_SKIP frames (deadline messages). Sent as
    /// the value 1, after the reset token, only when true; default false,
    /// so a peer that does not name it is sent none.
    pub stream_skip: bool,
}

impl TransportParams {
    /// The values a parameter takes when the peer leaves it out.
    pub const DEFAULT: TransportParams = TransportParams {
        max_data: 4 << 20,
        max_stream_data: 1 << 20,
        idle_timeout_ms: 30_000,
        max_message_size: 1 << 20,
        max_datagram_frame_size: 0,
        reset_token: None,
        stream_skip: false,
    };

    fn entries(&self) -> [(u64, u64); 5] {
        [
            (id::MAX_DATA, self.max_data),
            (id::MAX_STREAM_DATA, self.max_stream_data),
            (id::IDLE_TIMEOUT_MS, self.idle_timeout_ms),
            (id::MAX_MESSAGE_SIZE, self.max_message_size),
            (id::MAX_DATAGRAM_FRAME_SIZE, self.max_datagram_frame_size),
        ]
    }

    /// Bytes [`TransportParams::encode`] writes.
    pub fn encoded_len(&self) -> usize {
        let token = match self.reset_token {
            Some(_) => varint_len(id::RESET_TOKEN) + 1 + RESET_TOKEN_LEN,
            None => 0,
        };
        let skip = if self.stream_skip { 3 } else { 0 };
        self.entries()
            .iter()
            .map(|(id, v)| varint_len(*id) + 1 + varint_len(*v))
            .sum::<usize>()
            + token
            + skip
    }

    /// Writes the five limits in id order, then the reset token if there
    /// is one, then `stream_skip` if true, or nothing on error (a value above `MAX_VARINT` gives
    /// [`WireError::VarintTooLarge`]).
    pub fn encode(&self, w: &mut Writer) -> Result<(), WireError> {
        if w.remaining() < self.encoded_len() {
            return Err(WireError::BufferTooSmall);
        }
        w.all_or_nothing(|w| {
            self.entries().iter().try_for_each(|(id, v)| {
                w.put_varint(*id)?;
                w.put_varint(varint_len(*v) as u64)?;
                w.put_varint(*v)
            })?;
            if let Some(token) = &self.reset_token {
                w.put_varint(id::RESET_TOKEN)?;
                w.put_varint(RESET_TOKEN_LEN as u64)?;
                w.put_slice(token)?;
            }
            if self.stream_skip {
                w.put_varint(id::STREAM_SKIP)?;
                w.put_varint(1)?;
                w.put_varint(1)?;
            }
            Ok(())
        })
    }

    /// Parses a whole parameter block. Any order; unknown ids skipped;
    /// missing ones take [`TransportParams::DEFAULT`]. A repeated known id,
    /// or a value that is not exactly one varint filling its length, gives
    /// [`WireError::InvalidParams`], as does a reset token of other than 16
    /// bytes; a block that ends inside a triple gives
    /// [`WireError::Truncated`].
    pub fn parse(bytes: &[u8]) -> Result<TransportParams, WireError> {
        let mut p = TransportParams::DEFAULT;
        let mut seen = [false; 7];
        let mut r = Reader::new(bytes);
        while !r.is_empty() {
            let id = r.varint()?;
            let len = r.varint()?;
            let value = r.bytes(usize::try_from(len).map_err(|_| WireError::Truncated)?)?;
            if id == id::RESET_TOKEN {
                if core::mem::replace(&mut seen[5], true) {
                    return Err(WireError::InvalidParams);
                }
                let token = <[u8; RESET_TOKEN_LEN]>::try_from(value)
                    .map_err(|_| WireError::InvalidParams)?;
                p.reset_token = Some(token);
                continue;
            }
            if id == id::STREAM_SKIP {
                if core::mem::replace(&mut seen[6], true) {
                    return Err(WireError::InvalidParams);
                }
                p.stream_skip = match value {
                    [0] => false,
                    [1] => true,
                    _ => return Err(WireError::InvalidParams),
                };
                continue;
            }
            let (slot, index) = match id {
                id::MAX_DATA => (&mut p.max_data, 0),
                id::MAX_STREAM_DATA => (&mut p.max_stream_data, 1),
                id::IDLE_TIMEOUT_MS => (&mut p.idle_timeout_ms, 2),
                id::MAX_MESSAGE_SIZE => (&mut p.max_message_size, 3),
                id::MAX_DATAGRAM_FRAME_SIZE => (&mut p.max_datagram_frame_size, 4),
                _ => continue,
            };
            let seen = seen.get_mut(index).ok_or(WireError::InvalidParams)?;
            if *seen {
                return Err(WireError::InvalidParams);
            }
            *seen = true;
            let mut vr = Reader::new(value);
            *slot = vr.varint().map_err(|_| WireError::InvalidParams)?;
            if !vr.is_empty() {
                return Err(WireError::InvalidParams);
            }
        }
        Ok(p)
    }
}

impl Default for TransportParams {
    fn default() -> Self {
        TransportParams::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::MAX_VARINT;
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn encode(p: &TransportParams) -> Vec<u8> {
        let mut buf = vec![0u8; p.encoded_len()];
        let mut w = Writer::new(&mut buf);
        p.encode(&mut w).unwrap();
        assert_eq!(w.remaining(), 0);
        buf
    }

    #[test]
    fn golden_params() {
        let p = TransportParams {
            max_data: 100_000,
            max_stream_data: 60,
            idle_timeout_ms: 0,
            max_message_size: 1000,
            max_datagram_frame_size: 1200,
            reset_token: None,
            stream_skip: false,
        };
        #[rustfmt::skip]
        let bytes = [
            0x01, 0x04, 0x80, 0x01, 0x86, 0xa0, // max_data 100000
            0x02, 0x01, 0x3c,                   // max_stream_data 60
            0x03, 0x01, 0x00,                   // idle_timeout_ms 0
            0x04, 0x02, 0x43, 0xe8,             // max_message_size 1000
            0x05, 0x02, 0x44, 0xb0,             // max_datagram_frame_size 1200
        ];
        assert_eq!(encode(&p), bytes);
        assert_eq!(TransportParams::parse(&bytes), Ok(p));
    }

    #[test]
    fn golden_defaults() {
        #[rustfmt::skip]
        let bytes = [
            0x01, 0x04, 0x80, 0x40, 0x00, 0x00, // 4 MiB
            0x02, 0x04, 0x80, 0x10, 0x00, 0x00, // 1 MiB
            0x03, 0x04, 0x80, 0x00, 0x75, 0x30, // 30 000 ms
            0x04, 0x04, 0x80, 0x10, 0x00, 0x00, // 1 MiB
            0x05, 0x01, 0x00,                   // no datagrams
        ];
        assert_eq!(encode(&TransportParams::default()), bytes);
        assert_eq!(TransportParams::parse(&[]), Ok(TransportParams::DEFAULT));
    }

    #[test]
    fn golden_stream_skip_after_the_token() {
        let p = TransportParams {
            stream_skip: true,
            ..TransportParams::DEFAULT
        };
        let bytes = encode(&p);
        assert_eq!(bytes[bytes.len() - 3..], [0x07, 0x01, 0x01]);
        assert_eq!(TransportParams::parse(&bytes), Ok(p));
        assert_eq!(
            TransportParams::parse(&[0x07, 0x01, 0x00]),
            Ok(TransportParams::DEFAULT)
        );
        for bad in [
            &[0x07, 0x01, 0x02][..],
            &[0x07, 0x00],
            &[0x07, 0x01, 0x01, 0x07, 0x01, 0x01],
        ] {
            assert_eq!(
                TransportParams::parse(bad),
                Err(WireError::InvalidParams),
                "{bad:02x?}"
            );
        }
    }

    #[test]
    fn golden_reset_token_comes_last() {
        let p = TransportParams {
            max_data: 1,
            max_stream_data: 2,
            idle_timeout_ms: 3,
            max_message_size: 4,
            max_datagram_frame_size: 5,
            reset_token: Some(core::array::from_fn(|i| 0xb0 + i as u8)),
            stream_skip: false,
        };
        #[rustfmt::skip]
        let bytes = [
            0x01, 0x01, 0x01,
            0x02, 0x01, 0x02,
            0x03, 0x01, 0x03,
            0x04, 0x01, 0x04,
            0x05, 0x01, 0x05,
            0x06, 0x10,                                     // reset token, 16 bytes
            0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
            0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
        ];
        assert_eq!(encode(&p), bytes);
        assert_eq!(p.encoded_len(), bytes.len());
        assert_eq!(TransportParams::parse(&bytes), Ok(p));
        // A token of another length, or a second one, is refused.
        assert_eq!(
            TransportParams::parse(&[0x06, 0x01, 0x00]),
            Err(WireError::InvalidParams)
        );
        let mut twice = bytes[15..].to_vec();
        twice.extend_from_slice(&bytes[15..]);
        assert_eq!(
            TransportParams::parse(&twice),
            Err(WireError::InvalidParams)
        );
    }

    #[test]
    fn unknown_ids_are_skipped_and_order_is_free() {
        let bytes = [
            0x04, 0x01, 0x05, 0x3f, 0x03, 0xaa, 0xbb, 0xcc, 0x01, 0x01, 0x07,
        ];
        let p = TransportParams::parse(&bytes).unwrap();
        assert_eq!(p.max_message_size, 5);
        assert_eq!(p.max_data, 7);
        assert_eq!(p.max_stream_data, TransportParams::DEFAULT.max_stream_data);
    }

    #[test]
    fn malformed_params_are_rejected() {
        // Duplicate.
        assert_eq!(
            TransportParams::parse(&[0x02, 0x01, 0x01, 0x02, 0x01, 0x02]),
            Err(WireError::InvalidParams)
        );
        // Value shorter than its length.
        assert_eq!(
            TransportParams::parse(&[0x01, 0x02, 0x05, 0x00]),
            Err(WireError::InvalidParams)
        );
        // Value longer than its length.
        assert_eq!(
            TransportParams::parse(&[0x01, 0x01, 0x40]),
            Err(WireError::InvalidParams)
        );
        // Empty value.
        assert_eq!(
            TransportParams::parse(&[0x01, 0x00]),
            Err(WireError::InvalidParams)
        );
        // Length past the end, and a triple cut short.
        assert_eq!(
            TransportParams::parse(&[0x01, 0x04, 0x80]),
            Err(WireError::Truncated)
        );
        assert_eq!(TransportParams::parse(&[0x01]), Err(WireError::Truncated));
        // A non-minimal value encoding that fills its length is fine.
        assert_eq!(
            TransportParams::parse(&[0x01, 0x02, 0x40, 0x05]).map(|p| p.max_data),
            Ok(5)
        );
    }

    #[test]
    fn too_large_values_are_not_encoded() {
        let p = TransportParams {
            idle_timeout_ms: MAX_VARINT + 1,
            ..TransportParams::DEFAULT
        };
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        assert_eq!(p.encode(&mut w), Err(WireError::VarintTooLarge));
        assert_eq!(w.written(), 0);
        let mut small = [0u8; 10];
        assert_eq!(
            TransportParams::DEFAULT.encode(&mut Writer::new(&mut small)),
            Err(WireError::BufferTooSmall)
        );
    }

    proptest! {
        #[test]
        fn params_round_trip(a in 0..=MAX_VARINT, b in 0..=MAX_VARINT, c in 0u64..1 << 20, d in 0u64..1 << 40,
                             e in 0u64..1 << 16, token: Option<[u8; RESET_TOKEN_LEN]>, skip: bool) {
            let p = TransportParams { max_data: a, max_stream_data: b, idle_timeout_ms: c, max_message_size: d, max_datagram_frame_size: e, reset_token: token, stream_skip: skip };
            prop_assert_eq!(TransportParams::parse(&encode(&p)), Ok(p));
        }

        #[test]
        fn random_params_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..48)) {
            if let Ok(p) = TransportParams::parse(&bytes) {
                prop_assert_eq!(TransportParams::parse(&encode(&p)), Ok(p));
            }
        }

        #[test]
        fn small_id_triples_never_panic(triples in proptest::collection::vec((0u8..8, 0u8..4, any::<u32>()), 0..8)) {
            // Biased towards well-formed triples to reach the duplicate and
            // length checks.
            let mut bytes = Vec::new();
            for (id, len, v) in triples {
                bytes.push(id);
                bytes.push(len);
                bytes.extend_from_slice(&v.to_be_bytes()[..usize::from(len)]);
            }
            let _ = TransportParams::parse(&bytes);
        }
    }
}
