//! The send side's counters.
//!
//! Owns: [`RecoveryStats`], the totals a [`Recovery`] keeps over its life.
//! Never: decides anything; the one counter a decision reads is
//! `packets_lost` (the send quantum's room lasts until the first loss).

#[cfg(doc)]
use super::Recovery;

/// Counters over the life of a [`Recovery`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecoveryStats {
    /// Packets handed to [`Recovery::on_packet_sent`].
    pub packets_sent: u64,
    /// Bytes of those packets.
    pub bytes_sent: u64,
    /// Packets acknowledged.
    pub packets_acked: u64,
    /// Packets declared lost.
    pub packets_lost: u64,
    /// Bytes of the packets declared lost.
    pub bytes_lost: u64,
    /// Window reductions (at most one per round trip).
    pub congestion_events: u64,
    /// Loss events not taken as congestion (no standing queue, loss rate
    /// within tolerance): the packets were resent, the window kept.
    pub tolerated_loss_events: u64,
    /// Times the window collapsed for persistent congestion.
    pub persistent_congestion_events: u64,
    /// Probe timeouts that fired.
    pub probe_timeouts: u64,
    /// Packets declared lost and later acknowledged after all (their loss was
    /// spurious). Counted only for recent losses.
    pub spurious_losses: u64,
    /// RTT samples taken.
    pub rtt_samples: u64,
}
