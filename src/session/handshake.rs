//! A session's handshake: Noise messages wrapped in long-header packets, and
//! their retransmission.
//!
//! Owns: the Noise state until the split (the full pattern, and for an
//! initiator presenting a ticket the resume pattern beside it), the
//! handshake datagram last sent (resent on a timer by the initiator, on a
//! duplicate by the responder), the Retry token, the responder's
//! anti-amplification budget, and after the split the session's ticket
//! traffic: its resumption secret until a ticket carries it, the ticket
//! the responder sends, the ticket the initiator received.
//! Never: decides whether to accept a peer or a ticket (the endpoint does)
//! or touches stream data.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use crate::crypto::{
    resumption_secret, Cipher, ClientTicket, CryptoError, Handshake, Identity, NetworkKey,
    TicketContents, TrafficSecrets, MAX_HANDSHAKE_MSG,
};
use crate::ids::{NodeId, Role, SessionId, StreamId};
use crate::time::Instant;
use crate::wire::{LongHeader, LongType, ResumePayload, TransportParams, Writer, VERSION};

/// What a completed handshake yields.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub secrets: TrafficSecrets,
    pub remote_node: NodeId,
    pub params: TransportParams,
    /// The packet cipher the initiator chose.
    pub cipher: Cipher,
    /// The session was resumed from a ticket.
    pub resumed: bool,
}

/// Why a handshake message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HsError {
    /// Authentication failed (wrong network key, tampering).
    Crypto(CryptoError),
    /// The payload did not parse as transport parameters.
    Params,
}

impl From<CryptoError> for HsError {
    fn from(e: CryptoError) -> Self {
        HsError::Crypto(e)
    }
}

/// Handshake progress of one session.
pub(crate) struct HandshakeState {
    pub role: Role,
    noise: Option<Handshake>,
    /// Noise message 1 (initiator), kept to resend after a Retry.
    msg1: Vec<u8>,
    /// The datagram to (re)send: Initial or Finish (initiator), Response
    /// (responder).
    pub datagram: Vec<u8>,
    /// The datagram should go out at the next transmit.
    pub send_owed: bool,
    /// When the initiator resends `datagram`.
    pub resend_at: Option<Instant>,
    backoff: Duration,
    /// The first resend interval, which the backoff restarts from once the
    /// peer answers.
    first_backoff: Duration,
    /// Retry token from the responder.
    token: Vec<u8>,
    /// The packet cipher: the initiator's choice, carried in message 1.
    cipher: Cipher,
    pub retried: bool,
    /// Responder: bytes received from the peer's address so far, and sent.
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    /// Initiator presenting a ticket: the resume pattern, run beside the
    /// full one until the responder's answer says which it took.
    resuming: Option<Box<Resuming>>,
    /// After the split: this session's resumption secret and the peer's
    /// identity, until the endpoint seals them in a ticket (responder) or
    /// the peer's ticket arrives (initiator).
    pub resumption: Option<([u8; 32], NodeId)>,
    /// Responder: the ticket it sends with HANDSHAKE_DONE, until a packet
    /// carrying both is acknowledged.
    pub ticket_out: Option<Vec<u8>>,
    /// Initiator: a ticket received, until the endpoint stores it.
    pub ticket_in: Option<ClientTicket>,
    /// Initiator: HANDSHAKE_DONE arrived, so no ticket follows.
    pub done_seen: bool,
    /// Initiator: early messages the responder did not take (it refused
    /// the ticket), per stream, for the session to report. Responder: the
    /// early STREAM frames that came with an accepted Resume, for the
    /// session to deliver.
    pub early_refused: Vec<(StreamId, u64)>,
    pub early_in: Vec<u8>,
    /// Initiator: early messages the responder took with the ticket, per
    /// stream, until the session settles them on its streams.
    pub early_accepted: Vec<(StreamId, u64)>,
}

