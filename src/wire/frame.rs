//! Frames: the typed contents of a short packet's decrypted payload.
//!
//! Owns: the frame type numbers, the layout of every frame, and the
//! [`Frames`] iterator that splits a payload. ACK ranges live in `ack`, the
//! STREAM frame's optional fields in `stream`, the DATAGRAM frame's sizes
//! in `datagram`.
//! Never: allocates, copies data, or panics on any payload. Semantics
//! (flow-control checks, stream state) belong to the layers above; this
//! module only rejects what is malformed on its face.

mod ack;
mod datagram;
mod stream;

pub use ack::{ack_len, encode_ack, AckFrame, AckRanges, MAX_ACK_RANGES};
pub use datagram::{datagram_frame_len, datagram_overhead, encode_datagram, max_datagram_data_in};
pub use stream::{StreamFrame, StreamHeader};

use super::codec::{varint_len, Reader, Writer};
use super::WireError;
use crate::ids::StreamId;

/// Longest reason a CLOSE frame may carry.
pub const MAX_REASON_LEN: usize = 256;

/// Bytes of data a PATH_CHALLENGE carries and its PATH_RESPONSE echoes.
pub const PATH_DATA_LEN: usize = 8;

/// Frame type numbers.
mod ty {
    pub const PADDING: u64 = 0x00;
    pub const PING: u64 = 0x01;
    pub const ACK: u64 = 0x02;
    pub const HANDSHAKE_DONE: u64 = 0x03;
    pub const CLOSE: u64 = 0x04;
    pub const MAX_DATA: u64 = 0x05;
    pub const MAX_STREAM_DATA: u64 = 0x06;
    pub const DATA_BLOCKED: u64 = 0x07;
    pub const STREAM_DATA_BLOCKED: u64 = 0x08;
    pub const STREAM_RESET: u64 = 0x09;
    pub const STREAM_FIN: u64 = 0x0a;
    pub const PATH_CHALLENGE: u64 = 0x0b;
    pub const PATH_RESPONSE: u64 = 0x0c;
    /// STREAM is 0x10 to 0x13; the low two bits are FRAG and LEN.
    pub const STREAM: u64 = 0x10;
    /// DATAGRAM is 0x30 and 0x31; the low bit is LEN.
    pub const DATAGRAM: u64 = 0x30;
    pub const STREAM_SKIP: u64 = 0x32;
}

/// Reads a stream id varint, refusing values above `u32::MAX`.
fn read_stream_id(r: &mut Reader<'_>) -> Result<StreamId, WireError> {
    let v = r.varint()?;
    StreamId::try_from(v).map_err(|_| WireError::StreamIdTooLarge(v))
}

/// Reads the fixed 8 bytes of a PATH_CHALLENGE or PATH_RESPONSE.
fn read_path_data(r: &mut Reader<'_>) -> Result<[u8; PATH_DATA_LEN], WireError> {
    let mut data = [0u8; PATH_DATA_LEN];
    data.copy_from_slice(r.bytes(PATH_DATA_LEN)?);
    Ok(data)
}

