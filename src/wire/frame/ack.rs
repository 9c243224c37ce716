//! The ACK frame: which packet numbers arrived, as descending ranges.
//!
//! Owns: the range encoding (largest, first range, then gap/length pairs,
//! as in QUIC) and its validation.
//! Never: allocates. A parsed [`AckFrame`] keeps the received range bytes
//! and decodes them lazily in [`AckFrame::iter`].

use core::ops::Range;

use super::super::codec::{varint_len, Reader, Writer};
use super::super::WireError;
use super::ty;

/// Most gap/length pairs one ACK frame may carry (so at most 65 ranges).
pub const MAX_ACK_RANGES: usize = 64;

/// A parsed ACK frame. Built only by parsing, so its ranges are known valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckFrame<'a> {
    largest: u64,
    ack_delay: u64,
    first_range: u64,
    /// Number of gap/length pairs in `raw`, at most [`MAX_ACK_RANGES`].
    extra: u64,
    /// The gap/length pairs exactly as received.
    raw: &'a [u8],
}

/// Reads one gap/length pair below a range starting at `smallest` and
/// returns the half-open range it describes.
fn next_range(r: &mut Reader<'_>, smallest: u64) -> Result<Range<u64>, WireError> {
    let gap = r.varint()?;
    let len = r.varint()?;
    let largest = smallest
        .checked_sub(gap)
        .and_then(|v| v.checked_sub(2))
        .ok_or(WireError::InvalidAckRanges)?;
    let start = largest
        .checked_sub(len)
        .ok_or(WireError::InvalidAckRanges)?;
    Ok(start..largest + 1)
}

impl<'a> AckFrame<'a> {
    /// Parses the fields after the frame type.
    pub(super) fn parse_body(r: &mut Reader<'a>) -> Result<AckFrame<'a>, WireError> {
        let largest = r.varint()?;
        let ack_delay = r.varint()?;
        let extra = r.varint()?;
        if extra > MAX_ACK_RANGES as u64 {
            return Err(WireError::TooManyAckRanges);
        }
        let first_range = r.varint()?;
        let mut smallest = largest
            .checked_sub(first_range)
            .ok_or(WireError::InvalidAckRanges)?;
        let all = r.peek_rest();
        let start = r.position();
        for _ in 0..extra {
            smallest = next_range(r, smallest)?.start;
        }
        let raw = all
            .get(..r.position() - start)
            .ok_or(WireError::Truncated)?;
        Ok(AckFrame {
            largest,
            ack_delay,
            first_range,
            extra,
            raw,
        })
    }

    /// The largest packet number acknowledged.
    pub const fn largest(&self) -> u64 {
        self.largest
    }

    /// How long the sender held the acknowledgement of `largest`, in
    /// microseconds.
    pub const fn ack_delay_micros(&self) -> u64 {
        self.ack_delay
    }

    /// Number of ranges [`AckFrame::iter`] yields (1 to `MAX_ACK_RANGES + 1`).
    pub const fn range_count(&self) -> usize {
        // extra <= MAX_ACK_RANGES, checked at parse.
        self.extra as usize + 1
    }

    /// The acknowledged packet numbers as half-open ranges, largest first.
    pub fn iter(&self) -> AckRanges<'a> {
        AckRanges {
            r: Reader::new(self.raw),
            first: Some(
                self.largest.saturating_sub(self.first_range)..self.largest.saturating_add(1),
            ),
            smallest: self.largest.saturating_sub(self.first_range),
            left: self.extra,
        }
    }

    /// Bytes [`AckFrame::encode`] writes, type included.
    pub fn encoded_len(&self) -> usize {
        1 + varint_len(self.largest)
            + varint_len(self.ack_delay)
            + varint_len(self.extra)
            + varint_len(self.first_range)
            + self.raw.len()
    }

    /// Writes the frame back (its range pairs byte for byte as received).
    pub fn encode(&self, w: &mut Writer) -> Result<(), WireError> {
        if w.remaining() < self.encoded_len() {
            return Err(WireError::BufferTooSmall);
        }
        w.all_or_nothing(|w| {
            w.put_varint(ty::ACK)?;
            w.put_varint(self.largest)?;
            w.put_varint(self.ack_delay)?;
            w.put_varint(self.extra)?;
            w.put_varint(self.first_range)?;
            w.put_slice(self.raw)
        })
    }
}

impl<'a> IntoIterator for &AckFrame<'a> {
    type Item = Range<u64>;
    type IntoIter = AckRanges<'a>;
    fn into_iter(self) -> AckRanges<'a> {
        self.iter()
    }
}

/// Iterator over an [`AckFrame`]'s ranges, largest first.
#[derive(Debug, Clone)]
pub struct AckRanges<'a> {
    r: Reader<'a>,
    first: Option<Range<u64>>,
    smallest: u64,
    left: u64,
}

