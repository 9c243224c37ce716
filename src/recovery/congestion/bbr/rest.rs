//! BBR at rest: the model a quiet session keeps in a few words while its
//! controller is released, and the controller rebuilt from them.
//!
//! Owns: [`BbrRest`] and the restart from it.
//! Never: changes how the model is built or used: a rebuilt controller
//! runs the same state machine from the kept estimates.
//!
//! Restarting from idle keeps the model, as BBR does after an idle period:
//! the bandwidth filter (both cycles), the lower bounds, the upper inflight
//! bound, the minimum RTT with its age (so min-RTT probing comes when it is
//! due, not sooner or later), the baseline loss, the window and the pacing
//! rate. A controller past start-up resumes in the probing cycle's CRUISE
//! phase (gain 1: the model's rate, neither draining nor probing), its
//! cycle timer starting at the restart; one still in start-up resumes its
//! start-up. Round counting starts over with the session's fresh
//! delivery-rate sampler.

use core::time::Duration;

use super::{Bbr, BbrPhase, MAX_BASELINE_PM};
use crate::recovery::congestion::{mul_div, ControllerPhase, WindowLimits};
use crate::time::Instant;

/// What a resting BBR keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BbrRest {
    cwnd: u64,
    pacing_rate: u64,
    bw: [u64; 2],
    bw_lo: u64,
    inflight_lo: u64,
    inflight_hi: u64,
    /// Microseconds (saturating at 71 minutes); 0 before the first sample
    /// (a sample is never 0).
    min_rtt_us: u32,
    min_rtt_stamp: Instant,
    datagram: u32,
    baseline_pm: u16,
    baseline_rounds: u32,
    filled_pipe: bool,
}

impl Bbr {
    /// The model, to keep while the session rests.
    pub(crate) fn rest(&self) -> BbrRest {
        BbrRest {
            cwnd: self.cwnd,
            pacing_rate: self.pacing_rate,
            bw: self.bw,
            bw_lo: self.bw_lo,
            inflight_lo: self.inflight_lo,
            inflight_hi: self.inflight_hi,
            min_rtt_us: self.min_rtt.map_or(0, |d| {
                u32::try_from(d.as_micros()).unwrap_or(u32::MAX).max(1)
            }),
            min_rtt_stamp: self.min_rtt_stamp,
            datagram: u32::try_from(self.limits.datagram).unwrap_or(u32::MAX),
            baseline_pm: u16::try_from(self.baseline_pm.min(MAX_BASELINE_PM)).unwrap_or(u16::MAX),
            baseline_rounds: u32::try_from(self.baseline_rounds).unwrap_or(u32::MAX),
            filled_pipe: self.filled_pipe,
        }
    }

    /// A controller restarted at `now` from `r` (see the module notes).
    pub(crate) fn wake(
        limits: WindowLimits,
        initial_rtt: Duration,
        r: &BbrRest,
        now: Instant,
    ) -> Self {
        let mut b = Bbr::new(limits, initial_rtt);
        if u64::from(r.datagram) != limits.datagram {
            b.set_datagram_size(u64::from(r.datagram));
        }
        b.bw = r.bw;
        b.bw_lo = r.bw_lo;
        b.inflight_lo = r.inflight_lo;
        b.inflight_hi = r.inflight_hi;
        b.min_rtt = (r.min_rtt_us != 0).then(|| Duration::from_micros(u64::from(r.min_rtt_us)));
        b.min_rtt_stamp = r.min_rtt_stamp;
        b.baseline_pm = u64::from(r.baseline_pm);
        b.baseline_rounds = u64::from(r.baseline_rounds);
        b.cwnd = r.cwnd.max(b.min_cwnd());
        b.pacing_rate = r.pacing_rate;
        if r.filled_pipe {
            b.filled_pipe = true;
            b.phase = BbrPhase::ProbeBwCruise;
            b.cycle_start = now;
        }
        b
    }
}

impl BbrRest {
    /// The window, bytes.
    pub(crate) fn window(&self) -> u64 {
        self.cwnd
    }

    /// The pacing rate, bytes per second.
    pub(crate) fn pacing_rate(&self) -> u64 {
        self.pacing_rate
    }

    /// The rate the model sends at (as [`Bbr::bw`]).
    pub(crate) fn bw(&self) -> u64 {
        let bw = self.bw[0].max(self.bw[1]).min(self.bw_lo);
        mul_div(bw, 1000, 1000 - u64::from(self.baseline_pm))
    }

    /// The phase the controller resumes in.
    pub(crate) fn phase(&self) -> ControllerPhase {
        if self.filled_pipe {
            ControllerPhase::ProbeBwCruise
        } else {
            ControllerPhase::Startup
        }
    }

    /// The datagram size it rests with.
    pub(crate) fn datagram(&self) -> u64 {
        u64::from(self.datagram)
    }

    /// The datagram size changed while resting: applied on the restart.
    pub(crate) fn set_datagram_size(&mut self, bytes: u64) {
        self.datagram = u32::try_from(bytes).unwrap_or(u32::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recovery::congestion::Controller;
    use crate::recovery::RecoveryConfig;

    #[test]
    fn a_restart_keeps_the_model_and_cruises() {
        let cfg = RecoveryConfig::default();
        let limits = WindowLimits::from_config(&cfg);
        let mut b = Bbr::new(limits, cfg.initial_rtt);
        b.bw = [1_000_000, 2_000_000];
        b.min_rtt = Some(Duration::from_millis(40));
        b.min_rtt_stamp = Instant::from_millis(5);
        b.filled_pipe = true;
        b.phase = BbrPhase::ProbeBwUp;
        b.cwnd = 200_000;
        b.pacing_rate = 1_980_000;
        b.inflight_hi = 300_000;
        b.baseline_pm = 12;
        let r = b.rest();
        let now = Instant::from_millis(3000);
        let w = Bbr::wake(limits, cfg.initial_rtt, &r, now);
        assert_eq!(w.max_bw(), 2_000_000);
        assert_eq!(w.bw(), b.bw());
        assert_eq!(r.bw(), b.bw());
        assert_eq!(w.min_rtt(), Some(Duration::from_millis(40)));
        assert_eq!(w.min_rtt_stamp, Instant::from_millis(5));
        assert_eq!(w.inflight_hi(), 300_000);
        assert_eq!(w.baseline_loss_pm(), 12);
        assert_eq!(w.window(), 200_000);
        assert_eq!(w.pacing_rate(), Some(1_980_000));
        assert_eq!(w.phase(), ControllerPhase::ProbeBwCruise);
        assert_eq!(r.phase(), w.phase());
        assert_eq!(w.cycle_start, now);
        // One still in start-up resumes it, with what it measured.
        let mut s = Bbr::new(limits, cfg.initial_rtt);
        s.bw = [500_000, 0];
        let w = Bbr::wake(limits, cfg.initial_rtt, &s.rest(), now);
        assert_eq!(w.phase(), ControllerPhase::Startup);
        assert_eq!(w.max_bw(), 500_000);
        assert_eq!(w.min_rtt(), None);
    }
}
