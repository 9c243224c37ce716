//! Stateless reset tokens: the 16 bytes that let a node which lost a
//! session's state tell the peer "I no longer know this session", in a
//! way no one else can forge.
//!
//! A token is a keyed BLAKE2s MAC (16-byte output) under the node's
//! [`ResetKey`] over a label and the session id the node chose for the
//! session. The key is static: it survives restarts (derived from the
//! node's static Noise key unless the application sets one), so a node
//! that restarts with the same identity computes the same token for an id
//! it no longer knows. The token travels to the peer inside the encrypted
//! handshake, so only the peer (and the node) knows it.
//!
//! Owns: the reset key, token derivation, the constant-time comparison of
//! a token with a datagram's tail, and the keyed index key an endpoint
//! files tokens under.
//! Never: compares a token in variable time, shows a key or token in
//! `Debug` output, or reads OS randomness.

use blake2::digest::core_api::{Block, Buffer, UpdateCore, VariableOutputCore};
use blake2::Blake2sVarCore;
use subtle::ConstantTimeEq;

use crate::ids::SessionId;

/// Bytes in a stateless reset token.
pub const RESET_TOKEN_LEN: usize = 16;

/// BLAKE2s in keyed mode with a 16-byte output (what `blake2::Blake2sMac`
/// computes), its key block compressed once: each MAC then costs one
/// compression for a message of up to a block, not two.
#[derive(Clone)]
struct TokenMac {
    keyed: Blake2sVarCore,
}

impl TokenMac {
    fn new(key: &[u8; 32]) -> Self {
        let mut keyed = Blake2sVarCore::new_with_params(&[], &[], key.len(), RESET_TOKEN_LEN);
        let mut block = Block::<Blake2sVarCore>::default();
        block[..key.len()].copy_from_slice(key);
        keyed.update_blocks(core::slice::from_ref(&block));
        zeroize::Zeroize::zeroize(block.as_mut_slice());
        TokenMac { keyed }
    }

    /// The MAC of the concatenation of `parts`, which is not empty (a
    /// keyed hash of no bytes would end with the key block).
    fn mac(&self, parts: &[&[u8]]) -> [u8; RESET_TOKEN_LEN] {
        let mut core = self.keyed.clone();
        let mut buffer = Buffer::<Blake2sVarCore>::default();
        for part in parts {
            buffer.digest_blocks(part, |blocks| core.update_blocks(blocks));
        }
        let mut out = Default::default();
        core.finalize_variable_core(&mut buffer, &mut out);
        let mut token = [0u8; RESET_TOKEN_LEN];
        token.copy_from_slice(&out[..RESET_TOKEN_LEN]);
        token
    }
}

/// The static secret a node derives its reset tokens from. Two endpoints
/// with the same key produce the same token for the same session id.
#[derive(Clone)]
pub struct ResetKey {
    /// The MAC already keyed with the secret; cloned per token.
    keyed: TokenMac,
}

impl ResetKey {
    /// A reset key from 32 secret bytes (the application's stored secret,
    /// or [`ResetKey::from_static_key`]).
    pub fn new(secret: &[u8; 32]) -> Self {
        ResetKey {
            keyed: TokenMac::new(secret),
        }
    }

    /// The default reset key of a node: BLAKE2s-256(`"stt reset key v1"` ||
    /// static private key). A node restarted with the same identity holds
    /// the same key; the static key itself is never used outside Noise.
    pub fn from_static_key(private: &[u8; 32]) -> Self {
        let mut secret = super::blake2s256(&[b"stt reset key v1", private]);
        let key = ResetKey::new(&secret);
        zeroize::Zeroize::zeroize(&mut secret);
        key
    }

    /// The token of session `id` (the id this node chose for it).
    pub fn token(&self, id: SessionId) -> ResetToken {
        ResetToken(
            self.keyed
                .mac(&[b"stt reset token v1", &id.0.to_be_bytes()]),
        )
    }
}

impl core::fmt::Debug for ResetKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ResetKey(..)")
    }
}

/// A stateless reset token. Equality is constant-time; `Debug` hides it.
#[derive(Clone, Copy)]
pub struct ResetToken(pub [u8; RESET_TOKEN_LEN]);

impl ResetToken {
    /// Whether `datagram` ends with this token, in time independent of
    /// where the bytes differ. A datagram shorter than a token never does.
    pub fn ends(&self, datagram: &[u8]) -> bool {
        let Some(start) = datagram.len().checked_sub(RESET_TOKEN_LEN) else {
            return false;
        };
        datagram[start..].ct_eq(&self.0).into()
    }
}

impl PartialEq for ResetToken {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}
impl Eq for ResetToken {}

impl core::fmt::Debug for ResetToken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ResetToken(..)")
    }
}

