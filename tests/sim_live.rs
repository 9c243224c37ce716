//! Live media through the simulator: 30 frames a second of 12,000 bytes
//! (2.9 Mbit/s) on one stream, each due 150 ms after it is produced, over
//! 20 Mbit/s, 60 ms RTT, a one-BDP queue and 1 % random loss each way.
//!
//! - as deadline messages, no frame is read late: a frame either arrives
//!   in time or is abandoned and skipped, and the frames are read in
//!   order; the on-time fraction stays above a floor;
//! - the same at 10 % loss, and while the link drops to 2 Mbit/s (below
//!   the source's rate) for two seconds: no frame is read late, and in the
//!   drop the frames read on time carry most of the low rate;
//! - the same frames as plain reliable messages are all read, in order,
//!   whatever their lateness.
#![cfg(feature = "sim")]

use std::time::Duration;

use stt::sim::{run_live, LinkConfig, LiveConfig, LiveMode};

fn cfg(mode: LiveMode, seed: u64) -> LiveConfig {
    // 20 Mbit/s for 60 ms: a BDP of 150,000 bytes.
    let link = LinkConfig::default()
        .with_latency(Duration::from_millis(30))
        .with_rate(20_000_000)
        .with_queue_bytes(150_000)
        .with_loss(0.01);
    LiveConfig {
        link,
        duration: Duration::from_secs(6),
        seed,
        mode,
        frame_bytes: 12_000,
        ..LiveConfig::default()
    }
}

#[test]
fn deadline_frames_are_on_time_or_skipped_never_late() {
    for seed in [1, 2] {
        let r = run_live(&cfg(LiveMode::Deadline, seed)).unwrap();
        assert!(r.produced() >= 175, "seed {seed}: {} frames", r.produced());
        assert_eq!(r.delivered_late(), 0, "seed {seed}: a frame read late");
        assert_eq!(r.out_of_order, 0, "seed {seed}");
        let f = r.on_time_fraction();
        assert!(f >= 0.97, "seed {seed}: on time {f}");
    }
}

#[test]
fn deadline_frames_at_ten_percent_loss_are_never_late() {
    let mut c = cfg(LiveMode::Deadline, 1);
    c.link = c.link.with_loss(0.10);
    let r = run_live(&c).unwrap();
    assert_eq!(r.delivered_late(), 0, "a frame read late");
    let f = r.on_time_fraction();
    assert!(f >= 0.9, "on time {f}");
}

#[test]
fn deadline_frames_through_a_rate_drop_are_never_late() {
    let mut c = cfg(LiveMode::Deadline, 1);
    c.link = c
        .link
        .with_loss(0.0)
        .with_rate_change(stt::Instant::from_millis(2000), 2_000_000)
        .with_rate_change(stt::Instant::from_millis(4000), 20_000_000);
    let r = run_live(&c).unwrap();
    assert_eq!(r.delivered_late(), 0, "a frame read late");
    let share = r.drop_on_time_share().unwrap();
    assert!(share >= 0.7, "on-time share of the low rate {share}");
}

#[test]
fn reliable_frames_all_arrive_in_order() {
    let r = run_live(&cfg(LiveMode::Reliable, 1)).unwrap();
    assert_eq!(r.delivered(), r.produced());
    assert_eq!((r.out_of_order, r.expired), (0, 0));
    assert!(r.delay_percentile(50) >= Duration::from_millis(30));
}
