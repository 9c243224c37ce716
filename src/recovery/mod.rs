//! Recovery: packet-number bookkeeping, acknowledgements, round-trip time,
//! loss detection, probe timeouts, congestion control and pacing.
//!
//! Owns: the state a sender needs to decide what was delivered, what was lost,
//! when to wake up and how much it may send; and the state a receiver needs to
//! decide what to acknowledge and when.
//! Never: reads or writes bytes of the wire format, looks inside what a packet
//! carries (payloads are an opaque `T` handed back as [`Outcome`]s), reads a
//! clock, or grows with anything but what is in flight and a configured number
//! of acknowledgement ranges.
//!
//! The ideas follow RFC 9002 (QUIC loss detection and congestion control) and
//! RFC 9438 (CUBIC); the code and prose are this crate's own.
//!
//! ```text
//!   receive side                          send side
//!   ------------                          ---------
//!   AckTracker  -- ranges, delay -->  (session encodes an ACK frame)
//!   (session decodes an ACK frame) -- ranges, delay -->  Recovery<T>
//!                                                         |- RttEstimator
//!                                                         |- LossSignal (congestion or noise?)
//!                                                         |- DeliveryRate (rate samples, app-limited marks)
//!                                                         |- AnyController (NewReno | Cubic | Bbr)
//!                                                         '- Outcome<T>: Acked / Lost
//!   Pacer: spreads what the window allows over a round trip
//!   send_quantum: the pacer's burst policy and the window room it buys
//! ```

pub mod ack_tracker;
pub mod congestion;
pub mod loss_signal;
pub mod pacing;
pub mod rtt;
pub mod send_quantum;
pub mod sent;

use core::time::Duration;

pub use ack_tracker::AckTracker;
pub use congestion::{AnyController, Bbr, Controller, ControllerPhase, Cubic, NewReno, RateSample};
pub use loss_signal::LossSignal;
pub use pacing::Pacer;
pub use rtt::RttEstimator;
pub use sent::{Outcome, Recovery, RecoveryStats, TimeoutAction};

/// Which congestion controller a session runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ControllerKind {
    /// Classic additive increase, multiplicative decrease (halving on loss).
    NewReno,
    /// CUBIC: window growth as a cubic function of time since the last
    /// reduction, with a Reno-friendly floor.
    Cubic,
    /// BBR-style: paces at a model of the path's bottleneck rate and keeps
    /// about two bandwidth-delay products in flight; random loss below its
    /// congestion threshold does not slow it (see [`congestion::bbr`]).
    ///
    /// The default, chosen by the simulator table in `docs/PERFORMANCE.md`
    /// (100 Mbit/s, 40 ms): it keeps 0.92-0.67 of the link (over `1 - loss`) at 1-20 %
    /// random loss where CUBIC falls to 0.23 at 5 %; with an 8-BDP buffer
    /// its 95th-percentile RTT is 1.3x the path's where CUBIC's is 9x; two
    /// BBR sessions share within 2 %, and one BBR against one CUBIC session
    /// splits about 60/40. CUBIC fills a clean path 1.5 points better.
    #[default]
    Bbr,
}

/// A ratio `num / den` of two small integers, used where the tuning knob is a
/// fraction (so arithmetic stays exact and float-free).
///
/// A zero denominator is read as one, so no ratio can make the core panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ratio {
    /// Numerator.
    pub num: u32,
    /// Denominator (zero is treated as one).
    pub den: u32,
}

