//! Packet protection: AEAD sealing and opening in place, with the cipher
//! chosen per session and the provider chosen at build time.
//!
//! Owns: the [`Cipher`] list (ChaCha20-Poly1305, the default, constant-time
//! in software everywhere; AES-256-GCM, faster wherever the CPU has AES
//! instructions), the [`Provider`] choice (`ring` for speed, `rustcrypto`
//! for pure Rust and bare-metal targets), the nonce rule (4 zero bytes, then
//! the packet number as a big-endian `u64`) and the key-update derivation.
//! Never: allocates, boxes or copies a packet; reuses a nonce on its own (the
//! caller must never seal two packets under one key with the same number);
//! hands out plaintext that failed authentication.

use alloc::boxed::Box;

use super::CryptoError;

#[cfg(not(any(feature = "ring", feature = "rustcrypto")))]
compile_error!(
    "stt needs an AEAD provider: enable the cargo feature `ring` (fast, the default) \
     or `rustcrypto` (pure Rust, builds on no_std targets), or both"
);

/// Bytes of authentication tag appended to every sealed packet.
pub const TAG_LEN: usize = 16;
/// Bytes of a packet key or traffic secret.
pub const KEY_LEN: usize = 32;
/// Bytes of an AEAD nonce.
const NONCE_LEN: usize = 12;

/// Which AEAD protects a session's packets. Every build has both; the
/// initiator of a session chooses (its [`Config`](crate::Config) setting)
/// and tells the responder inside handshake message 1, which the network key
/// authenticates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cipher {
    /// ChaCha20-Poly1305 (RFC 8439): fast and constant-time in software on
    /// any CPU. The default.
    #[default]
    ChaCha20Poly1305,
    /// AES-256-GCM: about twice as fast where the CPU has AES and carry-less
    /// multiply instructions (x86-64 AES-NI, ARMv8 crypto extensions),
    /// slow and only as constant-time as the provider's fallback elsewhere.
    Aes256Gcm,
}

impl Cipher {
    /// The cipher's short name, as [`Cipher::from_name`] accepts it.
    pub fn name(self) -> &'static str {
        match self {
            Cipher::ChaCha20Poly1305 => "chacha20poly1305",
            Cipher::Aes256Gcm => "aes256gcm",
        }
    }

    /// Every cipher, the default first.
    pub fn all() -> &'static [Cipher] {
        &[Cipher::ChaCha20Poly1305, Cipher::Aes256Gcm]
    }

    /// The cipher called `name` (`chacha20poly1305` or `aes256gcm`).
    pub fn from_name(name: &str) -> Option<Cipher> {
        Cipher::all().iter().copied().find(|c| c.name() == name)
    }

    /// Packets one key may seal before the cipher's confidentiality margin
    /// runs thin (RFC 9001, section 6.6): 2^23 for AES-GCM, 2^62 for
    /// ChaCha20-Poly1305. A session updates its key before this many,
    /// whatever its configuration says.
    pub fn packet_limit(self) -> u64 {
        match self {
            Cipher::ChaCha20Poly1305 => 1 << 62,
            Cipher::Aes256Gcm => 1 << 23,
        }
    }

    /// The longest plaintext of at most `room` bytes that the cipher seals
    /// and opens in whole blocks, which a packet filling `room` should
    /// carry instead (never less than `room - 15`).
    ///
    /// AES-GCM: a multiple of 16 bytes. The fast AES-GCM routines (ring's,
    /// and most others) run over whole 16-byte blocks and finish a trailing
    /// partial block apart, with one more AES block and one more GHASH call
    /// each way. At the default datagram size the plaintext room is 1,423
    /// bytes; cut to 1,408 (1 % less payload), sealing and opening cost
    /// about a tenth less per byte, and CPU-bound transfers gain more than
    /// the payload they lose (`docs/ADAPTERS.md`, "Whole AES blocks").
    /// ChaCha20-Poly1305 shows no such step: `room` as it is.
    pub fn whole_blocks(self, room: usize) -> usize {
        match self {
            Cipher::ChaCha20Poly1305 => room,
            Cipher::Aes256Gcm => room & !15,
        }
    }

    /// The cipher's code in handshake message 1.
    pub(crate) fn code(self) -> u8 {
        match self {
            Cipher::ChaCha20Poly1305 => 0,
            Cipher::Aes256Gcm => 1,
        }
    }

    /// The cipher of code `c`, if it is one.
    pub(crate) fn from_code(c: u8) -> Option<Cipher> {
        Cipher::all().iter().copied().find(|x| x.code() == c)
    }
}

