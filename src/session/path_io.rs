//! The session's side of path validation: probe packets out, answers in,
//! and the one place where the session's path changes.
//!
//! Owns: building a probe (PATH_CHALLENGE and/or PATH_RESPONSE to an
//! address being validated), acting on a matching PATH_RESPONSE, and
//! [`Session::on_path_changed`]: what a move to a proven address resets and
//! what it keeps.
//! Never: decides which address to challenge, when, or how much it may be
//! sent (`crate::path` does), or sends anything but probes to an address
//! that is not validated.

use alloc::boxed::Box;
use core::net::SocketAddr;

use super::sent::SentInfo;
use super::Session;
use crate::crypto::TAG_LEN;
use crate::path::PathData;
use crate::time::Instant;
use crate::trace::{trace_event, TraceEvent};
use crate::wire::{Frame, Writer, SHORT_HEADER_LEN};

impl Session {
    /// The next path probe due, written into `buf`: its length and the
    /// candidate address it goes to. Probes are outside the congestion
    /// window and pacing (a few dozen bytes, bounded by the candidate's
    /// anti-amplification budget) and recorded as not ack-eliciting, so
    /// their loss is no congestion signal and arms no probe timer; an
    /// unanswered challenge is sent again by the path module instead.
    pub(super) fn path_probe(
        &mut self,
        now: Instant,
        buf: &mut [u8],
    ) -> Option<(usize, SocketAddr)> {
        let overhead = SHORT_HEADER_LEN + TAG_LEN;
        let probe = self.paths.next_probe(now, overhead)?;
        if buf.len() < overhead + probe.frames_len() {
            return None;
        }
        let written = {
            let mut w = Writer::new(&mut buf[SHORT_HEADER_LEN..]);
            if let Some(d) = probe.challenge {
                Frame::PathChallenge(d).encode(&mut w).ok()?;
            }
            if let Some(d) = probe.response {
                Frame::PathResponse(d).encode(&mut w).ok()?;
            }
            w.written()
        };
        let pn = self.next_pn;
        let frames = self.traced_frames(buf, written);
        let len = self.seal(pn, buf, written)?;
        self.record_sent(now, pn, len, false, frames.as_ref(), SentInfo::default());
        let pto = self.pto();
        self.paths.on_probe_sent(now, &probe, len, pto);
        if probe.challenge.is_some() {
            trace_event!(
                self.trace.tracer,
                self.now,
                Some(self.id),
                TraceEvent::PathChallengeSent { to: probe.to, len }
            );
        }
        Some((len, probe.to))
    }

    /// The peer echoed `data`. If it proves the address the peer is
    /// sending from now (the source of the highest-numbered packet), the
    /// session moves there.
    pub(super) fn on_path_response(&mut self, now: Instant, data: PathData) {
        let Some(proven) = self.paths.on_response(data) else {
            return;
        };
        trace_event!(
            self.trace.tracer,
            self.now,
            Some(self.id),
            TraceEvent::PathValidated { addr: proven }
        );
        if self.latest_from.as_deref() == Some(&proven) {
            self.on_path_changed(now, proven);
        }
    }

    /// The session's path changes: from now on everything goes to `new`,
    /// an address the peer just proved it receives at.
    ///
    /// A new IP address is a new path: the congestion controller, the RTT
    /// estimate and pacing start afresh, and what was in flight to the old
    /// address is declared lost (without a congestion response) and
    /// resent. A new port at the same IP is NAT rebinding on the same
    /// path: all of that is kept, and the loss of packets sent to the old
    /// port is resent without counting as congestion.
    ///
    /// Either kind of change restarts the datagram size search at the base
    /// size: a rebinding NAT may sit on a route with another MTU.
    pub(crate) fn on_path_changed(&mut self, now: Instant, new: SocketAddr) {
        let old = core::mem::replace(&mut self.peer, new);
        // `latest_from` is held only while it differs from `peer`.
        let latest = self.latest_from.take().map_or(old, |b| *b);
        self.latest_from = (latest != new).then(|| Box::new(latest));
        self.paths.on_migrated(new);
        let new_path = old.ip() != new.ip();
        trace_event!(
            self.trace.tracer,
            self.now,
            Some(self.id),
            TraceEvent::PathChanged { to: new, new_path }
        );
        let mut scratch = self.take_scratch();
        let out = &mut scratch.outcomes;
        self.recovery
            .on_path_changed(&self.cfg.recovery, now, new_path, out);
        self.apply_outcomes(out);
        self.scratch = Some(scratch);
        // After the losses above, so the old path's lost size probes are
        // settled before the search starts over.
        self.restart_path_mtu(now);
        if new_path {
            self.pacer = None;
            self.pacing_wait = None;
        }
    }
}
