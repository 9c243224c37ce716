//! Packets in: handshake packets for this session, and protected packets
//! opened, checked against replay, and their frames routed to their owners.
//!
//! Owns: decryption, replay and duplicate checks, and the dispatch of each
//! frame to the module that owns its state (acks to recovery, stream frames
//! and credits to the stream manager, datagrams to their queue, CLOSE to
//! the lifecycle), and the check of a packet that fails them against the
//! peer's reset token.
//! Never: trusts a byte before authentication: a packet that fails to open
//! changes nothing but a counter.

use alloc::boxed::Box;
use core::net::SocketAddr;
use core::time::Duration;

use super::keys::OpenError;
use super::{Session, State};
use crate::ids::Role;
use crate::streams::recv::Fragment;
use crate::time::Instant;
use crate::trace::{trace_event, DropReason, HandshakeKind, TraceEvent};
use crate::violation::Violation;
use crate::wire::{
    decode_packet_number, Frame, Frames, LongHeader, LongType, ShortHeader, SHORT_HEADER_LEN,
};

impl Session {
    /// A long-header packet addressed to this session.
    pub(crate) fn handle_long(
        &mut self,
        now: Instant,
        from: SocketAddr,
        header: &LongHeader<'_>,
        payload: &[u8],
        datagram_len: usize,
    ) {
        self.now = self.now.max(now);
        let Some(hs) = self.hs.as_mut() else {
            return;
        };
        trace_event!(
            self.trace.tracer,
            self.now,
            Some(self.id),
            TraceEvent::HandshakeReceived {
                kind: HandshakeKind::of(header.ty),
                len: datagram_len
            }
        );
        match (header.ty, hs.role) {
            (LongType::Retry, Role::Initiator) if self.state == State::Handshake => {
                hs.on_retry(self.id, header.token, now);
                self.report_early_refused();
            }
            (LongType::Response, Role::Initiator) => {
                if self.state != State::Handshake && hs.datagram.is_empty() {
                    // Resumed, or confirmed: nothing to answer.
                    return;
                }
                if hs.is_split() {
                    // Our Finish was lost: send it again.
                    hs.send_owed = true;
                    return;
                }
                let params = Session::local_params(&self.cfg, self.id);
                match hs.on_response(self.id, header.src, payload, &params, now) {
                    Ok(out) => {
                        self.peer_id = header.src;
                        self.peer = from;
                        self.counters.packets_received += 1;
                        self.counters.bytes_received += datagram_len as u64;
                        self.establish(out);
                        self.report_early_refused();
                    }
                    Err(_) => {
                        self.count_drop(DropReason::AuthFailure, datagram_len);
                    }
                }
            }
            (LongType::Resumed, Role::Initiator) => {
                if !hs.is_resuming() {
                    return;
                }
                match hs.on_resumed(payload) {
                    Ok(out) => {
                        self.peer_id = header.src;
                        self.peer = from;
                        self.counters.packets_received += 1;
                        self.counters.bytes_received += datagram_len as u64;
                        // Only the holder of the resumption secret could
                        // answer: the handshake is confirmed. A first
                        // packet proves this address to the responder.
                        self.confirmed = true;
                        self.ping_owed = true;
                        self.establish(out);
                        self.settle_early_accepted();
                    }
                    Err(_) => {
                        self.count_drop(DropReason::AuthFailure, datagram_len);
                    }
                }
            }
            (LongType::Initial | LongType::Resume, Role::Responder) => {
                // The initiator did not hear our Response: resend it, within
                // the amplification budget.
                hs.rx_bytes += datagram_len as u64;
                if !hs.is_split() || (!self.confirmed && !hs.datagram.is_empty()) {
                    hs.send_owed = true;
                }
            }
            (LongType::Finish, Role::Responder) => {
                if hs.is_split() {
                    // Already established; its HANDSHAKE_DONE will follow.
                    self.handshake_done_owed = true;
                    return;
                }
                hs.rx_bytes += datagram_len as u64;
                match hs.on_finish(payload) {
                    Ok(out) => {
                        self.counters.packets_received += 1;
                        self.counters.bytes_received += datagram_len as u64;
                        self.peer = from;
                        self.handshake_done_owed = true;
                        self.confirmed = true;
                        self.establish(out);
                        // The responder never resends its Response now.
                        if let Some(hs) = self.hs.as_mut() {
                            hs.on_established();
                        }
                    }
                    Err(_) => {
                        self.count_drop(DropReason::AuthFailure, datagram_len);
                    }
                }
            }
            _ => {}
        }
    }

