//! Send-side recovery: the map of packets in flight, acknowledgement
//! processing, loss detection and the probe timeout.
//!
//! Owns: every sent packet until it is acknowledged or declared lost (then
//! its payload `T` goes back to the session as an [`Outcome`]), bytes in
//! flight, the loss and probe timers, the RTT estimator and the congestion
//! controller it feeds.
//! Never: looks inside `T` or the wire format, or keeps anything for a packet
//! once it is resolved: memory is bounded by the span of packet numbers from
//! the oldest unresolved packet to the newest. An acknowledgement that names
//! a packet never sent is rejected before any state changes.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::ops::Range;
use core::time::Duration;

use super::congestion::{AnyController, Controller, DeliveryRate};
use super::loss_signal::LossSignal;
use super::rtt::RttEstimator;
use super::{to_u64, Ratio, RecoveryConfig, RecoveryError};
use crate::ranges::RangeSet;
use crate::time::Instant;
use slot::{age_us, sat_u32, Slot, State};

/// The fate of a sent packet, carrying back what the session attached to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome<T> {
    /// The peer acknowledged the packet.
    Acked(T),
    /// The packet is deemed lost; whatever it carried that still matters must
    /// be sent again in a new packet.
    Lost(T),
}

/// What the session must do after [`Recovery::on_timeout`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutAction {
    /// No timer was due.
    None,
    /// The loss timer fired; the lost packets were pushed as outcomes.
    LossDetected,
    /// The probe timer fired: send `packets` ack-eliciting packets now, even
    /// beyond the congestion window ([`Recovery::can_send`] allows them).
    Probe {
        /// How many probes to send (1 or 2).
        packets: u8,
    },
}

/// Counters over the life of a [`Recovery`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecoveryStats {
    /// Packets handed to [`Recovery::on_packet_sent`].
    pub packets_sent: u64,
    /// Bytes of those packets.
    pub bytes_sent: u64,
    /// Packets acknowledged.
    pub packets_acked: u64,
    /// Packets declared lost.
    pub packets_lost: u64,
    /// Bytes of the packets declared lost.
    pub bytes_lost: u64,
    /// Window reductions (at most one per round trip).
    pub congestion_events: u64,
    /// Loss events not taken as congestion (no standing queue, loss rate
    /// within tolerance): the packets were resent, the window kept.
    pub tolerated_loss_events: u64,
    /// Times the window collapsed for persistent congestion.
    pub persistent_congestion_events: u64,
    /// Probe timeouts that fired.
    pub probe_timeouts: u64,
    /// Packets declared lost and later acknowledged after all (their loss was
    /// spurious). Counted only for recent losses.
    pub spurious_losses: u64,
    /// RTT samples taken.
    pub rtt_samples: u64,
}

/// Largest exponent of the probe-timeout backoff (2^16 times the base).
const MAX_PTO_BACKOFF: u32 = 16;
/// Packet threshold once the path was seen to reorder: in effect, losses
/// are then declared by age only.
const MAX_PACKET_THRESHOLD: u64 = u64::MAX;
/// Largest time threshold spurious losses can raise the configured one to,
/// in eighths of the RTT.
const MAX_TIME_THRESHOLD_EIGHTHS: u32 = 16;
/// Pacer bursts a rate-modelling controller's window leaves room for when
/// the caller's timer is coarse ([`Recovery::set_send_quantum`]).
const QUANTUM_BURSTS: u64 = 3;
/// How many send times of recently lost packets are kept.
const LOST_SENT_TIMES: usize = 64;
/// How many ranges of recently lost packet numbers are kept to notice
/// spurious losses.
const RECENTLY_LOST_RANGES: usize = 16;

