//! What a live-media run measured, and the figures read from it.
//!
//! Owns: [`LiveReport`]: one record per frame produced (when, how large,
//! and its delay if the receiving application read it), and the figures:
//! on-time fraction, late and delivered-late counts, delay percentiles, and
//! around a drop of the link's rate the on-time bytes' share of the low
//! rate and the time until frames are on time again.
//! Never: runs anything; `live.rs` fills the records.

use alloc::vec::Vec;
use core::time::Duration;

use super::live::LiveConfig;
use crate::time::Instant;

/// One frame the source produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameRecord {
    /// When it was produced (and queued on the stream).
    pub produced: Instant,
    /// Its size in bytes.
    pub bytes: u32,
    /// How long after production the receiving application read it;
    /// `None`: never (abandoned, or still in flight at the end).
    pub delay: Option<Duration>,
}

/// A drop of the link's rate: from `from` to `to` the bottleneck runs at
/// `rate` bits per second, below the rate before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateDrop {
    /// When the drop starts.
    pub from: Instant,
    /// When the next change ends it ([`Instant::MAX`]: it never ends).
    pub to: Instant,
    /// The low rate, bits per second.
    pub rate: u64,
}

/// What a live run measured.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct LiveReport {
    /// Every frame produced, in order.
    pub frames: Vec<FrameRecord>,
    /// Messages the sender abandoned (`StreamStats::messages_expired`).
    pub expired: u64,
    /// Frames the receiving application read out of order (never, on an
    /// ordered stream).
    pub out_of_order: u64,
    /// A frame is on time if read within this long of its production.
    pub deadline: Duration,
    /// Frames per second.
    pub fps: u32,
    /// The first drop of the link's rate in its schedule, if any.
    pub drop: Option<RateDrop>,
}

impl LiveReport {
    pub(crate) fn new(
        cfg: &LiveConfig,
        frames: Vec<FrameRecord>,
        expired: u64,
        out_of_order: u64,
    ) -> Self {
        LiveReport {
            frames,
            expired,
            out_of_order,
            deadline: cfg.deadline,
            fps: cfg.fps,
            drop: first_drop(&cfg.link),
        }
    }

    fn is_on_time(&self, f: &FrameRecord) -> bool {
        f.delay.is_some_and(|d| d <= self.deadline)
    }

    /// Frames produced.
    pub fn produced(&self) -> u64 {
        self.frames.len() as u64
    }

    /// Frames read within their deadline.
    pub fn on_time(&self) -> u64 {
        self.frames.iter().filter(|f| self.is_on_time(f)).count() as u64
    }

    /// Frames read at all.
    pub fn delivered(&self) -> u64 {
        self.frames.iter().filter(|f| f.delay.is_some()).count() as u64
    }

    /// Frames read after their deadline.
    pub fn delivered_late(&self) -> u64 {
        self.delivered() - self.on_time()
    }

    /// Frames not read within their deadline: read late, or never.
    pub fn late(&self) -> u64 {
        self.produced() - self.on_time()
    }

    /// On-time frames over frames produced.
    pub fn on_time_fraction(&self) -> f64 {
        fraction(self.on_time(), self.produced())
    }

    /// The `p`-th percentile (0..=100, nearest rank) of the delays of the
    /// frames read.
    pub fn delay_percentile(&self, p: u32) -> Duration {
        let mut v: Vec<Duration> = self.frames.iter().filter_map(|f| f.delay).collect();
        v.sort_unstable();
        let n = v.len();
        if n == 0 {
            return Duration::ZERO;
        }
        let i = (n * p.min(100) as usize).div_ceil(100).clamp(1, n) - 1;
        v.get(i).copied().unwrap_or_default()
    }

    /// The source's mean rate in bits per second: the bytes of every frame
    /// over the time from the first frame to one interval past the last.
    pub fn source_bits_per_sec(&self) -> f64 {
        let (Some(first), Some(last)) = (self.frames.first(), self.frames.last()) else {
            return 0.0;
        };
        let every = Duration::from_micros(1_000_000 / u64::from(self.fps.max(1)));
        let secs = (last.produced.saturating_duration_since(first.produced) + every).as_secs_f64();
        let bytes: u64 = self.frames.iter().map(|f| u64::from(f.bytes)).sum();
        bytes as f64 * 8.0 / secs
    }

    /// How far past its deadline the latest frame read was.
    pub fn max_lateness(&self) -> Duration {
        self.frames
            .iter()
            .filter_map(|f| f.delay)
            .map(|d| d.saturating_sub(self.deadline))
            .max()
            .unwrap_or_default()
    }

    /// Frames produced in `from..to`, and how many of them were on time.
    fn on_time_in(&self, from: Instant, to: Instant) -> (u64, u64) {
        let v = self
            .frames
            .iter()
            .filter(|f| f.produced >= from && f.produced < to);
        v.fold((0, 0), |(n, ok), f| {
            (n + 1, ok + u64::from(self.is_on_time(f)))
        })
    }

    /// On-time fraction of the frames produced during the rate drop.
    pub fn drop_on_time_fraction(&self) -> Option<f64> {
        let d = self.drop?;
        let (n, ok) = self.on_time_in(d.from, d.to);
        Some(fraction(ok, n))
    }