    /// A protected packet addressed to this session; `data` is the whole
    /// datagram and is decrypted in place.
    pub(crate) fn handle_short(
        &mut self,
        now: Instant,
        from: SocketAddr,
        header: ShortHeader,
        data: &mut [u8],
    ) {
        self.now = self.now.max(now);
        let len = data.len();
        let grace = self.pto() * 3;
        let Some(keys) = self.keys.as_mut() else {
            return;
        };
        // Kept before decryption touches the buffer: a packet that does not
        // open may be the peer's stateless reset.
        let tail = match keys.peer_reset_token {
            Some(_) => crate::wire::reset_tail(data).copied(),
            None => None,
        };
        let pn = decode_packet_number(keys.replay.largest(), header.pn_truncated);
        if keys.replay.check(pn).is_err() {
            // Cheap early drop; re-checked after authentication.
            self.drop_unless_reset(DropReason::Replay, len, tail.as_ref());
            return;
        }
        #[cfg(feature = "trace")]
        let updates = keys.updates_received;
        let (head, body) = data.split_at_mut(SHORT_HEADER_LEN);
        let plain = match keys.open(now, pn, header.key_phase, head, body, grace) {
            Ok(plain) => plain,
            Err(OpenError::Decrypt) => {
                self.drop_unless_reset(DropReason::AuthFailure, len, tail.as_ref());
                return;
            }
            Err(OpenError::StaleKey) => {
                self.drop_unless_reset(DropReason::StaleKey, len, tail.as_ref());
                return;
            }
        };
        #[cfg(feature = "trace")]
        if keys.updates_received != updates {
            let generation = u64::from(keys.updates_received);
            trace_event!(
                self.trace.tracer,
                self.now,
                Some(self.id),
                TraceEvent::KeyUpdated {
                    by: crate::trace::Side::Remote,
                    generation
                }
            );
        }
        self.on_authentic(now, from, pn, len, plain);
    }

    /// Fuzzing-only entry (`cfg(fuzzing)`, set by cargo-fuzz): `plaintext` as if it had
    /// arrived in packet `pn` from `from` (the peer's current address if
    /// `None`) and authenticated. Replays are still refused.
    #[cfg(fuzzing)]
    pub(crate) fn fuzz_inject_plaintext(
        &mut self,
        now: Instant,
        from: Option<SocketAddr>,
        pn: u64,
        plaintext: &[u8],
    ) {
        self.now = self.now.max(now);
        let Some(keys) = self.keys.as_ref() else {
            return;
        };
        let len = SHORT_HEADER_LEN + plaintext.len() + crate::crypto::TAG_LEN;
        if keys.replay.check(pn).is_err() {
            self.count_drop(DropReason::Replay, len);
            return;
        }
        self.on_authentic(now, from.unwrap_or(self.peer), pn, len, plaintext);
    }

    /// A packet that failed its checks: the peer's stateless reset if it
    /// ends with the peer's token (the session closes), else a drop.
    fn drop_unless_reset(&mut self, reason: DropReason, len: usize, tail: Option<&[u8; 16]>) {
        if !tail.is_some_and(|t| self.on_reset_tail(t)) {
            self.count_drop(reason, len);
        }
    }

    /// Counts a datagram this session drops without effect, in the counter
    /// its reason names (the one place those counters grow), and traces it.
    fn count_drop(&mut self, reason: DropReason, len: usize) {
        match reason {
            DropReason::Replay => self.counters.replays_dropped += 1,
            DropReason::AuthFailure => self.counters.decrypt_failures += 1,
            DropReason::StaleKey => self.counters.stale_key_drops += 1,
            // Reasons the endpoint counts before a session is involved.
            DropReason::Malformed
            | DropReason::UnknownSession
            | DropReason::HandshakeRejected
            | DropReason::OverBudget => {}
        }
        trace_event!(
            self.trace.tracer,
            self.now,
            Some(self.id),
            TraceEvent::DatagramDropped { reason, len }
        );
    }