impl Iterator for AckRanges<'_> {
    type Item = Range<u64>;

    fn next(&mut self) -> Option<Range<u64>> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        match next_range(&mut self.r, self.smallest) {
            Ok(range) => {
                self.smallest = range.start;
                Some(range)
            }
            // Unreachable for a parsed frame; end quietly rather than panic.
            Err(_) => {
                self.left = 0;
                None
            }
        }
    }
}

/// The varints of an ACK frame after its type, in wire order. Meaningful
/// only for ranges [`check_ranges`] accepts; never panics on others.
fn ack_fields(ack_delay: u64, ranges: &[Range<u64>]) -> impl Iterator<Item = u64> + '_ {
    let (head, tail) = match ranges.split_first() {
        Some((first, rest)) => (first.clone(), rest),
        None => (0..0, &[][..]),
    };
    let largest = head.end.saturating_sub(1);
    let first_range = largest.saturating_sub(head.start);
    let pairs = ranges
        .iter()
        .zip(ranges.iter().skip(1))
        .flat_map(|(prev, next)| {
            let gap = prev.start.saturating_sub(next.end).saturating_sub(1);
            let len = next.end.saturating_sub(1).saturating_sub(next.start);
            [gap, len]
        });
    [largest, ack_delay, tail.len() as u64, first_range]
        .into_iter()
        .chain(pairs)
}

fn check_ranges(ranges: &[Range<u64>]) -> Result<(), WireError> {
    if ranges.is_empty() || ranges.iter().any(|r| r.start >= r.end) {
        return Err(WireError::InvalidAckRanges);
    }
    if ranges
        .iter()
        .zip(ranges.iter().skip(1))
        .any(|(prev, next)| next.end >= prev.start)
    {
        return Err(WireError::InvalidAckRanges);
    }
    if ranges.len() > MAX_ACK_RANGES + 1 {
        return Err(WireError::TooManyAckRanges);
    }
    Ok(())
}

/// Bytes [`encode_ack`] writes for these arguments, type included.
pub fn ack_len(ack_delay_micros: u64, ranges_desc: &[Range<u64>]) -> usize {
    1 + ack_fields(ack_delay_micros, ranges_desc)
        .map(varint_len)
        .sum::<usize>()
}

