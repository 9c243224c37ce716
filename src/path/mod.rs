//! A network path: where a session sends and how big its datagrams may be.
//!
//! Owns: everything that belongs to one path rather than to the session:
//! the datagram size search (base size, probes, black-hole detection) and
//! the peer address's validation state (challenges in flight, the
//! anti-amplification budget of an address not yet validated).
//! Never: builds packets, reads a clock or a socket, or decides anything
//! about streams, congestion or keys. The session asks it where and how big
//! to send, and tells it what was sent, acknowledged and lost.

mod mtu;
mod validation;

pub use mtu::{DatagramSize, MtuConfig, DEFAULT_BASE_DATAGRAM_SIZE};
pub use validation::{PathData, PathStats, PathValidator};
