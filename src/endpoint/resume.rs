//! Resumption at the endpoint: a Resume packet from a stranger (accepted
//! with its ticket, or answered as the full handshake it also carries),
//! tickets sealed for sessions that finish a handshake as responder, and
//! tickets received as initiator put in the store.
//!
//! Owns: the order of the checks on a presented ticket (open, node,
//! lifetime, the resume message's authentication, then the strike
//! register), and the fallback to the full handshake.
//! Never: strikes a ticket whose handshake message did not authenticate
//! (a forged packet carrying a ticket seen on the wire cannot burn it),
//! or keeps state for a Resume that proves nothing.

use core::net::SocketAddr;

use alloc::vec::Vec;
use bytes::Bytes;

use super::tickets::Refusal;
use super::Endpoint;
use crate::crypto::{ClientTicket, TicketContents, MAX_HANDSHAKE_PAYLOAD, RESUME_OVERHEAD};
use crate::ids::{SessionId, StreamId};
use crate::session::{Early, HandshakeState, Session};
use crate::time::Instant;
use crate::trace::DropReason;
use crate::wire::{Frame, LongHeader, ResumePayload, StreamFrame, Writer};

/// Bytes of the full handshake's message 1 in a Resume packet (its
/// ephemeral key and tag, and a cipher code).
const HANDSHAKE_OVERHEAD_1: usize = 32 + 16 + 1;

impl Endpoint {
    /// True if this endpoint holds a session ticket for `peer` (received
    /// less than `TicketConfig::lifetime` ago): the next
    /// [`connect`](Self::connect) to that address presents it and runs the
    /// resumed handshake. Each ticket is used once.
    pub fn has_ticket(&self, peer: SocketAddr, now: Instant) -> bool {
        self.tickets.store.contains(peer, now)
    }

    /// STREAM frames for the leading `messages` that fit a Resume packet
    /// presenting `ticket` within the base datagram size, each whole, as
    /// the session's streams will number them (fresh streams: message
    /// `k` of a stream has sequence `k`, and each message takes its
    /// length plus one unit).
    pub(super) fn early_frames(
        &self,
        ticket: &ClientTicket,
        id: SessionId,
        messages: &[(StreamId, Bytes)],
    ) -> Early {
        let mut early = Early::default();
        if messages.is_empty() {
            return early;
        }
        let params = Session::local_params(&self.cfg, id).encoded_len();
        // Header, ticket, the two Noise messages with their lengths and
        // the resume payload's cipher code and parameters.
        let fixed = 21
            + 2
            + ticket.ticket.len()
            + 2
            + RESUME_OVERHEAD[0]
            + 3
            + params
            + HANDSHAKE_OVERHEAD_1;
        let budget = self
            .cfg
            .base_datagram_size
            .saturating_sub(fixed)
            .min(MAX_HANDSHAKE_PAYLOAD.saturating_sub(3 + params));
        let mut next: Vec<(StreamId, u64, u64)> = Vec::new();
        for (stream, data) in messages {
            let (seq, offset) = match next.iter().find(|(s, _, _)| s == stream) {
                Some(&(_, seq, offset)) => (seq, offset),
                None => (0, 0),
            };
            let f = Frame::Stream(StreamFrame {
                stream_id: *stream,
                offset,
                seq,
                msg_len: data.len() as u64,
                frag_offset: 0,
                data,
            });
            let len = f.encoded_len();
            if early.frames.len() + len > budget {
                break;
            }
            let start = early.frames.len();
            early.frames.resize(start + len, 0);
            if f.encode(&mut Writer::new(&mut early.frames[start..]))
                .is_err()
            {
                early.frames.truncate(start);
                break;
            }
            let units = offset + data.len() as u64 + 1;
            match next.iter_mut().find(|(s, _, _)| s == stream) {
                Some(n) => *n = (*stream, seq + 1, units),
                None => next.push((*stream, 1, units)),
            }
            match early.counts.iter_mut().find(|(s, _)| s == stream) {
                Some((_, n)) => *n += 1,
                None => early.counts.push((*stream, 1)),
            }
        }
        early
    }

    pub(super) fn on_resume(
        &mut self,
        now: Instant,
        from: SocketAddr,
        header: &LongHeader<'_>,
        payload: &[u8],
        len: usize,
    ) {
        let Ok(body) = ResumePayload::parse(payload) else {
            self.count_drop(now, DropReason::Malformed, len);
            return;
        };
        let room = self.cfg.accept_incoming
            && header.src.0 != 0
            && !self.half_open_by_peer.contains_key(&(from, header.src))
            && self.sessions.len() < self.cfg.max_sessions
            && self.half_open.len() < self.cfg.max_half_open;
        if room && self.cfg.tickets.issue {
            match self.try_resume(now, from, header.src, &body, len) {
                Ok(()) => return,
                Err(_) => self.stats.tickets_refused += 1,
            }
        }
        // Refused, or no room to resume without a cookie: the full
        // handshake the packet also carries.
        self.on_initial(now, from, header, body.full_msg, len);
    }

    fn try_resume(
        &mut self,
        now: Instant,
        from: SocketAddr,
        initiator: SessionId,
        body: &ResumePayload<'_>,
        len: usize,
    ) -> Result<(), Refusal> {
        let (ticket_id, contents) = self.tickets.check(self.cfg.node_id(), now, body.ticket)?;
        let Some(local) = self.fresh_id() else {
            return Err(Refusal::Replay);
        };
        let params = Session::local_params(&self.cfg, local);
        let seed = self.handshake_seed();
        let (mut hs, out) = HandshakeState::responder_resumed(
            &contents,
            body.ticket,
            body.resume_msg,
            seed,
            local,
            initiator,
            &params,
        )
        .map_err(|_| Refusal::Ticket(crate::crypto::TicketError::Auth))?;
        self.tickets.strike(now, ticket_id, contents.issued)?;
        hs.rx_bytes = len as u64;
        let path_key = crate::rand::Rng::derive(&seed, crate::session::PATH_KEY_STREAM);
        let s = Session::responder_resumed(
            self.cfg.clone(),
            local,
            from,
            initiator,
            hs,
            out,
            path_key,
            now,
        );
        if !self.admit_responder(now, s, from, initiator) {
            return Err(Refusal::Replay);
        }
        self.stats.sessions_resumed += 1;
        Ok(())
    }

    /// Ticket traffic of session `id`: a responder's resumption secret
    /// sealed into a ticket it will send, an initiator's received ticket
    /// put in the store.
    pub(super) fn ticket_work(&mut self, id: SessionId) {
        let Some(e) = self.sessions.get_mut(id) else {
            return;
        };
        let now = e.session.clock();
        if let Some((resumption, node)) = e.session.take_resumption() {
            let mut ticket = None;
            if self.cfg.tickets.issue {
                let contents = TicketContents {
                    issued: now,
                    resumption,
                    initiator: node,
                    responder: self.cfg.node_id(),
                };
                ticket = Some(self.tickets.issue(now, &contents).to_vec());
                self.stats.tickets_issued += 1;
            }
            e.session.queue_ticket(ticket);
        }
        if let Some(ticket) = e.session.take_ticket() {
            if self.cfg.tickets.resume {
                let peer = e.session.peer();
                let expires = ticket.received + self.cfg.tickets.lifetime;
                self.tickets.store.insert(peer, ticket, expires);
            }
        }
    }
}
