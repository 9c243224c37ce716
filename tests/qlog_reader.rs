//! The qlog writer (examples/adapters/qlog.rs) read back by the field's
//! reader: cloudflare's `qlog` crate (the qlog 0.3 schema quiche's tools
//! use). A lossy simulated transfer is traced on both sides; every record
//! under a qlog name (`transport:`, `recovery:`, `connectivity:`,
//! `security:`) must parse as that event's typed record, everything else
//! carries the `stt:` prefix, and the stream frames of the typed packet
//! events must tell the transfer as it happened: the sender's new data
//! follows on without gaps, and what the receiver's frames cover adds up
//! to the bytes its application read.
#![cfg(all(feature = "sim", feature = "trace"))]

#[path = "../examples/adapters/qlog.rs"]
mod writer;

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Duration;

use qlog::events::quic::QuicFrame;
use qlog::events::{Event, EventData};
use qlog::reader::{Event as ReadEvent, QlogSeqReader};
use serde_json::Value;
use stt::sim::{run_bulk_with, BulkConfig, LinkConfig};
use stt::trace::{
    ControllerPhase, DropReason, FrameInfo, FrameSummary, HandshakeKind, LossReason, Metrics, Side,
    TraceEvent,
};
use stt::{Cipher, CloseReason, Instant, SessionId};
use writer::{QlogSink, QlogTrace, Vantage};

const QLOG_NAMESPACES: [&str; 4] = ["transport:", "recovery:", "connectivity:", "security:"];

