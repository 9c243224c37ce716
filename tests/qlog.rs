//! The qlog writer (examples/adapters/qlog.rs) on a real run: a lossy
//! simulated transfer written to a file, read back record by record as
//! JSON, and every field the qlog main schema (JSON-SEQ) and qvis need
//! checked: the header's `qlog_version`, `qlog_format` and
//! `trace.vantage_point`; each event's `time`, `name` and `data`; packet
//! numbers, lengths and frame lists of packets; the congestion metrics.
#![cfg(all(feature = "sim", feature = "trace"))]

#[path = "../examples/adapters/qlog.rs"]
mod qlog;

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use qlog::{QlogSink, QlogTrace, Vantage};
use serde_json::Value;
use stt::sim::{run_bulk_with, BulkConfig, LinkConfig};
use stt::trace::TraceEvent;
use stt::{CloseReason, Instant, SessionId};

fn scratch(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("stt-qlog-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    let _ = std::fs::remove_file(&p);
    p
}

/// The records of a JSON-SEQ file: each starts with 0x1E and ends with LF.
fn records(bytes: &[u8]) -> Vec<Value> {
    assert_eq!(bytes.first(), Some(&0x1e), "a record starts the file");
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    text.split('\u{1e}')
        .skip(1)
        .map(|r| {
            assert!(r.ends_with('\n'), "record not ended by LF: {r}");
            serde_json::from_str(r).unwrap_or_else(|e| panic!("not JSON ({e}): {r}"))
        })
        .collect()
}

fn num(v: &Value, path: &[&str]) -> f64 {
    let mut x = v;
    for p in path {
        x = &x[*p];
    }
    x.as_f64()
        .unwrap_or_else(|| panic!("{path:?} is not a number in {v}"))
}

#[test]
fn a_simulated_run_writes_a_valid_qlog_file() {
    let path = scratch("run.sqlog");
    let cfg = BulkConfig {
        link: LinkConfig::default()
            .with_latency(Duration::from_millis(10))
            .with_rate(10_000_000)
            .with_queue_bytes(30_000)
            .with_loss(0.01),
        duration: Duration::from_secs(2),
        ..BulkConfig::default()
    };
    let p = path.clone();
    let report = run_bulk_with(&cfg, move |client, _| {
        let sink = QlogSink::file(&p, "test run", Vantage::Client).unwrap();
        client.set_trace_sink(Some(Box::new(sink)));
    })
    .unwrap();
    let recs = records(&std::fs::read(&path).unwrap());
    let header = &recs[0];
    assert_eq!(header["qlog_version"], "0.3");
    assert_eq!(header["qlog_format"], "JSON-SEQ");
    assert_eq!(header["trace"]["vantage_point"]["type"], "client");
    assert!(header["trace"]["common_fields"]["reference_time"].is_number());

    let mut last = 0.0;
    let mut count = std::collections::BTreeMap::<String, u64>::new();
    for e in &recs[1..] {
        let t = num(e, &["time"]);
        assert!(t >= last, "time goes backwards: {e}");
        last = t;
        let name = e["name"].as_str().expect("name");
        let (ns, ev) = name.split_once(':').expect("namespace:event");
        assert!(!ns.is_empty() && !ev.is_empty());
        assert!(e["data"].is_object(), "{e}");
        *count.entry(name.to_string()).or_default() += 1;
        match name {
            "transport:packet_sent" | "transport:packet_received" => {
                num(e, &["data", "header", "packet_number"]);
                num(e, &["data", "raw", "length"]);
                let frames = e["data"]["frames"].as_array().expect("frames list");
                for f in frames {
                    assert!(f["frame_type"].is_string(), "{e}");
                    if f["frame_type"] == "ack" && name.ends_with("received") {
                        assert!(f["acked_ranges"].is_array(), "{e}");
                    }
                }
            }
            "recovery:packet_lost" => {
                num(e, &["data", "header", "packet_number"]);
                assert!(e["data"]["trigger"].is_string());
            }
            "recovery:metrics_updated" => {
                for k in [
                    "congestion_window",
                    "bytes_in_flight",
                    "smoothed_rtt",
                    "min_rtt",
                    "latest_rtt",
                    "pacing_rate",
                ] {
                    num(e, &["data", k]);
                }
            }
            _ => {}
        }
    }
    let n = |k: &str| count.get(k).copied().unwrap_or(0);
    assert!(n("transport:packet_sent") > 100, "{count:?}");
    assert!(n("transport:packet_received") > 10, "{count:?}");
    assert_eq!(
        n("recovery:packet_lost"),
        report.packets_lost[0],
        "{count:?}"
    );
    assert!(n("recovery:metrics_updated") > 10, "{count:?}");
    assert!(n("recovery:congestion_state_updated") >= 1, "{count:?}");
    assert_eq!(n("connectivity:connection_started"), 1, "{count:?}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn one_file_per_session_each_with_its_header() {
    let dir = scratch("dir");
    let cfg = BulkConfig {
        sessions: 2,
        duration: Duration::from_millis(500),
        ..BulkConfig::default()
    };
    let d = dir.clone();
    run_bulk_with(&cfg, move |_, server| {
        let sink = QlogSink::per_session(&d, "server", Vantage::Server).unwrap();
        server.set_trace_sink(Some(Box::new(sink)));
    })
    .unwrap();
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    for f in files {
        let recs = records(&std::fs::read(&f).unwrap());
        assert_eq!(recs[0]["trace"]["vantage_point"]["type"], "server");
        assert!(recs.len() > 10);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hostile_close_reasons_are_escaped() {
    let mut out = Vec::new();
    {
        let mut t = QlogTrace::new(&mut out, "t\"itle", Vantage::Server).unwrap();
        let reason = CloseReason::Peer {
            code: 7,
            reason: Bytes::from_static(b"\"}\n\x1e\\ \xff"),
        };
        t.event(
            Instant::from_millis(3),
            Some(SessionId(9)),
            &TraceEvent::Closed { reason: &reason },
        );
    }
    let recs = records(&out);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[1]["name"], "connectivity:connection_state_updated");
    assert_eq!(num(&recs[1], &["time"]), 3.0);
}