/// Who computes the ciphers. Both produce the same bytes; the choice is
/// speed (`ring`, assembly) against portability (`rustcrypto`, pure Rust).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Provider {
    /// `ring`'s assembly-backed implementation (cargo feature `ring`).
    #[cfg(feature = "ring")]
    Ring,
    /// RustCrypto's pure-Rust `chacha20poly1305` (cargo feature `rustcrypto`).
    #[cfg(feature = "rustcrypto")]
    RustCrypto,
}

impl Provider {
    /// The provider's short name, as [`Provider::from_name`] accepts it.
    pub fn name(self) -> &'static str {
        match self {
            #[cfg(feature = "ring")]
            Provider::Ring => "ring",
            #[cfg(feature = "rustcrypto")]
            Provider::RustCrypto => "rustcrypto",
        }
    }

    /// Every provider compiled into this build, the default first.
    pub fn all() -> &'static [Provider] {
        &[
            #[cfg(feature = "ring")]
            Provider::Ring,
            #[cfg(feature = "rustcrypto")]
            Provider::RustCrypto,
        ]
    }

    /// The compiled-in provider called `name`, if any.
    pub fn from_name(name: &str) -> Option<Provider> {
        Provider::all().iter().copied().find(|p| p.name() == name)
    }
}

#[cfg(any(feature = "ring", feature = "rustcrypto"))]
impl Default for Provider {
    /// `Ring` when compiled in, otherwise `RustCrypto`.
    fn default() -> Self {
        #[cfg(feature = "ring")]
        return Provider::Ring;
        #[cfg(not(feature = "ring"))]
        return Provider::RustCrypto;
    }
}

/// One direction's packet protection key. Cheap to clone; holds no heap
/// memory. `Debug` shows the provider only, never the key.
#[derive(Clone)]
pub struct PacketKey(Inner);

// `ring`'s `LessSafeKey` is about 540 bytes (an enum over every algorithm's
// key schedule) for a ChaCha20 key of 32, and a session holds three: for
// ChaCha20-Poly1305 the raw key is kept instead and the `ring` key built on
// use, a copy of the 32 bytes (no schedule to expand). AES-GCM has a key
// schedule and GHASH powers worth keeping: those keys are boxed, so a
// ChaCha20 session pays nothing for the larger variant.
#[derive(Clone)]
enum Inner {
    #[cfg(feature = "ring")]
    Ring([u8; KEY_LEN]),
    #[cfg(feature = "ring")]
    RingAes(Box<ring::aead::LessSafeKey>),
    #[cfg(feature = "rustcrypto")]
    RustCrypto(chacha20poly1305::ChaCha20Poly1305),
    #[cfg(feature = "rustcrypto")]
    RustCryptoAes(Box<aes_gcm::Aes256Gcm>),
    /// The provider refused the key (which neither cipher does for 32
    /// bytes); every operation fails with [`CryptoError::BadKey`]. Keeps
    /// [`PacketKey::new`] infallible without a panic path.
    #[cfg_attr(not(feature = "ring"), allow(dead_code))]
    Refused(Provider, Cipher),
}

impl PacketKey {
    /// A ChaCha20-Poly1305 key for `provider` from 32 bytes of secret; see
    /// [`PacketKey::with_cipher`].
    pub fn new(provider: Provider, key: &[u8; KEY_LEN]) -> Self {
        PacketKey::with_cipher(provider, Cipher::ChaCha20Poly1305, key)
    }

