//! An [`Endpoint`] as a simulator [`Node`], with an optional application
//! riding on it, so whole sessions run over a [`Network`](super::Network) in
//! virtual time.
//!
//! Owns: the glue between the driver's calls and the endpoint's four calls
//! (datagram in, timeout, datagram out, next deadline), the node's scratch
//! buffers, and a cached deadline (the driver reads it through `&self`, the
//! endpoint computes it through `&mut self`).
//! Never: decides anything about the protocol, reads a clock or draws
//! randomness. Everything the node does follows from the driver's calls, so
//! a simulated run replays exactly.
//!
//! ```
//! use core::time::Duration;
//! use stt::sim::{run_until, EndpointNode, LinkConfig, Network};
//! use stt::{Config, Endpoint, Event, Instant};
//!
//! let net_key = b"shared secret of the network....";
//! let a_addr = "10.0.0.1:1000".parse().unwrap();
//! let b_addr = "10.0.0.2:2000".parse().unwrap();
//! let a = Config::builder(b"node a seed.....................", net_key).build().unwrap();
//! let b = Config::builder(b"node b seed.....................", net_key).build().unwrap();
//! let mut nodes = [
//!     EndpointNode::new(Endpoint::new(a, [1; 32]), a_addr, ()),
//!     EndpointNode::new(Endpoint::new(b, [2; 32]), b_addr, ()),
//! ];
//! let mut net = Network::new([9; 32]);
//! net.set_default_link(LinkConfig::default().with_latency(Duration::from_millis(20)).with_loss(0.05))
//!     .unwrap();
//! let id = nodes[0].endpoint_mut().connect(Instant::ZERO, b_addr).unwrap();
//! nodes[0].endpoint_mut().session_mut(id).unwrap().send(0, &b"hello"[..]).unwrap();
//! let end = Instant::from_millis(10_000);
//! run_until(&mut net, &mut nodes, Instant::ZERO, end, |_, n| {
//!     n[0].endpoint().session(id).is_some_and(|s| s.is_flushed())
//! })
//! .unwrap();
//! let [_, b] = &mut nodes;
//! let sb = b.endpoint().sessions().next().unwrap();
//! let got = b.endpoint_mut().session_mut(sb).unwrap().recv(0).unwrap();
//! assert_eq!(got.as_deref(), Some(&b"hello"[..]));
//! ```

use alloc::vec::Vec;
use bytes::Bytes;
use core::net::SocketAddr;
use core::ops::{Deref, DerefMut};

use super::driver::Node;
use crate::endpoint::Endpoint;
use crate::time::Instant;

/// Scratch space for one outgoing datagram (the largest UDP payload).
const TX_BUF_LEN: usize = 65_536;

/// What an application does on top of a simulated endpoint: read events,
/// read and send messages. Called by [`EndpointNode`] after every input.
pub trait App {
    /// The endpoint took input at `now` (a datagram, a timeout) or the
    /// application's own [`wakeup`](App::wakeup) came due. Drain
    /// `ep.poll_event()` here, read what arrived, queue what to send; what
    /// is queued goes out in the same instant.
    fn on_wake(&mut self, now: Instant, ep: &mut Endpoint);

    /// When the application wants [`on_wake`](App::on_wake) again even if
    /// nothing arrives (e.g. a timed send). Must be later than the `now` of
    /// the last `on_wake` once that call returns, or `None`.
    fn wakeup(&self) -> Option<Instant> {
        None
    }
}

/// No application: events are drained and dropped, nothing is read.
impl App for () {
    fn on_wake(&mut self, _now: Instant, ep: &mut Endpoint) {
        while ep.poll_event().is_some() {}
    }
}

/// An endpoint at an address, with an application, driven by the
/// simulator. Reach the endpoint through [`endpoint`](Self::endpoint) and
/// [`endpoint_mut`](Self::endpoint_mut) (which keeps the cached deadline
/// true after whatever the caller does).
///
/// Calls made on the endpoint from outside a run (between
/// [`run_until`](super::run_until) calls, or in its `stop` closure) take
/// effect from the node's next event; an application that must react within
/// the run belongs in an [`App`].
pub struct EndpointNode<A: App = ()> {
    ep: Endpoint,
    addr: SocketAddr,
    /// The application riding on the endpoint.
    pub app: A,
    deadline: Option<Instant>,
    tx: Vec<u8>,
    rx: Vec<u8>,
}

impl<A: App> core::fmt::Debug for EndpointNode<A> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EndpointNode")
            .field("addr", &self.addr)
            .field("ep", &self.ep)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl<A: App> EndpointNode<A> {
    /// `ep` receiving and sending at `addr`, with `app` on top.
    pub fn new(ep: Endpoint, addr: SocketAddr, app: A) -> Self {
        let mut n = EndpointNode {
            ep,
            addr,
            app,
            deadline: None,
            tx: alloc::vec![0; TX_BUF_LEN],
            rx: Vec::new(),
        };
        n.refresh();
        n
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.ep
    }

    /// The endpoint, for calls that change it; the node's deadline is
    /// recomputed when the returned guard is dropped.
    pub fn endpoint_mut(&mut self) -> EndpointMut<'_, A> {
        EndpointMut { node: self }
    }

    /// The endpoint and the application together, for a call that needs
    /// both; the deadline is recomputed afterwards.
    pub fn with<R>(&mut self, f: impl FnOnce(&mut Endpoint, &mut A) -> R) -> R {
        let r = f(&mut self.ep, &mut self.app);
        self.refresh();
        r
    }

    /// Gives the node back as its parts.
    pub fn into_parts(self) -> (Endpoint, A) {
        (self.ep, self.app)
    }

    fn refresh(&mut self) {
        self.deadline = self.ep.poll_timeout();
    }

    fn wake_app(&mut self, now: Instant) {
        self.app.on_wake(now, &mut self.ep);
        self.refresh();
    }
}

