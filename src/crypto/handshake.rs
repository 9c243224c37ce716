//! The session handshake: `Noise_XXpsk0_25519_ChaChaPoly_BLAKE2s` through
//! `snow`, with prologue `"stt/1"`.
//!
//! Owns: the three-message exchange (and the resume pattern's two) and the
//! traffic secrets it ends with; the keys it runs under are
//! `identity.rs`'s.
//!
//! ```text
//! initiator                                   responder
//!   1  -> psk, e                  (payload empty)
//!   2  <- e, ee, s, es            (payload: responder's transport params)
//!   3  -> s, se                   (payload: initiator's transport params)
//! ```
//!
//! The PSK in the first message means a node without the network key learns
//! nothing and costs the responder one failed decryption; static keys are
//! sent encrypted, so only holders of the network key learn who is talking.
//!
//! Never: implements Noise itself, reads OS randomness (ephemeral keys are
//! drawn from a `Rng` seeded by the caller per handshake, so runs replay
//! exactly), or shows a private key or secret in `Debug`.

use alloc::boxed::Box;

use super::identity::{Identity, NetworkKey};
use super::noise_hash::PskMix;
use super::resolver::SeededResolver;
use super::CryptoError;
use crate::ids::NodeId;
use crate::rand::Rng;
use zeroize::Zeroize;

/// The Noise protocol name; it is hashed into every handshake.
pub(super) const NOISE_PARAMS: &str = "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2s";
/// Bound into the handshake hash, so a future wire version cannot be
/// confused with this one.
const PROLOGUE: &[u8] = b"stt/1";

/// Largest payload (transport parameters) a handshake message may carry.
pub const MAX_HANDSHAKE_PAYLOAD: usize = 1024;

/// Bytes each handshake message adds to its payload, for messages 1, 2, 3:
/// ephemeral keys (32), encrypted static keys (32 + 16) and the payload tag
/// (16).
pub const HANDSHAKE_OVERHEAD: [usize; 3] = [32 + 16, 32 + 48 + 16, 48 + 16];

/// The resume pattern: a fresh ephemeral exchange keyed with a ticket's
/// resumption secret as the PSK (`handshake.rs` module docs).
const RESUME_PARAMS: &str = "Noise_NNpsk0_25519_ChaChaPoly_BLAKE2s";
/// The resume pattern's prologue starts with this; the ticket follows, so
/// a ticket changed on the way fails the handshake.
const RESUME_PROLOGUE: &[u8] = b"stt/1 resume";

/// Bytes each message of the resume pattern adds to its payload: an
/// ephemeral key (32) and the payload tag (16).
pub const RESUME_OVERHEAD: [usize; 2] = [32 + 16, 32 + 16];

/// Largest handshake message: a buffer this long holds any message
/// [`Handshake::write_message`] writes or [`Handshake::read_message`] accepts.
pub const MAX_HANDSHAKE_MSG: usize = 96 + MAX_HANDSHAKE_PAYLOAD;

/// The two packet-protection secrets a finished handshake yields, already
/// oriented for this side. `Debug` hides them.
#[derive(Clone)]
pub struct TrafficSecrets {
    /// Secret for packets this side sends.
    pub tx: [u8; 32],
    /// Secret for packets this side receives (the peer's `tx`).
    pub rx: [u8; 32],
}

impl Drop for TrafficSecrets {
    fn drop(&mut self) {
        self.wipe();
    }
}

impl TrafficSecrets {
    /// Overwrites both secrets with zeros (what dropping does).
    fn wipe(&mut self) {
        self.tx.zeroize();
        self.rx.zeroize();
    }
}

impl core::fmt::Debug for TrafficSecrets {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("TrafficSecrets(..)")
    }
}

/// One side of a handshake in progress.
///
/// Call [`write_message`](Self::write_message) and
/// [`read_message`](Self::read_message) in turn (the initiator writes
/// first) until [`is_finished`](Self::is_finished), then take
/// [`into_secrets`](Self::into_secrets).
///
/// A message that fails to read is ignored and the handshake waits for
/// another, so a forged datagram cannot end it, except for the final message
/// (number 3): `snow` cannot roll back a half-read final message, so after a
/// failure there every call fails with [`CryptoError::Handshake`].
pub struct Handshake {
    state: snow::HandshakeState,
    initiator: bool,
    /// Runs the resume pattern (two messages, no static keys).
    resume: bool,
    /// Messages written or read so far (0..=3).
    done: usize,
    /// Set after a failure that may have left `state` inconsistent.
    broken: bool,
}