    /// A `cipher` key for `provider` from 32 bytes of secret.
    ///
    /// Should the provider ever refuse the key (both ciphers take any 32
    /// bytes, so it does not), every seal and open with it fails with
    /// [`CryptoError::BadKey`].
    pub fn with_cipher(provider: Provider, cipher: Cipher, key: &[u8; KEY_LEN]) -> Self {
        let inner = match (provider, cipher) {
            #[cfg(feature = "ring")]
            (Provider::Ring, Cipher::ChaCha20Poly1305) => match ring_key(key) {
                Ok(_) => Inner::Ring(*key),
                Err(_) => Inner::Refused(provider, cipher),
            },
            #[cfg(feature = "ring")]
            (Provider::Ring, Cipher::Aes256Gcm) => {
                match ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, key) {
                    Ok(k) => Inner::RingAes(Box::new(ring::aead::LessSafeKey::new(k))),
                    Err(_) => Inner::Refused(provider, cipher),
                }
            }
            #[cfg(feature = "rustcrypto")]
            (Provider::RustCrypto, Cipher::ChaCha20Poly1305) => {
                use chacha20poly1305::KeyInit;
                Inner::RustCrypto(chacha20poly1305::ChaCha20Poly1305::new(&(*key).into()))
            }
            #[cfg(feature = "rustcrypto")]
            (Provider::RustCrypto, Cipher::Aes256Gcm) => {
                use aes_gcm::KeyInit;
                Inner::RustCryptoAes(Box::new(aes_gcm::Aes256Gcm::new(&(*key).into())))
            }
        };
        PacketKey(inner)
    }

    /// The provider behind this key.
    pub fn provider(&self) -> Provider {
        match self.0 {
            #[cfg(feature = "ring")]
            Inner::Ring(_) | Inner::RingAes(_) => Provider::Ring,
            #[cfg(feature = "rustcrypto")]
            Inner::RustCrypto(_) | Inner::RustCryptoAes(_) => Provider::RustCrypto,
            Inner::Refused(p, _) => p,
        }
    }

    /// The cipher of this key.
    pub fn cipher(&self) -> Cipher {
        match self.0 {
            #[cfg(feature = "ring")]
            Inner::Ring(_) => Cipher::ChaCha20Poly1305,
            #[cfg(feature = "ring")]
            Inner::RingAes(_) => Cipher::Aes256Gcm,
            #[cfg(feature = "rustcrypto")]
            Inner::RustCrypto(_) => Cipher::ChaCha20Poly1305,
            #[cfg(feature = "rustcrypto")]
            Inner::RustCryptoAes(_) => Cipher::Aes256Gcm,
            Inner::Refused(_, c) => c,
        }
    }

    /// Seals packet `pn` in place. `in_out` holds the plaintext followed by
    /// [`TAG_LEN`] spare bytes, which receive the tag; `aad` (the packet
    /// header) is authenticated but not encrypted.
    ///
    /// Fails with [`CryptoError::BufferTooSmall`] if `in_out` is shorter
    /// than a tag (or, absurdly, past the AEAD's 256 GiB message limit).
    pub fn seal(&self, pn: u64, aad: &[u8], in_out: &mut [u8]) -> Result<(), CryptoError> {
        self.seal_with_nonce(pn_nonce(pn), aad, in_out)
    }

    /// Opens packet `pn` in place: `in_out` holds ciphertext then tag; on
    /// success the returned slice (a prefix of `in_out`) is the plaintext.
    ///
    /// Fails with [`CryptoError::Decrypt`] on any authentication failure,
    /// including an `in_out` too short to hold a tag.
    pub fn open<'a>(
        &self,
        pn: u64,
        aad: &[u8],
        in_out: &'a mut [u8],
    ) -> Result<&'a mut [u8], CryptoError> {
        self.open_with_nonce(pn_nonce(pn), aad, in_out)
    }

    /// [`seal`](Self::seal) with Noise's nonce: 32 zero bits, then the
    /// counter `n` little-endian (packets put theirs big-endian).
    pub(super) fn seal_noise(
        &self,
        n: u64,
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<(), CryptoError> {
        self.seal_with_nonce(noise_nonce(n), aad, in_out)
    }

    /// [`open`](Self::open) with Noise's nonce, as [`seal_noise`](Self::seal_noise).
    pub(super) fn open_noise<'a>(
        &self,
        n: u64,
        aad: &[u8],
        in_out: &'a mut [u8],
    ) -> Result<&'a mut [u8], CryptoError> {
        self.open_with_nonce(noise_nonce(n), aad, in_out)
    }

    fn seal_with_nonce(
        &self,
        nonce: [u8; NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<(), CryptoError> {
        let text_len = in_out
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(CryptoError::BufferTooSmall)?;
        let (text, tag_out) = in_out.split_at_mut(text_len);
        let tag = match self.0 {
            #[cfg(feature = "ring")]
            Inner::Ring(ref key) => ring_seal(&ring_key(key)?, nonce, aad, text)?,
            #[cfg(feature = "ring")]
            Inner::RingAes(ref key) => ring_seal(key, nonce, aad, text)?,
            #[cfg(feature = "rustcrypto")]
            Inner::RustCrypto(ref key) => rc_seal(key, nonce, aad, text)?,
            #[cfg(feature = "rustcrypto")]
            Inner::RustCryptoAes(ref key) => rc_seal(&**key, nonce, aad, text)?,
            Inner::Refused(..) => return Err(CryptoError::BadKey),
        };
        tag_out.copy_from_slice(&tag);
        Ok(())
    }

    fn open_with_nonce<'a>(
        &self,
        nonce: [u8; NONCE_LEN],
        aad: &[u8],
        in_out: &'a mut [u8],
    ) -> Result<&'a mut [u8], CryptoError> {
        if in_out.len() < TAG_LEN {
            return Err(CryptoError::Decrypt);
        }
        match self.0 {
            #[cfg(feature = "ring")]
            Inner::Ring(ref key) => ring_open(&ring_key(key)?, nonce, aad, in_out),
            #[cfg(feature = "ring")]
            Inner::RingAes(ref key) => ring_open(key, nonce, aad, in_out),
            #[cfg(feature = "rustcrypto")]
            Inner::RustCrypto(ref key) => rc_open(key, nonce, aad, in_out),
            #[cfg(feature = "rustcrypto")]
            Inner::RustCryptoAes(ref key) => rc_open(&**key, nonce, aad, in_out),
            Inner::Refused(..) => Err(CryptoError::BadKey),
        }
    }
}

