//! Tests of send-side recovery: loss detection, probe timeouts, rejection of
//! impossible acknowledgements, congestion signals, and a property test of
//! the bookkeeping under random acknowledgement and loss sequences.

// A one-element list of packet-number ranges is exactly what is meant here.
#![allow(clippy::single_range_in_vec_init)]

use super::*;
use crate::recovery::{ControllerKind, RecoveryConfig, RecoveryError};
use alloc::collections::BTreeMap;
use alloc::vec;
use proptest::prelude::*;

fn config() -> RecoveryConfig {
    RecoveryConfig {
        max_datagram_size: 1000,
        controller: ControllerKind::NewReno,
        // Every loss is congestion here; tolerance has its own tests.
        tolerated_loss: crate::recovery::Ratio { num: 0, den: 1 },
        ..RecoveryConfig::default()
    }
}

fn rec() -> Recovery<u64> {
    Recovery::new(&config(), Instant::ZERO)
}

fn t(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

fn send(r: &mut Recovery<u64>, now: Instant, pns: Range<u64>) {
    for pn in pns {
        r.on_packet_sent(now, pn, 1000, true, pn);
    }
}

fn ack(r: &mut Recovery<u64>, now: Instant, ranges: &[Range<u64>]) -> Vec<Outcome<u64>> {
    let mut out = Vec::new();
    r.on_ack_received(now, ranges.iter().cloned(), Duration::ZERO, &mut out)
        .expect("valid ack");
    out
}

#[test]
fn loss_timer_with_a_sub_microsecond_delay_fires_once() {
    // RTT 20.957 ms: 9/8 of it is 23.576625 ms, not a whole microsecond.
    let mut r = rec();
    send(&mut r, t(0), 0..2);
    let rtt = Instant::from_micros(20_957);
    ack(&mut r, rtt, &[1..2]);
    let at = r.timeout().expect("loss timer armed for packet 0");
    let mut out = Vec::new();
    assert_eq!(r.on_timeout(at, &mut out), TimeoutAction::LossDetected);
    assert_eq!(out, vec![Outcome::Lost(0)], "lost when the timer fires");
    assert!(r.timeout().is_none_or(|next| next > at), "no re-arm at now");
}

#[test]
fn loss_by_packet_threshold_then_by_time_threshold() {
    let mut r = rec();
    send(&mut r, t(0), 0..5);
    assert_eq!(r.bytes_in_flight(), 5000);
    let out = ack(&mut r, t(100), &[3..5]);
    // 0 and 1 are three or more numbers behind 4; 2 is only two behind and
    // younger than 9/8 RTT.
    assert_eq!(
        out,
        vec![
            Outcome::Acked(3),
            Outcome::Acked(4),
            Outcome::Lost(0),
            Outcome::Lost(1)
        ]
    );
    assert_eq!(r.rtt().latest(), Duration::from_millis(100));
    assert_eq!(r.bytes_in_flight(), 1000);
    assert_eq!(r.timeout(), Some(Instant::from_micros(112_500)));

    let mut out = Vec::new();
    assert_eq!(
        r.on_timeout(Instant::from_micros(112_499), &mut out),
        TimeoutAction::None
    );
    assert!(out.is_empty());
    assert_eq!(
        r.on_timeout(Instant::from_micros(112_500), &mut out),
        TimeoutAction::LossDetected
    );
    assert_eq!(out, vec![Outcome::Lost(2)]);
    assert_eq!(r.bytes_in_flight(), 0);
    assert_eq!(r.timeout(), None);
    let s = r.stats();
    assert_eq!(
        (s.packets_acked, s.packets_lost, s.bytes_lost),
        (2, 3, 3000)
    );
    assert_eq!(s.congestion_events, 1, "both losses belong to one round");
    // Never more than half the window in flight: no growth (RFC 9002
    // section 7.8), then halved once.
    assert_eq!(r.congestion_window(), 5000);
}

#[test]
fn probe_timeout_fires_backs_off_and_resets_on_ack() {
    let mut r = rec();
    send(&mut r, t(0), 0..10);
    assert!(!r.can_send(1000), "window full");
    // 100 ms + max(4 * 50 ms, 1 ms) + 25 ms max ack delay.
    assert_eq!(r.timeout(), Some(t(325)));
    let mut out = Vec::new();
    assert_eq!(r.on_timeout(t(324), &mut out), TimeoutAction::None);
    assert_eq!(
        r.on_timeout(t(325), &mut out),
        TimeoutAction::Probe { packets: 2 }
    );
    assert!(out.is_empty(), "a probe timeout declares nothing lost");
    assert_eq!(r.pto_count(), 1);

    // Probes bypass the congestion window until both are sent.
    assert!(r.can_send(1000));
    r.on_packet_sent(t(325), 10, 1000, true, 10);
    assert!(r.can_send(1000), "one probe still owed");
    r.on_packet_sent(t(325), 11, 1000, false, 11);
    assert!(r.can_send(1000), "a non-ack-eliciting packet is no probe");
    r.on_packet_sent(t(325), 12, 1000, true, 12);
    assert_eq!(r.probes_owed(), 0);
    assert!(!r.can_send(1000));

    assert_eq!(
        r.timeout(),
        Some(t(325 + 650)),
        "backoff doubles the period"
    );
    assert_eq!(
        r.on_timeout(t(975), &mut out),
        TimeoutAction::Probe { packets: 2 }
    );
    assert_eq!(r.pto_count(), 2);
    assert_eq!(r.timeout(), Some(t(325 + 1300)));
    assert_eq!(r.stats().probe_timeouts, 2);

    let _ = ack(&mut r, t(1000), &[12..13]);
    assert_eq!(r.pto_count(), 0);
}

#[test]
fn probe_timer_needs_ack_eliciting_in_flight_or_an_owed_probe() {
    let mut r = rec();
    for pn in 0..25 {
        r.on_packet_sent(t(0), pn, 50, false, pn);
    }
    assert_eq!(r.bytes_in_flight(), 0);
    assert_eq!(r.timeout(), None);
    assert!(r.should_elicit_ack());
    r.set_probe_owed(t(10), true);
    assert_eq!(r.timeout(), Some(t(335)));
    let mut out = Vec::new();
    assert_eq!(
        r.on_timeout(t(335), &mut out),
        TimeoutAction::Probe { packets: 1 }
    );
    r.set_probe_owed(t(400), false);
    assert_eq!(r.timeout(), None);
    r.on_packet_sent(t(400), 25, 50, true, 25);
    assert!(!r.should_elicit_ack());
}

#[test]
fn ack_of_unsent_packet_is_rejected_and_changes_nothing() {
    let mut empty = rec();
    let mut out = Vec::new();
    assert_eq!(
        empty.on_ack_received(t(1), [0..1], Duration::ZERO, &mut out),
        Err(RecoveryError::AckOfUnsentPacket(0))
    );

    let mut r = rec();
    send(&mut r, t(0), 0..3);
    r.on_packet_sent(t(0), 4, 1000, true, 4); // 3 is skipped
    let before = (
        r.bytes_in_flight(),
        r.stats(),
        r.timeout(),
        r.largest_acked(),
    );
    for (ranges, bad) in [
        (vec![0..6], 5),
        (vec![3..4], 3),
        (vec![0..2, 4..5, 2..4], 3),
        (vec![0..1, 4..u64::MAX], 5),
    ] {
        let got = r.on_ack_received(t(50), ranges.iter().cloned(), Duration::ZERO, &mut out);
        assert_eq!(
            got,
            Err(RecoveryError::AckOfUnsentPacket(bad)),
            "{ranges:?}"
        );
        assert!(out.is_empty());
        assert_eq!(
            (
                r.bytes_in_flight(),
                r.stats(),
                r.timeout(),
                r.largest_acked()
            ),
            before
        );
        assert_eq!(r.outstanding().count(), 4);
    }
    // Empty and reversed ranges name nothing.
    let reversed = Range { start: 9, end: 2 };
    assert_eq!(
        r.on_ack_received(t(50), [5..5, reversed], Duration::ZERO, &mut out),
        Ok(())
    );
    assert!(out.is_empty());
    // The valid parts, in any order, are accepted.
    let out = ack(&mut r, t(50), &[4..5, 0..3]);
    assert_eq!(out.len(), 4);
    assert_eq!(r.bytes_in_flight(), 0);
}

#[test]
fn rtt_sampled_only_when_the_largest_is_newly_acked() {
    let mut r = rec();
    send(&mut r, t(0), 0..2);
    let _ = ack(&mut r, t(50), &[1..2]);
    assert_eq!(r.rtt().latest(), Duration::from_millis(50));
    let out = ack(&mut r, t(200), &[0..2]);
    assert_eq!(out, vec![Outcome::Acked(0)]);
    assert_eq!(r.rtt().latest(), Duration::from_millis(50));
    // A repeat of an old acknowledgement changes nothing.
    assert!(ack(&mut r, t(300), &[0..2]).is_empty());
    // Ack delay is taken off later samples (within the peer's maximum).
    send(&mut r, t(300), 2..3);
    let mut out = Vec::new();
    r.on_ack_received(t(380), [2..3], Duration::from_millis(20), &mut out)
        .unwrap();
    assert_eq!(r.rtt().latest(), Duration::from_millis(80));
    assert_eq!(
        r.rtt().smoothed(),
        Duration::from_micros((7 * 50_000 + 60_000) / 8)
    );
}

#[test]
fn one_congestion_event_per_round_and_spurious_losses_counted() {
    let mut r = rec();
    send(&mut r, t(0), 0..11);
    let out = ack(&mut r, t(100), &[9..10]);
    assert_eq!(
        out.iter().filter(|o| matches!(o, Outcome::Lost(_))).count(),
        7
    );
    assert_eq!(r.congestion_window(), 5500);
    let out = ack(&mut r, t(110), &[9..11]);
    assert!(out.contains(&Outcome::Lost(7)));
    assert_eq!(
        r.congestion_window(),
        5500,
        "same round: no second reduction"
    );
    assert_eq!(r.stats().congestion_events, 1);
    // A late acknowledgement of a packet already declared lost.
    assert!(ack(&mut r, t(120), &[0..2]).is_empty());
    assert_eq!(r.stats().spurious_losses, 2);
    assert!(ack(&mut r, t(130), &[0..2]).is_empty());
    assert_eq!(r.stats().spurious_losses, 2, "counted once");
}

#[test]
fn persistent_congestion_collapses_the_window() {
    let mut r = rec();
    send(&mut r, t(0), 0..1);
    let _ = ack(&mut r, t(100), &[0..1]);
    for pn in 1..11 {
        send(&mut r, t(100 + 100 * pn), pn..pn + 1);
    }
    send(&mut r, t(1300), 11..12);
    let out = ack(&mut r, t(1400), &[11..12]);
    assert_eq!(
        out.iter().filter(|o| matches!(o, Outcome::Lost(_))).count(),
        10
    );
    // Losses span 900 ms >= 3 * (100 + 4 * 37.5 + 25) ms = 825 ms.
    assert_eq!(r.congestion_window(), 2000);
    assert_eq!(r.stats().persistent_congestion_events, 1);
    assert_eq!(r.stats().congestion_events, 1);
}

#[test]
fn short_loss_span_is_not_persistent() {
    let mut r = rec();
    send(&mut r, t(0), 0..1);
    let _ = ack(&mut r, t(100), &[0..1]);
    send(&mut r, t(200), 1..6);
    let _ = ack(&mut r, t(400), &[5..6]);
    assert_eq!(r.stats().persistent_congestion_events, 0);
    // Halved once; the window had not grown (never half of it in use).
    assert_eq!(r.congestion_window(), 5000);
}

#[test]
fn window_limits_sending_and_drain_returns_the_rest() {
    let mut r = rec();
    assert!(r.can_send(1000));
    send(&mut r, t(0), 0..10);
    assert!(!r.can_send(1));
    let _ = ack(&mut r, t(100), &[0..1]);
    assert!(r.can_send(1000));
    assert_eq!(r.congestion_window(), 11_000, "slow start");
    let ids: Vec<u64> = r.outstanding().map(|(pn, &info)| pn + info).collect();
    assert_eq!(ids, (1..10).map(|pn| 2 * pn).collect::<Vec<_>>());
    let mut rest = Vec::new();
    r.drain_all(&mut rest);
    assert_eq!(rest, (1..10).collect::<Vec<_>>());
    assert_eq!(r.bytes_in_flight(), 0);
    assert_eq!(r.timeout(), None);
    assert_eq!(r.stats().packets_lost, 0);
}

#[derive(Clone, Debug)]
enum Op {
    Send {
        eliciting: bool,
        bytes: u16,
    },
    Skip,
    Ack {
        ranges: Vec<(u16, u8)>,
        delay_ms: u8,
    },
    Wait(u16),
    Timeout,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (any::<bool>(), 1u16..1500).prop_map(|(eliciting, bytes)| Op::Send { eliciting, bytes }),
        1 => Just(Op::Skip),
        4 => (proptest::collection::vec((any::<u16>(), 1u8..6), 1..4), any::<u8>())
            .prop_map(|(ranges, delay_ms)| Op::Ack { ranges, delay_ms }),
        3 => (0u16..300).prop_map(Op::Wait),
        2 => Just(Op::Timeout),
    ]
}

