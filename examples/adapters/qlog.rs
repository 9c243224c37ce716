//! qlog output: stt's trace events as qlog JSON text sequences (RFC 7464:
//! each record is 0x1E, one JSON object, LF), in the shape of the IETF qlog
//! main schema (`qlog_version` 0.3, `qlog_format` "JSON-SEQ"), loadable in
//! qvis as written.
//!
//! Owns: the mapping from [`TraceEvent`] to qlog event names and fields
//! (documented in docs/GUIDE.md "Tracing and qlog"), the hand-written
//! JSON, and the files: one for a whole endpoint ([`QlogSink::file`]) or
//! one per session in a directory ([`QlogSink::per_session`]).
//! Never: panics on what an event carries (a peer's close reason is
//! escaped like any string), or blocks the endpoint longer than a buffered
//! write. It lives outside the `no_std` core, which only hands it events.
//!
//! Included with `#[path]` by the programs that write qlog (`simulate`,
//! `stt-send`, the tokio adapter) and by `tests/qlog.rs` and
//! `tests/qlog_reader.rs`.
#![allow(dead_code)] // each including program uses part of it

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use stt::trace::{
    ControllerPhase, DropReason, FrameInfo, HandshakeKind, LossReason, Side, TraceEvent, TraceSink,
};
use stt::{Instant, SessionId};

/// Which side a trace is written from (qlog `vantage_point.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vantage {
    /// The side that connects.
    Client,
    /// The side that accepts.
    Server,
}

impl Vantage {
    fn name(self) -> &'static str {
        match self {
            Vantage::Client => "client",
            Vantage::Server => "server",
        }
    }
}

/// One qlog trace: a header record, then one record per event.
///
/// An ACK's newly acknowledged packets arrive as `packet_acked` events
/// right after the `packet_received` that carried it; the writer holds that
/// record back until they are in, and lists them as the ACK frame's
/// `acked_ranges` (which qvis reads to draw acknowledgements).
pub struct QlogTrace<W: Write> {
    out: W,
    /// A `packet_received` record without its closing, and the acked
    /// ranges gathered for it.
    pending: Option<String>,
    acked: Vec<(u64, u64)>,
    phase: HashMap<Option<SessionId>, ControllerPhase>,
    /// The side written from: qlog names keys by client and server.
    vantage: Vantage,
    line: String,
    failed: bool,
}

impl<W: Write> QlogTrace<W> {
    /// A trace written to `out`; writes the header record now.
    pub fn new(mut out: W, title: &str, vantage: Vantage) -> io::Result<Self> {
        Self::header(&mut out, title, vantage)?;
        Ok(Self::continued(out, vantage))
    }

    /// A trace continuing in `out`, whose header was written before.
    pub fn continued(out: W, vantage: Vantage) -> Self {
        QlogTrace {
            out,
            pending: None,
            acked: Vec::new(),
            phase: HashMap::new(),
            vantage,
            line: String::new(),
            failed: false,
        }
    }

    fn header(out: &mut W, title: &str, vantage: Vantage) -> io::Result<()> {
        let mut h = String::new();
        h.push('\u{1e}');
        h.push_str("{\"qlog_version\":\"0.3\",\"qlog_format\":\"JSON-SEQ\",\"title\":");
        json_str(&mut h, title);
        h.push_str(",\"trace\":{\"vantage_point\":{\"name\":\"stt\",\"type\":\"");
        h.push_str(vantage.name());
        h.push_str("\"},\"common_fields\":{\"protocol_type\":[\"STT\"],\"time_format\":\"relative\",\"reference_time\":0}}}\n");
        out.write_all(h.as_bytes())
    }

    /// Writes one event (or holds it, see the type's doc). A write error
    /// stops the trace; the endpoint carries on.
    pub fn event(&mut self, at: Instant, session: Option<SessionId>, ev: &TraceEvent<'_>) {
        if self.failed {
            return;
        }
        if let TraceEvent::PacketAcked { pn, .. } = *ev {
            if self.pending.is_some() {
                match self.acked.last_mut() {
                    Some(r) if r.1 + 1 == pn => r.1 = pn,
                    _ => self.acked.push((pn, pn)),
                }
                return;
            }
        }
        self.flush_pending();
        let mut l = std::mem::take(&mut self.line);
        l.clear();
        if self.record(&mut l, at, session, ev) {
            if matches!(ev, TraceEvent::PacketReceived { .. }) {
                self.pending = Some(l.clone());
            } else {
                self.write(&l);
            }
        }
        self.line = l;
    }

