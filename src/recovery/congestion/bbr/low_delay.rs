//! Low delay: the queue allowance, UP's pacing gain and start-up's window
//! gain of a flow whose session carries latency-sensitive traffic.
//!
//! Owns: the three values a flow in low-delay mode uses, and which applies.
//! Never: changes a phase, when one ends, or anything else of the model:
//! a flow not in the mode runs exactly as the module notes of
//! [`super`] say.
//!
//! A session that carries unreliable datagrams beside its streams (a
//! game's state, a voice frame) says so
//! ([`Controller::set_low_delay`](crate::recovery::congestion::Controller::set_low_delay));
//! every such datagram crosses the queue this flow keeps at the
//! bottleneck. While told, the queue allowance is 5 ms instead of 20 and UP
//! paces at 1.08x instead of 1.25x, so a probe adds about 8 % of a BDP of
//! queue instead of 25 %. Pacing at the estimate already keeps the queue
//! near empty in CRUISE; what the allowance and UP's gain bound is the
//! queue of the probing rounds and the window's headroom. 1.08x, not less:
//! UP goes on while a round lifts the estimate by 5 %, which a gain of
//! 1.05 could never show.
//!
//! The fair rule (`fair.rs`) aims for two datagrams of this flow's data in
//! the bottleneck queue instead of eight.
//!
//! Start-up's window is 1.1x the estimate's BDP instead of 2x. Start-up
//! paces at 2.77x and learns that the pipe is full a round trip after it
//! filled, so the window is what bounds the queue it builds meanwhile:
//! with 2x, up to one BDP (a one-BDP buffer full, datagrams behind it
//! delayed by a whole round trip for about 300 ms); with 1.1x, a tenth of
//! one. The estimate then grows about 10 % a round instead of doubling
//! (each round delivers what the window let through), so the plateau test
//! (25 % in three rounds) keeps start-up going; on a 20 Mbit/s x 60 ms
//! path start-up takes about 20 rounds (1.2 s) instead of 9.
//!
//! The cost is the speed of probing: an estimate grows by at most 8 % a
//! round of UP instead of 25 %, and by about 10 % a round of start-up, so
//! a flow in this mode takes longer to claim capacity that opens up, and
//! yields to a flow that is not in it. Its goodput on a path it has to
//! itself is close to the same (simulated 20 Mbit/s, 60 ms, 1 % loss:
//! bulk at 0.93 of what the datagrams leave in this mode, 0.94 without
//! it; datagram one-way delay p99 over the whole run 39.1 ms in this mode
//! against a 30 ms path, 51.6 ms with start-up's 2x window; figures and
//! commands in `docs/PERFORMANCE.md`, "Datagrams beside bulk").

use core::time::Duration;

use super::{Bbr, BbrPhase, CWND_GAIN, QUEUE_ALLOWANCE, UP_PACING};

/// UP's pacing gain in low-delay mode, per cent.
const UP_PACING_LOW_DELAY: u64 = 108;
/// The queue allowance in low-delay mode.
const QUEUE_ALLOWANCE_LOW_DELAY: Duration = Duration::from_millis(5);
/// Start-up's window gain in low-delay mode, per cent.
const STARTUP_CWND_GAIN_LOW_DELAY: u64 = 110;

impl Bbr {
    /// UP's pacing gain, per cent.
    pub(super) fn up_pacing(&self) -> u64 {
        if self.low_delay {
            UP_PACING_LOW_DELAY
        } else {
            UP_PACING
        }
    }

    /// The queue a flow may keep in the probing cycle, in time at its
    /// estimate.
    pub(super) fn queue_allowance(&self) -> Duration {
        if self.low_delay {
            QUEUE_ALLOWANCE_LOW_DELAY
        } else {
            QUEUE_ALLOWANCE
        }
    }

    /// The window's gain over the estimate's BDP, per cent.
    pub(super) fn cwnd_gain(&self) -> u64 {
        if self.low_delay && self.phase == BbrPhase::Startup {
            STARTUP_CWND_GAIN_LOW_DELAY
        } else {
            CWND_GAIN
        }
    }
}
