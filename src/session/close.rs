//! How a session ends: closed by the application, closed because the peer
//! broke the protocol, told to by the peer's CLOSE, or by the peer's
//! stateless reset; and how long it stays closing (answering with its
//! CLOSE) or draining (silent) after.
//!
//! Owns: the move from established to closing or draining, the CLOSE
//! frame owed to the peer, the close period, and the `Closed` or
//! `ConnectFailed` event the application gets.
//! Never: sends the CLOSE itself (the next transmit does, while
//! `close_pending`) or ends the session before its close period is over
//! (the timers do).

use alloc::boxed::Box;
use bytes::Bytes;
use core::time::Duration;

use super::{Session, State};
use crate::crypto::ResetToken;
use crate::event::{code, CloseReason, Event};
use crate::ids::Role;
use crate::time::Instant;
use crate::trace::{trace_event, TraceEvent};
use crate::violation::Violation;

impl Session {
    /// Closes the session with an application `code` (sent to the peer with
    /// `reason`, cut to 256 bytes). Unsent data is dropped.
    pub fn close(&mut self, code: u64, reason: &[u8]) {
        if self.is_closed() {
            return;
        }
        let reason =
            Bytes::copy_from_slice(&reason[..reason.len().min(crate::wire::MAX_REASON_LEN)]);
        let wire_code = code::from_application(code);
        self.enter_closing(wire_code, reason, CloseReason::Local { code });
    }

    pub(super) fn pto(&self) -> Duration {
        self.recovery
            .rtt()
            .pto_base(self.cfg.recovery.granularity)
            .saturating_add(self.cfg.recovery.max_ack_delay)
    }

    /// How long a closing or draining session stays to answer (or ignore)
    /// the peer's late packets: three PTO, but never past the idle timeout.
    /// The peer sets the round-trip estimate through when it acknowledges,
    /// so without the cap it could keep a closed session (and its slot)
    /// for as long as it likes; past the idle timeout the peer has given
    /// up anyway, and a late packet is merely an unknown session.
    pub(super) fn close_period(&self) -> Duration {
        self.pto().saturating_mul(3).min(self.idle_timeout())
    }

    pub(super) fn enter_closing(&mut self, wire_code: u64, reason: Bytes, why: CloseReason) {
        match self.state {
            State::Handshake => {
                self.state = State::Done;
                trace_event!(
                    self.trace.tracer,
                    self.now,
                    Some(self.id),
                    TraceEvent::Closed { reason: &why }
                );
                self.events.push_back(match self.role {
                    Role::Initiator => Event::ConnectFailed {
                        session: self.id,
                        reason: why,
                    },
                    Role::Responder => return,
                });
            }
            State::Established => {
                self.close_frame = Some(Box::new((wire_code, reason)));
                self.close_pending = true;
                self.state = State::Closing {
                    until: self.now + self.close_period(),
                };
                self.report_closed(why);
            }
            _ => {}
        }
    }

    /// Closes because the peer broke the protocol.
    pub(super) fn violation(&mut self, v: Violation) {
        self.enter_closing(v.wire_code(), Bytes::new(), CloseReason::Violation(v));
    }

    /// The peer sent CLOSE.
    pub(super) fn on_peer_close(&mut self, wire_code: u64, reason: &[u8]) {
        if self.state != State::Established {
            return;
        }
        let why = CloseReason::from_peer(wire_code, Bytes::copy_from_slice(reason));
        self.state = State::Draining {
            until: self.now + self.close_period(),
        };
        self.report_closed(why);
    }

    /// `tail`, the last 16 bytes of a datagram routed to this session
    /// (by its id or by the endpoint's token index), ends the session at
    /// once if it is the peer's stateless reset token (compared in
    /// constant time): the peer lost the session, so no CLOSE is owed and
    /// no close period is kept. Returns whether it was the token.
    pub(super) fn on_reset_tail(&mut self, tail: &[u8; 16]) -> bool {
        let Some(token) = self.keys.as_ref().and_then(|k| k.peer_reset_token) else {
            return false;
        };
        if !token.ends(tail) {
            return false;
        }
        let established = self.state == State::Established;
        self.state = State::Done;
        self.close_pending = false;
        if established {
            self.report_closed(CloseReason::StatelessReset);
        }
        true
    }

    /// [`on_reset_tail`](Self::on_reset_tail) for a datagram the endpoint
    /// routed here by its token index.
    pub(crate) fn handle_reset_tail(&mut self, now: Instant, tail: &[u8; 16]) -> bool {
        self.now = self.now.max(now);
        self.on_reset_tail(tail)
    }

    /// The peer's stateless reset token, once established (if it sent one).
    pub(crate) fn peer_reset_token(&self) -> Option<ResetToken> {
        self.keys.as_ref().and_then(|k| k.peer_reset_token)
    }

    /// Tells the trace and the application that the established session
    /// ended, and why (a session that never got established reports
    /// through `ConnectFailed`, or not at all on the responder's side).
    pub(super) fn report_closed(&mut self, why: CloseReason) {
        trace_event!(
            self.trace.tracer,
            self.now,
            Some(self.id),
            TraceEvent::Closed { reason: &why }
        );
        self.events.push_back(Event::Closed {
            session: self.id,
            reason: why,
        });
    }
}
