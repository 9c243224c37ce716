//! Packets out: handshake datagrams, and protected packets filled with
//! acknowledgements, control frames, and stream data and unreliable
//! datagrams by priority.
//!
//! Owns: what goes into the next datagram and in which order, subject to
//! the congestion window and pacing, and the record of what it carried.
//! Never: allocates per packet (frames are encoded straight into the
//! caller's buffer and sealed in place) or sends stream data the peer has no
//! credit for.

use core::net::SocketAddr;

use super::keys::UpdateLimits;
use super::sent::{SentInfo, MAX_CHUNKS, MAX_CONTROLS};
use super::{Session, State};
use crate::crypto::TAG_LEN;
use crate::ids::Role;
use crate::recovery::send_quantum::room_burst;
use crate::streams::ControlFrame;
use crate::time::Instant;
use crate::trace::{trace_event, FrameSummary, TraceEvent};
use crate::wire::{
    ack_len, encode_ack, Frame, ShortHeader, StreamHeader, Writer, MAX_RESET_LEN, PATH_DATA_LEN,
    SHORT_HEADER_LEN,
};

/// Payload room below which a packet is not worth building.
const MIN_PAYLOAD: usize = 32;

/// Plaintext bytes that make a packet one byte longer than the longest
/// stateless reset: the smallest packet a peer that lost the session
/// answers.
const MIN_RESETTABLE_PAYLOAD: usize = MAX_RESET_LEN + 1 - SHORT_HEADER_LEN - TAG_LEN;

/// Room below which no further STREAM frame is tried: a frame header is 4
/// to 30 bytes, so a handful of data bytes would be all it could carry, and
/// asking the streams for a chunk costs as much as a full one.
const MIN_CHUNK_ROOM: usize = 16;

impl Session {
    /// Writes the session's next datagram into `buf`; returns its length
    /// and where it goes (the validated address, or for a path probe the
    /// address being validated).
    pub(crate) fn poll_transmit(
        &mut self,
        now: Instant,
        buf: &mut [u8],
    ) -> Option<(usize, SocketAddr)> {
        self.now = self.now.max(now);
        if let Some(n) = self.handshake_datagram(buf) {
            return Some((n, self.peer));
        }
        let n = match self.state {
            State::Established if self.role == Role::Responder && !self.confirmed => {
                // Resumed, and the initiator's address is not proven yet:
                // at most three times what it sent (PROTOCOL.md §14).
                let room = self.hs.as_ref().map_or(0, |h| h.amplification_room());
                let room = room.min(buf.len());
                let n = self.protected_packet(now, &mut buf[..room], false)?;
                if let Some(hs) = self.hs.as_mut() {
                    hs.tx_bytes += n as u64;
                }
                Some(n)
            }
            State::Established => {
                if let Some(probe) = self.path_probe(now, buf) {
                    return Some(probe);
                }
                if let Some(n) = self.size_probe(now, buf) {
                    return Some((n, self.peer));
                }
                self.protected_packet(now, buf, false)
            }
            State::Closing { .. } if self.close_pending => {
                self.close_pending = false;
                self.protected_packet(now, buf, true)
            }
            _ => None,
        };
        let Some(n) = n else {
            self.rest_after_keep_alive();
            return None;
        };
        Some((n, self.peer))
    }

    fn handshake_datagram(&mut self, buf: &mut [u8]) -> Option<usize> {
        if !matches!(self.state, State::Handshake | State::Established) {
            return None;
        }
        let hs = self.hs.as_mut()?;
        if !hs.send_owed {
            return None;
        }
        let n = hs.datagram.len();
        if n == 0 || n > buf.len() {
            hs.send_owed = false;
            return None;
        }
        if !hs.amplification_allows(n) {
            // Wait for more bytes from the peer's address.
            hs.send_owed = false;
            return None;
        }
        hs.send_owed = false;
        hs.tx_bytes += n as u64;
        buf[..n].copy_from_slice(&hs.datagram);
        self.counters.packets_sent += 1;
        self.counters.bytes_sent += n as u64;
        trace_event!(
            self.trace.tracer,
            self.now,
            Some(self.id),
            TraceEvent::HandshakeSent { len: n }
        );
        Some(n)
    }