impl Ratio {
    /// `duration * num / den`, saturating.
    pub fn of(self, duration: Duration) -> Duration {
        let den = u128::from(self.den.max(1));
        let nanos = duration.as_nanos().saturating_mul(u128::from(self.num)) / den;
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

/// Tuning of the recovery layer. Every bound is here; the defaults are the
/// ones RFC 9002 recommends unless a field says otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoveryConfig {
    /// RTT assumed before the first sample. Default 100 ms.
    pub initial_rtt: Duration,
    /// Longest this endpoint delays an acknowledgement, and the longest it
    /// assumes the peer does (until told otherwise through
    /// [`Recovery::set_peer_max_ack_delay`]). Default 25 ms.
    pub max_ack_delay: Duration,
    /// Acknowledge at once after this many ack-eliciting packets arrived since
    /// the last acknowledgement. Default 2 (every second packet); 0 and 1 both
    /// mean "every packet".
    pub ack_eliciting_threshold: u32,
    /// A packet is lost once a packet this many numbers later is
    /// acknowledged. Default 3. Once a loss is found spurious (the packet
    /// is acknowledged after all), the path reorders and only the time
    /// threshold declares losses.
    pub packet_threshold: u64,
    /// A packet is lost once it is older than this multiple of the RTT while
    /// a later packet was acknowledged. Default 9/8; spurious losses raise
    /// it (up to 2) to cover the lateness seen.
    pub time_threshold: Ratio,
    /// Timer granularity: the shortest loss delay and the floor of the RTT
    /// variance term in the probe timeout. Default 1 ms.
    pub granularity: Duration,
    /// Largest datagram the session sends, in bytes; the unit of the
    /// congestion window. Default 1452.
    pub max_datagram_size: usize,
    /// Congestion window at start, in datagrams. Default 10.
    pub initial_window_packets: u64,
    /// Smallest congestion window, in datagrams. Default 2.
    pub minimum_window_packets: u64,
    /// Losses spanning this many probe timeouts (with no acknowledgement in
    /// between) are persistent congestion and collapse the window to its
    /// minimum. Default 3.
    pub persistent_congestion_threshold: u32,
    /// Most ranges an [`AckTracker`] remembers; older ranges are forgotten
    /// first. Default 32.
    pub max_ack_ranges: usize,
    /// After this many non-ack-eliciting packets in a row,
    /// [`Recovery::should_elicit_ack`] asks the session to make the next
    /// packet ack-eliciting, so that pure acknowledgements are themselves
    /// eventually acknowledged (or declared lost) and their bookkeeping freed.
    /// Default 20.
    pub elicit_ack_after: u32,
    /// Congestion controller. Default [`ControllerKind::Bbr`] (the
    /// simulated-network tables of `docs/PERFORMANCE.md` say why).
    pub controller: ControllerKind,
    /// Loss the controller tolerates without shrinking the window while the
    /// RTT shows no standing queue: a smoothed fraction of packets lost per
    /// round trip (see [`LossSignal`]). Default 1/20. Zero makes every loss
    /// a congestion signal, as in classic loss-based control.
    pub tolerated_loss: Ratio,
    /// Queueing delay, as a fraction of the minimum RTT, above which any
    /// loss counts as congestion (a standing queue that may have
    /// overflowed). Default 1/8 (5 ms on a 40 ms path).
    pub standing_queue: Ratio,
    /// How late the caller's timer may fire (a tokio timer: 1 ms). Above
    /// zero, a pacing burst may hold what the pacing rate allows in that
    /// long (10 to 256 datagrams) rather than asking for wake-ups finer than
    /// the timer can give; and a rate-modelling controller's window leaves
    /// room for three such bursts until the first loss
    /// ([`Recovery::set_send_quantum`]). Default zero: bursts of 10
    /// datagrams, the window as the controller sets it.
    pub pacing_granularity: Duration,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig {
            initial_rtt: Duration::from_millis(100),
            max_ack_delay: Duration::from_millis(25),
            ack_eliciting_threshold: 2,
            packet_threshold: 3,
            time_threshold: Ratio { num: 9, den: 8 },
            granularity: Duration::from_millis(1),
            max_datagram_size: 1452,
            initial_window_packets: 10,
            minimum_window_packets: 2,
            persistent_congestion_threshold: 3,
            max_ack_ranges: 32,
            elicit_ack_after: 20,
            controller: ControllerKind::Bbr,
            tolerated_loss: Ratio { num: 1, den: 20 },
            standing_queue: Ratio { num: 1, den: 8 },
            pacing_granularity: Duration::ZERO,
        }
    }
}

impl RecoveryConfig {
    /// `max_datagram_size` as a window unit (at least one byte).
    pub(crate) fn datagram_bytes(&self) -> u64 {
        u64::try_from(self.max_datagram_size)
            .unwrap_or(u64::MAX)
            .max(1)
    }
}

/// Errors the recovery layer reports to the session. Each one means the peer
/// sent something impossible; the session decides whether to close.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryError {
    /// The peer acknowledged a packet number this endpoint never sent.
    #[error("acknowledgement of packet {0}, which was never sent")]
    AckOfUnsentPacket(u64),
}

/// `usize` to `u64` without a cast that could truncate on exotic targets.
pub(crate) fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_values() {
        let c = RecoveryConfig::default();
        assert_eq!(c.initial_rtt, Duration::from_millis(100));
        assert_eq!(c.max_ack_delay, Duration::from_millis(25));
        assert_eq!(c.ack_eliciting_threshold, 2);
        assert_eq!(c.packet_threshold, 3);
        assert_eq!(c.time_threshold, Ratio { num: 9, den: 8 });
        assert_eq!(c.granularity, Duration::from_millis(1));
        assert_eq!(c.max_datagram_size, 1452);
        assert_eq!(c.initial_window_packets, 10);
        assert_eq!(c.minimum_window_packets, 2);
        assert_eq!(c.persistent_congestion_threshold, 3);
        assert_eq!(c.max_ack_ranges, 32);
        assert_eq!(c.controller, ControllerKind::Bbr);
        assert_eq!(c.tolerated_loss, Ratio { num: 1, den: 20 });
        assert_eq!(c.standing_queue, Ratio { num: 1, den: 8 });
    }

    #[test]
    fn ratio_scales_and_tolerates_zero_denominator() {
        let nine_eighths = Ratio { num: 9, den: 8 };
        assert_eq!(
            nine_eighths.of(Duration::from_millis(80)),
            Duration::from_millis(90)
        );
        let broken = Ratio { num: 3, den: 0 };
        assert_eq!(
            broken.of(Duration::from_millis(1)),
            Duration::from_millis(3)
        );
        assert_eq!(
            nine_eighths.of(Duration::MAX),
            Duration::from_nanos(u64::MAX)
        );
    }
}
