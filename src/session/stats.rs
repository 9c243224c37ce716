//! Session-level statistics.
//!
//! Owns: counters of what a session sent, received, dropped and lost (its
//! datagrams' counters are kept with their queue and read here), the
//! snapshot types for the application, and their assembly from the
//! session's parts (recovery, streams, keys, the datagram size search).
//! Never: influences behaviour; counting and reading only.

use core::time::Duration;

use super::Session;
use crate::ids::{NodeId, SessionId};
use crate::recovery::ControllerPhase;
use crate::time::Instant;

/// Counters kept by a session.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counters {
    pub packets_sent: u64,
    pub packets_received: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub decrypt_failures: u64,
    pub replays_dropped: u64,
    pub stale_key_drops: u64,
}

/// A session's statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionStats {
    /// The session.
    pub session_id: SessionId,
    /// The peer's identity, once proven.
    pub remote_node: Option<NodeId>,
    /// Handshake completed and not closed.
    pub is_established: bool,
    /// When the session was created.
    pub created_at: Instant,
    /// Time since creation.
    pub uptime: Duration,
    /// Datagrams sent.
    pub packets_sent: u64,
    /// Datagrams received and authenticated.
    pub packets_received: u64,
    /// Bytes sent (whole datagrams).
    pub bytes_sent: u64,
    /// Bytes received (whole datagrams).
    pub bytes_received: u64,
    /// Packets declared lost.
    pub packets_lost: u64,
    /// Datagrams that failed authentication (tampered, wrong key).
    pub decrypt_failures: u64,
    /// Datagrams dropped as replays or duplicates (or older than the
    /// replay window), before authentication.
    pub replays_dropped: u64,
    /// Datagrams dropped because they were sealed under a receive key
    /// retired past its grace period (a key update ago).
    pub stale_key_drops: u64,
    /// Times this side updated its send key.
    pub key_updates_sent: u64,
    /// Times the peer updated its send key (this side's receive key).
    pub key_updates_received: u64,
    /// Smoothed round-trip time.
    pub rtt: Duration,
    /// Congestion window in bytes.
    pub congestion_window: u64,
    /// Bytes in flight.
    pub bytes_in_flight: u64,
    /// Sent packets still tracked by loss recovery (awaiting an ack or a
    /// loss verdict), pure acknowledgements included.
    pub packets_tracked: usize,
    /// Streams held (including closing ones).
    pub streams: usize,
    /// Session-level send credit left.
    pub send_window: u64,
    /// Session-level receive window.
    pub receive_window: u64,
    /// Bytes of received stream data held for the application on all
    /// streams: whole messages not yet read, and messages being
    /// reassembled. A peer pushing it past
    /// `StreamLimits::max_session_buffer` closes the session with
    /// `Violation::FlowControl`.
    pub receive_buffered: u64,
    /// Most `receive_buffered` has been at once over the session's life:
    /// what the receive side needed at its peak, against
    /// `StreamLimits::max_session_buffer`.
    pub receive_buffered_peak: u64,
    /// Datagram size the session's packets use now (UDP payload bytes):
    /// the base size at first, then what the path's size search found.
    pub datagram_size: usize,
    /// Datagram size probes sent (PING + PADDING, outside congestion
    /// control).
    pub mtu_probes_sent: u64,
    /// Datagram size probes declared lost (not counted in `packets_lost`).
    pub mtu_probes_lost: u64,
    /// Times the session fell back to the base size after packets above it
    /// kept getting lost while smaller ones got through.
    pub mtu_black_holes: u64,
    /// Delivery-rate estimate, bytes per second (as
    /// [`Session::delivery_rate`]).
    pub delivery_rate: u64,
    /// Unreliable datagrams sent (each once; never resent).
    pub datagrams_sent: u64,
    /// Unreliable datagrams received.
    pub datagrams_received: u64,
    /// Datagrams acknowledged (their packet was).
    pub datagrams_acked: u64,
    /// Datagrams sent whose packet was declared lost.
    pub datagrams_lost: u64,
    /// Datagrams dropped unsent because their deadline passed.
    pub datagrams_expired: u64,
    /// Datagrams dropped unsent: pushed out of the full send queue by newer
    /// ones, or larger than the path's datagram size became.
    pub datagrams_send_dropped: u64,
    /// Received datagrams dropped unread: pushed out of the full receive
    /// queue by newer ones.
    pub datagrams_recv_dropped: u64,
    /// Datagrams waiting in the send queue now.
    pub datagrams_queued: usize,
    /// Bytes of datagrams waiting in the send queue now (at most
    /// `DatagramLimits::send_queue_bytes`).
    pub datagram_queue_bytes: usize,
}

