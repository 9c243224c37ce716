#![no_main]
//! Fuzz target `pair_ops`: see `fuzz/src/harness/pair_ops.rs`.
stt_fuzz::target!(pair_ops);
