//! The typed trace events: what the core decided, and why.
//!
//! Owns: [`TraceEvent`] and the small fixed-size types it carries (loss and
//! drop reasons, a packet's frames, a metrics snapshot).
//! Never: allocates, or holds anything but copies of small fixed data and
//! borrows of what the core already holds. An event lives for one call of
//! [`TraceSink::event`](super::TraceSink::event); a sink that keeps it
//! copies what it needs.

use core::net::SocketAddr;
use core::time::Duration;

use crate::crypto::Cipher;
use crate::event::CloseReason;
use crate::ids::{Role, StreamId};
use crate::recovery::ControllerPhase;
use crate::streams::DatagramId;
use crate::wire::{Frame, Frames, PATH_DATA_LEN};

/// Which side of a session did something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// This endpoint.
    Local,
    /// The peer.
    Remote,
}

/// Why a packet was declared lost.
///
/// stt's probe timeout never declares a packet lost by itself (it sends
/// probes, see [`TraceEvent::ProbeTimeout`]); a packet outstanding at a
/// probe timeout is declared lost later by one of these two rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LossReason {
    /// A packet far enough after it (the packet threshold) was acknowledged.
    PacketThreshold,
    /// It was older than the time threshold while a later packet was
    /// acknowledged (on an acknowledgement or when the loss timer fired).
    TimeThreshold,
}

/// Why a datagram was dropped without effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DropReason {
    /// Its header did not parse (endpoint; `EndpointStats::malformed`).
    Malformed,
    /// It named no session this endpoint holds
    /// (`EndpointStats::unknown_session`).
    UnknownSession,
    /// An Initial that failed authentication: wrong network key or garbage
    /// (`EndpointStats::handshakes_rejected`).
    HandshakeRejected,
    /// An Initial refused for lack of room: not accepting, the session
    /// table or the half-open budget full, the Retry queue full
    /// (`EndpointStats::initials_dropped`).
    OverBudget,
    /// A replay or duplicate, or older than the replay window
    /// (`SessionStats::replays_dropped`).
    Replay,
    /// It failed authentication: tampered, or a wrong key
    /// (`SessionStats::decrypt_failures`).
    AuthFailure,
    /// Sealed under a receive key retired a key update ago
    /// (`SessionStats::stale_key_drops`).
    StaleKey,
}

/// A handshake message, by its long-header type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeKind {
    /// The initiator's first message.
    Initial,
    /// The responder's answer.
    Response,
    /// The initiator's last message.
    Finish,
    /// A stateless Retry carrying an address cookie.
    Retry,
    /// The initiator's first message with a session ticket.
    Resume,
    /// The responder's answer to a ticket it accepted.
    Resumed,
}

impl HandshakeKind {
    /// The kind of a long header's type.
    pub(crate) fn of(ty: crate::wire::LongType) -> Self {
        use crate::wire::LongType;
        match ty {
            LongType::Initial => HandshakeKind::Initial,
            LongType::Response => HandshakeKind::Response,
            LongType::Finish => HandshakeKind::Finish,
            LongType::Retry => HandshakeKind::Retry,
            LongType::Resume => HandshakeKind::Resume,
            LongType::Resumed => HandshakeKind::Resumed,
        }
    }
}

/// The sender's congestion and RTT state after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Metrics {
    /// Congestion window, bytes.
    pub congestion_window: u64,
    /// Bytes in flight.
    pub bytes_in_flight: u64,
    /// Smoothed RTT.
    pub smoothed_rtt: Duration,
    /// Minimum RTT seen.
    pub min_rtt: Duration,
    /// Latest RTT sample.
    pub latest_rtt: Duration,
    /// RTT variation.
    pub rtt_variance: Duration,
    /// Pacing rate in bits per second (0 before an RTT is known).
    pub pacing_rate: u64,
    /// Controller phase; `None` only in [`Metrics::default`].
    pub phase: Option<ControllerPhase>,
}

