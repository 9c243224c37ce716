//! Leaving slow start on delay, before the queue overflows: the ideas of
//! HyStart++ (RFC 9406).
//!
//! Owns: per-round minimum RTT samples, the decision that the round trip
//! has grown because a queue is building, and the conservative phase that
//! follows (a quarter of slow start's growth for a few rounds, back to slow
//! start if the delay goes away).
//! Never: changes a window itself; the controller asks how much an
//! acknowledgement may grow it and whether slow start is over.
//!
//! Why: plain slow start doubles the window every round trip until a loss,
//! so it overshoots the path by up to a whole window and loses up to half a
//! window's packets at once (over 500 datagrams on a 100 Mbit/s, 40 ms path
//! with a one-BDP queue). Watching the minimum RTT per round notices the
//! queue one round earlier, when it starts to build.

use core::time::Duration;

use crate::time::Instant;

/// RTT samples a round needs before its minimum is trusted.
const MIN_SAMPLES: u32 = 8;
/// Bounds of the RTT increase that ends slow start.
const MIN_ETA: Duration = Duration::from_millis(4);
const MAX_ETA: Duration = Duration::from_millis(16);
/// Conservative slow start grows this many times slower than slow start.
pub(crate) const CSS_DIVISOR: u64 = 4;
/// Rounds of conservative slow start before congestion avoidance.
const CSS_ROUNDS: u32 = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Classic slow start.
    Slow,
    /// Conservative slow start, with the baseline minimum RTT that ended
    /// slow start and the rounds left.
    Conservative { baseline: Duration, rounds: u32 },
    /// Slow start is over.
    Done,
}

/// Delay-based slow-start exit.
#[derive(Clone, Debug)]
pub(crate) struct SlowStartExit {
    phase: Phase,
    /// Packets sent at or after this instant belong to the next round.
    round_start: Option<Instant>,
    last_round_min: Option<Duration>,
    round_min: Option<Duration>,
    samples: u32,
}

impl Default for SlowStartExit {
    fn default() -> Self {
        SlowStartExit {
            phase: Phase::Slow,
            round_start: None,
            last_round_min: None,
            round_min: None,
            samples: 0,
        }
    }
}

impl SlowStartExit {
    /// An acknowledged packet sent at `sent_time`, seen at `now` with the
    /// latest RTT sample `rtt`, while the window is below the slow-start
    /// threshold. Returns the divisor of this acknowledgement's growth
    /// (1 in slow start, [`CSS_DIVISOR`] in the conservative phase), or
    /// `None` once slow start is over: the caller then sets its threshold
    /// to the current window.
    pub(crate) fn on_ack(
        &mut self,
        now: Instant,
        sent_time: Instant,
        rtt: Duration,
    ) -> Option<u64> {
        if self.phase == Phase::Done {
            return None;
        }
        if self.round_start.is_none_or(|start| sent_time >= start) {
            self.end_round(now);
        }
        self.round_min = Some(self.round_min.map_or(rtt, |m| m.min(rtt)));
        self.samples = self.samples.saturating_add(1);
        match self.phase {
            Phase::Slow => {
                if let (Some(last), Some(cur)) = (self.last_round_min, self.round_min) {
                    let eta = (last / 8).clamp(MIN_ETA, MAX_ETA);
                    if self.samples >= MIN_SAMPLES && cur >= last + eta {
                        self.phase = Phase::Conservative {
                            baseline: last,
                            rounds: CSS_ROUNDS,
                        };
                    }
                }
            }
            Phase::Conservative { baseline, .. } => {
                if self.samples >= MIN_SAMPLES && self.round_min.is_some_and(|m| m < baseline) {
                    // The delay went away: it was a transient, not a queue.
                    self.phase = Phase::Slow;
                }
            }
            Phase::Done => return None,
        }
        match self.phase {
            Phase::Slow => Some(1),
            Phase::Conservative { .. } => Some(CSS_DIVISOR),
            Phase::Done => None,
        }
    }