fn scratch(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("stt-qlog-reader-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

/// One stream frame of a packet event: the typed fields, and the stt
/// extension marking a message's end unit (which the typed record skips).
#[derive(Debug, Clone, Copy)]
struct StreamFrame {
    stream: u64,
    offset: u64,
    length: u64,
    fin: bool,
    message_end: bool,
}

impl StreamFrame {
    /// One past the last stream unit the frame covers.
    fn end(&self) -> u64 {
        self.offset + self.length + u64::from(self.message_end)
    }
}

/// What a trace file holds, as the qlog crate reads it.
#[derive(Default)]
struct Read {
    /// Records per name that parsed as their typed qlog event.
    typed: BTreeMap<String, u64>,
    /// Records under a qlog name that did not, with the reader's error.
    failed: Vec<String>,
    /// Records under stt's own names.
    stt: u64,
    /// Stream frames of `transport:packet_sent` / `packet_received`, in
    /// trace order.
    sent: Vec<StreamFrame>,
    received: Vec<StreamFrame>,
}

/// Reads every record of `path` with qlog's typed `Event` (each record on
/// its own, so a failure names its record and error).
fn read(path: &Path) -> Read {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Read::default();
    let mut records = text.split('\u{1e}').skip(1);
    let header: qlog::QlogSeq = serde_json::from_str(records.next().unwrap()).unwrap();
    assert_eq!(header.qlog_version, "0.3");
    for rec in records {
        let raw: Value = serde_json::from_str(rec).unwrap();
        let name = raw["name"].as_str().unwrap().to_string();
        if !QLOG_NAMESPACES.iter().any(|ns| name.starts_with(ns)) {
            assert!(name.starts_with("stt:"), "not a qlog name nor stt's: {rec}");
            out.stt += 1;
            continue;
        }
        let ev: Event = match serde_json::from_str(rec) {
            Ok(ev) => ev,
            Err(e) => {
                out.failed.push(format!("{e}: {rec}"));
                continue;
            }
        };
        *out.typed.entry(name).or_default() += 1;
        let (frames, list) = match &ev.data {
            EventData::PacketSent(p) => (p.frames.as_deref(), &mut out.sent),
            EventData::PacketReceived(p) => (p.frames.as_deref(), &mut out.received),
            _ => continue,
        };
        let raw_frames = raw["data"]["frames"].as_array().unwrap();
        let frames = frames.expect("packet events list their frames");
        assert_eq!(frames.len(), raw_frames.len());
        for (f, r) in frames.iter().zip(raw_frames) {
            if let QuicFrame::Stream {
                stream_id,
                offset,
                length,
                fin,
                ..
            } = *f
            {
                list.push(StreamFrame {
                    stream: stream_id,
                    offset,
                    length,
                    fin: fin.unwrap_or(false),
                    message_end: r["stt_message_end"] == true,
                });
            }
        }
    }
    out
}

/// The streaming reader over the same file: (typed, untyped) events.
fn read_seq(path: &Path) -> (u64, u64) {
    let file = std::fs::File::open(path).unwrap();
    let reader = QlogSeqReader::new(Box::new(BufReader::new(file))).unwrap();
    let (mut typed, mut json) = (0, 0);
    for ev in reader {
        match ev {
            ReadEvent::Qlog(_) => typed += 1,
            ReadEvent::Json(_) => json += 1,
        }
    }
    (typed, json)
}

#[test]
fn a_lossy_transfer_reads_back_as_typed_qlog() {
    let (client_path, server_path) = (scratch("client.sqlog"), scratch("server.sqlog"));
    let cfg = BulkConfig {
        link: LinkConfig::default()
            .with_latency(Duration::from_millis(10))
            .with_rate(10_000_000)
            .with_queue_bytes(30_000)
            .with_loss(0.02),
        duration: Duration::from_secs(2),
        ..BulkConfig::default()
    };
    let (c, s) = (client_path.clone(), server_path.clone());
    let report = run_bulk_with(&cfg, move |client, server| {
        let sink = QlogSink::file(&c, "sender", Vantage::Client).unwrap();
        client.set_trace_sink(Some(Box::new(sink)));
        let sink = QlogSink::file(&s, "receiver", Vantage::Server).unwrap();
        server.set_trace_sink(Some(Box::new(sink)));
    })
    .unwrap();
    assert!(report.packets_lost[0] > 0, "the link lost nothing");

    let client = read(&client_path);
    let server = read(&server_path);
    for (side, r) in [("client", &client), ("server", &server)] {
        assert!(
            r.failed.is_empty(),
            "{side}: {} qlog-named records fail qlog's schema, the first: {}",
            r.failed.len(),
            r.failed[0]
        );
        let typed: u64 = r.typed.values().sum();
        println!("{side}: {typed} typed qlog events, {} stt events", r.stt);
        println!("{side}: {:?}", r.typed);
    }
    let n = |r: &Read, k: &str| r.typed.get(k).copied().unwrap_or(0);
    assert!(n(&client, "transport:packet_sent") > 100);
    assert!(n(&client, "transport:packet_received") > 10);
    assert_eq!(n(&client, "recovery:packet_lost"), report.packets_lost[0]);
    assert!(n(&client, "recovery:metrics_updated") > 10);
    assert!(n(&client, "recovery:congestion_state_updated") >= 1);
    assert_eq!(n(&client, "connectivity:connection_started"), 1);
    assert_eq!(n(&server, "connectivity:connection_started"), 1);

    // The streaming reader agrees: every qlog-named record typed, the
    // stt ones read as plain JSON events.
    for (path, r) in [(&client_path, &client), (&server_path, &server)] {
        let typed: u64 = r.typed.values().sum();
        assert_eq!(read_seq(path), (typed, r.stt), "{}", path.display());
    }

    // The sender: per stream, new data starts where the stream's data so
    // far ends (no gap, no overlap); a frame at or below that point is a
    // resend of lost data.
    let mut high = BTreeMap::<u64, u64>::new();
    let (mut new_bytes, mut resent_bytes) = (0u64, 0u64);
    for f in client.sent.iter().filter(|f| !f.fin) {
        let h = high.entry(f.stream).or_default();
        if f.end() > *h {
            assert_eq!(f.offset, *h, "new data out of order: {f:?}");
            *h = f.end();
            new_bytes += f.length;
        } else {
            resent_bytes += f.length;
        }
    }
    assert!(new_bytes > 1_000_000, "{new_bytes} bytes sent");
    assert!(resent_bytes > 0, "2 % loss but nothing resent");

    // The receiver: the units its frames cover from 0 without a hole hold
    // whole messages (each closed by its end unit) whose bytes are what
    // the application read.
    let mut covered = BTreeMap::<u64, Vec<(u64, u64)>>::new();
    let mut ends = BTreeMap::<u64, BTreeSet<u64>>::new();
    for f in server.received.iter().filter(|f| !f.fin) {
        covered
            .entry(f.stream)
            .or_default()
            .push((f.offset, f.end()));
        if f.message_end {
            ends.entry(f.stream)
                .or_default()
                .insert(f.offset + f.length);
        }
    }
    let mut got = 0;
    for (stream, mut ranges) in covered {
        ranges.sort_unstable();
        let mut prefix = 0;
        for (a, b) in ranges {
            if a > prefix {
                break;
            }
            prefix = prefix.max(b);
        }
        let ends: Vec<u64> = ends[&stream].range(..prefix).copied().collect();
        // Up to the last whole message: its units are its bytes and one
        // end unit per message.
        if let Some(last) = ends.last() {
            got += last + 1 - ends.len() as u64;
        }
    }
    // The simulator's sender opens with an 8-byte session tag its receiver
    // reads but does not count as delivered.
    assert_eq!(
        got,
        report.delivered[0] + 8,
        "received frames vs bytes read"
    );
    assert!(new_bytes >= got);

    let _ = std::fs::remove_file(&client_path);
    let _ = std::fs::remove_file(&server_path);
}

/// Every kind of event and frame the writer maps, written from both
/// vantage points and read back: the qlog-named records all typed.
#[test]
fn every_mapping_parses_as_its_qlog_type() {
    let mut all = FrameSummary::default();
    for f in [
        FrameInfo::Padding { len: 40 },
        FrameInfo::Ping,
        FrameInfo::Ack { largest: 9 },
        FrameInfo::HandshakeDone,
        FrameInfo::Close { code: 3 },
        FrameInfo::MaxData { max: 1 << 20 },
        FrameInfo::MaxStreamData {
            stream: 4,
            max: 5000,
        },
        FrameInfo::DataBlocked { limit: 7 },
        FrameInfo::StreamDataBlocked {
            stream: 4,
            limit: 8,
        },
        FrameInfo::StreamReset {
            stream: 4,
            code: 2,
            final_offset: 100,
        },
        FrameInfo::StreamFin {
            stream: 8,
            final_offset: 300,
        },
        FrameInfo::Stream {
            stream: 8,
            offset: 200,
            len: 99,
            message_end: true,
        },
        FrameInfo::PathChallenge { data: [1; 8] },
        FrameInfo::PathResponse { data: [2; 8] },
    ] {
        all.frames.push(f).unwrap();
    }
    let none = FrameSummary::EMPTY;
    let mut overfull = all.clone();
    overfull.omitted = 5;
    let addr = "192.0.2.1:4433".parse().unwrap();
    let addr6 = "[2001:db8::1]:4433".parse().unwrap();
    let local = CloseReason::Local { code: 0 };
    let idle = CloseReason::IdleTimeout;
    let metrics = |phase| {
        let mut m = Metrics::default();
        m.congestion_window = 12_000;
        m.bytes_in_flight = 3_000;
        m.smoothed_rtt = Duration::from_millis(20);
        m.min_rtt = Duration::from_millis(18);
        m.latest_rtt = Duration::from_millis(21);
        m.rtt_variance = Duration::from_millis(2);
        m.pacing_rate = 8_000_000;
        m.phase = phase;
        TraceEvent::MetricsUpdated(m)
    };
    let mut events = vec![
        TraceEvent::HandshakeSent { len: 1200 },
        TraceEvent::HandshakeReceived {
            kind: HandshakeKind::Response,
            len: 300,
        },
        TraceEvent::Established {
            cipher: Cipher::default(),
        },
        TraceEvent::PacketSent {
            pn: 1,
            len: 1200,
            ack_eliciting: true,
            frames: &all,
        },
        TraceEvent::PacketSent {
            pn: 2,
            len: 1200,
            ack_eliciting: true,
            frames: &overfull,
        },
        TraceEvent::PacketReceived {
            pn: 1,
            len: 1200,
            frames: &all,
        },
        TraceEvent::PacketAcked { pn: 1, len: 1200 },
        TraceEvent::PacketAcked { pn: 2, len: 1200 },
        TraceEvent::PacketReceived {
            pn: 2,
            len: 60,
            frames: &none,
        },
        TraceEvent::PacketLost {
            pn: 3,
            len: 1200,
            reason: LossReason::PacketThreshold,
        },
        TraceEvent::PacketLost {
            pn: 4,
            len: 1200,
            reason: LossReason::TimeThreshold,
        },
        TraceEvent::ProbeTimeout {
            count: 1,
            probes: 2,
        },
        TraceEvent::PacketAcked { pn: 5, len: 1200 },
        metrics(Some(ControllerPhase::SlowStart)),
        metrics(Some(ControllerPhase::CongestionAvoidance)),
        metrics(None),
        TraceEvent::StreamOpened {
            stream: 4,
            by: Side::Local,
        },
        TraceEvent::StreamOpened {
            stream: 5,
            by: Side::Remote,
        },
        TraceEvent::StreamBlocked { stream: 4 },
        TraceEvent::StreamClosed {
            stream: 4,
            by: Side::Local,
        },
        TraceEvent::SizeProbeLost { pn: 7, len: 1500 },
        TraceEvent::DatagramSizeChanged { size: 1452 },
        TraceEvent::PathChallengeSent { to: addr, len: 50 },
        TraceEvent::PathValidated { addr },
        TraceEvent::PathValidationFailed { addr: addr6 },
        TraceEvent::PathChanged {
            to: addr6,
            new_path: true,
        },
        TraceEvent::Closed { reason: &local },
        TraceEvent::Closed { reason: &idle },
    ];
    for by in [Side::Local, Side::Remote] {
        events.push(TraceEvent::StreamReset {
            stream: 4,
            code: 9,
            by,
        });
        events.push(TraceEvent::KeyUpdated { by, generation: 1 });
        events.push(TraceEvent::KeyUpdated {
            by,
            generation: u64::MAX,
        });
    }
    for reason in [
        DropReason::Malformed,
        DropReason::UnknownSession,
        DropReason::HandshakeRejected,
        DropReason::OverBudget,
        DropReason::Replay,
        DropReason::AuthFailure,
        DropReason::StaleKey,
    ] {
        events.push(TraceEvent::DatagramDropped { reason, len: 80 });
    }
    for vantage in [Vantage::Client, Vantage::Server] {
        let path = scratch(&format!("all-{vantage:?}.sqlog"));
        {
            let file = std::fs::File::create(&path).unwrap();
            let mut t = QlogTrace::new(file, "all", vantage).unwrap();
            for (i, ev) in events.iter().enumerate() {
                t.event(Instant::from_millis(i as u64), Some(SessionId(1)), ev);
            }
        }
        let r = read(&path);
        assert!(
            r.failed.is_empty(),
            "{vantage:?}: {} records fail qlog's schema:\n{}",
            r.failed.len(),
            r.failed.join("\n")
        );
        let n = |k: &str| r.typed.get(k).copied().unwrap_or(0);
        assert_eq!(n("transport:packet_dropped"), 7);
        assert_eq!(n("security:key_updated"), 4);
        assert_eq!(n("transport:stream_state_updated"), 5);
        assert_eq!(n("connectivity:connection_state_updated"), 3);
        assert_eq!(n("recovery:congestion_state_updated"), 2);
        assert_eq!(n("transport:packet_received"), 2);
        // stt's own: handshake messages, the acknowledgement that followed
        // no received packet, the stream blocked, the size probe and path
        // events.
        assert_eq!(r.stt, 9, "{:?}", r.typed);
        // Both stream frames of each packet event: the data and the FIN.
        assert_eq!(r.sent.len(), 4);
        assert!(r.sent[0].fin && r.sent[0].offset == 300 && r.sent[0].length == 0);
        let data = r.sent[1];
        assert!(!data.fin && data.message_end);
        assert_eq!((data.stream, data.offset, data.length), (8, 200, 99));
        assert_eq!(read_seq(&path), (r.typed.values().sum(), r.stt));
        let _ = std::fs::remove_file(&path);
    }
}

/// Reads the qlog files named in `STT_QLOG_FILES` (separated by `:`) and
/// prints how many of their events qlog reads as typed; fails if a
/// qlog-named record does not parse. For traces of real runs, e.g.
/// `stt-send --qlog DIR`:
/// `STT_QLOG_FILES=$(ls DIR/*.sqlog | paste -sd:) cargo test --all-features --test qlog_reader -- --ignored --nocapture`
#[test]
#[ignore = "reads the files named in STT_QLOG_FILES"]
fn files_from_the_environment() {
    let files = std::env::var("STT_QLOG_FILES").expect("STT_QLOG_FILES");
    for f in files.split(':').filter(|f| !f.is_empty()) {
        let path = Path::new(f);
        let r = read(path);
        let (typed, json) = read_seq(path);
        println!(
            "{f}: {} events: {typed} typed, {json} untyped ({} stt), {} qlog-named records failed",
            typed + json,
            r.stt,
            r.failed.len()
        );
        for e in r.failed.iter().take(3) {
            println!("    {e}");
        }
        assert!(r.failed.is_empty());
    }
}
