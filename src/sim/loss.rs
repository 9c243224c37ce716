//! Random draws of the simulator and the loss decision of one link.
//!
//! Owns: turning a probability into a yes/no draw, uniform delays, and the
//! Gilbert-Elliott state of a link.
//! Never: reads any randomness but the link's own [`Rng`]. Draws are made in
//! a fixed order per datagram, so a seed replays a run exactly.

use super::config::LinkConfig;
use crate::rand::Rng;

/// 2^-53: maps the top 53 bits of a `u64` onto `[0, 1)` exactly.
const UNIT: f64 = 1.0 / 9_007_199_254_740_992.0;

/// True with probability `p`. Draws nothing when `p` is 0 or 1 (or NaN,
/// which counts as 0), so a link without impairments consumes no randomness.
pub(crate) fn chance(rng: &mut Rng, p: f64) -> bool {
    if p >= 1.0 {
        return true;
    }
    if p.is_nan() || p <= 0.0 {
        return false;
    }
    let u = (rng.next_u64() >> 11) as f64 * UNIT;
    u < p
}

/// Uniform in `0..=max`, without modulo bias; draws nothing when `max` is 0.
pub(crate) fn uniform_up_to(rng: &mut Rng, max: u64) -> u64 {
    if max == 0 {
        return 0;
    }
    let span = u128::from(max) + 1;
    let scaled = (u128::from(rng.next_u64()) * span) >> 64;
    u64::try_from(scaled).unwrap_or(max)
}

/// Why a link lost a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Loss {
    /// Independent loss ([`LinkConfig::loss`]).
    Random,
    /// Lost in the bad state of the burst model.
    Burst,
}

/// The Gilbert-Elliott chain of one link; starts in the good state.
#[derive(Clone, Debug, Default)]
pub(crate) struct LossState {
    bad: bool,
}

impl LossState {
    /// Steps the burst chain once (if the config has one) and decides whether
    /// the datagram being sent is lost, and why.
    pub(crate) fn decide(&mut self, cfg: &LinkConfig, rng: &mut Rng) -> Option<Loss> {
        if let Some(b) = &cfg.burst {
            let flip = if self.bad {
                b.p_bad_to_good
            } else {
                b.p_good_to_bad
            };
            if chance(rng, flip) {
                self.bad = !self.bad;
            }
            if self.bad && chance(rng, b.loss_in_bad) {
                return Some(Loss::Burst);
            }
        }
        if chance(rng, cfg.loss) {
            return Some(Loss::Random);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::BurstLoss;
    use super::*;

    #[test]
    fn chance_extremes_draw_nothing() {
        let mut a = Rng::from_seed([1; 32]);
        let mut b = Rng::from_seed([1; 32]);
        assert!(chance(&mut a, 1.0));
        assert!(chance(&mut a, 7.0));
        assert!(!chance(&mut a, 0.0));
        assert!(!chance(&mut a, f64::NAN));
        assert!(!chance(&mut a, -3.0));
        assert_eq!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn chance_frequency() {
        let mut rng = Rng::from_seed([2; 32]);
        let hits = (0..100_000).filter(|_| chance(&mut rng, 0.3)).count();
        assert!((29_000..31_000).contains(&hits), "{hits}");
    }

    #[test]
    fn uniform_covers_range_and_stays_inside() {
        let mut rng = Rng::from_seed([3; 32]);
        let mut seen = [false; 4];
        for _ in 0..1000 {
            let v = uniform_up_to(&mut rng, 3);
            assert!(v <= 3);
            if let Some(s) = seen.get_mut(v as usize) {
                *s = true;
            }
        }
        assert_eq!(seen, [true; 4]);
        assert_eq!(uniform_up_to(&mut rng, 0), 0);
        let _ = uniform_up_to(&mut rng, u64::MAX);
    }

    #[test]
    fn burst_state_loses_only_when_bad() {
        // Always bad after the first step, always lossy when bad.
        let cfg = LinkConfig::default().with_burst(BurstLoss::new(1.0, 0.0, 1.0));
        let mut rng = Rng::from_seed([4; 32]);
        let mut s = LossState::default();
        assert_eq!(s.decide(&cfg, &mut rng), Some(Loss::Burst));
        assert_eq!(s.decide(&cfg, &mut rng), Some(Loss::Burst));
        // Never leaves good: only random loss applies.
        let cfg = LinkConfig::default()
            .with_burst(BurstLoss::new(0.0, 1.0, 1.0))
            .with_loss(1.0);
        let mut s = LossState::default();
        assert_eq!(s.decide(&cfg, &mut rng), Some(Loss::Random));
        let cfg = LinkConfig::default().with_burst(BurstLoss::new(0.0, 1.0, 1.0));
        assert_eq!(s.decide(&cfg, &mut rng), None);
    }
}