impl Handshake {
    /// The side that sends message 1. `psk` is the [`network_key`](super::network_key);
    /// `rng_seed` feeds this handshake's ephemeral key.
    pub fn initiator(
        identity: &Identity,
        psk: &[u8; 32],
        rng_seed: [u8; 32],
    ) -> Result<Self, CryptoError> {
        Self::new(identity, psk, None, rng_seed, true, None)
    }

    /// [`initiator`](Self::initiator) under a node's [`NetworkKey`]: the
    /// same messages, for less work.
    pub fn initiator_with(
        identity: &Identity,
        key: &NetworkKey,
        rng_seed: [u8; 32],
    ) -> Result<Self, CryptoError> {
        Self::new(identity, key.key(), Some(&key.mix), rng_seed, true, None)
    }

    /// The side that answers message 1. Arguments as for
    /// [`initiator`](Self::initiator).
    pub fn responder(
        identity: &Identity,
        psk: &[u8; 32],
        rng_seed: [u8; 32],
    ) -> Result<Self, CryptoError> {
        Self::new(identity, psk, None, rng_seed, false, None)
    }

    /// [`responder`](Self::responder) under a node's [`NetworkKey`]: the
    /// same messages, for less work.
    pub fn responder_with(
        identity: &Identity,
        key: &NetworkKey,
        rng_seed: [u8; 32],
    ) -> Result<Self, CryptoError> {
        Self::new(identity, key.key(), Some(&key.mix), rng_seed, false, None)
    }

    /// The full pattern's initiator sending the same ephemeral key as a
    /// resume initiator built from the same `rng_seed`, whose message 1
    /// began with `ephemeral` (its public key): the key is not derived a
    /// second time. This is the fallback a resume attempt carries.
    pub fn initiator_sharing_ephemeral(
        identity: &Identity,
        key: &NetworkKey,
        rng_seed: [u8; 32],
        ephemeral: [u8; 32],
    ) -> Result<Self, CryptoError> {
        let private = Rng::from_seed(rng_seed).seed32();
        Self::new(
            identity,
            key.key(),
            Some(&key.mix),
            rng_seed,
            true,
            Some((private, ephemeral)),
        )
    }

    /// One side of the resume pattern: `-> psk, e` then `<- e, ee`, with
    /// the resumption secret as PSK and the ticket in the prologue. No
    /// static key travels: the ticket names both.
    pub fn resume(
        initiator: bool,
        resumption: &[u8; 32],
        ticket: &[u8],
        rng_seed: [u8; 32],
    ) -> Result<Self, CryptoError> {
        let params = RESUME_PARAMS.parse().map_err(|_| CryptoError::Handshake)?;
        let mut prologue = alloc::vec::Vec::with_capacity(RESUME_PROLOGUE.len() + ticket.len());
        prologue.extend_from_slice(RESUME_PROLOGUE);
        prologue.extend_from_slice(ticket);
        let builder = snow::Builder::with_resolver(
            params,
            Box::new(SeededResolver {
                seed: rng_seed,
                identity: ([0; 32], [0; 32]),
                hint: None,
                mix: None,
            }),
        )
        .prologue(&prologue)
        .and_then(|b| b.psk(0, resumption))
        .map_err(|_| CryptoError::Handshake)?;
        let state = if initiator {
            builder.build_initiator()
        } else {
            builder.build_responder()
        }
        .map_err(|_| CryptoError::Handshake)?;
        Ok(Handshake {
            state,
            initiator,
            resume: true,
            done: 0,
            broken: false,
        })
    }

