//! Time as the core sees it: an [`Instant`] is a count of microseconds from an
//! epoch the caller chooses (process start, boot, a simulation's zero).
//!
//! Owns: the `Instant` type and its arithmetic with `core::time::Duration`.
//! Never: reads a clock. Every instant in the core arrives as an argument, so a
//! test can run faster than real time and replay any run exactly.

use core::fmt;
use core::num::NonZeroU64;
use core::ops::{Add, AddAssign, Sub};
use core::time::Duration;

/// A point in time, in microseconds since the caller's epoch.
///
/// Arithmetic saturates instead of overflowing: an instant is never a reason
/// to panic. The latest instant is [`Instant::MAX`], `u64::MAX - 1`
/// microseconds (half a million years) after the epoch: held as that count
/// plus one, an instant is never zero, so an `Option<Instant>` (a timer
/// that may be unset, kept by the dozen in every session) takes 8 bytes
/// rather than 16.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(NonZeroU64);

/// Microseconds an instant can hold at most.
const MAX_MICROS: u64 = u64::MAX - 1;

impl Instant {
    /// The caller's epoch.
    pub const ZERO: Instant = Instant::from_micros(0);
    /// The last representable instant; used as "never" by timers.
    pub const MAX: Instant = Instant::from_micros(MAX_MICROS);

    /// An instant `micros` microseconds after the epoch (at most
    /// [`Instant::MAX`]).
    pub const fn from_micros(micros: u64) -> Self {
        let stored = if micros > MAX_MICROS {
            u64::MAX
        } else {
            micros + 1
        };
        match NonZeroU64::new(stored) {
            Some(n) => Instant(n),
            None => Instant(NonZeroU64::MAX),
        }
    }

    /// An instant `millis` milliseconds after the epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Instant::from_micros(millis.saturating_mul(1000))
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> u64 {
        self.0.get() - 1
    }

    /// Time elapsed from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.0.get().saturating_sub(earlier.0.get()))
    }

    /// Time elapsed from `earlier` to `self`, or `None` if `earlier` is later.
    pub fn checked_duration_since(self, earlier: Instant) -> Option<Duration> {
        self.0
            .get()
            .checked_sub(earlier.0.get())
            .map(Duration::from_micros)
    }
}

impl Default for Instant {
    /// The epoch.
    fn default() -> Self {
        Instant::ZERO
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Instant").field(&self.as_micros()).finish()
    }
}

fn duration_micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: Duration) -> Instant {
        Instant::from_micros(self.as_micros().saturating_add(duration_micros(rhs)))
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, rhs: Duration) -> Instant {
        Instant::from_micros(self.as_micros().saturating_sub(duration_micros(rhs)))
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    /// Saturating: an `earlier` that is in fact later gives zero.
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.as_micros();
        write!(f, "{}.{:06}s", us / 1_000_000, us % 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(Instant::MAX + Duration::from_secs(1), Instant::MAX);
        assert_eq!(Instant::ZERO - Duration::from_secs(1), Instant::ZERO);
        assert_eq!(Instant::ZERO - Instant::from_millis(5), Duration::ZERO);
        assert_eq!(
            Instant::ZERO.checked_duration_since(Instant::from_micros(1)),
            None
        );
    }

    #[test]
    fn an_optional_instant_takes_no_more_room() {
        assert_eq!(core::mem::size_of::<Option<Instant>>(), 8);
        assert_eq!(Instant::from_micros(u64::MAX), Instant::MAX);
        assert_eq!(Instant::MAX.as_micros(), u64::MAX - 1);
        assert_eq!(Instant::default(), Instant::ZERO);
        assert_eq!(Instant::ZERO.as_micros(), 0);
        assert!(Instant::ZERO < Instant::from_micros(1));
        assert_eq!(format!("{:?}", Instant::from_micros(7)), "Instant(7)");
    }

    #[test]
    fn add_and_measure() {
        let t = Instant::from_millis(2) + Duration::from_micros(500);
        assert_eq!(t.as_micros(), 2_500);
        assert_eq!(t - Instant::from_millis(1), Duration::from_micros(1_500));
        assert_eq!(format!("{t}"), "0.002500s");
    }
}
