//! Session tickets: what a responder gives its peer at the end of a
//! handshake so that a later session between the two can resume with a
//! cheaper handshake (`handshake.rs`, the resume pattern).
//!
//! A ticket is sealed with ChaCha20-Poly1305 under a **ticket key** only
//! its issuer knows. Ticket keys rotate: the key of epoch `n` (`n` = issue
//! time / rotation period) is BLAKE2s-256(`"stt ticket key v1"` ‖ master ‖
//! `n` as 8 bytes big-endian), and a ticket opens under the current or the
//! previous epoch's key only. The plaintext carries the resumption secret
//! and both static keys, so the resumed session reports the identities the
//! full handshake proved.
//!
//! ```text
//! key_id  u32   low 32 bits of the epoch the ticket was sealed in
//! id      u64   unique per ticket: AEAD nonce and strike-register entry
//! sealed  104   issued (u64, issuer's clock, microseconds) ‖ resumption
//!               secret (32) ‖ initiator static key (32) ‖ responder
//!               static key (32), then the 16-byte tag
//! ```
//!
//! The 12 bytes before the sealed part are its associated data.
//!
//! Owns: the ticket key schedule, the ticket layout, sealing and opening,
//! and the resumption secret's derivation from a finished handshake.
//! Never: decides whether an authentic ticket may be used (expiry against
//! the configured lifetime and the strike register are the endpoint's), or
//! shows a key or secret in `Debug`.

use core::time::Duration;

use zeroize::Zeroize;

use super::{blake2s256, Cipher, PacketKey, Provider, TAG_LEN};
use crate::ids::NodeId;
use crate::time::Instant;

/// Bytes of the plaintext a ticket seals.
const PLAIN_LEN: usize = 8 + 32 + 32 + 32;
/// Bytes before the sealed part: key id and ticket id.
const HEAD_LEN: usize = 4 + 8;
/// Bytes of a ticket.
pub const TICKET_LEN: usize = HEAD_LEN + PLAIN_LEN + TAG_LEN;

/// The resumption secret of a finished handshake, from its two traffic
/// secrets (`i2r` protects initiator to responder): BLAKE2s-256(`"stt
/// resumption v1"` ‖ i2r ‖ r2i). One-way: it reveals neither traffic key.
pub fn resumption_secret(i2r: &[u8; 32], r2i: &[u8; 32]) -> [u8; 32] {
    blake2s256(&[b"stt resumption v1", i2r, r2i])
}

/// What a ticket carries.
#[derive(Clone, PartialEq, Eq)]
pub struct TicketContents {
    /// When the issuer sealed it, in the issuer's clock.
    pub issued: Instant,
    /// The PSK of the resumed handshake.
    pub resumption: [u8; 32],
    /// The initiator's static key, proved by the first handshake.
    pub initiator: NodeId,
    /// The responder's (issuer's) static key.
    pub responder: NodeId,
}

impl Drop for TicketContents {
    fn drop(&mut self) {
        self.resumption.zeroize();
    }
}

impl core::fmt::Debug for TicketContents {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TicketContents")
            .field("issued", &self.issued)
            .field("initiator", &self.initiator)
            .field("responder", &self.responder)
            .finish_non_exhaustive()
    }
}

/// A ticket as the initiator keeps it: the opaque bytes it presents, and
/// what it needs to run the resumed handshake with them.
#[derive(Clone)]
pub struct ClientTicket {
    /// The sealed ticket, as the responder sent it.
    pub ticket: alloc::vec::Vec<u8>,
    /// The resumption secret of the session it came from.
    pub resumption: [u8; 32],
    /// The responder's static key, proved by that session.
    pub node: NodeId,
    /// When it arrived, in the holder's clock.
    pub received: Instant,
}

impl Drop for ClientTicket {
    fn drop(&mut self) {
        self.resumption.zeroize();
    }
}

impl core::fmt::Debug for ClientTicket {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientTicket")
            .field("node", &self.node)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

/// Why a ticket was refused before any use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketError {
    /// Not [`TICKET_LEN`] bytes.
    Length,
    /// Its key id names neither the current nor the previous epoch.
    UnknownKey,
    /// It did not authenticate under the key its id names.
    Auth,
}

/// An issuer's rotating ticket keys.
#[derive(Clone)]
pub struct TicketKeys {
    master: [u8; 32],
    /// Rotation period in microseconds, at least 1.
    rotation: u64,
    provider: Provider,
}

impl Drop for TicketKeys {
    fn drop(&mut self) {
        self.master.zeroize();
    }
}

impl core::fmt::Debug for TicketKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("TicketKeys(..)")
    }
}

