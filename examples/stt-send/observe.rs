//! Seeing what stt-send's sessions did: `--qlog DIR` (one qlog file per
//! session, feature `trace`) and `RUST_LOG` (the `tracing` bridge, printed
//! on stderr only when set).
//!
//! Owns: what `--qlog` (parsed in `args.rs`) and `RUST_LOG` ask for, and
//! the sinks installed on each node.
//! Never: changes what is sent or received.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::tokio_node::Node;
use crate::Fail;

#[path = "../adapters/qlog.rs"]
mod qlog;
#[path = "../adapters/trace_log.rs"]
mod trace_log;

pub(crate) use qlog::Vantage;

static QLOG_DIR: OnceLock<PathBuf> = OnceLock::new();

/// Remembers the `--qlog` directory, if any; installs the `tracing`
/// formatter if `RUST_LOG` is set.
pub(crate) fn setup(qlog: Option<PathBuf>) -> Result<(), Fail> {
    trace_log::init_from_env();
    if let Some(dir) = qlog {
        if !cfg!(feature = "trace") {
            return Err(Fail::Usage(
                "--qlog needs stt built with the `trace` feature".into(),
            ));
        }
        let _ = QLOG_DIR.set(dir);
    }
    Ok(())
}

/// Turns on the node's trace if anything asked for one.
pub(crate) async fn attach(node: &Node, vantage: Vantage) -> Result<(), Fail> {
    #[cfg(feature = "trace")]
    {
        let mut sinks: Vec<Box<dyn stt::trace::TraceSink>> = Vec::new();
        if let Some(dir) = QLOG_DIR.get() {
            let s = qlog::QlogSink::per_session(dir, "stt-send", vantage)
                .map_err(|e| Fail::Input(format!("--qlog {}: {e}", dir.display())))?;
            sinks.push(Box::new(s));
        }
        sinks.extend(trace_log::sink_from_env());
        if !sinks.is_empty() {
            let tee = trace_log::Tee(sinks);
            node.set_trace_sink(Some(Box::new(tee)))
                .await
                .map_err(|e| Fail::Transfer(e.to_string()))?;
        }
    }
    #[cfg(not(feature = "trace"))]
    let _ = (node, vantage);
    Ok(())
}