/// Frames one packet event lists; a packet with more (many small
/// messages) counts the rest in [`FrameSummary::omitted`].
pub const MAX_TRACED_FRAMES: usize = 16;

/// One frame of a packet, without its data: what a trace reader needs to
/// follow streams, credit and acknowledgements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameInfo {
    /// PADDING: a run of zero bytes.
    Padding {
        /// Its length in bytes.
        len: usize,
    },
    /// PING.
    Ping,
    /// ACK.
    Ack {
        /// The largest packet number it acknowledges.
        largest: u64,
    },
    /// HANDSHAKE_DONE.
    HandshakeDone,
    /// CLOSE.
    Close {
        /// The close code.
        code: u64,
    },
    /// MAX_DATA: session credit.
    MaxData {
        /// The new limit.
        max: u64,
    },
    /// MAX_STREAM_DATA: one stream's credit.
    MaxStreamData {
        /// The stream.
        stream: StreamId,
        /// The new limit (stream units).
        max: u64,
    },
    /// DATA_BLOCKED: the sender waits for session credit.
    DataBlocked {
        /// The limit it is blocked at.
        limit: u64,
    },
    /// STREAM_DATA_BLOCKED: the sender waits for a stream's credit.
    StreamDataBlocked {
        /// The stream.
        stream: StreamId,
        /// The limit it is blocked at (stream units).
        limit: u64,
    },
    /// STREAM_RESET: the sender abandons a stream.
    StreamReset {
        /// The stream.
        stream: StreamId,
        /// The application's code.
        code: u64,
        /// Units the stream carried before the reset.
        final_offset: u64,
    },
    /// STREAM_FIN: the sender's side of a stream ends.
    StreamFin {
        /// The stream.
        stream: StreamId,
        /// Units the stream carried in all.
        final_offset: u64,
    },
    /// STREAM: a fragment of a message.
    Stream {
        /// The stream.
        stream: StreamId,
        /// Stream unit offset of its first data byte.
        offset: u64,
        /// Data bytes it carries.
        len: usize,
        /// It carries its message's last byte, so it also covers the
        /// message's end unit (`offset + len` itself).
        message_end: bool,
    },
    /// PATH_CHALLENGE.
    PathChallenge {
        /// The data to echo.
        data: [u8; PATH_DATA_LEN],
    },
    /// PATH_RESPONSE.
    PathResponse {
        /// The data echoed.
        data: [u8; PATH_DATA_LEN],
    },
    /// DATAGRAM: an unreliable application datagram.
    Datagram {
        /// Data bytes it carries.
        len: usize,
    },
    /// STREAM_SKIP: the receiver moves past abandoned messages.
    StreamSkip {
        /// The stream.
        stream: StreamId,
        /// Unit offset delivery goes on from.
        offset: u64,
        /// Sequence number delivery goes on from.
        seq: u64,
    },
    /// NEW_TICKET: a session ticket for a later resumed handshake.
    NewTicket {
        /// Its length in bytes.
        len: usize,
    },
}

