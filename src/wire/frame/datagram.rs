//! The DATAGRAM frame: one unreliable application datagram, carried whole.
//!
//! Owns: the DATAGRAM frame's two type numbers (with and without a length
//! field) and the size arithmetic the packet builder and the session's
//! largest-payload query share.
//! Never: copies data (a parsed frame borrows the payload) or judges
//! whether datagrams were negotiated; that is the session's call.

use super::super::codec::{varint_len, Reader, Writer};
use super::super::WireError;
use super::ty;

/// Type bit: a length field is present (absent means the data runs to the
/// end of the packet).
const LEN: u64 = 0x01;

/// Bytes a DATAGRAM frame with a length field adds to `data_len` bytes of
/// data: its type and its length.
pub const fn datagram_overhead(data_len: usize) -> usize {
    1 + varint_len(data_len as u64)
}

/// Bytes of a DATAGRAM frame with a length field carrying `data_len` bytes.
pub const fn datagram_frame_len(data_len: usize) -> usize {
    datagram_overhead(data_len) + data_len
}

/// The largest data length whose DATAGRAM frame (with a length field) fits
/// in `space` bytes; 0 if not even an empty one fits.
pub fn max_datagram_data_in(space: usize) -> usize {
    // The length field takes 1, 2, 4 or 8 bytes; keep the best fit.
    [(1usize, 63usize), (2, (1 << 14) - 1), (4, (1 << 30) - 1)]
        .into_iter()
        .filter_map(|(size, cap)| Some(space.checked_sub(1 + size)?.min(cap)))
        .max()
        .unwrap_or(0)
}

/// Writes a DATAGRAM frame with a length field carrying `data`, or nothing
/// on error.
pub fn encode_datagram(w: &mut Writer, data: &[u8]) -> Result<(), WireError> {
    if w.remaining() < datagram_frame_len(data.len()) {
        return Err(WireError::BufferTooSmall);
    }
    w.all_or_nothing(|w| {
        w.put_varint(ty::DATAGRAM | LEN)?;
        w.put_varint(data.len() as u64)?;
        w.put_slice(data)
    })
}

/// Parses a DATAGRAM frame's body after its type `t` (0x30 or 0x31).
pub(super) fn parse_body<'a>(t: u64, r: &mut Reader<'a>) -> Result<&'a [u8], WireError> {
    if t & LEN == 0 {
        return Ok(r.rest());
    }
    let len = r.varint()?;
    r.bytes(usize::try_from(len).map_err(|_| WireError::Truncated)?)
}

#[cfg(test)]
mod tests {
    use super::super::Frame;
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn encode(data: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; datagram_frame_len(data.len())];
        let mut w = Writer::new(&mut buf);
        encode_datagram(&mut w, data).unwrap();
        assert_eq!(w.remaining(), 0);
        buf
    }

    fn parse(bytes: &[u8]) -> Result<Frame<'_>, WireError> {
        let mut r = Reader::new(bytes);
        let f = Frame::parse(&mut r)?;
        assert!(r.is_empty(), "left over after {f:?}");
        Ok(f)
    }

    #[test]
    fn golden_datagram_with_len() {
        assert_eq!(encode(b"hi"), [0x31, 0x02, b'h', b'i']);
        assert_eq!(parse(&[0x31, 0x02, b'h', b'i']), Ok(Frame::Datagram(b"hi")));
        assert_eq!(encode(b""), [0x31, 0x00]);
        // 64 bytes take a two-byte length.
        let long = [7u8; 64];
        let bytes = encode(&long);
        assert_eq!(bytes[..3], [0x31, 0x40, 0x40]);
        assert_eq!(bytes.len(), 67);
    }

    #[test]
    fn golden_datagram_to_the_end() {
        assert_eq!(parse(&[0x30, 1, 2, 3]), Ok(Frame::Datagram(&[1, 2, 3])));
        assert_eq!(parse(&[0x30]), Ok(Frame::Datagram(&[])));
    }

    #[test]
    fn malformed_datagrams_are_rejected() {
        assert_eq!(parse(&[0x31, 0x03, 1, 2]), Err(WireError::Truncated));
        assert_eq!(parse(&[0x31]), Err(WireError::Truncated));
        assert!(Frame::Datagram(b"x").is_ack_eliciting());
        let mut small = [0u8; 3];
        assert_eq!(
            encode_datagram(&mut Writer::new(&mut small), b"xy"),
            Err(WireError::BufferTooSmall)
        );
        assert_eq!(small, [0; 3], "nothing written");
    }

    #[test]
    fn sizes_are_tight() {
        assert_eq!(datagram_overhead(0), 2);
        assert_eq!(datagram_overhead(63), 2);
        assert_eq!(datagram_overhead(64), 3);
        assert_eq!(max_datagram_data_in(1), 0);
        assert_eq!(max_datagram_data_in(2), 0);
        assert_eq!(max_datagram_data_in(65), 63);
        // 66 bytes: 63 with a one-byte length, or 63 with two: 63.
        assert_eq!(max_datagram_data_in(66), 63);
        assert_eq!(max_datagram_data_in(67), 64);
        assert_eq!(max_datagram_data_in(1400), 1397);
    }

    proptest! {
        #[test]
        fn datagrams_round_trip(data in proptest::collection::vec(any::<u8>(), 0..3000)) {
            let bytes = encode(&data);
            prop_assert_eq!(bytes.len(), Frame::Datagram(&data).encoded_len());
            prop_assert_eq!(parse(&bytes), Ok(Frame::Datagram(&data)));
        }

        #[test]
        fn max_data_in_is_tight(space in 0usize..20_000) {
            let n = max_datagram_data_in(space);
            if space >= 2 {
                prop_assert!(datagram_frame_len(n) <= space);
                prop_assert!(datagram_frame_len(n + 1) > space);
            } else {
                prop_assert_eq!(n, 0);
            }
        }
    }
}
