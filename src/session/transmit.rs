//! Packets out: handshake datagrams, and protected packets filled with
//! acknowledgements, control frames and stream data by priority.
//!
//! Owns: what goes into the next datagram and in which order, subject to
//! the congestion window and pacing, and the record of what it carried.
//! Never: allocates per packet (frames are encoded straight into the
//! caller's buffer and sealed in place) or sends stream data the peer has no
//! credit for.

use super::keys::UpdateLimits;
use super::sent::{SentInfo, MAX_CHUNKS, MAX_CONTROLS};
use super::{handshake::Role, Session, State};
use crate::crypto::TAG_LEN;
use crate::recovery::pacing::window_rate;
use crate::streams::ControlFrame;
use crate::time::Instant;
use crate::wire::{
    ack_len, encode_ack, Frame, ShortHeader, StreamHeader, Writer, SHORT_HEADER_LEN,
};

/// Payload room below which a packet is not worth building.
const MIN_PAYLOAD: usize = 32;

/// Room below which no further STREAM frame is tried: a frame header is 4
/// to 30 bytes, so a handful of data bytes would be all it could carry, and
/// asking the streams for a chunk costs as much as a full one.
const MIN_CHUNK_ROOM: usize = 16;

impl Session {
    /// Writes the session's next datagram into `buf`; returns its length.
    pub(crate) fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        self.now = self.now.max(now);
        if let Some(n) = self.handshake_datagram(buf) {
            return Some(n);
        }
        match self.state {
            State::Established => self.protected_packet(now, buf, false),
            State::Closing { .. } if self.close_pending => {
                self.close_pending = false;
                self.protected_packet(now, buf, true)
            }
            _ => None,
        }
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
        if n > buf.len() {
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
        Some(n)
    }

    /// True if an ack-eliciting packet is wanted now (ignoring the window).
    fn wants_eliciting(&self) -> bool {
        self.handshake_done_owed
            || self.ping_owed
            || self.streams.has_control()
            || self.streams.has_data()
    }

    fn protected_packet(&mut self, now: Instant, buf: &mut [u8], closing: bool) -> Option<usize> {
        let max = buf.len().min(self.cfg.max_datagram_size);
        if max < SHORT_HEADER_LEN + TAG_LEN + MIN_PAYLOAD {
            return None;
        }
        let ack_due = self.acks.ack_deadline().is_some_and(|t| t <= now);
        let window_ok = self.recovery.can_send(max);
        // Pacing applies to stream data only.
        let mut data_ok = window_ok && self.streams.has_data();
        if data_ok {
            // The controller's modelled rate when it has one (BBR), else a
            // rate from the window.
            let rate = self.recovery.pacing_rate().unwrap_or_else(|| {
                window_rate(
                    self.recovery.congestion_window(),
                    self.recovery.rtt().smoothed(),
                )
            });
            if let Some(t) = self.pacer.delay_at(now, max, rate) {
                self.pacing_wait = Some(t);
                data_ok = false;
            }
        }
        let control_ok = self.handshake_done_owed || self.ping_owed || self.streams.has_control();
        if !closing && !ack_due && !data_ok && !control_ok {
            if !self.wants_eliciting() {
                self.recovery.set_app_limited(true);
            }
            return None;
        }

        let pn = self.next_pn;
        let payload_end = max - TAG_LEN;
        let mut info = SentInfo::default();
        let mut eliciting = false;
        let written = {
            let mut w = Writer::new(&mut buf[SHORT_HEADER_LEN..payload_end]);
            if closing {
                if let Some((code, reason)) = &self.close_frame {
                    let f = Frame::Close {
                        code: *code,
                        reason,
                    };
                    let _ = f.encode(&mut w);
                }
            } else {
                // Acknowledgements ride along whenever anything goes.
                if self.acks.new_since_ack() || ack_due {
                    self.acks.ranges_desc(&mut self.ack_ranges);
                    if !self.ack_ranges.is_empty() {
                        let delay =
                            u64::try_from(self.acks.ack_delay(now).as_micros()).unwrap_or(u64::MAX);
                        // Keep the ACK to a third of the packet at most.
                        while ack_len(delay, &self.ack_ranges) > w.remaining() / 3
                            && self.ack_ranges.len() > 1
                        {
                            self.ack_ranges.pop();
                        }
                        if encode_ack(&mut w, delay, &self.ack_ranges).is_ok() {
                            info.ack_largest = self.ack_ranges.first().map(|r| r.end - 1);
                            self.acks.on_ack_sent(now);
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
                    };
                    if f.encode(&mut w).is_err() {
                        self.streams.requeue_control(c);
                        break;
                    }
                    let _ = info.controls.push(c);
                    eliciting = true;
                }
                if data_ok {
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
                // A PING when owed (probe, keep-alive), and now and then on a
                // run of pure ACKs so the peer acknowledges them and their
                // records are freed.
                let ping = self.ping_owed || self.recovery.should_elicit_ack();
                if !eliciting && ping && Frame::Ping.encode(&mut w).is_ok() {
                    eliciting = true;
                }
                if eliciting {
                    self.ping_owed = false;
                }
            }
            w.written()
        };
        if written == 0 {
            return None;
        }
        let len = SHORT_HEADER_LEN + written + TAG_LEN;
        let largest_acked = self.recovery.largest_acked();
        let keys = self.keys.as_mut()?;
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
        self.next_pn += 1;
        self.counters.packets_sent += 1;
        self.counters.bytes_sent += len as u64;
        if eliciting {
            self.last_tx_eliciting = now;
            self.pacer.on_sent(now, len);
        }
        self.recovery.set_app_limited(!self.streams.has_data());
        self.recovery.on_packet_sent(now, pn, len, eliciting, info);
        Some(len)
    }
}
