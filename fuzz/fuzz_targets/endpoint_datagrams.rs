#![no_main]
//! Fuzz target `endpoint_datagrams`: see `fuzz/src/harness/endpoint_datagrams.rs`.
stt_fuzz::target!(endpoint_datagrams);