impl TicketKeys {
    /// Keys from a 32-byte master secret, a new key every `rotation`.
    pub fn new(master: &[u8; 32], rotation: Duration, provider: Provider) -> Self {
        let rotation = u64::try_from(rotation.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        TicketKeys {
            master: *master,
            rotation,
            provider,
        }
    }

    fn epoch(&self, now: Instant) -> u64 {
        now.as_micros() / self.rotation
    }

    fn key(&self, epoch: u64) -> PacketKey {
        let mut secret = blake2s256(&[b"stt ticket key v1", &self.master, &epoch.to_be_bytes()]);
        let key = PacketKey::with_cipher(self.provider, Cipher::ChaCha20Poly1305, &secret);
        secret.zeroize();
        key
    }

    /// Seals `contents` as ticket `id` (unique per ticket) under the key
    /// of `now`'s epoch.
    pub fn seal(&self, now: Instant, id: u64, contents: &TicketContents) -> [u8; TICKET_LEN] {
        let epoch = self.epoch(now);
        let mut out = [0u8; TICKET_LEN];
        out[..4].copy_from_slice(&(epoch as u32).to_be_bytes());
        out[4..12].copy_from_slice(&id.to_be_bytes());
        let p = &mut out[HEAD_LEN..];
        p[..8].copy_from_slice(&contents.issued.as_micros().to_be_bytes());
        p[8..40].copy_from_slice(&contents.resumption);
        p[40..72].copy_from_slice(&contents.initiator.0);
        p[72..104].copy_from_slice(&contents.responder.0);
        let (head, body) = out.split_at_mut(HEAD_LEN);
        // A 32-byte key and a buffer with room for the tag: cannot fail.
        let sealed = self.key(epoch).seal(id, head, body);
        debug_assert!(sealed.is_ok());
        out
    }

    /// Opens `ticket` (copied; the caller's bytes stay as they are):
    /// its id and contents, if it is authentic and its key is the current
    /// or the previous epoch's at `now`.
    pub fn open(&self, now: Instant, ticket: &[u8]) -> Result<(u64, TicketContents), TicketError> {
        let mut buf: [u8; TICKET_LEN] = ticket.try_into().map_err(|_| TicketError::Length)?;
        let mut kid = [0u8; 4];
        kid.copy_from_slice(&buf[..4]);
        let kid = u32::from_be_bytes(kid);
        let current = self.epoch(now);
        let epoch = [current, current.wrapping_sub(1)]
            .into_iter()
            .find(|e| *e as u32 == kid && *e <= current)
            .ok_or(TicketError::UnknownKey)?;
        let mut id = [0u8; 8];
        id.copy_from_slice(&buf[4..12]);
        let id = u64::from_be_bytes(id);
        let (head, body) = buf.split_at_mut(HEAD_LEN);
        let plain = self
            .key(epoch)
            .open(id, head, body)
            .map_err(|_| TicketError::Auth)?;
        let mut issued = [0u8; 8];
        issued.copy_from_slice(&plain[..8]);
        let mut contents = TicketContents {
            issued: Instant::from_micros(u64::from_be_bytes(issued)),
            resumption: [0; 32],
            initiator: NodeId([0; 32]),
            responder: NodeId([0; 32]),
        };
        contents.resumption.copy_from_slice(&plain[8..40]);
        contents.initiator.0.copy_from_slice(&plain[40..72]);
        contents.responder.0.copy_from_slice(&plain[72..104]);
        plain.zeroize();
        Ok((id, contents))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::tests::hex;

    fn contents() -> TicketContents {
        TicketContents {
            issued: Instant::from_micros(5_000_000),
            resumption: [7; 32],
            initiator: NodeId([1; 32]),
            responder: NodeId([2; 32]),
        }
    }

    fn keys() -> TicketKeys {
        TicketKeys::new(&[9; 32], Duration::from_secs(10), Provider::default())
    }

    #[test]
    fn seals_and_opens_within_two_epochs() {
        let k = keys();
        let t = k.seal(Instant::from_micros(5_000_000), 42, &contents());
        assert_eq!(t.len(), 132);
        for s in [5, 9, 10, 19] {
            let (id, c) = k.open(Instant::from_micros(s * 1_000_000), &t).unwrap();
            assert_eq!((id, c), (42, contents()), "at {s} s");
        }
        assert_eq!(
            k.open(Instant::from_micros(20_000_000), &t).err(),
            Some(TicketError::UnknownKey),
            "two rotations later its key is gone"
        );
    }

    #[test]
    fn refuses_what_it_did_not_seal() {
        let k = keys();
        let now = Instant::from_micros(1);
        let t = k.seal(now, 1, &contents());
        for i in 0..TICKET_LEN {
            let mut bad = t;
            bad[i] ^= 0x80;
            assert!(k.open(now, &bad).is_err(), "byte {i} flipped");
        }
        assert_eq!(k.open(now, &t[1..]).err(), Some(TicketError::Length));
        let other = TicketKeys::new(&[8; 32], Duration::from_secs(10), Provider::default());
        assert_eq!(other.open(now, &t).err(), Some(TicketError::Auth));
    }

    #[test]
    fn golden_ticket_and_secret() {
        let t = keys().seal(
            Instant::from_micros(5_000_000),
            0x0102_0304_0506_0708,
            &contents(),
        );
        assert_eq!(hex(&t[..12]), "000000000102030405060708");
        assert_eq!(hex(&t[t.len() - 16..]), GOLDEN_TAG);
        assert_eq!(
            hex(&resumption_secret(&[1; 32], &[2; 32])),
            GOLDEN_RESUMPTION
        );
        assert_eq!(std::format!("{:?}", keys()), "TicketKeys(..)");
        assert!(!std::format!("{:?}", contents()).contains("7, 7"));
    }

    // Checked against Python (hashlib.blake2s; cryptography's
    // ChaCha20Poly1305 with nonce 4 zero bytes ‖ id, aad the 12-byte head).
    const GOLDEN_TAG: &str = "2244167209aa2506c5884e5b08983222";
    const GOLDEN_RESUMPTION: &str =
        "f22492ea608c4dee2e6cf6d83251c58dfb53331bca96ef991b3da3d561596cae";
}
