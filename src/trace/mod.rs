//! Tracing: a typed event for every protocol decision, and the switch that
//! turns them on.
//!
//! Owns: [`TraceEvent`] and its parts, the [`TraceSink`] trait an
//! application implements to receive them, and `Tracer`, the run-time
//! switch an endpoint holds (no sink: off). The types are always there;
//! the emission points, the sessions' and endpoint's switches and
//! `Endpoint::set_trace_sink` exist only with the cargo feature `trace`, so
//! a build without it generates no code for tracing at all.
//! Never: allocates per event, formats text, reads a clock or changes what
//! the core does. Events are built only when a sink is installed, from
//! copies of small fixed data and borrows; the qlog writer and the
//! `tracing` bridge live outside the `no_std` core (examples/adapters/).
//!
//! How events reach a sink: the endpoint owns the sink and lends it to the
//! session it is working on for the length of that call (a pointer swap),
//! so sessions need no shared state, no lock and no reference back.
//! Application calls on a session made through
//! [`Endpoint::session_mut`](crate::Endpoint::session_mut) keep the sink
//! lent until the endpoint's next call.

mod event;

pub use crate::recovery::ControllerPhase;
pub use event::{
    DropReason, FrameInfo, FrameSummary, HandshakeKind, LossReason, Metrics, Side, TraceEvent,
    MAX_TRACED_FRAMES,
};

#[cfg(feature = "trace")]
use alloc::boxed::Box;

use crate::ids::SessionId;
use crate::time::Instant;

/// Receives trace events. `Send` so an endpoint with a sink can still move
/// between threads.
///
/// A sink must not panic (it runs inside the core's calls); a slow sink
/// slows the endpoint down, so one that writes files should buffer.
pub trait TraceSink: Send {
    /// One event: when (the caller's time as the session saw it), which
    /// session (`None`: endpoint-level, e.g. a datagram for no session),
    /// what.
    fn event(&mut self, at: Instant, session: Option<SessionId>, event: &TraceEvent<'_>);
}

/// The run-time switch: a sink, or none (tracing off).
#[cfg(feature = "trace")]
#[derive(Default)]
pub(crate) struct Tracer {
    sink: Option<Box<dyn TraceSink>>,
}

#[cfg(feature = "trace")]
impl core::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tracer")
            .field("on", &self.sink.is_some())
            .finish()
    }
}

#[cfg(feature = "trace")]
impl Tracer {
    /// The sink, if tracing is on. Emission points build their event only
    /// inside `if let Some(sink) = tracer.sink()`, so an endpoint without a
    /// sink pays one test per point.
    #[inline(always)]
    pub fn sink(&mut self) -> Option<&mut (dyn TraceSink + 'static)> {
        self.sink.as_deref_mut()
    }

    /// True if a sink is installed.
    pub fn is_on(&self) -> bool {
        self.sink.is_some()
    }

    /// Installs `sink` (or none) and returns the previous one.
    pub fn replace(&mut self, sink: Option<Box<dyn TraceSink>>) -> Option<Box<dyn TraceSink>> {
        core::mem::replace(&mut self.sink, sink)
    }
}

/// A sink that drops every event: what "tracing on" costs without the
/// cost of any output.
#[derive(Debug, Default, Clone, Copy)]
pub struct DiscardSink;

impl TraceSink for DiscardSink {
    fn event(&mut self, _: Instant, _: Option<SessionId>, event: &TraceEvent<'_>) {
        // Keep the event observable to the optimiser, as a real sink would.
        core::hint::black_box(event);
    }
}

/// Emits one event to `$tracer` (a [`Tracer`] place expression) if a sink
/// is installed; expands to nothing without the `trace` feature. `$event`
/// is built only when tracing is on.
macro_rules! trace_event {
    ($tracer:expr, $at:expr, $session:expr, $event:expr) => {
        #[cfg(feature = "trace")]
        {
            if let Some(sink) = $tracer.sink() {
                sink.event($at, $session, &$event);
            }
        }
        // Without the feature: a closure never called, so what the event
        // reads counts as used and no code is generated.
        #[cfg(not(feature = "trace"))]
        {
            let _ = || {
                let _ = $event;
            };
        }
    };
}
pub(crate) use trace_event;

/// Lends the endpoint's sink to a session (or takes it back: the same
/// swap); expands to nothing without the `trace` feature.
macro_rules! trace_swap {
    ($endpoint_tracer:expr, $session:expr) => {
        #[cfg(feature = "trace")]
        core::mem::swap(&mut $endpoint_tracer, &mut $session.trace.tracer);
    };
}
pub(crate) use trace_swap;

#[cfg(all(test, feature = "trace"))]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    struct Names(Vec<&'static str>);
    impl TraceSink for Names {
        fn event(&mut self, _: Instant, _: Option<SessionId>, e: &TraceEvent<'_>) {
            self.0.push(e.name());
        }
    }

    #[test]
    fn off_builds_nothing_and_on_delivers() {
        let mut built = 0;
        let mut t = Tracer::default();
        let mut make = || {
            built += 1;
            TraceEvent::ProbeTimeout {
                count: 1,
                probes: 2,
            }
        };
        if let Some(s) = t.sink() {
            s.event(Instant::ZERO, None, &make());
        }
        assert!(!t.is_on());
        t.replace(Some(Box::new(Names(Vec::new()))));
        if let Some(s) = t.sink() {
            s.event(Instant::ZERO, None, &make());
        }
        assert_eq!(built, 1, "the event is built only when a sink listens");
        assert!(t.is_on());
    }

    #[test]
    fn frame_summary_lists_frames_in_order() {
        let mut s = FrameSummary::default();
        s.add(&crate::wire::Frame::Ping);
        s.add(&crate::wire::Frame::MaxData(5));
        s.add(&crate::wire::Frame::Stream(crate::wire::StreamFrame {
            stream_id: 4,
            offset: 101,
            seq: 1,
            msg_len: 10,
            frag_offset: 7,
            data: b"abc",
        }));
        assert_eq!(
            s.frames.as_slice(),
            [
                FrameInfo::Ping,
                FrameInfo::MaxData { max: 5 },
                FrameInfo::Stream {
                    stream: 4,
                    offset: 101,
                    len: 3,
                    message_end: true
                }
            ]
        );
        assert_eq!(s.ack_largest(), None);
        // Past the list's room, frames are counted, not kept.
        for _ in 0..MAX_TRACED_FRAMES {
            s.add(&crate::wire::Frame::Ping);
        }
        assert_eq!(s.frames.len(), MAX_TRACED_FRAMES);
        assert_eq!(s.omitted, 3);
        // Garbage stops the summary without a panic.
        let t = FrameSummary::of_payload(&[0xff, 0xff, 0xff]);
        assert_eq!(t, FrameSummary::EMPTY);
    }
}