    fn new(
        identity: &Identity,
        psk: &[u8; 32],
        mix: Option<&PskMix>,
        rng_seed: [u8; 32],
        initiator: bool,
        hint: Option<([u8; 32], [u8; 32])>,
    ) -> Result<Self, CryptoError> {
        let params = NOISE_PARAMS.parse().map_err(|_| CryptoError::Handshake)?;
        let builder = snow::Builder::with_resolver(
            params,
            Box::new(SeededResolver {
                seed: rng_seed,
                identity: (identity.private, identity.public.0),
                hint,
                mix: mix.cloned(),
            }),
        )
        .prologue(PROLOGUE)
        .and_then(|b| b.psk(0, psk))
        .and_then(|b| b.local_private_key(&identity.private))
        .map_err(|_| CryptoError::Handshake)?;
        let state = if initiator {
            builder.build_initiator()
        } else {
            builder.build_responder()
        }
        .map_err(|_| CryptoError::Handshake)?;
        Ok(Handshake {
            state,
            initiator,
            resume: false,
            done: 0,
            broken: false,
        })
    }

    /// Writes the next message, carrying `payload`, into `out`; returns its
    /// length (`payload.len()` plus [`HANDSHAKE_OVERHEAD`] for this message).
    ///
    /// Fails with [`CryptoError::PayloadTooLarge`] or
    /// [`CryptoError::BufferTooSmall`] without changing anything, and with
    /// [`CryptoError::Handshake`] if it is not this side's turn.
    pub fn write_message(&mut self, payload: &[u8], out: &mut [u8]) -> Result<usize, CryptoError> {
        let overhead = self.next_overhead(true)?;
        if payload.len() > MAX_HANDSHAKE_PAYLOAD {
            return Err(CryptoError::PayloadTooLarge);
        }
        if out.len() < overhead.saturating_add(payload.len()) {
            return Err(CryptoError::BufferTooSmall);
        }
        match self.state.write_message(payload, out) {
            Ok(n) => {
                self.done += 1;
                Ok(n)
            }
            Err(e) => {
                self.broken = true;
                Err(map_snow(e))
            }
        }
    }

    /// Reads the peer's next message `msg`, writing its payload into
    /// `payload_out`; returns the payload length.
    ///
    /// Fails with [`CryptoError::HandshakeAuth`] if the message does not
    /// authenticate (another network key, tampering), with
    /// [`CryptoError::Handshake`] if it is malformed or out of turn, and with
    /// [`CryptoError::BufferTooSmall`] if `payload_out` is too short.
    pub fn read_message(
        &mut self,
        msg: &[u8],
        payload_out: &mut [u8],
    ) -> Result<usize, CryptoError> {
        let overhead = self.next_overhead(false)?;
        if msg.len() > MAX_HANDSHAKE_MSG {
            return Err(CryptoError::Handshake);
        }
        let payload_len = msg
            .len()
            .checked_sub(overhead)
            .ok_or(CryptoError::Handshake)?;
        if payload_out.len() < payload_len {
            return Err(CryptoError::BufferTooSmall);
        }
        match self.state.read_message(msg, payload_out) {
            Ok(n) => {
                self.done += 1;
                Ok(n)
            }
            Err(e) => {
                // Messages 1 and 2 open with an ephemeral key, which rekeys
                // snow's cipher state from the chaining key it restored, so
                // a retry starts clean. Message 3 does not.
                if self.done >= 2 && !self.resume {
                    self.broken = true;
                }
                Err(map_snow(e))
            }
        }
    }

    /// Overhead of the next message if it is ours to write (`write`) or to
    /// read (`!write`), or an error if it is not.
    fn next_overhead(&self, write: bool) -> Result<usize, CryptoError> {
        if self.broken || self.state.is_handshake_finished() || self.state.is_my_turn() != write {
            return Err(CryptoError::Handshake);
        }
        let table: &[usize] = if self.resume {
            &RESUME_OVERHEAD
        } else {
            &HANDSHAKE_OVERHEAD
        };
        table.get(self.done).copied().ok_or(CryptoError::Handshake)
    }

    /// True once every message of the pattern has been written or read.
    pub fn is_finished(&self) -> bool {
        !self.broken && self.state.is_handshake_finished()
    }

    /// True for the side that sent message 1.
    pub fn is_initiator(&self) -> bool {
        self.initiator
    }

    /// The peer's node id, once a message carrying it has authenticated
    /// (message 2 for the initiator, message 3 for the responder). Always
    /// `None` in the resume pattern: the ticket names the peer.
    pub fn remote_node(&self) -> Option<NodeId> {
        let proven = if self.initiator { 2 } else { 3 };
        if self.resume || self.broken || self.done < proven {
            return None;
        }
        let key = self.state.get_remote_static()?;
        Some(NodeId(key.try_into().ok()?))
    }