    /// Writes a held record and flushes the buffer.
    pub fn flush(&mut self) {
        self.flush_pending();
        if !self.failed && self.out.flush().is_err() {
            self.failed = true;
        }
    }

    fn flush_pending(&mut self) {
        let Some(mut l) = self.pending.take() else {
            return;
        };
        // The record ends in `"frames":[...` with the ACK frame last if it
        // had one: close the frame list with the ranges gathered.
        if l.ends_with("\"acked_ranges\":[") {
            for (i, (a, b)) in self.acked.iter().enumerate() {
                let sep = if i == 0 { "" } else { "," };
                let _ = write!(l, "{sep}[{a},{b}]");
            }
            l.push_str("]}");
        }
        l.push_str("]}}\n");
        self.acked.clear();
        self.write(&l);
    }

    fn write(&mut self, l: &str) {
        if self.out.write_all(l.as_bytes()).is_err() {
            self.failed = true;
        }
    }

    /// Builds the record for `ev` into `l`; false if it maps to nothing.
    fn record(
        &mut self,
        l: &mut String,
        at: Instant,
        session: Option<SessionId>,
        ev: &TraceEvent<'_>,
    ) -> bool {
        let us = at.as_micros();
        let _ = write!(l, "\u{1e}{{\"time\":{}.{:03}", us / 1000, us % 1000);
        if let Some(s) = session {
            let _ = write!(l, ",\"group_id\":\"{:016x}\"", s.0);
        }
        l.push_str(",\"name\":\"");
        match *ev {
            TraceEvent::SessionStarted { role, peer } => {
                // qlog's endpoints are this side (src) and the peer (dst);
                // the core never learns its own address: the unspecified
                // one of the peer's family stands for it.
                let (version, local) = match peer {
                    SocketAddr::V4(_) => ("v4", "0.0.0.0"),
                    SocketAddr::V6(_) => ("v6", "::"),
                };
                let _ = write!(
                    l,
                    "connectivity:connection_started\",\"data\":{{\"ip_version\":\"{version}\",\"src_ip\":\"{local}\",\"dst_ip\":\"{}\",\"protocol\":\"STT\",\"dst_port\":{},\"role\":\"{role:?}\",\"peer\":\"{peer}\"}}}}",
                    peer.ip(),
                    peer.port()
                );
            }
            TraceEvent::HandshakeSent { len } => {
                let _ = write!(
                    l,
                    "stt:handshake_sent\",\"data\":{{\"raw\":{{\"length\":{len}}}}}}}"
                );
            }
            TraceEvent::HandshakeReceived { kind, len } => {
                let k = match kind {
                    HandshakeKind::Initial => "initial",
                    HandshakeKind::Response => "response",
                    HandshakeKind::Finish => "finish",
                    HandshakeKind::Retry => "retry",
                    _ => "other",
                };
                let _ = write!(
                    l,
                    "stt:handshake_received\",\"data\":{{\"kind\":\"{k}\",\"raw\":{{\"length\":{len}}}}}}}"
                );
            }
            TraceEvent::Established { cipher } => {
                let _ = write!(
                    l,
                    "connectivity:connection_state_updated\",\"data\":{{\"new\":\"handshake_completed\",\"cipher\":\"{cipher:?}\"}}}}"
                );
            }
            TraceEvent::Closed { reason } => {
                l.push_str("connectivity:connection_state_updated\",\"data\":{\"new\":\"closed\",\"reason\":");
                json_str(l, &format!("{reason:?}"));
                l.push_str("}}");
            }
            TraceEvent::PacketSent {
                pn, len, frames, ..
            }
            | TraceEvent::PacketReceived { pn, len, frames } => {
                let sent = matches!(ev, TraceEvent::PacketSent { .. });
                let name = if sent {
                    "packet_sent"
                } else {
                    "packet_received"
                };
                let _ = write!(
                    l,
                    "transport:{name}\",\"data\":{{\"header\":{{\"packet_type\":\"1RTT\",\"packet_number\":{pn}}},\"raw\":{{\"length\":{len}}},"
                );
                if frames.omitted > 0 {
                    let _ = write!(l, "\"stt_frames_omitted\":{},", frames.omitted);
                }
                l.push_str("\"frames\":[");
                let mut first = true;
                for f in &frames.frames {
                    if matches!(f, FrameInfo::Ack { .. }) {
                        continue;
                    }
                    if !first {
                        l.push(',');
                    }
                    first = false;
                    frame_json(l, f);
                }
                // The ACK goes last: received, its acked ranges follow as
                // packet_acked events (see the type's doc); sent, the
                // largest only.
                if let Some(largest) = frames.ack_largest() {
                    if !first {
                        l.push(',');
                    }
                    if sent {
                        let _ = write!(
                            l,
                            "{{\"frame_type\":\"ack\",\"largest_acknowledged\":{largest}}}"
                        );
                    } else {
                        l.push_str("{\"frame_type\":\"ack\",\"acked_ranges\":[");
                    }
                }
                if sent {
                    l.push_str("]}}\n");
                }
                return true;
            }
            TraceEvent::PacketAcked { pn, len } => {
                let _ = write!(
                    l,
                    "stt:packet_acked\",\"data\":{{\"header\":{{\"packet_type\":\"1RTT\",\"packet_number\":{pn}}},\"raw\":{{\"length\":{len}}}}}}}"
                );
            }
            TraceEvent::PacketLost { pn, len, reason } => {
                let trigger = match reason {
                    LossReason::PacketThreshold => "reordering_threshold",
                    LossReason::TimeThreshold => "time_threshold",
                    _ => "unspecified",
                };
                let _ = write!(
                    l,
                    "recovery:packet_lost\",\"data\":{{\"header\":{{\"packet_type\":\"1RTT\",\"packet_number\":{pn}}},\"raw\":{{\"length\":{len}}},\"trigger\":\"{trigger}\"}}}}"
                );
            }
            TraceEvent::SizeProbeLost { pn, len } => {
                let _ = write!(
                    l,
                    "stt:size_probe_lost\",\"data\":{{\"header\":{{\"packet_type\":\"1RTT\",\"packet_number\":{pn}}},\"raw\":{{\"length\":{len}}}}}}}"
                );
            }
            TraceEvent::DatagramSizeChanged { size } => {
                let _ = write!(
                    l,
                    "connectivity:mtu_updated\",\"data\":{{\"new\":{size}}}}}"
                );
            }
            TraceEvent::PathChallengeSent { to, len } => {
                let _ = write!(
                    l,
                    "stt:path_challenge_sent\",\"data\":{{\"to\":\"{to}\",\"raw\":{{\"length\":{len}}}}}}}"
                );
            }
            TraceEvent::PathValidated { addr } => {
                let _ = write!(l, "stt:path_validated\",\"data\":{{\"addr\":\"{addr}\"}}}}");
            }
            TraceEvent::PathValidationFailed { addr } => {
                let _ = write!(
                    l,
                    "stt:path_validation_failed\",\"data\":{{\"addr\":\"{addr}\"}}}}"
                );
            }
            TraceEvent::PathChanged { to, new_path } => {
                let _ = write!(
                    l,
                    "stt:path_changed\",\"data\":{{\"to\":\"{to}\",\"new_path\":{new_path}}}}}"
                );
            }
            TraceEvent::ProbeTimeout { count, probes } => {
                let _ = write!(
                    l,
                    "recovery:loss_timer_updated\",\"data\":{{\"timer_type\":\"pto\",\"event_type\":\"expired\",\"pto_count\":{count},\"probes\":{probes}}}}}"
                );
            }
            TraceEvent::MetricsUpdated(m) => {
                let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
                let _ = write!(
                    l,
                    "recovery:metrics_updated\",\"data\":{{\"congestion_window\":{},\"bytes_in_flight\":{},\"smoothed_rtt\":{:.3},\"min_rtt\":{:.3},\"latest_rtt\":{:.3},\"rtt_variance\":{:.3},\"pacing_rate\":{}}}}}",
                    m.congestion_window,
                    m.bytes_in_flight,
                    ms(m.smoothed_rtt),
                    ms(m.min_rtt),
                    ms(m.latest_rtt),
                    ms(m.rtt_variance),
                    m.pacing_rate
                );
                l.push('\n');
                // A phase change is its own qlog event.
                if let Some(p) = m.phase {
                    if self.phase.insert(session, p) != Some(p) {
                        let new = p.name();
                        let _ = write!(l, "\u{1e}{{\"time\":{}.{:03}", us / 1000, us % 1000);
                        if let Some(s) = session {
                            let _ = write!(l, ",\"group_id\":\"{:016x}\"", s.0);
                        }
                        let _ = write!(
                            l,
                            ",\"name\":\"recovery:congestion_state_updated\",\"data\":{{\"new\":\"{new}\"}}}}"
                        );
                        l.push('\n');
                    }
                }
                return true;
            }
            TraceEvent::StreamOpened { stream, by } => stream_state(l, stream, "open", by),
            TraceEvent::StreamClosed { stream, by } => stream_state(l, stream, "closed", by),
            TraceEvent::StreamReset { stream, code, by } => {
                let new = match by {
                    Side::Local => "reset_sent",
                    Side::Remote => "reset_received",
                };
                let _ = write!(
                    l,
                    "transport:stream_state_updated\",\"data\":{{\"stream_id\":{stream},\"new\":\"{new}\",\"by\":\"{}\",\"code\":{code}}}}}",
                    side(by)
                );
            }
            TraceEvent::StreamBlocked { stream } => {
                let _ = write!(
                    l,
                    "stt:stream_blocked\",\"data\":{{\"stream_id\":{stream},\"limit\":\"session\"}}}}"
                );
            }
            TraceEvent::DatagramDropped { reason, len } => {
                let trigger = match reason {
                    DropReason::Malformed => "invalid",
                    DropReason::UnknownSession => "connection_unknown",
                    DropReason::HandshakeRejected
                    | DropReason::AuthFailure
                    | DropReason::StaleKey => "decryption_failure",
                    DropReason::OverBudget => "rejected",
                    DropReason::Replay => "general",
                    _ => "general",
                };
                let _ = write!(
                    l,
                    "transport:packet_dropped\",\"data\":{{\"raw\":{{\"length\":{len}}},\"trigger\":\"{trigger}\",\"stt_reason\":\"{reason:?}\"}}}}"
                );
            }
            TraceEvent::KeyUpdated { by, generation } => {
                // qlog names keys by the side that sends with them.
                let client_key = (by == Side::Local) == (self.vantage == Vantage::Client);
                let owner = if client_key { "client" } else { "server" };
                let trigger = match by {
                    Side::Local => "local_update",
                    Side::Remote => "remote_update",
                };
                // Keys are never written: `new` is qlog's required field,
                // left empty.
                let _ = write!(
                    l,
                    "security:key_updated\",\"data\":{{\"key_type\":\"{owner}_1rtt_secret\",\"new\":\"\",\"trigger\":\"{trigger}\""
                );
                if let Ok(g) = u32::try_from(generation) {
                    let _ = write!(l, ",\"generation\":{g}");
                }
                l.push_str("}}");
            }
            // Application datagrams' fates: stt's own events (qlog's
            // datagram events are about UDP datagrams). A sent datagram
            // names its packet; acknowledged and lost name the packet back.
            TraceEvent::AppDatagramSent { id, len, pn } => {
                let _ = write!(
                    l,
                    "stt:app_datagram_sent\",\"data\":{{\"id\":{},\"length\":{len},\"packet_number\":{pn}}}}}",
                    id.get()
                );
            }
            TraceEvent::AppDatagramsAcked { pn, count } => {
                let _ = write!(
                    l,
                    "stt:app_datagram_acked\",\"data\":{{\"packet_number\":{pn},\"count\":{count}}}}}"
                );
            }
            TraceEvent::AppDatagramsLost { pn, count } => {
                let _ = write!(
                    l,
                    "stt:app_datagram_lost\",\"data\":{{\"packet_number\":{pn},\"count\":{count}}}}}"
                );
            }
            TraceEvent::AppDatagramExpired { id, len } => {
                let _ = write!(
                    l,
                    "stt:app_datagram_expired\",\"data\":{{\"id\":{},\"length\":{len}}}}}",
                    id.get()
                );
            }
            TraceEvent::AppDatagramDropped { id, len } => {
                let _ = write!(
                    l,
                    "stt:app_datagram_dropped\",\"data\":{{\"id\":{},\"length\":{len}}}}}",
                    id.get()
                );
            }
            TraceEvent::MessageExpired { stream, seq, sent } => {
                let _ = write!(
                    l,
                    "stt:message_expired\",\"data\":{{\"stream_id\":{stream},\"seq\":{seq},\"sent\":{sent}}}}}"
                );
            }
            TraceEvent::StreamSkipped {
                stream,
                offset,
                seq,
                by,
            } => {
                let _ = write!(
                    l,
                    "stt:stream_skipped\",\"data\":{{\"stream_id\":{stream},\"offset\":{offset},\"seq\":{seq},\"by\":\"{}\"}}}}",
                    side(by)
                );
            }
            // An event of a later version of the core: recorded by name,
            // in stt's own namespace, so a trace never loses it silently.
            other => {
                let _ = write!(l, "stt:{}\",\"data\":{{}}}}", other.name());
            }
        }
        l.push('\n');
        true
    }
}

