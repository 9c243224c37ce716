//! Flow-control windows: how much a receiver lets its peer send, and how that
//! allowance grows by itself when the application keeps up.
//!
//! Owns: the advertise-or-not decision and window auto-tuning, for one
//! stream or for a whole session (the same rule at both levels).
//! Never: tracks bytes itself; callers pass what was released and advertised.
//!
//! Advertising: when the application reads and is left caught up (nothing
//! whole unread), a new limit goes out once a quarter of the window has
//! been released since the last one. The sender sees a limit up to that
//! much (plus a round trip of releases) short of `released + size`, so a
//! window of `size` keeps about `3/4 size` in flight: it fills a path whose
//! bandwidth-delay product is below that. Other releases go out after half
//! a window: a reader with messages left unread is what limits the
//! transfer, not the window, and the head message's in-order progress
//! (which releases credit so that a message larger than the window can
//! complete) must not let a peer trickle more into an unread buffer.
//!
//! Auto-tuning: the window doubles (up to the configured maximum) when it
//! was what limited the transfer, which shows in one of two ways:
//! - the reader releases credit fast enough to use half the window within
//!   two round trips (measured from the release rate between two
//!   advertisements: what was released since the last one over the time
//!   since). So the window settles at up to four times what the reader's
//!   rate times the round trip needs, on any path length; or
//! - the peer had sent up to (nearly) the whole limit while the reader has
//!   nothing whole left unread (the caller judges both, see
//!   [`RecvWindow::update`]). Under random loss releases come in bursts,
//!   each waiting for a lost packet's repair, while the sender sits blocked
//!   on the limit.
//!
//! A slow reader triggers neither: its unread messages mean it is not
//! caught up, its releases are slow, and its unread data holds the limit
//! where it is, which is the push-back on the sender. Growth is credit, not
//! memory: what a session may hold stays bounded by the configured maxima
//! and the session's receive budget whatever the window reached.

use core::time::Duration;

use crate::time::Instant;

/// A new limit is advertised once `size / ADVERTISE_FRACTION` has been
/// released since the last one (by a read that left the reader caught up).
const ADVERTISE_FRACTION: u64 = 4;