impl FrameInfo {
    /// The summary of `frame`.
    pub(crate) fn of(frame: &Frame<'_>) -> Self {
        match *frame {
            Frame::Padding(len) => FrameInfo::Padding { len },
            Frame::Ping => FrameInfo::Ping,
            Frame::Ack(ref a) => FrameInfo::Ack {
                largest: a.iter().map(|r| r.end.saturating_sub(1)).max().unwrap_or(0),
            },
            Frame::HandshakeDone => FrameInfo::HandshakeDone,
            Frame::Close { code, .. } => FrameInfo::Close { code },
            Frame::MaxData(max) => FrameInfo::MaxData { max },
            Frame::MaxStreamData { stream_id, max } => FrameInfo::MaxStreamData {
                stream: stream_id,
                max,
            },
            Frame::DataBlocked(limit) => FrameInfo::DataBlocked { limit },
            Frame::StreamDataBlocked { stream_id, limit } => FrameInfo::StreamDataBlocked {
                stream: stream_id,
                limit,
            },
            Frame::StreamReset {
                stream_id,
                code,
                final_offset,
                ..
            } => FrameInfo::StreamReset {
                stream: stream_id,
                code,
                final_offset,
            },
            Frame::StreamFin {
                stream_id,
                final_offset,
                ..
            } => FrameInfo::StreamFin {
                stream: stream_id,
                final_offset,
            },
            Frame::Stream(ref f) => FrameInfo::Stream {
                stream: f.stream_id,
                offset: f.offset,
                len: f.data.len(),
                message_end: f.frag_offset.saturating_add(f.data.len() as u64) == f.msg_len,
            },
            Frame::PathChallenge(data) => FrameInfo::PathChallenge { data },
            Frame::PathResponse(data) => FrameInfo::PathResponse { data },
            Frame::Datagram(d) => FrameInfo::Datagram { len: d.len() },
            Frame::StreamSkip {
                stream_id,
                offset,
                seq,
            } => FrameInfo::StreamSkip {
                stream: stream_id,
                offset,
                seq,
            },
            Frame::NewTicket(t) => FrameInfo::NewTicket { len: t.len() },
        }
    }
}

/// What one packet carried: its frames in order, the first
/// [`MAX_TRACED_FRAMES`] of them in full.
///
/// Built only while a sink listens, on the stack, from the packet's own
/// plaintext: what the trace shows is what went on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct FrameSummary {
    /// The frames, in packet order.
    pub frames: heapless::Vec<FrameInfo, MAX_TRACED_FRAMES, u8>,
    /// Frames after the listed ones.
    pub omitted: u16,
}

impl FrameSummary {
    /// No frames.
    pub const EMPTY: FrameSummary = FrameSummary {
        frames: heapless::Vec::new(),
        omitted: 0,
    };

    /// Adds `frame` at the end (or counts it as omitted once the list is
    /// full).
    pub(crate) fn add(&mut self, frame: &Frame<'_>) {
        if self.frames.push(FrameInfo::of(frame)).is_err() {
            self.omitted = self.omitted.saturating_add(1);
        }
    }

    /// The summary of a packet's plaintext; stops at the first frame that
    /// does not parse (the receiver closes the session on it anyway).
    pub(crate) fn of_payload(plain: &[u8]) -> Self {
        let mut s = FrameSummary::default();
        for f in Frames::new(plain) {
            match f {
                Ok(f) => s.add(&f),
                Err(_) => break,
            }
        }
        s
    }

    /// The largest packet number the packet's ACK frame acknowledged.
    pub fn ack_largest(&self) -> Option<u64> {
        self.frames.iter().find_map(|f| match *f {
            FrameInfo::Ack { largest } => Some(largest),
            _ => None,
        })
    }
}

