//! What a sent packet carried that matters if it is acknowledged or lost.
//!
//! Owns: the per-packet record the recovery layer hands back as `Acked` or
//! `Lost`.
//! Never: allocates. The record is fixed-size; the packet builder stops
//! adding frames of a kind when its slots are full.

use core::ops::Range;

use crate::ids::StreamId;
use crate::streams::Control;

/// Stream chunks one packet may carry.
pub const MAX_CHUNKS: usize = 8;
/// Control frames one packet may carry.
pub const MAX_CONTROLS: usize = 4;

/// The retransmittable content of one sent packet.
#[derive(Debug, Default, Clone)]
pub struct SentInfo {
    /// Stream data: which units of which stream.
    pub chunks: heapless::Vec<(StreamId, Range<u64>), MAX_CHUNKS>,
    /// Control frames (credits, stream ends, resets).
    pub controls: heapless::Vec<Control, MAX_CONTROLS>,
    /// Largest packet number the packet's ACK frame acknowledged.
    pub ack_largest: Option<u64>,
    /// It carried HANDSHAKE_DONE.
    pub handshake_done: bool,
}
