//! Stateless Retry cookies: proof that a handshake initiator can receive at
//! the address it claims, checked without keeping any state per initiator.
//!
//! A token is the issue time (whole seconds, `u32` big-endian) followed by a
//! 16-byte keyed BLAKE2s MAC over that time, the peer's address (family, IP,
//! port) and the initiator's session id. Only the endpoint that holds the
//! [`CookieKey`] can mint one, and it binds to exactly one address and one
//! session id.
//!
//! Owns: minting and checking tokens.
//! Never: keeps per-peer state, compares MACs in variable time, or accepts a
//! token of the wrong length, for another peer, expired, or from the future.

use core::net::SocketAddr;
use core::time::Duration;

use blake2::digest::consts::U16;
use blake2::digest::{KeyInit, Mac};

use crate::ids::SessionId;
use crate::time::Instant;

/// Bytes in a cookie token: 4 of issue time, 16 of MAC.
pub const COOKIE_LEN: usize = 20;

const MICROS_PER_SEC: u64 = 1_000_000;
/// How far in the future an issue time may lie (clock granularity slack).
const MAX_FUTURE_MICROS: u64 = MICROS_PER_SEC;

type CookieMac = blake2::Blake2sMac<U16>;

/// The endpoint's secret for minting and checking cookies. Rotate it by
/// building a new one; tokens from the old key then fail. `Debug` hides it.
#[derive(Clone)]
pub struct CookieKey {
    /// The MAC already keyed with the secret; cloned per token.
    keyed: CookieMac,
}

impl CookieKey {
    /// A cookie key from 32 secret bytes (e.g. drawn from the endpoint's seeded generator).
    pub fn new(secret: &[u8; 32]) -> Self {
        CookieKey {
            keyed: <CookieMac as KeyInit>::new(&(*secret).into()),
        }
    }

    /// A token for `peer`, asking it to retry its handshake for session
    /// `initiator_sid`.
    ///
    /// The issue time is `now` in whole seconds, saturating at `u32::MAX`
    /// (136 years after the caller's epoch, past which tokens stop working).
    pub fn issue(
        &self,
        now: Instant,
        peer: &SocketAddr,
        initiator_sid: SessionId,
    ) -> [u8; COOKIE_LEN] {
        let issued = u32::try_from(now.as_micros() / MICROS_PER_SEC).unwrap_or(u32::MAX);
        let tag = self
            .mac(issued, peer, initiator_sid)
            .finalize()
            .into_bytes();
        let mut token = [0u8; COOKIE_LEN];
        let (time, mac) = token.split_at_mut(4);
        time.copy_from_slice(&issued.to_be_bytes());
        mac.copy_from_slice(&tag);
        token
    }

    /// Whether `token` was issued by this key for this `peer` and `sid`, no
    /// more than `lifetime` before `now`, and not more than one second after
    /// it. The issue time is rounded down to a second, so a token may expire
    /// up to a second early.
    pub fn verify(
        &self,
        now: Instant,
        peer: &SocketAddr,
        sid: SessionId,
        token: &[u8],
        lifetime: Duration,
    ) -> bool {
        let Ok(token) = <&[u8; COOKIE_LEN]>::try_from(token) else {
            return false;
        };
        let (time, tag) = token.split_at(4);
        let mut issued = [0u8; 4];
        issued.copy_from_slice(time);
        let issued = u32::from_be_bytes(issued);
        // Constant-time comparison (`subtle`, inside `digest`).
        let authentic = self.mac(issued, peer, sid).verify_slice(tag).is_ok();

        let issued_us = u64::from(issued) * MICROS_PER_SEC;
        let now_us = now.as_micros();
        let not_future = issued_us <= now_us.saturating_add(MAX_FUTURE_MICROS);
        let age = Duration::from_micros(now_us.saturating_sub(issued_us));
        authentic && not_future && age <= lifetime
    }

    fn mac(&self, issued: u32, peer: &SocketAddr, sid: SessionId) -> CookieMac {
        let mut mac = self.keyed.clone();
        mac.update(b"stt cookie v1");
        mac.update(&issued.to_be_bytes());
        match peer {
            SocketAddr::V4(a) => {
                mac.update(&[4]);
                mac.update(&a.ip().octets());
            }
            SocketAddr::V6(a) => {
                mac.update(&[6]);
                mac.update(&a.ip().octets());
            }
        }
        mac.update(&peer.port().to_be_bytes());
        mac.update(&sid.0.to_be_bytes());
        mac
    }
}

