//! Fuzzing builds only (`cfg(fuzzing)` with `std`): a small per-thread
//! memo of X25519 results, so a fuzz target that rebuilds the same
//! deterministic endpoints for every input pays each scalar multiplication
//! once per process instead of once per input. A handshake message the
//! fuzzer mutated carries a key never seen before and is multiplied for
//! real, so the curve code stays under fuzz.
//!
//! Owns: the memo and its bound ([`CAPACITY`] entries, oldest replaced
//! first).
//! Never: exists outside `cfg(fuzzing)` (it keeps private scalars in
//! memory unwiped, which only a fuzzing build may do), or changes a result:
//! an entry holds exactly what the multiplication returned for its inputs.

use std::cell::RefCell;
use std::vec::Vec;

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
}
