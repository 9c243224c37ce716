//! Fuzzing builds only (`cfg(fuzzing)` with `std`): small per-thread
//! memos of X25519 and HKDF results, so a fuzz target that rebuilds the
//! same deterministic endpoints for every input pays each scalar
//! multiplication and each key derivation of their handshakes once per
//! process instead of once per input. A handshake message the fuzzer
//! mutated carries a key never seen before and is multiplied and derived
//! from for real, so the curve and hash code stay under fuzz.
//!
//! Owns: the memos and their bound ([`CAPACITY`] entries each, forgotten
//! all at once when full), and [`MemoHash`], the hash `snow` derives keys
//! with in fuzzing builds.
//! Never: exists outside `cfg(fuzzing)` (it keeps private scalars and
//! chaining keys in memory unwiped, which only a fuzzing build may do), or
//! changes a result: an entry holds exactly what the computation returned
//! for its inputs.

use core::hash::{BuildHasherDefault, Hasher};
use std::boxed::Box;
use std::cell::RefCell;
use std::collections::HashMap;
use std::vec::Vec;

use snow::types::Hash;

/// Entries each memo keeps per thread before it starts over: enough for
/// the handshakes of a few hundred inputs, so that those every input
/// repeats are computed again only once in that many.
pub const CAPACITY: usize = 4096;

/// The u-coordinate of the X25519 base point: `x25519(k, BASE)` is
/// `k`'s public key.
pub const BASE: [u8; 32] = {
    let mut b = [0u8; 32];
    b[0] = 9;
    b
};

/// A hasher for keys made of keys and hash outputs, which are uniformly
/// random already: FxHash's mix over 8-byte words (std's SipHash cost more
/// than a lookup saved).
#[derive(Default)]
pub struct Mix(u64);

impl Hasher for Mix {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for word in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..word.len()].copy_from_slice(word);
            self.0 =
                (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
}

/// A memo: results by their inputs, forgotten all at once when
/// [`CAPACITY`] is reached (the bound on what it holds).
type Memo<K, V> = RefCell<HashMap<K, V, BuildHasherDefault<Mix>>>;

/// `m[key]` if it is there; otherwise `compute()`, kept.
fn remember<K: Eq + core::hash::Hash, V: Clone>(
    m: &'static std::thread::LocalKey<Memo<K, V>>,
    key: K,
    compute: impl FnOnce() -> V,
) -> V {
    if let Some(v) = m.with(|m| m.borrow().get(&key).cloned()) {
        return v;
    }
    let v = compute();
    m.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= CAPACITY {
            m.clear();
        }
        m.insert(key, v.clone());
    });
    v
}