    fn end_round(&mut self, now: Instant) {
        if self.round_min.is_some() && self.samples >= MIN_SAMPLES {
            self.last_round_min = self.round_min;
        }
        self.round_start = Some(now);
        self.round_min = None;
        self.samples = 0;
        if let Phase::Conservative { baseline, rounds } = self.phase {
            self.phase = match rounds.saturating_sub(1) {
                0 => Phase::Done,
                rounds => Phase::Conservative { baseline, rounds },
            };
        }
    }

    /// Slow start ended by loss (or persistent congestion restarted it):
    /// `restart` begins a fresh slow start, otherwise it is over for good.
    pub(crate) fn reset(&mut self, restart: bool) {
        *self = SlowStartExit::default();
        if !restart {
            self.phase = Phase::Done;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// One round of `n` acknowledgements at RTT `rtt_ms`, the round
    /// starting at `*t`; returns the divisors answered.
    fn round(s: &mut SlowStartExit, t: &mut u64, n: u32, rtt_ms: u64) -> Vec<Option<u64>> {
        let start = *t;
        *t += 50;
        (0..n)
            .map(|_| {
                s.on_ack(
                    Instant::from_millis(*t),
                    Instant::from_millis(start),
                    ms(rtt_ms),
                )
            })
            .collect()
    }

    extern crate std;
    use std::vec::Vec;

    #[test]
    fn steady_rtt_stays_in_slow_start() {
        let mut s = SlowStartExit::default();
        let mut t = 0;
        for _ in 0..10 {
            assert!(round(&mut s, &mut t, 20, 40).iter().all(|d| *d == Some(1)));
        }
    }

    #[test]
    fn a_growing_rtt_slows_growth_then_ends_slow_start() {
        let mut s = SlowStartExit::default();
        let mut t = 0;
        round(&mut s, &mut t, 20, 40);
        round(&mut s, &mut t, 20, 40);
        // 5 ms more (40/8) after eight samples: conservative phase.
        let r = round(&mut s, &mut t, 20, 45);
        assert_eq!(r[..7], [Some(1); 7]);
        assert_eq!(r[7..], [Some(CSS_DIVISOR); 13]);
        // Four more rounds of it, then slow start is over.
        for _ in 0..4 {
            assert_eq!(round(&mut s, &mut t, 20, 46)[19], Some(CSS_DIVISOR));
        }
        assert_eq!(round(&mut s, &mut t, 20, 46)[0], None);
    }

    #[test]
    fn a_transient_delay_returns_to_slow_start() {
        let mut s = SlowStartExit::default();
        let mut t = 0;
        round(&mut s, &mut t, 20, 40);
        round(&mut s, &mut t, 20, 40);
        assert_eq!(round(&mut s, &mut t, 20, 50)[19], Some(CSS_DIVISOR));
        assert_eq!(round(&mut s, &mut t, 20, 39)[19], Some(1));
    }

    #[test]
    fn the_increase_needed_is_bounded() {
        // 300 ms RTT: 300/8 = 37.5 ms is capped at 16 ms.
        let mut t = 0;
        let mut s = SlowStartExit::default();
        round(&mut s, &mut t, 20, 300);
        assert_eq!(round(&mut s, &mut t, 20, 315)[19], Some(1));
        let mut s = SlowStartExit::default();
        round(&mut s, &mut t, 20, 300);
        assert_eq!(round(&mut s, &mut t, 20, 316)[19], Some(CSS_DIVISOR));
        // 2 ms RTT: at least 4 ms.
        let mut s = SlowStartExit::default();
        round(&mut s, &mut t, 20, 2);
        assert_eq!(round(&mut s, &mut t, 20, 5)[19], Some(1));
        s.reset(false);
        assert_eq!(round(&mut s, &mut t, 20, 5)[0], None);
    }
}
