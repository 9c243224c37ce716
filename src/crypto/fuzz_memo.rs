//! Fuzzing builds only (`cfg(fuzzing)` with `std`): small per-thread
//! memos of X25519 and HKDF results, so a fuzz target that rebuilds the
//! same deterministic endpoints for every input pays each scalar
//! multiplication and each key derivation of their handshakes once per
//! process instead of once per input. A handshake message the fuzzer
//! mutated carries a key never seen before and is multiplied and derived
//! from for real, so the curve and hash code stay under fuzz.
//!
//! Owns: the memos and their bounds ([`CAPACITY`] X25519 entries, oldest
//! replaced first; [`HKDF_CAPACITY`] HKDF entries, forgotten all at once
//! when full), and [`MemoHash`], the hash `snow` derives keys with in
//! fuzzing builds.
//! Never: exists outside `cfg(fuzzing)` (it keeps private scalars and
//! chaining keys in memory unwiped, which only a fuzzing build may do), or
//! changes a result: an entry holds exactly what the computation returned
//! for its inputs.

use std::boxed::Box;
use std::cell::RefCell;
use std::collections::HashMap;
use std::vec::Vec;

use snow::types::Hash;

/// Entries kept per thread.
pub const CAPACITY: usize = 256;

/// The u-coordinate of the X25519 base point: `x25519(k, BASE)` is
/// `k`'s public key.
pub const BASE: [u8; 32] = {
    let mut b = [0u8; 32];
    b[0] = 9;
    b
};

struct Memo {
    /// (scalar, u, result); `next` is the slot replaced next once full.
    entries: Vec<([u8; 32], [u8; 32], [u8; 32])>,
    next: usize,
}

std::thread_local! {
    static MEMO: RefCell<Memo> = const {
        RefCell::new(Memo { entries: Vec::new(), next: 0 })
    };
}

/// `compute()`, the X25519 of `scalar` and `u`, remembered per thread.
pub fn x25519(scalar: &[u8; 32], u: &[u8; 32], compute: impl FnOnce() -> [u8; 32]) -> [u8; 32] {
    let hit = MEMO.with(|m| {
        m.borrow()
            .entries
            .iter()
            .find(|(k, p, _)| k == scalar && p == u)
            .map(|e| e.2)
    });
    if let Some(r) = hit {
        return r;
    }
    let r = compute();
    MEMO.with(|m| {
        let mut m = m.borrow_mut();
        if m.entries.len() < CAPACITY {
            m.entries.push((*scalar, *u, r));
        } else {
            let i = m.next;
            m.entries[i] = (*scalar, *u, r);
            m.next = (i + 1) % CAPACITY;
        }
    });
    r
}

/// HKDF results kept per thread before the memo starts over.
pub const HKDF_CAPACITY: usize = 1024;

/// What one HKDF was asked: the hash's name, the chaining key, the input
/// key material and the number of outputs.
type HkdfKey = (&'static str, Vec<u8>, Vec<u8>, usize);

std::thread_local! {
    static HKDF: RefCell<HashMap<HkdfKey, Vec<u8>>> = RefCell::new(HashMap::new());
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
        let key = (
            self.0.name(),
            chaining_key.to_vec(),
            input_key_material.to_vec(),
            outputs,
        );
        // The outputs the wrapped HKDF writes: one, two, or all three.
        let written = match outputs {
            1 => 1,
            2 => 2,
            _ => 3,
        };
        if let Some(kept) = HKDF.with(|m| m.borrow().get(&key).cloned()) {
            for (out, kept) in [out1, out2, out3].into_iter().zip(kept.chunks(n)) {
                out[..n].copy_from_slice(kept);
            }
            return;
        }
        self.0
            .hkdf(chaining_key, input_key_material, outputs, out1, out2, out3);
        let mut kept = Vec::with_capacity(written * n);
        for out in [&*out1, &*out2, &*out3].into_iter().take(written) {
            kept.extend_from_slice(&out[..n]);
        }
        HKDF.with(|m| {
            let mut m = m.borrow_mut();
            if m.len() >= HKDF_CAPACITY {
                m.clear();
            }
            m.insert(key, kept);
        });
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
        for i in 0..=CAPACITY as u16 {
            let i = i as u8;
            x25519(&[i; 32], &[2; 32], || [i; 32]);
        }
        MEMO.with(|m| assert_eq!(m.borrow().entries.len(), CAPACITY));
        assert_eq!(calls, 1);
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
        for outputs in 1..=4 {
            let want = derive(&mut *plain(), 1, outputs);
            // The first call computes, the second one remembers.
            assert_eq!(derive(&mut *memo, 1, outputs), want);
            assert_eq!(derive(&mut *memo, 1, outputs), want);
        }
        assert_ne!(derive(&mut *memo, 1, 1), derive(&mut *memo, 3, 1));
        for i in 0..=HKDF_CAPACITY {
            derive(&mut *memo, i as u8, 1 + i / 256);
        }
        HKDF.with(|m| assert!(m.borrow().len() <= HKDF_CAPACITY));
    }
}
