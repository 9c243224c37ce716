//! The trace under fuzzing: every endpoint the harness builds carries a
//! sink that renders each event through the real qlog writer (into
//! nowhere), so hostile input drives every emission point and the writer's
//! formatting. A panic there is a crash like any other.
//!
//! Owns: [`traced`], which installs that sink (feature `trace`; without it
//! the endpoint is returned as it is).
//! Never: keeps what it renders: memory stays bounded by the harness's own
//! limits.

use stt::Endpoint;

#[cfg(feature = "trace")]
#[path = "../../../examples/adapters/qlog.rs"]
mod qlog;

/// `ep` with tracing on (feature `trace`).
#[cfg(feature = "trace")]
pub fn traced(mut ep: Endpoint) -> Endpoint {
    if let Ok(t) = qlog::QlogTrace::new(std::io::sink(), "fuzz", qlog::Vantage::Server) {
        ep.set_trace_sink(Some(Box::new(Render(t))));
    }
    ep
}

/// `ep` as it is (built without the feature `trace`).
#[cfg(not(feature = "trace"))]
pub fn traced(ep: Endpoint) -> Endpoint {
    ep
}

#[cfg(feature = "trace")]
struct Render(qlog::QlogTrace<std::io::Sink>);

#[cfg(feature = "trace")]
impl stt::trace::TraceSink for Render {
    fn event(
        &mut self,
        at: stt::Instant,
        session: Option<stt::SessionId>,
        ev: &stt::trace::TraceEvent<'_>,
    ) {
        self.0.event(at, session, ev);
    }
}
