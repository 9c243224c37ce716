//! CUBIC congestion control, after the ideas of RFC 9438.
//!
//! Owns: a window that, after a reduction, grows as a cubic function of the
//! time since the reduction: fast (concave) while far below the window where
//! the last loss happened, flat near it, fast again (convex) beyond it. A
//! Reno-friendly estimate is kept alongside and the window never falls below
//! it, so CUBIC is never slower than an AIMD flow with the same reduction
//! factor. Fast convergence lowers the remembered peak when losses come
//! before reaching it, leaving room for newer flows.
//! Never: uses floating point or `libm`: times are integer microseconds,
//! windows integer bytes, and the cube root is an integer search, so results
//! are identical on every target.

use super::{mul_div, Controller, ControllerPhase, LossBasedWindow, LossRest, WindowLimits};
use crate::recovery::rtt::RttEstimator;
use crate::recovery::to_u64;
use crate::time::Instant;

/// Multiplicative decrease: the window keeps `BETA_NUM / BETA_DEN` on loss.
const BETA_NUM: u64 = 7;
const BETA_DEN: u64 = 10;
/// Fast convergence keeps `(1 + beta) / 2` of the window as the peak.
const CONVERGE_NUM: u64 = 17;
const CONVERGE_DEN: u64 = 20;
/// Reno-friendly increase per round trip, in datagrams:
/// `3 * (1 - beta) / (1 + beta) = 9 / 17`.
const ALPHA_NUM: u64 = 9;
const ALPHA_DEN: u64 = 17;
/// Cubic growth factor C = 0.4 datagrams per second cubed. With time in
/// microseconds, `delta_bytes = 4 * datagram * d^3 / 10^19`.
const C_BYTES_NUM: u128 = 4;
const C_BYTES_DEN: u128 = 10_000_000_000_000_000_000;
/// Longest distance from the peak the curve is evaluated at (about 19 h);
/// beyond it the window is saturated anyway and the cube would overflow.
const MAX_CURVE_MICROS: u64 = 1 << 36;

/// CUBIC window growth with a Reno-friendly floor.
#[derive(Clone, Debug)]
pub struct Cubic {
    w: LossBasedWindow,
    /// Window where the last reduction happened (after fast convergence).
    w_max: u64,
    /// Start of the current congestion-avoidance epoch, set on its first ack.
    epoch_start: Option<Instant>,
    /// Time, in microseconds from the epoch start, at which the curve
    /// reaches `w_max`.
    k_micros: u64,
    /// Reno-friendly window estimate, in bytes.
    w_est: u64,
    est_carry: u128,
    grow_carry: u128,
    last_ack: Option<Instant>,
}

impl Cubic {
    /// The datagram size changed (the path's size search moved): the unit
    /// of growth and the minimum window follow it; the window itself, in
    /// bytes, is kept.
    pub fn set_datagram_size(&mut self, bytes: u64) {
        self.w.set_datagram_size(bytes);
    }

    /// A controller starting at `limits.initial`, in slow start.
    pub fn new(limits: WindowLimits) -> Self {
        Cubic {
            w: LossBasedWindow::new(limits),
            w_max: 0,
            epoch_start: None,
            k_micros: 0,
            w_est: 0,
            est_carry: 0,
            grow_carry: 0,
            last_ack: None,
        }
    }

    /// What the controller keeps while its session rests: the window,
    /// the threshold and the plateau.
    pub(crate) fn rest(&self) -> LossRest {
        LossRest {
            w_max: self.w_max,
            ..self.w.rest()
        }
    }

    /// The controller waking from `r`: window, threshold and plateau
    /// kept; the next acknowledgement starts a new epoch from the current
    /// window, so the curve does not leap forward by the time spent
    /// idle (RFC 9438 section 5.8).
    pub(crate) fn wake(limits: WindowLimits, r: &LossRest) -> Self {
        Cubic {
            w: LossBasedWindow::wake(limits, r),
            w_max: r.w_max,
            ..Cubic::new(limits)
        }
    }