/// Sender-side recovery state for one session, generic over what a packet
/// carries.
#[derive(Debug)]
pub struct Recovery<T> {
    packet_threshold: u64,
    time_threshold: Ratio,
    granularity: Duration,
    peer_max_ack_delay: Duration,
    persistent_threshold: u32,
    elicit_ack_after: u32,
    /// Sent packets by increasing number; resolved ones stay as tombstones
    /// until everything older is resolved too.
    slots: VecDeque<Slot<T>>,
    largest_sent: Option<u64>,
    largest_acked: Option<u64>,
    bytes_in_flight: u64,
    eliciting_outstanding: usize,
    non_eliciting_in_row: u32,
    last_eliciting_sent: Option<Instant>,
    loss_time: Option<Instant>,
    pto_count: u32,
    probes_owed: u8,
    probe_owed_since: Option<Instant>,
    first_rtt_sample: Option<Instant>,
    rate: DeliveryRate,
    datagram: u64,
    /// Most bytes in flight this round and the round before; a round ends
    /// when a packet sent after it began is acknowledged (delivered bytes
    /// pass `peak_round_end`). The window grows only while this shows it
    /// in use (see [`Recovery::window_in_use`]).
    peak_flight: u64,
    prev_peak_flight: u64,
    peak_round_end: u64,
    rtt: RttEstimator,
    controller: AnyController,
    loss_signal: LossSignal,
    recently_lost: RangeSet,
    /// Send times of the latest packets declared lost, to tell how late a
    /// spurious one was.
    lost_sent_times: VecDeque<(u64, Instant)>,
    scratch: Vec<Range<u64>>,
    stats: RecoveryStats,
    /// When the session last moved to a new peer address: packets sent
    /// before went elsewhere, and their loss says nothing about this path.
    path_since: Option<Instant>,
    /// Bytes a rate-modelling controller's window is exceeded by to make
    /// room for the bursts a coarse caller timer forces on the pacer (see
    /// [`Recovery::set_send_quantum`]). Zero without such a timer.
    quantum_room: u64,
}

impl<T> Recovery<T> {
    /// Fresh state at `now`, tuned by `config`.
    pub fn new(config: &RecoveryConfig, now: Instant) -> Self {
        Recovery {
            packet_threshold: config.packet_threshold,
            time_threshold: config.time_threshold,
            granularity: config.granularity,
            peer_max_ack_delay: config.max_ack_delay,
            persistent_threshold: config.persistent_congestion_threshold,
            elicit_ack_after: config.elicit_ack_after,
            slots: VecDeque::new(),
            largest_sent: None,
            largest_acked: None,
            bytes_in_flight: 0,
            eliciting_outstanding: 0,
            non_eliciting_in_row: 0,
            last_eliciting_sent: None,
            loss_time: None,
            pto_count: 0,
            probes_owed: 0,
            probe_owed_since: None,
            first_rtt_sample: None,
            rate: DeliveryRate::new(now),
            datagram: config.datagram_bytes(),
            peak_flight: 0,
            prev_peak_flight: 0,
            peak_round_end: 0,
            rtt: RttEstimator::new(config.initial_rtt),
            controller: AnyController::new(config),
            loss_signal: LossSignal::new(
                config.tolerated_loss,
                config.standing_queue,
                config.granularity,
            ),
            recently_lost: RangeSet::new(),
            lost_sent_times: VecDeque::new(),
            scratch: Vec::new(),
            stats: RecoveryStats::default(),
            path_since: None,
            quantum_room: 0,
        }
    }

    /// The peer's address changed at `now` (a validated migration).
    /// Packets sent before went to the old address: their loss is resent
    /// but is no congestion signal. With `reset` (a new IP address, so a
    /// new path) the RTT estimate, the controller and the loss signal
    /// start afresh, and every packet still in flight is declared lost
    /// into `out` at once, so the new window is not filled by packets that
    /// will never be acknowledged. Without it (a port change: NAT
    /// rebinding, same path) all of that is kept.
    pub fn on_path_changed(
        &mut self,
        config: &RecoveryConfig,
        now: Instant,
        reset: bool,
        out: &mut Vec<Outcome<T>>,
    ) {
        self.path_since = Some(now);
        if !reset {
            return;
        }
        for slot in self.slots.iter_mut() {
            if !matches!(slot.state, State::Outstanding(_)) {
                continue;
            }
            let State::Outstanding(info) = core::mem::replace(&mut slot.state, State::Lost) else {
                continue;
            };
            out.push(Outcome::Lost(info));
            self.stats.packets_lost += 1;
            self.stats.bytes_lost = self.stats.bytes_lost.saturating_add(u64::from(slot.bytes));
        }
        self.pop_resolved();
        self.bytes_in_flight = 0;
        self.eliciting_outstanding = 0;
        self.loss_time = None;
        self.pto_count = 0;
        self.probes_owed = 0;
        self.first_rtt_sample = None;
        self.rtt = RttEstimator::new(config.initial_rtt);
        self.controller.reset(config);
        // Nothing is outstanding any more: the new path's rate samples
        // start from scratch too.
        self.rate = DeliveryRate::new(now);
        self.loss_signal = LossSignal::new(
            config.tolerated_loss,
            config.standing_queue,
            config.granularity,
        );
        self.recently_lost = RangeSet::new();
        self.lost_sent_times.clear();
    }

