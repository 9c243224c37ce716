//! Stateless resets at the endpoint: answering a protected packet for a
//! session this node does not know, and recognising the peer's answer for
//! a session it does.
//!
//! Owns: the index of the peers' reset tokens (keyed hashes, one entry per
//! established session that received a token), the rate limit on resets
//! sent, and the choice of each reset's size and random bytes.
//! Never: answers a handshake packet, a datagram that could itself be a
//! reset (at most `MAX_RESET_LEN` bytes), or more than the configured
//! resets a second; sends a reset as long as its trigger; or decides a
//! token matched (the session compares it in constant time).

use alloc::collections::BTreeMap;
use core::net::SocketAddr;

use super::{Endpoint, Then, MAX_QUEUED_STATELESS};
use crate::crypto::TokenIndexKey;
use crate::ids::SessionId;
use crate::rand::Rng;
use crate::time::Instant;
use crate::trace::DropReason;
use crate::wire::{encode_reset, reset_len, reset_tail};

/// The streams of the endpoint's seed the reset state draws from (the
/// endpoint's own generator draws stream 0), so sending resets changes no
/// other random choice of the endpoint.
const INDEX_KEY_STREAM: u64 = 1;
const RESET_RNG_STREAM: u64 = 2;

/// What the endpoint keeps for stateless resets.
pub(super) struct Resets {
    /// Established sessions by the keyed hash of the peer's token. Bounded
    /// by the session table: one entry per session at most.
    index: BTreeMap<u64, SessionId>,
    index_key: TokenIndexKey,
    /// Random sizes and bytes of the resets sent.
    rng: Rng,
    budget: Budget,
}

impl Resets {
    pub fn new(seed: &[u8; 32]) -> Self {
        Resets {
            index: BTreeMap::new(),
            index_key: TokenIndexKey::new(&Rng::derive(seed, INDEX_KEY_STREAM)),
            rng: Rng::from_seed(Rng::derive(seed, RESET_RNG_STREAM)),
            budget: Budget::default(),
        }
    }

    /// Sessions indexed by a token.
    #[cfg(test)]
    pub fn indexed(&self) -> usize {
        self.index.len()
    }
}

/// A token bucket: `rate` resets a second, at most `rate` at once.
#[derive(Default)]
struct Budget {
    available: u32,
    /// When `available` was last brought up to date.
    at: Instant,
}

impl Budget {
    /// Takes one reset from the bucket if there is one.
    fn take(&mut self, now: Instant, rate: u32) -> bool {
        if rate == 0 {
            return false;
        }
        let per = (1_000_000 / u64::from(rate)).max(1);
        let elapsed = now.as_micros().saturating_sub(self.at.as_micros());
        let earned = elapsed / per;
        if earned > 0 {
            let sum = u64::from(self.available).saturating_add(earned);
            // min(rate): fits a u32.
            self.available = sum.min(u64::from(rate)) as u32;
            self.at = if self.available == rate {
                now
            } else {
                Instant::from_micros(self.at.as_micros() + earned * per)
            };
        }
        if self.available == 0 {
            return false;
        }
        self.available -= 1;
        true
    }
}

impl Endpoint {
    /// A short-header datagram whose id names no session here: the peer's
    /// reset for one of ours, or a packet for a session this node lost,
    /// answered (rate-limited) with a reset of our own.
    pub(super) fn on_unknown_short(
        &mut self,
        now: Instant,
        from: SocketAddr,
        dst: SessionId,
        data: &[u8],
    ) {
        let len = data.len();
        if let Some(tail) = reset_tail(data) {
            let key = self.resets.index_key.of(tail);
            if let Some(&id) = self.resets.index.get(&key) {
                let reset = self.call(id, Then::Book, |e| e.session.handle_reset_tail(now, tail));
                if reset == Some(true) {
                    return;
                }
            }
        }
        self.count_drop(now, DropReason::UnknownSession, len);
        self.send_reset(now, from, dst, len);
    }

    /// Queues a stateless reset for session `dst` (this node's id, from
    /// the trigger's header) to `to`, if the trigger (`trigger_len` bytes)
    /// could not itself be a reset and the budget allows.
    fn send_reset(&mut self, now: Instant, to: SocketAddr, dst: SessionId, trigger_len: usize) {
        let r = &mut self.resets;
        let Some(n) = reset_len(trigger_len, r.rng.next_u64()) else {
            return;
        };
        if self.stateless.len() >= MAX_QUEUED_STATELESS
            || !r.budget.take(now, self.cfg.stateless_resets_per_sec)
        {
            return;
        }
        let mut buf = alloc::vec![0u8; n];
        r.rng.fill(&mut buf);
        let token = self.cfg.reset_key.token(dst);
        if encode_reset(&mut buf, &token.0).is_ok() {
            self.stateless.push_back((to, buf));
            self.stats.stateless_resets_sent += 1;
        }
    }

    /// Files session `id` under its peer's reset token, if it has one;
    /// called once, when the session is first seen established.
    pub(super) fn index_reset_token(&mut self, id: SessionId) {
        let Some(token) = self
            .sessions
            .get(id)
            .and_then(|e| e.session.peer_reset_token())
        else {
            return;
        };
        let key = self.resets.index_key.of(&token.0);
        // Two tokens with one 64-bit key: the first keeps it (the second
        // session still recognises a reset routed by its id).
        self.resets.index.entry(key).or_insert(id);
    }

    /// Removes session `id`'s token from the index (it is leaving the
    /// table); `token` is the one it was filed under.
    pub(super) fn unindex_reset_token(&mut self, id: SessionId, token: &[u8; 16]) {
        let key = self.resets.index_key.of(token);
        if self.resets.index.get(&key) == Some(&id) {
            self.resets.index.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of `docs/PROTOCOL.md` §13: the reset for session
    /// `0102030405060708` under reset key `[7; 32]`, random bytes `f0..fe`.
    #[test]
    fn golden_reset_of_the_protocol_document() {
        let key = crate::crypto::ResetKey::new(&[7; 32]);
        let token = key.token(SessionId(0x0102_0304_0506_0708));
        let mut out: [u8; 31] = core::array::from_fn(|i| 0xf0 ^ i as u8);
        encode_reset(&mut out, &token.0).unwrap();
        assert_eq!(
            crate::crypto::tests::hex(&out),
            "60f1f2f3f4f5f6f7f8f9fafbfcfdfec0678ca1f663b000a66ed8b21f0b8158"
        );
        assert!(token.ends(&out));
    }

    #[test]
    fn budget_allows_rate_a_second_and_bursts_of_rate() {
        let mut b = Budget::default();
        let t = Instant::from_millis(10_000);
        let sent = (0..50).filter(|_| b.take(t, 10)).count();
        assert_eq!(sent, 10, "a full bucket is one second's worth");
        assert!(!b.take(t + core::time::Duration::from_millis(99), 10));
        assert!(b.take(t + core::time::Duration::from_millis(100), 10));
        assert!(!b.take(t + core::time::Duration::from_millis(150), 10));
        // Over ten seconds at most rate x 10 (+ the first burst).
        let mut n = 0;
        for ms in 0..10_000 {
            n += usize::from(b.take(t + core::time::Duration::from_millis(200 + ms), 10));
        }
        assert!((99..=101).contains(&n), "{n}");
        assert!(!Budget::default().take(t, 0), "rate 0 sends nothing");
    }
}