type Observed = (u64, RecoveryStats, Option<Instant>, Option<u64>, u64, u32);

fn observe(r: &Recovery<u64>) -> Observed {
    (
        r.bytes_in_flight(),
        r.stats(),
        r.timeout(),
        r.largest_acked(),
        r.congestion_window(),
        r.pto_count(),
    )
}

proptest! {
    #[test]
    fn every_packet_resolves_once_and_bytes_in_flight_add_up(
        ops in proptest::collection::vec(op(), 1..120),
        cubic in any::<bool>(),
    ) {
        let cfg = RecoveryConfig {
            controller: if cubic { ControllerKind::Cubic } else { ControllerKind::NewReno },
            ..RecoveryConfig::default()
        };
        let mut r: Recovery<u64> = Recovery::new(&cfg, Instant::ZERO);
        let mut now = Instant::ZERO;
        let mut next_pn = 0u64;
        let mut sent: BTreeMap<u64, (u64, bool)> = BTreeMap::new();
        let mut resolved: BTreeMap<u64, bool> = BTreeMap::new(); // pn -> acked?
        let mut out = Vec::new();
        for op in ops {
            out.clear();
            let mut acked_ranges: Vec<Range<u64>> = Vec::new();
            match op {
                Op::Send { eliciting, bytes } => {
                    r.on_packet_sent(now, next_pn, usize::from(bytes), eliciting, next_pn);
                    sent.insert(next_pn, (u64::from(bytes), eliciting));
                    next_pn += 1;
                }
                Op::Skip => next_pn += 1,
                Op::Ack { ranges, delay_ms } => {
                    let ranges: Vec<Range<u64>> = ranges
                        .into_iter()
                        .map(|(raw, len)| {
                            let start = u64::from(raw) % (next_pn + 2);
                            start..start + u64::from(len)
                        })
                        .collect();
                    let before = observe(&r);
                    let delay = Duration::from_millis(u64::from(delay_ms));
                    match r.on_ack_received(now, ranges.iter().cloned(), delay, &mut out) {
                        Ok(()) => {
                            prop_assert!(ranges.iter().all(|rg| rg.end <= next_pn));
                            acked_ranges = ranges;
                        }
                        Err(RecoveryError::AckOfUnsentPacket(pn)) => {
                            prop_assert!(!sent.contains_key(&pn), "{} was sent", pn);
                            prop_assert!(ranges.iter().any(|rg| rg.contains(&pn)));
                            prop_assert!(out.is_empty());
                            prop_assert_eq!(observe(&r), before);
                        }
                    }
                }
                Op::Wait(ms) => now += Duration::from_millis(u64::from(ms)),
                Op::Timeout => {
                    let _ = r.on_timeout(now, &mut out);
                }
            }
            for o in &out {
                let (pn, acked) = match o {
                    Outcome::Acked(pn) => (*pn, true),
                    Outcome::Lost(pn) => (*pn, false),
                };
                prop_assert!(sent.contains_key(&pn), "outcome for unsent {}", pn);
                prop_assert!(resolved.insert(pn, acked).is_none(), "{} resolved twice", pn);
                if acked {
                    prop_assert!(acked_ranges.iter().any(|rg| rg.contains(&pn)));
                }
            }
            let expected_in_flight: u64 = sent
                .iter()
                .filter(|(pn, (_, eliciting))| *eliciting && !resolved.contains_key(pn))
                .map(|(_, (bytes, _))| bytes)
                .sum();
            prop_assert_eq!(r.bytes_in_flight(), expected_in_flight);
            let outstanding: Vec<u64> = r.outstanding().map(|(pn, _)| pn).collect();
            let expected: Vec<u64> =
                sent.keys().copied().filter(|pn| !resolved.contains_key(pn)).collect();
            prop_assert_eq!(outstanding, expected);
            if expected_in_flight > 0 {
                prop_assert!(r.timeout().is_some(), "packets in flight but no timer");
            }
        }
        let mut rest = Vec::new();
        r.drain_all(&mut rest);
        for pn in rest {
            prop_assert!(resolved.insert(pn, false).is_none());
        }
        prop_assert_eq!(resolved.len(), sent.len());
        prop_assert_eq!(r.stats().packets_sent, sent.len() as u64);
    }
}

