//! Send-side recovery: the coordinator of what happens to every packet
//! sent until it is acknowledged or declared lost.
//!
//! Owns: [`Recovery<T>`], which holds one part per concern and runs the
//! calls that touch several: the ledger of sent packets and the flight
//! counters (`ledger.rs`), acknowledgement processing (`ack.rs`), loss
//! detection (`loss.rs`) and the reordering memory that adapts it
//! (`reordering.rs`), the loss and probe timers (`timers.rs`), whether the
//! window is in use (`window_use.rs`), the counters ([`RecoveryStats`],
//! `stats.rs`), and beside them the RTT estimator, the delivery-rate
//! sampler, the loss signal, the send quantum and the congestion
//! controller they feed; what a resting sender gives back for the next
//! one to wake (`spares.rs`).
//! Never: looks inside `T` or the wire format, or keeps anything for a packet
//! once it is resolved: memory is bounded by the span of packet numbers from
//! the oldest unresolved packet to the newest. An acknowledgement that names
//! a packet never sent is rejected before any state changes.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::Range;
use core::time::Duration;

use super::congestion::{AnyController, Controller, ControllerPhase};
use super::rtt::RttEstimator;
use super::send_quantum::SendQuantum;
use super::{to_u64, Ratio, RecoveryConfig};
use crate::time::Instant;
use busy::{Busy, Model, Rest};
use ledger::{InFlight, Ledger};
use loss::LossDetection;
use reordering::Reordering;
use slot::{age_us, sat_u32, Slot, State};
pub(crate) use spares::Spares;
use timers::ProbeTimer;

pub use stats::RecoveryStats;

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

/// Sender-side recovery state for one session, generic over what a packet
/// carries.
#[derive(Debug)]
pub struct Recovery<T> {
    /// Shared by the endpoint's sessions: the tuning, and what a resting
    /// controller is rebuilt from.
    config: Arc<RecoveryConfig>,
    /// The peer's maximum ack delay: caps the delay taken off RTT samples
    /// and is part of the probe timeout. In nanoseconds (8 bytes where a
    /// `Duration` takes 16), saturating at 584 years.
    peer_max_ack_delay_ns: u64,
    sent: Ledger<T>,
    flight: InFlight,
    loss: LossDetection,
    reordering: Reordering,
    probe: ProbeTimer,
    quantum: SendQuantum,
    rtt: RttEstimator,
    /// The controller, rate sampler, loss signal and window use: boxed
    /// while busy, a summary while resting (see `busy.rs`).
    model: Model,
    /// An acknowledgement's ranges, kept to reuse the allocation (boxed:
    /// `None` costs a pointer once the idle trim gave it back).
    #[allow(clippy::box_collection)]
    scratch: Option<Box<Vec<Range<u64>>>>,
    /// The endpoint's spare allocations while lent to this sender (see
    /// `spares.rs`).
    spares: Option<Box<Spares<T>>>,
    stats: RecoveryStats,
}

