//! A NAT in front of one node: the address the network sees for it, which
//! may change at given times mid-run (rebinding: a new port, or a new
//! address as when a device changes network).
//!
//! Owns: the node's current public address and the schedule of changes.
//! Datagrams the node sends leave from the current public address; a
//! datagram to an old public address after a change reaches no node (the
//! mapping is gone), as with a real NAT.
//! Never: looks inside datagrams, or changes anything but addresses and
//! their timing; the node behind it does not know its address changed.

use alloc::vec::Vec;
use bytes::Bytes;
use core::net::SocketAddr;

use super::driver::Node;
use crate::time::Instant;

/// `inner` seen by the network at an address that changes on a schedule.
#[derive(Debug)]
pub struct Nat<N> {
    /// The node behind the NAT.
    pub inner: N,
    public: SocketAddr,
    /// Changes still to come, soonest last.
    schedule: Vec<(Instant, SocketAddr)>,
    rebinds: u32,
}

impl<N: Node> Nat<N> {
    /// `inner` seen at `public` until the first change of `schedule`
    /// (`(when, new public address)` pairs, in any order).
    pub fn new(inner: N, public: SocketAddr, schedule: &[(Instant, SocketAddr)]) -> Self {
        let mut schedule = schedule.to_vec();
        schedule.sort_by_key(|e| core::cmp::Reverse(e.0));
        Nat {
            inner,
            public,
            schedule,
            rebinds: 0,
        }
    }

    /// The address the network sees now.
    pub fn public(&self) -> SocketAddr {
        self.public
    }

    /// Changes made so far.
    pub fn rebinds(&self) -> u32 {
        self.rebinds
    }

    fn apply_due(&mut self, now: Instant) {
        while self.schedule.last().is_some_and(|(t, _)| *t <= now) {
            if let Some((_, addr)) = self.schedule.pop() {
                self.public = addr;
                self.rebinds += 1;
            }
        }
    }
}

impl<N: Node> Node for Nat<N> {
    fn addr(&self) -> SocketAddr {
        self.public
    }

    fn handle(&mut self, now: Instant, from: SocketAddr, data: Bytes) {
        self.inner.handle(now, from, data)
    }

    fn poll_send(&mut self, now: Instant) -> Option<(SocketAddr, Vec<u8>)> {
        self.apply_due(now);
        self.inner.poll_send(now)
    }

    fn next_timeout(&self) -> Option<Instant> {
        let change = self.schedule.last().map(|(t, _)| *t);
        match (self.inner.next_timeout(), change) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn on_timeout(&mut self, now: Instant) {
        self.apply_due(now);
        if self.inner.next_timeout().is_some_and(|t| t <= now) {
            self.inner.on_timeout(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{step, LinkConfig, Network};
    use alloc::boxed::Box;
    use core::time::Duration;

    fn addr(n: u8, port: u16) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, n], port))
    }

    /// Sends one datagram to `to` every 10 ms; counts what it receives.
    struct Ticker {
        me: SocketAddr,
        to: SocketAddr,
        next: Instant,
        due: bool,
        got: Vec<SocketAddr>,
    }

    impl Node for Ticker {
        fn addr(&self) -> SocketAddr {
            self.me
        }
        fn handle(&mut self, _now: Instant, from: SocketAddr, _data: Bytes) {
            self.got.push(from);
        }
        fn poll_send(&mut self, _now: Instant) -> Option<(SocketAddr, Vec<u8>)> {
            core::mem::take(&mut self.due).then(|| (self.to, alloc::vec![1]))
        }
        fn next_timeout(&self) -> Option<Instant> {
            Some(self.next)
        }
        fn on_timeout(&mut self, now: Instant) {
            self.due = true;
            self.next = now + Duration::from_millis(10);
        }
    }

    #[test]
    fn sends_leave_from_the_current_address_and_old_mappings_die() {
        let mut net = Network::new([1; 32]);
        net.set_default_link(LinkConfig::default().with_latency(Duration::from_millis(1)))
            .unwrap();
        let ticker = |me, to| Ticker {
            me,
            to,
            next: Instant::ZERO,
            due: false,
            got: Vec::new(),
        };
        let server = addr(2, 2000);
        let mut nat = Nat::new(
            ticker(addr(1, 1000), server),
            addr(1, 1000),
            &[(Instant::from_millis(25), addr(1, 1001))],
        );
        let mut echo = ticker(server, addr(1, 1000));
        // It sends to the old mapping after the change: that reaches no one.
        echo.next = Instant::from_millis(40);
        {
            let mut nodes: [&mut dyn Node; 2] = [&mut nat, &mut echo];
            let mut now = Instant::ZERO;
            while now < Instant::from_millis(50) {
                match step(&mut net, &mut nodes, now).unwrap() {
                    Some(t) => now = t,
                    None => break,
                }
            }
        }
        assert_eq!(nat.rebinds(), 1);
        assert_eq!(nat.public(), addr(1, 1001));
        let before = echo.got.iter().filter(|a| **a == addr(1, 1000)).count();
        let after = echo.got.iter().filter(|a| **a == addr(1, 1001)).count();
        // Sent at 0, 10, 20 ms from the old address, 30 and 40 from the new.
        assert_eq!((before, after), (3, 2), "{:?}", echo.got);
        assert!(nat.inner.got.is_empty(), "the old mapping is gone");
        // A boxed NAT works as a node too.
        let boxed: Box<dyn Node> = Box::new(Nat::new(ticker(addr(1, 5), server), addr(1, 5), &[]));
        assert_eq!(boxed.addr(), addr(1, 5));
    }
}
