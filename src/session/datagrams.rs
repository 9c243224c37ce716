//! The session's unreliable datagrams: the application's calls, the
//! DATAGRAM frames a packet carries, and the frames that arrive.
//!
//! Owns: the rules tying datagrams to the session: sent only once
//! established and only to a peer that announced a DATAGRAM frame size,
//! never larger than the path's current datagram size allows, received only
//! if this side announced one; and the rate and RTT the application reads
//! to pace its own source.
//! Never: keeps the queues (`streams::datagrams` does) or resends: a
//! datagram goes into one packet, once; the packet's fate is its fate.

use bytes::Bytes;
use core::time::Duration;

use super::sent::SentInfo;
use super::{Session, State};
use crate::crypto::TAG_LEN;
use crate::streams::{DatagramError, DatagramId, DatagramOptions, Unsent};
use crate::time::Instant;
use crate::trace::{trace_event, TraceEvent};
use crate::violation::Violation;
use crate::wire::{
    datagram_frame_len, encode_datagram, max_datagram_data_in, Writer, SHORT_HEADER_LEN,
};

/// The trace event of a datagram that left the send queue unsent.
fn unsent_event(u: Unsent) -> TraceEvent<'static> {
    match u {
        Unsent::Expired(id, len) => TraceEvent::AppDatagramExpired { id, len },
        Unsent::Dropped(id, len) => TraceEvent::AppDatagramDropped { id, len },
    }
}

impl Session {
    /// Queues an unreliable datagram: sent at most once, congestion
    /// controlled and paced like stream data, never resent; returns its
    /// handle. See [`send_datagram_with`](Self::send_datagram_with).
    pub fn send_datagram(&mut self, data: impl Into<Bytes>) -> Result<DatagramId, DatagramError> {
        self.send_datagram_with(data, DatagramOptions::new())
    }

    /// Queues an unreliable datagram with a deadline and/or a fate report
    /// ([`DatagramOptions`]). It waits in the session's bounded send queue
    /// until the congestion window and the pacer let it go, by its
    /// priority against the streams ([`set_datagram_priority`]); a full
    /// queue drops its oldest datagrams, and a deadline that passes first
    /// drops it (both counted in [`SessionStats`](crate::SessionStats)).
    ///
    /// Errors: [`DatagramError::NotEstablished`] before the handshake
    /// completes, [`DatagramError::NotAccepted`] if the peer accepts no
    /// datagrams, [`DatagramError::TooLarge`] above
    /// [`max_datagram_payload`](Self::max_datagram_payload),
    /// [`DatagramError::SessionClosed`] once closing.
    ///
    /// [`set_datagram_priority`]: Self::set_datagram_priority
    pub fn send_datagram_with(
        &mut self,
        data: impl Into<Bytes>,
        opts: DatagramOptions,
    ) -> Result<DatagramId, DatagramError> {
        let data = data.into();
        let max = self.datagram_limit()?;
        if data.len() > max {
            return Err(DatagramError::TooLarge {
                size: data.len(),
                max,
            });
        }
        let limits = self.cfg.datagrams;
        Ok(self.dgrams.push(self.now, data, opts, &limits, |u| {
            trace_event!(self.trace.tracer, self.now, Some(self.id), unsent_event(u));
        }))
    }

    /// The oldest received datagram not yet read; a
    /// [`DatagramEvent::Readable`](crate::DatagramEvent::Readable) says
    /// when there are some.
    pub fn recv_datagram(&mut self) -> Option<Bytes> {
        self.dgrams.recv()
    }

    /// The largest datagram payload [`send_datagram`](Self::send_datagram)
    /// takes now: what fits one packet at the path's current datagram size
    /// (it grows as the size search finds a larger one, and shrinks if the
    /// path does), held to the peer's announced limit and to the send
    /// queue's byte bound. `None` before the handshake completes, once
    /// closing, or if the peer accepts no datagrams.
    pub fn max_datagram_payload(&self) -> Option<usize> {
        self.datagram_limit().ok()
    }

    /// Datagrams' priority against the session's streams, 0..=1000
    /// (default from [`DatagramLimits::priority`](crate::DatagramLimits)).
    pub fn set_datagram_priority(&mut self, priority: u16) -> Result<(), DatagramError> {
        self.dgrams.set_priority(priority)
    }

    /// Datagrams' priority against the session's streams.
    pub fn datagram_priority(&self) -> u16 {
        self.dgrams.priority()
    }

    /// The session's estimate of what its path delivers, in bytes per
    /// second: the congestion controller's model of the bottleneck (BBR),
    /// else the latest delivery-rate sample; 0 before the first sample. A
    /// source that picks its own bitrate (a video encoder) follows it.
    pub fn delivery_rate(&self) -> u64 {
        self.recovery.delivery_rate()
    }