    /// True if an ack-eliciting packet is wanted now (ignoring the window).
    fn wants_eliciting(&self) -> bool {
        self.handshake_done_owed
            || self.ping_owed
            || self.streams.has_control()
            || self.has_payload()
            || self.paths.has_response_for(self.peer)
    }

    /// True if stream data or datagrams wait to be sent (credit permitting).
    pub(super) fn has_payload(&self) -> bool {
        self.streams.has_data() || self.dgrams.has_pending()
    }

    /// A datagram size probe, if the path's search wants one: PING, then
    /// PADDING up to the probe size. It is sent outside the congestion
    /// window and pacing (one size at a time, a few packets per search) and
    /// carries nothing that would need resending.
    ///
    /// Only while stream data or datagrams wait: a session that sends nothing but
    /// acknowledgements and keep-alives has no use for larger datagrams, so
    /// it spends neither bytes nor per-session memory on a search.
    fn size_probe(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        if !self.has_payload() {
            return None;
        }
        let size = self.mtu.probe_size(now)?;
        if size > buf.len() || size < SHORT_HEADER_LEN + TAG_LEN + MIN_PAYLOAD {
            // The caller's buffer is smaller than the ceiling: try later.
            return None;
        }
        let written = {
            let mut w = Writer::new(&mut buf[SHORT_HEADER_LEN..size - TAG_LEN]);
            Frame::Ping.encode(&mut w).ok()?;
            let rest = w.remaining();
            Frame::Padding(rest).encode(&mut w).ok()?;
            w.written()
        };
        let pn = self.next_pn;
        let frames = self.traced_frames(buf, written);
        let len = self.seal(pn, buf, written)?;
        let info = SentInfo {
            size_probe: true,
            len: u16::try_from(len).unwrap_or(u16::MAX),
            pn,
            ..SentInfo::default()
        };
        self.mtu.on_probe_sent(pn, len);
        trace_event!(
            self.trace.tracer,
            self.now,
            Some(self.id),
            TraceEvent::PacketSent {
                pn,
                len,
                ack_eliciting: true,
                frames: frames.as_ref().unwrap_or(&FrameSummary::EMPTY)
            }
        );
        self.last_tx_eliciting = now;
        self.recovery.on_size_probe_sent(now, pn, len, info);
        Some(len)
    }

    /// The frames of a packet about to be sealed (its plaintext: `written`
    /// bytes after the short header in `buf`), read back only while a sink
    /// listens; `None` otherwise and in builds without the `trace` feature.
    #[inline(always)]
    pub(super) fn traced_frames(&mut self, buf: &[u8], written: usize) -> Option<FrameSummary> {
        #[cfg(feature = "trace")]
        if self.trace.tracer.is_on() {
            let plain = buf.get(SHORT_HEADER_LEN..SHORT_HEADER_LEN + written)?;
            return Some(FrameSummary::of_payload(plain));
        }
        let _ = (buf, written);
        None
    }