    /// The bytes of the on-time frames produced during the rate drop, as
    /// a rate over the drop's length, over the low rate: the share of the
    /// slow link that carried frames worth having.
    pub fn drop_on_time_share(&self) -> Option<f64> {
        let d = self.drop?;
        let last = self.frames.last()?.produced;
        let secs =
            d.to.min(last)
                .saturating_duration_since(d.from)
                .as_secs_f64();
        if secs <= 0.0 || d.rate == 0 {
            return None;
        }
        let bytes: u64 = self
            .frames
            .iter()
            .filter(|f| f.produced >= d.from && f.produced < d.to && self.is_on_time(f))
            .map(|f| u64::from(f.bytes))
            .sum();
        Some(bytes as f64 * 8.0 / secs / d.rate as f64)
    }

    /// Time from the end of the rate drop until frames are on time again
    /// for good: from the returned offset on, every second of frames
    /// (`fps` in a row) to the end of the run is at least 0.99 on time.
    /// `None` without a drop, or if that never happens.
    pub fn recovered_after_drop(&self) -> Option<Duration> {
        let d = self.drop?;
        let window = usize::try_from(self.fps.max(1)).unwrap_or(usize::MAX);
        let first = self.frames.partition_point(|f| f.produced < d.to);
        let ok: Vec<bool> = self.frames.iter().map(|f| self.is_on_time(f)).collect();
        let last_start = ok.len().checked_sub(window)?;
        // Walk back from the last full window while windows stay good.
        let good = |i: usize| {
            let hits = ok
                .get(i..i + window)
                .map_or(0, |w| w.iter().filter(|&&b| b).count());
            hits * 100 >= window * 99
        };
        let mut start = last_start + 1;
        while start > first && good(start - 1) {
            start -= 1;
        }
        if start > last_start {
            return None;
        }
        let at = self.frames.get(start)?.produced;
        Some(at.saturating_duration_since(d.to))
    }
}

fn fraction(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// The first change in `link`'s rate schedule to a rate below the one in
/// force before it, and the change that ends it.
pub(crate) fn first_drop(link: &super::config::LinkConfig) -> Option<RateDrop> {
    let changes = link.rate_changes.changes();
    let mut before = link.rate_bits_per_sec?;
    for (i, &(at, rate)) in changes.iter().enumerate() {
        if rate < before {
            let to = changes.get(i + 1).map_or(Instant::MAX, |c| c.0);
            return Some(RateDrop { from: at, to, rate });
        }
        before = rate;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::LinkConfig;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A report of 10 frames a second for 10 s, 1,000 bytes each, with a
    /// drop to 80 kbit/s from 3 s to 5 s; `delay` gives each frame's delay.
    fn report(delay: impl Fn(u64) -> Option<Duration>) -> LiveReport {
        let link = LinkConfig::default()
            .with_rate(1_000_000)
            .with_rate_change(Instant::from_millis(3000), 80_000)
            .with_rate_change(Instant::from_millis(5000), 1_000_000);
        let cfg = LiveConfig {
            link,
            fps: 10,
            deadline: ms(150),
            ..LiveConfig::default()
        };
        let frames = (0..100)
            .map(|i| FrameRecord {
                produced: Instant::from_millis(i * 100),
                bytes: 1000,
                delay: delay(i),
            })
            .collect();
        LiveReport::new(&cfg, frames, 0, 0)
    }

    #[test]
    fn counts_and_percentiles() {
        // Frames 30..50 (the drop) are late or lost, alternately.
        let r = report(|i| match i {
            30..50 if i % 2 == 0 => None,
            30..50 => Some(ms(400)),
            _ => Some(ms(40)),
        });
        assert_eq!((r.produced(), r.on_time(), r.delivered()), (100, 80, 90));
        assert_eq!((r.late(), r.delivered_late()), (20, 10));
        assert_eq!(r.on_time_fraction(), 0.8);
        assert_eq!(r.delay_percentile(50), ms(40));
        assert_eq!(r.delay_percentile(99), ms(400));
        assert_eq!(r.max_lateness(), ms(250));
        assert_eq!(r.source_bits_per_sec(), 80_000.0);
        assert_eq!(
            r.drop,
            Some(RateDrop {
                from: Instant::from_millis(3000),
                to: Instant::from_millis(5000),
                rate: 80_000
            })
        );
        assert_eq!(r.drop_on_time_fraction(), Some(0.0));
        assert_eq!(r.drop_on_time_share(), Some(0.0));
        assert_eq!(r.recovered_after_drop(), Some(Duration::ZERO));
    }

    #[test]
    fn drop_share_and_recovery() {
        // Half the drop's frames on time (10 kB in 2 s: 40 kbit/s, half of
        // the low rate); the frames of the 0.5 s after it late.
        let r = report(|i| match i {
            30..50 if i % 2 == 0 => Some(ms(40)),
            30..55 => Some(ms(200)),
            _ => Some(ms(40)),
        });
        assert_eq!(r.drop_on_time_fraction(), Some(0.5));
        assert_eq!(r.drop_on_time_share(), Some(0.5));
        assert_eq!(r.recovered_after_drop(), Some(ms(500)));
        // A late frame near the end: never on time for a whole second again.
        let r = report(|i| if i == 95 { None } else { Some(ms(40)) });
        assert_eq!(r.recovered_after_drop(), None);
        // No drop in the schedule, nothing to say about one.
        assert_eq!(first_drop(&LinkConfig::default().with_rate(5)), None);
    }
}
