//! `session_frames`: an established session (endpoint `b`, responder) fed
//! arbitrary *decrypted* frame sequences from its peer, mixed with the
//! application's own calls and honest acknowledgements.
//!
//! In cargo-fuzz builds (`cfg(fuzzing)`) the plaintext enters through
//! `Endpoint::fuzz_inject_plaintext` (no AEAD, fast); without it a
//! [`RawPeer`] seals it with the real key. Both reach the same frame
//! dispatch.

use arbitrary::{Arbitrary, Unstructured};
use std::time::Duration;

use stt::__private::wire::{Frame, StreamHeader, TransportParams, Writer, MAX_VARINT};
use stt::{CloseReason, Endpoint, Event, Instant, SessionId};

use super::net::{built, NET_SEED};
use super::raw_peer::{encode_frames, RawPeer};

/// One frame, with fields drawn from small ranges so that they often land
/// on live state (open streams, sent packet numbers, current windows).
#[derive(Debug, Arbitrary)]
pub enum FrameSpec {
    /// PADDING of 1..=16 bytes.
    Padding(u8),
    /// PING.
    Ping,
    /// ACK: largest, delay, first range, then (gap, len) pairs.
    Ack(u16, u16, u8, Vec<(u8, u8)>),
    /// ACK of everything the peer received so far.
    AckAll,
    /// HANDSHAKE_DONE (forbidden towards a responder).
    HandshakeDone,
    /// CLOSE.
    Close(u16, Vec<u8>),
    /// MAX_DATA.
    MaxData(u32),
    /// MAX_STREAM_DATA.
    MaxStreamData(u8, u32),
    /// DATA_BLOCKED.
    DataBlocked(u32),
    /// STREAM_DATA_BLOCKED.
    StreamDataBlocked(u8, u32),
    /// STREAM_RESET: stream, code, final offset, final seq.
    Reset(u8, u8, u32, u8),
    /// STREAM_FIN: stream, final offset, final seq.
    Fin(u8, u32, u8),
    /// A STREAM fragment: stream, message start, seq, msg_len, frag
    /// offset, len, fill byte.
    Stream(u8, u32, u8, u16, u16, u16, u8),
    /// A STREAM fragment with any values at all (most are malformed).
    WildStream(u32, u64, u64, u64, u64, u8),
    /// Arbitrary bytes.
    Raw(Vec<u8>),
    /// PATH_CHALLENGE with these bytes.
    PathChallenge([u8; 8]),
    /// PATH_RESPONSE with these bytes (almost always wrong).
    PathResponse([u8; 8]),
    /// PATH_RESPONSE echoing one of the latest challenges `b` sent.
    EchoChallenge(u8),
    /// STREAM_SKIP: stream, offset, seq (malformed when seq > offset).
    Skip(u8, u32, u8),
}

/// What happens next.
#[derive(Debug, Arbitrary)]
pub enum Step {
    /// A packet from the peer with these frames, numbered `next + skip`.
    Packet(u8, Vec<FrameSpec>),
    /// A packet numbered exactly `pn` (old, duplicate, far ahead).
    PacketAt(u32, Vec<FrameSpec>),
    /// A packet from source address number `from` (0: the peer's first
    /// address; others: a NAT rebinding, a new network, or an attacker's
    /// copy), numbered `next + skip`.
    PacketFrom(u8, u8, Vec<FrameSpec>),
    /// Time passes; the endpoint's timers run and it transmits.
    Advance(u16),
    /// The application on `b` sends a message of `len` bytes on a stream.
    AppSend(u8, u16),
    /// The application on `b` reads a stream.
    AppRecv(u8),
    /// The application on `b` closes a stream.
    AppClose(u8),
    /// The application on `b` resets a stream.
    AppReset(u8, u8),
    /// The application on `b` opens a stream.
    AppOpen(u8),
}

/// What the application sends: `AppSend`'s message of `len` bytes is the
/// first `len` of these, shared rather than filled for every call.
static SEND: [u8; 1 << 16] = [0xab; 1 << 16];

fn stream_id(s: u8) -> u32 {
    u32::from(s % 20)
}

