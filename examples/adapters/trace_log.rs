//! The bridge from stt's trace events to `tracing`: a span per session and
//! per stream carrying their ids, each event at a level that says how much
//! it matters, so `RUST_LOG`-style filters pick what to see.
//!
//! Owns: the level of each event kind and the span layout, and
//! [`init_from_env`], which installs a `tracing-subscriber` formatter only
//! when `RUST_LOG` is set (nothing is printed otherwise).
//! Never: decides anything about the protocol, or costs anything when no
//! sink is installed on the endpoint.
//!
//! Levels: `info` session started / established / closed; `debug` losses,
//! probe timeouts, congestion metrics, stream opened / closed / reset /
//! blocked, key updates, dropped datagrams; `trace` every packet sent,
//! received and acknowledged. Target: `stt`. Example:
//! `RUST_LOG=stt=debug cargo run --example stt-send -- ...`.
#![allow(dead_code)]

use stt::trace::{TraceEvent, TraceSink};
use stt::{Instant, SessionId};
use tracing::{debug, info, info_span, trace};

/// A [`TraceSink`] that turns events into `tracing` events.
#[derive(Debug, Default)]
pub struct TracingSink;

/// Installs a formatter on stderr filtered by `RUST_LOG`, if it is set;
/// returns whether it did. Call once, first thing in `main`.
pub fn init_from_env() -> bool {
    let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() else {
        return false;
    };
    if std::env::var_os("RUST_LOG").is_none() {
        return false;
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init()
        .is_ok()
}

/// A [`TracingSink`] if `RUST_LOG` asked for anything from target `stt`.
pub fn sink_from_env() -> Option<Box<dyn TraceSink>> {
    tracing::enabled!(target: "stt", tracing::Level::ERROR)
        .then(|| Box::new(TracingSink) as Box<dyn TraceSink>)
}

impl TraceSink for TracingSink {
    fn event(&mut self, at: Instant, session: Option<SessionId>, ev: &TraceEvent<'_>) {
        let t_us = at.as_micros();
        let span = match session {
            Some(s) => info_span!(target: "stt", "session", id = %format_args!("{:016x}", s.0)),
            None => info_span!(target: "stt", "endpoint"),
        };
        let _s = span.enter();
        match *ev {
            TraceEvent::SessionStarted { role, peer } => {
                info!(target: "stt", t_us, ?role, %peer, "session started")
            }
            TraceEvent::Established { cipher } => {
                info!(target: "stt", t_us, ?cipher, "established")
            }
            TraceEvent::Closed { reason } => info!(target: "stt", t_us, ?reason, "closed"),
            TraceEvent::HandshakeSent { len } => debug!(target: "stt", t_us, len, "handshake sent"),
            TraceEvent::HandshakeReceived { kind, len } => {
                debug!(target: "stt", t_us, ?kind, len, "handshake received")
            }
            TraceEvent::PacketSent {
                pn,
                len,
                ack_eliciting,
                frames,
            } => trace!(target: "stt", t_us, pn, len, ack_eliciting, ?frames, "packet sent"),
            TraceEvent::PacketReceived { pn, len, frames } => {
                trace!(target: "stt", t_us, pn, len, ?frames, "packet received")
            }
            TraceEvent::PacketAcked { pn, len } => {
                trace!(target: "stt", t_us, pn, len, "packet acked")
            }
            TraceEvent::PacketLost { pn, len, reason } => {
                debug!(target: "stt", t_us, pn, len, ?reason, "packet lost")
            }
            TraceEvent::SizeProbeLost { pn, len } => {
                debug!(target: "stt", t_us, pn, len, "size probe lost")
            }
            TraceEvent::DatagramSizeChanged { size } => {
                debug!(target: "stt", t_us, size, "datagram size changed")
            }
            TraceEvent::PathChallengeSent { to, len } => {
                debug!(target: "stt", t_us, %to, len, "path challenge sent")
            }
            TraceEvent::PathValidated { addr } => {
                debug!(target: "stt", t_us, %addr, "path validated")
            }
            TraceEvent::PathValidationFailed { addr } => {
                info!(target: "stt", t_us, %addr, "path validation failed")
            }
            TraceEvent::PathChanged { to, new_path } => {
                info!(target: "stt", t_us, %to, new_path, "path changed")
            }
            TraceEvent::ProbeTimeout { count, probes } => {
                debug!(target: "stt", t_us, count, probes, "probe timeout")
            }
            TraceEvent::MetricsUpdated(m) => debug!(
                target: "stt",
                t_us,
                cwnd = m.congestion_window,
                in_flight = m.bytes_in_flight,
                srtt_us = m.smoothed_rtt.as_micros() as u64,
                latest_rtt_us = m.latest_rtt.as_micros() as u64,
                pacing_bps = m.pacing_rate,
                phase = ?m.phase,
                "metrics"
            ),
            TraceEvent::StreamOpened { stream, by } | TraceEvent::StreamClosed { stream, by } => {
                let what = if matches!(ev, TraceEvent::StreamOpened { .. }) {
                    "stream opened"
                } else {
                    "stream closed"
                };
                info_span!(target: "stt", "stream", id = stream)
                    .in_scope(|| debug!(target: "stt", t_us, ?by, "{what}"));
            }
            TraceEvent::StreamReset { stream, code, by } => {
                info_span!(target: "stt", "stream", id = stream)
                    .in_scope(|| debug!(target: "stt", t_us, code, ?by, "stream reset"));
            }
            TraceEvent::StreamBlocked { stream } => {
                info_span!(target: "stt", "stream", id = stream)
                    .in_scope(|| debug!(target: "stt", t_us, "blocked on session credit"));
            }
            TraceEvent::DatagramDropped { reason, len } => {
                debug!(target: "stt", t_us, ?reason, len, "datagram dropped")
            }
            TraceEvent::KeyUpdated { by, generation } => {
                debug!(target: "stt", t_us, ?by, generation, "key updated")
            }
            TraceEvent::AppDatagramSent { id, len, pn } => {
                trace!(target: "stt", t_us, id = id.get(), len, pn, "app datagram sent")
            }
            TraceEvent::AppDatagramsAcked { pn, count } => {
                trace!(target: "stt", t_us, pn, count, "app datagrams acked")
            }
            TraceEvent::AppDatagramsLost { pn, count } => {
                debug!(target: "stt", t_us, pn, count, "app datagrams lost")
            }
            TraceEvent::AppDatagramExpired { id, len } => {
                debug!(target: "stt", t_us, id = id.get(), len, "app datagram expired")
            }
            TraceEvent::AppDatagramDropped { id, len } => {
                debug!(target: "stt", t_us, id = id.get(), len, "app datagram dropped")
            }
            // An event of a later version of the core, by name.
            other => debug!(target: "stt", t_us, event = other.name(), "event"),
        }
    }
}

/// Hands every event to each of several sinks (e.g. qlog files and the
/// `tracing` bridge at once).
pub struct Tee(pub Vec<Box<dyn TraceSink>>);

impl TraceSink for Tee {
    fn event(&mut self, at: Instant, session: Option<SessionId>, ev: &TraceEvent<'_>) {
        for s in &mut self.0 {
            s.event(at, session, ev);
        }
    }
}