#[test]
fn loss_timer_with_a_fractional_microsecond_delay_fires_and_moves_on() {
    // 9/8 of 1001 us is 1126.125 us: the timer instant drops the fraction,
    // and firing it must still declare the packet lost (a timer that stays
    // due forever is a livelock for any driver).
    let mut r = rec();
    let t0 = Instant::from_micros(10_000);
    send(&mut r, t0, 0..2);
    let out = ack(&mut r, t0 + Duration::from_micros(1001), &[1..2]);
    assert_eq!(out, vec![Outcome::Acked(1)]);
    let due = r.timeout().expect("loss timer armed");
    assert_eq!(due, t0 + Duration::from_micros(1126));
    let mut out = Vec::new();
    assert_eq!(r.on_timeout(due, &mut out), TimeoutAction::LossDetected);
    assert_eq!(out, vec![Outcome::Lost(0)]);
    assert!(r.timeout().is_none_or(|t| t > due));
}

#[test]
fn isolated_loss_without_queueing_keeps_the_window_with_queueing_shrinks_it() {
    let cfg = RecoveryConfig {
        max_datagram_size: 1000,
        // The loss signal is read by the window-based controllers.
        controller: ControllerKind::Cubic,
        ..RecoveryConfig::default()
    };
    let run = |second_rtt_ms: u64| {
        let mut r: Recovery<u64> = Recovery::new(&cfg, Instant::ZERO);
        send(&mut r, t(0), 0..10);
        ack(&mut r, t(100), &[0..10]);
        send(&mut r, t(100), 10..40);
        let before = r.congestion_window();
        // 20 is lost; the rest arrive with an RTT of `second_rtt_ms`, each
        // in its own acknowledgement (one RTT sample each).
        let at = t(100 + second_rtt_ms);
        for k in (10..40).filter(|&k| k != 20) {
            let mut ranges = vec![10..(k + 1).min(20)];
            if k > 20 {
                ranges.push(21..k + 1);
            }
            ack(&mut r, at, &ranges);
        }
        (r.stats(), before, r.congestion_window())
    };
    let (quiet, before, after) = run(100);
    assert_eq!((quiet.packets_lost, quiet.tolerated_loss_events), (1, 1));
    assert_eq!(quiet.congestion_events, 0);
    assert_eq!((before, after), (20_000, 49_000), "slow start goes on");
    let (queued, _, after) = run(140);
    assert_eq!((queued.packets_lost, queued.tolerated_loss_events), (1, 0));
    assert_eq!(queued.congestion_events, 1);
    // 40 ms of queue on a 100 ms path: from the eighth sample of the round
    // slow start grows at a quarter pace (the RTT rose), so 20 kB + 7 x 1 kB
    // + 6 x 250 B when 23's acknowledgement shows the loss, of which CUBIC
    // keeps 7/10; no growth after (the rest was sent before the reduction).
    assert_eq!(after, 19_950);
}

