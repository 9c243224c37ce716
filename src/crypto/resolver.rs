//! The primitives the handshake gives `snow`: its default ones, except
//! that randomness comes from the caller's seeded [`Rng`], X25519 knows
//! the keys it has already derived, BLAKE2s is `noise_hash.rs`'s and
//! ChaCha20-Poly1305 is the crate's own packet AEAD (in fuzzing builds,
//! X25519 and the hash's key derivations remember their results:
//! `fuzz_memo.rs`).
//!
//! Owns: [`SeededResolver`], the X25519 used in every handshake (on the
//! Edwards form where it can), and the derived-key cache that spares a
//! fixed-base multiplication for the node's static key and for an
//! ephemeral key two patterns share.
//! Never: reads OS randomness, or leaves a private key in memory it drops.

use alloc::boxed::Box;

use snow::params::{CipherChoice, DHChoice, HashChoice};
use snow::resolvers::{CryptoResolver, DefaultResolver};
use snow::types::{Cipher, Dh, Hash, Random};
use zeroize::Zeroize;

use super::aead::{PacketKey, Provider, KEY_LEN, TAG_LEN};
use super::handshake::MAX_HANDSHAKE_MSG;
use super::noise_hash::{NoiseBlake2s, PskMix};
use crate::rand::Rng;

/// snow's default primitives, but randomness from our seeded [`Rng`] and
/// an X25519 that knows the node's static key pair.
pub(super) struct SeededResolver {
    pub(super) seed: [u8; 32],
    /// The identity's (private, public) keys.
    pub(super) identity: ([u8; 32], [u8; 32]),
    /// An ephemeral key pair already derived by another handshake from
    /// the same seed.
    pub(super) hint: Option<([u8; 32], [u8; 32])>,
    /// The network key's first HKDF, computed once per node.
    pub(super) mix: Option<PskMix>,
}

impl Drop for SeededResolver {
    fn drop(&mut self) {
        self.seed.zeroize();
        self.identity.0.zeroize();
        if let Some(h) = self.hint.as_mut() {
            h.0.zeroize();
        }
    }
}

impl CryptoResolver for SeededResolver {
    fn resolve_rng(&self) -> Option<Box<dyn Random>> {
        Some(Box::new(SnowRng(Rng::from_seed(self.seed))))
    }

    fn resolve_dh(&self, choice: &DHChoice) -> Option<Box<dyn Dh>> {
        match choice {
            DHChoice::Curve25519 => Some(Box::new(X25519 {
                known: self.identity,
                hint: self.hint,
                private: [0; 32],
                public: [0; 32],
            })),
            _ => DefaultResolver.resolve_dh(choice),
        }
    }

    fn resolve_hash(&self, choice: &HashChoice) -> Option<Box<dyn Hash>> {
        let hash: Box<dyn Hash> = match choice {
            HashChoice::Blake2s => Box::new(NoiseBlake2s::with_mix(self.mix.clone())),
            _ => DefaultResolver.resolve_hash(choice)?,
        };
        // Fuzzing builds remember key derivations (see `fuzz_memo.rs`).
        #[cfg(all(fuzzing, feature = "std"))]
        let hash = super::fuzz_memo::hash(hash);
        Some(hash)
    }

    fn resolve_cipher(&self, choice: &CipherChoice) -> Option<Box<dyn Cipher>> {
        match choice {
            CipherChoice::ChaChaPoly => Some(Box::new(NoiseChaChaPoly { key: [0; 32] })),
            _ => DefaultResolver.resolve_cipher(choice),
        }
    }
}

/// X25519 from curve25519-dalek, as snow's default does it, except that
/// setting the node's own static private key takes its public key from the
/// [`Identity`](super::Identity) instead of computing it again (a fixed-base scalar
/// multiplication, about an eighth of a handshake's work per side).
struct X25519 {
    known: ([u8; 32], [u8; 32]),
    /// A second known pair: an ephemeral key shared with another pattern.
    hint: Option<([u8; 32], [u8; 32])>,
    private: [u8; 32],
    public: [u8; 32],
}

impl Drop for X25519 {
    fn drop(&mut self) {
        self.private.zeroize();
        self.known.0.zeroize();
        if let Some(h) = self.hint.as_mut() {
            h.0.zeroize();
        }
    }
}

