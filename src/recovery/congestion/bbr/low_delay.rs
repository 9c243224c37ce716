//! Low delay: the queue allowance and UP's pacing gain of a flow whose
//! session carries latency-sensitive traffic.
//!
//! Owns: the two values a flow in low-delay mode uses, and which applies.
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
//! The cost is the speed of probing: an estimate grows by at most 8 % a
//! round of UP instead of 25 %, so a flow in this mode takes longer to
//! claim capacity that opens up, and yields to a flow that is not in it.
//! Its goodput on a path it has to itself is the same (simulated
//! 20 Mbit/s, 60 ms, 1 % loss: bulk at 0.94 of what the datagrams leave
//! either way, datagram one-way delay p99 after start-up 38.6 ms in this
//! mode and 59.8 ms without it against a 30 ms path; figures and commands
//! in `docs/PERFORMANCE.md`, "Datagrams beside bulk").

use core::time::Duration;

use super::{Bbr, QUEUE_ALLOWANCE, UP_PACING};

/// UP's pacing gain in low-delay mode, per cent.
const UP_PACING_LOW_DELAY: u64 = 108;
/// The queue allowance in low-delay mode.
const QUEUE_ALLOWANCE_LOW_DELAY: Duration = Duration::from_millis(5);

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
}
