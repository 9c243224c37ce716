//! Byte cursors and QUIC variable-length integers (RFC 9000 §16).
//!
//! Owns: [`Reader`] (bounds-checked reads from a borrowed slice),
//! [`Writer`] (bounds-checked writes into a borrowed buffer) and the varint
//! encoding: the two high bits of the first byte give the length (00 = 1,
//! 01 = 2, 10 = 4, 11 = 8 bytes), the remaining bits the value, big-endian.
//! Never: panics, allocates, or writes part of a value. A failed `put_*`
//! leaves the buffer and the position as they were.

use super::WireError;

/// The largest value a varint can carry: 2^62 - 1.
pub const MAX_VARINT: u64 = (1 << 62) - 1;

/// Number of bytes [`Writer::put_varint`] uses for `v` (1, 2, 4 or 8).
///
/// Values above [`MAX_VARINT`] report 8, although they cannot be encoded.
pub const fn varint_len(v: u64) -> usize {
    if v < 1 << 6 {
        1
    } else if v < 1 << 14 {
        2
    } else if v < 1 << 30 {
        4
    } else {
        8
    }
}

/// A read cursor over a byte slice. Every read checks the length first and
/// returns [`WireError::Truncated`] (consuming nothing) when the input is
/// too short.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader positioned at the start of `buf`.
    pub const fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub const fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left to read.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unread bytes, without consuming them.
    pub fn peek_rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// The next `n` bytes, borrowed from the input.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self.pos.checked_add(n).ok_or(WireError::Truncated)?;
        let out = self.buf.get(self.pos..end).ok_or(WireError::Truncated)?;
        self.pos = end;
        Ok(out)
    }

    /// All unread bytes (possibly none); the reader is empty afterwards.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = self.peek_rest();
        self.pos = self.buf.len();
        out
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.array::<1>()?[0])
    }

    /// A big-endian `u32`.
    pub fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// A big-endian `u64`.
    pub fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A varint. Non-minimal encodings (a small value in a long form) are
    /// accepted, as in QUIC.
    pub fn varint(&mut self) -> Result<u64, WireError> {
        let first = *self.peek_rest().first().ok_or(WireError::Truncated)?;
        // Fixed-size reads per length: straight-line loads, no loop.
        Ok(match first >> 6 {
            0 => u64::from(self.array::<1>()?[0]),
            1 => u64::from(u16::from_be_bytes(self.array()?) & 0x3fff),
            2 => u64::from(u32::from_be_bytes(self.array()?) & 0x3fff_ffff),
            _ => u64::from_be_bytes(self.array()?) & MAX_VARINT,
        })
    }
}