impl Drop for PacketKey {
    /// Wipes the raw key this type keeps itself. (`ring`'s AES key schedule
    /// and RustCrypto's cipher states are theirs to wipe.)
    fn drop(&mut self) {
        #[cfg(feature = "ring")]
        if let Inner::Ring(key) = &mut self.0 {
            zeroize::Zeroize::zeroize(key);
        }
    }
}

impl core::fmt::Debug for PacketKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "PacketKey({}, {}, ..)",
            self.provider().name(),
            self.cipher().name()
        )
    }
}

/// `ring`'s ChaCha20-Poly1305 key for `key`.
#[cfg(feature = "ring")]
fn ring_key(key: &[u8; KEY_LEN]) -> Result<ring::aead::LessSafeKey, CryptoError> {
    ring::aead::UnboundKey::new(&ring::aead::CHACHA20_POLY1305, key)
        .map(ring::aead::LessSafeKey::new)
        .map_err(|_| CryptoError::BadKey)
}

/// Seals `text` in place with a `ring` key of either cipher; returns the tag.
#[cfg(feature = "ring")]
fn ring_seal(
    key: &ring::aead::LessSafeKey,
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    text: &mut [u8],
) -> Result<[u8; TAG_LEN], CryptoError> {
    let nonce = ring::aead::Nonce::assume_unique_for_key(nonce);
    let tag = key
        .seal_in_place_separate_tag(nonce, ring::aead::Aad::from(aad), text)
        .map_err(|_| CryptoError::BufferTooSmall)?;
    let mut out = [0u8; TAG_LEN];
    out.copy_from_slice(tag.as_ref());
    Ok(out)
}

