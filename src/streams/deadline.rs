//! Deadline messages: the options of one send, and the per-stream record
//! of lifetimes, skips owed and expiry counts.
//!
//! Owns: [`SendOptions`], and the side table the stream manager keeps for
//! the streams that use deadlines (a stream's default lifetime, how far a
//! skip must reach, the counts its statistics show).
//! Never: holds anything for a stream that uses no deadline: the table is
//! boxed and absent until the first deadline, lifetime or skip, so plain
//! streams and idle sessions pay one pointer for the feature.
//!
//! # Ordered with gaps
//! A message sent with a deadline is sent and resent like any other until
//! it can no longer arrive in time: what is left of its lifetime is
//! shorter than one more delivery takes (about half the smoothed round
//! trip plus half its variation) plus the time its unsent bytes take (see
//! `send/expire.rs` for the exact rules). Then the sender abandons it: its
//! bytes are dropped from the send buffer and from what waits for
//! retransmission, an [`StreamEvent::MessageExpired`](super::StreamEvent)
//! tells the application, and once everything before it on the stream is
//! acknowledged or abandoned too, a STREAM_SKIP frame (sent at once, with
//! two copies in the next packets) tells the receiver
//! where delivery goes on. The receiver delivers every message it holds
//! whole below that point, in order, drops the rest, and goes on with the
//! next message. So each message is delivered exactly once or not at all,
//! always in sequence order; a gap never blocks later messages.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::time::Duration;

use crate::ids::StreamId;
use crate::time::Instant;

/// Options of one message sent with
/// [`Session::send_with`](crate::Session::send_with).
///
/// ```
/// let opts = stt::SendOptions::new().deadline(stt::Instant::from_millis(150));
/// assert_eq!(opts.deadline, Some(stt::Instant::from_millis(150)));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SendOptions {
    /// When the message is worth nothing any more: it is sent and resent
    /// until it can no longer arrive by then, then abandoned (see the
    /// crate documentation's "Deadlines" section). `None`: the stream's lifetime (see
    /// [`Session::set_stream_lifetime`](crate::Session::set_stream_lifetime))
    /// if it has one, else the message is reliable.
    pub deadline: Option<Instant>,
}

impl SendOptions {
    /// No deadline of its own: the stream's lifetime applies, if any.
    pub fn new() -> Self {
        SendOptions::default()
    }

    /// Sets the deadline.
    pub fn deadline(mut self, at: Instant) -> Self {
        self.deadline = Some(at);
        self
    }
}

/// What the manager keeps for one stream that uses deadlines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Timed {
    /// Default lifetime of the stream's messages.
    pub lifetime: Option<Duration>,
    /// Sender: a skip must reach at least this unit (the end of the last
    /// abandoned message); 0 when none is owed.
    pub skip_to: u64,
    /// Sender: messages abandoned.
    pub expired: u64,
    /// Receiver: messages the peer's skips moved past undelivered.
    pub skipped: u64,
    /// Sender: STREAM_SKIP frames queued or in flight, copies included;
    /// the stream's `SKIP_QUEUED` flag is set while this is not zero.
    pub skips_out: u16,
    /// Sender: copies of the newest skip still owed, one a packet.
    pub copies_owed: u8,
}

/// Copies of each STREAM_SKIP sent after it, each in a packet of its own:
/// later messages wait for the skip, and a lost one costs them a loss
/// detection, nearly always past their deadlines; three packets all lost
/// are rare (1 in 1,000 at 10 % random loss).
pub(crate) const SKIP_COPIES: u8 = 2;

/// The deadline side table of a session's streams.
#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    /// Per-stream records, for streams with a lifetime, deadline messages,
    /// or skip counts.
    pub streams: BTreeMap<StreamId, Timed>,
    /// Streams with deadline messages or an owed skip (flag `TIMED`).
    pub active: Vec<StreamId>,
    /// The figures of the last expiry pass, for the resend decisions.
    pub clock: Option<Clock>,
}

/// The time and round-trip figures deadline decisions use (see
/// `send/expire.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Clock {
    /// Now.
    pub now: Instant,
    /// What one more delivery takes: half the smoothed round trip plus
    /// half its variation.
    pub reach: Duration,
    /// What finding a loss takes: 9/8 of the smoothed round trip plus its
    /// variation.
    pub round: Duration,
    /// What the first byte of a message sent now takes to arrive: the
    /// path's one-way base (half the smallest round trip) behind the
    /// queue the latest round trip showed (its excess over the smallest),
    /// and never less than `reach`.
    pub first: Duration,
    /// What the path delivers, bytes a second (0: not known yet).
    pub rate: u64,
    /// What the path delivered over the last round trip, bytes a second
    /// (0: not known).
    pub recent: u64,
}

impl Clock {
    /// The figures from the RTT estimate and the delivery rate.
    pub fn new(now: Instant, smoothed: Duration, rttvar: Duration, rate: u64) -> Self {
        Clock {
            now,
            reach: smoothed / 2 + rttvar / 2,
            round: smoothed + smoothed / 8 + rttvar,
            first: smoothed / 2 + rttvar / 2,
            rate,
            recent: 0,
        }
    }

    /// The queue the path holds, for a message whose first byte would go
    /// now: with `recent` (what the path delivered over the last round
    /// trip, bytes a second; 0: not known) the bytes in flight beyond
    /// what `min` (the smallest round trip) holds at that rate are queued
    /// ahead of it; without, `latest` (the newest round trip less the
    /// peer's ack delay) over `min` is.
    pub fn with_queue(
        mut self,
        min: Duration,
        latest: Duration,
        recent: u64,
        in_flight: u64,
    ) -> Self {
        // A recent rate only counts while the round trip shows a queue: an
        // application-limited sender's samples measure what it offered.
        let queued = latest.saturating_sub(min);
        let recent = if queued > min / 4 { recent } else { 0 };
        let queue = if recent > 0 {
            let micros = u128::from(in_flight) * 1_000_000 / u128::from(recent);
            Duration::from_micros(u64::try_from(micros).unwrap_or(u64::MAX)).saturating_sub(min)
        } else {
            queued
        };
        self.first = self.reach.max(min / 2 + queue);
        self.recent = recent;
        self
    }

    /// What sending `units` more takes for a message not yet started: at
    /// the path's recent rate where that is lower (after the path slows
    /// down, the estimate lags for several round trips).
    pub fn sending_first(&self, units: u64) -> Duration {
        let slower = Clock {
            rate: match (self.rate, self.recent) {
                (r, 0) | (0, r) => r,
                (r, recent) => r.min(recent),
            },
            ..*self
        };
        slower.sending(units)
    }

    /// What sending `units` more takes at the path's rate (zero while the
    /// rate is not known).
    pub fn sending(&self, units: u64) -> Duration {
        if self.rate == 0 {
            return Duration::ZERO;
        }
        let micros = u128::from(units) * 1_000_000 / u128::from(self.rate);
        Duration::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
    }
}
