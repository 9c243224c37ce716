//! The session's side of tracing: the sink it holds while the endpoint
//! lends it, and the events that need more than one line to build.
//!
//! Owns: [`SessionTrace`] (the lent [`Tracer`] and the last metrics
//! emitted, so an unchanged snapshot is not repeated) and the helpers that
//! turn recovery outcomes, metrics and stream events into trace events.
//! Never: changes session state, or does anything at all while no sink is
//! lent (each helper returns at its first line then).

use super::sent::SentInfo;
use super::Session;
use crate::recovery::Outcome;
use crate::streams::StreamEvent;
use crate::trace::{trace_event, LossReason, Metrics, Side, TraceEvent, Tracer};

/// What a session keeps for tracing.
#[derive(Debug, Default)]
pub(crate) struct SessionTrace {
    /// The endpoint's sink while lent to this session; off otherwise.
    pub tracer: Tracer,
    /// The metrics last emitted; boxed on first use so a session that is
    /// never traced does not carry them (an idle session stays < 4 KiB).
    last: Option<alloc::boxed::Box<Metrics>>,
}

impl Session {
    /// Events for acknowledged and lost packets, before their records are
    /// handed on. The loss reason is read from the recovery state the
    /// detection just used: a packet the packet threshold covers was lost
    /// by count, any other by age.
    pub(super) fn trace_outcomes(&mut self, out: &[Outcome<SentInfo>]) {
        let Some(sink) = self.trace.tracer.sink() else {
            return;
        };
        let largest = self.recovery.largest_acked();
        let threshold = self.recovery.packet_threshold();
        for o in out {
            let ev = match o {
                Outcome::Acked(i) => TraceEvent::PacketAcked {
                    pn: i.pn,
                    len: usize::from(i.len),
                },
                Outcome::Lost(i) if i.size_probe => TraceEvent::SizeProbeLost {
                    pn: i.pn,
                    len: usize::from(i.len),
                },
                Outcome::Lost(i) => {
                    let pn = i.pn;
                    let by_count = largest.is_some_and(|l| l >= pn.saturating_add(threshold));
                    TraceEvent::PacketLost {
                        pn,
                        len: usize::from(i.len),
                        reason: if by_count {
                            LossReason::PacketThreshold
                        } else {
                            LossReason::TimeThreshold
                        },
                    }
                }
            };
            sink.event(self.now, Some(self.id), &ev);
        }
    }

    /// A metrics event if any figure changed since the last one.
    pub(super) fn trace_metrics(&mut self) {
        if !self.trace.tracer.is_on() {
            return;
        }
        let r = &self.recovery;
        let rtt = r.rtt();
        let cwnd = r.congestion_window();
        let srtt = rtt.smoothed();
        let m = Metrics {
            congestion_window: cwnd,
            bytes_in_flight: r.bytes_in_flight(),
            smoothed_rtt: srtt,
            min_rtt: rtt.min(),
            latest_rtt: rtt.latest(),
            rtt_variance: rtt.rttvar(),
            pacing_rate: crate::recovery::pacing::bits_per_sec(r.effective_pacing_rate()),
            phase: Some(r.controller_phase()),
        };
        match &mut self.trace.last {
            Some(last) if **last == m => return,
            Some(last) => **last = m,
            None => self.trace.last = Some(alloc::boxed::Box::new(m)),
        }
        trace_event!(
            self.trace.tracer,
            self.now,
            Some(self.id),
            TraceEvent::MetricsUpdated(m)
        );
    }

    /// The trace event a stream event stands for, if any.
    pub(super) fn trace_stream_event(&mut self, ev: &StreamEvent) {
        let e = match *ev {
            StreamEvent::Opened(stream) => TraceEvent::StreamOpened {
                stream,
                by: Side::Remote,
            },
            StreamEvent::Finished(stream) => TraceEvent::StreamClosed {
                stream,
                by: Side::Remote,
            },
            StreamEvent::Reset(stream, code) => TraceEvent::StreamReset {
                stream,
                code,
                by: Side::Remote,
            },
            StreamEvent::MessageExpired { stream, seq, sent } => {
                TraceEvent::MessageExpired { stream, seq, sent }
            }
            StreamEvent::Readable(_) | StreamEvent::Writable(_) => return,
        };
        trace_event!(self.trace.tracer, self.now, Some(self.id), e);
    }

    /// Streams that became blocked on session credit since the last call.
    pub(super) fn trace_blocked(&mut self) {
        while let Some(stream) = self.streams.take_newly_blocked() {
            trace_event!(
                self.trace.tracer,
                self.now,
                Some(self.id),
                TraceEvent::StreamBlocked { stream }
            );
        }
    }
}
