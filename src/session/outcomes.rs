//! Where acknowledged and lost packets' contents go.
//!
//! Owns: handing each record recovery resolves ([`Outcome`]) to the owner
//! of what it carried: stream units and control frames to the stream
//! manager, acknowledgement ranges to the ack tracker, sizes to the
//! datagram size search, DATAGRAM frames' fates to the datagram queue,
//! HANDSHAKE_DONE to the session.
//! Never: decides that a packet was acknowledged or lost (recovery does) or
//! resends anything itself: a lost unit goes back to its stream's queue.

use alloc::vec::Vec;
use core::ops::Range;

use super::sent::SentInfo;
use super::Session;
use crate::ids::{Role, StreamId};
use crate::recovery::Outcome;

impl Session {
    /// Hands acknowledged and lost packets' contents to their owners.
    pub(super) fn apply_outcomes(&mut self, out: &mut Vec<Outcome<SentInfo>>) {
        // Acknowledged stream units are handed over in runs: consecutive
        // packets usually carry adjacent units of one stream, and one call
        // for a whole run costs what one call for a single packet costs (a
        // stream lookup, the buffer's bookkeeping). Acknowledging a..b then
        // b..c and acknowledging a..c leave a stream in the same state.
        let mut run: Option<(StreamId, Range<u64>)> = None;
        let now = self.now;
        for o in out.drain(..) {
            match o {
                Outcome::Acked(info) => {
                    let len = usize::from(info.len);
                    if info.size_probe {
                        self.mtu.on_probe_acked(now, info.pn, len);
                    } else {
                        self.mtu.on_packet_acked(info.pn, len);
                    }
                    if info.datagrams > 0 {
                        self.on_datagrams_outcome(info.pn, info.datagrams, true);
                    }
                    for (id, units) in info.chunks {
                        match &mut run {
                            Some((rid, r)) if *rid == id && r.end == units.start => {
                                r.end = units.end;
                            }
                            _ => {
                                if let Some((rid, r)) = run.replace((id, units)) {
                                    self.streams.on_chunk_acked(rid, r);
                                }
                            }
                        }
                    }
                    for c in info.controls {
                        self.streams.on_control_acked(c);
                    }
                    if let Some(l) = info.ack_largest {
                        self.acks.on_ack_acked(l);
                    }
                    if info.handshake_done {
                        self.handshake_done_owed = false;
                    }
                    if info.ticket {
                        self.on_ticket_acked();
                    }
                }
                Outcome::Lost(info) => {
                    let len = usize::from(info.len);
                    if info.size_probe {
                        self.mtu.on_probe_lost(now, info.pn, len);
                    } else {
                        self.mtu.on_packet_lost(now, info.pn, len);
                    }
                    if info.datagrams > 0 {
                        self.on_datagrams_outcome(info.pn, info.datagrams, false);
                    }
                    // Acknowledgements first, so the order of events on a
                    // stream stays the order of the outcomes.
                    if let Some((rid, r)) = run.take() {
                        self.streams.on_chunk_acked(rid, r);
                    }
                    for (id, units) in info.chunks {
                        self.streams.on_chunk_lost(id, units);
                    }
                    for c in info.controls {
                        self.streams.requeue_control(c);
                    }
                    if (info.handshake_done || info.ticket) && self.role == Role::Responder {
                        self.handshake_done_owed = true;
                    }
                }
            }
        }
        if let Some((rid, r)) = run {
            self.streams.on_chunk_acked(rid, r);
        }
        self.sync_datagram_size();
    }
}
