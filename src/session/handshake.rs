//! A session's handshake: Noise messages wrapped in long-header packets, and
//! their retransmission.
//!
//! Owns: the Noise state until the split, the handshake datagram last sent
//! (resent on a timer by the initiator, on a duplicate by the responder),
//! the Retry token, and the responder's anti-amplification budget.
//! Never: decides whether to accept a peer (the endpoint does) or touches
//! stream data.

use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use crate::crypto::{Cipher, CryptoError, Handshake, Identity, TrafficSecrets, MAX_HANDSHAKE_MSG};
use crate::ids::{NodeId, Role, SessionId};
use crate::time::Instant;
use crate::wire::{LongHeader, LongType, TransportParams, Writer, VERSION};

/// What a completed handshake yields.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub secrets: TrafficSecrets,
    pub remote_node: NodeId,
    pub params: TransportParams,
    /// The packet cipher the initiator chose.
    pub cipher: Cipher,
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
        psk: &[u8; 32],
        rng_seed: [u8; 32],
        local: SessionId,
        now: Instant,
        first_resend: Duration,
        cipher: Cipher,
    ) -> Result<Self, CryptoError> {
        let mut noise = Handshake::initiator(identity, psk, rng_seed)?;
        let mut buf = [0u8; MAX_HANDSHAKE_MSG];
        let n = noise.write_message(&cipher_payload(cipher), &mut buf)?;
        let msg1 = buf[..n].to_vec();
        let datagram = long_datagram(LongType::Initial, SessionId(0), local, &[], &msg1);
        Ok(HandshakeState {
            role: Role::Initiator,
            noise: Some(noise),
            msg1,
            datagram,
            send_owed: true,
            resend_at: Some(now + first_resend),
            backoff: first_resend,
            first_backoff: first_resend,
            token: Vec::new(),
            cipher,
            retried: false,
            rx_bytes: 0,
            tx_bytes: 0,
        })
    }

    /// Initiator: a Retry arrived; resend the Initial with its token.
    pub fn on_retry(&mut self, local: SessionId, token: &[u8], now: Instant) {
        if self.retried || self.role != Role::Initiator || self.noise.is_none() {
            return;
        }
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
        psk: &[u8; 32],
        rng_seed: [u8; 32],
        local: SessionId,
        initiator: SessionId,
        msg1: &[u8],
        our_params: &TransportParams,
    ) -> Result<Self, CryptoError> {
        let mut noise = Handshake::responder(identity, psk, rng_seed)?;
        let mut buf = [0u8; MAX_HANDSHAKE_MSG];
        let n = noise.read_message(msg1, &mut buf)?;
        let cipher = buf
            .get(..n)
            .and_then(parse_cipher_payload)
            .ok_or(CryptoError::Handshake)?;
        let n = noise.write_message(&params_bytes(our_params), &mut buf)?;
        let datagram = long_datagram(LongType::Response, initiator, local, &[], &buf[..n]);
        Ok(HandshakeState {
            role: Role::Responder,
            noise: Some(noise),
            msg1: Vec::new(),
            datagram,
            send_owed: true,
            resend_at: None,
            backoff: Duration::ZERO,
            first_backoff: Duration::ZERO,
            token: Vec::new(),
            cipher,
            retried: false,
            rx_bytes: 0,
            tx_bytes: 0,
        })
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
        Ok(Outcome {
            secrets: noise.into_secrets()?,
            remote_node,
            params,
            cipher: self.cipher,
        })
    }

    /// True once the Noise exchange is over on this side.
    pub fn is_split(&self) -> bool {
        self.noise.is_none()
    }

    /// Initiator: the resend timer fired.
    pub fn on_resend_timer(&mut self, now: Instant) {
        self.send_owed = true;
        self.backoff = self.backoff.saturating_mul(2);
        self.resend_at = Some(now + self.backoff);
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
            &PSK,
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