    /// Slow-start threshold in bytes (`u64::MAX` before the first loss).
    pub fn ssthresh(&self) -> u64 {
        self.w.ssthresh
    }

    /// The window at the last reduction (the curve's plateau), in bytes.
    pub fn w_max(&self) -> u64 {
        self.w_max
    }

    /// The curve `W(t) = C * (t - K)^3 + W_max`, in bytes, `t` in
    /// microseconds since the epoch start.
    fn w_cubic(&self, t_micros: u64) -> u64 {
        let (distance, above) = if t_micros >= self.k_micros {
            (t_micros - self.k_micros, true)
        } else {
            (self.k_micros - t_micros, false)
        };
        let d = u128::from(distance.min(MAX_CURVE_MICROS));
        let delta = C_BYTES_NUM
            .saturating_mul(u128::from(self.w.limits.datagram))
            .saturating_mul(d.saturating_mul(d).saturating_mul(d))
            / C_BYTES_DEN;
        let delta = u64::try_from(delta).unwrap_or(u64::MAX);
        if above {
            self.w_max.saturating_add(delta)
        } else {
            self.w_max.saturating_sub(delta)
        }
    }

    /// Begins a congestion-avoidance epoch at `now` from the current window.
    fn start_epoch(&mut self, now: Instant) {
        self.epoch_start = Some(now);
        self.w_est = self.w.window;
        self.est_carry = 0;
        self.grow_carry = 0;
        if self.w.window < self.w_max {
            // K^3 = (W_max - cwnd) / C, in datagrams and seconds; here in
            // bytes and microseconds: K^3 = diff * 10^19 / (4 * datagram).
            let diff = u128::from(self.w_max - self.w.window);
            let cube = diff.saturating_mul(C_BYTES_DEN)
                / C_BYTES_NUM.saturating_mul(u128::from(self.w.limits.datagram));
            self.k_micros = cube_root(cube);
        } else {
            self.k_micros = 0;
            self.w_max = self.w.window;
        }
    }

    fn congestion_avoidance(&mut self, now: Instant, bytes: u64, rtt: &RttEstimator) {
        let epoch = match self.epoch_start {
            Some(epoch) => epoch,
            None => {
                self.start_epoch(now);
                now
            }
        };
        // Reno-friendly estimate: alpha datagrams per window acknowledged,
        // and plain Reno (one datagram) once past the old peak.
        let (a_num, a_den) = if self.w_est < self.w_max {
            (ALPHA_NUM, ALPHA_DEN)
        } else {
            (1, 1)
        };
        let num = u128::from(bytes)
            .saturating_mul(u128::from(self.w.limits.datagram))
            .saturating_mul(u128::from(a_num))
            .saturating_add(self.est_carry);
        let den = u128::from(self.w.window.max(1)).saturating_mul(u128::from(a_den));
        self.w_est = self
            .w_est
            .saturating_add(u64::try_from(num / den).unwrap_or(u64::MAX));
        self.est_carry = num % den;

        let t = now - epoch;
        let t_micros =
            u64::try_from(t.saturating_add(rtt.smoothed()).as_micros()).unwrap_or(u64::MAX);
        let cubic = self.w_cubic(t_micros);
        if cubic < self.w_est {
            // Reno-friendly region.
            self.w.window = self.w.window.max(self.w_est);
            return;
        }
        // Concave or convex region: close the gap to the target one window
        // at a time, never more than half a window per round trip.
        let ceiling = self.w.window.saturating_add(self.w.window / 2);
        let target = cubic.clamp(self.w.window, ceiling.max(self.w.window));
        let num = u128::from(target - self.w.window)
            .saturating_mul(u128::from(bytes))
            .saturating_add(self.grow_carry);
        let den = u128::from(self.w.window.max(1));
        self.w.window = self
            .w
            .window
            .saturating_add(u64::try_from(num / den).unwrap_or(u64::MAX));
        self.grow_carry = num % den;
        self.w.window = self.w.window.max(self.w_est);
    }
}