/// The caller's verdicts on a release (see the module notes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reader {
    /// The release is the application's read, and it left nothing whole
    /// unread.
    pub read_caught_up: bool,
    /// The peer used the whole limit while the reader has nothing whole
    /// unread; [`RecvWindow::peer_used_limit`] judges the first half.
    pub peer_blocked: bool,
}

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

    /// A window of `size` units last advertised at `last_update`
    /// (`Instant::MAX`: never), as [`last_update`](Self::last_update) gave it.
    pub const fn from_parts(size: u64, last_update: Instant) -> Self {
        RecvWindow { size, last_update }
    }

    /// When the last advertisement went out (`Instant::MAX`: never).
    pub const fn last_update(&self) -> Instant {
        self.last_update
    }

    /// Given the units released so far and the limit already advertised,
    /// returns the new limit to advertise, if one is worth a frame: when at
    /// least a quarter of the window has been released since the last one
    /// and the release is a read that left the reader caught up, half of it
    /// otherwise (see [`Reader`]).
    pub fn update(
        &mut self,
        now: Instant,
        rtt: Duration,
        released: u64,
        advertised: u64,
        max_size: u64,
        reader: Reader,
    ) -> Option<u64> {
        let Reader {
            read_caught_up,
            peer_blocked,
        } = reader;
        let target = released.saturating_add(self.size);
        let step = if read_caught_up {
            self.size / ADVERTISE_FRACTION
        } else {
            self.size / 2
        };
        if target <= advertised || target - advertised < step {
            return None;
        }
        if self.last_update != Instant::MAX && self.size < max_size {
            // The last advertisement was `released + size` then, so what
            // was released since is `target - advertised`: half a window
            // within two round trips at that rate is
            // `released_since * 4 * rtt >= size * elapsed`.
            let since = u128::from(target - advertised);
            let elapsed = now.saturating_duration_since(self.last_update).as_nanos();
            let quick = since * 4 * rtt.as_nanos() >= u128::from(self.size) * elapsed;
            if quick || peer_blocked {
                self.size = self.size.saturating_mul(2).min(max_size);
            }
        }
        self.last_update = now;
        Some(released.saturating_add(self.size))
    }

    /// True when the peer has sent up to `advertised`, give or take an
    /// eighth of the window (the last packets before the limit may be the
    /// ones lost).
    pub fn peer_used_limit(&self, highest: u64, advertised: u64) -> bool {
        highest.saturating_add(self.size / 8) >= advertised
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RTT: Duration = Duration::from_millis(10);

    fn reader(read_caught_up: bool, peer_blocked: bool) -> Reader {
        Reader {
            read_caught_up,
            peer_blocked,
        }
    }

    #[test]
    fn advertises_after_a_quarter_of_a_window() {
        let mut w = RecvWindow::new(100);
        let t = Instant::from_millis(1000);
        assert_eq!(w.update(t, RTT, 24, 100, 1000, reader(true, false)), None);
        assert_eq!(
            w.update(t, RTT, 25, 100, 1000, reader(true, false)),
            Some(125)
        );
        // Other releases (a reader with messages left unread, or the head
        // message's in-order progress): only after half a window.
        let mut w = RecvWindow::new(100);
        assert_eq!(w.update(t, RTT, 49, 100, 1000, reader(false, false)), None);
        assert_eq!(
            w.update(t, RTT, 50, 100, 1000, reader(false, false)),
            Some(150)
        );
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
            if let Some(a) = w.update(t, RTT, released, adv, 1600, reader(true, false)) {
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
            if let Some(a) = w.update(t, RTT, i * 60, adv, 1600, reader(true, false)) {
                adv = a;
            }
        }
        assert_eq!(w.size, 100);
    }

    #[test]
    fn a_blocked_peer_grows_the_window_even_when_releases_come_late() {
        // A window's worth is released every 5 RTT (each waits for a lost
        // packet's repair): too slow for the rate test, but the peer sat
        // on the limit each time with nothing left unread.
        let mut w = RecvWindow::new(100);
        let mut adv = 100;
        let mut t = Instant::from_millis(1000);
        for i in 1..6u64 {
            t += RTT * 5;
            let blocked = w.peer_used_limit(adv, adv);
            if let Some(a) = w.update(t, RTT, adv, adv, 1600, reader(true, blocked)) {
                adv = a;
            }
            assert!(i == 1 || w.size > 100, "round {i}: {}", w.size);
        }
        assert_eq!(w.size, 1600);
        // The same late releases with the peer far below the limit: no
        // growth.
        let mut w = RecvWindow::new(100);
        let mut adv = 100;
        for _ in 1..6u64 {
            t += RTT * 5;
            let blocked = w.peer_used_limit(adv - 60, adv);
            assert!(!blocked);
            if let Some(a) = w.update(t, RTT, adv, adv, 1600, reader(true, blocked)) {
                adv = a;
            }
        }
        assert_eq!(w.size, 100);
    }

    #[test]
    fn the_window_settles_where_the_readers_rate_needs_it() {
        // A reader taking 1000 units per ms over a 10 ms round trip needs
        // 10,000 units in flight; growth stops once half the window takes
        // more than two round trips at that rate (window above 40,000),
        // however far the maximum is.
        let mut w = RecvWindow::new(1000);
        let mut adv = 1000;
        let mut released = 0;
        let mut t = Instant::from_millis(1000);
        for _ in 0..10_000 {
            t += Duration::from_millis(1);
            released += 1000;
            if let Some(a) = w.update(t, RTT, released, adv, 1 << 40, reader(true, false)) {
                adv = a;
            }
        }
        assert!((10_000..=80_000).contains(&w.size), "{}", w.size);
    }
}
