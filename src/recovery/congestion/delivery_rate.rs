//! Delivery-rate sampling: how fast the path delivered data, measured from
//! acknowledgements, in the spirit of draft-cheng-iccrg-delivery-rate-estimation.
//!
//! Owns: the connection-wide delivery counters (bytes delivered so far, when
//! the latest delivery happened, the send time that opened the current
//! sampling interval), the application-limited mark, the snapshot each
//! sent packet takes of them, and the rate sample built from the newest
//! packet one acknowledgement frame covers.
//! Never: stores anything per packet itself (the sent-packet record keeps the
//! [`Snapshot`], compressed), allocates, or decides what a sample means:
//! controllers read [`RateSample`]s as they see fit.
//!
//! # How a sample is made
//! Each packet remembers how much had been delivered when it left, and when.
//! When it is acknowledged, the bytes delivered since then over the longer of
//! the two intervals (how long its flight took to send, how long it took to
//! acknowledge) is a delivery rate that queues, ack compression and ack
//! thinning cannot inflate: the send interval bounds the rate by what the
//! sender put in, the ack interval by what came out. An interval shorter
//! than the minimum RTT cannot be a real delivery interval and is discarded.
//!
//! # Application-limited marks
//! When the sender runs out of data while the window has room, the data in
//! flight plus what was delivered becomes a mark: packets sent before it is
//! passed carry `app_limited`, and their samples show the application's rate,
//! not the path's. Controllers must not lower a bandwidth estimate on them
//! (they may raise it).

use core::time::Duration;

use crate::time::Instant;

/// What a sent packet remembers of the delivery counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Bytes delivered when the packet was sent.
    pub delivered: u64,
    /// When the latest of those bytes was acknowledged.
    pub delivered_time: Instant,
    /// Send time of the packet that opened the sampling interval.
    pub first_sent_time: Instant,
    /// Sent while the application-limited mark was set.
    pub app_limited: bool,
}

/// One delivery-rate sample: taken once per acknowledgement frame that
/// acknowledged at least one ack-eliciting packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateSample {
    /// Bytes delivered over `interval`.
    pub delivered: u64,
    /// The sampling interval (zero if the sample is not valid).
    pub interval: Duration,
    /// Bytes delivered when the newest acknowledged packet was sent: the
    /// start of a round trip can be told from it.
    pub prior_delivered: u64,
    /// Bytes delivered in total, after this acknowledgement.
    pub total_delivered: u64,
    /// Bytes newly acknowledged by this frame.
    pub newly_acked: u64,
    /// The newest packet was sent while application-limited.
    pub app_limited: bool,
}

impl RateSample {
    /// True if the interval was long enough to be a real delivery interval.
    pub fn is_valid(&self) -> bool {
        !self.interval.is_zero()
    }

    /// Delivery rate in bytes per second (0 for an invalid sample).
    pub fn rate(&self) -> u64 {
        bytes_per_sec(self.delivered, self.interval)
    }
}