impl core::fmt::Debug for CookieKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CookieKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

    const LIFE: Duration = Duration::from_secs(10);

    fn v4(port: u16) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), port))
    }

    fn v6(port: u16) -> SocketAddr {
        SocketAddr::V6(SocketAddrV6::new(
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
            port,
            0,
            0,
        ))
    }

    fn setup() -> (CookieKey, Instant, [u8; COOKIE_LEN]) {
        let k = CookieKey::new(&[7; 32]);
        let now = Instant::from_millis(1_000_500);
        let token = k.issue(now, &v4(4433), SessionId(42));
        (k, now, token)
    }

    #[test]
    fn token_layout_and_acceptance() {
        let (k, now, token) = setup();
        assert_eq!(&token[..4], &1000u32.to_be_bytes());
        assert!(k.verify(now, &v4(4433), SessionId(42), &token, LIFE));
        let t6 = k.issue(now, &v6(4433), SessionId(42));
        assert!(k.verify(now, &v6(4433), SessionId(42), &t6, LIFE));
        assert_ne!(token, t6);
        // Deterministic: same inputs, same token.
        assert_eq!(token, k.issue(now, &v4(4433), SessionId(42)));
    }

    #[test]
    fn wrong_length_fails() {
        let (k, now, token) = setup();
        assert!(!k.verify(now, &v4(4433), SessionId(42), &token[..19], LIFE));
        let mut long = [0u8; 21];
        long[..20].copy_from_slice(&token);
        assert!(!k.verify(now, &v4(4433), SessionId(42), &long, LIFE));
        assert!(!k.verify(now, &v4(4433), SessionId(42), &[], LIFE));
    }

    #[test]
    fn other_address_port_family_or_sid_fails() {
        let (k, now, token) = setup();
        let other_ip = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 2), 4433));
        assert!(!k.verify(now, &other_ip, SessionId(42), &token, LIFE));
        assert!(!k.verify(now, &v4(4434), SessionId(42), &token, LIFE));
        assert!(!k.verify(now, &v6(4433), SessionId(42), &token, LIFE));
        assert!(!k.verify(now, &v4(4433), SessionId(43), &token, LIFE));
        // The same bytes as a v4-mapped v6 address are another family.
        let mapped = SocketAddr::V6(SocketAddrV6::new(
            Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped(),
            4433,
            0,
            0,
        ));
        assert!(!k.verify(now, &mapped, SessionId(42), &token, LIFE));
    }

    #[test]
    fn other_key_or_tampered_token_fails() {
        let (_, now, token) = setup();
        let other = CookieKey::new(&[8; 32]);
        assert!(!other.verify(now, &v4(4433), SessionId(42), &token, LIFE));
        let (k, _, _) = setup();
        for i in 0..COOKIE_LEN {
            let mut bad = token;
            bad[i] ^= 1;
            assert!(
                !k.verify(now, &v4(4433), SessionId(42), &bad, LIFE),
                "byte {i}"
            );
        }
    }

    #[test]
    fn expiry_is_enforced() {
        let (k, _, token) = setup();
        // Issued at second 1000 (1_000.5 s floored).
        let at = |ms| Instant::from_millis(ms);
        assert!(k.verify(at(1_010_000), &v4(4433), SessionId(42), &token, LIFE));
        assert!(!k.verify(at(1_010_001), &v4(4433), SessionId(42), &token, LIFE));
        assert!(!k.verify(Instant::MAX, &v4(4433), SessionId(42), &token, LIFE));
        assert!(!k.verify(
            at(1_000_600),
            &v4(4433),
            SessionId(42),
            &token,
            Duration::ZERO
        ));
    }

    #[test]
    fn future_tokens_fail_beyond_one_second() {
        let k = CookieKey::new(&[7; 32]);
        let token = k.issue(Instant::from_millis(5_000), &v4(1), SessionId(1));
        assert!(k.verify(
            Instant::from_millis(4_000),
            &v4(1),
            SessionId(1),
            &token,
            LIFE
        ));
        assert!(!k.verify(
            Instant::from_millis(3_999),
            &v4(1),
            SessionId(1),
            &token,
            LIFE
        ));
        assert!(!k.verify(Instant::ZERO, &v4(1), SessionId(1), &token, LIFE));
    }

    #[test]
    fn issue_time_saturates_instead_of_wrapping() {
        let k = CookieKey::new(&[1; 32]);
        let far = Instant::from_micros(u64::MAX);
        let token = k.issue(far, &v4(1), SessionId(1));
        assert_eq!(&token[..4], &u32::MAX.to_be_bytes());
        assert!(!k.verify(far, &v4(1), SessionId(1), &token, LIFE));
        assert!(k.verify(far, &v4(1), SessionId(1), &token, Duration::MAX));
    }

    #[test]
    fn debug_hides_the_secret() {
        assert_eq!(
            std::format!("{:?}", CookieKey::new(&[9; 32])),
            "CookieKey(..)"
        );
    }
}
