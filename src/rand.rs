//! The core's only source of randomness: a ChaCha20 stream seeded once by the
//! caller.
//!
//! Owns: turning the endpoint's seed into session ids, ephemeral-key
//! entropy and cookie secrets.
//! Never: reads OS entropy. Given the same seed and the same inputs, the core
//! makes the same choices, which is what lets tests replay a run byte for byte.
//! The caller must give a fresh, secret seed per endpoint in production.

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

/// Deterministic cryptographic random generator.
pub struct Rng(ChaCha20Rng);

impl Rng {
    /// A generator whose whole output is fixed by `seed`.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Rng(ChaCha20Rng::from_seed(seed))
    }

    /// A uniformly random `u64`.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Fills `dest` with random bytes.
    pub fn fill(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest)
    }

    /// 32 fresh random bytes, e.g. the seed of a child generator.
    pub fn seed32(&mut self) -> [u8; 32] {
        let mut s = [0u8; 32];
        self.fill(&mut s);
        s
    }

    /// 32 bytes of stream `stream` of the generator keyed by `seed`:
    /// independent of stream 0 (what [`Rng::from_seed`] draws), of every
    /// other stream, and revealing nothing about `seed`.
    pub fn derive(seed: &[u8; 32], stream: u64) -> [u8; 32] {
        let mut r = ChaCha20Rng::from_seed(*seed);
        r.set_stream(stream);
        let mut out = [0u8; 32];
        r.fill_bytes(&mut out);
        out
    }
}

impl core::fmt::Debug for Rng {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Rng(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_different_seed_different_stream() {
        let mut a = Rng::from_seed([7; 32]);
        let mut b = Rng::from_seed([7; 32]);
        let mut c = Rng::from_seed([8; 32]);
        let (x, y, z) = (a.next_u64(), b.next_u64(), c.next_u64());
        assert_eq!(x, y);
        assert_ne!(x, z);
    }

    #[test]
    fn derived_streams_differ_from_each_other_and_from_stream_zero() {
        let seed = [9; 32];
        let zero = Rng::from_seed(seed).seed32();
        let (one, two) = (Rng::derive(&seed, 1), Rng::derive(&seed, 2));
        assert_ne!(one, zero);
        assert_ne!(one, two);
        assert_eq!(one, Rng::derive(&seed, 1));
    }
}