/// A write cursor over a mutable buffer. Every `put_*` checks for room first
/// and returns [`WireError::BufferTooSmall`] without writing anything when
/// the value does not fit.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    /// A writer positioned at the start of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, pos: 0 }
    }

    /// Bytes written so far.
    pub const fn written(&self) -> usize {
        self.pos
    }

    /// Room left in the buffer.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// The bytes written so far.
    pub fn filled(&self) -> &[u8] {
        self.buf.get(..self.pos).unwrap_or_default()
    }

    /// Reserves the next `n` bytes and moves past them.
    fn take(&mut self, n: usize) -> Result<&mut [u8], WireError> {
        let end = self.pos.checked_add(n).ok_or(WireError::BufferTooSmall)?;
        let out = self
            .buf
            .get_mut(self.pos..end)
            .ok_or(WireError::BufferTooSmall)?;
        self.pos = end;
        Ok(out)
    }

    /// Writes `bytes` as is.
    pub fn put_slice(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        self.take(bytes.len())?.copy_from_slice(bytes);
        Ok(())
    }

    /// Writes `n` zero bytes (PADDING).
    pub fn put_zeros(&mut self, n: usize) -> Result<(), WireError> {
        self.take(n)?.fill(0);
        Ok(())
    }

    /// Writes one byte.
    pub fn put_u8(&mut self, v: u8) -> Result<(), WireError> {
        self.put_slice(&[v])
    }

    /// Writes a big-endian `u32`.
    pub fn put_u32(&mut self, v: u32) -> Result<(), WireError> {
        self.put_slice(&v.to_be_bytes())
    }

    /// Writes a big-endian `u64`.
    pub fn put_u64(&mut self, v: u64) -> Result<(), WireError> {
        self.put_slice(&v.to_be_bytes())
    }

    /// Writes `v` as a varint in its shortest form; values above
    /// [`MAX_VARINT`] are refused with [`WireError::VarintTooLarge`].
    pub fn put_varint(&mut self, v: u64) -> Result<(), WireError> {
        if v > MAX_VARINT {
            return Err(WireError::VarintTooLarge);
        }
        // One fixed-size store per length (a variable-length copy would be a
        // call to memcpy for a few bytes); the tag sits in the top two bits.
        // The casts cannot truncate: each arm's range bounds `v`.
        match varint_len(v) {
            1 => self.put_slice(&[v as u8]),
            2 => self.put_slice(&(0x4000 | v as u16).to_be_bytes()),
            4 => self.put_slice(&(0x8000_0000 | v as u32).to_be_bytes()),
            _ => self.put_slice(&(0xc000_0000_0000_0000 | v).to_be_bytes()),
        }
    }

    /// Runs `f`; if it fails, rewinds the position to where it was, so a
    /// multi-field encoder either writes a whole item or nothing (bytes past
    /// the position may have been overwritten).
    pub fn all_or_nothing<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, WireError>,
    ) -> Result<T, WireError> {
        let start = self.pos;
        let out = f(self);
        if out.is_err() {
            self.pos = start;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode_varint(v: u64) -> alloc::vec::Vec<u8> {
        let mut buf = [0u8; 8];
        let mut w = Writer::new(&mut buf);
        w.put_varint(v).unwrap();
        w.filled().to_vec()
    }

    // The four examples of RFC 9000 appendix A.1, plus the edges of each size.
    #[test]
    fn golden_varints() {
        let cases: &[(u64, &[u8])] = &[
            (0, &[0x00]),
            (37, &[0x25]),
            (63, &[0x3f]),
            (64, &[0x40, 0x40]),
            (15293, &[0x7b, 0xbd]),
            (16383, &[0x7f, 0xff]),
            (16384, &[0x80, 0x00, 0x40, 0x00]),
            (494_878_333, &[0x9d, 0x7f, 0x3e, 0x7d]),
            ((1 << 30) - 1, &[0xbf, 0xff, 0xff, 0xff]),
            (1 << 30, &[0xc0, 0, 0, 0, 0x40, 0, 0, 0]),
            (
                151_288_809_941_952_652,
                &[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c],
            ),
            (MAX_VARINT, &[0xff; 8]),
        ];
        for &(v, bytes) in cases {
            assert_eq!(encode_varint(v), bytes, "encoding {v}");
            assert_eq!(varint_len(v), bytes.len());
            let mut r = Reader::new(bytes);
            assert_eq!(r.varint(), Ok(v), "decoding {bytes:02x?}");
            assert!(r.is_empty());
        }
    }

    #[test]
    fn non_minimal_varint_is_accepted() {
        let mut r = Reader::new(&[0x40, 0x25]);
        assert_eq!(r.varint(), Ok(37));
    }

    #[test]
    fn varint_above_max_is_refused() {
        let mut buf = [0u8; 8];
        let mut w = Writer::new(&mut buf);
        assert_eq!(w.put_varint(MAX_VARINT + 1), Err(WireError::VarintTooLarge));
        assert_eq!(w.put_varint(u64::MAX), Err(WireError::VarintTooLarge));
        assert_eq!(w.written(), 0);
    }

    #[test]
    fn golden_fixed_width_integers() {
        let mut buf = [0u8; 13];
        let mut w = Writer::new(&mut buf);
        w.put_u8(0xab).unwrap();
        w.put_u32(0x0102_0304).unwrap();
        w.put_u64(0x0506_0708_090a_0b0c).unwrap();
        assert_eq!(w.remaining(), 0);
        assert_eq!(buf, [0xab, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        let mut r = Reader::new(&buf);
        assert_eq!(r.u8(), Ok(0xab));
        assert_eq!(r.u32(), Ok(0x0102_0304));
        assert_eq!(r.position(), 5);
        assert_eq!(r.u64(), Ok(0x0506_0708_090a_0b0c));
        assert_eq!(r.u8(), Err(WireError::Truncated));
    }

    #[test]
    fn truncated_reads_consume_nothing() {
        let data = [0x80, 0x00, 0x01];
        let mut r = Reader::new(&data);
        assert_eq!(r.varint(), Err(WireError::Truncated));
        assert_eq!(r.u32(), Err(WireError::Truncated));
        assert_eq!(r.bytes(4), Err(WireError::Truncated));
        assert_eq!(r.bytes(usize::MAX), Err(WireError::Truncated));
        assert_eq!(r.remaining(), 3);
        assert_eq!(r.bytes(1), Ok(&[0x80][..]));
        assert_eq!(r.rest(), &[0x00, 0x01]);
        assert!(r.is_empty());
        assert_eq!(r.rest(), &[] as &[u8]);
        assert_eq!(Reader::new(&[]).varint(), Err(WireError::Truncated));
    }

    #[test]
    fn full_writer_writes_nothing_partial() {
        let mut buf = [0xeeu8; 3];
        let mut w = Writer::new(&mut buf);
        w.put_u8(1).unwrap();
        assert_eq!(w.put_u32(7), Err(WireError::BufferTooSmall));
        assert_eq!(w.put_varint(1 << 20), Err(WireError::BufferTooSmall));
        assert_eq!(w.put_slice(&[1, 2, 3]), Err(WireError::BufferTooSmall));
        assert_eq!(w.put_zeros(3), Err(WireError::BufferTooSmall));
        assert_eq!(w.written(), 1);
        w.put_varint(64).unwrap();
        assert_eq!(w.remaining(), 0);
        assert_eq!(buf, [1, 0x40, 0x40]);
    }

    #[test]
    fn all_or_nothing_rewinds_on_error() {
        let mut buf = [0u8; 4];
        let mut w = Writer::new(&mut buf);
        w.put_u8(9).unwrap();
        let r = w.all_or_nothing(|w| {
            w.put_u8(1)?;
            w.put_u32(2)
        });
        assert_eq!(r, Err(WireError::BufferTooSmall));
        assert_eq!(w.written(), 1);
        assert_eq!(w.all_or_nothing(|w| w.put_u8(5)), Ok(()));
        assert_eq!(w.filled(), &[9, 5]);
    }

    proptest! {
        #[test]
        fn varint_round_trips(v in 0..=MAX_VARINT) {
            let bytes = encode_varint(v);
            prop_assert_eq!(bytes.len(), varint_len(v));
            let mut r = Reader::new(&bytes);
            prop_assert_eq!(r.varint(), Ok(v));
            prop_assert!(r.is_empty());
        }

        #[test]
        fn reads_of_random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..32),
                                             ops in proptest::collection::vec(0u8..6, 0..16)) {
            let mut r = Reader::new(&data);
            for op in ops {
                let before = r.remaining();
                let ok = match op {
                    0 => r.u8().is_ok(),
                    1 => r.u32().is_ok(),
                    2 => r.u64().is_ok(),
                    3 => r.varint().is_ok(),
                    4 => r.bytes(3).is_ok(),
                    _ => { r.rest(); true }
                };
                prop_assert!(r.remaining() <= before);
                if !ok { prop_assert_eq!(r.remaining(), before); }
                prop_assert_eq!(r.position() + r.remaining(), data.len());
            }
        }
    }
}