impl X25519 {
    fn derive(&mut self) {
        self.public = if self.private == self.known.0 {
            self.known.1
        } else if let Some((_, public)) = self.hint.filter(|h| h.0 == self.private) {
            public
        } else {
            mul_base(self.private)
        };
    }
}

impl Dh for X25519 {
    fn name(&self) -> &'static str {
        "25519"
    }

    fn pub_len(&self) -> usize {
        32
    }

    fn priv_len(&self) -> usize {
        32
    }

    fn set(&mut self, privkey: &[u8]) {
        let n = privkey.len().min(32);
        self.private = [0; 32];
        self.private[..n].copy_from_slice(&privkey[..n]);
        self.derive();
    }

    fn generate(&mut self, rng: &mut dyn Random) -> Result<(), snow::Error> {
        rng.try_fill_bytes(&mut self.private)?;
        self.derive();
        Ok(())
    }

    fn pubkey(&self) -> &[u8] {
        &self.public
    }

    fn privkey(&self) -> &[u8] {
        &self.private
    }

    fn dh(&self, pubkey: &[u8], out: &mut [u8]) -> Result<(), snow::Error> {
        let (Some(point), Some(out)) = (pubkey.get(..32), out.get_mut(..32)) else {
            return Err(snow::Error::Dh);
        };
        let mut p = [0u8; 32];
        p.copy_from_slice(point);
        out.copy_from_slice(&x25519_memo(self.private, p));
        Ok(())
    }
}

/// The public key of `private`: X25519 with the base point (remembered in
/// fuzzing builds, see `fuzz_memo.rs`).
pub(super) fn mul_base(private: [u8; 32]) -> [u8; 32] {
    let compute = || curve25519_dalek::MontgomeryPoint::mul_base_clamped(private).to_bytes();
    #[cfg(all(fuzzing, feature = "std"))]
    {
        super::fuzz_memo::x25519(&private, &super::fuzz_memo::BASE, compute)
    }
    #[cfg(not(all(fuzzing, feature = "std")))]
    {
        compute()
    }
}

/// [`x25519`]'s bytes (remembered in fuzzing builds, see `fuzz_memo.rs`).
fn x25519_memo(scalar: [u8; 32], u: [u8; 32]) -> [u8; 32] {
    let compute = || x25519(scalar, u).to_bytes();
    #[cfg(all(fuzzing, feature = "std"))]
    {
        super::fuzz_memo::x25519(&scalar, &u, compute)
    }
    #[cfg(not(all(fuzzing, feature = "std")))]
    {
        compute()
    }
}

/// X25519 of `scalar` and the peer's `u`, as RFC 7748 defines it. For a
/// point on the curve (every honest public key) it multiplies on the
/// equivalent Edwards curve, where curve25519-dalek has a vectorised
/// (AVX2) constant-time multiplication about twice as fast as the
/// Montgomery ladder; the u-coordinate of the result does not depend on
/// the sign chosen for the lift. A u on the twist cannot be lifted and
/// takes the ladder, so every input gets the RFC's answer; which path ran
/// reveals only whether the public input was on the curve.
fn x25519(scalar: [u8; 32], u: [u8; 32]) -> curve25519_dalek::MontgomeryPoint {
    let point = curve25519_dalek::MontgomeryPoint(u);
    match point.to_edwards(0) {
        Some(p) => p.mul_clamped(scalar).to_montgomery(),
        None => point.mul_clamped(scalar),
    }
}

/// ChaCha20-Poly1305 for the handshake messages' payloads through the
/// crate's own AEAD ([`PacketKey`], the build's default provider: `ring`'s
/// assembly where it is compiled in), with Noise's nonce.
struct NoiseChaChaPoly {
    key: [u8; KEY_LEN],
}

impl Drop for NoiseChaChaPoly {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

impl Cipher for NoiseChaChaPoly {
    fn name(&self) -> &'static str {
        "ChaChaPoly"
    }

    fn set(&mut self, key: &[u8; KEY_LEN]) {
        self.key = *key;
    }