/// `d` in nanoseconds, saturating at `u64::MAX`.
fn saturating_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl<T> Recovery<T> {
    /// The peer's maximum ack delay.
    fn peer_max_ack_delay(&self) -> Duration {
        Duration::from_nanos(self.peer_max_ack_delay_ns)
    }

    /// Fresh state at `now`, tuned by `config`.
    pub fn new(config: &RecoveryConfig, now: Instant) -> Self {
        Self::with_config(Arc::new(config.clone()), now)
    }

    /// Fresh state at `now`, tuned by a configuration the caller shares
    /// among its sessions.
    pub fn with_config(config: Arc<RecoveryConfig>, now: Instant) -> Self {
        Recovery {
            peer_max_ack_delay_ns: saturating_nanos(config.max_ack_delay),
            sent: Ledger::new(),
            flight: InFlight::new(config.elicit_ack_after),
            loss: LossDetection::new(),
            reordering: Reordering::new(config.packet_threshold, config.time_threshold),
            probe: ProbeTimer::default(),
            quantum: SendQuantum::default(),
            rtt: RttEstimator::new(config.initial_rtt),
            model: Model::Busy(Box::new(Busy::new(&config, now))),
            scratch: None,
            spares: None,
            stats: RecoveryStats::default(),
            config,
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
        self.loss.path_since = Some(now);
        if !reset {
            return;
        }
        for slot in self.sent.slots.iter_mut() {
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
        self.sent.pop_resolved();
        self.flight.clear();
        self.loss.loss_time = None;
        self.probe.reset();
        self.loss.first_rtt_sample = None;
        self.rtt = RttEstimator::new(config.initial_rtt);
        // Nothing is outstanding any more: the controller, the rate
        // samples and the loss signal start from scratch.
        match &mut self.model {
            Model::Busy(busy) => {
                busy.controller.reset(config);
                busy.rate = super::congestion::DeliveryRate::new(now);
                busy.loss_signal = busy::new_loss_signal(config);
            }
            Model::Resting(rest) => *rest = Rest::fresh(config),
        }
        self.reordering.forget_losses();
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
        let increasing = self.sent.is_next(pn);
        debug_assert!(increasing, "packet number {pn} sent out of order");
        if !increasing {
            return;
        }
        let bytes_u64 = to_u64(bytes);
        if self.sent.slots.capacity() == 0 {
            if let Some(q) = self.spares.as_mut().and_then(|s| s.take_ledger()) {
                self.sent.slots = q;
            }
        }
        let busy = self.model.wake(&self.config, now, &mut self.spares);
        let snap = busy.rate.on_sent(now, self.flight.bytes);
        let in_flight_after = self.flight.after_sending(bytes_u64, ack_eliciting);
        busy.window_use.on_sent(in_flight_after);
        self.sent.push(Slot {
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
        self.flight.on_sent(now, bytes_u64, ack_eliciting, probe);
        if ack_eliciting && !probe {
            self.probe.on_eliciting_sent();
            busy.controller.on_packet_sent(now, bytes);
        }
    }

    /// The session had nothing it could send (no data, or no flow-control
    /// credit) with `app_limited = true`: if the window has room, packets
    /// sent until what is in flight now is delivered are marked
    /// application-limited; their delivery-rate samples show the
    /// application's rate and their acknowledgements do not grow the
    /// window. `false` changes nothing (the mark clears itself once
    /// delivered).
    pub fn set_app_limited(&mut self, app_limited: bool) {
        if !app_limited || self.flight.bytes >= self.congestion_window() {
            return;
        }
        match &mut self.model {
            Model::Busy(busy) => busy.rate.on_app_limited(self.flight.bytes),
            Model::Resting(rest) => rest.app_limited = true,
        }
    }

    /// A new path: the congestion controller starts over from `config` (the
    /// RTT estimator is the caller's to replace if the path's delay
    /// changed).
    pub fn reset_controller(&mut self, config: &RecoveryConfig) {
        match &mut self.model {
            Model::Busy(busy) => busy.controller.reset(config),
            Model::Resting(rest) => rest.controller = AnyController::new(config).rest(),
        }
    }

    /// The pacing rate the controller asks for, bytes per second, if any.
    pub fn pacing_rate(&self) -> Option<u64> {
        match &self.model {
            Model::Busy(busy) => busy.controller.pacing_rate(),
            Model::Resting(rest) => rest.controller.pacing_rate(),
        }
    }

    /// The rate packets are paced at, bytes per second: the controller's
    /// own rate when it models one (BBR), else `5/4 * window / smoothed
    /// RTT` (0, no pacing, with a zero smoothed RTT).
    pub fn effective_pacing_rate(&self) -> u64 {
        self.pacing_rate().unwrap_or_else(|| {
            super::pacing::window_rate(self.congestion_window(), self.rtt.smoothed())
        })
    }

    /// The delivery rate: the controller's bottleneck estimate if it keeps
    /// one, else the latest valid sample's rate, bytes per second.
    pub fn delivery_rate(&self) -> u64 {
        match &self.model {
            Model::Busy(busy) => busy
                .controller
                .delivery_rate()
                .unwrap_or_else(|| busy.rate.last().rate()),
            Model::Resting(rest) => rest.controller.delivery_rate().unwrap_or(rest.last_rate),
        }
    }

    /// The newest valid delivery-rate sample, bytes per second (0: the
    /// newest sample was too short to count, or the sender is resting):
    /// what the path delivered over about the last round trip, where the
    /// controller's estimate holds a maximum over several.
    pub fn recent_delivery_rate(&self) -> u64 {
        match &self.model {
            Model::Busy(busy) => busy.rate.last().rate(),
            Model::Resting(_) => 0,
        }
    }

    /// The session carries (`on`) or no longer carries latency-sensitive
    /// traffic: see [`Controller::set_low_delay`]. A resting controller
    /// keeps no flag; the session sets it again before its next packet.
    pub fn set_low_delay(&mut self, on: bool) {
        if let Model::Busy(busy) = &mut self.model {
            busy.controller.set_low_delay(on);
        }
    }

    /// The session's datagram size changed: the congestion controller's
    /// unit (growth step, minimum window) follows.
    pub fn set_datagram_size(&mut self, bytes: usize) {
        match &mut self.model {
            Model::Busy(busy) => {
                busy.window_use.set_datagram_size(to_u64(bytes));
                busy.controller.set_datagram_size(to_u64(bytes));
            }
            Model::Resting(rest) => rest.controller.set_datagram_size(to_u64(bytes)),
        }
    }

    /// Sets the peer's maximum ack delay, once it is known; it caps the ack
    /// delay taken off RTT samples and is part of the probe timeout.
    pub fn set_peer_max_ack_delay(&mut self, max_ack_delay: Duration) {
        self.peer_max_ack_delay_ns = saturating_nanos(max_ack_delay);
    }

    /// Bytes of the busy part (controller, rate sampler, loss signal,
    /// window use), boxed while packets fly.
    pub const fn busy_size() -> usize {
        core::mem::size_of::<Busy>()
    }

    /// Bytes of what a resting sender keeps in the busy part's place
    /// (inline in the recovery state).
    pub const fn rest_size() -> usize {
        core::mem::size_of::<Rest>()
    }

    /// Bytes of one sent packet's record in the ledger.
    pub const fn record_size() -> usize {
        core::mem::size_of::<Slot<T>>()
    }

    /// True when allocations a quiet sender does not need are held: room
    /// in the ledger beyond the records it holds (a transfer grew it), the
    /// acknowledgement scratch list, or records of packets that elicit no
    /// acknowledgement while nothing that does is outstanding (a pure
    /// acknowledgement sent last: the peer acknowledges it only with its
    /// next acknowledgement, which a quiet peer may not send for a while).
    pub fn holds_idle_memory(&self) -> bool {
        self.sent.slots.capacity() > self.sent.slots.len()
            || self.scratch.is_some()
            || self.only_unelicited_records()
            || (self.sent.slots.is_empty() && self.model.is_busy())
    }

    /// Frees what [`holds_idle_memory`](Self::holds_idle_memory) names (or
    /// gives it to the endpoint's spares while they are lent). The next
    /// packet sent or acknowledgement taken allocates again, so call it
    /// only once a session has been quiet a while.
    ///
    /// Records of packets that elicit no acknowledgement are forgotten
    /// when nothing ack-eliciting is outstanding: nothing in them is ever
    /// resent and they count in no flight, so the only thing lost is the
    /// acknowledgement of an acknowledgement (the receive side then keeps
    /// reporting those ranges a while longer, within its bound). A later
    /// acknowledgement naming them finds them below the ledger's span and
    /// is ignored for them, as for any packet already resolved.
    ///
    /// With the ledger empty, the controller, the delivery-rate sampler,
    /// the loss signal and the window-use tracker are released too, a
    /// summary kept in their place (see `busy.rs`); the next packet sent
    /// rebuilds them from it.
    pub fn trim_idle_memory(&mut self) {
        if self.only_unelicited_records() {
            self.sent.slots.clear();
            self.loss.loss_time = None;
        }
        if self.sent.slots.is_empty() {
            self.model.rest(&mut self.spares);
            if let Some(s) = &mut self.spares {
                s.give_ledger(core::mem::take(&mut self.sent.slots));
            }
        }
        self.sent.slots.shrink_to_fit();
        if let (Some(list), Some(s)) = (self.scratch.take(), &mut self.spares) {
            s.give_ranges(list);
        }
    }

    /// The controller's busy part is released (the session has been
    /// quiet, or answered a keep-alive, since it last sent).
    pub fn is_resting(&self) -> bool {
        !self.model.is_busy()
    }

    /// The ledger holds records, none of an ack-eliciting packet still
    /// outstanding.
    fn only_unelicited_records(&self) -> bool {
        self.flight.eliciting == 0 && !self.sent.slots.is_empty()
    }

    /// Bytes of ack-eliciting packets neither acknowledged nor lost.
    pub fn bytes_in_flight(&self) -> u64 {
        self.flight.bytes
    }

    /// Congestion window, in bytes.
    pub fn congestion_window(&self) -> u64 {
        match &self.model {
            Model::Busy(busy) => busy.controller.window(),
            Model::Resting(rest) => rest.controller.window(),
        }
    }

    /// True if a packet of `bytes` bytes fits in the congestion window
    /// (plus the room for timer-sized bursts, see
    /// [`Recovery::set_send_quantum`]).
    ///
    /// Probe bypass: after [`TimeoutAction::Probe`] this returns true until
    /// as many ack-eliciting packets as were asked for have been sent,
    /// whatever the window says (see [`Recovery::probes_owed`]).
    pub fn can_send(&self, bytes: usize) -> bool {
        self.probe.owed > 0
            || self.flight.bytes.saturating_add(to_u64(bytes))
                <= self.congestion_window().saturating_add(self.quantum.room())
    }

    /// The pacer's burst when the caller's timer is coarse
    /// (`RecoveryConfig::pacing_granularity`), in bytes; 0 otherwise. A
    /// rate-modelling controller's window is exceeded by a few such bursts
    /// until the session's first lost packet (see
    /// [`send_quantum`](crate::recovery::send_quantum)); pacing still sets
    /// the rate. NewReno and CUBIC keep their window.
    pub fn set_send_quantum(&mut self, burst: u64) {
        self.quantum.set(
            burst,
            self.pacing_rate().is_some(),
            self.stats.packets_lost > 0,
        );
    }

    /// True after `elicit_ack_after` non-ack-eliciting packets in a row: the
    /// next packet should elicit an acknowledgement (e.g. carry a PING), so
    /// that bookkeeping for pure acknowledgements is eventually freed.
    pub fn should_elicit_ack(&self) -> bool {
        self.flight.should_elicit_ack()
    }

    /// The RTT estimator.
    pub fn rtt(&self) -> &RttEstimator {
        &self.rtt
    }

    /// What the congestion controller is doing (while resting, the phase
    /// it resumes in).
    pub fn controller_phase(&self) -> ControllerPhase {
        match &self.model {
            Model::Busy(busy) => busy.controller.phase(),
            Model::Resting(rest) => rest.controller.phase(),
        }
    }

    /// The congestion controller, `None` while resting (see
    /// [`trim_idle_memory`](Self::trim_idle_memory)).
    pub fn controller(&self) -> Option<&AnyController> {
        match &self.model {
            Model::Busy(busy) => Some(&busy.controller),
            Model::Resting(_) => None,
        }
    }

    /// Packets a later acknowledged packet must be ahead of a missing one to
    /// declare it lost: the configured threshold until a spurious loss shows
    /// the path reorders, then `u64::MAX` (age alone declares losses).
    pub fn packet_threshold(&self) -> u64 {
        self.reordering.packet_threshold()
    }

    /// Age, as a multiple of the RTT, at which a packet behind an
    /// acknowledged one is declared lost: the configured threshold, raised
    /// (up to 2) to cover the lateness of spurious losses.
    pub fn time_threshold(&self) -> Ratio {
        self.reordering.time_threshold()
    }

    /// Largest packet number the peer acknowledged.
    pub fn largest_acked(&self) -> Option<u64> {
        self.sent.largest_acked()
    }

    /// Counters.
    pub fn stats(&self) -> RecoveryStats {
        self.stats
    }

    /// Unresolved packets, oldest first, with what they carry (e.g. to choose
    /// what a probe repeats).
    pub fn outstanding(&self) -> impl Iterator<Item = (u64, &T)> + '_ {
        self.sent.outstanding()
    }

    /// Drops every unresolved packet (at session close), handing their
    /// payloads to `out` as they are, neither acknowledged nor lost; no
    /// statistics change. Timers stop.
    pub fn drain_all(&mut self, out: &mut Vec<T>) {
        for slot in self.sent.slots.drain(..) {
            if let State::Outstanding(info) = slot.state {
                out.push(info);
            }
        }
        self.flight.clear();
        self.stop_timers();
    }
}

mod ack;
mod busy;
mod ledger;
mod loss;
mod reordering;
mod slot;
mod spares;
mod stats;
#[cfg(test)]
mod tests;
mod timers;
mod window_use;
