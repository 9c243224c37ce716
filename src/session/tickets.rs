//! A session's side of resumption: handing its resumption secret to the
//! endpoint (responder), carrying the sealed ticket to the peer, handing
//! a received ticket to the endpoint (initiator), and letting go of the
//! handshake state once all of that is over.
//!
//! Owns: when the boxed handshake state is released, and the calls the
//! endpoint makes for ticket traffic.
//! Never: seals, opens or stores a ticket (the endpoint does, with the
//! crypto layer), or keeps anything of it once it is delivered.

use alloc::vec::Vec;

use super::Session;
use crate::crypto::ClientTicket;
use crate::event::Event;
use crate::ids::{NodeId, Role, StreamId};
use crate::streams::recv::Fragment;
use crate::time::Instant;
use crate::wire::{Frame, Frames};

impl Session {
    /// True if the session was resumed from a session ticket (a cheaper
    /// handshake keyed by an earlier session between the same two nodes)
    /// rather than a full handshake. `false` until established.
    pub fn is_resumed(&self) -> bool {
        self.keys.as_ref().is_some_and(|k| k.resumed)
    }

    /// The latest time the caller gave this session.
    pub(crate) fn clock(&self) -> crate::time::Instant {
        self.now
    }

    /// True if the endpoint has ticket work with this session: a
    /// responder's resumption secret to seal, or a ticket the initiator
    /// received to store.
    pub(crate) fn ticket_work(&self) -> bool {
        self.hs.as_ref().is_some_and(|h| {
            h.ticket_in.is_some() || (self.role == Role::Responder && h.resumption.is_some())
        })
    }

    /// Responder: the resumption secret and the peer's identity to seal in
    /// a ticket, once. [`queue_ticket`](Self::queue_ticket) follows.
    pub(crate) fn take_resumption(&mut self) -> Option<([u8; 32], NodeId)> {
        if self.role != Role::Responder {
            return None;
        }
        self.hs.as_mut()?.resumption.take()
    }

    /// Responder: sends `ticket` with HANDSHAKE_DONE (again until a packet
    /// carrying it is acknowledged); `None` if the endpoint issues none.
    pub(crate) fn queue_ticket(&mut self, ticket: Option<Vec<u8>>) {
        if let (Some(hs), Some(t)) = (self.hs.as_mut(), ticket) {
            hs.ticket_out = Some(t);
            self.handshake_done_owed = true;
        }
        self.release_handshake();
    }

    /// Initiator: the ticket the peer sent, once.
    pub(crate) fn take_ticket(&mut self) -> Option<ClientTicket> {
        let t = self.hs.as_mut()?.ticket_in.take();
        self.release_handshake();
        t
    }

    /// Responder: the ticket sent went through.
    pub(super) fn on_ticket_acked(&mut self) {
        if let Some(hs) = self.hs.as_mut() {
            hs.ticket_out = None;
        }
        self.release_handshake();
    }

    /// Responder, resumed: hands the early STREAM frames that came with
    /// the Resume to the streams, as frames of an authenticated packet,
    /// and tells the application which messages came that way. Anything
    /// but STREAM frames ends the early data there.
    pub(super) fn deliver_early(&mut self, now: Instant) {
        let Some(early) = self.hs.as_mut().map(|h| core::mem::take(&mut h.early_in)) else {
            return;
        };
        let rtt = self.recovery.rtt().smoothed();
        let mut counts: Vec<(StreamId, u64)> = Vec::new();
        for frame in Frames::new(&early) {
            let Ok(Frame::Stream(f)) = frame else {
                break;
            };
            let whole = f.frag_offset == 0 && f.data.len() as u64 == f.msg_len;
            let frag = Fragment {
                offset: f.offset,
                seq: f.seq,
                msg_len: f.msg_len,
                frag_offset: f.frag_offset,
                data: f.data,
            };
            if let Err(v) = self.streams.on_stream_frame(now, rtt, f.stream_id, frag) {
                self.violation(v);
                return;
            }
            if whole {
                match counts.iter_mut().find(|(s, _)| *s == f.stream_id) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((f.stream_id, 1)),
                }
            }
        }
        let session = self.id;
        for (stream, messages) in counts {
            self.events.push_back(Event::EarlyMessages {
                session,
                stream,
                messages,
            });
        }
    }

    /// Initiator: the early messages the responder did not take (it
    /// refused the ticket), reported; they are queued on their streams
    /// like any message and go out once the session is up.
    pub(super) fn report_early_refused(&mut self) {
        let Some(refused) = self
            .hs
            .as_mut()
            .map(|h| core::mem::take(&mut h.early_refused))
        else {
            return;
        };
        let session = self.id;
        for (stream, messages) in refused {
            self.events.push_back(Event::EarlyRefused {
                session,
                stream,
                messages,
            });
        }
    }

    /// Initiator, resumed: the early messages the responder accepted with
    /// the ticket are delivered (its answer acknowledges them), so their
    /// copies queued on the streams never go out.
    pub(super) fn settle_early_accepted(&mut self) {
        let Some(accepted) = self
            .hs
            .as_mut()
            .map(|h| core::mem::take(&mut h.early_accepted))
        else {
            return;
        };
        for (stream, messages) in accepted {
            self.streams.settle_early(stream, messages);
        }
    }

    /// Drops the handshake state once nothing is left for it to do.
    pub(super) fn release_handshake(&mut self) {
        if self.hs.as_ref().is_some_and(|h| h.is_spent(self.confirmed)) {
            self.hs = None;
        }
    }
}