/// Writes an ACK frame for `ranges_desc`: half-open ranges of packet
/// numbers, largest first, non-empty, with at least one missing number
/// between neighbours, at most `MAX_ACK_RANGES + 1` of them. Writes nothing
/// on error.
pub fn encode_ack(
    w: &mut Writer,
    ack_delay_micros: u64,
    ranges_desc: &[Range<u64>],
) -> Result<(), WireError> {
    check_ranges(ranges_desc)?;
    if w.remaining() < ack_len(ack_delay_micros, ranges_desc) {
        return Err(WireError::BufferTooSmall);
    }
    w.all_or_nothing(|w| {
        w.put_varint(ty::ACK)?;
        ack_fields(ack_delay_micros, ranges_desc).try_for_each(|v| w.put_varint(v))
    })
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // one-range ACKs are the point
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn parse(bytes: &[u8]) -> Result<AckFrame<'_>, WireError> {
        let mut r = Reader::new(bytes);
        assert_eq!(r.varint(), Ok(ty::ACK));
        let f = AckFrame::parse_body(&mut r)?;
        assert!(r.is_empty());
        Ok(f)
    }

    fn encode(delay: u64, ranges: &[Range<u64>]) -> Result<Vec<u8>, WireError> {
        let mut buf = vec![0u8; 1024];
        let mut w = Writer::new(&mut buf);
        encode_ack(&mut w, delay, ranges)?;
        assert_eq!(w.written(), ack_len(delay, ranges));
        Ok(w.filled().to_vec())
    }

    // Packets 0..=2, 5..=9 and 20 received.
    #[rustfmt::skip]
    const GOLDEN: [u8; 10] = [
        0x02,       // ACK
        0x14,       // largest 20
        0x40, 0x64, // ack delay 100 us
        0x02,       // two more ranges
        0x00,       // first range: [20, 20]
        0x09, 0x04, // gap 9 -> largest 20 - 9 - 2 = 9, len 4 -> [5, 9]
        0x01, 0x02, // gap 1 -> largest 5 - 1 - 2 = 2, len 2 -> [0, 2]
    ];

    #[test]
    fn golden_ack() {
        let ranges = [20..21, 5..10, 0..3];
        assert_eq!(encode(100, &ranges).unwrap(), GOLDEN);
        let f = parse(&GOLDEN).unwrap();
        assert_eq!(f.largest(), 20);
        assert_eq!(f.ack_delay_micros(), 100);
        assert_eq!(f.range_count(), 3);
        assert_eq!(f.iter().collect::<Vec<_>>(), ranges);
        let mut buf = [0u8; 10];
        f.encode(&mut Writer::new(&mut buf)).unwrap();
        assert_eq!(buf, GOLDEN);
        assert_eq!(f.encoded_len(), 10);
    }

    #[test]
    fn underflowing_ranges_are_rejected() {
        // first_range larger than largest.
        assert_eq!(
            parse(&[0x02, 0x03, 0x00, 0x00, 0x04]),
            Err(WireError::InvalidAckRanges)
        );
        // gap leads below zero: smallest 3, gap 2 -> 3 - 2 - 2 < 0.
        assert_eq!(
            parse(&[0x02, 0x03, 0x00, 0x01, 0x00, 0x02, 0x00]),
            Err(WireError::InvalidAckRanges)
        );
        // range length leads below zero: largest' = 3 - 0 - 2 = 1, len 2.
        assert_eq!(
            parse(&[0x02, 0x03, 0x00, 0x01, 0x00, 0x00, 0x02]),
            Err(WireError::InvalidAckRanges)
        );
        // The smallest valid case: [3], gap 0, [0, 1].
        let f = parse(&[0x02, 0x03, 0x00, 0x01, 0x00, 0x00, 0x01]).unwrap();
        assert_eq!(f.iter().collect::<Vec<_>>(), [3..4, 0..2]);
    }

    #[test]
    fn range_count_is_bounded() {
        assert_eq!(
            parse(&[0x02, 0x40, 0x00, 0x00, 0x41, 0x00]),
            Err(WireError::TooManyAckRanges)
        );
        let many: Vec<_> = (0..66u64).rev().map(|i| 2 * i..2 * i + 1).collect();
        assert_eq!(encode(0, &many), Err(WireError::TooManyAckRanges));
        assert!(encode(0, &many[1..]).is_ok());
        assert_eq!(
            parse(&[0x02, 0x03, 0x00, 0x02, 0x00, 0x00]),
            Err(WireError::Truncated)
        );
    }

    #[test]
    fn bad_encoder_input_writes_nothing() {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        let bad: [&[Range<u64>]; 5] = [&[], &[3..3], &[0..5, 7..9], &[7..9, 5..7], &[7..9, 4..8]];
        for ranges in bad {
            assert_eq!(
                encode_ack(&mut w, 0, ranges),
                Err(WireError::InvalidAckRanges),
                "{ranges:?}"
            );
        }
        assert_eq!(
            encode_ack(&mut w, 1 << 62, &[0..1]),
            Err(WireError::VarintTooLarge)
        );
        assert_eq!(
            encode_ack(&mut w, 0, &[0..(1 << 62) + 1]),
            Err(WireError::VarintTooLarge)
        );
        assert_eq!(w.written(), 0);
        let mut small = [0u8; 4];
        assert_eq!(
            encode_ack(&mut Writer::new(&mut small), 100, &[20..21, 5..10]),
            Err(WireError::BufferTooSmall)
        );
    }

    /// Descending, disjoint, non-adjacent ranges built from (gap, len) steps.
    fn arb_ranges() -> impl Strategy<Value = Vec<Range<u64>>> {
        let step = (1u64..1 << 20, 1u64..1 << 20);
        (
            0u64..1 << 40,
            proptest::collection::vec(step, 1..=MAX_ACK_RANGES + 1),
        )
            .prop_map(|(base, steps)| {
                let mut out = Vec::new();
                let mut at = base;
                for (gap, len) in steps {
                    out.push(at..at + len);
                    at += len + gap;
                }
                out.reverse();
                out
            })
    }

    proptest! {
        #[test]
        fn ack_round_trips(delay in 0u64..1 << 40, ranges in arb_ranges()) {
            let bytes = encode(delay, &ranges).unwrap();
            let f = parse(&bytes).unwrap();
            prop_assert_eq!(f.largest(), ranges[0].end - 1);
            prop_assert_eq!(f.ack_delay_micros(), delay);
            prop_assert_eq!(f.range_count(), ranges.len());
            prop_assert_eq!(f.iter().collect::<Vec<_>>(), ranges);
            prop_assert_eq!(f.encoded_len(), bytes.len());
        }

        #[test]
        fn random_ack_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..48)) {
            let mut r = Reader::new(&body);
            if let Ok(f) = AckFrame::parse_body(&mut r) {
                let ranges: Vec<_> = f.iter().collect();
                prop_assert_eq!(ranges.len(), f.range_count());
                for w in ranges.windows(2) {
                    prop_assert!(w[1].end < w[0].start);
                }
                prop_assert!(ranges.iter().all(|r| r.start < r.end));
            }
        }
    }
}
