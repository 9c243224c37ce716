//! Packet protection of an established session: the current key of each
//! direction, key updates, and the replay window.
//!
//! Owns: which key seals the next packet and which key opens a received one
//! (current, next or previous phase), the rotation of each direction's key
//! after a configured volume, and the grace period of a retired key.
//! Never: decides what goes into a packet, trusts the key-phase bit before a
//! packet authenticates (a forged bit changes nothing), or keeps a retired
//! key past its grace period.
//!
//! Each direction updates on its own: a sender rotates after
//! `key_update_after_packets` packets or `key_update_after_bytes` bytes
//! under one key, but only once the peer acknowledged a packet sealed with
//! the current key (so the peer never has to look two keys ahead). The new
//! secret is [`next_secret`] of the old one and the key-phase bit flips. A
//! receiver keeps the current key, the next one (precomputed) and, for
//! three probe timeouts after an update, the previous one for reordered
//! packets. Packet numbers say which: a flipped bit on a packet numbered
//! below the first one seen under the current key belongs to the previous
//! key, on any other to the next.

use alloc::boxed::Box;
use core::time::Duration;

use crate::crypto::{
    next_secret, Cipher, CryptoError, PacketKey, Provider, ReplayWindow, ResetToken, KEY_LEN,
};
use crate::ids::NodeId;
use crate::time::Instant;

/// When a direction's key is due for an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UpdateLimits {
    /// Packets sealed under one key.
    pub packets: u64,
    /// Bytes (whole datagrams) sealed under one key.
    pub bytes: u64,
}

/// Why a received packet was not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpenError {
    /// Authentication failed.
    Decrypt,
    /// Sealed under a key retired past its grace period; not even tried.
    StaleKey,
}

/// A retired receive key and when it goes.
struct Retired {
    key: PacketKey,
    until: Instant,
}

/// Both directions' keys and the replay window.
pub(crate) struct Keys {
    provider: Provider,
    /// The session's packet cipher.
    pub cipher: Cipher,
    tx: PacketKey,
    tx_secret: [u8; KEY_LEN],
    tx_phase: bool,
    /// First packet number sealed under the current send key.
    tx_phase_start: u64,
    tx_packets: u64,
    tx_bytes: u64,
    rx: PacketKey,
    rx_phase: bool,
    /// Lowest packet number seen under the current receive key at the time
    /// it was adopted (0 before any update).
    rx_phase_start: u64,
    /// The next receive key's secret. The key itself is built when a
    /// packet in the other phase arrives (a copy of the secret for
    /// ChaCha20; AES-GCM expands its schedule then), so an idle session
    /// holds two packet keys, not three.
    rx_next_secret: [u8; KEY_LEN],
    /// Boxed: present only for a grace period after each update.
    rx_prev: Option<Box<Retired>>,
    /// Packet numbers already accepted.
    pub replay: ReplayWindow,
    /// Updates of the send key so far (at most one a round trip: a u32
    /// lasts longer than any session).
    pub updates_sent: u32,
    /// Updates of the receive key so far.
    pub updates_received: u32,
    /// The peer's stateless reset token for this session, if it sent one:
    /// kept beside the keys, so a session without keys holds none.
    pub peer_reset_token: Option<ResetToken>,
    /// The peer's identity, which the handshake that made these keys
    /// authenticated (held here, so a session holds it once and only
    /// once established).
    pub remote_node: NodeId,
    /// The session was resumed from a ticket.
    pub resumed: bool,
}

impl Drop for Keys {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.tx_secret.zeroize();
        self.rx_next_secret.zeroize();
    }
}

impl Keys {
    /// Keys from the handshake's traffic secrets, both directions in phase 0.
    pub fn new(
        provider: Provider,
        cipher: Cipher,
        tx_secret: &[u8; KEY_LEN],
        rx_secret: &[u8; KEY_LEN],
    ) -> Self {
        let rx_next_secret = next_secret(rx_secret);
        let key = |secret| PacketKey::with_cipher(provider, cipher, secret);
        Keys {
            provider,
            cipher,
            tx: key(tx_secret),
            tx_secret: *tx_secret,
            tx_phase: false,
            tx_phase_start: 0,
            tx_packets: 0,
            tx_bytes: 0,
            rx: key(rx_secret),
            rx_phase: false,
            rx_phase_start: 0,
            rx_next_secret,
            rx_prev: None,
            replay: ReplayWindow::new(),
            updates_sent: 0,
            updates_received: 0,
            peer_reset_token: None,
            remote_node: NodeId([0; 32]),
            resumed: false,
        }
    }

    /// The key-phase bit of packet `pn`, about to be sealed: rotates the send
    /// key first if it is due and the peer has acknowledged a packet sealed
    /// under the current one (`largest_acked`).
    pub fn phase_for(&mut self, pn: u64, limits: UpdateLimits, largest_acked: Option<u64>) -> bool {
        let due = self.tx_packets >= limits.packets || self.tx_bytes >= limits.bytes;
        let peer_has_it = largest_acked.is_some_and(|l| l >= self.tx_phase_start);
        if due && peer_has_it {
            self.tx_secret = next_secret(&self.tx_secret);
            self.tx = PacketKey::with_cipher(self.provider, self.cipher, &self.tx_secret);
            self.tx_phase = !self.tx_phase;
            self.tx_phase_start = pn;
            self.tx_packets = 0;
            self.tx_bytes = 0;
            self.updates_sent = self.updates_sent.saturating_add(1);
        }
        self.tx_phase
    }

