//! The STREAM frame: a fragment of one message on one stream.
//!
//! Owns: the STREAM frame's optional fields (FRAG and LEN type bits), the
//! consistency rules between offsets and lengths, and the size arithmetic
//! the packet builder needs to fill a packet exactly.
//! Never: copies data. A parsed [`StreamFrame`] borrows the payload.

use super::super::codec::{varint_len, Reader, Writer, MAX_VARINT};
use super::super::WireError;
use super::{read_stream_id, ty};
use crate::ids::StreamId;

/// Type bit: a frag_offset field is present (absent means 0).
const FRAG: u64 = 0x01;
/// Type bit: a len field is present (absent means the data runs to the end).
const LEN: u64 = 0x02;

/// Everything of a STREAM frame except its data: what the packet builder
/// knows before it decides how many bytes fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamHeader {
    /// The stream.
    pub stream_id: StreamId,
    /// Byte offset in the stream of the first data byte.
    pub offset: u64,
    /// Sequence number of the message in the stream, from 0.
    pub seq: u64,
    /// Total length of the message this fragment belongs to.
    pub msg_len: u64,
    /// Offset of this fragment inside its message.
    pub frag_offset: u64,
}

/// Checks the rules that tie a STREAM frame's numbers together.
fn check(h: &StreamHeader, len: u64) -> Result<(), WireError> {
    let frag_end = h.frag_offset.checked_add(len);
    let stream_end = h.offset.checked_add(len);
    let ok = frag_end.is_some_and(|e| e <= h.msg_len)
        && h.frag_offset <= h.offset
        && stream_end.is_some_and(|e| e <= MAX_VARINT)
        && (len > 0 || h.msg_len == 0);
    if ok {
        Ok(())
    } else {
        Err(WireError::InvalidStreamFrame)
    }
}

impl StreamHeader {
    fn type_byte(&self, with_len: bool) -> u64 {
        ty::STREAM | if self.frag_offset != 0 { FRAG } else { 0 } | if with_len { LEN } else { 0 }
    }

    /// Bytes before the optional len field.
    fn fixed_len(&self) -> usize {
        1 + varint_len(u64::from(self.stream_id))
            + varint_len(self.offset)
            + varint_len(self.seq)
            + varint_len(self.msg_len)
            + if self.frag_offset != 0 {
                varint_len(self.frag_offset)
            } else {
                0
            }
    }

    /// Bytes [`StreamHeader::encode`] writes for `data_len` data bytes.
    pub fn encoded_len(&self, data_len: usize, with_len: bool) -> usize {
        let len_field = if with_len {
            varint_len(data_len as u64)
        } else {
            0
        };
        self.fixed_len()
            .saturating_add(len_field)
            .saturating_add(data_len)
    }

    /// The largest data length whose whole frame fits in `space` bytes, or 0
    /// if not even an empty frame fits. Does not apply the validity rules
    /// (the caller caps the result by what is left of the message).
    pub fn max_data_in(&self, space: usize, with_len: bool) -> usize {
        let Some(avail) = space.checked_sub(self.fixed_len()) else {
            return 0;
        };
        if !with_len {
            return avail;
        }
        // Try each size of the len field; keep the best fit.
        [
            (1, 63u64),
            (2, (1 << 14) - 1),
            (4, (1 << 30) - 1),
            (8, MAX_VARINT),
        ]
        .into_iter()
        .filter_map(|(size, cap)| {
            let n = avail.checked_sub(size)?;
            Some(n.min(usize::try_from(cap).unwrap_or(usize::MAX)))
        })
        .max()
        .unwrap_or(0)
    }

    /// Writes a STREAM frame carrying `data`, with a len field if `with_len`
    /// (required unless the frame is the last in the packet). Writes
    /// nothing on error; refuses what [`super::Frame::parse`] would reject
    /// with [`WireError::InvalidStreamFrame`].
    pub fn encode(&self, w: &mut Writer, data: &[u8], with_len: bool) -> Result<(), WireError> {
        check(self, data.len() as u64)?;
        if w.remaining() < self.encoded_len(data.len(), with_len) {
            return Err(WireError::BufferTooSmall);
        }
        w.all_or_nothing(|w| {
            w.put_varint(self.type_byte(with_len))?;
            w.put_varint(u64::from(self.stream_id))?;
            w.put_varint(self.offset)?;
            w.put_varint(self.seq)?;
            w.put_varint(self.msg_len)?;
            if self.frag_offset != 0 {
                w.put_varint(self.frag_offset)?;
            }
            if with_len {
                w.put_varint(data.len() as u64)?;
            }
            w.put_slice(data)
        })
    }
}

