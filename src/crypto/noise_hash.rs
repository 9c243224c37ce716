//! BLAKE2s as the handshakes' hash: snow's `Hash`, with HMAC and HKDF
//! computed on blake2's block core.
//!
//! Owns: [`NoiseBlake2s`]. A Noise HKDF keys two or three HMACs with one
//! temporary key; here that key's inner and outer padded blocks are
//! compressed once and each output starts from those two states, so an
//! HKDF of two outputs compresses 10 blocks instead of 12, one of three
//! outputs 12 instead of 16. The HKDF of a full handshake's first token
//! (the network key mixed into the pattern's initial chaining key, the
//! same in every handshake of a network) can come precomputed
//! ([`PskMix`]). The split that ends a handshake is computed once: snow
//! splits on the last message and again when asked for the raw keys.
//! Never: changes a byte of any result (HMAC and HKDF exactly as the
//! Noise specification defines them over BLAKE2s-256: tested against
//! snow's own), or leaves a key, a padded key block or a remembered output
//! in memory it drops. (BLAKE2s states are not wiped, as in snow's own
//! hash: blake2 offers no way to.)

use blake2::digest::core_api::{Block, Buffer, UpdateCore, VariableOutputCore};
use blake2::digest::Digest;
use blake2::{Blake2s256, Blake2sVarCore};
use snow::types::Hash;
use zeroize::Zeroize;

const BLOCK: usize = 64;
const LEN: usize = 32;

/// The first HKDF of every full handshake under one network key:
/// `HKDF(ck, psk)` with three outputs, where `ck` is the pattern's initial
/// chaining key and `psk` the network key. It depends on nothing else, so
/// a node computes it once ([`PskMix::new`]) and every handshake copies it.
#[derive(Clone)]
pub(crate) struct PskMix {
    ck: [u8; LEN],
    psk: [u8; LEN],
    out: [[u8; LEN]; 3],
}

impl Drop for PskMix {
    fn drop(&mut self) {
        self.psk.zeroize();
        self.out.zeroize();
    }
}

impl PskMix {
    /// The mix of `psk` into the initial chaining key of the Noise
    /// protocol `name` (the chaining key is the name, zero-padded, or its
    /// hash if longer than a hash).
    pub(crate) fn new(name: &str, psk: &[u8; LEN]) -> PskMix {
        let mut ck = [0u8; LEN];
        if name.len() <= LEN {
            ck[..name.len()].copy_from_slice(name.as_bytes());
        } else {
            ck = Blake2s256::digest(name.as_bytes()).into();
        }
        let mut out = [[0u8; LEN]; 3];
        let [o1, o2, o3] = &mut out;
        hkdf(&ck, psk, 3, o1, o2, o3);
        PskMix { ck, psk: *psk, out }
    }

    /// The key mixed in.
    pub(crate) fn psk(&self) -> &[u8; LEN] {
        &self.psk
    }

    /// The outputs, if this is the HKDF asked for. The comparison is over
    /// public chaining keys first, then constant-time over the key.
    fn outputs(&self, chaining_key: &[u8], ikm: &[u8], outputs: usize) -> Option<&[[u8; LEN]; 3]> {
        use subtle::ConstantTimeEq;
        (outputs == 3 && chaining_key == self.ck && bool::from(ikm.ct_eq(&self.psk)))
            .then_some(&self.out)
    }
}

/// snow's BLAKE2s: the same digests, HMAC and HKDF, computed with fewer
/// compressions (module docs).
#[derive(Default)]
pub(crate) struct NoiseBlake2s {
    hasher: Blake2s256,
    mix: Option<PskMix>,
    /// The last split: its chaining key and its two outputs.
    split: Option<Split>,
}

/// A split's chaining key and outputs (HKDF of no input, two outputs).
struct Split {
    ck: [u8; LEN],
    out: [[u8; LEN]; 2],
}

impl Drop for Split {
    fn drop(&mut self) {
        self.ck.zeroize();
        self.out.zeroize();
    }
}

impl NoiseBlake2s {
    /// A hash that answers `mix`'s HKDF from it.
    pub(crate) fn with_mix(mix: Option<PskMix>) -> Self {
        NoiseBlake2s {
            hasher: Blake2s256::default(),
            mix,
            split: None,
        }
    }
}