    /// Writes the short header of packet `pn` in front of `written` bytes
    /// of frames and seals it in place; returns the datagram's length and
    /// counts it as sent.
    pub(super) fn seal(&mut self, pn: u64, buf: &mut [u8], written: usize) -> Option<usize> {
        let len = SHORT_HEADER_LEN + written + TAG_LEN;
        let largest_acked = self.recovery.largest_acked();
        let keys = self.keys.as_mut()?;
        #[cfg(feature = "trace")]
        let updates = keys.updates_sent;
        let limits = UpdateLimits {
            // Never past the cipher's own limit, whatever the configuration.
            packets: self
                .cfg
                .key_update_after_packets
                .min(keys.cipher.packet_limit()),
            bytes: self.cfg.key_update_after_bytes,
        };
        let header = ShortHeader {
            key_phase: keys.phase_for(pn, limits, largest_acked),
            dst: self.peer_id,
            pn_truncated: pn as u32,
        };
        if header
            .encode(&mut Writer::new(&mut buf[..SHORT_HEADER_LEN]))
            .is_err()
        {
            return None;
        }
        let (head, body) = buf[..len].split_at_mut(SHORT_HEADER_LEN);
        if keys.seal(pn, head, body).is_err() {
            return None;
        }
        #[cfg(feature = "trace")]
        if keys.updates_sent != updates {
            let generation = u64::from(keys.updates_sent);
            trace_event!(
                self.trace.tracer,
                self.now,
                Some(self.id),
                TraceEvent::KeyUpdated {
                    by: crate::trace::Side::Local,
                    generation
                }
            );
        }
        self.next_pn += 1;
        self.counters.packets_sent += 1;
        self.counters.bytes_sent += len as u64;
        Some(len)
    }