#[test]
fn a_spurious_loss_switches_to_loss_by_age_and_widens_the_time_threshold() {
    let mut r = rec();
    send(&mut r, t(0), 0..11);
    // 0 is held back on the path: 1..=10 arrive first, and 0 is declared
    // lost by count.
    let out = ack(&mut r, t(100), &[1..11]);
    assert!(out.contains(&Outcome::Lost(0)));
    assert_eq!(r.packet_threshold(), 3);
    // It arrives after all, 150 ms after it was sent, on a 100 ms path.
    ack(&mut r, t(150), &[0..11]);
    assert_eq!(r.stats().spurious_losses, 1);
    assert_eq!(r.packet_threshold(), u64::MAX);
    assert_eq!(r.time_threshold(), Ratio { num: 13, den: 8 });
    // Now a gap is reordering until it is old enough, however many
    // packets overtake it...
    send(&mut r, t(150), 11..20);
    let out = ack(&mut r, t(250), &[12..20]);
    assert!(
        !out.iter().any(|o| matches!(o, Outcome::Lost(_))),
        "{out:?}"
    );
    let due = r.timeout().unwrap();
    assert_eq!(
        due,
        Instant::from_micros(312_500),
        "13/8 of 100 ms after 150 ms"
    );
    let mut out = Vec::new();
    r.on_timeout(due, &mut out);
    assert_eq!(out, vec![Outcome::Lost(11)]);
}

