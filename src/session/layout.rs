//! What a session's state is made of, in bytes: the size of each part as
//! the compiler lays it out, for the idle-memory tests and the breakdown
//! in `docs/PERFORMANCE.md`.
//!
//! Owns: the list of parts and their sizes.
//! Never: allocates for a session or changes what it holds; the list is
//! read by tests (through `__private`) only.

use alloc::vec::Vec;
use core::mem::size_of;

use super::{Keys, SentInfo, Session};
use crate::path::{DatagramSize, PathValidator};
use crate::recovery::{AckTracker, AnyController, Pacer, Recovery, RttEstimator};
use crate::streams::{Stream, StreamManager};

/// (part, bytes): a session's inline record and its largest parts, then
/// what it holds apart from it (the keys once established, each stream).
pub fn session_parts() -> Vec<(&'static str, usize)> {
    alloc::vec![
        (
            "Session (inline, in the endpoint's table entry)",
            size_of::<Session>()
        ),
        (
            "  recovery: sent ledger, loss, RTT, rate, controller",
            size_of::<Recovery<SentInfo>>()
        ),
        ("    congestion controller", size_of::<AnyController>()),
        ("    RTT estimator", size_of::<RttEstimator>()),
        ("  stream manager", size_of::<StreamManager>()),
        ("  datagram size search", size_of::<DatagramSize>()),
        ("  acknowledgement tracker", size_of::<AckTracker>()),
        ("  path validation", size_of::<PathValidator>()),
        ("  pacer", size_of::<Pacer>()),
        ("Keys (boxed once established)", size_of::<Keys>()),
        ("Stream (boxed, one per stream)", size_of::<Stream>()),
        (
            "Sent-packet record (ledger slot)",
            Recovery::<SentInfo>::record_size()
        ),
    ]
}
