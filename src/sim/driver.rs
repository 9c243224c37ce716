//! A small driver that moves sans-IO nodes through a [`Network`] in virtual
//! time.
//!
//! Owns: the [`Node`] trait and the event loop ([`step`], [`run_until`]) that
//! jumps virtual time from one event (an arrival or a node's timeout) to the
//! next.
//! Never: sleeps, reads a clock or polls in a busy loop. Time only moves
//! forward, to the next instant something is due, and a run that stops
//! advancing is reported as [`RunError::Livelock`] instead of spinning.

use super::network::Network;
use crate::time::Instant;
use alloc::boxed::Box;
use alloc::vec::Vec;
use bytes::Bytes;
use core::net::SocketAddr;

/// Most events (timeouts fired, datagrams delivered, datagrams sent) the
/// driver handles at one instant before it declares a livelock.
pub const MAX_EVENTS_PER_INSTANT: u64 = 1_000_000;

/// A sans-IO participant the driver can run: typically a thin wrapper over an
/// endpoint plus whatever the test's application does.
pub trait Node {
    /// The address this node receives on and sends from.
    fn addr(&self) -> SocketAddr;
    /// A datagram from `from` arrived at `now`.
    fn handle(&mut self, now: Instant, from: SocketAddr, data: Bytes);
    /// The next datagram to send at `now` as `(destination, bytes)`, or `None`
    /// when there is nothing more to send for now.
    fn poll_send(&mut self, now: Instant) -> Option<(SocketAddr, Vec<u8>)>;
    /// When the node next wants [`on_timeout`](Node::on_timeout), if ever.
    fn next_timeout(&self) -> Option<Instant>;
    /// The timeout returned by [`next_timeout`](Node::next_timeout) is due.
    /// Afterwards `next_timeout` must be later than `now` (or `None`).
    fn on_timeout(&mut self, now: Instant);
}

impl<T: Node + ?Sized> Node for &mut T {
    fn addr(&self) -> SocketAddr {
        (**self).addr()
    }
    fn handle(&mut self, now: Instant, from: SocketAddr, data: Bytes) {
        (**self).handle(now, from, data)
    }
    fn poll_send(&mut self, now: Instant) -> Option<(SocketAddr, Vec<u8>)> {
        (**self).poll_send(now)
    }
    fn next_timeout(&self) -> Option<Instant> {
        (**self).next_timeout()
    }
    fn on_timeout(&mut self, now: Instant) {
        (**self).on_timeout(now)
    }
}

impl<T: Node + ?Sized> Node for Box<T> {
    fn addr(&self) -> SocketAddr {
        (**self).addr()
    }
    fn handle(&mut self, now: Instant, from: SocketAddr, data: Bytes) {
        (**self).handle(now, from, data)
    }
    fn poll_send(&mut self, now: Instant) -> Option<(SocketAddr, Vec<u8>)> {
        (**self).poll_send(now)
    }
    fn next_timeout(&self) -> Option<Instant> {
        (**self).next_timeout()
    }
    fn on_timeout(&mut self, now: Instant) {
        (**self).on_timeout(now)
    }
}

/// Why the driver gave up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// More than [`MAX_EVENTS_PER_INSTANT`] events happened at `at` without
    /// virtual time advancing: nodes answering each other forever over a
    /// zero-latency link, a node that always has something to send, or a
    /// timeout that stays due after `on_timeout`.
    #[error("livelock: over {MAX_EVENTS_PER_INSTANT} events at {at} without time advancing")]
    Livelock {
        /// The instant time got stuck at.
        at: Instant,
    },
}

/// Processes everything due at `now`, then returns when the next event is
/// due (always later than `now`), or `None` if nothing is pending at all.
///
/// Rounds repeat until one does nothing: deliver every datagram arrived by
/// `now` to the node with its destination address (datagrams to an address no
/// node has are discarded; they remain counted as delivered by the network),
/// fire every due timeout, then drain every node's `poll_send` into the
/// network. Nodes are visited in slice order, so the run is deterministic.
pub fn step<N: Node>(
    net: &mut Network,
    nodes: &mut [N],
    now: Instant,
) -> Result<Option<Instant>, RunError> {
    let mut events: u64 = 0;
    let count = |events: &mut u64| {
        *events += 1;
        if *events > MAX_EVENTS_PER_INSTANT {
            Err(RunError::Livelock { at: now })
        } else {
            Ok(())
        }
    };
    loop {
        let before = events;
        while let Some(d) = net.poll_arrival(now) {
            count(&mut events)?;
            if let Some(node) = nodes.iter_mut().find(|n| n.addr() == d.to) {
                node.handle(now, d.from, d.data);
            }
        }
        for node in nodes.iter_mut() {
            if node.next_timeout().is_some_and(|t| t <= now) {
                count(&mut events)?;
                node.on_timeout(now);
            }
        }
        for node in nodes.iter_mut() {
            let from = node.addr();
            while let Some((to, data)) = node.poll_send(now) {
                count(&mut events)?;
                net.send_bytes(now, from, to, Bytes::from(data));
            }
        }
        if events == before {
            break;
        }
    }
    let timeouts = nodes.iter().filter_map(|n| n.next_timeout());
    Ok(timeouts.chain(net.next_arrival()).min())
}