/// Opens `in_out` (ciphertext then tag) in place with a `ring` key of
/// either cipher; returns the plaintext.
#[cfg(feature = "ring")]
fn ring_open<'a>(
    key: &ring::aead::LessSafeKey,
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    in_out: &'a mut [u8],
) -> Result<&'a mut [u8], CryptoError> {
    let nonce = ring::aead::Nonce::assume_unique_for_key(nonce);
    key.open_in_place(nonce, ring::aead::Aad::from(aad), in_out)
        .map_err(|_| CryptoError::Decrypt)
}

/// A RustCrypto AEAD with a 12-byte nonce and a 16-byte tag: both ciphers
/// implement the same `aead` 0.5 trait.
#[cfg(feature = "rustcrypto")]
trait RcAead:
    chacha20poly1305::aead::AeadInPlace
    + chacha20poly1305::aead::AeadCore<
        NonceSize = chacha20poly1305::consts::U12,
        TagSize = chacha20poly1305::consts::U16,
    >
{
}

#[cfg(feature = "rustcrypto")]
impl<A> RcAead for A where
    A: chacha20poly1305::aead::AeadInPlace
        + chacha20poly1305::aead::AeadCore<
            NonceSize = chacha20poly1305::consts::U12,
            TagSize = chacha20poly1305::consts::U16,
        >
{
}

/// Seals `text` in place with a RustCrypto key of either cipher; returns
/// the tag.
#[cfg(feature = "rustcrypto")]
fn rc_seal<A: RcAead>(
    key: &A,
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    text: &mut [u8],
) -> Result<[u8; TAG_LEN], CryptoError> {
    let tag = key
        .encrypt_in_place_detached(&nonce.into(), aad, text)
        .map_err(|_| CryptoError::BufferTooSmall)?;
    Ok(tag.into())
}

/// Opens `in_out` (ciphertext then tag) in place with a RustCrypto key of
/// either cipher; returns the plaintext.
#[cfg(feature = "rustcrypto")]
fn rc_open<'a, A: RcAead>(
    key: &A,
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    in_out: &'a mut [u8],
) -> Result<&'a mut [u8], CryptoError> {
    let split = in_out
        .len()
        .checked_sub(TAG_LEN)
        .ok_or(CryptoError::Decrypt)?;
    let (text, tag_in) = in_out.split_at_mut(split);
    let mut tag = [0u8; TAG_LEN];
    tag.copy_from_slice(tag_in);
    key.decrypt_in_place_detached(&nonce.into(), aad, text, &tag.into())
        .map_err(|_| CryptoError::Decrypt)?;
    Ok(text)
}

/// The nonce of packet `pn`: 4 zero bytes, then `pn` big-endian.
fn pn_nonce(pn: u64) -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    nonce[4..].copy_from_slice(&pn.to_be_bytes());
    nonce
}

/// Noise's ChaCha20-Poly1305 nonce for counter `n`.
fn noise_nonce(n: u64) -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    nonce[4..].copy_from_slice(&n.to_le_bytes());
    nonce
}