    /// The traffic secrets of a finished handshake, oriented for this side:
    /// the initiator's `tx` is the responder's `rx` and vice versa.
    pub fn into_secrets(mut self) -> Result<TrafficSecrets, CryptoError> {
        if !self.is_finished() {
            return Err(CryptoError::NotFinished);
        }
        let (to_responder, to_initiator) = self.state.dangerously_get_raw_split();
        Ok(if self.initiator {
            TrafficSecrets {
                tx: to_responder,
                rx: to_initiator,
            }
        } else {
            TrafficSecrets {
                tx: to_initiator,
                rx: to_responder,
            }
        })
    }
}

impl core::fmt::Debug for Handshake {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Handshake")
            .field("initiator", &self.initiator)
            .field("messages_done", &self.done)
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

fn map_snow(e: snow::Error) -> CryptoError {
    match e {
        snow::Error::Decrypt => CryptoError::HandshakeAuth,
        _ => CryptoError::Handshake,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::blake2s256;
    use crate::crypto::identity::network_key;
    use crate::crypto::tests::hex;
    use std::vec::Vec;

    struct Run {
        msgs: [Vec<u8>; 3],
        init: TrafficSecrets,
        resp: TrafficSecrets,
    }

    fn psk() -> [u8; 32] {
        network_key(b"test network")
    }

    fn write(h: &mut Handshake, payload: &[u8]) -> Vec<u8> {
        let mut out = [0u8; MAX_HANDSHAKE_MSG];
        let n = h.write_message(payload, &mut out).expect("write");
        out[..n].to_vec()
    }

    fn read(h: &mut Handshake, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut out = [0u8; MAX_HANDSHAKE_PAYLOAD];
        let n = h.read_message(msg, &mut out)?;
        Ok(out[..n].to_vec())
    }

    fn run(seed_i: u8, seed_r: u8) -> Run {
        let (a, b) = (Identity::from_seed(b"alice"), Identity::from_seed(b"bob"));
        let mut i = Handshake::initiator(&a, &psk(), [seed_i; 32]).expect("initiator");
        let mut r = Handshake::responder(&b, &psk(), [seed_r; 32]).expect("responder");
        let m1 = write(&mut i, b"");
        assert_eq!(m1.len(), HANDSHAKE_OVERHEAD[0]);
        assert_eq!(read(&mut r, &m1).expect("read 1"), b"");
        assert_eq!(r.remote_node(), None);
        let m2 = write(&mut r, b"responder params");
        assert_eq!(m2.len(), HANDSHAKE_OVERHEAD[1] + 16);
        assert_eq!(read(&mut i, &m2).expect("read 2"), b"responder params");
        assert_eq!(i.remote_node(), Some(b.node_id()));
        assert!(!i.is_finished());
        let m3 = write(&mut i, b"initiator params!");
        assert_eq!(m3.len(), HANDSHAKE_OVERHEAD[2] + 17);
        assert_eq!(read(&mut r, &m3).expect("read 3"), b"initiator params!");
        assert!(i.is_finished() && r.is_finished());
        assert_eq!(r.remote_node(), Some(a.node_id()));
        Run {
            msgs: [m1, m2, m3],
            init: i.into_secrets().expect("init secrets"),
            resp: r.into_secrets().expect("resp secrets"),
        }
    }

    #[test]
    fn full_handshake_gives_mirrored_secrets() {
        let r = run(1, 2);
        assert_eq!(r.init.tx, r.resp.rx);
        assert_eq!(r.init.rx, r.resp.tx);
        assert_ne!(r.init.tx, r.init.rx);
    }

    #[test]
    fn same_seeds_same_bytes_other_seeds_other_bytes() {
        let (x, y) = (run(1, 2), run(1, 2));
        assert_eq!(x.msgs, y.msgs);
        assert_eq!(x.init.tx, y.init.tx);
        let z = run(3, 2);
        assert_ne!(x.msgs[0], z.msgs[0]);
        assert_ne!(x.init.tx, z.init.tx);
        let w = run(1, 4);
        assert_eq!(x.msgs[0], w.msgs[0]);
        assert_ne!(x.msgs[1], w.msgs[1]);
    }

    #[test]
    fn a_network_key_held_by_the_node_gives_the_same_bytes_and_secrets() {
        let plain = run(1, 2);
        let (a, b) = (Identity::from_seed(b"alice"), Identity::from_seed(b"bob"));
        let key = NetworkKey::new(&psk());
        assert_eq!(key.key(), &psk());
        let mut i = Handshake::initiator_with(&a, &key, [1; 32]).expect("initiator");
        let mut r = Handshake::responder_with(&b, &key, [2; 32]).expect("responder");
        let m1 = write(&mut i, b"");
        read(&mut r, &m1).expect("read 1");
        let m2 = write(&mut r, b"responder params");
        read(&mut i, &m2).expect("read 2");
        let m3 = write(&mut i, b"initiator params!");
        read(&mut r, &m3).expect("read 3");
        assert_eq!([m1, m2, m3], plain.msgs);
        let (si, sr) = (i.into_secrets().expect("i"), r.into_secrets().expect("r"));
        assert_eq!((si.tx, si.rx), (plain.init.tx, plain.init.rx));
        assert_eq!((sr.tx, sr.rx), (plain.resp.tx, plain.resp.rx));
        // A node of another network still fails on message 1.
        let other = NetworkKey::new(&network_key(b"another network"));
        let mut i = Handshake::initiator_with(&a, &key, [1; 32]).expect("i");
        let mut r = Handshake::responder_with(&b, &other, [2; 32]).expect("r");
        let m1 = write(&mut i, b"");
        assert_eq!(read(&mut r, &m1), Err(CryptoError::HandshakeAuth));
    }

    #[test]
    fn other_network_key_fails_on_message_1() {
        let mut i = Handshake::initiator(&Identity::from_seed(b"a"), &psk(), [1; 32]).expect("i");
        let other = network_key(b"another network");
        let mut r = Handshake::responder(&Identity::from_seed(b"b"), &other, [2; 32]).expect("r");
        let m1 = write(&mut i, b"");
        assert_eq!(read(&mut r, &m1), Err(CryptoError::HandshakeAuth));
        assert!(!r.is_finished());
        assert_eq!(r.remote_node(), None);
    }

    #[test]
    fn tampered_message_2_fails_and_the_genuine_one_still_works() {
        let clean = run(5, 6);
        let (a, b) = (Identity::from_seed(b"alice"), Identity::from_seed(b"bob"));
        let mut i = Handshake::initiator(&a, &psk(), [5; 32]).expect("i");
        let mut r = Handshake::responder(&b, &psk(), [6; 32]).expect("r");
        read(&mut r, &write(&mut i, b"")).expect("read 1");
        let m2 = write(&mut r, b"responder params");
        for pos in 0..m2.len() {
            let mut bad = m2.clone();
            bad[pos] ^= 0x40;
            assert_eq!(
                read(&mut i, &bad),
                Err(CryptoError::HandshakeAuth),
                "byte {pos}"
            );
            assert_eq!(i.remote_node(), None);
        }
        assert_eq!(
            read(&mut i, &m2[..m2.len() - 1]),
            Err(CryptoError::HandshakeAuth)
        );
        read(&mut i, &m2).expect("genuine message 2 after forgeries");
        read(&mut r, &write(&mut i, b"initiator params!")).expect("read 3");
        let (si, sr) = (i.into_secrets().expect("i"), r.into_secrets().expect("r"));
        assert_eq!((si.tx, si.rx), (clean.init.tx, clean.init.rx));
        assert_eq!((sr.tx, sr.rx), (clean.resp.tx, clean.resp.rx));
    }

    #[test]
    fn tampered_message_3_ends_the_handshake() {
        let (a, b) = (Identity::from_seed(b"alice"), Identity::from_seed(b"bob"));
        let mut i = Handshake::initiator(&a, &psk(), [5; 32]).expect("i");
        let mut r = Handshake::responder(&b, &psk(), [6; 32]).expect("r");
        read(&mut r, &write(&mut i, b"")).expect("read 1");
        read(&mut i, &write(&mut r, b"")).expect("read 2");
        let mut m3 = write(&mut i, b"params");
        let last = m3.len() - 1;
        m3[last] ^= 1;
        assert_eq!(read(&mut r, &m3), Err(CryptoError::HandshakeAuth));
        m3[last] ^= 1;
        assert_eq!(read(&mut r, &m3), Err(CryptoError::Handshake));
        assert!(!r.is_finished());
        assert_eq!(r.remote_node(), None);
        assert_eq!(r.into_secrets().map(|_| ()), Err(CryptoError::NotFinished));
    }

    #[test]
    fn truncated_and_oversized_messages_are_errors() {
        let mut i = Handshake::initiator(&Identity::from_seed(b"a"), &psk(), [1; 32]).expect("i");
        let m1 = write(&mut i, b"");
        for n in 0..m1.len() {
            let mut r =
                Handshake::responder(&Identity::from_seed(b"b"), &psk(), [2; 32]).expect("r");
            assert!(read(&mut r, &m1[..n]).is_err(), "length {n}");
        }
        let mut r = Handshake::responder(&Identity::from_seed(b"b"), &psk(), [2; 32]).expect("r");
        let huge = [0u8; MAX_HANDSHAKE_MSG + 1];
        assert_eq!(read(&mut r, &huge), Err(CryptoError::Handshake));
        let mut small = [0u8; 4];
        assert_eq!(
            r.read_message(&[0; 60], &mut small),
            Err(CryptoError::BufferTooSmall)
        );
    }

    #[test]
    fn out_of_turn_and_size_errors_change_nothing() {
        let mut i = Handshake::initiator(&Identity::from_seed(b"a"), &psk(), [1; 32]).expect("i");
        let mut r = Handshake::responder(&Identity::from_seed(b"b"), &psk(), [2; 32]).expect("r");
        let mut buf = [0u8; MAX_HANDSHAKE_MSG + 64];
        assert_eq!(r.write_message(b"", &mut buf), Err(CryptoError::Handshake));
        assert_eq!(read(&mut i, &[0; 48]), Err(CryptoError::Handshake));
        let big = [0u8; MAX_HANDSHAKE_PAYLOAD + 1];
        assert_eq!(
            i.write_message(&big, &mut buf),
            Err(CryptoError::PayloadTooLarge)
        );
        assert_eq!(
            i.write_message(b"", &mut buf[..47]),
            Err(CryptoError::BufferTooSmall)
        );
        let n = i.write_message(b"", &mut buf).expect("write after errors");
        assert_eq!(
            &buf[..n],
            &run(1, 2).msgs[0][..],
            "errors did not consume randomness"
        );
        assert_eq!(i.write_message(b"", &mut buf), Err(CryptoError::Handshake));
    }

    #[test]
    fn resume_pattern_agrees_and_binds_secret_and_ticket() {
        let secret = [5u8; 32];
        let mut i = Handshake::resume(true, &secret, b"ticket", [1; 32]).expect("i");
        let mut r = Handshake::resume(false, &secret, b"ticket", [2; 32]).expect("r");
        let m1 = write(&mut i, b"hello");
        assert_eq!(m1.len(), RESUME_OVERHEAD[0] + 5);
        assert_eq!(read(&mut r, &m1).expect("read 1"), b"hello");
        let m2 = write(&mut r, b"params");
        assert_eq!(m2.len(), RESUME_OVERHEAD[1] + 6);
        assert_eq!(read(&mut i, &m2).expect("read 2"), b"params");
        assert!(i.is_finished() && r.is_finished());
        assert_eq!(i.remote_node(), None, "the ticket names the peer");
        let (si, sr) = (i.into_secrets().unwrap(), r.into_secrets().unwrap());
        assert_eq!((si.tx, si.rx), (sr.rx, sr.tx));
        // Another secret or another ticket: message 1 does not open.
        for (s2, t2) in [([6u8; 32], &b"ticket"[..]), (secret, &b"tickeu"[..])] {
            let mut i = Handshake::resume(true, &secret, b"ticket", [1; 32]).expect("i");
            let mut r = Handshake::resume(false, &s2, t2, [2; 32]).expect("r");
            let m1 = write(&mut i, b"");
            assert_eq!(read(&mut r, &m1), Err(CryptoError::HandshakeAuth));
        }
    }

    #[test]
    fn the_fallback_shares_the_resume_ephemeral_key() {
        let a = Identity::from_seed(b"alice");
        let mut resume = Handshake::resume(true, &[5; 32], b"t", [1; 32]).expect("resume");
        let m1 = write(&mut resume, b"");
        let mut e = [0u8; 32];
        e.copy_from_slice(&m1[..32]);
        let mut full =
            Handshake::initiator_sharing_ephemeral(&a, &NetworkKey::new(&psk()), [1; 32], e)
                .expect("i");
        let f1 = write(&mut full, b"");
        assert_eq!(&f1[..32], &e[..]);
        // And it is the full pattern's usual message 1 from that seed.
        assert_eq!(f1, run(1, 2).msgs[0]);
    }

    #[test]
    fn secrets_only_after_finish() {
        let i = Handshake::initiator(&Identity::from_seed(b"a"), &psk(), [1; 32]).expect("i");
        assert_eq!(i.into_secrets().map(|_| ()), Err(CryptoError::NotFinished));
    }

    #[test]
    fn identity_is_deterministic_and_matches_snow() {
        let a = Identity::from_seed(b"node seed");
        assert_eq!(a.node_id(), Identity::from_seed(b"node seed").node_id());
        assert_ne!(a.node_id(), Identity::from_seed(b"node seee").node_id());
        use snow::resolvers::CryptoResolver;
        let mut dh = snow::resolvers::DefaultResolver
            .resolve_dh(&snow::params::DHChoice::Curve25519)
            .expect("snow has 25519");
        dh.set(&a.private);
        assert_eq!(dh.pubkey(), &a.node_id().0[..]);
        let shown = std::format!("{a:?}");
        assert!(shown.contains("NodeId("));
        assert!(!shown.contains(&hex(&a.private)));
        assert!(!shown.contains(&std::format!("{:?}", a.private)));
    }

    #[test]
    fn ephemeral_key_comes_from_the_seeded_rng_and_message_1_is_pinned() {
        let a = Identity::from_seed(b"alice");
        let mut i = Handshake::initiator(&a, &psk(), [1; 32]).expect("i");
        let m1 = write(&mut i, b"");
        let private = Rng::from_seed([1; 32]).seed32();
        let e = curve25519_dalek::MontgomeryPoint::mul_base_clamped(private).to_bytes();
        assert_eq!(&m1[..32], &e[..]);
        // The whole first message, pinned: a change here breaks interop.
        assert_eq!(
            hex(&m1),
            "d53b9fea1dd4d570dbe38180767c236456ca6633f103f1aa0637e7b613d25274\
             951c646a0a2b199e27e98eefe60c7267"
        );
    }

    #[test]
    fn derivations_are_labelled_and_pinned() {
        // Golden values checked against Python (hashlib.blake2s, cryptography's X25519).
        assert_eq!(
            hex(&network_key(b"x")),
            "008831619c19c00ab9f85cd356407afeae15f44ab4cdf091cd44f1117a9d1c81"
        );
        assert_eq!(
            hex(&Identity::from_seed(b"x").private),
            "cf7baa7ad15f4461d997f359365483c68358dde40d94c92dfd01db5b4097a946"
        );
        assert_eq!(
            hex(&Identity::from_seed(b"x").node_id().0),
            "c4853561acd5ce531a7047cf7bc61a7f57d6d0fc1d4c06a2bc84a400caf96b52"
        );
        assert_ne!(network_key(b"x"), network_key(b"y"));
        let id = Identity::from_seed(b"x");
        assert_eq!(id.private, blake2s256(&[b"stt node key v1", b"x"]));
        assert_ne!(id.private, network_key(b"x"));
        assert_eq!(std::format!("{:?}", run(1, 2).init), "TrafficSecrets(..)");
    }

    #[test]
    fn secrets_are_wiped_by_what_drop_calls() {
        let mut id = Identity::from_seed(b"wipe me");
        assert_ne!(id.private, [0; 32]);
        id.wipe();
        assert_eq!(id.private, [0; 32]);
        let mut t = TrafficSecrets {
            tx: [1; 32],
            rx: [2; 32],
        };
        t.wipe();
        assert_eq!((t.tx, t.rx), ([0; 32], [0; 32]));
    }
}
