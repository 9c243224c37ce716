#![no_main]
//! Fuzz target `wire_decode`: see `fuzz/src/harness/wire_decode.rs`.
stt_fuzz::target!(wire_decode);
