//! What a sent packet carried that matters if it is acknowledged or lost.
//!
//! Owns: the per-packet record the recovery layer hands back as `Acked` or
//! `Lost`.
//! Never: allocates. The record is fixed-size; the packet builder stops
//! adding frames of a kind when its slots are full. It is kept small: one
//! is stored per packet in flight and moved twice when it is resolved.

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
    pub chunks: SentChunks,
    /// Control frames (credits, stream ends, resets).
    pub controls: heapless::Vec<Control, MAX_CONTROLS, u8>,
    /// Largest packet number the packet's ACK frame acknowledged.
    pub ack_largest: Option<u64>,
    /// It carried HANDSHAKE_DONE.
    pub handshake_done: bool,
    /// It carried NEW_TICKET.
    pub ticket: bool,
    /// It was a datagram size probe (PING and PADDING only).
    pub size_probe: bool,
    /// DATAGRAM frames it carried (never resent: counted, and their fates
    /// reported).
    pub datagrams: u8,
    /// Its size on the wire (UDP payload bytes), for the size search.
    pub len: u16,
    /// Its packet number, for the size search.
    pub pn: u64,
}

/// The stream chunks of one packet: (stream, units) pairs, 16 bytes each
/// (a chunk's length fits a packet, so 32 bits hold it).
#[derive(Debug, Default, Clone)]
pub struct SentChunks(heapless::Vec<(StreamId, u32, u64), MAX_CHUNKS, u8>);

impl SentChunks {
    /// Chunks recorded.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Records a chunk; `Err` with it if all slots are taken (or its
    /// length does not fit 32 bits, which no packet allows).
    pub fn push(
        &mut self,
        (id, units): (StreamId, Range<u64>),
    ) -> Result<(), (StreamId, Range<u64>)> {
        let Ok(len) = u32::try_from(units.end.saturating_sub(units.start)) else {
            return Err((id, units));
        };
        self.0.push((id, len, units.start)).map_err(|_| (id, units))
    }
}

impl SentChunks {
    /// Grows the last record to cover `units` if it is the same stream and
    /// ends where `units` starts; false if not (or past 32 bits).
    pub fn extend_last(&mut self, id: StreamId, units: &Range<u64>) -> bool {
        let Some((last_id, len, start)) = self.0.last_mut() else {
            return false;
        };
        if *last_id != id || *start + u64::from(*len) != units.start {
            return false;
        }
        match u32::try_from(units.end - *start) {
            Ok(l) => {
                *len = l;
                true
            }
            Err(_) => false,
        }
    }
}

impl IntoIterator for SentChunks {
    type Item = (StreamId, Range<u64>);
    type IntoIter = core::iter::Map<
        heapless::vec::IntoIter<(StreamId, u32, u64), MAX_CHUNKS, u8>,
        fn((StreamId, u32, u64)) -> (StreamId, Range<u64>),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0
            .into_iter()
            .map(|(id, len, start)| (id, start..start + u64::from(len)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_round_trip_and_stay_small() {
        let mut c = SentChunks::default();
        for i in 0..MAX_CHUNKS as u32 {
            c.push((i, u64::from(i) * 1000..u64::from(i) * 1000 + 1400))
                .unwrap();
        }
        assert!(c.push((9, 0..1)).is_err(), "full");
        let got: alloc::vec::Vec<_> = c.into_iter().collect();
        assert_eq!(got[3], (3, 3000..4400));
        assert_eq!(got.len(), MAX_CHUNKS);
        let size = core::mem::size_of::<SentInfo>();
        // The `trace` feature adds the packet number and length (16 bytes).
        let limit = if cfg!(feature = "trace") { 256 } else { 240 };
        assert!(size <= limit, "SentInfo is {size} bytes");
    }
}
