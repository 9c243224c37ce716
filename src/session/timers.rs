//! A session's timers: when it must next be woken, and what is due then.
//!
//! Owns: the one deadline a session gives the endpoint (the earliest of the
//! handshake and idle timeouts, keep-alive, loss recovery, the
//! acknowledgement delay, pacing, queued datagrams' deadlines, the size
//! search, path validation, the closing period and the scratch trim), and running whatever is due at a
//! given time.
//! Never: reads a clock (the caller's time is all it knows) or sends:
//! a timer that owes the peer a packet sets a flag the next transmit reads.

use bytes::Bytes;
use core::time::Duration;

use super::{Session, State};
use crate::event::CloseReason;
use crate::time::Instant;
use crate::trace::{trace_event, TraceEvent};

/// How long a session with nothing in flight stays quiet before it frees
/// its scratch allocations: long against a busy session's gaps (so a
/// transfer never allocates for them per acknowledgement), short against
/// how long sessions sit idle.
const SCRATCH_TRIM_AFTER: Duration = Duration::from_millis(500);

impl Session {
    pub(super) fn idle_timeout(&self) -> Duration {
        match self.peer_idle_timeout_ms {
            0 => self.cfg.idle_timeout,
            p => Duration::from_millis(p).min(self.cfg.idle_timeout),
        }
    }

    /// When a keep-alive PING is owed. None while a resumed responder
    /// waits for the initiator's first packet: its anti-amplification
    /// budget may not let a PING out, and a keep-alive that cannot be sent
    /// would stay due (the idle timeout still runs).
    fn keep_alive_at(&self) -> Option<Instant> {
        let k = self.cfg.keep_alive.filter(|_| !self.is_half_open())?;
        Some(self.last_tx_eliciting.max(self.last_rx) + k)
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next run.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        let mut t: Option<Instant> = None;
        let mut at = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t| t.min(x)));
            }
        };
        match self.state {
            State::Done => return None,
            State::Closing { until } | State::Draining { until } => return Some(until),
            State::Handshake => at(Some(self.created_at + self.cfg.handshake_timeout)),
            State::Established => {
                at(Some(self.last_rx + self.idle_timeout()));
                at(self.keep_alive_at());
                at(self.recovery.timeout());
                at(self.acks.ack_deadline());
                at(self.pacing_wait);
                at(self.dgrams.next_deadline());
                at(self.deadline_timeout());
                at(self.mtu.timeout());
                at(self.paths.next_timeout(self.now));
                at(self.scratch_trim_at());
            }
        }
        if let Some(hs) = &self.hs {
            at(hs.resend_at);
        }
        t
    }

    /// Runs the timers due at `now`.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        match self.state {
            State::Done => return,
            State::Closing { until } | State::Draining { until } => {
                if now >= until {
                    self.state = State::Done;
                }
                return;
            }
            State::Handshake => {
                if now >= self.created_at + self.cfg.handshake_timeout {
                    self.enter_closing(0, Bytes::new(), CloseReason::HandshakeTimeout);
                    return;
                }
            }
            State::Established => {
                if now >= self.last_rx + self.idle_timeout() {
                    self.state = State::Done;
                    self.report_closed(CloseReason::IdleTimeout);
                    return;
                }
                if self.keep_alive_at().is_some_and(|t| now >= t) {
                    self.on_keep_alive_due();
                }
                self.trim_scratch(now);
                self.expire_datagrams(now);
                self.expire_deadlines(now);
                // The size search's quiet period: a new search starts now
                // (its probes wait for data), so the timer is not due again.
                self.mtu.on_timeout(now);
                if self.recovery.timeout().is_some_and(|t| t <= now) {
                    let mut scratch = self.take_scratch();
                    let out = &mut scratch.outcomes;
                    let action = self.recovery.on_timeout(now, out);
                    #[cfg(feature = "trace")]
                    self.trace_outcomes(out);
                    self.apply_outcomes(out);
                    self.scratch = Some(scratch);
                    if let crate::recovery::TimeoutAction::Probe { packets } = action {
                        self.ping_owed = true;
                        trace_event!(
                            self.trace.tracer,
                            self.now,
                            Some(self.id),
                            TraceEvent::ProbeTimeout {
                                count: self.recovery.pto_count(),
                                probes: packets
                            }
                        );
                    }
                    #[cfg(feature = "trace")]
                    self.trace_metrics();
                }
                if self.pacing_wait.is_some_and(|t| t <= now) {
                    self.pacing_wait = None;
                }
                // A candidate that did not answer is forgotten; the session
                // never left its validated address, so it stays there.
                #[cfg(feature = "trace")]
                let (tracer, at, id) = (&mut self.trace.tracer, self.now, self.id);
                self.paths.on_timeout(now, |addr| {
                    trace_event!(
                        tracer,
                        at,
                        Some(id),
                        TraceEvent::PathValidationFailed { addr }
                    );
                });
            }
        }
        if let Some(hs) = &mut self.hs {
            if hs.resend_at.is_some_and(|t| t <= now) {
                hs.on_resend_timer(now);
            }
        }
    }

    /// When a quiet session gives back its scratch allocations: the
    /// acknowledgement outcome buffer (an outcome is ~250 bytes), the
    /// acknowledgement range lists, the empty sent-packet ledger (and the
    /// records of pure acknowledgements), the congestion controller's busy
    /// part (kept as a summary), the pacer, the stream manager's empty
    /// queues and an empty event queue; the replay window's bitmap goes too
    /// if the window is full. `None` while anything is in flight or nothing
    /// is held.
    fn scratch_trim_at(&self) -> Option<Instant> {
        let holds = self.scratch.is_some()
            || self.recovery.holds_idle_memory()
            || self.streams.holds_idle_memory()
            || (self.events.is_empty() && self.events.is_allocated())
            || self.pacer.is_some();
        (holds && self.recovery.bytes_in_flight() == 0)
            .then(|| self.last_tx_eliciting.max(self.last_rx) + SCRATCH_TRIM_AFTER)
    }

    /// Frees the scratch allocations once the session has been quiet for
    /// [`SCRATCH_TRIM_AFTER`]. Never on a busy session: trimming on every
    /// empty flight would make a bulk transfer allocate on most
    /// acknowledgements.
    fn trim_scratch(&mut self, now: Instant) {
        if self.scratch_trim_at().is_some_and(|t| now >= t) {
            self.release_idle_memory();
        }
    }

    /// Gives back what only a busy session needs (see
    /// [`scratch_trim_at`](Self::scratch_trim_at)).
    pub(super) fn release_idle_memory(&mut self) {
        self.give_spares();
        self.recovery.trim_idle_memory();
        self.streams.trim_idle_memory();
        if let Some(keys) = &mut self.keys {
            keys.replay.compact();
        }
        self.events.release();
    }
}
