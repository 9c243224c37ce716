//! How a session begins: built as the initiator (its Initial ready to go)
//! or as the responder to an accepted Initial, the transport parameters
//! it announces, and the step to established once the handshake yields
//! keys.
//!
//! Owns: the handshake's hand-over to the session: keys installed, the
//! peer's identity and parameters applied, `Connected` or `Accepted`
//! raised.
//! Never: runs the handshake itself (`handshake.rs` does) or decides
//! whether a peer is accepted (the endpoint does).

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::net::SocketAddr;

use super::handshake::{self, HandshakeState};
use super::keys::Keys;
use super::{Session, State, PATH_KEY_STREAM};
use crate::config::Config;
use crate::crypto::{ClientTicket, ResetToken};
use crate::event::Event;
use crate::ids::{Role, SessionId};
use crate::time::Instant;
use crate::trace::{trace_event, TraceEvent};
use crate::wire::TransportParams;

impl Session {
    /// An initiator session whose Initial is ready to go.
    pub(crate) fn initiator(
        cfg: Arc<Config>,
        id: SessionId,
        peer: SocketAddr,
        rng_seed: [u8; 32],
        now: Instant,
    ) -> Result<Self, crate::crypto::CryptoError> {
        let first_resend = cfg.recovery.initial_rtt.saturating_mul(3);
        let hs = HandshakeState::initiator(
            &cfg.identity,
            &cfg.network_key,
            rng_seed,
            id,
            now,
            first_resend,
            cfg.cipher,
        )?;
        let path_key = crate::rand::Rng::derive(&rng_seed, PATH_KEY_STREAM);
        let mut s = Session::new(cfg, id, peer, Role::Initiator, path_key, now);
        s.hs = Some(Box::new(hs));
        Ok(s)
    }

    /// An initiator session presenting `ticket`: its Resume packet is ready
    /// to go (and falls back to the full handshake if the peer refuses it).
    pub(crate) fn initiator_resuming(
        cfg: Arc<Config>,
        id: SessionId,
        peer: SocketAddr,
        rng_seed: [u8; 32],
        now: Instant,
        ticket: &ClientTicket,
        early: &handshake::Early,
    ) -> Result<Self, crate::crypto::CryptoError> {
        let first_resend = cfg.recovery.initial_rtt.saturating_mul(3);
        let params = Session::local_params(&cfg, id);
        let hs = HandshakeState::resuming(
            &cfg.identity,
            &cfg.network_key,
            rng_seed,
            id,
            now,
            first_resend,
            cfg.cipher,
            ticket,
            &params,
            early,
        )?;
        let path_key = crate::rand::Rng::derive(&rng_seed, PATH_KEY_STREAM);
        let mut s = Session::new(cfg, id, peer, Role::Initiator, path_key, now);
        s.hs = Some(Box::new(hs));
        Ok(s)
    }

    /// A responder session resumed from a ticket the endpoint accepted:
    /// established at once, its Resumed packet ready to go, and half-open
    /// until the initiator's first packet arrives.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn responder_resumed(
        cfg: Arc<Config>,
        id: SessionId,
        peer: SocketAddr,
        peer_id: SessionId,
        hs: HandshakeState,
        out: handshake::Outcome,
        path_key: [u8; 32],
        now: Instant,
    ) -> Self {
        let mut s = Session::responder(cfg, id, peer, peer_id, hs, path_key, now);
        s.handshake_done_owed = true;
        s.establish(out);
        s.deliver_early(now);
        s
    }

    /// A responder session for an accepted Initial.
    pub(crate) fn responder(
        cfg: Arc<Config>,
        id: SessionId,
        peer: SocketAddr,
        peer_id: SessionId,
        hs: HandshakeState,
        path_key: [u8; 32],
        now: Instant,
    ) -> Self {
        let mut s = Session::new(cfg, id, peer, Role::Responder, path_key, now);
        s.peer_id = peer_id;
        s.hs = Some(Box::new(hs));
        s
    }

    /// Parameters this side announces in the handshake of its session
    /// `id`, with the reset token the peer will recognise.
    pub(crate) fn local_params(cfg: &Config, id: SessionId) -> TransportParams {
        TransportParams {
            max_data: cfg.streams.session_window,
            max_stream_data: cfg.streams.stream_window,
            idle_timeout_ms: u64::try_from(cfg.idle_timeout.as_millis()).unwrap_or(u64::MAX),
            max_message_size: cfg.streams.max_message_size,
            reset_token: Some(cfg.reset_key.token(id).0),
            max_datagram_frame_size: cfg.datagrams.announced_frame_size(),
            stream_skip: true,
        }
    }

    /// Installs keys and the peer's parameters: the session is established.
    pub(super) fn establish(&mut self, out: handshake::Outcome) {
        let provider = self.cfg.provider;
        let p = out.params;
        let mut keys = Keys::new(provider, out.cipher, &out.secrets.tx, &out.secrets.rx);
        keys.peer_reset_token = p.reset_token.map(ResetToken);
        keys.resumed = out.resumed;
        keys.remote_node = out.remote_node;
        self.keys = Some(keys);
        self.peer_idle_timeout_ms = p.idle_timeout_ms;
        self.streams
            .set_peer_limits(p.max_data, p.max_stream_data, p.max_message_size);
        self.dgrams.peer_max_frame = u32::try_from(p.max_datagram_frame_size).unwrap_or(u32::MAX);
        self.peer_skips = p.stream_skip;
        self.state = State::Established;
        self.last_rx = self.now;
        trace_event!(
            self.trace.tracer,
            self.now,
            Some(self.id),
            TraceEvent::Established { cipher: out.cipher }
        );
        let (session, peer, node) = (self.id, self.peer, out.remote_node);
        self.events.push_back(match self.role {
            Role::Initiator => Event::Connected {
                session,
                peer,
                node,
            },
            Role::Responder => Event::Accepted {
                session,
                peer,
                node,
            },
        });
    }
}