impl Hash for NoiseBlake2s {
    fn name(&self) -> &'static str {
        "BLAKE2s"
    }

    fn block_len(&self) -> usize {
        BLOCK
    }

    fn hash_len(&self) -> usize {
        LEN
    }

    fn reset(&mut self) {
        self.hasher = Blake2s256::default();
    }

    fn input(&mut self, data: &[u8]) {
        self.hasher.update(data);
    }

    fn result(&mut self, out: &mut [u8]) {
        let hash = self.hasher.finalize_reset();
        out[..LEN].copy_from_slice(&hash);
    }

    fn hmac(&mut self, key: &[u8], data: &[u8], out: &mut [u8]) {
        let mut o = [0u8; LEN];
        Keyed::new(key).mac(data, &mut o);
        out[..LEN].copy_from_slice(&o);
        o.zeroize();
    }

    fn hkdf(
        &mut self,
        chaining_key: &[u8],
        input_key_material: &[u8],
        outputs: usize,
        out1: &mut [u8],
        out2: &mut [u8],
        out3: &mut [u8],
    ) {
        if let Some(out) = self
            .mix
            .as_ref()
            .and_then(|m| m.outputs(chaining_key, input_key_material, outputs))
        {
            out1[..LEN].copy_from_slice(&out[0]);
            out2[..LEN].copy_from_slice(&out[1]);
            out3[..LEN].copy_from_slice(&out[2]);
            return;
        }
        if !(input_key_material.is_empty() && outputs == 2 && chaining_key.len() == LEN) {
            hkdf(chaining_key, input_key_material, outputs, out1, out2, out3);
            return;
        }
        // A split. The chaining key is secret: compared in constant time.
        use subtle::ConstantTimeEq;
        let known = self
            .split
            .as_ref()
            .filter(|s| bool::from(s.ck.ct_eq(chaining_key)));
        if let Some(s) = known {
            out1[..LEN].copy_from_slice(&s.out[0]);
            out2[..LEN].copy_from_slice(&s.out[1]);
            return;
        }
        let mut s = Split {
            ck: [0; LEN],
            out: [[0; LEN]; 2],
        };
        s.ck.copy_from_slice(chaining_key);
        let [o1, o2] = &mut s.out;
        hkdf(chaining_key, &[], 2, o1, o2, &mut []);
        out1[..LEN].copy_from_slice(&s.out[0]);
        out2[..LEN].copy_from_slice(&s.out[1]);
        self.split = Some(s);
    }
}

/// Noise's HKDF: `temp = HMAC(ck, ikm)`, `out1 = HMAC(temp, 0x01)`,
/// `out_i = HMAC(temp, out_{i-1} || i)`; `outputs` of them (1 to 3), each
/// into the first 32 bytes of its buffer.
fn hkdf(
    chaining_key: &[u8],
    ikm: &[u8],
    outputs: usize,
    out1: &mut [u8],
    out2: &mut [u8],
    out3: &mut [u8],
) {
    let mut temp = [0u8; LEN];
    Keyed::new(chaining_key).mac(ikm, &mut temp);
    let keyed = Keyed::new(&temp);
    temp.zeroize();
    let mut prev = [0u8; LEN + 1];
    prev[0] = 1;
    let mut input_len = 1;
    for (i, out) in [out1, out2, out3].into_iter().enumerate().take(outputs) {
        let mut o = [0u8; LEN];
        keyed.mac(&prev[..input_len], &mut o);
        out[..LEN].copy_from_slice(&o);
        prev[..LEN].copy_from_slice(&o);
        prev[LEN] = i as u8 + 2;
        input_len = LEN + 1;
        o.zeroize();
    }
    prev.zeroize();
}

/// HMAC-BLAKE2s under one key: the states after its inner and outer
/// padded blocks, each compressed once.
struct Keyed {
    inner: Blake2sVarCore,
    outer: Blake2sVarCore,
    /// The inner padded block, for a message of no bytes: its hash ends
    /// with that block, which must then be compressed as the last one.
    ipad: Block<Blake2sVarCore>,
}

impl Drop for Keyed {
    fn drop(&mut self) {
        self.ipad.as_mut_slice().zeroize();
    }
}

impl Keyed {
    /// `key` is at most a block long (Noise keys are 32 bytes); a longer
    /// one is cut to a block (never happens: snow asserts the same).
    fn new(key: &[u8]) -> Self {
        let mut ipad = Block::<Blake2sVarCore>::from([0x36; BLOCK]);
        let mut opad = Block::<Blake2sVarCore>::from([0x5c; BLOCK]);
        for ((a, b), k) in ipad.iter_mut().zip(opad.iter_mut()).zip(key) {
            *a ^= k;
            *b ^= k;
        }
        let mut inner = new_core();
        inner.update_blocks(core::slice::from_ref(&ipad));
        let mut outer = new_core();
        outer.update_blocks(core::slice::from_ref(&opad));
        opad.as_mut_slice().zeroize();
        Keyed { inner, outer, ipad }
    }

    /// HMAC(key, data) into `out`.
    fn mac(&self, data: &[u8], out: &mut [u8; LEN]) {
        let mut inner_hash = if data.is_empty() {
            finish(new_core(), &self.ipad)
        } else {
            finish(self.inner.clone(), data)
        };
        *out = finish(self.outer.clone(), &inner_hash);
        inner_hash.zeroize();
    }
}

/// A BLAKE2s-256 state before any input.
fn new_core() -> Blake2sVarCore {
    // 32 is BLAKE2s's largest output: `new` cannot fail with it.
    <Blake2sVarCore as VariableOutputCore>::new(LEN).unwrap_or_else(|_| unreachable!())
}

