//! A tokio adapter: one task owns a `tokio::net::UdpSocket` and the `stt`
//! endpoint; the application holds cheap, cloneable async handles
//! ([`Node`], [`Session`], [`Stream`]) that send it jobs.
//!
//! Owns, one file each: the handles' async API (`tokio_node/handles.rs`),
//! the job scheduler, the calls waiting in the loop
//! (`tokio_node/jobs.rs`), and the event loop, socket readiness, the core's
//! `poll_timeout` and the command channel (`tokio_node/event_loop.rs`).
//! This file only ties them together. Datagrams move in batches
//! through `udp_batch.rs` (GRO runs straight into `handle_datagram`, GSO
//! runs built straight from `poll_transmit`); nothing is allocated or sent
//! through a channel per datagram, and the one timer is re-armed only when
//! the core's deadline moves.
//! Never: holds a lock on the core across an await, or does protocol work:
//! every decision is the core's; this file moves bytes, time and calls.
//!
//! # How a call works
//! A handle call sends the loop a *job*: a closure that tries the operation
//! on the core and answers `Pending` if it must wait (no message yet, send
//! queue full, handshake not done). The loop runs each new job at once and
//! runs a waiting job again when something it waits on may have changed:
//! an event on its stream or session (a refused send waits for its stream's
//! `Writable`), or, for `flush` calls waiting on acknowledgements, any
//! datagram. The answer goes back on a oneshot channel.
//! Having answered calls, the loop lets the runtime run their callers (up
//! to `YIELDS` times in a row) before it sends: a writer looping over
//! `send_all` with 64 KiB then queues its next message into the same flight
//! instead of every message leaving alone in a short GSO run (measured in
//! `docs/ADAPTERS.md`).
//!
//! # Sending
//! `send`, `send_all` and `send_all_with` return once the data is queued in
//! the core. While the stream already holds more unacknowledged data than
//! `StreamLimits::max_send_queue` (64 MiB by default) they wait first, so a
//! fast writer is held back to that bound: until the core says the stream
//! is `Writable` again, or fail if the stream or its session ends while they
//! wait. [`Stream::flush`] waits until the peer acknowledged everything
//! queued so far.
//!
//! # Receiving
//! [`Stream::receive`] is cancel-safe: a message taken out of the core for a
//! future that is then dropped goes back and is the next one received.
#![allow(dead_code)]

#[path = "common.rs"]
mod common;
#[path = "tokio_node/event_loop.rs"]
mod event_loop;
#[path = "tokio_node/handles.rs"]
mod handles;
#[path = "tokio_node/jobs.rs"]
mod jobs;
#[path = "udp_batch.rs"]
mod udp_batch;

// Not every includer names every one of them.
#[allow(unused_imports)]
pub use common::{Error, Expired, PerSession};
#[allow(unused_imports)]
pub use handles::{Node, Session, Stream};