    /// Seals packet `pn` (`len` bytes on the wire) under the current send
    /// key; see [`PacketKey::seal`].
    pub fn seal(&mut self, pn: u64, aad: &[u8], in_out: &mut [u8]) -> Result<(), CryptoError> {
        self.tx.seal(pn, aad, in_out)?;
        self.tx_packets = self.tx_packets.saturating_add(1);
        let len = (aad.len() + in_out.len()) as u64;
        self.tx_bytes = self.tx_bytes.saturating_add(len);
        Ok(())
    }

    /// Opens packet `pn` whose header carried `phase`, choosing the key by
    /// the rules in the module docs. Adopts the next key (and retires the
    /// current one for `grace`) when a packet authenticates under it.
    pub fn open<'a>(
        &mut self,
        now: Instant,
        pn: u64,
        phase: bool,
        aad: &[u8],
        in_out: &'a mut [u8],
        grace: Duration,
    ) -> Result<&'a mut [u8], OpenError> {
        if self.rx_prev.as_ref().is_some_and(|p| now >= p.until) {
            self.rx_prev = None;
        }
        if phase == self.rx_phase {
            return self
                .rx
                .open(pn, aad, in_out)
                .map_err(|_| OpenError::Decrypt);
        }
        if pn < self.rx_phase_start {
            let prev = self.rx_prev.as_ref().ok_or(OpenError::StaleKey)?;
            return prev
                .key
                .open(pn, aad, in_out)
                .map_err(|_| OpenError::Decrypt);
        }
        let next = PacketKey::with_cipher(self.provider, self.cipher, &self.rx_next_secret);
        let plain = next.open(pn, aad, in_out).map_err(|_| OpenError::Decrypt)?;
        // Authenticated under the next key: the peer updated.
        let secret = self.rx_next_secret;
        self.rx_next_secret = next_secret(&secret);
        let old = core::mem::replace(&mut self.rx, next);
        self.rx_prev = Some(Box::new(Retired {
            key: old,
            until: now + grace,
        }));
        self.rx_phase = !self.rx_phase;
        self.rx_phase_start = pn;
        self.updates_received = self.updates_received.saturating_add(1);
        Ok(plain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    const LIMITS: UpdateLimits = UpdateLimits {
        packets: 3,
        bytes: u64::MAX,
    };
    const GRACE: Duration = Duration::from_millis(300);
    const HEAD: &[u8] = b"header";

    fn pair() -> (Keys, Keys) {
        let p = Provider::default();
        let (a, b) = ([1u8; KEY_LEN], [2u8; KEY_LEN]);
        let c = Cipher::default();
        (Keys::new(p, c, &a, &b), Keys::new(p, c, &b, &a))
    }

    /// Seals `pn` from `tx`; returns (phase, sealed bytes).
    fn seal(tx: &mut Keys, pn: u64, acked: Option<u64>) -> (bool, Vec<u8>) {
        let phase = tx.phase_for(pn, LIMITS, acked);
        let mut buf = Vec::from(&pn.to_be_bytes()[..]);
        buf.extend_from_slice(&[0; crate::crypto::TAG_LEN]);
        tx.seal(pn, HEAD, &mut buf).unwrap();
        (phase, buf)
    }

    fn open(rx: &mut Keys, now: u64, pn: u64, sealed: &(bool, Vec<u8>)) -> Result<u64, OpenError> {
        let mut buf = sealed.1.clone();
        let t = Instant::from_millis(now);
        let plain = rx.open(t, pn, sealed.0, HEAD, &mut buf, GRACE)?;
        Ok(u64::from_be_bytes(plain[..8].try_into().unwrap()))
    }

    #[test]
    fn rotates_after_the_limit_only_once_acknowledged() {
        let (mut a, _) = pair();
        for pn in 0..3 {
            assert!(!seal(&mut a, pn, None).0);
        }
        // Due, but nothing under the current key was acknowledged yet.
        assert!(!seal(&mut a, 3, None).0);
        assert!(seal(&mut a, 4, Some(0)).0, "flips once acknowledged");
        assert_eq!(a.updates_sent, 1);
        // Next rotation waits for an ack of packet 4 or later.
        for pn in 5..9 {
            assert!(seal(&mut a, pn, Some(3)).0);
        }
        assert!(!seal(&mut a, 9, Some(4)).0);
        assert_eq!(a.updates_sent, 2);
    }

    #[test]
    fn receiver_follows_and_opens_reordered_old_packets_within_grace() {
        let (mut a, mut b) = pair();
        let p: Vec<_> = (0..8).map(|pn| seal(&mut a, pn, Some(pn))).collect();
        assert!(!p[2].0 && p[3].0, "the bit flips at packet 3");
        // New-phase packet 4 arrives first: b adopts the next key.
        assert_eq!(open(&mut b, 0, 4, &p[4]), Ok(4));
        assert_eq!(b.updates_received, 1);
        // Reordered: 3 (new phase, below the start) and 1 (old phase).
        assert_eq!(open(&mut b, 10, 3, &p[3]), Ok(3));
        assert_eq!(open(&mut b, 10, 1, &p[1]), Ok(1));
        // Past the grace period the old key is gone.
        assert_eq!(open(&mut b, 400, 2, &p[2]), Err(OpenError::StaleKey));
        // Phase 2 (bit clear again) opens with the next key.
        assert!(!p[6].0);
        assert_eq!(open(&mut b, 400, 6, &p[6]), Ok(6));
        assert_eq!(b.updates_received, 2);
    }

    #[test]
    fn forged_flipped_bit_changes_nothing() {
        let (mut a, mut b) = pair();
        let good = seal(&mut a, 0, None);
        let forged = (true, good.1.clone());
        assert_eq!(open(&mut b, 0, 0, &forged), Err(OpenError::Decrypt));
        assert_eq!(b.updates_received, 0);
        assert_eq!(open(&mut b, 0, 0, &good), Ok(0));
    }
}
