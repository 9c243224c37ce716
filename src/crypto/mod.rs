//! Cryptography: the Noise handshake that opens a session, the AEAD that
//! protects every packet after it, replay protection, stateless Retry
//! cookies and stateless reset tokens.
//!
//! Owns: every use of key material in the crate, and the choice of crypto
//! provider at build time (`ring` or pure-Rust `rustcrypto`).
//! Never: invents a primitive or a protocol (Noise comes from `snow`, the
//! AEADs from `ring` or RustCrypto), reads OS randomness (ephemeral keys come
//! from the caller's seed through [`crate::rand::Rng`]), or prints a secret
//! in `Debug` output.
//!
//! | file           | owns                                                    |
//! |----------------|---------------------------------------------------------|
//! | `aead.rs`      | [`PacketKey`] seal/open in place, key update            |
//! | `identity.rs`  | [`Identity`], [`network_key`], [`NetworkKey`]: a node's static key and its network's PSK |
//! | `handshake.rs` | [`Handshake`] (Noise XXpsk0, and NNpsk0 to resume), [`TrafficSecrets`] |
//! | `resolver.rs`  | what `snow` computes with: seeded randomness, X25519   |
//! | `noise_hash.rs` | BLAKE2s for `snow`: HMAC/HKDF with fewer compressions |
//! | `replay.rs`    | [`ReplayWindow`], a 2048-packet sliding bitmap          |
//! | `cookie.rs`    | [`CookieKey`], stateless address-validation tokens      |
//! | `reset.rs`     | [`ResetKey`], [`ResetToken`]: stateless reset tokens    |
//! | `fuzz_memo.rs` | fuzzing builds only: X25519 and HKDF results remembered per thread |
//! | `ticket.rs`    | [`TicketKeys`]: session tickets, the resumption secret  |

pub mod aead;
pub mod cookie;
#[cfg(all(any(fuzzing, test), feature = "std"))]
#[cfg_attr(not(fuzzing), allow(dead_code))]
mod fuzz_memo;
pub mod handshake;
pub mod identity;
mod noise_hash;
pub mod replay;
pub mod reset;
mod resolver;
pub mod ticket;

pub use aead::{next_secret, Cipher, PacketKey, Provider, KEY_LEN, TAG_LEN};
pub use cookie::{CookieKey, COOKIE_LEN};
pub use handshake::{
    Handshake, TrafficSecrets, MAX_HANDSHAKE_MSG, MAX_HANDSHAKE_PAYLOAD, RESUME_OVERHEAD,
};
pub use identity::{network_key, Identity, NetworkKey};
pub use replay::{ReplayError, ReplayWindow, REPLAY_WINDOW};
pub use reset::{ResetKey, ResetToken, TokenIndexKey, RESET_TOKEN_LEN};
pub use ticket::{
    resumption_secret, ClientTicket, TicketContents, TicketError, TicketKeys, TICKET_LEN,
};

/// What can go wrong in the crypto layer. None of these carries data from
/// the peer: the reason is the variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// A packet failed authentication: wrong key, wrong packet number,
    /// tampered bytes, or too short to hold a tag.
    #[error("packet failed authentication")]
    Decrypt,
    /// A handshake message failed authentication: the peer holds another
    /// network key, or the message was tampered with.
    #[error("handshake message failed authentication")]
    HandshakeAuth,
    /// The handshake could not proceed: a message of the wrong size or out of
    /// turn, or an internal Noise failure.
    #[error("handshake failed")]
    Handshake,
    /// The caller's output buffer cannot hold the result.
    #[error("buffer too small")]
    BufferTooSmall,
    /// A handshake payload is larger than [`MAX_HANDSHAKE_PAYLOAD`].
    #[error("handshake payload too large")]
    PayloadTooLarge,
    /// Traffic secrets were asked for before the handshake finished.
    #[error("handshake not finished")]
    NotFinished,
    /// The AEAD provider refused the key.
    #[error("key rejected by the crypto provider")]
    BadKey,
}

/// BLAKE2s-256 over the concatenation of `parts`: the one hash every
/// derivation in this layer uses, each with its own ASCII label first.
pub(crate) fn blake2s256(parts: &[&[u8]]) -> [u8; 32] {
    use blake2::Digest;
    let mut h = blake2::Blake2s256::new();
    for part in parts {
        h.update(part);
    }
    h.finalize().into()
}

#[cfg(test)]
pub(crate) mod tests {
    /// Lower-case hex, for golden values in tests.
    pub(crate) fn hex(bytes: &[u8]) -> std::string::String {
        bytes.iter().map(|b| std::format!("{b:02x}")).collect()
    }
}
