//! The trace under fuzzing: every endpoint the harness builds carries a
//! sink, so hostile input drives every emission point of the core. One
//! input in [`QLOG_ONE_IN`] (chosen by a hash of the input, so a crash
//! replays the same way) renders each event through the real qlog writer
//! into nowhere, so the writer's formatting is fuzzed too; the others hand
//! each event to a sink that only looks at it. A panic in either is a
//! crash like any other.
//!
//! Owns: [`traced`], which installs the sink (feature `trace`; without it
//! the endpoint is returned as it is), and [`choose`], which picks the
//! sink for the next input.
//! Never: keeps what it renders: memory stays bounded by the harness's own
//! limits.

use std::cell::Cell;

use stt::Endpoint;

#[cfg(feature = "trace")]
#[path = "../../../examples/adapters/qlog.rs"]
mod qlog;

/// One input in this many renders its trace through the qlog writer.
pub const QLOG_ONE_IN: u64 = 16;

thread_local! {
    /// Whether endpoints built from now on render qlog. Replays outside
    /// the fuzz targets (`tests/fuzz_regressions.rs`) never call
    /// [`choose`], so they render every input.
    static QLOG: Cell<bool> = const { Cell::new(true) };
}

/// Picks the sink for the input `data` about to run: the qlog writer for
/// one input in [`QLOG_ONE_IN`], by an FNV-1a hash of its bytes.
pub fn choose(data: &[u8]) {
    let h = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    QLOG.with(|q| q.set(h % QLOG_ONE_IN == 0));
}

/// True if the endpoints of the current input render qlog.
pub fn renders_qlog() -> bool {
    QLOG.with(Cell::get)
}

/// `ep` with tracing on (feature `trace`): the qlog writer or the cheap
/// sink, as [`choose`] picked.
#[cfg(feature = "trace")]
pub fn traced(mut ep: Endpoint) -> Endpoint {
    if renders_qlog() {
        if let Ok(t) = qlog::QlogTrace::new(std::io::sink(), "fuzz", qlog::Vantage::Server) {
            ep.set_trace_sink(Some(Box::new(Render(t))));
        }
    } else {
        ep.set_trace_sink(Some(Box::new(Look)));
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

/// The cheap sink: the core builds every event as usual; this one only
/// keeps the optimiser from proving it unused.
#[cfg(feature = "trace")]
struct Look;

#[cfg(feature = "trace")]
impl stt::trace::TraceSink for Look {
    fn event(
        &mut self,
        at: stt::Instant,
        session: Option<stt::SessionId>,
        ev: &stt::trace::TraceEvent<'_>,
    ) {
        std::hint::black_box((at, session, ev));
    }
}