/// The resume pattern's initiator state and the peer its ticket names.
struct Resuming {
    noise: Handshake,
    node: NodeId,
    /// Messages that went with the Resume as early data, per stream.
    early: Vec<(StreamId, u64)>,
}

/// Early (0-RTT) messages for a Resume packet: their STREAM frames, and
/// how many whole messages of each stream they carry.
#[derive(Debug, Default, Clone)]
pub(crate) struct Early {
    pub frames: Vec<u8>,
    pub counts: Vec<(StreamId, u64)>,
}

impl core::fmt::Debug for HandshakeState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HandshakeState")
            .field("role", &self.role)
            .field("send_owed", &self.send_owed)
            .field("resend_at", &self.resend_at)
            .finish_non_exhaustive()
    }
}

fn long_datagram(
    ty: LongType,
    dst: SessionId,
    src: SessionId,
    token: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let header = LongHeader {
        ty,
        version: VERSION,
        dst,
        src,
        token,
    };
    let mut out = vec![0u8; header.encoded_len() + payload.len()];
    let mut w = Writer::new(&mut out);
    // Sized exactly above: cannot fail.
    let ok = header.encode(&mut w).and_then(|_| w.put_slice(payload));
    debug_assert!(ok.is_ok());
    out
}

/// Message 1's payload naming `cipher`: empty for ChaCha20-Poly1305 (the
/// default, and what a payload-less message 1 has always meant), else one
/// byte with the cipher's code.
fn cipher_payload(cipher: Cipher) -> Vec<u8> {
    match cipher {
        Cipher::ChaCha20Poly1305 => Vec::new(),
        c => vec![c.code()],
    }
}

/// The cipher message 1's payload names; `None` for anything else.
fn parse_cipher_payload(payload: &[u8]) -> Option<Cipher> {
    match payload {
        [] => Some(Cipher::ChaCha20Poly1305),
        [code] => Cipher::from_code(*code),
        _ => None,
    }
}

fn params_bytes(p: &TransportParams) -> Vec<u8> {
    let mut out = vec![0u8; p.encoded_len()];
    let ok = p.encode(&mut Writer::new(&mut out));
    debug_assert!(ok.is_ok());
    out
}

impl HandshakeState {
    /// Starts an initiator: builds the Initial.
    pub fn initiator(
        identity: &Identity,
        psk: &NetworkKey,
        rng_seed: [u8; 32],
        local: SessionId,
        now: Instant,
        first_resend: Duration,
        cipher: Cipher,
    ) -> Result<Self, CryptoError> {
        let mut noise = Handshake::initiator_with(identity, psk, rng_seed)?;
        let mut buf = [0u8; MAX_HANDSHAKE_MSG];
        let n = noise.write_message(&cipher_payload(cipher), &mut buf)?;
        let msg1 = buf[..n].to_vec();
        let datagram = long_datagram(LongType::Initial, SessionId(0), local, &[], &msg1);
        Ok(HandshakeState::start(
            Role::Initiator,
            Some(noise),
            msg1,
            datagram,
            cipher,
            Some((now, first_resend)),
        ))
    }

    /// A handshake that has sent `datagram` and owes nothing else yet:
    /// the fields every constructor shares. `resend`: when the first
    /// resend is due (an initiator's), and the back-off it starts with.
    fn start(
        role: Role,
        noise: Option<Handshake>,
        msg1: Vec<u8>,
        datagram: Vec<u8>,
        cipher: Cipher,
        resend: Option<(Instant, Duration)>,
    ) -> Self {
        let backoff = resend.map_or(Duration::ZERO, |(_, b)| b);
        HandshakeState {
            role,
            noise,
            msg1,
            datagram,
            send_owed: true,
            resend_at: resend.map(|(now, b)| now + b),
            backoff,
            first_backoff: backoff,
            token: Vec::new(),
            cipher,
            retried: false,
            rx_bytes: 0,
            tx_bytes: 0,
            resuming: None,
            resumption: None,
            ticket_out: None,
            ticket_in: None,
            done_seen: false,
            early_refused: Vec::new(),
            early_in: Vec::new(),
            early_accepted: Vec::new(),
        }
    }

