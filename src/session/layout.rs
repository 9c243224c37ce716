//! What a session's state is made of, in bytes: the size of each part as
//! the compiler lays it out, for the idle-memory tests and the breakdown
//! in `docs/PERFORMANCE.md`.
//!
//! Owns: the list of parts and their sizes.
//! Never: allocates for a session or changes what it holds; the list is
//! read by tests (through `__private`) only.

use alloc::vec::Vec;
use core::mem::size_of;

use super::{Keys, Scratch, SentInfo, Session};
use crate::path::{DatagramSize, PathValidator};
use crate::recovery::{AckTracker, AnyController, Pacer, Recovery, RttEstimator};
use crate::streams::{Stream, StreamManager};

/// (part, bytes): a session's inline record and its largest parts, then
/// what it holds apart from it: the keys once established, each stream,
/// and what only a busy session holds (released by the idle trim).
pub fn session_parts() -> Vec<(&'static str, usize)> {
    alloc::vec![
        (
            "Session (inline, in the endpoint's table entry)",
            size_of::<Session>()
        ),
        (
            "  recovery: ledger ends, flight, timers, RTT, counters, rest",
            size_of::<Recovery<SentInfo>>()
        ),
        (
            "    what a resting sender keeps of the busy part",
            Recovery::<SentInfo>::rest_size()
        ),
        ("    RTT estimator", size_of::<RttEstimator>()),
        ("  stream manager", size_of::<StreamManager>()),
        ("  datagram size search", size_of::<DatagramSize>()),
        ("  acknowledgement tracker", size_of::<AckTracker>()),
        ("  path validation", size_of::<PathValidator>()),
        (
            "  packet keys (in the record once established)",
            size_of::<Keys>()
        ),
        ("Stream (boxed, one per stream)", size_of::<Stream>()),
        (
            "Busy part (boxed while packets fly, released when idle)",
            Recovery::<SentInfo>::busy_size()
        ),
        ("  congestion controller", size_of::<AnyController>()),
        (
            "Pacer (boxed while pacing, released when idle)",
            size_of::<Pacer>()
        ),
        (
            "Scratch buffers (boxed while busy, released when idle)",
            size_of::<Scratch>()
        ),
        (
            "Sent-packet record (ledger slot)",
            Recovery::<SentInfo>::record_size()
        ),
    ]
}