/// Appends what `encode` writes into `len` bytes to `out`; nothing if it
/// fails.
fn append(out: &mut Vec<u8>, len: usize, encode: impl FnOnce(&mut Writer<'_>) -> bool) {
    let at = out.len();
    out.resize(at + len, 0);
    if !encode(&mut Writer::new(&mut out[at..])) {
        out.truncate(at);
    }
}

fn encode_one(f: &FrameSpec, peer: &RawPeer, out: &mut Vec<u8>) {
    let put = |out: &mut Vec<u8>, frame: Frame<'_>| {
        append(out, frame.encoded_len(), |w| frame.encode(w).is_ok());
    };
    match f {
        FrameSpec::Padding(n) => put(out, Frame::Padding(usize::from(n % 16) + 1)),
        FrameSpec::Ping => put(out, Frame::Ping),
        FrameSpec::Ack(largest, delay, first, pairs) => {
            let mut ranges = Vec::new();
            let mut top = u64::from(*largest);
            let mut len = u64::from(*first % 32);
            for (gap, l) in std::iter::once(&(0, 0)).chain(pairs.iter().take(64)) {
                if !ranges.is_empty() {
                    let Some(t) = top.checked_sub(u64::from(*gap) + 2) else {
                        break;
                    };
                    top = t;
                    len = u64::from(*l % 16);
                }
                let start = top.saturating_sub(len);
                ranges.push(start..top + 1);
                top = start;
            }
            let delay = u64::from(*delay);
            append(out, stt::__private::wire::ack_len(delay, &ranges), |w| {
                stt::__private::wire::encode_ack(w, delay, &ranges).is_ok()
            });
        }
        FrameSpec::AckAll => out.extend_from_slice(&peer.ack_plaintext()),
        FrameSpec::HandshakeDone => put(out, Frame::HandshakeDone),
        FrameSpec::Close(code, reason) => put(
            out,
            Frame::Close {
                code: u64::from(*code),
                reason: &reason[..reason.len().min(300)],
            },
        ),
        FrameSpec::MaxData(m) => put(out, Frame::MaxData(u64::from(*m))),
        FrameSpec::MaxStreamData(s, m) => put(
            out,
            Frame::MaxStreamData {
                stream_id: stream_id(*s),
                max: u64::from(*m),
            },
        ),
        FrameSpec::DataBlocked(m) => put(out, Frame::DataBlocked(u64::from(*m))),
        FrameSpec::StreamDataBlocked(s, m) => put(
            out,
            Frame::StreamDataBlocked {
                stream_id: stream_id(*s),
                limit: u64::from(*m),
            },
        ),
        FrameSpec::Reset(s, code, off, seq) => put(
            out,
            Frame::StreamReset {
                stream_id: stream_id(*s),
                code: u64::from(*code),
                final_offset: u64::from(*off % 300_000),
                final_seq: u64::from(*seq),
            },
        ),
        FrameSpec::Fin(s, off, seq) => put(
            out,
            Frame::StreamFin {
                stream_id: stream_id(*s),
                final_offset: u64::from(*off % 300_000),
                final_seq: u64::from(*seq),
            },
        ),
        FrameSpec::Stream(s, start, seq, msg_len, frag, len, fill) => {
            let msg_len = u64::from(*msg_len);
            let frag_offset = u64::from(*frag) % (msg_len + 1);
            let len = (u64::from(*len) % (msg_len - frag_offset + 1)) as usize;
            let len = if msg_len > 0 && len == 0 {
                1.min((msg_len - frag_offset) as usize)
            } else {
                len
            };
            let data = vec![*fill; len];
            let header = StreamHeader {
                stream_id: stream_id(*s),
                offset: u64::from(*start % 400_000) + frag_offset,
                seq: u64::from(*seq % 64),
                msg_len,
                frag_offset,
            };
            append(out, header.encoded_len(len, true), |w| {
                header.encode(w, &data, true).is_ok()
            });
        }
        FrameSpec::WildStream(s, offset, seq, msg_len, frag_offset, fill) => {
            let header = StreamHeader {
                stream_id: *s,
                offset: offset % (MAX_VARINT + 1),
                seq: seq % (MAX_VARINT + 1),
                msg_len: msg_len % (MAX_VARINT + 1),
                frag_offset: frag_offset % (MAX_VARINT + 1),
            };
            let data = [*fill; 8];
            append(out, header.encoded_len(data.len(), true), |w| {
                header.encode(w, &data, true).is_ok()
            });
        }
        FrameSpec::Skip(s, off, seq) => put(
            out,
            Frame::StreamSkip {
                stream_id: stream_id(*s),
                offset: u64::from(*off % 300_000),
                seq: u64::from(*seq),
            },
        ),
        FrameSpec::Raw(bytes) => out.extend_from_slice(bytes),
        FrameSpec::PathChallenge(d) => put(out, Frame::PathChallenge(*d)),
        FrameSpec::PathResponse(d) => put(out, Frame::PathResponse(*d)),
        FrameSpec::EchoChallenge(i) => {
            if !peer.challenges.is_empty() {
                let d = peer.challenges[usize::from(*i) % peer.challenges.len()];
                put(out, Frame::PathResponse(d));
            }
        }
    }
}

