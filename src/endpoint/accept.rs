//! Accepting sessions: Initials from strangers, under a cap on half-open
//! handshakes, with stateless Retry cookies past it.
//!
//! Owns: the decision to keep state for an Initial, answer it statelessly,
//! or drop it.
//! Never: keeps state for an Initial that fails authentication (wrong
//! network key), nor sends more than a Retry to an address it has not heard
//! a valid cookie from while over the cap.

use core::net::SocketAddr;

use super::{Endpoint, Then, MAX_QUEUED_STATELESS};
use crate::crypto::COOKIE_LEN;
use crate::ids::SessionId;
use crate::session::{HandshakeState, Session};
use crate::time::Instant;
use crate::trace::{trace_event, DropReason, TraceEvent};
use crate::wire::{LongHeader, LongType, Writer, VERSION};

impl Endpoint {
    pub(super) fn on_initial(
        &mut self,
        now: Instant,
        from: SocketAddr,
        header: &LongHeader<'_>,
        payload: &[u8],
        len: usize,
    ) {
        if !self.cfg.accept_incoming || header.src.0 == 0 {
            self.count_drop(now, DropReason::OverBudget, len);
            return;
        }
        // A repeat of an Initial we hold state for: the session resends.
        if let Some(&local) = self.half_open_by_peer.get(&(from, header.src)) {
            self.call(local, Then::Book, |e| {
                e.session.handle_long(now, from, header, payload, len);
            });
            return;
        }
        if self.sessions.len() >= self.cfg.max_sessions {
            self.count_drop(now, DropReason::OverBudget, len);
            return;
        }
        if self.half_open.len() >= self.cfg.max_half_open {
            let valid = self.cookie.verify(
                now,
                &from,
                header.src,
                header.token,
                self.cfg.cookie_lifetime,
            );
            if !valid {
                self.send_retry(now, from, header, len);
                return;
            }
            // A proven address still may not grow half-open state past twice
            // the cap (at least 1, so a cap of 0, "always ask for a cookie",
            // still admits proven peers one at a time).
            let hard = self.cfg.max_half_open.saturating_mul(2).max(1);
            if self.half_open.len() >= hard {
                self.count_drop(now, DropReason::OverBudget, len);
                return;
            }
        }
        let Some(local) = self.fresh_id() else {
            self.count_drop(now, DropReason::OverBudget, len);
            return;
        };
        let params = Session::local_params(&self.cfg, local);
        let seed = self.handshake_seed();
        let hs = match HandshakeState::responder(
            &self.cfg.identity,
            &self.cfg.network_key,
            seed,
            local,
            header.src,
            payload,
            &params,
        ) {
            Ok(hs) => hs,
            Err(_) => {
                // Wrong network key or garbage: no state, no answer.
                self.count_drop(now, DropReason::HandshakeRejected, len);
                return;
            }
        };
        let mut hs = hs;
        hs.rx_bytes = len as u64;
        let path_key = crate::rand::Rng::derive(&seed, crate::session::PATH_KEY_STREAM);
        let s = Session::responder(self.cfg.clone(), local, from, header.src, hs, path_key, now);
        if !self.admit_responder(now, s, from, header.src) {
            self.count_drop(now, DropReason::OverBudget, len);
        }
    }

    /// Books a responder's new session (full or resumed) as half open:
    /// the session table, the half-open indexes, the acceptance count and
    /// trace, its first timers. False, and nothing kept, when the table
    /// refuses it.
    #[cfg_attr(not(feature = "trace"), allow(unused_variables))]
    pub(super) fn admit_responder(
        &mut self,
        now: Instant,
        session: Session,
        from: SocketAddr,
        initiator: SessionId,
    ) -> bool {
        let local = session.id();
        let Some(e) = self.sessions.insert(session) else {
            return false;
        };
        e.half_open = true;
        self.half_open.insert(local, (from, initiator));
        self.half_open_by_peer.insert((from, initiator), local);
        self.stats.sessions_accepted += 1;
        trace_event!(
            self.trace,
            now,
            Some(local),
            TraceEvent::SessionStarted {
                role: crate::ids::Role::Responder,
                peer: from
            }
        );
        self.call(local, Then::Book, |_| ());
        true
    }

    fn send_retry(&mut self, now: Instant, to: SocketAddr, initial: &LongHeader<'_>, len: usize) {
        if self.stateless.len() >= MAX_QUEUED_STATELESS {
            self.count_drop(now, DropReason::OverBudget, len);
            return;
        }
        let token = self.cookie.issue(now, &to, initial.src);
        let header = LongHeader {
            ty: LongType::Retry,
            version: VERSION,
            dst: initial.src,
            src: crate::ids::SessionId(0),
            token: &token[..COOKIE_LEN],
        };
        let mut buf = alloc::vec![0u8; header.encoded_len()];
        if header.encode(&mut Writer::new(&mut buf)).is_ok() {
            self.stateless.push_back((to, buf));
            self.stats.retries_sent += 1;
        }
    }
}