    /// Records packet `pn` of `bytes` bytes sent at `now`, carrying `info`.
    ///
    /// Packet numbers must be strictly increasing (gaps are allowed, and an
    /// acknowledgement of a skipped number is then rejected). A number that is
    /// not larger than the last one is a bug in the caller: it is ignored
    /// (and asserted in debug builds). Ack-eliciting packets count in bytes
    /// in flight, arm the probe timer, and each one pays off an owed probe.
    pub fn on_packet_sent(
        &mut self,
        now: Instant,
        pn: u64,
        bytes: usize,
        ack_eliciting: bool,
        info: T,
    ) {
        self.record_sent(now, pn, bytes, ack_eliciting, false, info);
    }

    /// Records a datagram size probe `pn` of `bytes` bytes sent at `now`.
    ///
    /// A probe is ack-eliciting (it arms the probe timer, so a lost probe is
    /// found lost even on an otherwise quiet session) but is not congestion
    /// controlled: it is not counted in bytes in flight, the controller
    /// never hears of it, its loss is no congestion signal and is not
    /// counted in [`RecoveryStats::packets_lost`], and it pays off no owed
    /// probe-timeout probe.
    pub fn on_size_probe_sent(&mut self, now: Instant, pn: u64, bytes: usize, info: T) {
        self.record_sent(now, pn, bytes, true, true, info);
    }

    fn record_sent(
        &mut self,
        now: Instant,
        pn: u64,
        bytes: usize,
        ack_eliciting: bool,
        probe: bool,
        info: T,
    ) {
        let increasing = self.largest_sent.is_none_or(|largest| pn > largest);
        debug_assert!(increasing, "packet number {pn} sent out of order");
        if !increasing {
            return;
        }
        let bytes_u64 = to_u64(bytes);
        self.largest_sent = Some(pn);
        if self.slots.capacity() == 0 {
            // A session that sends now and then (keep-alives, a request)
            // holds one record, not the four a first push would reserve;
            // a busy one doubles from here as usual.
            self.slots.reserve_exact(1);
        }
        let snap = self.rate.on_sent(now, self.bytes_in_flight);
        let in_flight_after = if ack_eliciting {
            self.bytes_in_flight.saturating_add(bytes_u64)
        } else {
            self.bytes_in_flight
        };
        self.peak_flight = self.peak_flight.max(in_flight_after);
        self.slots.push_back(Slot {
            pn,
            time_sent: now,
            delivered: snap.delivered,
            bytes: sat_u32(bytes_u64),
            in_flight_at_send: sat_u32(in_flight_after),
            delivered_age_us: age_us(now, snap.delivered_time),
            first_sent_age_us: age_us(now, snap.first_sent_time),
            ack_eliciting,
            probe,
            app_limited: snap.app_limited,
            state: State::Outstanding(info),
        });
        self.stats.packets_sent += 1;
        self.stats.bytes_sent = self.stats.bytes_sent.saturating_add(bytes_u64);
        if probe {
            self.eliciting_outstanding += 1;
            self.last_eliciting_sent = Some(now);
            self.non_eliciting_in_row = 0;
        } else if ack_eliciting {
            self.bytes_in_flight = self.bytes_in_flight.saturating_add(bytes_u64);
            self.eliciting_outstanding += 1;
            self.last_eliciting_sent = Some(now);
            self.non_eliciting_in_row = 0;
            self.probes_owed = self.probes_owed.saturating_sub(1);
            self.controller.on_packet_sent(now, bytes);
        } else {
            self.non_eliciting_in_row = self.non_eliciting_in_row.saturating_add(1);
        }
    }

