//! The stateless reset packet: what a node sends in answer to a protected
//! packet for a session it does not know, so the peer can close at once.
//!
//! ```text
//!  0x40 | K   unpredictable bytes (12 + n, n >= 1)   token (16 bytes)
//!  └ short header's first byte (fixed bit, key-phase bit K random)
//! ```
//!
//! To an observer it is a short-header packet of [`MIN_RESET_LEN`] to
//! [`MAX_RESET_LEN`] bytes: the size of a PING or ACK-only packet, with
//! "session id", "packet number" and "ciphertext" that are random. Only the
//! peer holding the token can tell it is a reset.
//!
//! Owns: the layout, the size rules ([`reset_len`]) and the tail a receiver
//! checks ([`reset_tail`]).
//! Never: derives or compares tokens (crypto does), or answers a datagram
//! that could itself be a reset: [`reset_len`] refuses any trigger of at
//! most [`MAX_RESET_LEN`] bytes, so two nodes that both lost state never
//! answer each other's resets.

use super::header::SHORT_HEADER_LEN;
use super::WireError;

/// Bytes in a stateless reset token.
pub const RESET_TOKEN_LEN: usize = 16;

/// The shortest reset: the size of the smallest protected packet (short
/// header, one byte of payload, 16-byte tag).
pub const MIN_RESET_LEN: usize = SHORT_HEADER_LEN + 1 + RESET_TOKEN_LEN;

/// The longest reset this crate sends: the size of an ACK-only packet.
/// A datagram of at most this many bytes may be a reset and is never
/// answered with one.
pub const MAX_RESET_LEN: usize = 40;

/// First-byte bits of a short header (see `header.rs`).
const FIXED: u8 = 0x40;
const KEY_PHASE: u8 = 0x20;

/// The length of the reset that answers a `trigger_len`-byte datagram,
/// from `random`: uniform in [`MIN_RESET_LEN`]..=[`MAX_RESET_LEN`], so
/// always shorter than its trigger. `None` when the trigger could itself
/// be a reset (at most [`MAX_RESET_LEN`] bytes): it gets no answer.
pub fn reset_len(trigger_len: usize, random: u64) -> Option<usize> {
    if trigger_len <= MAX_RESET_LEN {
        return None;
    }
    let span = (MAX_RESET_LEN - MIN_RESET_LEN + 1) as u64;
    // random % span < span <= 11: the cast cannot truncate.
    Some(MIN_RESET_LEN + (random % span) as usize)
}

/// Writes a reset of `out.len()` bytes ([`MIN_RESET_LEN`]..=[`MAX_RESET_LEN`]):
/// `out` holds random bytes on entry, which stay as they are except the
/// first byte (made a short header's, keeping the random key-phase bit)
/// and the last 16 (the token).
pub fn encode_reset(out: &mut [u8], token: &[u8; RESET_TOKEN_LEN]) -> Result<(), WireError> {
    if !(MIN_RESET_LEN..=MAX_RESET_LEN).contains(&out.len()) {
        return Err(WireError::BufferTooSmall);
    }
    out[0] = FIXED | (out[0] & KEY_PHASE);
    let tail = out.len() - RESET_TOKEN_LEN;
    out[tail..].copy_from_slice(token);
    Ok(())
}

/// The last 16 bytes of a short-header datagram long enough to be a reset
/// (at least [`MIN_RESET_LEN`] bytes), to compare with the tokens the
/// receiver holds; `None` for anything else. Longer datagrams are not
/// refused: a receiver recognises a reset of any size.
pub fn reset_tail(datagram: &[u8]) -> Option<&[u8; RESET_TOKEN_LEN]> {
    let first = *datagram.first()?;
    if first & 0x80 != 0 || datagram.len() < MIN_RESET_LEN {
        return None;
    }
    datagram[datagram.len() - RESET_TOKEN_LEN..].try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SessionId;
    use crate::wire::{Packet, ShortHeader};

    const TOKEN: [u8; 16] = [
        0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae,
        0xaf,
    ];

    #[test]
    fn golden_reset() {
        let mut out: [u8; 31] = core::array::from_fn(|i| 0xf0 ^ i as u8);
        encode_reset(&mut out, &TOKEN).unwrap();
        #[rustfmt::skip]
        let expect = [
            0x60,                                           // short, fixed, key phase (random: 0xf0 had it)
            0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, // random "dst"
            0xf9, 0xfa, 0xfb, 0xfc,                         // random "packet number"
            0xfd, 0xfe,                                     // random "ciphertext"
            0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, // token
            0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
        ];
        assert_eq!(out, expect);
        assert_eq!(reset_tail(&out), Some(&TOKEN));
        // It parses as an ordinary short-header packet.
        let Ok(Packet::Short { header, body }) = Packet::parse(&out) else {
            panic!("not a short packet");
        };
        assert_eq!(
            header,
            ShortHeader {
                key_phase: true,
                dst: SessionId(0xf1f2_f3f4_f5f6_f7f8),
                pn_truncated: 0xf9fa_fbfc,
            }
        );
        assert_eq!(body.len(), 2 + RESET_TOKEN_LEN);
        // The key-phase bit follows the random byte; the reserved bits are 0.
        let mut out = [0x1fu8; MIN_RESET_LEN];
        encode_reset(&mut out, &TOKEN).unwrap();
        assert_eq!(out[0], 0x40);
    }

    #[test]
    fn sizes_outside_the_range_are_refused() {
        let mut short = [0u8; MIN_RESET_LEN - 1];
        assert_eq!(
            encode_reset(&mut short, &TOKEN),
            Err(WireError::BufferTooSmall)
        );
        let mut long = [0u8; MAX_RESET_LEN + 1];
        assert_eq!(
            encode_reset(&mut long, &TOKEN),
            Err(WireError::BufferTooSmall)
        );
        assert_eq!(MIN_RESET_LEN, 30);
    }

    #[test]
    fn a_reset_is_never_answered_and_always_shorter() {
        for len in 0..=MAX_RESET_LEN {
            assert_eq!(reset_len(len, 12345), None, "{len}");
        }
        for trigger in [MAX_RESET_LEN + 1, 100, 1452] {
            for r in 0..40 {
                let n = reset_len(trigger, r).unwrap();
                assert!((MIN_RESET_LEN..=MAX_RESET_LEN).contains(&n));
                assert!(n < trigger);
                // What it answers with gets no answer.
                assert_eq!(reset_len(n, r), None);
            }
        }
        let all: std::collections::BTreeSet<_> =
            (0..200).map(|r| reset_len(1000, r).unwrap()).collect();
        assert_eq!(all.len(), MAX_RESET_LEN - MIN_RESET_LEN + 1);
    }

    #[test]
    fn tails_only_of_short_datagrams_long_enough() {
        let mut d = [0x40u8; 64];
        d[48..].copy_from_slice(&TOKEN);
        assert_eq!(reset_tail(&d), Some(&TOKEN));
        assert_eq!(reset_tail(&d[..MIN_RESET_LEN - 1]), None);
        d[0] = 0xc1;
        assert_eq!(reset_tail(&d), None, "long headers are handshakes");
        assert_eq!(reset_tail(&[]), None);
    }
}
