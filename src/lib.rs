//! # stt: encrypted, multiplexed, prioritised message streams over UDP
//!
//! (crate documentation is written in full once the session layer lands)
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod config;
pub mod crypto;
pub mod endpoint;
pub mod event;
pub mod ids;
pub mod rand;
pub mod ranges;
pub mod recovery;
pub mod session;
#[cfg(feature = "sim")]
pub mod sim;
pub mod streams;
pub mod time;
pub mod wire;

pub use config::{Config, ConfigBuilder, ConfigError};
pub use endpoint::{ConnectError, Endpoint, EndpointStats, Transmit};
pub use event::{CloseReason, Event, Violation};
pub use ids::{NodeId, SessionId, StreamId};
pub use session::{Session, SessionStats};
pub use streams::{OutOfOrder, StreamError, StreamEvent, StreamLimits, StreamStats};
pub use time::Instant;
