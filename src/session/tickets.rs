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
use crate::ids::{NodeId, Role};

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

    /// Drops the handshake state once nothing is left for it to do.
    pub(super) fn release_handshake(&mut self) {
        if self.hs.as_ref().is_some_and(|h| h.is_spent(self.confirmed)) {
            self.hs = None;
        }
    }
}