/// A parsed STREAM frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamFrame<'a> {
    /// The stream.
    pub stream_id: StreamId,
    /// Byte offset in the stream of the first data byte.
    pub offset: u64,
    /// Sequence number of the message in the stream, from 0.
    pub seq: u64,
    /// Total length of the message this fragment belongs to.
    pub msg_len: u64,
    /// Offset of this fragment inside its message.
    pub frag_offset: u64,
    /// The fragment's bytes, borrowed from the packet.
    pub data: &'a [u8],
}

impl<'a> StreamFrame<'a> {
    /// The frame without its data.
    pub const fn header(&self) -> StreamHeader {
        StreamHeader {
            stream_id: self.stream_id,
            offset: self.offset,
            seq: self.seq,
            msg_len: self.msg_len,
            frag_offset: self.frag_offset,
        }
    }

    /// True if this fragment ends its message.
    pub fn is_last_fragment(&self) -> bool {
        self.frag_offset.saturating_add(self.data.len() as u64) == self.msg_len
    }

    /// Parses the fields after the frame type `t` (0x10..=0x13).
    pub(super) fn parse_body(t: u64, r: &mut Reader<'a>) -> Result<StreamFrame<'a>, WireError> {
        let stream_id = read_stream_id(r)?;
        let offset = r.varint()?;
        let seq = r.varint()?;
        let msg_len = r.varint()?;
        let frag_offset = if t & FRAG != 0 { r.varint()? } else { 0 };
        let data = if t & LEN != 0 {
            let len = r.varint()?;
            r.bytes(usize::try_from(len).map_err(|_| WireError::Truncated)?)?
        } else {
            r.rest()
        };
        let f = StreamFrame {
            stream_id,
            offset,
            seq,
            msg_len,
            frag_offset,
            data,
        };
        check(&f.header(), data.len() as u64)?;
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Frame;
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn parse(bytes: &[u8]) -> Result<StreamFrame<'_>, WireError> {
        let mut r = Reader::new(bytes);
        match Frame::parse(&mut r)? {
            Frame::Stream(f) => {
                assert!(r.is_empty());
                Ok(f)
            }
            other => panic!("not a STREAM frame: {other:?}"),
        }
    }

    fn encode(h: &StreamHeader, data: &[u8], with_len: bool) -> Result<Vec<u8>, WireError> {
        let mut buf = vec![0u8; 256];
        let mut w = Writer::new(&mut buf);
        h.encode(&mut w, data, with_len)?;
        assert_eq!(w.written(), h.encoded_len(data.len(), with_len));
        Ok(w.filled().to_vec())
    }

    #[test]
    fn golden_stream_with_frag_and_len() {
        #[rustfmt::skip]
        let bytes = [
            0x13,       // STREAM | FRAG | LEN
            0x07,       // stream 7
            0x41, 0x00, // offset 256
            0x02,       // seq 2
            0x0a,       // msg_len 10
            0x04,       // frag_offset 4
            0x03,       // len 3
            b'a', b'b', b'c',
        ];
        let f = parse(&bytes).unwrap();
        let expect = StreamFrame {
            stream_id: 7,
            offset: 256,
            seq: 2,
            msg_len: 10,
            frag_offset: 4,
            data: b"abc",
        };
        assert_eq!(f, expect);
        assert!(!f.is_last_fragment());
        assert_eq!(encode(&f.header(), b"abc", true).unwrap(), bytes);
    }

    #[test]
    fn golden_stream_minimal_form() {
        // A whole 2-byte message at the start of stream 0, data to the end.
        let bytes = [0x10, 0x00, 0x00, 0x00, 0x02, b'h', b'i'];
        let f = parse(&bytes).unwrap();
        assert_eq!(
            f.header(),
            StreamHeader {
                stream_id: 0,
                offset: 0,
                seq: 0,
                msg_len: 2,
                frag_offset: 0
            }
        );
        assert_eq!(f.data, b"hi");
        assert!(f.is_last_fragment());
        assert_eq!(encode(&f.header(), b"hi", false).unwrap(), bytes);
        // An explicit frag_offset of 0 is accepted too.
        let f2 = parse(&[0x11, 0x00, 0x00, 0x00, 0x02, 0x00, b'h', b'i']).unwrap();
        assert_eq!(f2, f);
        // An empty message.
        let e = parse(&[0x12, 0x05, 0x09, 0x03, 0x00, 0x00]).unwrap();
        assert_eq!(
            (e.stream_id, e.offset, e.seq, e.msg_len, e.data),
            (5, 9, 3, 0, &[][..])
        );
    }

    #[test]
    fn inconsistent_frames_are_rejected() {
        let h = StreamHeader {
            stream_id: 1,
            offset: 10,
            seq: 0,
            msg_len: 4,
            frag_offset: 2,
        };
        // frag_offset + len > msg_len.
        assert_eq!(encode(&h, b"abc", true), Err(WireError::InvalidStreamFrame));
        assert_eq!(
            parse(&[0x13, 1, 10, 0, 4, 2, 3, 1, 2, 3]),
            Err(WireError::InvalidStreamFrame)
        );
        // frag_offset > offset.
        let h2 = StreamHeader { offset: 1, ..h };
        assert_eq!(encode(&h2, b"ab", true), Err(WireError::InvalidStreamFrame));
        assert_eq!(
            parse(&[0x13, 1, 1, 0, 4, 2, 2, 1, 2]),
            Err(WireError::InvalidStreamFrame)
        );
        // Empty data in a non-empty message.
        assert_eq!(encode(&h, b"", true), Err(WireError::InvalidStreamFrame));
        assert_eq!(
            parse(&[0x10, 1, 10, 0, 4]),
            Err(WireError::InvalidStreamFrame)
        );
        // offset + len beyond MAX_VARINT.
        let h3 = StreamHeader {
            offset: MAX_VARINT,
            frag_offset: 0,
            ..h
        };
        assert_eq!(encode(&h3, b"a", true), Err(WireError::InvalidStreamFrame));
        let mut far = vec![
            0x12, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0x01, 0x00,
        ];
        assert_eq!(parse(&far), Err(WireError::InvalidStreamFrame));
        far[9] = 0xfe;
        assert!(parse(&far).is_ok());
        // Stream id beyond u32.
        assert_eq!(
            parse(&[0x10, 0xc0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, b'x']),
            Err(WireError::StreamIdTooLarge(1 << 32))
        );
        // len past the end.
        assert_eq!(
            parse(&[0x12, 1, 0, 0, 4, 4, 1, 2]),
            Err(WireError::Truncated)
        );
    }

    #[test]
    fn max_data_in_fills_exactly() {
        let h = StreamHeader {
            stream_id: 3,
            offset: 1000,
            seq: 1,
            msg_len: 1 << 20,
            frag_offset: 500,
        };
        let fixed = h.encoded_len(0, false);
        assert_eq!(fixed, 1 + 1 + 2 + 1 + 4 + 2);
        assert_eq!(h.max_data_in(fixed - 1, false), 0);
        assert_eq!(h.max_data_in(fixed, true), 0);
        assert_eq!(h.max_data_in(fixed + 1, true), 0);
        assert_eq!(h.max_data_in(fixed + 64, true), 63);
        // 65 bytes left: 63 with a 1-byte len, or 63 with a 2-byte len.
        assert_eq!(h.max_data_in(fixed + 65, true), 63);
        assert_eq!(h.max_data_in(fixed + 66, true), 64);
        assert_eq!(h.max_data_in(fixed + 1200, false), 1200);
        assert_eq!(h.max_data_in(usize::MAX, false), usize::MAX - fixed);
    }

    fn arb_stream() -> impl Strategy<Value = (StreamHeader, Vec<u8>)> {
        let data = proptest::collection::vec(any::<u8>(), 0..100);
        (
            any::<u32>(),
            0u64..1 << 50,
            0u64..1 << 40,
            0u64..1 << 30,
            0u64..1 << 30,
            0u64..1 << 30,
            data,
        )
            .prop_map(|(stream_id, base, seq, frag, tail, before, data)| {
                let (frag_offset, msg_len) = if data.is_empty() {
                    (0, 0)
                } else {
                    (frag, frag + data.len() as u64 + tail)
                };
                let h = StreamHeader {
                    stream_id,
                    offset: base + frag_offset + before,
                    seq,
                    msg_len,
                    frag_offset,
                };
                (h, data)
            })
    }

    proptest! {
        #[test]
        fn stream_round_trips((h, data) in arb_stream(), with_len: bool) {
            let bytes = encode(&h, &data, with_len).unwrap();
            let f = parse(&bytes).unwrap();
            prop_assert_eq!(f.header(), h);
            prop_assert_eq!(f.data, &data[..]);
        }

        #[test]
        fn max_data_in_is_tight((h, _) in arb_stream(), space in 0usize..20_000, with_len: bool) {
            let n = h.max_data_in(space, with_len);
            if n > 0 {
                prop_assert!(h.encoded_len(n, with_len) <= space);
            }
            prop_assert!(h.encoded_len(n + 1, with_len) > space);
        }
    }
}
