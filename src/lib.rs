//! # stt: encrypted, multiplexed, prioritised message streams over UDP
//!
//! `stt` is a **sans-IO** protocol core: it owns no socket, no clock, no
//! thread and no random source. You feed it datagrams and timestamps; it
//! hands back datagrams to send and events to act on. That makes it
//! embeddable in any event loop (tokio, a blocking loop, an embedded
//! superloop) and makes every run reproducible: the same seeds and inputs
//! give byte-identical output.
//!
//! ```text
//!   application:  connect / create_stream / send / send_all / recv / close
//!        |                                                   ^
//!        v                                                   |  poll_event
//!   +-----------------------------------------------------------------+
//!   | endpoint   routes datagrams by session id, accepts, cookies      |
//!   |  session   handshake, keys, timers, close         (one per peer) |
//!   |   streams  send/recv buffers, windows, priority scheduler        |
//!   |   recovery acks, RTT, loss, PTO, congestion control, pacing      |
//!   |   crypto   Noise XXpsk0 handshake, AEAD packet protection        |
//!   |   wire     packets and frames <-> bytes (pure functions)         |
//!   +-----------------------------------------------------------------+
//!        ^  handle_datagram / handle_timeout     poll_transmit  |
//!        |                                                      v
//!   your socket and your clock
//! ```
//!
//! ## The run loop
//!
//! Four calls drive an [`Endpoint`]: [`Endpoint::handle_datagram`] for each
//! datagram received, [`Endpoint::handle_timeout`] when the deadline from
//! [`Endpoint::poll_timeout`] passes, [`Endpoint::poll_transmit`] until it
//! returns `None` after any input, and [`Endpoint::poll_event`] for what the
//! application should know. Here two endpoints talk through an in-memory
//! "network" with a simulated clock:
//!
//! ```
//! use stt::{Config, Endpoint, Event, Instant};
//!
//! let net = b"shared_secret_32bytes_minimum!";
//! let mut a = Endpoint::new(Config::builder(b"node-a-seed-0123456789", net).build()?, [1; 32]);
//! let mut b = Endpoint::new(Config::builder(b"node-b-seed-0123456789", net).build()?, [2; 32]);
//! let (a_addr, b_addr) = ("127.0.0.1:4000".parse()?, "127.0.0.1:5000".parse()?);
//!
//! let mut now = Instant::ZERO;
//! let session = a.connect(now, b_addr)?;
//! a.session_mut(session).unwrap().send(0, &b"hello"[..])?; // queued until the handshake ends
//!
//! let mut buf = [0u8; 2048];
//! let mut received = None;
//! for _ in 0..100 {
//!     // Move every datagram each side wants to send to the other side.
//!     while let Some(t) = a.poll_transmit(now, &mut buf) {
//!         b.handle_datagram(now, a_addr, &mut buf[..t.len]);
//!     }
//!     while let Some(t) = b.poll_transmit(now, &mut buf) {
//!         a.handle_datagram(now, b_addr, &mut buf[..t.len]);
//!     }
//!     while let Some(event) = b.poll_event() {
//!         if let Event::Stream { session, .. } = event {
//!             received = b.session_mut(session).unwrap().recv(0)?;
//!         }
//!     }
//!     if received.is_some() {
//!         break;
//!     }
//!     // Time passes only when nothing is left to do now.
//!     now = [a.poll_timeout(), b.poll_timeout()].into_iter().flatten().min().unwrap();
//!     a.handle_timeout(now);
//!     b.handle_timeout(now);
//! }
//! assert_eq!(received.as_deref(), Some(&b"hello"[..]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With real sockets the loop is the same with `recv_from`/`send_to` and a
//! read timeout taken from `poll_timeout`; `examples/hello.rs` shows it, and
//! the tokio and blocking adapters in `examples/adapters/` wrap it.
//!
//! ## Time
//!
//! The core never reads a clock. Every call that depends on time takes an
//! [`Instant`]: microseconds from an epoch the caller picks. Tests run faster
//! than real time and replay exactly; `core::time::Duration` is used for
//! spans and `core::net::SocketAddr` for addresses.
//!
//! ## Deadlines
//!
//! A message sent with [`Session::send_with`] and a deadline
//! ([`SendOptions`]), or on a stream with a lifetime
//! ([`Session::set_stream_lifetime`]), is sent and resent like any other
//! until it can no longer arrive in time; then the sender abandons it
//! ([`StreamEvent::MessageExpired`]) and the receiver skips it. Delivery
//! stays in sequence order, each message exactly once or not at all; a
//! skipped message never holds up the ones after it. docs/GUIDE.md,
//! "Deadlines", has the rules.
//!
//! ## Randomness
//!
//! [`Endpoint::new`] takes a 32-byte seed, the only entropy the core uses
//! (session ids, ephemeral handshake keys, the cookie secret). Give each
//! endpoint a fresh secret seed in production.
//!
//! ## Cargo features
//!
//! | feature      | default | what it does |
//! |--------------|---------|--------------|
//! | `std`        | yes     | `std::error::Error` impls via dependencies; the core never needs std |
//! | `ring`       | yes     | fast ChaCha20-Poly1305 and AES-256-GCM packet protection from `ring` |
//! | `rustcrypto` | no      | pure-Rust ChaCha20-Poly1305 and AES-256-GCM; builds for `thumbv7em-none-eabihf` |
//! | `sim`        | no      | [`sim`]: a deterministic network simulator for tests |
//! | `arbitrary`  | no      | `Arbitrary` impls for fuzzing |
//! | `trace`      | no      | [`trace`]: typed events of every protocol decision, switched on per endpoint with `Endpoint::set_trace_sink` |
//!
//! Without `std` the crate is `#![no_std]` + `alloc`.
//!
//! ## Mapping from the STT streams chapter
//!
//! See the README's table: each call of the chapter (`create_stream`,
//! `send`, `send_all`, `receive`, `get_stream`, `get_streams`,
//! `close_stream`, `close_all_streams`, `current_priority`,
//! `get_statistics`, ...) and its Rust equivalent here and in the adapters.
//!
//! ## What is public, and what may change
//!
//! Everything a user names is re-exported at the crate root; `trace` and
//! `sim` are the only public modules, because their types form a namespace
//! of their own. The wire codec, packet protection, loss recovery, path
//! and stream-manager internals are private and change freely. The rule
//! the crate keeps:
//!
//! - a type is public when an application must name it to drive the core,
//!   configure it, or read what it reports; everything else stays private;
//! - configuration is validated once: [`Config`] cannot be changed after
//!   [`ConfigBuilder::build`], only rebuilt through [`Config::to_builder`];
//! - anything a later version may grow (events, errors, close reasons,
//!   statistics, limits) is `#[non_exhaustive]`: match with a `_` arm,
//!   start limits from `Default::default()`;
//! - test and fuzz doors are `#[doc(hidden)]` (`stt::__private`, which
//!   follows no semver) or exist only under `cfg(fuzzing)`, which
//!   cargo-fuzz sets and no dependency can.
//!
//! The repository keeps a listing of every public item
//! (`.ci/public-api.txt`) that CI compares with the code, so a change to
//! the API is always a reviewed decision.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unnameable_types)]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