/// What one HKDF was asked: the hash's name, the number of outputs, and
/// the chaining key followed by the input key material.
type HkdfKey = (&'static str, usize, Vec<u8>);

std::thread_local! {
    /// X25519 results by (scalar, u).
    static X25519: Memo<([u8; 32], [u8; 32]), [u8; 32]> = RefCell::default();
    /// HKDF outputs (each one's `hash_len` bytes, one after the other).
    static HKDF: Memo<HkdfKey, Vec<u8>> = RefCell::default();
}

/// `compute()`, the X25519 of `scalar` and `u`, remembered per thread.
pub fn x25519(scalar: &[u8; 32], u: &[u8; 32], compute: impl FnOnce() -> [u8; 32]) -> [u8; 32] {
    remember(&X25519, (*scalar, *u), compute)
}

/// `hash` as [`MemoHash`].
pub fn hash(hash: Box<dyn Hash>) -> Box<dyn Hash> {
    Box::new(MemoHash(hash))
}

/// A `snow` hash whose [`Hash::hkdf`] remembers its outputs per thread;
/// everything else is the wrapped hash's own.
pub struct MemoHash(Box<dyn Hash>);

impl Hash for MemoHash {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn block_len(&self) -> usize {
        self.0.block_len()
    }

    fn hash_len(&self) -> usize {
        self.0.hash_len()
    }

    fn reset(&mut self) {
        self.0.reset();
    }

    fn input(&mut self, data: &[u8]) {
        self.0.input(data);
    }

    fn result(&mut self, out: &mut [u8]) {
        self.0.result(out);
    }

    fn hmac(&mut self, key: &[u8], data: &[u8], out: &mut [u8]) {
        self.0.hmac(key, data, out);
    }

    /// The wrapped hash's HKDF, or what it gave for the same arguments
    /// before: each output's first `hash_len` bytes, all it writes.
    fn hkdf(
        &mut self,
        chaining_key: &[u8],
        input_key_material: &[u8],
        outputs: usize,
        out1: &mut [u8],
        out2: &mut [u8],
        out3: &mut [u8],
    ) {
        let n = self.0.hash_len();
        let mut asked = Vec::with_capacity(chaining_key.len() + input_key_material.len());
        asked.extend_from_slice(chaining_key);
        asked.extend_from_slice(input_key_material);
        // The outputs the wrapped HKDF writes: one, two, or all three.
        let written = match outputs {
            1 => 1,
            2 => 2,
            _ => 3,
        };
        let mut computed = false;
        let inner = &mut self.0;
        let kept = remember(&HKDF, (inner.name(), outputs, asked), || {
            computed = true;
            let mut kept = Vec::with_capacity(written * n);
            inner.hkdf(
                chaining_key,
                input_key_material,
                outputs,
                &mut *out1,
                &mut *out2,
                &mut *out3,
            );
            for out in [&*out1, &*out2, &*out3].into_iter().take(written) {
                kept.extend_from_slice(&out[..n]);
            }
            kept
        });
        if !computed {
            for (out, kept) in [out1, out2, out3].into_iter().zip(kept.chunks(n)) {
                out[..n].copy_from_slice(kept);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_and_stays_bounded() {
        let mut calls = 0;
        let k = [1u8; 32];
        assert_eq!(
            x25519(&k, &BASE, || {
                calls += 1;
                [5; 32]
            }),
            [5; 32]
        );
        assert_eq!(x25519(&k, &BASE, || unreachable!()), [5; 32]);
        assert_eq!(calls, 1);
        let len = || X25519.with(|m| m.borrow().len());
        let mut i = 0u16;
        while len() < CAPACITY {
            let [a, b] = i.to_le_bytes();
            x25519(&[a; 32], &[b; 32], || [a; 32]);
            i += 1;
        }
        // Full: the next new result starts the memo over.
        x25519(&[0xff; 32], &[0xfe; 32], || [1; 32]);
        assert_eq!(len(), 1);
    }

    /// The three HKDF outputs of `h` for chaining key `ck`.
    fn derive(h: &mut dyn Hash, ck: u8, outputs: usize) -> [[u8; 64]; 3] {
        let mut out = [[0u8; 64]; 3];
        let [a, b, c] = &mut out;
        h.hkdf(&[ck; 32], &[2; 32], outputs, a, b, c);
        out
    }

    #[test]
    fn hkdf_memo_gives_what_the_hash_gives_and_stays_bounded() {
        use snow::params::HashChoice;
        use snow::resolvers::{CryptoResolver, DefaultResolver};
        let plain = || DefaultResolver.resolve_hash(&HashChoice::Blake2s).unwrap();
        let mut memo = hash(plain());
        let before = HKDF.with(|m| m.borrow().len());
        for outputs in 1..=4 {
            let want = derive(&mut *plain(), 1, outputs);
            // The first call computes and keeps, the second one remembers.
            assert_eq!(derive(&mut *memo, 1, outputs), want);
            assert_eq!(derive(&mut *memo, 1, outputs), want);
        }
        HKDF.with(|m| assert_eq!(m.borrow().len(), before + 4));
        assert_ne!(derive(&mut *memo, 1, 1), derive(&mut *memo, 3, 1));
        for i in 0..=CAPACITY {
            derive(&mut *memo, i as u8, 1 + i / 256);
        }
        HKDF.with(|m| assert!(m.borrow().len() <= CAPACITY));
    }
}