#[test]
fn a_window_not_in_use_does_not_grow() {
    // 3 packets at a time against a 10 000-byte window, for 50 round trips:
    // an application-limited sender. The window stays put.
    let mut r = rec();
    let mut pn = 0;
    for round in 0..50 {
        send(&mut r, t(100 * round), pn..pn + 3);
        let _ = ack(&mut r, t(100 * round + 50), &[pn..pn + 3]);
        pn += 3;
    }
    assert_eq!(r.congestion_window(), 10_000);
    // Filling the window (10 in flight) lets it grow again.
    send(&mut r, t(5000), pn..pn + 10);
    let _ = ack(&mut r, t(5050), &[pn..pn + 10]);
    assert_eq!(r.congestion_window(), 20_000, "slow start resumes");
}

#[test]
fn delivery_rate_and_app_limited_marks_reach_the_sample() {
    let mut r = rec();
    // Ten packets at once, acknowledged 100 ms later in one frame.
    send(&mut r, t(0), 0..10);
    let _ = ack(&mut r, t(100), &[0..10]);
    assert_eq!(r.delivery_rate(), 10_000 * 10, "10 000 bytes in 100 ms");
    // Nothing to send with room in the window: the next packets carry the
    // application-limited mark, and their samples say so.
    r.set_app_limited(true);
    send(&mut r, t(100), 10..11);
    let _ = ack(&mut r, t(200), &[10..11]);
    assert!(r.model.busy().rate.last().app_limited);
    send(&mut r, t(200), 11..12);
    let _ = ack(&mut r, t(300), &[11..12]);
    assert!(
        !r.model.busy().rate.last().app_limited,
        "mark cleared once delivered past it"
    );
}