    /// Processes an acknowledgement received at `now` covering `ranges`
    /// (half-open, in any order, overlaps allowed) with the peer's reported
    /// `ack_delay`. Newly acknowledged and newly lost packets are appended to
    /// `out`.
    ///
    /// If any range names a packet number never sent, returns
    /// [`RecoveryError::AckOfUnsentPacket`] with the first such number found
    /// and changes nothing. Numbers of packets resolved long ago are ignored.
    pub fn on_ack_received(
        &mut self,
        now: Instant,
        ranges: impl IntoIterator<Item = Range<u64>>,
        ack_delay: Duration,
        out: &mut Vec<Outcome<T>>,
    ) -> Result<(), RecoveryError> {
        let mut scratch = core::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend(ranges.into_iter().filter(|r| r.start < r.end));
        let result = self.validate(&scratch);
        if result.is_ok() {
            self.apply_ack(now, &scratch, ack_delay, out);
        }
        self.scratch = scratch;
        result
    }

    /// Fires whatever timer is due at `now`: the loss timer declares packets
    /// lost (pushed to `out`); the probe timer asks for probes and doubles the
    /// next probe timeout.
    pub fn on_timeout(&mut self, now: Instant, out: &mut Vec<Outcome<T>>) -> TimeoutAction {
        if self.loss_time.is_some_and(|t| t <= now) {
            self.detect_lost(now, out);
            self.pop_resolved();
            return TimeoutAction::LossDetected;
        }
        if self.pto_deadline().is_some_and(|t| t <= now) {
            self.pto_count = self.pto_count.saturating_add(1);
            self.stats.probe_timeouts += 1;
            self.probes_owed = if self.eliciting_outstanding > 0 { 2 } else { 1 };
            return TimeoutAction::Probe {
                packets: self.probes_owed,
            };
        }
        TimeoutAction::None
    }