    /// The smoothed round-trip time (the initial RTT before any sample).
    pub fn rtt(&self) -> Duration {
        self.recovery.rtt().smoothed()
    }

    /// The largest payload that may be queued now, or why none may.
    fn datagram_limit(&self) -> Result<usize, DatagramError> {
        match self.state {
            State::Established => {}
            State::Handshake => return Err(DatagramError::NotEstablished),
            _ => return Err(DatagramError::SessionClosed),
        }
        if self.dgrams.peer_max_frame == 0 {
            return Err(DatagramError::NotAccepted);
        }
        let peer = usize::try_from(self.dgrams.peer_max_frame).unwrap_or(usize::MAX);
        Ok(self
            .path_datagram_limit()
            .min(max_datagram_data_in(peer))
            .min(self.cfg.datagrams.send_queue_bytes))
    }

    /// The largest datagram payload one packet at the current datagram
    /// size carries, alone.
    pub(super) fn path_datagram_limit(&self) -> usize {
        let room = self
            .mtu
            .current()
            .saturating_sub(SHORT_HEADER_LEN + TAG_LEN);
        let room = self
            .keys
            .as_ref()
            .map_or(room, |k| k.cipher.whole_blocks(room));
        max_datagram_data_in(room)
    }

    /// A DATAGRAM frame arrived. A violation if this side announced no
    /// datagrams, or a frame larger than it announced.
    pub(super) fn on_datagram_frame(&mut self, data: &[u8]) -> Result<(), Violation> {
        let limits = self.cfg.datagrams;
        let announced = limits.announced_frame_size();
        if announced == 0 || datagram_frame_len(data.len()) as u64 > announced {
            return Err(Violation::Protocol);
        }
        self.dgrams.on_received(data, &limits);
        Ok(())
    }

    /// Drops every queued datagram whose deadline is at or before `now`
    /// (traced, and reported if followed).
    #[inline]
    pub(super) fn expire_datagrams(&mut self, now: Instant) {
        self.dgrams.expire(now, |u| {
            trace_event!(self.trace.tracer, now, Some(self.id), unsent_event(u));
        });
    }

    /// The fate of the `count` datagrams packet `pn` carried: acknowledged
    /// (`acked`) or lost.
    pub(super) fn on_datagrams_outcome(&mut self, pn: u64, count: u8, acked: bool) {
        self.dgrams.on_outcome(pn, count, acked);
        let ev = if acked {
            TraceEvent::AppDatagramsAcked { pn, count }
        } else {
            TraceEvent::AppDatagramsLost { pn, count }
        };
        trace_event!(self.trace.tracer, self.now, Some(self.id), ev);
    }

    /// True if the next DATAGRAM frames go before an ACK: the head one
    /// is too large to sit beside an ACK of a third of the packet, so
    /// putting the ACK first could hold it back packet after packet.
    pub(super) fn datagram_before_ack(&self, leads: bool, room: usize) -> bool {
        leads
            && self
                .dgrams
                .head_len()
                .is_some_and(|n| datagram_frame_len(n) > room - room / 3)
    }

    /// Writes queued datagrams into packet `pn` while they fit (at most
    /// `limit` of them); true if any went. One larger than a packet at the
    /// current datagram size carries (the path shrank under it) is dropped.
    pub(super) fn write_datagrams(
        &mut self,
        pn: u64,
        w: &mut Writer,
        info: &mut SentInfo,
        limit: u8,
    ) -> bool {
        if !self.dgrams.has_pending() {
            return false;
        }
        let path_max = self.path_datagram_limit();
        let mut wrote = false;
        while info.datagrams < limit {
            let Some(len) = self.dgrams.head_len() else {
                break;
            };
            if len > path_max {
                self.dgrams.drop_head(|u| {
                    trace_event!(self.trace.tracer, self.now, Some(self.id), unsent_event(u));
                });
                continue;
            }
            if datagram_frame_len(len) > w.remaining() {
                break;
            }
            let Some(o) = self.dgrams.pop() else {
                break;
            };
            if encode_datagram(w, &o.data).is_err() {
                // Sized above: cannot happen.
                break;
            }
            self.dgrams.on_sent(pn, &o);
            trace_event!(
                self.trace.tracer,
                self.now,
                Some(self.id),
                TraceEvent::AppDatagramSent {
                    id: o.id,
                    len: o.data.len(),
                    pn
                }
            );
            info.datagrams += 1;
            wrote = true;
        }
        wrote
    }
}
