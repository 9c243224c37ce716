#![no_main]
//! Fuzz target `session_frames`: see `fuzz/src/harness/session_frames.rs`.
stt_fuzz::target!(session_frames);