    /// Everything a packet does once it has authenticated as packet `pn`
    /// (`len` bytes on the wire): replay bookkeeping, liveness, migration,
    /// and the dispatch of its frames.
    fn on_authentic(&mut self, now: Instant, from: SocketAddr, pn: u64, len: usize, plain: &[u8]) {
        let mut highest = true;
        if let Some(keys) = self.keys.as_mut() {
            highest = keys.replay.largest().is_none_or(|l| pn > l);
            keys.replay.record(pn);
        }
        self.counters.packets_received += 1;
        self.counters.bytes_received += len as u64;
        trace_event!(
            self.trace.tracer,
            self.now,
            Some(self.id),
            TraceEvent::PacketReceived {
                pn,
                len,
                frames: &crate::trace::FrameSummary::of_payload(plain)
            }
        );
        self.last_rx = now;
        if highest {
            self.latest_from = (from != self.peer).then(|| Box::new(from));
        }
        if from != self.peer {
            // Perhaps the peer moved (NAT rebinding, a new network),
            // perhaps an attacker raced a copy from elsewhere: the session
            // stays on its validated address and challenges this one.
            let pto = self.pto();
            self.paths
                .on_received(now, self.peer, from, len, highest, pto);
        }
        if !self.confirmed {
            // Only a peer holding the keys can send this (for a resumed
            // responder: the initiator's first packet proves its address).
            self.confirmed = true;
            if let Some(hs) = self.hs.as_mut() {
                if self.role == Role::Initiator {
                    hs.on_confirmed();
                } else {
                    hs.on_established();
                }
            }
            self.release_handshake();
        }
        if let State::Closing { until } = self.state {
            if Frames::new(plain).any(|f| matches!(f, Ok(Frame::Close { .. }))) {
                // The peer closed too: it needs no answer, and answering
                // would bounce CLOSEs between two closing sides.
                self.state = State::Draining { until };
            } else {
                // Tell it again; nothing else matters now.
                self.close_pending = true;
            }
            return;
        }
        if self.state != State::Established {
            return;
        }
        let mut eliciting = false;
        let mut only_ping = true;
        let resting = self.recovery.is_resting();
        for frame in Frames::new(plain) {
            let Ok(frame) = frame else {
                self.violation(Violation::Protocol);
                return;
            };
            if frame.is_ack_eliciting() {
                eliciting = true;
                only_ping &= matches!(frame, Frame::Ping);
            }
            if let Err(v) = self.on_frame(now, from, frame) {
                self.violation(v);
                return;
            }
            if self.state != State::Established {
                return;
            }
        }
        if self.acks.on_packet_received(now, pn, eliciting) && eliciting {
            self.on_eliciting_received(now, only_ping, resting);
        }
    }

    fn on_frame(
        &mut self,
        now: Instant,
        from: SocketAddr,
        frame: Frame<'_>,
    ) -> Result<(), Violation> {
        let rtt = self.recovery.rtt().smoothed();
        match frame {
            Frame::Padding(_)
            | Frame::Ping
            | Frame::DataBlocked(_)
            | Frame::StreamDataBlocked { .. } => {}
            Frame::Ack(ack) => {
                let delay = Duration::from_micros(ack.ack_delay_micros());
                let mut scratch = self.take_scratch();
                let out = &mut scratch.outcomes;
                // Most acknowledgements of a quiet session resolve one
                // packet: room for one record, not the default four.
                if out.capacity() == 0 {
                    out.reserve_exact(1);
                }
                let r = self.recovery.on_ack_received(now, ack.iter(), delay, out);
                #[cfg(feature = "trace")]
                self.trace_outcomes(out);
                self.apply_outcomes(out);
                self.scratch = Some(scratch);
                #[cfg(feature = "trace")]
                self.trace_metrics();
                r.map_err(|_| Violation::InvalidAck)?;
            }
            Frame::HandshakeDone => {
                if self.role == Role::Responder {
                    return Err(Violation::Protocol);
                }
                self.confirmed = true;
                if let Some(hs) = self.hs.as_mut() {
                    hs.on_confirmed();
                    hs.done_seen = true;
                }
                self.release_handshake();
            }
            Frame::NewTicket(ticket) => {
                if self.role == Role::Responder {
                    return Err(Violation::Protocol);
                }
                if let Some(hs) = self.hs.as_mut() {
                    hs.on_ticket(ticket, now);
                }
            }
            Frame::Close { code, reason } => self.on_peer_close(code, reason),
            Frame::PathChallenge(data) => self.paths.on_challenge(from, data),
            Frame::PathResponse(data) => self.on_path_response(now, data),
            Frame::MaxData(max) => self.streams.on_max_data(max),
            Frame::MaxStreamData { stream_id, max } => {
                self.streams.on_max_stream_data(now, stream_id, max)?;
            }
            Frame::StreamReset {
                stream_id,
                code,
                final_offset,
                ..
            } => self.streams.on_reset(now, stream_id, code, final_offset)?,
            Frame::StreamFin {
                stream_id,
                final_offset,
                final_seq,
            } => self
                .streams
                .on_fin(now, stream_id, final_offset, final_seq)?,
            Frame::Stream(f) => {
                let frag = Fragment {
                    offset: f.offset,
                    seq: f.seq,
                    msg_len: f.msg_len,
                    frag_offset: f.frag_offset,
                    data: f.data,
                };
                self.streams.on_stream_frame(now, rtt, f.stream_id, frag)?;
            }
            Frame::Datagram(data) => self.on_datagram_frame(data)?,
            Frame::StreamSkip {
                stream_id,
                offset,
                seq,
            } => self.on_skip_frame(now, stream_id, offset, seq)?,
        }
        Ok(())
    }
}