    /// Starts an initiator presenting `ticket`: builds a Resume packet
    /// carrying the ticket, message 1 of the resume pattern (payload: the
    /// cipher's code, then this side's transport parameters) and message 1
    /// of the full pattern, both with the same ephemeral key, so a
    /// responder that refuses the ticket answers the full handshake at
    /// once.
    #[allow(clippy::too_many_arguments)]
    pub fn resuming(
        identity: &Identity,
        psk: &NetworkKey,
        rng_seed: [u8; 32],
        local: SessionId,
        now: Instant,
        first_resend: Duration,
        cipher: Cipher,
        ticket: &ClientTicket,
        our_params: &TransportParams,
        early: &Early,
    ) -> Result<Self, CryptoError> {
        let mut resume = Handshake::resume(true, &ticket.resumption, &ticket.ticket, rng_seed)?;
        let params = params_bytes(our_params);
        let mut payload = vec![cipher.code()];
        let mut len = [0u8; 8];
        let mut w = Writer::new(&mut len);
        w.put_varint(params.len() as u64)
            .map_err(|_| CryptoError::BufferTooSmall)?;
        let n = w.written();
        payload.extend_from_slice(&len[..n]);
        payload.extend_from_slice(&params);
        payload.extend_from_slice(&early.frames);
        let mut buf = [0u8; MAX_HANDSHAKE_MSG];
        let n = resume.write_message(&payload, &mut buf)?;
        let resume_msg = buf[..n].to_vec();
        let mut e = [0u8; 32];
        e.copy_from_slice(&resume_msg[..32]);
        let mut full = Handshake::initiator_sharing_ephemeral(identity, psk, rng_seed, e)?;
        let n = full.write_message(&cipher_payload(cipher), &mut buf)?;
        let msg1 = buf[..n].to_vec();
        let body = ResumePayload {
            ticket: &ticket.ticket,
            resume_msg: &resume_msg,
            full_msg: &msg1,
        };
        let mut bytes = vec![0u8; body.encoded_len()];
        body.encode(&mut Writer::new(&mut bytes))
            .map_err(|_| CryptoError::BufferTooSmall)?;
        let datagram = long_datagram(LongType::Resume, SessionId(0), local, &[], &bytes);
        Ok(HandshakeState {
            resuming: Some(Box::new(Resuming {
                noise: resume,
                node: ticket.node,
                early: early.counts.clone(),
            })),
            ..HandshakeState::start(
                Role::Initiator,
                Some(full),
                msg1,
                datagram,
                cipher,
                Some((now, first_resend)),
            )
        })
    }

    /// The responder refused the ticket: its early messages are reported.
    fn drop_resuming(&mut self) {
        if let Some(r) = self.resuming.take() {
            self.early_refused = r.early;
        }
    }

    /// True while this initiator's Resume is unanswered.
    pub fn is_resuming(&self) -> bool {
        self.resuming.is_some()
    }

    /// Initiator: the responder accepted the ticket and answered with
    /// message 2 of the resume pattern. Yields the keys; no Finish follows.
    pub fn on_resumed(&mut self, payload: &[u8]) -> Result<Outcome, HsError> {
        let r = self
            .resuming
            .as_mut()
            .ok_or(HsError::Crypto(CryptoError::Handshake))?;
        let mut buf = [0u8; MAX_HANDSHAKE_MSG];
        let n = r.noise.read_message(payload, &mut buf)?;
        let params = TransportParams::parse(&buf[..n]).map_err(|_| HsError::Params)?;
        let node = r.node;
        let Some(r) = self.resuming.take() else {
            return Err(HsError::Crypto(CryptoError::Handshake));
        };
        self.noise = None;
        // Message 2 authenticated, so the responder accepted the ticket
        // and with it the early data: the answer acknowledges it.
        self.early_accepted = r.early;
        self.on_confirmed();
        self.finish(r.noise, params, node, true)
    }