/// Feeds `data` to `core` and returns the digest: the last block (full or
/// not) is compressed as the final one.
fn finish(mut core: Blake2sVarCore, data: &[u8]) -> [u8; LEN] {
    let mut buffer = Buffer::<Blake2sVarCore>::default();
    buffer.digest_blocks(data, |blocks| core.update_blocks(blocks));
    let mut out = Default::default();
    core.finalize_variable_core(&mut buffer, &mut out);
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::Rng;
    use snow::params::HashChoice;
    use snow::resolvers::{CryptoResolver, DefaultResolver};

    fn snow_hash() -> alloc::boxed::Box<dyn Hash> {
        DefaultResolver
            .resolve_hash(&HashChoice::Blake2s)
            .expect("snow has BLAKE2s")
    }

    #[test]
    fn hmac_and_hkdf_match_snow_for_every_length_and_output_count() {
        let mut rng = Rng::from_seed([9; 32]);
        let mut ours = NoiseBlake2s::default();
        let mut theirs = snow_hash();
        for key_len in [0, 1, 32, 63, 64] {
            for data_len in [0, 1, 32, 33, 63, 64, 65, 128, 200] {
                let mut key = [0u8; 64];
                let mut data = [0u8; 200];
                rng.fill(&mut key);
                rng.fill(&mut data);
                let (key, data) = (&key[..key_len], &data[..data_len]);
                let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
                ours.hmac(key, data, &mut a);
                theirs.hmac(key, data, &mut b);
                assert_eq!(a, b, "hmac key {key_len} data {data_len}");
                for outputs in 1..=3 {
                    let mut a = [[0u8; 64]; 3];
                    let mut b = [[0u8; 64]; 3];
                    let [a1, a2, a3] = &mut a;
                    let [b1, b2, b3] = &mut b;
                    ours.hkdf(key, data, outputs, a1, a2, a3);
                    theirs.hkdf(key, data, outputs, b1, b2, b3);
                    assert_eq!(a, b, "hkdf key {key_len} data {data_len} outputs {outputs}");
                }
            }
        }
        // Plain hashing, including across a reset.
        for len in [0, 1, 64, 65, 200] {
            let data = [len as u8; 200];
            let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
            ours.input(&data[..len]);
            ours.result(&mut a);
            theirs.input(&data[..len]);
            theirs.result(&mut b);
            assert_eq!(a, b, "hash of {len} bytes");
        }
    }

    #[test]
    fn a_split_asked_for_twice_is_computed_once_and_the_same() {
        let mut ours = NoiseBlake2s::default();
        let mut theirs = snow_hash();
        for ck in [[1u8; 32], [2u8; 32], [1u8; 32]] {
            let mut expected = [[0u8; 64]; 2];
            let [e1, e2] = &mut expected;
            theirs.hkdf(&ck, &[], 2, e1, e2, &mut []);
            for _ in 0..2 {
                let mut got = [[0u8; 64]; 2];
                let [g1, g2] = &mut got;
                ours.hkdf(&ck, &[], 2, g1, g2, &mut []);
                assert_eq!(got, expected);
            }
            assert!(ours.split.as_ref().is_some_and(|s| s.ck == ck));
        }
    }

    #[test]
    fn the_remembered_psk_mix_is_the_hkdf_it_stands_for_and_only_that() {
        let psk = [7u8; 32];
        let name = "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2s";
        let mix = PskMix::new(name, &psk);
        let mut theirs = snow_hash();
        // The chaining key: the name hashed (it is longer than 32 bytes).
        let mut ck = [0u8; 32];
        theirs.input(name.as_bytes());
        theirs.result(&mut ck);
        let mut expected = [[0u8; 64]; 3];
        let [e1, e2, e3] = &mut expected;
        theirs.hkdf(&ck, &psk, 3, e1, e2, e3);
        let mut ours = NoiseBlake2s::with_mix(Some(mix.clone()));
        let mut got = [[0u8; 64]; 3];
        let [g1, g2, g3] = &mut got;
        ours.hkdf(&ck, &psk, 3, g1, g2, g3);
        assert_eq!(got, expected);
        assert!(mix.outputs(&ck, &psk, 3).is_some());
        // Another key, another chaining key or fewer outputs: computed.
        assert!(mix.outputs(&ck, &[8u8; 32], 3).is_none());
        assert!(mix.outputs(&[0u8; 32], &psk, 3).is_none());
        assert!(mix.outputs(&ck, &psk, 2).is_none());
        // A short name is its own chaining key.
        let short = PskMix::new("Noise_NN_25519_AESGCM_BLAKE2s", &psk);
        assert_eq!(&short.ck[..29], b"Noise_NN_25519_AESGCM_BLAKE2s");
        assert_eq!(short.ck[29..], [0, 0, 0]);
    }
}
