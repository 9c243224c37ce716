//! What a congestion controller is doing, as one type for every reader:
//! the controllers report it, [`crate::CongestionStats`] carries it, trace
//! metrics events carry it and the qlog writer spells it.
//!
//! Owns: the names of the phases of every controller this crate has (the
//! loss-based ones' slow start, congestion avoidance and recovery; BBR's
//! start-up, drain, probing cycle and min-RTT probing) and their short
//! snake_case spelling.
//! Never: decides a phase: each controller keeps its own state machine
//! and only reports where it is.

/// Where a congestion controller is.
///
/// The loss-based controllers (NewReno, CUBIC) are in
/// [`SlowStart`](Self::SlowStart), [`Recovery`](Self::Recovery) or
/// [`CongestionAvoidance`](Self::CongestionAvoidance); BBR is in one of
/// its own phases ([`Startup`](Self::Startup) through
/// [`ProbeRtt`](Self::ProbeRtt)). A later controller may add variants.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ControllerPhase {
    /// Loss-based: the window grows by what is acknowledged (doubling per
    /// round trip) until a loss or a growing delay ends it.
    SlowStart,
    /// Loss-based: the window was just reduced; acknowledgements of packets
    /// sent before the reduction neither grow it nor reduce it again. Ends
    /// when a packet sent after the reduction is acknowledged.
    Recovery,
    /// Loss-based: the controller's own growth rule after slow start (one
    /// datagram per window for NewReno, the cubic curve for CUBIC).
    CongestionAvoidance,
    /// BBR: exponential search for the bottleneck rate.
    Startup,
    /// BBR: draining the queue start-up built.
    Drain,
    /// BBR probing cycle: sending below the estimate to drain a queue.
    ProbeBwDown,
    /// BBR probing cycle: sending at the estimate.
    ProbeBwCruise,
    /// BBR probing cycle: one round at the estimate with the lower bounds
    /// lifted.
    ProbeBwRefill,
    /// BBR probing cycle: sending above the estimate.
    ProbeBwUp,
    /// BBR: measuring the minimum RTT with a small window.
    ProbeRtt,
}

impl ControllerPhase {
    /// The phase as a short snake_case name (`"slow_start"`,
    /// `"congestion_avoidance"`, `"recovery"`, `"probe_bw_up"`, ...). The
    /// loss-based names are the congestion states qlog names.
    pub fn name(self) -> &'static str {
        match self {
            ControllerPhase::SlowStart => "slow_start",
            ControllerPhase::Recovery => "recovery",
            ControllerPhase::CongestionAvoidance => "congestion_avoidance",
            ControllerPhase::Startup => "startup",
            ControllerPhase::Drain => "drain",
            ControllerPhase::ProbeBwDown => "probe_bw_down",
            ControllerPhase::ProbeBwCruise => "probe_bw_cruise",
            ControllerPhase::ProbeBwRefill => "probe_bw_refill",
            ControllerPhase::ProbeBwUp => "probe_bw_up",
            ControllerPhase::ProbeRtt => "probe_rtt",
        }
    }
}

impl core::fmt::Display for ControllerPhase {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::ControllerPhase;

    #[test]
    fn names_are_distinct_snake_case() {
        let all = [
            ControllerPhase::SlowStart,
            ControllerPhase::Recovery,
            ControllerPhase::CongestionAvoidance,
            ControllerPhase::Startup,
            ControllerPhase::Drain,
            ControllerPhase::ProbeBwDown,
            ControllerPhase::ProbeBwCruise,
            ControllerPhase::ProbeBwRefill,
            ControllerPhase::ProbeBwUp,
            ControllerPhase::ProbeRtt,
        ];
        for (i, a) in all.iter().enumerate() {
            assert!(a
                .name()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'));
            for b in &all[i + 1..] {
                assert_ne!(a.name(), b.name());
            }
        }
        assert_eq!(alloc::format!("{}", ControllerPhase::Recovery), "recovery");
    }
}