    fn protected_packet(&mut self, now: Instant, buf: &mut [u8], closing: bool) -> Option<usize> {
        // A probe-timeout probe goes at the base size: if the path shrank
        // under the current size, it is what gets through, and its
        // acknowledgement is what shows the larger packets were lost.
        let size = if self.recovery.probes_owed() > 0 {
            self.mtu.base()
        } else {
            self.mtu.current()
        };
        let max = buf.len().min(size);
        if max < SHORT_HEADER_LEN + TAG_LEN + MIN_PAYLOAD {
            return None;
        }
        let ack_due = self.acks.ack_deadline().is_some_and(|t| t <= now);
        self.expire_deadlines(now);
        self.recovery
            .set_send_quantum(room_burst(self.timer_burst(), self.cfg.max_datagram_size));
        let window_ok = self.recovery.can_send(max);
        self.expire_datagrams(now);
        // A session that carries datagrams keeps the last packet of its
        // window free of stream data, so a datagram never waits behind a
        // window the streams filled, and asks its controller for a small
        // queue at the bottleneck, which every datagram crosses.
        let carries = self.dgrams.in_use(now);
        self.recovery.set_low_delay(carries);
        let streams_ok = window_ok
            && self.streams.has_data()
            && (!carries || self.recovery.can_send(max.saturating_mul(2)));
        let dgrams_ok = window_ok && self.dgrams.has_pending();
        // Pacing applies to stream data and datagrams only.
        let mut data_ok = streams_ok || dgrams_ok;
        if data_ok {
            // The controller's modelled rate when it has one (BBR), else a
            // rate from the window.
            let rate = self.recovery.effective_pacing_rate();
            if let Some(t) = self.pacer().delay_at(now, max, rate) {
                self.pacing_wait = Some(t);
                data_ok = false;
            }
        }
        let control_ok = self.handshake_done_owed
            || self.ping_owed
            || self.streams.has_control()
            || self.paths.has_response_for(self.peer);
        if !closing && !ack_due && !data_ok && !control_ok {
            if !self.wants_eliciting() {
                self.recovery.set_app_limited(true);
            }
            return None;
        }

        let pn = self.next_pn;
        // A full packet's plaintext is what its cipher seals in whole
        // blocks (AES-GCM: up to 15 bytes less; see `Cipher::whole_blocks`).
        let room = max - TAG_LEN - SHORT_HEADER_LEN;
        let payload_end = SHORT_HEADER_LEN
            + self
                .keys
                .as_ref()
                .map_or(room, |k| k.cipher.whole_blocks(room));
        let mut info = SentInfo::default();
        let mut eliciting = false;
        // Datagrams lead the packet or take what the streams leave, by
        // their priority against the first stream with data; they lead
        // any packet stream data may not use.
        let dgram_leads =
            data_ok && dgrams_ok && (!streams_ok || self.dgrams.leads(self.streams.top_priority()));
        let written = {
            let mut w = Writer::new(&mut buf[SHORT_HEADER_LEN..payload_end]);
            if !closing && self.datagram_before_ack(dgram_leads, w.remaining()) {
                eliciting |= self.write_datagrams(pn, &mut w, &mut info, 1);
            }
            if closing {
                if let Some((code, reason)) = self.close_frame.as_deref() {
                    let f = Frame::Close {
                        code: *code,
                        reason,
                    };
                    let _ = f.encode(&mut w);
                }
            } else {
                // Acknowledgements ride along whenever anything goes.
                if self.acks.new_since_ack() || ack_due {
                    let mut scratch = self.take_scratch();
                    let ranges = &mut scratch.ack_ranges;
                    self.acks.ranges_desc(ranges);
                    if !ranges.is_empty() {
                        let delay =
                            u64::try_from(self.acks.ack_delay(now).as_micros()).unwrap_or(u64::MAX);
                        // Keep the ACK to a third of the packet at most.
                        while ack_len(delay, ranges) > w.remaining() / 3 && ranges.len() > 1 {
                            ranges.pop();
                        }
                        if encode_ack(&mut w, delay, ranges).is_ok() {
                            info.ack_largest = ranges.first().map(|r| r.end - 1);
                            self.acks.on_ack_sent(now);
                        }
                    }
                    self.scratch = Some(scratch);
                }
                if self.handshake_done_owed && self.role == Role::Responder {
                    // The ticket goes first: the initiator lets go of its
                    // handshake state at HANDSHAKE_DONE.
                    if let Some(t) = self.hs.as_ref().and_then(|h| h.ticket_out.as_deref()) {
                        if Frame::NewTicket(t).encode(&mut w).is_ok() {
                            info.ticket = true;
                        }
                    }
                }
                if self.handshake_done_owed
                    && self.role == Role::Responder
                    && Frame::HandshakeDone.encode(&mut w).is_ok()
                {
                    self.handshake_done_owed = false;
                    info.handshake_done = true;
                    eliciting = true;
                }
                // Answers to the peer's challenges: never resent (the peer
                // challenges again), so one that does not fit is dropped.
                while self.paths.has_response_for(self.peer) {
                    if w.remaining() < 1 + PATH_DATA_LEN {
                        break;
                    }
                    let Some(data) = self.paths.take_response_for(self.peer) else {
                        break;
                    };
                    if Frame::PathResponse(data).encode(&mut w).is_ok() {
                        eliciting = true;
                    }
                }
                while info.controls.len() < MAX_CONTROLS {
                    let Some((c, frame)) = self.streams.next_control() else {
                        break;
                    };
                    let f = match frame {
                        ControlFrame::MaxData(max) => Frame::MaxData(max),
                        ControlFrame::MaxStreamData(stream_id, max) => {
                            Frame::MaxStreamData { stream_id, max }
                        }
                        ControlFrame::Fin(stream_id, final_offset, final_seq) => Frame::StreamFin {
                            stream_id,
                            final_offset,
                            final_seq,
                        },
                        ControlFrame::Reset(stream_id, code, final_offset, final_seq) => {
                            Frame::StreamReset {
                                stream_id,
                                code,
                                final_offset,
                                final_seq,
                            }
                        }
                        ControlFrame::Skip(stream_id, offset, seq) => Frame::StreamSkip {
                            stream_id,
                            offset,
                            seq,
                        },
                    };
                    if f.encode(&mut w).is_err() {
                        self.streams.requeue_control(c);
                        break;
                    }
                    let _ = info.controls.push(c);
                    eliciting = true;
                    #[cfg(feature = "trace")]
                    self.trace_skip_sent(&frame);
                }
                if dgram_leads {
                    eliciting |= self.write_datagrams(pn, &mut w, &mut info, u8::MAX);
                }
                if data_ok && streams_ok {
                    while info.chunks.len() < MAX_CHUNKS {
                        let room = w.remaining();
                        if room < MIN_CHUNK_ROOM {
                            break;
                        }
                        let next = self.streams.next_chunk(|stream_id, h| {
                            let header = StreamHeader {
                                stream_id,
                                offset: h.offset,
                                seq: h.seq,
                                msg_len: h.msg_len,
                                frag_offset: h.frag_offset,
                            };
                            // 0 bytes fit: the header alone may still fit
                            // (an empty message); checked only then.
                            let n = header.max_data_in(room, true);
                            (n > 0 || header.encoded_len(0, true) <= room).then_some(n)
                        });
                        let Some((stream_id, chunk)) = next else {
                            break;
                        };
                        let header = StreamHeader {
                            stream_id,
                            offset: chunk.offset,
                            seq: chunk.seq,
                            msg_len: chunk.msg_len,
                            frag_offset: chunk.frag_offset,
                        };
                        if header.encode(&mut w, &chunk.data, true).is_err() {
                            // Sized by max_data_in: cannot happen; resend later if it does.
                            self.streams.on_chunk_lost(stream_id, chunk.units());
                            break;
                        }
                        // Consecutive pieces of one stream share a record,
                        // so a packet of many small messages is not cut
                        // short by MAX_CHUNKS.
                        let units = chunk.units();
                        if !info.chunks.extend_last(stream_id, &units) {
                            let _ = info.chunks.push((stream_id, units));
                        }
                        eliciting = true;
                    }
                }
                if data_ok && !dgram_leads && self.dgrams.has_pending() {
                    eliciting |= self.write_datagrams(pn, &mut w, &mut info, u8::MAX);
                }
                #[cfg(feature = "trace")]
                self.trace_blocked();
                // A PING when owed (probe, keep-alive), and now and then on a
                // run of pure ACKs so the peer acknowledges them and their
                // records are freed.
                let ping = self.ping_owed || self.recovery.should_elicit_ack();
                let only_ping = !eliciting && ping && Frame::Ping.encode(&mut w).is_ok();
                if only_ping {
                    eliciting = true;
                    if self.ping_owed {
                        // A keep-alive or probe is padded past the size of
                        // a stateless reset, so a peer that lost the
                        // session may answer it with one.
                        let short = MIN_RESETTABLE_PAYLOAD.saturating_sub(w.written());
                        if short > 0 && w.remaining() >= short {
                            let _ = Frame::Padding(short).encode(&mut w);
                        }
                    }
                }
                if eliciting {
                    self.ping_owed = false;
                    self.on_eliciting_sent(only_ping);
                }
            }
            w.written()
        };
        if written == 0 {
            return None;
        }
        let frames = self.traced_frames(buf, written);
        let len = self.seal(pn, buf, written)?;
        self.record_sent(now, pn, len, eliciting, frames.as_ref(), info);
        Some(len)
    }

    /// Records sealed packet `pn` of `len` bytes as sent: pacing (if it is
    /// ack-eliciting) and loss recovery; `frames` is what it carried, for
    /// the trace (see `traced_frames`). Size probes are not recorded here:
    /// they stay outside congestion control (`size_probe`).
    pub(super) fn record_sent(
        &mut self,
        now: Instant,
        pn: u64,
        len: usize,
        eliciting: bool,
        frames: Option<&FrameSummary>,
        mut info: SentInfo,
    ) {
        info.len = u16::try_from(len).unwrap_or(u16::MAX);
        info.pn = pn;
        if eliciting {
            self.last_tx_eliciting = now;
            self.pacer().on_sent(now, len);
        }
        self.recovery.set_app_limited(!self.has_payload());
        trace_event!(
            self.trace.tracer,
            self.now,
            Some(self.id),
            TraceEvent::PacketSent {
                pn,
                len,
                ack_eliciting: eliciting,
                frames: frames.unwrap_or(&FrameSummary::EMPTY)
            }
        );
        self.recovery.on_packet_sent(now, pn, len, eliciting, info);
    }
}