/// A per-endpoint secret that turns a token into the key an index of
/// tokens is sorted by, so looking a datagram's tail up compares keyed
/// hashes, never token bytes, and its timing says nothing about tokens.
#[derive(Clone)]
pub struct TokenIndexKey {
    keyed: TokenMac,
}

impl TokenIndexKey {
    /// An index key from 32 secret bytes (drawn from the endpoint's seed).
    pub fn new(secret: &[u8; 32]) -> Self {
        TokenIndexKey {
            keyed: TokenMac::new(secret),
        }
    }

    /// The index key of the token `tail` (any 16 bytes).
    pub fn of(&self, tail: &[u8; RESET_TOKEN_LEN]) -> u64 {
        let out = self.keyed.mac(&[tail]);
        let mut first = [0u8; 8];
        first.copy_from_slice(&out[..8]);
        u64::from_le_bytes(first)
    }
}

impl core::fmt::Debug for TokenIndexKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("TokenIndexKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::tests::hex;

    #[test]
    fn golden_token() {
        let key = ResetKey::new(&[7; 32]);
        let t = key.token(SessionId(0x0102_0304_0506_0708));
        assert_eq!(hex(&t.0), GOLDEN_TOKEN);
        // The same key and id give the same token; another id or key not.
        assert_eq!(key.token(SessionId(0x0102_0304_0506_0708)), t);
        assert_ne!(key.token(SessionId(0x0102_0304_0506_0709)), t);
        assert_ne!(
            ResetKey::new(&[8; 32]).token(SessionId(0x0102_0304_0506_0708)),
            t
        );
    }

    /// Keyed BLAKE2s (16-byte output), key `[7; 32]`, over
    /// `"stt reset token v1"` and the id `0102030405060708`; Python's
    /// `hashlib.blake2s(msg, key=key, digest_size=16)` gives the same.
    const GOLDEN_TOKEN: &str = "c0678ca1f663b000a66ed8b21f0b8158";

    #[test]
    fn default_key_follows_the_static_key() {
        let a = ResetKey::from_static_key(&[1; 32]).token(SessionId(5));
        let b = ResetKey::from_static_key(&[1; 32]).token(SessionId(5));
        let c = ResetKey::from_static_key(&[2; 32]).token(SessionId(5));
        assert_eq!(a, b);
        assert_ne!(a, c);
        // Key BLAKE2s-256("stt reset key v1" || static key), checked as
        // the golden token is.
        assert_eq!(hex(&a.0), "86added04e7af3989fe1348104b43547");
        // Not the static key used as the reset key directly.
        assert_ne!(ResetKey::new(&[1; 32]).token(SessionId(5)), a);
    }

    #[test]
    fn tails_are_compared_whole() {
        let t = ResetKey::new(&[3; 32]).token(SessionId(9));
        let mut d = [0xaa; 40];
        d[24..].copy_from_slice(&t.0);
        assert!(t.ends(&d));
        assert!(t.ends(&d[24..]));
        assert!(!t.ends(&d[25..]), "shorter than a token");
        assert!(!t.ends(&d[..39]), "shifted by one");
        for i in 24..40 {
            let mut bad = d;
            bad[i] ^= 1;
            assert!(!t.ends(&bad), "byte {i} flipped");
        }
        assert!(!t.ends(&[]));
    }

    #[test]
    fn the_mac_is_blake2s_keyed_mode_with_16_bytes_out() {
        use blake2::digest::consts::U16;
        use blake2::digest::{KeyInit, Mac};
        let mut rng = crate::rand::Rng::from_seed([4; 32]);
        for len in [1, 16, 26, 63, 64, 65, 128, 129] {
            let mut key = [0u8; 32];
            let mut data = [0u8; 129];
            rng.fill(&mut key);
            rng.fill(&mut data);
            let (head, tail) = data[..len].split_at(len / 3);
            let mut reference = <blake2::Blake2sMac<U16> as KeyInit>::new(&key.into());
            reference.update(&data[..len]);
            let expected: [u8; 16] = reference.finalize().into_bytes().into();
            assert_eq!(
                TokenMac::new(&key).mac(&[head, tail]),
                expected,
                "{len} bytes"
            );
        }
    }

    #[test]
    fn index_keys_are_keyed() {
        let tail = [5u8; RESET_TOKEN_LEN];
        let a = TokenIndexKey::new(&[1; 32]);
        assert_eq!(a.of(&tail), a.of(&tail));
        assert_ne!(a.of(&tail), TokenIndexKey::new(&[2; 32]).of(&tail));
        assert_ne!(a.of(&tail), a.of(&[6; RESET_TOKEN_LEN]));
    }

    #[test]
    fn debug_hides_secrets() {
        let key = ResetKey::new(&[7; 32]);
        assert_eq!(std::format!("{key:?}"), "ResetKey(..)");
        assert_eq!(
            std::format!("{:?}", key.token(SessionId(1))),
            "ResetToken(..)"
        );
    }
}