/// One decision of the core. Events carry small copies and borrows only.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum TraceEvent<'a> {
    /// A session was created: by `connect` (initiator) or for an accepted
    /// Initial (responder).
    SessionStarted {
        /// This side's role.
        role: Role,
        /// The peer's address.
        peer: SocketAddr,
    },
    /// A handshake datagram left (first send or a resend).
    HandshakeSent {
        /// Its length.
        len: usize,
    },
    /// A handshake datagram for this session arrived (before its checks).
    HandshakeReceived {
        /// Which message.
        kind: HandshakeKind,
        /// Its length.
        len: usize,
    },
    /// Keys are in place: the session is established.
    Established {
        /// The packet cipher chosen.
        cipher: Cipher,
    },
    /// The session is over for the application (closing, draining, idle
    /// timeout, failed handshake).
    Closed {
        /// Why.
        reason: &'a CloseReason,
    },
    /// A protected packet left.
    PacketSent {
        /// Packet number.
        pn: u64,
        /// Datagram length.
        len: usize,
        /// It asks for an acknowledgement (counts in flight).
        ack_eliciting: bool,
        /// What it carried.
        frames: &'a FrameSummary,
    },
    /// A protected packet arrived and authenticated.
    PacketReceived {
        /// Packet number.
        pn: u64,
        /// Datagram length.
        len: usize,
        /// What it carried.
        frames: &'a FrameSummary,
    },
    /// The peer acknowledged a packet this side sent.
    PacketAcked {
        /// Packet number.
        pn: u64,
        /// Datagram length.
        len: usize,
    },
    /// A packet this side sent was declared lost.
    PacketLost {
        /// Packet number.
        pn: u64,
        /// Datagram length.
        len: usize,
        /// Which rule declared it.
        reason: LossReason,
    },
    /// The probe timer fired: probes go out, beyond the window if need be.
    ProbeTimeout {
        /// Consecutive probe timeouts so far (the backoff exponent).
        count: u32,
        /// Probes owed.
        probes: u8,
    },
    /// Congestion window, bytes in flight, RTT or pacing changed.
    MetricsUpdated(Metrics),
    /// A stream was opened: by the application (`create_stream`) or by
    /// the peer sending on it.
    StreamOpened {
        /// The stream.
        stream: StreamId,
        /// Who opened it.
        by: Side,
    },
    /// A stream has data to send but waits for session-level credit from
    /// the peer (MAX_DATA).
    StreamBlocked {
        /// The stream.
        stream: StreamId,
    },
    /// A stream ended: closed by the application, or finished by the peer
    /// with every message delivered.
    StreamClosed {
        /// The stream.
        stream: StreamId,
        /// Who ended it.
        by: Side,
    },
    /// A stream was abandoned with a code.
    StreamReset {
        /// The stream.
        stream: StreamId,
        /// The application's code.
        code: u64,
        /// Who reset it.
        by: Side,
    },
    /// A datagram was dropped without effect.
    DatagramDropped {
        /// Why.
        reason: DropReason,
        /// Its length.
        len: usize,
    },
    /// An application datagram (`Session::send_datagram`) left in packet
    /// `pn`. Its fate is that packet's: [`TraceEvent::AppDatagramsAcked`]
    /// or [`TraceEvent::AppDatagramsLost`] name the packet.
    AppDatagramSent {
        /// Its handle.
        id: DatagramId,
        /// Its payload length.
        len: usize,
        /// The packet that carries it.
        pn: u64,
    },
    /// Packet `pn`, which carried `count` application datagrams, was
    /// acknowledged: the peer has them.
    AppDatagramsAcked {
        /// The packet.
        pn: u64,
        /// Datagrams it carried.
        count: u8,
    },
    /// Packet `pn`, which carried `count` application datagrams, was
    /// declared lost; datagrams are never resent.
    AppDatagramsLost {
        /// The packet.
        pn: u64,
        /// Datagrams it carried.
        count: u8,
    },
    /// An application datagram's deadline passed while it was queued: it
    /// never left.
    AppDatagramExpired {
        /// Its handle.
        id: DatagramId,
        /// Its payload length.
        len: usize,
    },
    /// An application datagram was dropped unsent: pushed out of the full
    /// send queue by newer ones, or larger than the path's datagram size
    /// became.
    AppDatagramDropped {
        /// Its handle.
        id: DatagramId,
        /// Its payload length.
        len: usize,
    },
    /// A packet key changed.
    KeyUpdated {
        /// `Local`: this side's send key; `Remote`: the peer's (this
        /// side's receive key).
        by: Side,
        /// Updates so far in that direction.
        generation: u64,
    },
    /// A datagram size probe (PING and PADDING) was lost: the path may not
    /// carry that size. Not congestion, and not counted in `packets_lost`.
    SizeProbeLost {
        /// Packet number.
        pn: u64,
        /// The size probed.
        len: usize,
    },
    /// The size of full datagrams changed: a probe was acknowledged, or a
    /// black hole (or a path change) sent the session back to the base size.
    DatagramSizeChanged {
        /// The new size (UDP payload bytes).
        size: usize,
    },
    /// A PATH_CHALLENGE went to an address the peer sent from but has not
    /// proven it receives at.
    PathChallengeSent {
        /// The address challenged.
        to: SocketAddr,
        /// The probe's size on the wire.
        len: usize,
    },
    /// The peer echoed a challenge: it receives at `addr`.
    PathValidated {
        /// The address proven.
        addr: SocketAddr,
    },
    /// An address did not answer its challenges in time and is forgotten;
    /// the session stays where it was.
    PathValidationFailed {
        /// The address given up.
        addr: SocketAddr,
    },
    /// The session moved to a peer address that proved it receives there.
    PathChanged {
        /// The new address.
        to: SocketAddr,
        /// A new IP address (congestion state starts over), not a port-only
        /// change (NAT rebinding: kept).
        new_path: bool,
    },
    /// This side abandoned a message whose deadline came too close for it
    /// to arrive in time.
    MessageExpired {
        /// The stream.
        stream: StreamId,
        /// The message's sequence number.
        seq: u64,
        /// Some of its bytes had been sent; false: it never left.
        sent: bool,
    },
    /// A stream's in-order point moved past abandoned messages: this side
    /// (`Local`) sent a STREAM_SKIP, or the peer's (`Remote`) was applied.
    StreamSkipped {
        /// The stream.
        stream: StreamId,
        /// Unit offset delivery goes on from.
        offset: u64,
        /// Sequence number delivery goes on from.
        seq: u64,
        /// Whose skip.
        by: Side,
    },
}