impl Controller for Cubic {
    fn on_packet_sent(&mut self, _now: Instant, _bytes: usize) {}

    fn on_ack(
        &mut self,
        now: Instant,
        sent_time: Instant,
        bytes: usize,
        rtt: &RttEstimator,
        app_limited: bool,
    ) {
        let last_ack = self.last_ack.replace(now);
        if !self.w.on_ack(sent_time) {
            return;
        }
        if app_limited {
            // Time spent not using the window must not count as time the
            // curve could have grown in: slide the epoch forward.
            if let (Some(epoch), Some(last)) = (self.epoch_start, last_ack) {
                self.epoch_start = Some(epoch + (now - last));
            }
            return;
        }
        let bytes = to_u64(bytes);
        if self.w.slow_start(now, sent_time, bytes, rtt) {
            return;
        }
        // Congestion avoidance (from the acknowledgement that ended slow
        // start on: the curve starts there).
        self.congestion_avoidance(now, bytes, rtt);
    }

    fn on_congestion_event(&mut self, now: Instant, sent_time: Instant, persistent: bool) {
        if let Some(before) = self.w.reduce(now, sent_time, BETA_NUM, BETA_DEN) {
            self.w_max = if before < self.w_max {
                mul_div(before, CONVERGE_NUM, CONVERGE_DEN)
            } else {
                before
            };
            self.epoch_start = None;
        }
        if persistent {
            self.w.collapse();
            self.epoch_start = None;
        }
    }

    fn window(&self) -> u64 {
        self.w.window
    }

    fn in_slow_start(&self) -> bool {
        self.w.in_slow_start()
    }

    fn in_recovery(&self, sent_time: Instant) -> bool {
        self.w.in_recovery(sent_time)
    }

    fn phase(&self) -> ControllerPhase {
        self.w.phase()
    }
}

