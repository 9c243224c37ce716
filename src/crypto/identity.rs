//! Who a node is and which network it belongs to: its static X25519 key
//! pair (from `node_seed`) and the network key every node of one network
//! shares (the Noise PSK, from `shared_seed`).
//!
//! Owns: [`Identity`], [`network_key`], [`NetworkKey`], and the keys a node
//! derives from its static private key (reset key, ticket-file key).
//! Never: shows a private key in `Debug`, or keeps one after it is
//! dropped.

use zeroize::Zeroize;

use super::blake2s256;
use super::handshake::NOISE_PARAMS;
use super::noise_hash::PskMix;
use super::resolver::mul_base;
use crate::ids::NodeId;

/// The network key (Noise PSK) every node of one network shares:
/// BLAKE2s-256(`"stt network key v1"` || `shared_seed`).
pub fn network_key(shared_seed: &[u8]) -> [u8; 32] {
    blake2s256(&[b"stt network key v1", shared_seed])
}

/// The [`network_key`] as a node holds it: with the first step of every
/// full handshake under it (the key mixed into the pattern's initial
/// chaining key, which depends on nothing else) computed once. Wiped on
/// drop.
#[derive(Clone)]
pub struct NetworkKey {
    pub(super) mix: PskMix,
}

impl NetworkKey {
    /// The node's copy of `key` (the [`network_key`] of its shared seed).
    pub fn new(key: &[u8; 32]) -> Self {
        NetworkKey {
            mix: PskMix::new(NOISE_PARAMS, key),
        }
    }

    /// The key itself.
    pub fn key(&self) -> &[u8; 32] {
        self.mix.psk()
    }
}

impl core::fmt::Debug for NetworkKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("NetworkKey(..)")
    }
}

/// A node's static X25519 key pair. Its public half is the node's
/// [`NodeId`]; `Debug` shows only that.
#[derive(Clone)]
pub struct Identity {
    pub(super) private: [u8; 32],
    pub(super) public: NodeId,
}

impl Drop for Identity {
    fn drop(&mut self) {
        self.wipe();
    }
}

impl Identity {
    /// Overwrites the private key with zeros (what dropping does).
    pub(super) fn wipe(&mut self) {
        self.private.zeroize();
    }

    /// The identity fixed by `node_seed`: private key
    /// BLAKE2s-256(`"stt node key v1"` || `node_seed`), clamped by X25519 on
    /// use. The same seed gives the same node on every run.
    pub fn from_seed(node_seed: &[u8]) -> Identity {
        let private = blake2s256(&[b"stt node key v1", node_seed]);
        let public = mul_base(private);
        Identity {
            private,
            public: NodeId(public),
        }
    }

    /// This node's id: its static public key.
    pub fn node_id(&self) -> NodeId {
        self.public
    }

    /// The node's default stateless reset key, derived from its static
    /// private key (see [`super::ResetKey::from_static_key`]).
    pub fn reset_key(&self) -> super::ResetKey {
        super::ResetKey::from_static_key(&self.private)
    }

    /// A key for something only this node reads back (its ticket file):
    /// BLAKE2s-256(`label` || static private key). One-way: it reveals
    /// nothing of the private key.
    pub fn derive_key(&self, label: &[u8]) -> [u8; 32] {
        blake2s256(&[label, &self.private])
    }
}

impl core::fmt::Debug for Identity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Identity")
            .field("node_id", &self.public)
            .finish_non_exhaustive()
    }
}