fn side(by: Side) -> &'static str {
    match by {
        Side::Local => "local",
        Side::Remote => "remote",
    }
}

/// One frame as a qlog `QuicFrame` (ACK aside: see `record`). stt's
/// STREAM_FIN is QUIC's FIN: a stream frame of no data at the final
/// offset with `fin` set. Offsets and limits count stream units (a
/// message's bytes and its end unit, docs/PROTOCOL.md); `length` counts
/// data bytes, and `stt_message_end` marks the frame that carries a
/// message's end unit.
fn frame_json(l: &mut String, f: &FrameInfo) {
    let _ = match *f {
        FrameInfo::Padding { len } => write!(
            l,
            "{{\"frame_type\":\"padding\",\"payload_length\":{}}}",
            u32::try_from(len).unwrap_or(u32::MAX)
        ),
        FrameInfo::Ping => write!(l, "{{\"frame_type\":\"ping\"}}"),
        FrameInfo::Ack { largest } => write!(
            l,
            "{{\"frame_type\":\"ack\",\"largest_acknowledged\":{largest}}}"
        ),
        FrameInfo::HandshakeDone => write!(l, "{{\"frame_type\":\"handshake_done\"}}"),
        FrameInfo::Close { code } => write!(
            l,
            "{{\"frame_type\":\"connection_close\",\"error_code\":{code}}}"
        ),
        FrameInfo::MaxData { max } => {
            write!(l, "{{\"frame_type\":\"max_data\",\"maximum\":{max}}}")
        }
        FrameInfo::MaxStreamData { stream, max } => write!(
            l,
            "{{\"frame_type\":\"max_stream_data\",\"stream_id\":{stream},\"maximum\":{max}}}"
        ),
        FrameInfo::DataBlocked { limit } => {
            write!(l, "{{\"frame_type\":\"data_blocked\",\"limit\":{limit}}}")
        }
        FrameInfo::StreamDataBlocked { stream, limit } => write!(
            l,
            "{{\"frame_type\":\"stream_data_blocked\",\"stream_id\":{stream},\"limit\":{limit}}}"
        ),
        FrameInfo::StreamReset {
            stream,
            code,
            final_offset,
        } => write!(
            l,
            "{{\"frame_type\":\"reset_stream\",\"stream_id\":{stream},\"error_code\":{code},\"final_size\":{final_offset}}}"
        ),
        FrameInfo::StreamFin {
            stream,
            final_offset,
        } => write!(
            l,
            "{{\"frame_type\":\"stream\",\"stream_id\":{stream},\"offset\":{final_offset},\"length\":0,\"fin\":true}}"
        ),
        FrameInfo::Stream {
            stream,
            offset,
            len,
            message_end,
        } => {
            let _ = write!(
                l,
                "{{\"frame_type\":\"stream\",\"stream_id\":{stream},\"offset\":{offset},\"length\":{len},\"fin\":false"
            );
            if message_end {
                l.push_str(",\"stt_message_end\":true");
            }
            write!(l, "}}")
        }
        FrameInfo::PathChallenge { data } | FrameInfo::PathResponse { data } => {
            let name = if matches!(f, FrameInfo::PathChallenge { .. }) {
                "path_challenge"
            } else {
                "path_response"
            };
            let _ = write!(l, "{{\"frame_type\":\"{name}\",\"data\":\"");
            for b in data {
                let _ = write!(l, "{b:02x}");
            }
            write!(l, "\"}}")
        }
        FrameInfo::Datagram { len } => {
            write!(l, "{{\"frame_type\":\"datagram\",\"length\":{len}}}")
        }
        FrameInfo::StreamSkip {
            stream,
            offset,
            seq,
        } => write!(
            l,
            "{{\"frame_type\":\"stt_stream_skip\",\"stream_id\":{stream},\"offset\":{offset},\"seq\":{seq}}}"
        ),
        // NEW_TICKET (0x33) has no qlog frame of its own.
        FrameInfo::NewTicket { len } => write!(
            l,
            "{{\"frame_type\":\"unknown\",\"raw_frame_type\":51,\"raw\":{{\"length\":{len}}}}}"
        ),
        // A frame kind of a later version of the core.
        _ => write!(l, "{{\"frame_type\":\"unknown\"}}"),
    };
}