#[test]
fn send_quantum_makes_room_over_a_rate_modelling_window_only() {
    let bbr = RecoveryConfig {
        controller: ControllerKind::Bbr,
        ..config()
    };
    let mut r: Recovery<u64> = Recovery::new(&bbr, Instant::ZERO);
    let window = r.congestion_window() / 1000;
    send(&mut r, t(0), 0..window);
    assert!(!r.can_send(1000), "window full");
    // Three bursts of 2,000 bytes over the window.
    r.set_send_quantum(2000);
    assert!(r.can_send(1000));
    send(&mut r, t(0), window..window + 6);
    assert!(!r.can_send(1), "window and three bursts full");
    r.set_send_quantum(0);
    assert!(!r.can_send(1000), "no coarse timer: the window alone");

    // Once a packet was lost, the window alone.
    let _ = ack(&mut r, t(50), &[1..window + 6]);
    assert!(r.stats().packets_lost > 0, "packet 0 is lost");
    let in_flight = r.bytes_in_flight();
    let room = r.congestion_window().saturating_sub(in_flight);
    send(&mut r, t(50), window + 6..window + 6 + room / 1000);
    r.set_send_quantum(2000);
    assert!(!r.can_send(1000), "no room after a loss");

    // A window-based controller keeps its window as it is.
    let mut r = rec();
    send(&mut r, t(0), 0..10);
    r.set_send_quantum(2000);
    assert!(!r.can_send(1000));
}