/// The harness state: endpoint `b`, its session, and the raw peer.
struct World {
    ep: Endpoint,
    sb: SessionId,
    peer: RawPeer,
    now: Instant,
    events: usize,
    /// Bytes of protected packets injected, from any address.
    injected: u64,
}

/// Source address number `k` of the peer: 0 is the address it connected
/// from; 1..=3 share its IP (NAT rebinding), 4..=7 do not.
fn source(k: u8) -> Option<std::net::SocketAddr> {
    match k % 8 {
        0 => None,
        k @ 1..=3 => Some(std::net::SocketAddr::from((
            [192, 0, 2, 1],
            1000 + u16::from(k),
        ))),
        k => Some(std::net::SocketAddr::from(([203, 0, 113, k], 4000))),
    }
}

impl World {
    fn new() -> World {
        let cfg = built("b");
        let mut ep = super::trace::traced(Endpoint::new(cfg, [2; 32]));
        let now = Instant::from_millis(1_000);
        let params = TransportParams {
            max_data: 1 << 20,
            max_stream_data: 256 << 10,
            idle_timeout_ms: 5_000,
            max_message_size: 64 << 10,
            reset_token: None,
            max_datagram_frame_size: 1200,
            stream_skip: true,
        };
        let addr = "192.0.2.1:1000".parse().unwrap();
        let peer = RawPeer::connect_recorded(
            &mut ep,
            now,
            addr,
            b"fuzz-peer-node-seed-32-bytes....",
            NET_SEED,
            params,
        )
        .expect("raw handshake");
        let sb = loop {
            match ep.poll_event() {
                Some(Event::Accepted { session, .. }) => break session,
                Some(_) => {}
                None => panic!("no Accepted event"),
            }
        };
        let mut w = World {
            ep,
            sb,
            peer,
            now,
            events: 0,
            injected: 0,
        };
        w.exchange();
        w
    }

    /// Lets `b` transmit and reads what it sent; drains its events.
    fn exchange(&mut self) {
        self.peer.drain_any(&mut self.ep, self.now);
        while let Some(e) = self.ep.poll_event() {
            self.events += 1;
            if let Event::Closed {
                reason: CloseReason::Violation(_) | CloseReason::PeerError { .. },
                ..
            } = e
            {
                // A typed outcome the application can read: fine.
            }
        }
    }

    fn inject(&mut self, from: Option<std::net::SocketAddr>, pn: u64, plain: &[u8]) {
        // What the session counts: header, frames, tag.
        self.injected += (13 + plain.len() + 16) as u64;
        #[cfg(fuzzing)]
        {
            self.ep
                .fuzz_inject_plaintext_from(self.now, self.sb, from, pn, plain);
        }
        #[cfg(not(fuzzing))]
        {
            let mut d = self.peer.seal_pn(pn, plain);
            let from = from.unwrap_or(self.peer.addr);
            self.ep.handle_datagram(self.now, from, &mut d);
        }
        self.peer.next_pn = self.peer.next_pn.max(pn + 1);
    }