fn stream_state(l: &mut String, stream: u32, new: &str, by: Side) {
    let _ = write!(
        l,
        "transport:stream_state_updated\",\"data\":{{\"stream_id\":{stream},\"new\":\"{new}\",\"by\":\"{}\"}}}}",
        side(by)
    );
}

/// `s` as a JSON string literal.
fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl<W: Write> Drop for QlogTrace<W> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// A [`TraceSink`] writing qlog files.
pub struct QlogSink {
    vantage: Vantage,
    title: String,
    /// One file for everything (`file`), or none (`per_session`).
    all: Option<QlogTrace<BufWriter<File>>>,
    /// `per_session`: the directory, and a trace per session (plus
    /// `endpoint.sqlog` for events of no session), opened on first use.
    dir: Option<PathBuf>,
    sessions: HashMap<Option<SessionId>, QlogTrace<BufWriter<File>>>,
    /// Sessions whose file was closed (at their `closed` event): a later
    /// event appends to it.
    closed: HashSet<Option<SessionId>>,
}

impl QlogSink {
    /// Every event of the endpoint into one file at `path`.
    pub fn file(path: &Path, title: &str, vantage: Vantage) -> io::Result<Self> {
        let out = BufWriter::new(File::create(path)?);
        Ok(QlogSink {
            vantage,
            title: title.to_string(),
            all: Some(QlogTrace::new(out, title, vantage)?),
            dir: None,
            sessions: HashMap::new(),
            closed: HashSet::new(),
        })
    }

