//! Replay protection for received packet numbers: a fixed 2048-packet
//! sliding window, as in WireGuard and IPsec.
//!
//! Owns: remembering which of the last [`REPLAY_WINDOW`] packet numbers below
//! the highest one seen were already accepted.
//! Never: grows (the bitmap is 256 bytes at most, whatever the peer sends,
//! and absent while every number in the window arrived), or records a
//! packet that has not authenticated: a forged packet must not move the
//! window.

use alloc::boxed::Box;

/// Packet numbers remembered below the highest one accepted; anything older
/// is refused as [`ReplayError::TooOld`].
pub const REPLAY_WINDOW: u64 = 2048;

const WORDS: usize = (REPLAY_WINDOW / 64) as usize;

/// Why a packet number is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ReplayError {
    /// This packet number was already accepted.
    #[error("duplicate packet number")]
    Duplicate,
    /// This packet number is too far below the highest accepted one to tell.
    #[error("packet number below the replay window")]
    TooOld,
}

/// Which recent packet numbers were accepted.
///
/// Use: [`check`](Self::check) before decrypting (cheap rejection), then
/// [`record`](Self::record) once the packet authenticated.
#[derive(Clone, PartialEq, Eq)]
pub struct ReplayWindow {
    /// Highest packet number recorded; meaningless while `empty`.
    top: u64,
    empty: bool,
    /// Bit `pn % REPLAY_WINDOW` is set iff `pn` is in the window and was
    /// recorded. `None` stands for a full window: every packet number from
    /// `top - (REPLAY_WINDOW - 1)` (or 0) to `top` was recorded. Packets in
    /// order keep it `None`; a gap or a reordering allocates it, and
    /// [`compact`](Self::compact) frees it once the window is full again.
    bits: Option<Box<[u64; WORDS]>>,
}

impl Default for ReplayWindow {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplayWindow {
    /// A window that has accepted nothing yet.
    pub const fn new() -> Self {
        ReplayWindow {
            top: 0,
            empty: true,
            bits: None,
        }
    }

    /// The highest packet number recorded, if any.
    pub fn largest(&self) -> Option<u64> {
        (!self.empty).then_some(self.top)
    }

    /// Whether packet `pn` may be accepted: not seen, and not so old that
    /// the window cannot tell.
    pub fn check(&self, pn: u64) -> Result<(), ReplayError> {
        if self.empty || pn > self.top {
            return Ok(());
        }
        if self.top - pn >= REPLAY_WINDOW {
            return Err(ReplayError::TooOld);
        }
        match &self.bits {
            Some(bits) if !get(bits, pn) => Ok(()),
            _ => Err(ReplayError::Duplicate),
        }
    }

    /// Remembers that packet `pn` was accepted, sliding the window forward
    /// if `pn` is the new highest. Call only after the packet authenticated.
    /// A `pn` below the window is ignored.
    pub fn record(&mut self, pn: u64) {
        if self.empty {
            self.top = pn;
            self.empty = false;
            // Numbers below a first `pn` above 0 are still to come.
            self.bits = (pn != 0).then(|| Box::new([0; WORDS]));
        } else if pn > self.top {
            if self.bits.is_none() && pn - self.top == 1 {
                self.top = pn;
                return;
            }
            let bits = self.bits.get_or_insert_with(|| Box::new([!0; WORDS]));
            clear_after(bits, self.top, pn - self.top);
            self.top = pn;
        } else if self.top - pn >= REPLAY_WINDOW {
            return;
        }
        if let Some(bits) = &mut self.bits {
            let (word, mask) = slot(pn);
            bits[word] |= mask;
        }
    }

    /// Frees the bitmap when the window is full (every packet number in it
    /// recorded), which is what a quiet session's window usually is. It
    /// comes back at the next gap or reordering.
    pub fn compact(&mut self) {
        let Some(bits) = &self.bits else { return };
        let full = if self.top >= REPLAY_WINDOW - 1 {
            bits.iter().all(|&w| w == !0)
        } else {
            (0..=self.top).all(|pn| get(bits, pn))
        };
        if full {
            self.bits = None;
        }
    }