/// Runs `nodes` over `net` from `start`, jumping from event to event, until
/// `stop` returns true (checked after each instant is processed) or the next
/// event would be after `deadline`. Returns the instant `stop` returned true
/// at, or `deadline` otherwise (also when nothing at all is pending: time
/// then simply runs out). A `start` after `deadline` returns `start` at once.
///
/// `stop` sees the nodes as the concrete type `N`, so a test with one node
/// type can inspect them directly; for mixed types use `&mut dyn Node` and
/// inspect state shared with the nodes, or call [`step`] in a loop of your
/// own.
pub fn run_until<N: Node>(
    net: &mut Network,
    nodes: &mut [N],
    start: Instant,
    deadline: Instant,
    mut stop: impl FnMut(Instant, &mut [N]) -> bool,
) -> Result<Instant, RunError> {
    if start > deadline {
        return Ok(start);
    }
    let mut now = start;
    loop {
        let next = step(net, nodes, now)?;
        if stop(now, nodes) {
            return Ok(now);
        }
        match next {
            Some(t) if t <= deadline => now = t.max(now),
            _ => return Ok(deadline),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::LinkConfig;
    use super::*;
    use core::net::{Ipv4Addr, SocketAddrV4};
    use core::time::Duration;

    fn addr(n: u8) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, n), 5000))
    }

    /// Pings its peer every `every` (if set) with its send time, and echoes
    /// whatever is not an answer to its own ping.
    struct Peer {
        addr: SocketAddr,
        peer: SocketAddr,
        every: Option<Duration>,
        next_ping: Option<Instant>,
        outbox: Vec<(SocketAddr, Vec<u8>)>,
        rtts: Vec<Duration>,
        received: u32,
    }

    impl Peer {
        fn new(addr: SocketAddr, peer: SocketAddr, every: Option<Duration>) -> Self {
            Peer {
                addr,
                peer,
                every,
                next_ping: every.map(|_| Instant::ZERO),
                outbox: Vec::new(),
                rtts: Vec::new(),
                received: 0,
            }
        }
    }

    impl Node for Peer {
        fn addr(&self) -> SocketAddr {
            self.addr
        }
        fn handle(&mut self, now: Instant, from: SocketAddr, data: Bytes) {
            self.received += 1;
            if self.every.is_some() {
                let mut b = [0u8; 8];
                b.copy_from_slice(data.get(..8).unwrap_or(&[0; 8]));
                self.rtts
                    .push(now - Instant::from_micros(u64::from_be_bytes(b)));
            } else {
                self.outbox.push((from, data.to_vec()));
            }
        }
        fn poll_send(&mut self, _now: Instant) -> Option<(SocketAddr, Vec<u8>)> {
            self.outbox.pop()
        }
        fn next_timeout(&self) -> Option<Instant> {
            self.next_ping
        }
        fn on_timeout(&mut self, now: Instant) {
            let ping = now.as_micros().to_be_bytes().to_vec();
            self.outbox.push((self.peer, ping));
            self.next_ping = self.every.map(|e| now + e);
        }
    }

    fn pair() -> [Peer; 2] {
        [
            Peer::new(addr(1), addr(2), Some(Duration::from_millis(100))),
            Peer::new(addr(2), addr(1), None),
        ]
    }

    #[test]
    fn ping_pong_sees_twice_the_latency_and_stops_on_condition() {
        let mut net = Network::new([1; 32]);
        net.set_path(
            addr(1),
            addr(2),
            LinkConfig::default().with_latency(Duration::from_millis(25)),
        )
        .unwrap();
        let mut nodes = pair();
        let mut instants = 0;
        let end = run_until(
            &mut net,
            &mut nodes,
            Instant::ZERO,
            Instant::from_millis(10_000),
            |_, n| {
                instants += 1;
                n[0].rtts.len() == 5
            },
        )
        .unwrap();
        assert_eq!(end, Instant::from_millis(450));
        assert_eq!(nodes[0].rtts, [Duration::from_millis(50); 5]);
        // Each instant visited has an event: 5 pings, 5 echoes, 5 answers.
        assert_eq!(instants, 15);
    }

    #[test]
    fn runs_to_the_deadline() {
        let mut net = Network::new([1; 32]);
        let mut nodes = pair();
        let end = run_until(
            &mut net,
            &mut nodes,
            Instant::ZERO,
            Instant::from_millis(1_000),
            |_, _| false,
        )
        .unwrap();
        assert_eq!(end, Instant::from_millis(1_000));
        // Pings at 0, 100, ..., 1000 ms; the last one (arriving at 1010 ms)
        // is still in flight at the deadline.
        assert_eq!(nodes[1].received, 10);
        assert_eq!(nodes[0].rtts.len(), 10);
        assert_eq!(net.in_flight(), 1);
    }

    #[test]
    fn quiet_network_jumps_to_deadline_and_late_start_returns_at_once() {
        let mut net = Network::new([1; 32]);
        let mut nodes = [Peer::new(addr(1), addr(2), None)];
        let deadline = Instant::from_millis(5_000);
        assert_eq!(
            run_until(&mut net, &mut nodes, Instant::ZERO, deadline, |_, _| false),
            Ok(deadline)
        );
        let late = Instant::from_millis(6_000);
        assert_eq!(
            run_until(&mut net, &mut nodes, late, deadline, |_, _| true),
            Ok(late)
        );
    }

    #[test]
    fn dyn_nodes_and_unknown_destinations() {
        let mut net = Network::new([1; 32]);
        // The pinger talks to an address nobody has: its pings are discarded.
        let mut a = Peer::new(addr(1), addr(9), Some(Duration::from_millis(100)));
        let mut b = Peer::new(addr(2), addr(1), None);
        let mut nodes: [&mut dyn Node; 2] = [&mut a, &mut b];
        let end = run_until(
            &mut net,
            &mut nodes,
            Instant::ZERO,
            Instant::from_millis(500),
            |_, _| false,
        );
        assert_eq!(end, Ok(Instant::from_millis(500)));
        assert_eq!((a.rtts.len(), b.received), (0, 0));
        assert_eq!(net.stats(addr(1), addr(9)).delivered, 5);
    }

    #[test]
    fn lossy_runs_replay_exactly() {
        let run = |seed| {
            let mut net = Network::new(seed);
            let cfg = LinkConfig::default()
                .with_loss(0.2)
                .with_jitter(Duration::from_millis(30));
            net.set_default_link(cfg).unwrap();
            let mut nodes = pair();
            run_until(
                &mut net,
                &mut nodes,
                Instant::ZERO,
                Instant::from_millis(20_000),
                |_, _| false,
            )
            .unwrap();
            let [pinger, _] = nodes;
            pinger.rtts
        };
        let a = run([3; 32]);
        assert!(a.len() > 100 && a.len() < 190, "{}", a.len());
        assert_eq!(a, run([3; 32]));
        assert_ne!(a, run([4; 32]));
    }

    #[test]
    fn zero_latency_echo_loop_is_a_livelock() {
        let mut net = Network::new([1; 32]);
        net.set_default_link(LinkConfig::ideal()).unwrap();
        let mut nodes = [
            Peer::new(addr(1), addr(2), None),
            Peer::new(addr(2), addr(1), None),
        ];
        net.send(Instant::ZERO, addr(1), addr(2), b"forever");
        let r = run_until(
            &mut net,
            &mut nodes,
            Instant::ZERO,
            Instant::from_millis(1),
            |_, _| false,
        );
        assert_eq!(r, Err(RunError::Livelock { at: Instant::ZERO }));
    }

    #[test]
    fn timeout_that_stays_due_is_a_livelock() {
        struct Stuck;
        impl Node for Stuck {
            fn addr(&self) -> SocketAddr {
                addr(1)
            }
            fn handle(&mut self, _: Instant, _: SocketAddr, _: Bytes) {}
            fn poll_send(&mut self, _: Instant) -> Option<(SocketAddr, Vec<u8>)> {
                None
            }
            fn next_timeout(&self) -> Option<Instant> {
                Some(Instant::from_millis(3))
            }
            fn on_timeout(&mut self, _: Instant) {}
        }
        let mut net = Network::new([1; 32]);
        let mut nodes = [Box::new(Stuck)];
        let r = run_until(
            &mut net,
            &mut nodes,
            Instant::ZERO,
            Instant::from_millis(10),
            |_, _| false,
        );
        assert_eq!(
            r,
            Err(RunError::Livelock {
                at: Instant::from_millis(3)
            })
        );
    }
}