    /// When [`Recovery::on_timeout`] must next be called: the earlier of the
    /// loss timer and the probe deadline. The probe timer runs only while
    /// ack-eliciting packets are in flight or a probe is owed
    /// ([`Recovery::set_probe_owed`]).
    pub fn timeout(&self) -> Option<Instant> {
        match (self.loss_time, self.pto_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Keeps the probe timer armed from `now` even with nothing in flight
    /// (`owed = true`), e.g. while the session waits for the peer to confirm
    /// something it has no other way to ask again for; `owed = false` stops
    /// that.
    pub fn set_probe_owed(&mut self, now: Instant, owed: bool) {
        self.probe_owed_since = owed.then_some(now);
    }

    /// The session had nothing it could send (no data, or no flow-control
    /// credit) with `app_limited = true`: if the window has room, packets
    /// sent until what is in flight now is delivered are marked
    /// application-limited; their delivery-rate samples show the
    /// application's rate and their acknowledgements do not grow the
    /// window. `false` changes nothing (the mark clears itself once
    /// delivered).
    pub fn set_app_limited(&mut self, app_limited: bool) {
        if app_limited && self.bytes_in_flight < self.controller.window() {
            self.rate.on_app_limited(self.bytes_in_flight);
        }
    }

    /// A new path: the congestion controller starts over from `config` (the
    /// RTT estimator is the caller's to replace if the path's delay
    /// changed).
    pub fn reset_controller(&mut self, config: &RecoveryConfig) {
        self.controller.reset(config);
    }

    /// The pacing rate the controller asks for, bytes per second, if any.
    pub fn pacing_rate(&self) -> Option<u64> {
        self.controller.pacing_rate()
    }

    /// The delivery rate: the controller's bottleneck estimate if it keeps
    /// one, else the latest valid sample's rate, bytes per second.
    pub fn delivery_rate(&self) -> u64 {
        self.controller
            .delivery_rate()
            .unwrap_or_else(|| self.rate.last().rate())
    }

    /// The session's datagram size changed: the congestion controller's
    /// unit (growth step, minimum window) follows.
    pub fn set_datagram_size(&mut self, bytes: usize) {
        self.datagram = to_u64(bytes).max(1);
        self.controller.set_datagram_size(to_u64(bytes));
    }

    /// Sets the peer's maximum ack delay, once it is known; it caps the ack
    /// delay taken off RTT samples and is part of the probe timeout.
    pub fn set_peer_max_ack_delay(&mut self, max_ack_delay: Duration) {
        self.peer_max_ack_delay = max_ack_delay;
    }

    /// Bytes of ack-eliciting packets neither acknowledged nor lost.
    pub fn bytes_in_flight(&self) -> u64 {
        self.bytes_in_flight
    }

    /// Congestion window, in bytes.
    pub fn congestion_window(&self) -> u64 {
        self.controller.window()
    }

    /// True if a packet of `bytes` bytes fits in the congestion window
    /// (plus the room for timer-sized bursts, see
    /// [`Recovery::set_send_quantum`]).
    ///
    /// Probe bypass: after [`TimeoutAction::Probe`] this returns true until
    /// as many ack-eliciting packets as were asked for have been sent,
    /// whatever the window says (see [`Recovery::probes_owed`]).
    pub fn can_send(&self, bytes: usize) -> bool {
        self.probes_owed > 0
            || self.bytes_in_flight.saturating_add(to_u64(bytes))
                <= self.controller.window().saturating_add(self.quantum_room)
    }

    /// The pacer's burst when the caller's timer is coarse
    /// (`RecoveryConfig::pacing_granularity`), in bytes; 0 otherwise.
    /// BBR keeps about two bandwidth-delay products in flight: on a path
    /// whose round trip is far below the timer's tick (loopback: 50 us
    /// against 1 ms) that is less than the burst the pacer must let out
    /// per tick, and the window, not the path, sets the rate (two
    /// processes on loopback: 37-73 KiB in flight). A rate-modelling
    /// controller's window is exceeded by three bursts, as a
    /// TSO sender leaves room for its send quanta; pacing still sets the
    /// rate. Only until the session's first lost packet: like BBR's upper
    /// bound, which exists only once a loss was seen (100 senders to one
    /// listener, each with the room for good, lost 14 times as many
    /// datagrams). NewReno and CUBIC keep their window.
    pub fn set_send_quantum(&mut self, burst: u64) {
        self.quantum_room =
            if self.controller.pacing_rate().is_some() && self.stats.packets_lost == 0 {
                burst.saturating_mul(QUANTUM_BURSTS)
            } else {
                0
            };
    }

    /// Probes still owed after a probe timeout.
    pub fn probes_owed(&self) -> u8 {
        self.probes_owed
    }

    /// True after `elicit_ack_after` non-ack-eliciting packets in a row: the
    /// next packet should elicit an acknowledgement (e.g. carry a PING), so
    /// that bookkeeping for pure acknowledgements is eventually freed.
    pub fn should_elicit_ack(&self) -> bool {
        self.non_eliciting_in_row >= self.elicit_ack_after
    }

    /// The RTT estimator.
    pub fn rtt(&self) -> &RttEstimator {
        &self.rtt
    }

    /// The congestion controller.
    pub fn controller(&self) -> &AnyController {
        &self.controller
    }

    /// Packets a later acknowledged packet must be ahead of a missing one to
    /// declare it lost: the configured threshold until a spurious loss shows
    /// the path reorders, then `u64::MAX` (age alone declares losses).
    pub fn packet_threshold(&self) -> u64 {
        self.packet_threshold
    }

    /// Age, as a multiple of the RTT, at which a packet behind an
    /// acknowledged one is declared lost: the configured threshold, raised
    /// (up to 2) to cover the lateness of spurious losses.
    pub fn time_threshold(&self) -> Ratio {
        self.time_threshold
    }

    /// Consecutive probe timeouts without an acknowledgement.
    pub fn pto_count(&self) -> u32 {
        self.pto_count
    }

    /// Largest packet number the peer acknowledged.
    pub fn largest_acked(&self) -> Option<u64> {
        self.largest_acked
    }

    /// Counters.
    pub fn stats(&self) -> RecoveryStats {
        self.stats
    }

    /// Unresolved packets, oldest first, with what they carry (e.g. to choose
    /// what a probe repeats).
    pub fn outstanding(&self) -> impl Iterator<Item = (u64, &T)> + '_ {
        self.slots.iter().filter_map(|s| match &s.state {
            State::Outstanding(info) => Some((s.pn, info)),
            _ => None,
        })
    }

    /// Drops every unresolved packet (at session close), handing their
    /// payloads to `out` as they are, neither acknowledged nor lost; no
    /// statistics change. Timers stop.
    pub fn drain_all(&mut self, out: &mut Vec<T>) {
        for slot in self.slots.drain(..) {
            if let State::Outstanding(info) = slot.state {
                out.push(info);
            }
        }
        self.bytes_in_flight = 0;
        self.eliciting_outstanding = 0;
        self.loss_time = None;
        self.probes_owed = 0;
        self.probe_owed_since = None;
    }

    /// Oldest packet number still in the map, or the next one to be sent.
    fn base_pn(&self) -> u64 {
        match (self.slots.front(), self.largest_sent) {
            (Some(slot), _) => slot.pn,
            (None, Some(largest)) => largest.saturating_add(1),
            (None, None) => 0,
        }
    }

    fn index_of_first_at_or_after(&self, pn: u64) -> usize {
        self.slots.partition_point(|s| s.pn < pn)
    }

    /// Every number in `ranges` must have been sent: at or below the largest
    /// sent and, inside the map's span, present in the map.
    fn validate(&self, ranges: &[Range<u64>]) -> Result<(), RecoveryError> {
        let base = self.base_pn();
        for r in ranges {
            let Some(largest) = self.largest_sent else {
                return Err(RecoveryError::AckOfUnsentPacket(r.start));
            };
            if r.end - 1 > largest {
                return Err(RecoveryError::AckOfUnsentPacket(r.start.max(largest + 1)));
            }
            let start = r.start.max(base);
            if start >= r.end {
                continue;
            }
            let i = self.index_of_first_at_or_after(start);
            let j = self.index_of_first_at_or_after(r.end);
            if to_u64(j - i) != r.end - start {
                let mut expected = start;
                for slot in self.slots.range(i..j) {
                    if slot.pn != expected {
                        break;
                    }
                    expected += 1;
                }
                return Err(RecoveryError::AckOfUnsentPacket(expected));
            }
        }
        Ok(())
    }

    fn apply_ack(
        &mut self,
        now: Instant,
        ranges: &[Range<u64>],
        ack_delay: Duration,
        out: &mut Vec<Outcome<T>>,
    ) {
        let Some(frame_largest) = ranges.iter().map(|r| r.end - 1).max() else {
            return;
        };
        for r in ranges {
            let mut spurious = 0;
            let mut late = Duration::ZERO;
            for h in self.recently_lost.iter_within(r.clone()) {
                spurious += h.end - h.start;
                for (_, sent) in self.lost_sent_times.iter().filter(|(pn, _)| h.contains(pn)) {
                    late = late.max(now - *sent);
                }
            }
            if spurious > 0 {
                self.stats.spurious_losses += spurious;
                self.recently_lost.remove(r.clone());
                self.loss_signal.on_spurious(spurious);
                self.on_reordering(late);
            }
        }
        // First pass: is anything new, and is any of it ack-eliciting?
        let mut newly_acked = false;
        let mut any_eliciting = false;
        for r in ranges {
            let (i, j) = self.index_span(r);
            for slot in self.slots.range(i..j) {
                if matches!(slot.state, State::Outstanding(_)) {
                    newly_acked = true;
                    any_eliciting |= slot.ack_eliciting;
                }
            }
        }
        if !newly_acked {
            return;
        }
        self.largest_acked = Some(
            self.largest_acked
                .map_or(frame_largest, |l| l.max(frame_largest)),
        );
        // RTT sample: only when the frame's largest is itself newly acked.
        let largest_idx = self.index_of_first_at_or_after(frame_largest);
        if let Some(slot) = self.slots.get(largest_idx) {
            if slot.pn == frame_largest
                && matches!(slot.state, State::Outstanding(_))
                && any_eliciting
            {
                self.rtt
                    .update(ack_delay, now - slot.time_sent, self.peer_max_ack_delay);
                self.first_rtt_sample.get_or_insert(now);
                self.stats.rtt_samples += 1;
            }
        }
        // Second pass: resolve, with the updated RTT available to the controller.
        // Whether the window is in use is judged once per frame.
        let in_use = self.window_in_use();
        for r in ranges {
            let (i, j) = self.index_span(r);
            for idx in i..j {
                let Some(slot) = self.slots.get_mut(idx) else {
                    break;
                };
                let State::Outstanding(info) = core::mem::replace(&mut slot.state, State::Acked)
                else {
                    continue;
                };
                out.push(Outcome::Acked(info));
                self.stats.packets_acked += 1;
                if slot.probe {
                    self.eliciting_outstanding = self.eliciting_outstanding.saturating_sub(1);
                } else if slot.ack_eliciting {
                    self.bytes_in_flight =
                        self.bytes_in_flight.saturating_sub(u64::from(slot.bytes));
                    self.eliciting_outstanding = self.eliciting_outstanding.saturating_sub(1);
                    let next_pn = self.largest_sent.map_or(0, |l| l.saturating_add(1));
                    self.loss_signal.on_acked(slot.pn, next_pn);
                    let snap = slot.snapshot();
                    self.rate
                        .on_acked(now, slot.time_sent, &snap, u64::from(slot.bytes));
                    let bytes = usize::try_from(slot.bytes).unwrap_or(usize::MAX);
                    let limited = snap.app_limited || !in_use;
                    self.controller
                        .on_ack(now, slot.time_sent, bytes, &self.rtt, limited);
                }
            }
        }
        self.pto_count = 0;
        self.detect_lost(now, out);
        let min_rtt = if self.rtt.has_sample() {
            self.rtt.min()
        } else {
            Duration::ZERO
        };
        if let Some(sample) = self.rate.finish(min_rtt) {
            if sample.prior_delivered >= self.peak_round_end {
                self.prev_peak_flight = self.peak_flight;
                self.peak_flight = self.bytes_in_flight;
                self.peak_round_end = sample.total_delivered;
            }
            self.controller
                .on_rate_sample(now, &sample, self.bytes_in_flight, &self.rtt);
        }
        self.pop_resolved();
    }

    /// RFC 9002 section 7.8: the window is in use (and may grow) while the
    /// most bytes in flight in this round or the last reached half of it,
    /// less two datagrams: room for one acknowledgement's growth (up to two
    /// datagrams in slow start with every other packet acknowledged), so
    /// the window ends within twice what was used. A sender held back by
    /// its application, by flow control or by pacing never gets there, so
    /// its window stays within twice what it actually used.
    fn window_in_use(&self) -> bool {
        self.peak_flight
            .max(self.prev_peak_flight)
            .saturating_mul(2)
            >= self
                .controller
                .window()
                .saturating_add(self.datagram.saturating_mul(2))
    }

    /// A packet declared lost was acknowledged after all, `late` after it
    /// was sent (zero if unknown): the path reorders. Counting packets is
    /// then no measure of loss (how far a late packet falls behind grows
    /// with the sending rate), so only age declares packets lost from now
    /// on, and the age needed grows to cover what was seen, up to twice
    /// the RTT.
    fn on_reordering(&mut self, late: Duration) {
        self.packet_threshold = MAX_PACKET_THRESHOLD;
        let rtt = self
            .rtt
            .latest()
            .max(self.rtt.smoothed())
            .as_micros()
            .max(1);
        let eighths = late.as_micros().saturating_mul(8).div_ceil(rtt) + 1;
        let eighths = u32::try_from(eighths).unwrap_or(u32::MAX);
        let current = self.time_threshold;
        let current_eighths = u64::from(current.num) * 8 / u64::from(current.den.max(1));
        if u64::from(eighths) > current_eighths {
            self.time_threshold = Ratio {
                num: eighths.min(MAX_TIME_THRESHOLD_EIGHTHS),
                den: 8,
            };
        }
    }

    /// Indices of the map covered by `r`.
    fn index_span(&self, r: &Range<u64>) -> (usize, usize) {
        (
            self.index_of_first_at_or_after(r.start),
            self.index_of_first_at_or_after(r.end),
        )
    }

    /// Declares lost every unresolved packet below the largest acknowledged
    /// that is `packet_threshold` numbers behind it or older than the loss
    /// delay; arms the loss timer for the rest; tells the controller.
    fn detect_lost(&mut self, now: Instant, out: &mut Vec<Outcome<T>>) {
        self.loss_time = None;
        let Some(largest_acked) = self.largest_acked else {
            return;
        };
        let rtt = self.rtt.latest().max(self.rtt.smoothed());
        let loss_delay = self.time_threshold.of(rtt).max(self.granularity);
        let persistent_span = self.persistent_congestion_span();
        let mut newest_lost_sent: Option<Instant> = None;
        let mut run_start: Option<Instant> = None;
        let mut persistent = false;
        let end = self.slots.partition_point(|s| s.pn < largest_acked);
        for idx in 0..end {
            let Some(slot) = self.slots.get_mut(idx) else {
                break;
            };
            match slot.state {
                State::Acked => {
                    run_start = None;
                    continue;
                }
                State::Lost => continue,
                State::Outstanding(_) => {}
            }
            let by_count = largest_acked >= slot.pn.saturating_add(self.packet_threshold);
            // Compared as the instant the timer is set to (whole
            // microseconds), so a timer that fires always finds the packet
            // lost instead of re-arming itself at `now` forever.
            let at = slot.time_sent + loss_delay;
            let by_time = now >= at;
            if !(by_count || by_time) {
                self.loss_time = Some(self.loss_time.map_or(at, |t| t.min(at)));
                run_start = None;
                continue;
            }
            let State::Outstanding(info) = core::mem::replace(&mut slot.state, State::Lost) else {
                continue;
            };
            out.push(Outcome::Lost(info));
            if slot.probe {
                // Too large for the path, most likely: not congestion.
                self.eliciting_outstanding = self.eliciting_outstanding.saturating_sub(1);
                continue;
            }
            self.stats.packets_lost += 1;
            self.stats.bytes_lost = self.stats.bytes_lost.saturating_add(u64::from(slot.bytes));
            if self.path_since.is_some_and(|t| slot.time_sent < t) {
                // Sent to the peer's old address: resent, not congestion,
                // and a late acknowledgement of it is no reordering.
                if slot.ack_eliciting {
                    self.bytes_in_flight =
                        self.bytes_in_flight.saturating_sub(u64::from(slot.bytes));
                    self.eliciting_outstanding = self.eliciting_outstanding.saturating_sub(1);
                }
                run_start = None;
                continue;
            }
            self.recently_lost
                .insert(slot.pn..slot.pn.saturating_add(1));
            if self.lost_sent_times.len() >= LOST_SENT_TIMES {
                self.lost_sent_times.pop_front();
            }
            self.lost_sent_times.push_back((slot.pn, slot.time_sent));
            if !slot.ack_eliciting {
                continue;
            }
            self.bytes_in_flight = self.bytes_in_flight.saturating_sub(u64::from(slot.bytes));
            self.eliciting_outstanding = self.eliciting_outstanding.saturating_sub(1);
            self.loss_signal.on_lost();
            self.controller
                .on_packet_lost(u64::from(slot.bytes), u64::from(slot.in_flight_at_send));
            newest_lost_sent = Some(slot.time_sent);
            // Persistent congestion: ack-eliciting losses, all sent after the
            // first RTT sample, spanning long enough with nothing acked or
            // still outstanding in between.
            if self
                .first_rtt_sample
                .is_some_and(|first| slot.time_sent >= first)
            {
                match run_start {
                    None => run_start = Some(slot.time_sent),
                    Some(start) => persistent |= slot.time_sent - start >= persistent_span,
                }
            }
        }
        while self.recently_lost.len() > RECENTLY_LOST_RANGES {
            self.recently_lost.pop_min();
        }
        let Some(sent_time) = newest_lost_sent else {
            return;
        };
        if !persistent && !self.loss_signal.is_congestion(&self.rtt) {
            // Noise, not a full queue: resend, keep the window.
            self.stats.tolerated_loss_events += 1;
            return;
        }
        if !self.controller.in_recovery(sent_time) {
            self.stats.congestion_events += 1;
            self.loss_signal.on_reduction();
        }
        if persistent {
            self.stats.persistent_congestion_events += 1;
        }
        self.controller
            .on_congestion_event(now, sent_time, persistent);
    }

    /// `(pto base + max ack delay) * threshold`: losses spanning this long
    /// mean persistent congestion.
    fn persistent_congestion_span(&self) -> Duration {
        self.rtt
            .pto_base(self.granularity)
            .saturating_add(self.peer_max_ack_delay)
            .saturating_mul(self.persistent_threshold)
    }

    fn pto_deadline(&self) -> Option<Instant> {
        let base = if self.eliciting_outstanding > 0 {
            self.last_eliciting_sent?
        } else {
            let since = self.probe_owed_since?;
            self.last_eliciting_sent.map_or(since, |t| t.max(since))
        };
        let period = self
            .rtt
            .pto_base(self.granularity)
            .saturating_add(self.peer_max_ack_delay)
            .saturating_mul(1 << self.pto_count.min(MAX_PTO_BACKOFF));
        Some(base + period)
    }

    /// Frees resolved packets at the front of the map.
    fn pop_resolved(&mut self) {
        while self
            .slots
            .front()
            .is_some_and(|s| !matches!(s.state, State::Outstanding(_)))
        {
            self.slots.pop_front();
        }
    }
}

mod slot;
#[cfg(test)]
mod tests;