    /// Whether the window holds a bitmap ([`compact`](Self::compact) may
    /// free it).
    pub fn has_bitmap(&self) -> bool {
        self.bits.is_some()
    }
}

/// Forgets the `distance` packet numbers above `top`, which are about to
/// enter the window, by clearing their slots (whole words where possible).
fn clear_after(bits: &mut [u64; WORDS], top: u64, distance: u64) {
    if distance >= REPLAY_WINDOW {
        *bits = [0; WORDS];
        return;
    }
    let mut pn = top.wrapping_add(1);
    let mut left = distance;
    while left > 0 {
        let (word, mask) = slot(pn);
        if pn % 64 == 0 && left >= 64 {
            bits[word] = 0;
            pn = pn.wrapping_add(64);
            left -= 64;
        } else {
            bits[word] &= !mask;
            pn = pn.wrapping_add(1);
            left -= 1;
        }
    }
}

fn get(bits: &[u64; WORDS], pn: u64) -> bool {
    let (word, mask) = slot(pn);
    bits[word] & mask != 0
}

/// The bitmap word and bit of `pn`. The word index is below `WORDS` by
/// construction.
fn slot(pn: u64) -> (usize, u64) {
    let bit = pn % REPLAY_WINDOW;
    ((bit / 64) as usize, 1u64 << (bit % 64))
}

impl core::fmt::Debug for ReplayWindow {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReplayWindow")
            .field("largest", &self.largest())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;
    use std::vec::Vec;

    fn accept(w: &mut ReplayWindow, pn: u64) {
        assert_eq!(w.check(pn), Ok(()), "pn {pn} should be fresh");
        w.record(pn);
        assert_eq!(w.check(pn), Err(ReplayError::Duplicate), "pn {pn} now seen");
    }

    #[test]
    fn fresh_duplicate_and_out_of_order() {
        let mut w = ReplayWindow::new();
        assert_eq!(w.largest(), None);
        assert_eq!(w.check(0), Ok(()));
        accept(&mut w, 0);
        accept(&mut w, 2);
        accept(&mut w, 1);
        accept(&mut w, 10);
        assert_eq!(w.check(5), Ok(()));
        assert_eq!(w.check(2), Err(ReplayError::Duplicate));
        assert_eq!(w.largest(), Some(10));
    }

    #[test]
    fn window_edge_is_exact() {
        let mut w = ReplayWindow::new();
        accept(&mut w, 5000);
        assert_eq!(w.check(5000 - (REPLAY_WINDOW - 1)), Ok(()));
        assert_eq!(w.check(5000 - REPLAY_WINDOW), Err(ReplayError::TooOld));
        accept(&mut w, 5000 - (REPLAY_WINDOW - 1));
        // Recording below the window is ignored, never a panic.
        w.record(1);
        assert_eq!(w.check(1), Err(ReplayError::TooOld));
        assert_eq!(w.largest(), Some(5000));
    }

    #[test]
    fn large_jumps_forget_the_old_window() {
        let mut w = ReplayWindow::new();
        for pn in 0..100 {
            accept(&mut w, pn);
        }
        // A jump of exactly the window size: slot of 99 is reused by 99 + 2048.
        accept(&mut w, 99 + REPLAY_WINDOW);
        assert_eq!(w.check(99), Err(ReplayError::TooOld));
        for pn in 100..99 + REPLAY_WINDOW {
            assert_eq!(w.check(pn), Ok(()), "pn {pn} never seen");
        }
        accept(&mut w, 1_000_000_000);
        assert_eq!(w.check(99 + REPLAY_WINDOW), Err(ReplayError::TooOld));
        accept(&mut w, 1_000_000_000 - 1);
        // A jump of less than the window keeps what is still inside it.
        accept(&mut w, 1_000_000_000 + 1500);
        assert_eq!(w.check(1_000_000_000 - 1), Err(ReplayError::Duplicate));
        assert_eq!(w.check(1_000_000_000 + 1), Ok(()));
    }