mod config;
mod crypto;
mod endpoint;
mod event;
mod ids;
mod path;
mod queue;
mod rand;
mod ranges;
mod recovery;
mod session;
#[cfg(feature = "sim")]
#[cfg_attr(docsrs, doc(cfg(feature = "sim")))]
pub mod sim;
mod spare;
mod streams;
mod time;
pub mod trace;
mod violation;
mod wire;

// The public surface, reviewed item by item: `.ci/public-api.txt` lists
// every public path and CI fails when it changes without that file.
// Anything not named here is internal and may change in any release.

// The node and its sessions.
pub use endpoint::{
    ConnectError, EarlyConnect, Endpoint, EndpointStats, TicketConfig, TicketImportError, Transmit,
};
pub use ids::{NodeId, SessionId, StreamId};
pub use session::{Role, Session};
pub use time::Instant;

// Configuration, validated once by `ConfigBuilder::build`.
pub use config::{
    Config, ConfigBuilder, ConfigError, DEFAULT_MAX_DATAGRAM_SIZE, MAX_DATAGRAM_SIZE,
    MIN_DATAGRAM_SIZE, MIN_NODE_SEED_LEN, MIN_SHARED_SEED_LEN,
};
pub use crypto::{Cipher, CryptoError, Provider};
pub use path::DEFAULT_BASE_DATAGRAM_SIZE;
pub use recovery::{ControllerKind, ControllerPhase, Ratio, RecoveryConfig};
pub use streams::{
    DatagramLimits, StreamLimits, DEFAULT_PRIORITY, DEFAULT_SEGMENT_SIZE, MAX_PRIORITY,
    MIN_PRIORITY,
};

// What the application hears, and the errors of its calls.
pub use event::code as close_code;
pub use event::{CloseReason, Event, Violation};
pub use streams::{
    DatagramError, DatagramEvent, DatagramId, DatagramOptions, OutOfOrder, SendOptions, Stream,
    StreamError, StreamEvent,
};

// Statistics.
pub use path::PathStats;
pub use session::{CongestionStats, SessionStats};
pub use streams::StreamStats;

/// **Not API.** Internals that the crate's own tests, benchmarks, fuzz
/// targets and measuring examples reach into (the wire codec, packet
/// protection, the recovery engine). Nothing here follows semver; it may
/// change or vanish in any release. Hidden from the documentation and left
/// out of `.ci/public-api.txt`.
#[doc(hidden)]
pub mod __private {
    /// The wire codec: packets, frames, varints.
    pub mod wire {
        pub use crate::wire::*;
    }
    /// Packet protection and the handshake's primitives.
    pub mod crypto {
        pub use crate::crypto::*;
    }
    /// The loss-recovery engine and congestion controllers.
    pub mod recovery {
        pub use crate::recovery::*;
    }
    /// The sizes of a session's parts.
    pub mod layout {
        pub use crate::session::layout::*;
    }
    /// The endpoint's timer index, for `examples/scale`.
    pub mod timers {
        pub use crate::endpoint::timers::Timers;
    }
}