/// `bytes / interval` in bytes per second, saturating; 0 for a zero interval.
pub fn bytes_per_sec(bytes: u64, interval: Duration) -> u64 {
    let micros = interval.as_micros();
    if micros == 0 {
        return 0;
    }
    let v = u128::from(bytes).saturating_mul(1_000_000) / micros;
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// The newest packet of the acknowledgement being processed. Elapsed
/// times are in microseconds (what instants resolve), 8 bytes each.
#[derive(Clone, Copy, Debug)]
struct Pending {
    prior_delivered: u64,
    send_elapsed_us: u64,
    ack_elapsed_us: u64,
    app_limited: bool,
    newly_acked: u64,
}

/// Connection-wide delivery counters and the sample being built.
#[derive(Clone, Debug)]
pub struct DeliveryRate {
    delivered: u64,
    delivered_time: Instant,
    first_sent_time: Instant,
    /// Non-zero while application-limited: the `delivered` value that ends it.
    app_limited_until: u64,
    pending: Option<Pending>,
    last: RateSample,
}

impl DeliveryRate {
    /// Fresh counters at `now`.
    pub fn new(now: Instant) -> Self {
        DeliveryRate {
            delivered: 0,
            delivered_time: now,
            first_sent_time: now,
            app_limited_until: 0,
            pending: None,
            last: RateSample::default(),
        }
    }

    /// The snapshot a packet sent at `now` keeps; `in_flight` is what was in
    /// flight before it. A packet sent into an empty pipe opens a new
    /// interval (idle time is not delivery time).
    pub fn on_sent(&mut self, now: Instant, in_flight: u64) -> Snapshot {
        if in_flight == 0 {
            self.first_sent_time = now;
            self.delivered_time = now;
        }
        Snapshot {
            delivered: self.delivered,
            delivered_time: self.delivered_time,
            first_sent_time: self.first_sent_time,
            app_limited: self.app_limited_until != 0,
        }
    }

    /// The sender has no data to send and the window has room: packets sent
    /// until what is in flight now is delivered are application-limited.
    pub fn on_app_limited(&mut self, in_flight: u64) {
        self.app_limited_until = self.delivered.saturating_add(in_flight).max(1);
    }

    /// True while the application-limited mark is set.
    pub fn is_app_limited(&self) -> bool {
        self.app_limited_until != 0
    }

    /// A packet of `bytes` bytes sent at `sent_time` with snapshot `snap`
    /// was acknowledged at `now`.
    pub fn on_acked(&mut self, now: Instant, sent_time: Instant, snap: &Snapshot, bytes: u64) {
        self.delivered = self.delivered.saturating_add(bytes);
        self.delivered_time = now;
        let newer = self
            .pending
            .is_none_or(|p| snap.delivered >= p.prior_delivered);
        let newly_acked = self.pending.map_or(0, |p| p.newly_acked) + bytes;
        if newer {
            self.pending = Some(Pending {
                prior_delivered: snap.delivered,
                send_elapsed_us: sent_time
                    .as_micros()
                    .saturating_sub(snap.first_sent_time.as_micros()),
                ack_elapsed_us: now
                    .as_micros()
                    .saturating_sub(snap.delivered_time.as_micros()),
                app_limited: snap.app_limited,
                newly_acked,
            });
            // The next interval opens with this packet's send.
            self.first_sent_time = sent_time;
        } else if let Some(p) = self.pending.as_mut() {
            p.newly_acked = newly_acked;
        }
        if self.app_limited_until != 0 && self.delivered > self.app_limited_until {
            self.app_limited_until = 0;
        }
    }

    /// Ends the acknowledgement frame: the sample of its newest packet, or
    /// `None` if it acknowledged nothing ack-eliciting. A sample over less
    /// than `min_rtt` is returned with a zero interval (invalid).
    pub fn finish(&mut self, min_rtt: Duration) -> Option<RateSample> {
        let p = self.pending.take()?;
        let interval = Duration::from_micros(p.send_elapsed_us.max(p.ack_elapsed_us));
        let valid = !interval.is_zero() && interval >= min_rtt;
        self.last = RateSample {
            delivered: self.delivered.saturating_sub(p.prior_delivered),
            interval: if valid { interval } else { Duration::ZERO },
            prior_delivered: p.prior_delivered,
            total_delivered: self.delivered,
            newly_acked: p.newly_acked,
            app_limited: p.app_limited,
        };
        Some(self.last)
    }

    /// The latest sample (default before any).
    pub fn last(&self) -> &RateSample {
        &self.last
    }

    /// Bytes delivered so far.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Instant {
        Instant::from_millis(n)
    }

    #[test]
    fn a_steady_flight_measures_the_bottleneck_rate() {
        // 10 packets of 1000 bytes leave at once; the bottleneck lets one
        // through per ms, the path adds 40 ms: acks at 41..=50 ms.
        let mut d = DeliveryRate::new(ms(0));
        let snaps: [Snapshot; 10] = core::array::from_fn(|i| d.on_sent(ms(0), i as u64 * 1000));
        let mut last = None;
        for (i, s) in snaps.iter().enumerate() {
            d.on_acked(ms(41 + i as u64), ms(0), s, 1000);
            last = d.finish(Duration::from_millis(40));
        }
        // The first ack's interval (41 ms) already bounds the rate below
        // the burst's; the last: 10 000 bytes over 50 ms.
        let s = last.unwrap();
        assert_eq!(s.delivered, 10_000);
        assert_eq!(s.interval, Duration::from_millis(50));
        assert_eq!(s.rate(), 200_000);
        // The second flight, sent on those acks one per ms: a window per
        // round trip is what this sender delivers.
        let mut snaps2 = [snaps[0]; 10];
        for (i, s) in snaps2.iter_mut().enumerate() {
            *s = d.on_sent(ms(51 + i as u64), 9000);
        }
        for (i, s) in snaps2.iter().enumerate() {
            d.on_acked(ms(92 + i as u64), ms(51 + i as u64), s, 1000);
            last = d.finish(Duration::from_millis(40));
        }
        let s = last.unwrap();
        assert_eq!(s.prior_delivered, 10_000);
        assert_eq!(s.delivered, 10_000);
        // Its interval opened when the first flight left (0 ms) and closed
        // when its own last packet left (60 ms): the send interval is the
        // longer (the ack interval is 50..101 ms).
        assert_eq!(s.interval, Duration::from_millis(60));
        assert_eq!(s.rate(), 10_000 * 1000 / 60);
        assert!(!s.app_limited);
    }

    #[test]
    fn send_interval_bounds_compressed_acks() {
        // Five packets sent 10 ms apart, all acknowledged in one frame.
        let mut d = DeliveryRate::new(ms(0));
        let mut snaps = [None; 5];
        for (i, s) in snaps.iter_mut().enumerate() {
            *s = Some(d.on_sent(ms(10 * i as u64), i as u64 * 1000));
        }
        for (i, s) in snaps.iter().enumerate() {
            d.on_acked(ms(100), ms(10 * i as u64), s.as_ref().unwrap(), 1000);
        }
        let s = d.finish(Duration::from_millis(20)).unwrap();
        assert_eq!(s.newly_acked, 5000);
        // Newest packet: a 40 ms send interval against a 100 ms ack
        // interval; the longer one bounds the rate.
        assert_eq!(s.interval, Duration::from_millis(100));
        assert_eq!(d.finish(Duration::ZERO), None, "one sample per frame");
    }

    #[test]
    fn short_intervals_are_invalid_and_app_limited_marks_clear() {
        let mut d = DeliveryRate::new(ms(0));
        d.on_app_limited(0);
        assert!(d.is_app_limited());
        let s0 = d.on_sent(ms(0), 0);
        assert!(s0.app_limited);
        d.on_acked(ms(5), ms(0), &s0, 1000);
        let s = d.finish(Duration::from_millis(10)).unwrap();
        assert!(!s.is_valid() && s.rate() == 0, "5 ms is under min RTT");
        assert!(s.app_limited);
        assert!(!d.is_app_limited(), "delivered past the mark");
        let s1 = d.on_sent(ms(5), 0);
        assert!(!s1.app_limited);
    }
}