impl TraceEvent<'_> {
    /// The event's stt name, as the qlog writer and `tracing` use it.
    pub fn name(&self) -> &'static str {
        match self {
            TraceEvent::SessionStarted { .. } => "session_started",
            TraceEvent::HandshakeSent { .. } => "handshake_sent",
            TraceEvent::HandshakeReceived { .. } => "handshake_received",
            TraceEvent::Established { .. } => "established",
            TraceEvent::Closed { .. } => "closed",
            TraceEvent::PacketSent { .. } => "packet_sent",
            TraceEvent::PacketReceived { .. } => "packet_received",
            TraceEvent::PacketAcked { .. } => "packet_acked",
            TraceEvent::PacketLost { .. } => "packet_lost",
            TraceEvent::ProbeTimeout { .. } => "probe_timeout",
            TraceEvent::MetricsUpdated(_) => "metrics_updated",
            TraceEvent::StreamOpened { .. } => "stream_opened",
            TraceEvent::StreamBlocked { .. } => "stream_blocked",
            TraceEvent::StreamClosed { .. } => "stream_closed",
            TraceEvent::StreamReset { .. } => "stream_reset",
            TraceEvent::DatagramDropped { .. } => "datagram_dropped",
            TraceEvent::AppDatagramSent { .. } => "app_datagram_sent",
            TraceEvent::AppDatagramsAcked { .. } => "app_datagram_acked",
            TraceEvent::AppDatagramsLost { .. } => "app_datagram_lost",
            TraceEvent::AppDatagramExpired { .. } => "app_datagram_expired",
            TraceEvent::AppDatagramDropped { .. } => "app_datagram_dropped",
            TraceEvent::KeyUpdated { .. } => "key_updated",
            TraceEvent::SizeProbeLost { .. } => "size_probe_lost",
            TraceEvent::DatagramSizeChanged { .. } => "datagram_size_changed",
            TraceEvent::PathChallengeSent { .. } => "path_challenge_sent",
            TraceEvent::PathValidated { .. } => "path_validated",
            TraceEvent::PathValidationFailed { .. } => "path_validation_failed",
            TraceEvent::PathChanged { .. } => "path_changed",
            TraceEvent::MessageExpired { .. } => "message_expired",
            TraceEvent::StreamSkipped { .. } => "stream_skipped",
        }
    }
}
