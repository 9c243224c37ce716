//! The endpoint's trace switch: installing a sink, and lending it to the
//! session that application calls are made on.
//!
//! Owns: the endpoint's [`Tracer`](crate::trace::Tracer) and which session,
//! if any, holds it between calls (after
//! [`Endpoint::session_mut`](super::Endpoint::session_mut)).
//! Never: emits events itself, or leaves the sink with a session past the
//! endpoint's next call: every entry point takes it back first.

use alloc::boxed::Box;

use super::Endpoint;
use crate::ids::SessionId;
use crate::trace::TraceSink;

impl Endpoint {
    /// Turns tracing on with `sink` (or off with `None`) and returns the
    /// previous sink. Every protocol decision of every session of this
    /// endpoint reaches the sink as a [`TraceEvent`](crate::trace::TraceEvent)
    /// from the next call on. Feature `trace` only.
    pub fn set_trace_sink(
        &mut self,
        sink: Option<Box<dyn TraceSink>>,
    ) -> Option<Box<dyn TraceSink>> {
        self.reclaim_trace();
        self.trace.replace(sink)
    }

    /// True if a trace sink is installed.
    pub fn is_tracing(&self) -> bool {
        self.trace.is_on() || self.trace_lent.is_some()
    }

    /// Lends the sink to session `id`, whose application calls come next.
    pub(super) fn lend_trace(&mut self, id: SessionId) {
        self.reclaim_trace();
        if !self.trace.is_on() {
            return;
        }
        if let Some(e) = self.sessions.get_mut(id) {
            core::mem::swap(&mut self.trace, &mut e.session.trace.tracer);
            self.trace_lent = Some(id);
        }
    }

    /// Takes the sink back from the session it was lent to.
    #[inline]
    pub(super) fn reclaim_trace(&mut self) {
        if let Some(id) = self.trace_lent.take() {
            if let Some(e) = self.sessions.get_mut(id) {
                core::mem::swap(&mut self.trace, &mut e.session.trace.tracer);
            }
        }
    }
}