    fn step(&mut self, step: &Step) {
        match step {
            Step::Packet(skip, frames) => {
                let plain = self.plaintext(frames);
                self.inject(None, self.peer.next_pn + u64::from(*skip % 8), &plain);
            }
            Step::PacketAt(pn, frames) => {
                let plain = self.plaintext(frames);
                self.inject(None, u64::from(*pn), &plain);
            }
            Step::PacketFrom(from, skip, frames) => {
                let plain = self.plaintext(frames);
                let pn = self.peer.next_pn + u64::from(*skip % 8);
                self.inject(source(*from), pn, &plain);
            }
            Step::Advance(ms) => {
                let end = self.now + Duration::from_millis(u64::from(*ms % 2_000));
                for _ in 0..1_000 {
                    let next = self.ep.poll_timeout().filter(|t| *t <= end);
                    self.now = next.unwrap_or(end).max(self.now);
                    self.ep.handle_timeout(self.now);
                    self.exchange();
                    if next.is_none() {
                        break;
                    }
                }
            }
            Step::AppSend(s, len) => {
                if let Some(sess) = self.ep.session_mut(self.sb) {
                    let _ = sess.send(stream_id(*s), &SEND[..usize::from(*len)]);
                }
            }
            Step::AppRecv(s) => {
                if let Some(sess) = self.ep.session_mut(self.sb) {
                    for _ in 0..100 {
                        if !matches!(sess.recv(stream_id(*s)), Ok(Some(_))) {
                            break;
                        }
                    }
                }
            }
            Step::AppClose(s) => {
                if let Some(sess) = self.ep.session_mut(self.sb) {
                    let _ = sess.close_stream(stream_id(*s));
                }
            }
            Step::AppReset(s, code) => {
                if let Some(sess) = self.ep.session_mut(self.sb) {
                    let _ = sess.reset_stream(stream_id(*s), u64::from(*code));
                }
            }
            Step::AppOpen(s) => {
                if let Some(sess) = self.ep.session_mut(self.sb) {
                    let _ = sess.open_stream(stream_id(*s));
                }
            }
        }
        self.exchange();
    }

    fn plaintext(&self, frames: &[FrameSpec]) -> Vec<u8> {
        let mut out = Vec::new();
        for f in frames.iter().take(32) {
            encode_one(f, &self.peer, &mut out);
        }
        out.truncate(1400);
        out
    }
}

/// The input as the harness reads it, for humans.
pub fn describe(data: &[u8]) -> String {
    let mut u = Unstructured::new(data);
    let mut steps = Vec::new();
    while !u.is_empty() && steps.len() < 256 {
        match Step::arbitrary(&mut u) {
            Ok(x) => steps.push(x),
            Err(_) => break,
        }
    }
    format!("{steps:#?}")
}

/// The streams `s` holds: in fuzzing builds without assembling the rest
/// of its statistics, which the per-step check would otherwise pay for.
fn streams(s: &stt::Session) -> usize {
    #[cfg(fuzzing)]
    return s.fuzz_streams();
    #[cfg(not(fuzzing))]
    return s.stats().streams;
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut w = World::new();
    // An exhausted Unstructured keeps yielding default steps: stop at the end.
    for _ in 0..256 {
        if u.is_empty() {
            break;
        }
        let Ok(step) = Step::arbitrary(&mut u) else {
            break;
        };
        w.step(&step);
        // Bounded state whatever the peer sends.
        // (Counted as accepted, which needs no walk over the table: the
        // peer only ever sends short packets, so nothing else is opened.)
        assert!(w.ep.stats().sessions_accepted <= 1);
        if let Some(s) = w.ep.session(w.sb) {
            assert!(streams(s) <= 16, "stream limit holds");
            // An address not validated is sent at most 3x what came in.
            let p = s.path_stats();
            assert!(p.unvalidated_bytes_sent <= 3 * w.injected, "{p:?}");
            assert!(p.migrations <= p.validated, "{p:?}");
        }
    }
    // The statistics once an input, so that their assembly stays under
    // fuzz too (the per-step check reads the stream count alone).
    if let Some(s) = w.ep.session(w.sb) {
        assert_eq!(s.stats().streams, streams(s));
    }
    // Let every timer run out: the session ends by itself.
    let end = w.now + Duration::from_secs(60);
    for _ in 0..100_000 {
        let Some(t) = w.ep.poll_timeout() else { break };
        if t > end {
            break;
        }
        w.now = w.now.max(t);
        w.ep.handle_timeout(w.now);
        w.exchange();
    }
    assert_eq!(w.ep.sessions().count(), 0, "idle session ends");
    w.peer.recycle();
    let _ = w.events;
    let _ = encode_frames(&[]);
}