/// The next traffic secret after a key update:
/// BLAKE2s-256(`"stt key update"` || `secret`). One-way, so an old key
/// cannot be recovered from a newer one.
pub fn next_secret(secret: &[u8; KEY_LEN]) -> [u8; KEY_LEN] {
    super::blake2s256(&[b"stt key update", secret])
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 8439, section 2.8.2.
    const RFC_KEY: [u8; 32] = [
        0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e,
        0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d,
        0x9e, 0x9f,
    ];
    const RFC_NONCE: [u8; 12] = [
        0x07, 0x00, 0x00, 0x00, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
    ];
    const RFC_AAD: [u8; 12] = [
        0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
    ];
    const RFC_PLAINTEXT: &[u8] = b"Ladies and Gentlemen of the class of '99: If I could offer you \
only one tip for the future, sunscreen would be it.";
    const RFC_CIPHERTEXT: [u8; 114] = [
        0xd3, 0x1a, 0x8d, 0x34, 0x64, 0x8e, 0x60, 0xdb, 0x7b, 0x86, 0xaf, 0xbc, 0x53, 0xef, 0x7e,
        0xc2, 0xa4, 0xad, 0xed, 0x51, 0x29, 0x6e, 0x08, 0xfe, 0xa9, 0xe2, 0xb5, 0xa7, 0x36, 0xee,
        0x62, 0xd6, 0x3d, 0xbe, 0xa4, 0x5e, 0x8c, 0xa9, 0x67, 0x12, 0x82, 0xfa, 0xfb, 0x69, 0xda,
        0x92, 0x72, 0x8b, 0x1a, 0x71, 0xde, 0x0a, 0x9e, 0x06, 0x0b, 0x29, 0x05, 0xd6, 0xa5, 0xb6,
        0x7e, 0xcd, 0x3b, 0x36, 0x92, 0xdd, 0xbd, 0x7f, 0x2d, 0x77, 0x8b, 0x8c, 0x98, 0x03, 0xae,
        0xe3, 0x28, 0x09, 0x1b, 0x58, 0xfa, 0xb3, 0x24, 0xe4, 0xfa, 0xd6, 0x75, 0x94, 0x55, 0x85,
        0x80, 0x8b, 0x48, 0x31, 0xd7, 0xbc, 0x3f, 0xf4, 0xde, 0xf0, 0x8e, 0x4b, 0x7a, 0x9d, 0xe5,
        0x76, 0xd2, 0x65, 0x86, 0xce, 0xc6, 0x4b, 0x61, 0x16,
    ];
    const RFC_TAG: [u8; 16] = [
        0x1a, 0xe1, 0x0b, 0x59, 0x4f, 0x09, 0xe2, 0x6a, 0x7e, 0x90, 0x2e, 0xcb, 0xd0, 0x60, 0x06,
        0x91,
    ];

    fn key(p: Provider, c: Cipher, k: u8) -> PacketKey {
        PacketKey::with_cipher(p, c, &[k; KEY_LEN])
    }

    /// Every provider with every cipher.
    fn suites() -> std::vec::Vec<(Provider, Cipher)> {
        Provider::all()
            .iter()
            .flat_map(|&p| Cipher::all().iter().map(move |&c| (p, c)))
            .collect()
    }

    fn unhex(s: &str) -> std::vec::Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn aes256gcm_vector_through_every_provider() {
        // The GCM specification's test case 16 (AES-256, 96-bit IV).
        let k: [u8; 32] = unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
            .try_into()
            .unwrap();
        let iv: [u8; 12] = unhex("cafebabefacedbaddecaf888").try_into().unwrap();
        let aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let text = unhex(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
             1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        );
        let want = unhex(
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
             8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662\
             76fc6ece0f4e1768cddf8853bb2d551b",
        );
        for &p in Provider::all() {
            let key = PacketKey::with_cipher(p, Cipher::Aes256Gcm, &k);
            assert_eq!(key.cipher(), Cipher::Aes256Gcm);
            let mut buf = text.clone();
            buf.extend_from_slice(&[0; TAG_LEN]);
            key.seal_with_nonce(iv, &aad, &mut buf).expect("seal");
            assert_eq!(buf, want, "{p:?}");
            let opened = key.open_with_nonce(iv, &aad, &mut buf).expect("open");
            assert_eq!(opened, &text[..]);
        }
    }

    #[test]
    fn cipher_names_codes_and_limits() {
        for &c in Cipher::all() {
            assert_eq!(Cipher::from_name(c.name()), Some(c));
            assert_eq!(Cipher::from_code(c.code()), Some(c));
        }
        assert_eq!(Cipher::from_code(2), None);
        assert_eq!(Cipher::default(), Cipher::ChaCha20Poly1305);
        assert!(Cipher::Aes256Gcm.packet_limit() < Cipher::ChaCha20Poly1305.packet_limit());
        // The ciphers differ: one key, two ciphertexts.
        let p = Provider::default();
        assert_ne!(
            sealed(&key(p, Cipher::ChaCha20Poly1305, 1), 0, b"", b"same"),
            sealed(&key(p, Cipher::Aes256Gcm, 1), 0, b"", b"same")
        );
    }

    fn sealed(k: &PacketKey, pn: u64, aad: &[u8], text: &[u8]) -> std::vec::Vec<u8> {
        let mut buf = std::vec::Vec::from(text);
        buf.extend_from_slice(&[0; TAG_LEN]);
        k.seal(pn, aad, &mut buf).expect("seal");
        buf
    }

    #[test]
    fn rfc8439_vector_through_every_provider() {
        assert!(!Provider::all().is_empty());
        for &p in Provider::all() {
            let k = PacketKey::new(p, &RFC_KEY);
            let mut buf = std::vec::Vec::from(RFC_PLAINTEXT);
            assert_eq!(buf.len(), 114);
            buf.extend_from_slice(&[0; TAG_LEN]);
            k.seal_with_nonce(RFC_NONCE, &RFC_AAD, &mut buf)
                .expect("seal");
            assert_eq!(&buf[..114], &RFC_CIPHERTEXT[..], "{p:?} ciphertext");
            assert_eq!(&buf[114..], &RFC_TAG[..], "{p:?} tag");
            let text = k
                .open_with_nonce(RFC_NONCE, &RFC_AAD, &mut buf)
                .expect("open");
            assert_eq!(text, RFC_PLAINTEXT);
        }
    }

    #[test]
    fn packet_number_nonce_is_zero_prefix_then_big_endian() {
        assert_eq!(
            pn_nonce(0x0102_0304_0506_0708),
            [0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]
        );
        for (p, c) in suites() {
            let k = key(p, c, 9);
            let pn = 0x00ab_cdef_0123_4567;
            let by_pn = sealed(&k, pn, b"hdr", b"payload");
            let mut raw = std::vec::Vec::from(&b"payload"[..]);
            raw.extend_from_slice(&[0; TAG_LEN]);
            k.seal_with_nonce(pn_nonce(pn), b"hdr", &mut raw)
                .expect("seal");
            assert_eq!(by_pn, raw);
            assert_ne!(by_pn, sealed(&k, pn + 1, b"hdr", b"payload"));
        }
    }

    #[test]
    fn round_trip_and_empty_payload() {
        for (p, c) in suites() {
            let k = key(p, c, 1);
            for text in [&b""[..], b"x", &[0xa5; 1300]] {
                let mut buf = sealed(&k, 7, b"aad", text);
                assert_eq!(buf.len(), text.len() + TAG_LEN);
                assert_eq!(k.open(7, b"aad", &mut buf).expect("open"), text);
            }
        }
    }

    #[cfg(all(feature = "ring", feature = "rustcrypto"))]
    #[test]
    fn providers_interoperate() {
        for &c in Cipher::all() {
            providers_interoperate_with(c);
        }
    }

    #[cfg(all(feature = "ring", feature = "rustcrypto"))]
    fn providers_interoperate_with(c: Cipher) {
        let ring = key(Provider::Ring, c, 3);
        let rc = key(Provider::RustCrypto, c, 3);
        let mut a = sealed(&ring, 42, b"h", b"from ring");
        assert_eq!(
            rc.open(42, b"h", &mut a).expect("rc opens ring"),
            b"from ring"
        );
        let mut b = sealed(&rc, 43, b"h", b"from rustcrypto");
        assert_eq!(
            ring.open(43, b"h", &mut b).expect("ring opens rc"),
            b"from rustcrypto"
        );
        assert_eq!(sealed(&ring, 1, b"", b"same"), sealed(&rc, 1, b"", b"same"));
    }

    #[test]
    fn any_flipped_bit_or_wrong_pn_or_key_fails() {
        for (p, c) in suites() {
            let k = key(p, c, 5);
            let good = sealed(&k, 100, b"header", b"secret message");
            for i in 0..good.len() {
                for bit in [0x01u8, 0x80] {
                    let mut bad = good.clone();
                    bad[i] ^= bit;
                    assert_eq!(k.open(100, b"header", &mut bad), Err(CryptoError::Decrypt));
                }
            }
            assert_eq!(
                k.open(100, b"headeR", &mut good.clone()),
                Err(CryptoError::Decrypt)
            );
            assert_eq!(
                k.open(100, b"", &mut good.clone()),
                Err(CryptoError::Decrypt)
            );
            assert_eq!(
                k.open(101, b"header", &mut good.clone()),
                Err(CryptoError::Decrypt)
            );
            assert_eq!(
                k.open(99, b"header", &mut good.clone()),
                Err(CryptoError::Decrypt)
            );
            let other = key(p, c, 6);
            assert_eq!(
                other.open(100, b"header", &mut good.clone()),
                Err(CryptoError::Decrypt)
            );
            assert!(k.open(100, b"header", &mut good.clone()).is_ok());
        }
    }

    #[test]
    fn short_buffers_are_errors_not_panics() {
        for (p, c) in suites() {
            let k = key(p, c, 2);
            for n in 0..TAG_LEN {
                let mut buf = [0u8; TAG_LEN];
                assert_eq!(
                    k.seal(0, b"", &mut buf[..n]),
                    Err(CryptoError::BufferTooSmall)
                );
                assert_eq!(k.open(0, b"", &mut buf[..n]), Err(CryptoError::Decrypt));
            }
        }
    }

    #[test]
    fn a_refused_key_fails_every_operation() {
        let k = PacketKey(Inner::Refused(Provider::default(), Cipher::Aes256Gcm));
        let mut buf = [0u8; 32];
        assert_eq!(k.seal(0, b"", &mut buf), Err(CryptoError::BadKey));
        assert_eq!(k.open(0, b"", &mut buf), Err(CryptoError::BadKey));
        assert_eq!(k.provider(), Provider::default());
        assert_eq!(k.cipher(), Cipher::Aes256Gcm);
    }

    #[test]
    fn provider_names_round_trip() {
        for &p in Provider::all() {
            assert_eq!(Provider::from_name(p.name()), Some(p));
            assert_eq!(key(p, Cipher::Aes256Gcm, 0).provider(), p);
        }
        assert_eq!(Provider::all().first(), Some(&Provider::default()));
        assert_eq!(Provider::from_name("openssl"), None);
        #[cfg(feature = "ring")]
        assert_eq!(Provider::default(), Provider::Ring);
    }

    #[test]
    fn debug_hides_the_key() {
        let s = std::format!("{:?}", key(Provider::default(), Cipher::default(), 0xee));
        assert!(s.starts_with("PacketKey("));
        assert!(!s.contains("ee, ") && !s.contains("238"));
    }

    #[test]
    fn key_update_is_deterministic_and_moves() {
        let s0 = [4u8; KEY_LEN];
        let s1 = next_secret(&s0);
        assert_eq!(s1, next_secret(&s0));
        assert_ne!(s1, s0);
        assert_ne!(next_secret(&s1), s1);
        // Pinned (checked against Python's hashlib.blake2s).
        let golden = "2fcb4812761362b04d39238661451c10755e15a90d017d7b376df87aa8bff084";
        assert_eq!(crate::crypto::tests::hex(&s1), golden);
    }
}
