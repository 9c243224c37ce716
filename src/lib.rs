//! # stt: encrypted, multiplexed, prioritised message streams over UDP
//!
//! (crate documentation is written in full once the session layer lands)
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod ids;
pub mod rand;
pub mod ranges;
pub mod recovery;
pub mod time;

pub use ids::{NodeId, SessionId, StreamId};
pub use time::Instant;