    /// One file per session in `dir` (created if missing), named by the
    /// session id: `<id>.sqlog`; endpoint-level events in `endpoint.sqlog`.
    pub fn per_session(dir: &Path, title: &str, vantage: Vantage) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(QlogSink {
            vantage,
            title: title.to_string(),
            all: None,
            dir: Some(dir.to_path_buf()),
            sessions: HashMap::new(),
            closed: HashSet::new(),
        })
    }

    /// The file a session's events go to in `per_session` mode.
    pub fn session_path(dir: &Path, session: Option<SessionId>) -> PathBuf {
        match session {
            Some(s) => dir.join(format!("{:016x}.sqlog", s.0)),
            None => dir.join("endpoint.sqlog"),
        }
    }
}

impl TraceSink for QlogSink {
    fn event(&mut self, at: Instant, session: Option<SessionId>, ev: &TraceEvent<'_>) {
        if let Some(t) = &mut self.all {
            t.event(at, session, ev);
            return;
        }
        let Some(dir) = &self.dir else {
            return;
        };
        if !self.sessions.contains_key(&session) {
            let path = Self::session_path(dir, session);
            let title = format!("{} {}", self.title, path.display());
            let t = if self.closed.contains(&session) {
                std::fs::OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .map(|f| QlogTrace::continued(BufWriter::new(f), self.vantage))
            } else {
                File::create(&path)
                    .and_then(|f| QlogTrace::new(BufWriter::new(f), &title, self.vantage))
            };
            let Ok(t) = t else {
                return;
            };
            self.sessions.insert(session, t);
        }
        if let Some(t) = self.sessions.get_mut(&session) {
            t.event(at, session, ev);
        }
        // A closed session's file is complete: flush it now rather than at
        // exit (a long-running listener may never exit cleanly).
        if matches!(ev, TraceEvent::Closed { .. }) {
            if let Some(mut t) = self.sessions.remove(&session) {
                t.flush();
                self.closed.insert(session);
            }
        }
    }
}
