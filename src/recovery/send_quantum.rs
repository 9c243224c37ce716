//! The send quantum: how large a burst a session's pacer lets go, and the
//! room over the congestion window a rate-modelling controller leaves for
//! such bursts when the caller's timer is coarse.
//!
//! Owns: the session's pacing policy (the burst in datagrams, the ceiling a
//! coarse timer lets it grow to) and the window room those bursts buy
//! (`SendQuantum`, kept by [`crate::recovery::Recovery`]).
//! Never: paces itself (the [`Pacer`] does) or decides whether the window
//! allows a packet ([`crate::recovery::Recovery::can_send`] adds the room).
//!
//! Why a room over the window: BBR keeps about two bandwidth-delay products
//! in flight. On a path whose round trip is far below the caller's timer
//! tick (loopback: 50 us against 1 ms) that is less than the burst the
//! pacer must let out per tick, and the window, not the path, would set
//! the rate. A TSO sender leaves room for its send quanta the same way.

use core::time::Duration;

use super::pacing::Pacer;
use super::to_u64;

/// Datagrams the pacer lets go in one burst.
const PACER_BURST: u64 = 10;

/// With a coarse caller timer, the most datagrams one pacing burst may
/// hold (what the rate allows in one tick of the timer, never more than
/// this). The bound matters only above 64 datagrams per millisecond (about
/// 750 Mbit/s with a 1 ms timer); quinn's pacer allows the same 256. A
/// lower ceiling makes an adapter on loopback pace out one GSO run per
/// acknowledgement, with more system calls per byte.
const PACER_MAX_BURST: u64 = 256;

/// The largest burst, in datagrams, that the window's room for timer-sized
/// bursts is counted in (three of them, [`QUANTUM_BURSTS`]). Not
/// [`PACER_MAX_BURST`]: three bursts of 256 (1.1 MB over the window until
/// the first loss) let a sender run so far ahead of a blocking receiver
/// thread that both ends fall to short runs of datagrams.
const ROOM_BURST: u64 = 64;

/// Pacer bursts a rate-modelling controller's window leaves room for when
/// the caller's timer is coarse.
const QUANTUM_BURSTS: u64 = 3;

/// A session's pacer for datagrams of `datagram_size` bytes. With a coarse
/// caller timer (`pacing_granularity` above zero), bursts grow with the
/// rate up to `PACER_MAX_BURST` (256) datagrams of `max_datagram_size`.
pub fn new_pacer(
    pacing_granularity: Duration,
    max_datagram_size: usize,
    datagram_size: usize,
) -> Pacer {
    Pacer::new(datagram_size, PACER_BURST).with_granularity(
        pacing_granularity,
        max_datagram_size,
        PACER_MAX_BURST,
    )
}

/// The session's datagram size changed: its pacer's base burst follows.
pub fn resize_pacer(pacer: &mut Pacer, datagram_size: usize) {
    pacer.set_datagram_size(datagram_size, PACER_BURST);
}

/// The burst, in bytes, that the window's room for timer-sized bursts is
/// counted in: the pacer's `timer_burst`, at most `ROOM_BURST` (64) datagrams
/// of `max_datagram_size`. Zero without a coarse timer.
pub fn room_burst(timer_burst: u64, max_datagram_size: usize) -> u64 {
    timer_burst.min(to_u64(max_datagram_size).saturating_mul(ROOM_BURST))
}

/// The room over the congestion window for timer-sized bursts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SendQuantum {
    room: u64,
}

impl SendQuantum {
    /// The pacer's burst is `burst` bytes. A controller that paces at a
    /// modelled rate (`paced`) gets room for [`QUANTUM_BURSTS`] of them,
    /// but only until the session's first lost packet (`lost_any`): like
    /// BBR's upper bound, which exists only once a loss was seen (many
    /// senders to one listener, each with the room for good, lose many
    /// times as many datagrams). NewReno and CUBIC keep their window.
    pub(crate) fn set(&mut self, burst: u64, paced: bool, lost_any: bool) {
        self.room = if paced && !lost_any {
            burst.saturating_mul(QUANTUM_BURSTS)
        } else {
            0
        };
    }

    /// Bytes the window may be exceeded by.
    pub(crate) fn room(&self) -> u64 {
        self.room
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Instant;

    #[test]
    fn pacer_bursts_grow_to_256_datagrams_while_the_window_room_stays_at_64() {
        let mss = 1452;
        let mut pacer = new_pacer(Duration::from_millis(1), mss, mss);
        assert_eq!(pacer.timer_burst(), 10 * mss as u64, "the base burst");
        // 4 MiB a round trip of 100 us: one tick of the timer is far more
        // than any ceiling.
        let _ = pacer.delay(Instant::ZERO, mss, 4 << 20, Duration::from_micros(100));
        assert_eq!(pacer.timer_burst(), 256 * mss as u64);
        assert_eq!(
            room_burst(pacer.timer_burst(), mss),
            ROOM_BURST * mss as u64,
            "three bursts of 256 over the window starved the blocking adapter"
        );
        assert_eq!(room_burst(10 * mss as u64, mss), 10 * mss as u64);
        assert_eq!(room_burst(0, mss), 0, "no coarse timer: no room");
    }

    #[test]
    fn room_only_for_a_paced_controller_before_any_loss() {
        let mut q = SendQuantum::default();
        q.set(1000, true, false);
        assert_eq!(q.room(), 3000);
        q.set(1000, false, false);
        assert_eq!(q.room(), 0);
        q.set(1000, true, true);
        assert_eq!(q.room(), 0);
    }

    #[test]
    fn a_resized_pacer_keeps_ten_datagram_bursts() {
        let mut pacer = new_pacer(Duration::ZERO, 1452, 1200);
        resize_pacer(&mut pacer, 1452);
        assert_eq!(pacer.tokens(), 12_000, "tokens above nothing dropped");
        let _ = pacer.delay_at(Instant::ZERO, 1452, 0);
        assert_eq!(pacer.tokens(), 14_520);
    }
}