    /// Responder: message 1 of the resume pattern, under the resumption
    /// secret of a ticket the endpoint accepted. Reads the initiator's
    /// cipher and parameters and builds the Resumed packet; the session is
    /// established at once. Fails (and the caller keeps nothing) if the
    /// message does not authenticate.
    #[allow(clippy::too_many_arguments)]
    pub fn responder_resumed(
        contents: &TicketContents,
        ticket: &[u8],
        msg1: &[u8],
        rng_seed: [u8; 32],
        local: SessionId,
        initiator: SessionId,
        our_params: &TransportParams,
    ) -> Result<(Self, Outcome), CryptoError> {
        let mut noise = Handshake::resume(false, &contents.resumption, ticket, rng_seed)?;
        let mut buf = [0u8; MAX_HANDSHAKE_MSG];
        let n = noise.read_message(msg1, &mut buf)?;
        let (cipher, params, early) = match buf.get(..n) {
            Some([code, rest @ ..]) => {
                let mut r = crate::wire::Reader::new(rest);
                let len = r.varint().map_err(|_| CryptoError::Handshake)?;
                let len = usize::try_from(len).map_err(|_| CryptoError::Handshake)?;
                let params = r.bytes(len).map_err(|_| CryptoError::Handshake)?;
                (
                    Cipher::from_code(*code).ok_or(CryptoError::Handshake)?,
                    TransportParams::parse(params).map_err(|_| CryptoError::Handshake)?,
                    r.peek_rest().to_vec(),
                )
            }
            _ => return Err(CryptoError::Handshake),
        };
        let n = noise.write_message(&params_bytes(our_params), &mut buf)?;
        let datagram = long_datagram(LongType::Resumed, initiator, local, &[], &buf[..n]);
        let mut hs =
            HandshakeState::start(Role::Responder, None, Vec::new(), datagram, cipher, None);
        hs.early_in = early;
        let out = hs
            .finish(noise, params, contents.initiator, true)
            .map_err(|_| CryptoError::Handshake)?;
        Ok((hs, out))
    }

    /// Initiator: the handshake is confirmed; nothing is resent any more.
    /// (Early messages, accepted or not, are settled by then.)
    /// What ticket traffic remains stays.
    pub fn on_confirmed(&mut self) {
        self.resuming = None;
        self.msg1 = Vec::new();
        self.datagram = Vec::new();
        self.token = Vec::new();
        self.send_owed = false;
        self.resend_at = None;
    }

    /// Responder: the handshake is over; the Response is never resent.
    pub fn on_established(&mut self) {
        self.datagram = Vec::new();
        self.send_owed = false;
    }

    /// Initiator: a NEW_TICKET arrived. Kept for the endpoint with this
    /// session's resumption secret; a second one, or one without a secret
    /// to pair it with, is ignored.
    pub fn on_ticket(&mut self, ticket: &[u8], now: Instant) {
        if self.role != Role::Initiator || self.ticket_in.is_some() {
            return;
        }
        if let Some((resumption, node)) = self.resumption.take() {
            self.ticket_in = Some(ClientTicket {
                ticket: ticket.to_vec(),
                resumption,
                node,
                received: now,
            });
        }
    }

    /// Nothing is left for this state to do once the session is confirmed:
    /// the session may drop it.
    pub fn is_spent(&self, confirmed: bool) -> bool {
        confirmed
            && self.noise.is_none()
            && self.ticket_in.is_none()
            && self.ticket_out.is_none()
            && match self.role {
                Role::Initiator => self.done_seen,
                Role::Responder => self.resumption.is_none(),
            }
    }