#[test]
fn idle_trim_forgets_pure_acknowledgements_only_when_nothing_elicits() {
    let mut r = rec();
    send(&mut r, t(0), 0..1);
    // A pure acknowledgement behind an outstanding ack-eliciting packet
    // stays: the ledger is the eliciting packet's.
    r.on_packet_sent(t(1), 1, 40, false, 1);
    r.trim_idle_memory();
    assert_eq!(r.outstanding().count(), 2);
    ack(&mut r, t(20), &[0..1]);
    assert_eq!(
        r.outstanding().count(),
        1,
        "the pure ack is still unresolved"
    );
    assert!(r.holds_idle_memory(), "only a pure acknowledgement is held");
    r.trim_idle_memory();
    assert!(!r.holds_idle_memory());
    assert_eq!(r.outstanding().count(), 0);
    // Its late acknowledgement is accepted and changes nothing; the next
    // packet is recorded as usual.
    assert!(ack(&mut r, t(30), &[0..2]).is_empty());
    send(&mut r, t(40), 2..3);
    assert_eq!(ack(&mut r, t(60), &[2..3]), vec![Outcome::Acked(2)]);
    let mut out = Vec::new();
    assert_eq!(
        r.on_ack_received(t(61), [3..4], Duration::ZERO, &mut out),
        Err(RecoveryError::AckOfUnsentPacket(3))
    );
}

#[test]
fn a_quiet_sender_rests_and_wakes_with_its_window() {
    let mut r = rec();
    send(&mut r, t(0), 0..10);
    ack(&mut r, t(50), &[0..10]);
    r.set_datagram_size(1200);
    let window = r.congestion_window();
    let phase = r.controller_phase();
    assert!(window > config().datagram_bytes() * 10, "the window grew");
    assert!(
        r.holds_idle_memory(),
        "an empty ledger and a busy controller"
    );
    r.trim_idle_memory();
    assert!(!r.holds_idle_memory());
    assert!(r.controller().is_none(), "the controller is released");
    assert_eq!(r.congestion_window(), window);
    assert_eq!(r.controller_phase(), phase);
    r.set_app_limited(true);
    // The next packet wakes it: same window, the datagram size kept, and
    // the application-limited mark carried over.
    send(&mut r, t(5000), 10..11);
    let c = r.controller().expect("woken by a send");
    assert_eq!(c.window(), window);
    assert!(r.model.busy().rate.is_app_limited());
    assert_eq!(ack(&mut r, t(5050), &[10..11]), vec![Outcome::Acked(10)]);
    assert_eq!(r.congestion_window(), window, "app-limited: no growth");
}