/// One frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A run of this many zero bytes (parsing merges adjacent ones).
    Padding(usize),
    /// Asks for an acknowledgement; carries nothing.
    Ping,
    /// Acknowledged packet numbers.
    Ack(AckFrame<'a>),
    /// Sent once by the responder when it has confirmed the handshake.
    HandshakeDone,
    /// Closes the session.
    Close {
        /// Close code (see docs/PROTOCOL.md).
        code: u64,
        /// Human-readable reason, at most [`MAX_REASON_LEN`] bytes.
        reason: &'a [u8],
    },
    /// Session-wide byte credit, cumulative.
    MaxData(u64),
    /// Byte offset limit of one stream, cumulative.
    MaxStreamData {
        /// The stream.
        stream_id: StreamId,
        /// New limit.
        max: u64,
    },
    /// The sender is blocked by the session limit it names.
    DataBlocked(u64),
    /// The sender is blocked on a stream by the limit it names.
    StreamDataBlocked {
        /// The stream.
        stream_id: StreamId,
        /// The limit it is blocked at.
        limit: u64,
    },
    /// The sender abandons a stream.
    StreamReset {
        /// The stream.
        stream_id: StreamId,
        /// Application reset code.
        code: u64,
        /// Bytes the stream carried before the reset.
        final_offset: u64,
        /// Messages the stream carried before the reset.
        final_seq: u64,
    },
    /// The sender's side of a stream ends after `final_seq` messages.
    StreamFin {
        /// The stream.
        stream_id: StreamId,
        /// Total bytes of the stream.
        final_offset: u64,
        /// Total messages of the stream.
        final_seq: u64,
    },
    /// A fragment of a message.
    Stream(StreamFrame<'a>),
    /// Asks the peer to echo `data` in a PATH_RESPONSE: proof that it
    /// received what was sent to the address the challenge went to.
    PathChallenge([u8; PATH_DATA_LEN]),
    /// Echoes the data of a PATH_CHALLENGE.
    PathResponse([u8; PATH_DATA_LEN]),
    /// An unreliable application datagram, whole (never fragmented, never
    /// resent).
    Datagram(&'a [u8]),
    /// The sender abandoned messages of a stream: the receiver delivers
    /// what it holds whole below `offset`, drops the rest, and goes on
    /// with message `seq` at `offset`.
    StreamSkip {
        /// The stream.
        stream_id: StreamId,
        /// Unit offset of message `seq`: where delivery goes on.
        offset: u64,
        /// Sequence number delivery goes on from (never above `offset`:
        /// each message takes at least one unit).
        seq: u64,
    },
}

impl<'a> Frame<'a> {
    /// Parses one frame. A STREAM frame without a LEN bit takes every byte
    /// left in `r`. On error the reader's position is unspecified.
    pub fn parse(r: &mut Reader<'a>) -> Result<Frame<'a>, WireError> {
        let start = r.position();
        let t = r.varint()?;
        Ok(match t {
            ty::PADDING => {
                let zeros = r.peek_rest().iter().take_while(|b| **b == 0).count();
                r.bytes(zeros)?;
                Frame::Padding(r.position() - start)
            }
            ty::PING => Frame::Ping,
            ty::ACK => Frame::Ack(AckFrame::parse_body(r)?),
            ty::HANDSHAKE_DONE => Frame::HandshakeDone,
            ty::CLOSE => {
                let code = r.varint()?;
                let len = r.varint()?;
                if len > MAX_REASON_LEN as u64 {
                    return Err(WireError::ReasonTooLong);
                }
                // len <= MAX_REASON_LEN, so the cast cannot truncate.
                Frame::Close {
                    code,
                    reason: r.bytes(len as usize)?,
                }
            }
            ty::MAX_DATA => Frame::MaxData(r.varint()?),
            ty::MAX_STREAM_DATA => Frame::MaxStreamData {
                stream_id: read_stream_id(r)?,
                max: r.varint()?,
            },
            ty::DATA_BLOCKED => Frame::DataBlocked(r.varint()?),
            ty::STREAM_DATA_BLOCKED => Frame::StreamDataBlocked {
                stream_id: read_stream_id(r)?,
                limit: r.varint()?,
            },
            ty::STREAM_RESET => Frame::StreamReset {
                stream_id: read_stream_id(r)?,
                code: r.varint()?,
                final_offset: r.varint()?,
                final_seq: r.varint()?,
            },
            ty::STREAM_FIN => Frame::StreamFin {
                stream_id: read_stream_id(r)?,
                final_offset: r.varint()?,
                final_seq: r.varint()?,
            },
            ty::PATH_CHALLENGE => Frame::PathChallenge(read_path_data(r)?),
            ty::PATH_RESPONSE => Frame::PathResponse(read_path_data(r)?),
            0x10..=0x13 => Frame::Stream(StreamFrame::parse_body(t, r)?),
            0x30..=0x31 => Frame::Datagram(datagram::parse_body(t, r)?),
            ty::STREAM_SKIP => {
                let stream_id = read_stream_id(r)?;
                let offset = r.varint()?;
                let seq = r.varint()?;
                if seq > offset {
                    return Err(WireError::InvalidSkip);
                }
                Frame::StreamSkip {
                    stream_id,
                    offset,
                    seq,
                }
            }
            _ => return Err(WireError::UnknownFrame(t)),
        })
    }

    /// The varint fields after the type, for the fixed-layout frames.
    fn fields(&self) -> ([u64; 4], usize) {
        let sid = |s: &StreamId| u64::from(*s);
        match self {
            Frame::MaxData(v) | Frame::DataBlocked(v) => ([*v, 0, 0, 0], 1),
            Frame::MaxStreamData { stream_id, max: v }
            | Frame::StreamDataBlocked {
                stream_id,
                limit: v,
            } => ([sid(stream_id), *v, 0, 0], 2),
            Frame::StreamReset {
                stream_id,
                code,
                final_offset,
                final_seq,
            } => ([sid(stream_id), *code, *final_offset, *final_seq], 4),
            Frame::StreamFin {
                stream_id,
                final_offset,
                final_seq,
            } => ([sid(stream_id), *final_offset, *final_seq, 0], 3),
            Frame::StreamSkip {
                stream_id,
                offset,
                seq,
            } => ([sid(stream_id), *offset, *seq, 0], 3),
            Frame::Close { code, reason } => ([*code, reason.len() as u64, 0, 0], 2),
            _ => ([0; 4], 0),
        }
    }

    fn type_number(&self) -> u64 {
        match self {
            Frame::Padding(_) => ty::PADDING,
            Frame::Ping => ty::PING,
            Frame::Ack(_) => ty::ACK,
            Frame::HandshakeDone => ty::HANDSHAKE_DONE,
            Frame::Close { .. } => ty::CLOSE,
            Frame::MaxData(_) => ty::MAX_DATA,
            Frame::MaxStreamData { .. } => ty::MAX_STREAM_DATA,
            Frame::DataBlocked(_) => ty::DATA_BLOCKED,
            Frame::StreamDataBlocked { .. } => ty::STREAM_DATA_BLOCKED,
            Frame::StreamReset { .. } => ty::STREAM_RESET,
            Frame::StreamFin { .. } => ty::STREAM_FIN,
            Frame::Stream(_) => ty::STREAM,
            Frame::PathChallenge(_) => ty::PATH_CHALLENGE,
            Frame::PathResponse(_) => ty::PATH_RESPONSE,
            Frame::Datagram(_) => ty::DATAGRAM,
            Frame::StreamSkip { .. } => ty::STREAM_SKIP,
        }
    }

    /// Bytes [`Frame::encode`] writes.
    pub fn encoded_len(&self) -> usize {
        match self {
            Frame::Padding(n) => *n,
            Frame::Ack(a) => a.encoded_len(),
            Frame::Stream(s) => s.header().encoded_len(s.data.len(), true),
            Frame::Datagram(d) => datagram_frame_len(d.len()),
            _ => {
                let (vals, n) = self.fields();
                let tail = match self {
                    Frame::Close { reason, .. } => reason.len(),
                    Frame::PathChallenge(_) | Frame::PathResponse(_) => PATH_DATA_LEN,
                    _ => 0,
                };
                1 + vals.iter().take(n).map(|v| varint_len(*v)).sum::<usize>() + tail
            }
        }
    }

    /// Writes the frame, or nothing on error. STREAM and DATAGRAM frames
    /// are always written with their len field, so they may sit anywhere in
    /// a packet (the packet builder omits it for the last frame with
    /// [`StreamHeader::encode`]). `Padding(0)` writes nothing.
    pub fn encode(&self, w: &mut Writer) -> Result<(), WireError> {
        match self {
            Frame::Padding(n) => w.put_zeros(*n),
            Frame::Ack(a) => a.encode(w),
            Frame::Stream(s) => s.header().encode(w, s.data, true),
            Frame::Datagram(d) => encode_datagram(w, d),
            _ => {
                if let Frame::Close { reason, .. } = self {
                    if reason.len() > MAX_REASON_LEN {
                        return Err(WireError::ReasonTooLong);
                    }
                }
                if w.remaining() < self.encoded_len() {
                    return Err(WireError::BufferTooSmall);
                }
                let (vals, n) = self.fields();
                w.all_or_nothing(|w| {
                    w.put_varint(self.type_number())?;
                    vals.iter().take(n).try_for_each(|v| w.put_varint(*v))?;
                    match self {
                        Frame::Close { reason, .. } => w.put_slice(reason)?,
                        Frame::PathChallenge(d) | Frame::PathResponse(d) => w.put_slice(d)?,
                        _ => {}
                    }
                    Ok(())
                })
            }
        }
    }

    /// True if receiving this frame obliges the receiver to acknowledge the
    /// packet (every frame except PADDING, ACK and CLOSE).
    pub fn is_ack_eliciting(&self) -> bool {
        !matches!(
            self,
            Frame::Padding(_) | Frame::Ack(_) | Frame::Close { .. }
        )
    }
}

/// The frames of a decrypted payload, in order. Yields `Err` once for the
/// first malformed frame and then stops.
#[derive(Debug, Clone)]
pub struct Frames<'a> {
    r: Reader<'a>,
    failed: bool,
}

impl<'a> Frames<'a> {
    /// Iterates over the frames of `payload`.
    pub const fn new(payload: &'a [u8]) -> Self {
        Frames {
            r: Reader::new(payload),
            failed: false,
        }
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<Frame<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.r.is_empty() {
            return None;
        }
        let out = Frame::parse(&mut self.r);
        self.failed = out.is_err();
        Some(out)
    }
}

impl core::iter::FusedIterator for Frames<'_> {}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // one-range ACKs are the point
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use core::ops::Range;
    use proptest::prelude::*;

    fn encode(f: &Frame) -> Vec<u8> {
        let mut buf = vec![0u8; f.encoded_len()];
        let mut w = Writer::new(&mut buf);
        f.encode(&mut w).unwrap();
        assert_eq!(w.remaining(), 0, "encoded_len of {f:?}");
        buf
    }

    fn parse_one(bytes: &[u8]) -> Result<Frame<'_>, WireError> {
        let mut r = Reader::new(bytes);
        let f = Frame::parse(&mut r)?;
        assert!(r.is_empty(), "left over after {f:?}");
        Ok(f)
    }

    #[test]
    fn golden_simple_frames() {
        let cases: &[(Frame, &[u8])] = &[
            (Frame::Padding(3), &[0x00, 0x00, 0x00]),
            (Frame::Ping, &[0x01]),
            (Frame::HandshakeDone, &[0x03]),
            (
                Frame::Close {
                    code: 2,
                    reason: b"bad",
                },
                &[0x04, 0x02, 0x03, b'b', b'a', b'd'],
            ),
            (
                Frame::Close {
                    code: 6,
                    reason: b"",
                },
                &[0x04, 0x06, 0x00],
            ),
            (Frame::MaxData(1 << 20), &[0x05, 0x80, 0x10, 0x00, 0x00]),
            (
                Frame::MaxStreamData {
                    stream_id: 4,
                    max: 100,
                },
                &[0x06, 0x04, 0x40, 0x64],
            ),
            (Frame::DataBlocked(63), &[0x07, 0x3f]),
            (
                Frame::StreamDataBlocked {
                    stream_id: 64,
                    limit: 0,
                },
                &[0x08, 0x40, 0x40, 0x00],
            ),
            (
                Frame::StreamReset {
                    stream_id: 1,
                    code: 7,
                    final_offset: 300,
                    final_seq: 2,
                },
                &[0x09, 0x01, 0x07, 0x41, 0x2c, 0x02],
            ),
            (
                Frame::StreamFin {
                    stream_id: u32::MAX,
                    final_offset: 0,
                    final_seq: 0,
                },
                &[0x0a, 0xc0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00],
            ),
            (
                Frame::Stream(StreamFrame {
                    stream_id: 2,
                    offset: 5,
                    seq: 1,
                    msg_len: 1,
                    frag_offset: 0,
                    data: b"z",
                }),
                &[0x12, 0x02, 0x05, 0x01, 0x01, 0x01, b'z'],
            ),
            (
                Frame::PathChallenge([1, 2, 3, 4, 5, 6, 7, 8]),
                &[0x0b, 1, 2, 3, 4, 5, 6, 7, 8],
            ),
            (
                Frame::PathResponse([0xff, 0, 0xa5, 0, 0, 0, 0, 0x5a]),
                &[0x0c, 0xff, 0, 0xa5, 0, 0, 0, 0, 0x5a],
            ),
            (Frame::Datagram(b"ok"), &[0x31, 0x02, b'o', b'k']),
            (
                Frame::StreamSkip {
                    stream_id: 3,
                    offset: 10_001,
                    seq: 1,
                },
                &[0x32, 0x03, 0x67, 0x11, 0x01],
            ),
        ];
        for (frame, bytes) in cases {
            assert_eq!(encode(frame), *bytes, "encoding {frame:?}");
            assert_eq!(parse_one(bytes).as_ref(), Ok(frame), "parsing {bytes:02x?}");
        }
    }

    #[test]
    fn a_skip_to_more_messages_than_units_is_malformed() {
        // Sequence 2 at offset 1: two messages cannot fit in one unit.
        assert_eq!(
            parse_one(&[0x32, 0x00, 0x01, 0x02]),
            Err(WireError::InvalidSkip)
        );
        assert_eq!(parse_one(&[0x32, 0x00, 0x01]), Err(WireError::Truncated));
    }

    #[test]
    fn golden_payload_through_frames() {
        #[rustfmt::skip]
        let payload = [
            0x02, 0x05, 0x00, 0x00, 0x01,       // ACK [4, 5]
            0x00, 0x00,                         // PADDING x2
            0x10, 0x01, 0x00, 0x00, 0x03, b'a', b'b', b'c', // STREAM, no LEN: to the end
        ];
        let frames: Vec<_> = Frames::new(&payload).collect::<Result<_, _>>().unwrap();
        assert_eq!(frames.len(), 3);
        let Frame::Ack(a) = frames[0] else {
            panic!("{:?}", frames[0])
        };
        assert_eq!(a.iter().collect::<Vec<_>>(), [4..6]);
        assert_eq!(frames[1], Frame::Padding(2));
        let Frame::Stream(s) = frames[2] else {
            panic!("{:?}", frames[2])
        };
        assert_eq!((s.stream_id, s.data), (1, &b"abc"[..]));
        assert!(frames[0..2].iter().all(|f| !f.is_ack_eliciting()));
        assert!(frames[2].is_ack_eliciting());
    }

    #[test]
    fn malformed_frames_are_rejected() {
        assert_eq!(parse_one(&[0x0d]), Err(WireError::UnknownFrame(0x0d)));
        assert_eq!(parse_one(&[0x14]), Err(WireError::UnknownFrame(0x14)));
        assert_eq!(parse_one(&[0x2f]), Err(WireError::UnknownFrame(0x2f)));
        assert_eq!(parse_one(&[0x36]), Err(WireError::UnknownFrame(0x36)));
        // PATH_* frames carry exactly 8 bytes.
        assert_eq!(parse_one(&[0x0b, 1, 2, 3]), Err(WireError::Truncated));
        assert_eq!(parse_one(&[0x0c]), Err(WireError::Truncated));
        assert!(Frame::PathChallenge([0; 8]).is_ack_eliciting());
        assert!(Frame::PathResponse([0; 8]).is_ack_eliciting());
        assert_eq!(parse_one(&[0x40, 0x3f]), Err(WireError::UnknownFrame(0x3f)));
        assert_eq!(
            parse_one(&[0x06, 0xc0, 0, 0, 1, 0, 0, 0, 0, 0]),
            Err(WireError::StreamIdTooLarge(1 << 32))
        );
        assert_eq!(
            parse_one(&[0x04, 0x00, 0x41, 0x01]),
            Err(WireError::ReasonTooLong)
        );
        assert_eq!(
            parse_one(&[0x04, 0x00, 0x02, b'x']),
            Err(WireError::Truncated)
        );
        assert_eq!(parse_one(&[0x09, 0x01, 0x02]), Err(WireError::Truncated));
        // A non-minimal type encoding still names the frame.
        assert_eq!(parse_one(&[0x40, 0x01]), Ok(Frame::Ping));
        // A non-minimal PADDING type counts its bytes.
        assert_eq!(parse_one(&[0x40, 0x00, 0x00]), Ok(Frame::Padding(3)));
    }

    #[test]
    fn iteration_stops_after_the_first_error() {
        let payload = [0x01, 0x3f, 0x01];
        let mut it = Frames::new(&payload);
        assert_eq!(it.next(), Some(Ok(Frame::Ping)));
        assert_eq!(it.next(), Some(Err(WireError::UnknownFrame(0x3f))));
        assert_eq!(it.next(), None);
        assert_eq!(Frames::new(&[]).next(), None);
    }

    #[test]
    fn encoders_refuse_bad_values_and_write_nothing() {
        let mut buf = [0u8; 512];
        let mut w = Writer::new(&mut buf);
        let long = [b'x'; MAX_REASON_LEN + 1];
        assert_eq!(
            Frame::Close {
                code: 0,
                reason: &long
            }
            .encode(&mut w),
            Err(WireError::ReasonTooLong)
        );
        assert_eq!(
            Frame::MaxData(1 << 62).encode(&mut w),
            Err(WireError::VarintTooLarge)
        );
        let fin = Frame::StreamFin {
            stream_id: 1,
            final_offset: 0,
            final_seq: u64::MAX,
        };
        assert_eq!(fin.encode(&mut w), Err(WireError::VarintTooLarge));
        assert_eq!(w.written(), 0);
        let mut small = [0u8; 2];
        assert_eq!(
            Frame::MaxData(1 << 20).encode(&mut Writer::new(&mut small)),
            Err(WireError::BufferTooSmall)
        );
        assert_eq!(
            Frame::Padding(3).encode(&mut Writer::new(&mut small)),
            Err(WireError::BufferTooSmall)
        );
        assert_eq!(encode(&Frame::Padding(0)), [] as [u8; 0]);
    }

    /// An owned description of a frame, so proptest can generate it.
    #[derive(Debug, Clone)]
    enum Spec {
        Plain(Frame<'static>),
        Close(u64, Vec<u8>),
        Ack(u64, Vec<Range<u64>>),
        Stream(StreamHeader, Vec<u8>),
        Datagram(Vec<u8>),
    }

    fn v() -> impl Strategy<Value = u64> {
        prop_oneof![
            0u64..64,
            0u64..1 << 14,
            0u64..1 << 30,
            0..=crate::wire::MAX_VARINT
        ]
    }

    fn arb_spec() -> impl Strategy<Value = Spec> {
        let plain = prop_oneof![
            (1usize..40).prop_map(Frame::Padding),
            Just(Frame::Ping),
            Just(Frame::HandshakeDone),
            any::<[u8; 8]>().prop_map(Frame::PathChallenge),
            any::<[u8; 8]>().prop_map(Frame::PathResponse),
            v().prop_map(Frame::MaxData),
            v().prop_map(Frame::DataBlocked),
            (any::<u32>(), v())
                .prop_map(|(stream_id, max)| Frame::MaxStreamData { stream_id, max }),
            (any::<u32>(), v())
                .prop_map(|(stream_id, limit)| Frame::StreamDataBlocked { stream_id, limit }),
            (any::<u32>(), v(), v(), v()).prop_map(|(stream_id, code, final_offset, final_seq)| {
                Frame::StreamReset {
                    stream_id,
                    code,
                    final_offset,
                    final_seq,
                }
            }),
            (any::<u32>(), v(), v()).prop_map(|(stream_id, final_offset, final_seq)| {
                Frame::StreamFin {
                    stream_id,
                    final_offset,
                    final_seq,
                }
            }),
            (any::<u32>(), v(), v()).prop_map(|(stream_id, a, b)| Frame::StreamSkip {
                stream_id,
                offset: a.max(b),
                seq: a.min(b),
            }),
        ];
        let ranges = (
            0u64..1 << 30,
            proptest::collection::vec((1u64..100, 1u64..100), 1..8),
        )
            .prop_map(|(mut at, steps)| {
                let mut out: Vec<Range<u64>> = steps
                    .into_iter()
                    .map(|(gap, len)| {
                        let r = at..at + len;
                        at += len + gap;
                        r
                    })
                    .collect();
                out.reverse();
                out
            });
        let stream = (
            any::<u32>(),
            0u64..1 << 40,
            v(),
            0u64..1000,
            0u64..1000,
            proptest::collection::vec(any::<u8>(), 1..50),
        )
            .prop_map(|(stream_id, base, seq, frag_offset, tail, data)| {
                let msg_len = frag_offset + data.len() as u64 + tail;
                (
                    StreamHeader {
                        stream_id,
                        offset: base + frag_offset,
                        seq,
                        msg_len,
                        frag_offset,
                    },
                    data,
                )
            });
        prop_oneof![
            plain.prop_map(Spec::Plain),
            (
                v(),
                proptest::collection::vec(any::<u8>(), 0..=MAX_REASON_LEN)
            )
                .prop_map(|(c, r)| Spec::Close(c, r)),
            (v(), ranges).prop_map(|(d, r)| Spec::Ack(d, r)),
            stream.prop_map(|(h, d)| Spec::Stream(h, d)),
            proptest::collection::vec(any::<u8>(), 0..300).prop_map(Spec::Datagram),
        ]
    }

    /// Appends the frame `s` describes.
    fn emit(s: &Spec, w: &mut Writer) {
        match s {
            Spec::Plain(f) => f.encode(w).unwrap(),
            Spec::Close(code, reason) => Frame::Close {
                code: *code,
                reason,
            }
            .encode(w)
            .unwrap(),
            Spec::Ack(delay, ranges) => encode_ack(w, *delay, ranges).unwrap(),
            Spec::Stream(h, data) => h.encode(w, data, true).unwrap(),
            Spec::Datagram(data) => encode_datagram(w, data).unwrap(),
        }
    }

    fn matches(s: &Spec, f: &Frame) -> bool {
        match (s, f) {
            (Spec::Plain(a), b) => a == b,
            (Spec::Close(c, r), Frame::Close { code, reason }) => c == code && r == reason,
            (Spec::Ack(d, r), Frame::Ack(a)) => {
                a.ack_delay_micros() == *d && a.iter().eq(r.iter().cloned())
            }
            (Spec::Stream(h, d), Frame::Stream(sf)) => sf.header() == *h && sf.data == &d[..],
            (Spec::Datagram(d), Frame::Datagram(data)) => *data == &d[..],
            _ => false,
        }
    }

    proptest! {
        #[test]
        fn frame_sequences_round_trip(specs in proptest::collection::vec(arb_spec(), 1..8)) {
            // Separate adjacent paddings so each parses as its own frame.
            let specs: Vec<Spec> = specs.into_iter().flat_map(|s| [s, Spec::Plain(Frame::Ping)]).collect();
            let mut buf = vec![0u8; 8192];
            let mut w = Writer::new(&mut buf);
            for s in &specs {
                emit(s, &mut w);
            }
            let frames: Vec<_> = Frames::new(w.filled()).collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(frames.len(), specs.len());
            for (s, f) in specs.iter().zip(&frames) {
                prop_assert!(matches(s, f), "{:?} vs {:?}", s, f);
                // Re-encoding a parsed frame gives a frame that parses the same.
                let again = encode(f);
                prop_assert_eq!(again.len(), f.encoded_len());
                prop_assert_eq!(parse_one(&again), Ok(*f));
            }
        }

        #[test]
        fn random_payloads_never_panic(first in 0u8..0x32, rest in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut payload = vec![first];
            payload.extend_from_slice(&rest);
            let mut consumed_ok = 0;
            for f in Frames::new(&payload) {
                match f {
                    Ok(f) => {
                        consumed_ok += 1;
                        let _ = f.encoded_len();
                        if let Frame::Ack(a) = f {
                            prop_assert_eq!(a.iter().count(), a.range_count());
                        }
                    }
                    Err(_) => break,
                }
            }
            prop_assert!(consumed_ok <= payload.len());
        }

        #[test]
        fn arbitrary_bytes_never_panic(payload in proptest::collection::vec(any::<u8>(), 0..128)) {
            let n = Frames::new(&payload).count();
            prop_assert!(n <= payload.len());
        }
    }
}