/// What the session's recovery knows about its path right now: cheap to
/// read (no counting), for simulators, traces and dashboards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CongestionStats {
    /// Most recent RTT sample (the initial RTT before any).
    pub latest_rtt: Duration,
    /// Smallest RTT sample.
    pub min_rtt: Duration,
    /// Smoothed RTT.
    pub smoothed_rtt: Duration,
    /// RTT samples taken so far.
    pub rtt_samples: u64,
    /// Congestion window in bytes.
    pub congestion_window: u64,
    /// Bytes in flight.
    pub bytes_in_flight: u64,
    /// The rate packets are paced at, bytes per second (the controller's
    /// own rate, or `5/4 * window / smoothed RTT`).
    pub pacing_rate: u64,
    /// Delivery-rate estimate, bytes per second: the controller's model of
    /// the bottleneck (BBR), else the latest delivery-rate sample.
    pub delivery_rate: u64,
    /// What the congestion controller is doing.
    pub phase: ControllerPhase,
}

impl Session {
    /// The path as recovery sees it: RTT, window, pacing and delivery
    /// rates, the controller's phase. Constant time.
    pub fn congestion_stats(&self) -> CongestionStats {
        let rtt = self.recovery.rtt();
        let cwnd = self.recovery.congestion_window();
        CongestionStats {
            latest_rtt: rtt.latest(),
            min_rtt: rtt.min(),
            smoothed_rtt: rtt.smoothed(),
            rtt_samples: self.recovery.stats().rtt_samples,
            congestion_window: cwnd,
            bytes_in_flight: self.recovery.bytes_in_flight(),
            pacing_rate: self.recovery.effective_pacing_rate(),
            delivery_rate: self.recovery.delivery_rate(),
            phase: self.recovery.controller_phase(),
        }
    }

    /// **Not API; fuzzing builds only** (`cfg(fuzzing)`): the streams the
    /// session holds, [`SessionStats::streams`] without assembling the
    /// rest, for a harness that checks the stream limit after every step.
    #[cfg(fuzzing)]
    #[doc(hidden)]
    pub fn fuzz_streams(&self) -> usize {
        self.streams.len()
    }

    /// Session statistics.
    pub fn stats(&self) -> SessionStats {
        let r = self.recovery.stats();
        let m = self.mtu.stats();
        let (send_window, receive_window) = self.streams.session_windows();
        let d = self.dgrams.counters();
        let (datagrams_queued, datagram_queue_bytes) = self.dgrams.queued();
        SessionStats {
            session_id: self.id,
            remote_node: self.remote_node(),
            is_established: self.is_established(),
            created_at: self.created_at,
            uptime: self.now.saturating_duration_since(self.created_at),
            packets_sent: self.counters.packets_sent,
            packets_received: self.counters.packets_received,
            bytes_sent: self.counters.bytes_sent,
            bytes_received: self.counters.bytes_received,
            packets_lost: r.packets_lost,
            decrypt_failures: self.counters.decrypt_failures,
            replays_dropped: self.counters.replays_dropped,
            stale_key_drops: self.counters.stale_key_drops,
            key_updates_sent: self.keys.as_ref().map_or(0, |k| k.updates_sent.into()),
            key_updates_received: self.keys.as_ref().map_or(0, |k| k.updates_received.into()),
            rtt: self.recovery.rtt().smoothed(),
            congestion_window: self.recovery.congestion_window(),
            bytes_in_flight: self.recovery.bytes_in_flight(),
            packets_tracked: self.recovery.outstanding().count(),
            streams: self.streams.len(),
            send_window,
            receive_window,
            receive_buffered: self.streams.recv_buffered(),
            receive_buffered_peak: self.streams.recv_buffered_peak(),
            datagram_size: self.mtu.current(),
            mtu_probes_sent: m.probes_sent,
            mtu_probes_lost: m.probes_lost,
            mtu_black_holes: m.black_holes,
            delivery_rate: self.recovery.delivery_rate(),
            datagrams_sent: d.sent,
            datagrams_received: d.received,
            datagrams_acked: d.acked,
            datagrams_lost: d.lost,
            datagrams_expired: d.expired,
            datagrams_send_dropped: d.send_dropped,
            datagrams_recv_dropped: d.recv_dropped,
            datagrams_queued,
            datagram_queue_bytes,
        }
    }
}