    #[test]
    fn in_order_needs_no_bitmap_and_compact_frees_a_full_one() {
        let mut w = ReplayWindow::new();
        for pn in 0..5000 {
            accept(&mut w, pn);
        }
        assert!(!w.has_bitmap());
        // A gap needs the bitmap; it stays while the hole is in the window.
        accept(&mut w, 5001);
        assert!(w.has_bitmap());
        w.compact();
        assert!(w.has_bitmap());
        assert_eq!(w.check(5000), Ok(()));
        accept(&mut w, 5000);
        w.compact();
        assert!(!w.has_bitmap());
        assert_eq!(w.check(5000), Err(ReplayError::Duplicate));
        assert_eq!(
            w.check(5001 - (REPLAY_WINDOW - 1)),
            Err(ReplayError::Duplicate)
        );
        assert_eq!(w.check(5001 - REPLAY_WINDOW), Err(ReplayError::TooOld));
        // A first number above 0 leaves the ones below it open.
        let mut w = ReplayWindow::new();
        accept(&mut w, 3);
        w.compact();
        assert_eq!(w.check(1), Ok(()));
        accept(&mut w, 0);
        accept(&mut w, 1);
        accept(&mut w, 2);
        w.compact();
        assert!(!w.has_bitmap());
        assert_eq!(w.check(2), Err(ReplayError::Duplicate));
    }

    #[test]
    fn u64_extremes() {
        let mut w = ReplayWindow::new();
        accept(&mut w, u64::MAX);
        assert_eq!(w.check(u64::MAX - 1), Ok(()));
        assert_eq!(w.check(u64::MAX - REPLAY_WINDOW), Err(ReplayError::TooOld));
        assert_eq!(w.check(0), Err(ReplayError::TooOld));
        accept(&mut w, u64::MAX - 1);

        let mut w = ReplayWindow::new();
        accept(&mut w, 0);
        accept(&mut w, u64::MAX - 3);
        accept(&mut w, u64::MAX);
        assert_eq!(w.check(u64::MAX - 2), Ok(()));
        assert_eq!(w.check(u64::MAX - 3), Err(ReplayError::Duplicate));

        let mut w = ReplayWindow::new();
        accept(&mut w, u64::MAX - 100);
        accept(&mut w, u64::MAX);
        assert_eq!(w.check(u64::MAX - 100), Err(ReplayError::Duplicate));
        assert_eq!(w.check(u64::MAX - 99), Ok(()));
    }

    /// The obvious model: every recorded number, and the same rules.
    fn model_check(seen: &BTreeSet<u64>, pn: u64) -> Result<(), ReplayError> {
        match seen.last() {
            None => Ok(()),
            Some(&top) if pn > top => Ok(()),
            Some(&top) if top - pn >= REPLAY_WINDOW => Err(ReplayError::TooOld),
            Some(_) if seen.contains(&pn) => Err(ReplayError::Duplicate),
            Some(_) => Ok(()),
        }
    }

    fn pn_strategy() -> impl Strategy<Value = Vec<(u64, bool)>> {
        let base = prop_oneof![Just(0u64), Just(u64::MAX - 5000), any::<u64>()];
        base.prop_flat_map(|base| {
            let step = prop_oneof![
                8 => 0u64..3000,
                1 => 0u64..70_000,
                1 => any::<u64>(),
            ];
            prop::collection::vec((step, any::<bool>()), 1..300).prop_map(move |v| {
                v.into_iter()
                    .map(|(off, rec)| (base.saturating_add(off), rec))
                    .collect()
            })
        })
    }

    proptest! {
        #[test]
        fn agrees_with_a_set_model(ops in pn_strategy()) {
            let mut w = ReplayWindow::new();
            let mut seen = BTreeSet::new();
            for (pn, record) in ops {
                if pn % 7 == 0 {
                    w.compact();
                }
                let expected = model_check(&seen, pn);
                prop_assert_eq!(w.check(pn), expected, "pn {}", pn);
                if record && expected.is_ok() {
                    w.record(pn);
                    seen.insert(pn);
                }
                prop_assert_eq!(w.largest(), seen.last().copied());
            }
        }
    }
}
