//! The fuzz harness: one module per target, plus the in-memory network and
//! the raw peer they share. The fuzz targets in `fuzz/fuzz_targets/` and the
//! regression tests in `tests/fuzz_regressions.rs` call the same `run`
//! functions, so a crash found by a fuzzer replays in plain `cargo test`.

pub mod endpoint_datagrams;
pub mod net;
pub mod pair_ops;
pub mod raw_peer;
pub mod session_frames;
pub mod trace;
pub mod wire_decode;

/// A target's entry point.
pub type Run = fn(&[u8]);

/// Every target's name and its `run`.
pub const TARGETS: &[(&str, Run)] = &[
    ("wire_decode", wire_decode::run),
    ("endpoint_datagrams", endpoint_datagrams::run),
    ("session_frames", session_frames::run),
    ("pair_ops", pair_ops::run),
];

/// Targets whose reproducers also replay under wider limits than fuzzed
/// inputs get (see [`pair_ops::WIDE`]), and that run.
pub const WIDE: &[(&str, Run)] = &[("pair_ops", pair_ops::run_wide)];