impl<A: App> Node for EndpointNode<A> {
    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn handle(&mut self, now: Instant, from: SocketAddr, data: Bytes) {
        // The endpoint decrypts in place: give it a private copy.
        self.rx.clear();
        self.rx.extend_from_slice(&data);
        self.ep.handle_datagram(now, from, &mut self.rx);
        self.wake_app(now);
    }

    fn poll_send(&mut self, now: Instant) -> Option<(SocketAddr, Vec<u8>)> {
        let t = self.ep.poll_transmit(now, &mut self.tx);
        self.refresh();
        let t = t?;
        let bytes = self.tx.get(..t.len)?.to_vec();
        Some((t.destination, bytes))
    }

    fn next_timeout(&self) -> Option<Instant> {
        match (self.deadline, self.app.wakeup()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn on_timeout(&mut self, now: Instant) {
        if self.deadline.is_some_and(|t| t <= now) {
            self.ep.handle_timeout(now);
        }
        self.wake_app(now);
    }
}

/// Mutable access to a node's endpoint; recomputes the node's deadline
/// when dropped.
pub struct EndpointMut<'a, A: App> {
    node: &'a mut EndpointNode<A>,
}

impl<A: App> Deref for EndpointMut<'_, A> {
    type Target = Endpoint;
    fn deref(&self) -> &Endpoint {
        &self.node.ep
    }
}

impl<A: App> DerefMut for EndpointMut<'_, A> {
    fn deref_mut(&mut self) -> &mut Endpoint {
        &mut self.node.ep
    }
}

impl<A: App> Drop for EndpointMut<'_, A> {
    fn drop(&mut self) {
        self.node.refresh();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::event::Event;
    use crate::ids::SessionId;
    use crate::sim::{run_until, LinkConfig, Network};
    use core::time::Duration;

    const KEY: &[u8] = b"endpoint node test network key..";

    fn addr(n: u8) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, n], 9000))
    }

    fn endpoint(name: u8) -> Endpoint {
        let cfg = Config::builder(&[name; 32], KEY).build().unwrap();
        Endpoint::new(cfg, [name; 32])
    }

    /// Counts bytes read on any stream; remembers the session.
    #[derive(Default)]
    struct Reader {
        session: Option<SessionId>,
        bytes: usize,
        wakes: u32,
    }

    impl App for Reader {
        fn on_wake(&mut self, _now: Instant, ep: &mut Endpoint) {
            self.wakes += 1;
            while let Some(e) = ep.poll_event() {
                match e {
                    Event::Accepted { session, .. } | Event::Connected { session, .. } => {
                        self.session = Some(session);
                    }
                    Event::Stream {
                        session,
                        event: crate::StreamEvent::Readable(id),
                    } => {
                        let s = ep.session_mut(session).unwrap();
                        while let Ok(Some(m)) = s.recv(id) {
                            self.bytes += m.len();
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn transfer(seed: u8) -> (Instant, usize, u32) {
        let mut net = Network::new([seed; 32]);
        let lossy = LinkConfig::default()
            .with_latency(Duration::from_millis(15))
            .with_loss(0.1)
            .with_duplicate(0.05);
        net.set_default_link(lossy).unwrap();
        let mut nodes = [
            EndpointNode::new(endpoint(1), addr(1), Reader::default()),
            EndpointNode::new(endpoint(2), addr(2), Reader::default()),
        ];
        assert_eq!(nodes[0].next_timeout(), None, "nothing to do yet");
        let id = nodes[0]
            .endpoint_mut()
            .connect(Instant::ZERO, addr(2))
            .unwrap();
        assert!(
            nodes[0].next_timeout().is_some(),
            "the guard refreshed the deadline"
        );
        nodes[0]
            .endpoint_mut()
            .session_mut(id)
            .unwrap()
            .send(0, alloc::vec![7u8; 50_000])
            .unwrap();
        let end = run_until(
            &mut net,
            &mut nodes,
            Instant::ZERO,
            Instant::from_millis(60_000),
            |_, n| n[1].app.bytes == 50_000,
        )
        .unwrap();
        (end, nodes[1].app.bytes, nodes[1].app.wakes)
    }

    #[test]
    fn a_message_crosses_a_lossy_network_and_runs_replay() {
        let (end, bytes, wakes) = transfer(4);
        assert_eq!(bytes, 50_000);
        assert!(end < Instant::from_millis(60_000), "{end}");
        assert!(wakes > 10);
        assert_eq!(transfer(4), (end, bytes, wakes));
        assert_ne!(transfer(5).0, end, "another seed, another run");
    }

    #[test]
    fn with_and_into_parts_reach_endpoint_and_app() {
        let mut n = EndpointNode::new(endpoint(1), addr(1), Reader::default());
        let id = n.with(|ep, app| {
            app.wakes = 41;
            ep.connect(Instant::ZERO, addr(2)).unwrap()
        });
        assert!(n.endpoint().session(id).is_some());
        assert!(n.next_timeout().is_some());
        // The Initial is sent at once.
        let (to, bytes) = n.poll_send(Instant::ZERO).unwrap();
        assert_eq!(to, addr(2));
        assert!(!bytes.is_empty());
        n.on_timeout(Instant::ZERO);
        let (ep, app) = n.into_parts();
        assert_eq!(app.wakes, 42);
        assert_eq!(ep.sessions().count(), 1);
    }
}