/// Largest `x` with `x^3 <= n`, by binary search (no floats, no `libm`).
fn cube_root(n: u128) -> u64 {
    // cbrt(2^128) < 2^43.
    let (mut lo, mut hi) = (0u64, 1u64 << 43);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        let m = u128::from(mid);
        let fits = m
            .checked_mul(m)
            .and_then(|sq| sq.checked_mul(m))
            .is_some_and(|cube| cube <= n);
        if fits {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recovery::RecoveryConfig;
    use alloc::vec::Vec;
    use core::time::Duration;

    const MSS: u64 = 1000;

    fn cubic() -> Cubic {
        Cubic::new(WindowLimits::from_config(&RecoveryConfig {
            max_datagram_size: MSS as usize,
            initial_window_packets: 100,
            ..RecoveryConfig::default()
        }))
    }

    /// Acks one full window per round trip, spread over the round, packets
    /// sent one RTT before their ack. Returns the window after each round.
    fn run_rounds(c: &mut Cubic, start: Instant, rtt: Duration, rounds: usize) -> Vec<u64> {
        let est = RttEstimator::new(rtt);
        let mut now = start;
        let mut out = Vec::new();
        for _ in 0..rounds {
            let packets = (c.window() / MSS).max(1);
            let step = rtt / u32::try_from(packets).unwrap();
            for _ in 0..packets {
                now += step;
                c.on_ack(now, now - rtt, MSS as usize, &est, false);
            }
            out.push(c.window());
        }
        out
    }

    #[test]
    fn cube_root_is_exact_on_cubes_and_floors_between() {
        assert_eq!(cube_root(0), 0);
        assert_eq!(cube_root(26), 2);
        assert_eq!(cube_root(27), 3);
        assert_eq!(cube_root(1_000_000_000_000), 10_000);
        assert_eq!(cube_root(u128::MAX), 6_981_463_658_331);
    }

    #[test]
    fn loss_reduces_to_beta_and_fast_convergence_lowers_peak() {
        let mut c = cubic();
        let t = Instant::from_millis;
        c.on_congestion_event(t(10), t(5), false);
        assert_eq!(c.window(), 70_000);
        assert_eq!(c.w_max(), 100_000);
        c.on_congestion_event(t(11), t(6), false);
        assert_eq!(c.window(), 70_000, "once per round");
        c.on_congestion_event(t(500), t(400), false);
        assert_eq!(c.window(), 49_000);
        assert_eq!(
            c.w_max(),
            59_500,
            "lost before regaining the peak: 0.85 * 70k"
        );
        c.on_congestion_event(t(900), t(800), true);
        assert_eq!(c.window(), 2_000);
        assert!(c.in_slow_start());
    }

    #[test]
    fn growth_after_loss_is_concave_then_convex() {
        let mut c = cubic();
        let rtt = Duration::from_millis(100);
        c.on_congestion_event(
            Instant::from_millis(1_000),
            Instant::from_millis(900),
            false,
        );
        let windows = run_rounds(&mut c, Instant::from_millis(1_001), rtt, 80);
        // K = cbrt(30 datagrams / 0.4) = cbrt(75) s, about 4.2 s: 42 rounds.
        let growth: Vec<u64> = windows.windows(2).map(|w| w[1] - w[0]).collect();
        // Concave: growth shrinks every round while approaching the peak...
        assert!(growth[..41].windows(2).all(|g| g[0] > g[1]), "{growth:?}");
        assert!(windows[41] < 100_000 && windows[41] > 99_900, "{windows:?}");
        // ...then convex: it grows every round once past it,
        assert!(growth[42..58].windows(2).all(|g| g[0] < g[1]), "{growth:?}");
        // until the Reno-friendly line (one datagram per round beyond the
        // old peak) is steeper than the curve; it never falls below that line.
        for (round, &w) in windows.iter().enumerate() {
            let reno_friendly = 70_000 + (round as u64 + 1) * MSS * ALPHA_NUM / ALPHA_DEN - MSS;
            assert!(w >= reno_friendly, "round {round}: {w} < {reno_friendly}");
        }
        assert!(
            growth[60..].iter().all(|&g| g >= 9 * MSS / 10),
            "{growth:?}"
        );
    }

    #[test]
    fn never_slower_than_reno_friendly_estimate() {
        // A short RTT makes the Reno-friendly line steeper than the curve.
        let mut c = cubic();
        let rtt = Duration::from_millis(1);
        c.on_congestion_event(
            Instant::from_millis(1_000),
            Instant::from_millis(999),
            false,
        );
        let start = c.window();
        let windows = run_rounds(&mut c, Instant::from_millis(1_001), rtt, 200);
        let mut reno_friendly = start;
        for (round, &w) in windows.iter().enumerate() {
            // Independent AIMD(9/17, 0.7) line, rounded down generously.
            let rounds = round as u64 + 1;
            reno_friendly = start + rounds * MSS * ALPHA_NUM / ALPHA_DEN - MSS;
            assert!(w >= reno_friendly, "round {round}: {w} < {reno_friendly}");
        }
        assert!(reno_friendly > start + 90 * MSS);
    }

    #[test]
    fn slow_start_and_app_limited() {
        let mut c = cubic();
        let rtt = RttEstimator::new(Duration::from_millis(100));
        let t = Instant::from_millis;
        c.on_ack(t(100), t(0), 1000, &rtt, false);
        assert_eq!(c.window(), 101_000);
        c.on_ack(t(100), t(0), 1000, &rtt, true);
        assert_eq!(c.window(), 101_000);
        // In congestion avoidance, an app-limited pause does not count as
        // growth time.
        c.on_congestion_event(t(200), t(150), false);
        let mut idle = c.clone();
        let w0 = c.window();
        c.on_ack(t(300), t(250), 1000, &rtt, false);
        idle.on_ack(t(300), t(250), 1000, &rtt, false);
        idle.on_ack(t(10_000), t(250), 1000, &rtt, true);
        c.on_ack(t(400), t(300), 1000, &rtt, false);
        idle.on_ack(t(10_100), t(10_000), 1000, &rtt, false);
        assert!(c.window() > w0);
        assert_eq!(c.window(), idle.window());
    }
}