    /// Initiator: a Retry arrived; resend the Initial with its token.
    pub fn on_retry(&mut self, local: SessionId, token: &[u8], now: Instant) {
        if self.retried || self.role != Role::Initiator || self.noise.is_none() {
            return;
        }
        // The responder asks for a cookie before it reads a ticket: the
        // full handshake follows.
        self.drop_resuming();
        self.retried = true;
        self.token = token.to_vec();
        self.datagram = long_datagram(
            LongType::Initial,
            SessionId(0),
            local,
            &self.token,
            &self.msg1,
        );
        self.send_owed = true;
        self.resend_at = Some(now + self.backoff);
    }

    /// Initiator: message 2 arrived. Builds the Finish and yields the keys.
    pub fn on_response(
        &mut self,
        local: SessionId,
        peer: SessionId,
        payload: &[u8],
        our_params: &TransportParams,
        now: Instant,
    ) -> Result<Outcome, HsError> {
        let (params, remote_node) = self.read_peer_message(payload)?;
        // The responder refused the ticket: the full handshake goes on.
        self.drop_resuming();
        let noise = self
            .noise
            .as_mut()
            .ok_or(HsError::Crypto(CryptoError::Handshake))?;
        let mut buf = [0u8; MAX_HANDSHAKE_MSG];
        let n = noise.write_message(&params_bytes(our_params), &mut buf)?;
        self.datagram = long_datagram(LongType::Finish, peer, local, &[], &buf[..n]);
        self.send_owed = true;
        // The path works again: the Finish restarts from the first resend
        // interval, not from a backoff grown while Initials were lost (or
        // the responder's half-open state may expire before it gets one).
        self.backoff = self.first_backoff.max(Duration::from_millis(1));
        self.resend_at = Some(now + self.backoff);
        self.split(params, remote_node)
    }

    /// Responder: reads message 1 and builds the Response. Fails (and the
    /// caller keeps nothing) if the initiator lacks the network key or names
    /// a cipher this build does not know.
    pub fn responder(
        identity: &Identity,
        psk: &NetworkKey,
        rng_seed: [u8; 32],
        local: SessionId,
        initiator: SessionId,
        msg1: &[u8],
        our_params: &TransportParams,
    ) -> Result<Self, CryptoError> {
        let mut noise = Handshake::responder_with(identity, psk, rng_seed)?;
        let mut buf = [0u8; MAX_HANDSHAKE_MSG];
        let n = noise.read_message(msg1, &mut buf)?;
        let cipher = buf
            .get(..n)
            .and_then(parse_cipher_payload)
            .ok_or(CryptoError::Handshake)?;
        let n = noise.write_message(&params_bytes(our_params), &mut buf)?;
        let datagram = long_datagram(LongType::Response, initiator, local, &[], &buf[..n]);
        Ok(HandshakeState::start(
            Role::Responder,
            Some(noise),
            Vec::new(),
            datagram,
            cipher,
            None,
        ))
    }

    /// Responder: message 3 arrived; yields the keys.
    pub fn on_finish(&mut self, payload: &[u8]) -> Result<Outcome, HsError> {
        let (params, remote_node) = self.read_peer_message(payload)?;
        self.split(params, remote_node)
    }

    /// Reads the peer's message carrying its transport parameters (2 or 3)
    /// and the identity it proved.
    fn read_peer_message(&mut self, msg: &[u8]) -> Result<(TransportParams, NodeId), HsError> {
        let noise = self
            .noise
            .as_mut()
            .ok_or(HsError::Crypto(CryptoError::Handshake))?;
        let mut buf = [0u8; MAX_HANDSHAKE_MSG];
        let n = noise.read_message(msg, &mut buf)?;
        let params = TransportParams::parse(&buf[..n]).map_err(|_| HsError::Params)?;
        let node = noise
            .remote_node()
            .ok_or(HsError::Crypto(CryptoError::Handshake))?;
        Ok((params, node))
    }

    /// Ends the Noise exchange: its split gives the traffic secrets.
    fn split(&mut self, params: TransportParams, remote_node: NodeId) -> Result<Outcome, HsError> {
        let noise = self
            .noise
            .take()
            .ok_or(HsError::Crypto(CryptoError::Handshake))?;
        self.finish(noise, params, remote_node, false)
    }