    /// snow gives an `out` long enough for the plaintext and its tag
    /// (it checked the message's length); were it not, or were the key
    /// refused (no provider refuses 32 bytes), the message written is
    /// empty and the peer refuses it.
    fn encrypt(&self, nonce: u64, authtext: &[u8], plaintext: &[u8], out: &mut [u8]) -> usize {
        let n = plaintext.len();
        let Some(out) = out.get_mut(..n + TAG_LEN) else {
            return 0;
        };
        out[..n].copy_from_slice(plaintext);
        let key = PacketKey::new(Provider::default(), &self.key);
        match key.seal_noise(nonce, authtext, out) {
            Ok(()) => n + TAG_LEN,
            Err(_) => {
                out.fill(0);
                0
            }
        }
    }

    fn decrypt(
        &self,
        nonce: u64,
        authtext: &[u8],
        ciphertext: &[u8],
        out: &mut [u8],
    ) -> Result<usize, snow::Error> {
        let mut buf = [0u8; MAX_HANDSHAKE_MSG];
        let in_out = buf
            .get_mut(..ciphertext.len())
            .ok_or(snow::Error::Decrypt)?;
        in_out.copy_from_slice(ciphertext);
        let key = PacketKey::new(Provider::default(), &self.key);
        let result = match key.open_noise(nonce, authtext, in_out) {
            Ok(plain) => match out.get_mut(..plain.len()) {
                Some(o) => {
                    o.copy_from_slice(plain);
                    Ok(plain.len())
                }
                None => Err(snow::Error::Decrypt),
            },
            Err(_) => Err(snow::Error::Decrypt),
        };
        // Only the bytes the message used ever held plaintext.
        in_out.zeroize();
        result
    }
}

struct SnowRng(Rng);

impl Random for SnowRng {
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), snow::Error> {
        self.0.fill(dest);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// Public keys come from the fixed-base table where the build has it
    /// (`std`: curve25519-dalek's `precomputed-tables`) and from a plain
    /// multiplication without: either way the ladder's key, the RFC 7748
    /// X25519 of the base point.
    #[test]
    fn public_keys_are_the_ladders_x25519_of_the_base_point() {
        use curve25519_dalek::constants::X25519_BASEPOINT;
        let mut rng = Rng::from_seed([8; 32]);
        let mut keys: Vec<[u8; 32]> = std::vec![[0; 32], [0xff; 32]];
        for _ in 0..64 {
            let mut k = [0u8; 32];
            rng.fill(&mut k);
            keys.push(k);
        }
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(
                mul_base(*k),
                X25519_BASEPOINT.mul_clamped(*k).to_bytes(),
                "key {i}"
            );
        }
        // And through snow's Dh interface, as a handshake generates them.
        let mut dh = X25519 {
            known: ([1; 32], [2; 32]),
            hint: None,
            private: [0; 32],
            public: [0; 32],
        };
        dh.generate(&mut SnowRng(Rng::from_seed([3; 32])))
            .expect("generate");
        let private: [u8; 32] = dh.privkey().try_into().expect("32 bytes");
        assert_eq!(
            dh.pubkey(),
            &X25519_BASEPOINT.mul_clamped(private).to_bytes()[..]
        );
    }

    #[test]
    fn x25519_matches_the_ladder_on_curve_twist_and_small_order_points() {
        use curve25519_dalek::MontgomeryPoint;
        let mut rng = Rng::from_seed([7; 32]);
        let mut inputs: Vec<[u8; 32]> = Vec::new();
        for _ in 0..64 {
            let mut k = [0u8; 32];
            rng.fill(&mut k);
            inputs.push(MontgomeryPoint::mul_base_clamped(k).to_bytes()); // on the curve
            let mut raw = [0u8; 32];
            rng.fill(&mut raw);
            inputs.push(raw); // about half on the twist, some non-canonical
        }
        // Small-order and exceptional u: 0, 1, -1 (= p - 1), p, p + 1, 2^255 - 1.
        let mut minus_one = [0xff; 32];
        minus_one[0] = 0xec;
        minus_one[31] = 0x7f;
        let mut p = minus_one;
        p[0] = 0xed;
        let mut p1 = minus_one;
        p1[0] = 0xee;
        let mut one = [0u8; 32];
        one[0] = 1;
        inputs.extend([[0u8; 32], one, minus_one, p, p1, [0xff; 32]]);
        for (i, u) in inputs.iter().enumerate() {
            let mut k = [0u8; 32];
            rng.fill(&mut k);
            assert_eq!(
                x25519(k, *u),
                MontgomeryPoint(*u).mul_clamped(k),
                "input {i}"
            );
        }
    }
}
