//! Flow-control windows: how much a receiver lets its peer send, and how that
//! allowance grows by itself when the application keeps up.
//!
//! Owns: the advertise-or-not decision and window auto-tuning, for one
//! stream or for a whole session (the same rule at both levels).
//! Never: tracks bytes itself; callers pass what was released and advertised.
//!
//! Auto-tuning: when the reader consumes a whole window in less than two
//! round trips, the window was what limited the transfer, so it doubles (up
//! to the configured maximum). A slow reader never triggers growth, and its
//! unread data holds the limit where it is, which is the push-back on the
//! sender.

use core::time::Duration;

use crate::time::Instant;

/// A receive window with auto-tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvWindow {
    /// Current window size in units.
    pub size: u64,
    /// When the last advertisement went out (`Instant::MAX`: never; a
    /// sentinel instead of an `Option` keeps idle streams 8 bytes smaller).
    last_update: Instant,
}

impl RecvWindow {
    /// A window of `size` units.
    pub const fn new(size: u64) -> Self {
        RecvWindow {
            size,
            last_update: Instant::MAX,
        }
    }

    /// Given the units released so far and the limit already advertised,
    /// returns the new limit to advertise, if one is worth a frame: when at
    /// least half of the window has been released since the last one.
    pub fn update(
        &mut self,
        now: Instant,
        rtt: Duration,
        released: u64,
        advertised: u64,
        max_size: u64,
    ) -> Option<u64> {
        let target = released.saturating_add(self.size);
        if target <= advertised || target - advertised < self.size / 2 {
            return None;
        }
        if self.last_update != Instant::MAX {
            let last = self.last_update;
            if now.saturating_duration_since(last) < rtt.saturating_mul(2) && self.size < max_size {
                self.size = self.size.saturating_mul(2).min(max_size);
            }
        }
        self.last_update = now;
        Some(released.saturating_add(self.size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RTT: Duration = Duration::from_millis(10);

    #[test]
    fn advertises_after_half_a_window() {
        let mut w = RecvWindow::new(100);
        let t = Instant::from_millis(1000);
        assert_eq!(w.update(t, RTT, 40, 100, 1000), None);
        assert_eq!(w.update(t, RTT, 50, 100, 1000), Some(150));
    }

    #[test]
    fn fast_reader_grows_the_window_up_to_the_cap() {
        let mut w = RecvWindow::new(100);
        let mut adv = 100;
        let mut released = 0;
        let mut t = Instant::from_millis(1000);
        for _ in 0..20 {
            released = adv; // the reader drains everything each millisecond
            t += Duration::from_millis(1);
            if let Some(a) = w.update(t, RTT, released, adv, 1600) {
                adv = a;
            }
        }
        assert_eq!(w.size, 1600);
        assert_eq!(adv, released + 1600);
    }

    #[test]
    fn slow_reader_keeps_the_window() {
        let mut w = RecvWindow::new(100);
        let mut adv = 100;
        let mut t = Instant::from_millis(1000);
        for i in 1..20u64 {
            t += Duration::from_millis(100); // far slower than 2 RTT
            if let Some(a) = w.update(t, RTT, i * 60, adv, 1600) {
                adv = a;
            }
        }
        assert_eq!(w.size, 100);
    }
}