    /// The split of a finished exchange, and the resumption secret kept
    /// for the ticket traffic that follows.
    fn finish(
        &mut self,
        noise: Handshake,
        params: TransportParams,
        remote_node: NodeId,
        resumed: bool,
    ) -> Result<Outcome, HsError> {
        let secrets = noise.into_secrets()?;
        let (i2r, r2i) = match self.role {
            Role::Initiator => (&secrets.tx, &secrets.rx),
            Role::Responder => (&secrets.rx, &secrets.tx),
        };
        self.resumption = Some((resumption_secret(i2r, r2i), remote_node));
        Ok(Outcome {
            secrets,
            remote_node,
            params,
            cipher: self.cipher,
            resumed,
        })
    }

    /// True once the Noise exchange is over on this side.
    pub fn is_split(&self) -> bool {
        self.noise.is_none() && self.resuming.is_none()
    }

    /// Initiator: the resend timer fired.
    pub fn on_resend_timer(&mut self, now: Instant) {
        self.send_owed = true;
        self.backoff = self.backoff.saturating_mul(2);
        self.resend_at = Some(now + self.backoff);
    }

    /// Responder: bytes that may still go to the unvalidated address.
    pub fn amplification_room(&self) -> usize {
        let budget = self
            .rx_bytes
            .saturating_mul(3)
            .saturating_sub(self.tx_bytes);
        usize::try_from(budget).unwrap_or(usize::MAX)
    }

    /// Responder: may `len` more bytes go to an unvalidated address?
    pub fn amplification_allows(&self, len: usize) -> bool {
        self.role == Role::Initiator
            || self.tx_bytes.saturating_add(len as u64) <= self.rx_bytes.saturating_mul(3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PSK: [u8; 32] = [9; 32];

    fn identity(tag: u8) -> Identity {
        Identity::from_seed(&[tag; 32])
    }

    /// Message 1 from an initiator, carrying `payload`.
    fn msg1(payload: &[u8]) -> Vec<u8> {
        let mut noise = Handshake::initiator(&identity(1), &PSK, [3; 32]).unwrap();
        let mut buf = [0u8; MAX_HANDSHAKE_MSG];
        let n = noise.write_message(payload, &mut buf).unwrap();
        buf[..n].to_vec()
    }

    fn respond(msg: &[u8]) -> Result<HandshakeState, CryptoError> {
        let params = TransportParams {
            max_data: 1,
            max_stream_data: 1,
            idle_timeout_ms: 1,
            max_message_size: 1,
            reset_token: None,
            max_datagram_frame_size: 1,
            stream_skip: false,
        };
        HandshakeState::responder(
            &identity(2),
            &NetworkKey::new(&PSK),
            [4; 32],
            SessionId(7),
            SessionId(8),
            msg,
            &params,
        )
    }

    #[test]
    fn cipher_payload_round_trips() {
        for &c in Cipher::all() {
            assert_eq!(parse_cipher_payload(&cipher_payload(c)), Some(c));
        }
        assert!(cipher_payload(Cipher::ChaCha20Poly1305).is_empty());
        assert_eq!(parse_cipher_payload(&[200]), None);
        assert_eq!(parse_cipher_payload(&[0, 0]), None);
    }

    #[test]
    fn responder_takes_the_cipher_message_1_names() {
        for &c in Cipher::all() {
            let hs = respond(&msg1(&cipher_payload(c))).unwrap();
            assert_eq!(hs.cipher, c);
        }
    }

    #[test]
    fn responder_refuses_an_unknown_cipher_or_extra_bytes() {
        assert_eq!(respond(&msg1(&[77])).err(), Some(CryptoError::Handshake));
        assert_eq!(respond(&msg1(&[1, 2])).err(), Some(CryptoError::Handshake));
    }
}
