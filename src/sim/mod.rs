//! A deterministic network simulator for testing sans-IO endpoints (this
//! crate's, or an application's built on it) through bad networks in virtual
//! time. Compiled with the `sim` feature.
//!
//! Owns: the simulated links (latency, jitter, random and burst loss,
//! reordering, duplication, bottleneck rate and its changes over time,
//! queue, MTU), the datagrams in flight, and an optional driver that runs
//! nodes from event to event.
//! Never: reads a clock, sleeps, or touches a socket or the OS's randomness.
//! All randomness comes from the crate's seeded generators, derived from the
//! one seed given to [`Network::new`], so a seed and the same sequence of
//! calls replay a run exactly, down to the order of equal-time arrivals.
//!
//! Layout: `config` (what a link does), `loss` (random draws and the
//! Gilbert-Elliott chain), `bottleneck` (rate and drop-tail queue), `link`
//! (one directional link's state and counters), `network` (the links and
//! the datagrams in flight), `driver` (the [`Node`] trait and event loop),
//! `endpoint_node` (an [`Endpoint`](crate::Endpoint) with an optional
//! [`App`] as a [`Node`]), `bulk` (bulk transfers over a bottleneck: the
//! goodput and fairness scenario; `bulk_report` measures it), `game`
//! (datagrams at a fixed rate beside a bulk stream), `live` (frames with a
//! deadline on a stream; `live_report` measures them), `nat` (a
//! node whose public address changes mid-run), `attacker` (an on-path
//! attacker that resends copies of a node's datagrams from another
//! address).
//!
//! ```
//! use core::time::Duration;
//! use stt::sim::{LinkConfig, Network};
//! use stt::Instant;
//!
//! let a = "10.0.0.1:1000".parse().unwrap();
//! let b = "10.0.0.2:2000".parse().unwrap();
//! let mut net = Network::new([7; 32]);
//! let lossy = LinkConfig::default()
//!     .with_latency(Duration::from_millis(25))
//!     .with_loss(0.01)
//!     .with_rate(10_000_000);
//! net.set_path(a, b, lossy).unwrap();
//!
//! net.send(Instant::ZERO, a, b, b"hello");
//! while let Some(t) = net.next_arrival() {
//!     let d = net.poll_arrival(t).unwrap();
//!     assert_eq!((d.from, d.to, &d.data[..]), (a, b, &b"hello"[..]));
//! }
//! assert_eq!(net.stats(a, b).sent, 1);
//! ```

mod attacker;
mod bottleneck;
mod bulk;
mod bulk_report;
mod config;
mod driver;
mod endpoint_node;
mod game;
mod link;
mod live;
mod live_report;
mod loss;
mod nat;
mod network;

pub use attacker::{AttackStats, Attacker, Tap};
pub use bulk::{
    run_bulk, run_bulk_with, AppLimited, BulkConfig, BulkError, BulkReceiver, BulkSender,
    CLIENT_ADDR, SERVER_ADDR,
};
pub use bulk_report::{AppPhaseReport, BulkReport, Sample};
pub use config::{
    BurstLoss, ConfigError, LinkConfig, ProbabilityField, RateSchedule, DEFAULT_MTU,
    DEFAULT_QUEUE_BYTES, MAX_RATE_CHANGES,
};
pub use driver::{run_until, step, Node, RunError, MAX_EVENTS_PER_INSTANT};
pub use endpoint_node::{App, EndpointMut, EndpointNode};
pub use game::{run_game, run_game_with, GameConfig, GameReport};
pub use link::LinkStats;
pub use live::{run_live, run_live_with, LiveConfig, LiveMode};
pub use live_report::{FrameRecord, LiveReport, RateDrop};
pub use nat::Nat;
pub use network::{Delivery, Network};
