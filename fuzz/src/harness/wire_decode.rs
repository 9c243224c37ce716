//! `wire_decode`: every decoder of the wire codec (`stt::__private::wire`) over arbitrary bytes. Nothing
//! may panic, and whatever is accepted must re-encode and parse back equal.

use stt::__private::wire::{
    decode_packet_number, encode_reset, peek_dst, reset_tail, Frame, Frames, Packet, Reader,
    TransportParams, Writer, MAX_RESET_LEN, MIN_RESET_LEN, RESET_TOKEN_LEN,
};

fn encode_packet(p: &Packet<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; p.encoded_len()];
    let mut w = Writer::new(&mut buf);
    p.encode(&mut w).expect("an accepted packet re-encodes");
    assert_eq!(w.written(), buf.len(), "encoded_len is exact");
    buf
}

fn encode_frame(f: &Frame<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; f.encoded_len()];
    let mut w = Writer::new(&mut buf);
    f.encode(&mut w)
        .unwrap_or_else(|e| panic!("accepted frame {f:?} does not re-encode: {e}"));
    assert_eq!(w.written(), buf.len(), "encoded_len of {f:?} is exact");
    buf
}

/// Merges adjacent PADDING frames (parsing merges a run of zero bytes, so
/// two paddings written back to back read back as one).
fn normalize<'a>(frames: &[Frame<'a>]) -> Vec<Frame<'a>> {
    let mut out: Vec<Frame<'a>> = Vec::new();
    for f in frames {
        match (out.last_mut(), f) {
            (Some(Frame::Padding(a)), Frame::Padding(b)) => *a += *b,
            _ => out.push(*f),
        }
    }
    out
}

fn packets(data: &[u8]) {
    let peek = peek_dst(data);
    let Ok(p) = Packet::parse(data) else {
        return;
    };
    let (long, dst) = peek.expect("a packet that parses can be routed");
    match &p {
        Packet::Long { header, .. } => assert!(long && dst == header.dst),
        Packet::Short { header, .. } => assert!(!long && dst == header.dst),
    }
    let bytes = encode_packet(&p);
    assert_eq!(Packet::parse(&bytes), Ok(p), "packet round trip");
    if let Packet::Short { .. } = p {
        assert_eq!(bytes, data, "a short packet has one encoding");
    }
}

fn frames(data: &[u8]) {
    let mut parsed = Vec::new();
    for f in Frames::new(data) {
        let Ok(f) = f else {
            break;
        };
        let bytes = encode_frame(&f);
        let mut r = Reader::new(&bytes);
        assert_eq!(Frame::parse(&mut r), Ok(f), "frame round trip");
        assert!(r.is_empty(), "{f:?} read back whole");
        parsed.push(f);
    }
    // The whole sequence written back reads back the same.
    let all: Vec<u8> = parsed.iter().flat_map(|f| encode_frame(f)).collect();
    let again: Vec<Frame<'_>> = Frames::new(&all)
        .map(|f| f.expect("re-encoded frames parse"))
        .collect();
    assert_eq!(normalize(&again), normalize(&parsed), "sequence round trip");
    // ACK ranges of a parsed frame are descending, disjoint and in range.
    for f in &parsed {
        if let Frame::Ack(a) = f {
            let ranges: Vec<_> = a.iter().collect();
            assert_eq!(ranges.len(), a.range_count());
            assert!(ranges.iter().all(|r| r.start < r.end));
            assert!(ranges.windows(2).all(|w| w[1].end < w[0].start));
            assert_eq!(ranges.first().map(|r| r.end - 1), Some(a.largest()));
        }
    }
}

fn params(data: &[u8]) {
    let Ok(p) = TransportParams::parse(data) else {
        return;
    };
    let mut buf = vec![0u8; p.encoded_len()];
    p.encode(&mut Writer::new(&mut buf))
        .expect("accepted parameters re-encode");
    assert_eq!(TransportParams::parse(&buf), Ok(p), "params round trip");
}

fn packet_numbers(data: &[u8]) {
    let (Some(l), Some(t)) = (data.get(..8), data.get(8..12)) else {
        return;
    };
    let largest = u64::from_be_bytes(l.try_into().unwrap());
    let truncated = u32::from_be_bytes(t.try_into().unwrap());
    for largest in [None, Some(largest)] {
        let pn = decode_packet_number(largest, truncated);
        assert_eq!(pn as u32, truncated, "low bits are the truncation");
        let expected = largest.map_or(0, |l| l.saturating_add(1));
        let distance = pn.abs_diff(expected);
        let edge = !(1 << 32..=u64::MAX - (1 << 32)).contains(&expected);
        assert!(
            edge || distance <= 1 << 31,
            "{largest:?} {truncated} -> {pn}"
        );
    }
}

/// A stateless reset's tail is the last 16 bytes of a short datagram long
/// enough; a reset built over `data` keeps its random bytes, ends with the
/// token and parses as a short packet.
fn resets(data: &[u8]) {
    if let Some(tail) = reset_tail(data) {
        assert!(data.len() >= MIN_RESET_LEN && data[0] & 0x80 == 0);
        assert_eq!(&data[data.len() - RESET_TOKEN_LEN..], tail);
    }
    if !(MIN_RESET_LEN..=MAX_RESET_LEN).contains(&data.len()) {
        return;
    }
    let token = [0x5a; RESET_TOKEN_LEN];
    let mut reset = data.to_vec();
    encode_reset(&mut reset, &token).expect("a reset of a valid size");
    let n = reset.len();
    assert_eq!(reset[1..n - RESET_TOKEN_LEN], data[1..n - RESET_TOKEN_LEN]);
    assert_eq!(reset_tail(&reset), Some(&token));
    assert!(matches!(Packet::parse(&reset), Ok(Packet::Short { .. })));
}

/// Runs every decoder over `data`.
pub fn run(data: &[u8]) {
    packets(data);
    frames(data);
    params(data);
    packet_numbers(data);
    resets(data);
}
