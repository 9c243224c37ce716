//! An on-path attacker: it copies the datagrams one node sends and resends
//! them from an address of its choosing (the victim's), and counts what
//! that address receives in return.
//!
//! Owns: a [`Tap`] wrapped around the copied node, which hands a copy of
//! each datagram it sends to the [`Attacker`]; the attacker node, which
//! sits at the victim address, sends the copies from there (faster links
//! make them race the originals) and records every datagram the victim
//! address is sent.
//! Never: alters, drops or delays the original datagrams, or reads inside
//! them (it has no keys); it only replays their bytes from elsewhere.

use alloc::collections::VecDeque;
use alloc::rc::Rc;
use alloc::vec::Vec;
use bytes::Bytes;
use core::cell::RefCell;
use core::net::SocketAddr;

use super::driver::Node;
use crate::time::Instant;

/// What the attacker did and what its victim address received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AttackStats {
    /// Copies sent from the victim address.
    pub copies_sent: u64,
    /// Bytes of those copies.
    pub bytes_sent: u64,
    /// Datagrams the victim address received.
    pub victim_datagrams: u64,
    /// Bytes the victim address received.
    pub victim_bytes: u64,
}

#[derive(Debug, Default)]
struct Shared {
    queue: VecDeque<(SocketAddr, Bytes)>,
    stats: AttackStats,
    /// Copy only datagrams sent at or after this instant.
    from: Instant,
    /// Copy only datagrams to this address (all if `None`).
    only_to: Option<SocketAddr>,
}

/// The attacker, as a node at the victim address. Put the copied node in a
/// [`Tap`] made by [`Attacker::tap`].
#[derive(Debug)]
pub struct Attacker {
    victim: SocketAddr,
    shared: Rc<RefCell<Shared>>,
}

impl Attacker {
    /// An attacker that sends its copies from `victim`, starting with the
    /// datagrams sent at `from`, copying only those to `only_to` (all if
    /// `None`).
    pub fn new(victim: SocketAddr, from: Instant, only_to: Option<SocketAddr>) -> Self {
        let shared = Shared {
            from,
            only_to,
            ..Shared::default()
        };
        Attacker {
            victim,
            shared: Rc::new(RefCell::new(shared)),
        }
    }

    /// `inner`, with every datagram it sends copied to this attacker.
    pub fn tap<N: Node>(&self, inner: N) -> Tap<N> {
        Tap {
            inner,
            shared: self.shared.clone(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> AttackStats {
        self.shared.borrow().stats
    }
}

impl Node for Attacker {
    fn addr(&self) -> SocketAddr {
        self.victim
    }

    fn handle(&mut self, _now: Instant, _from: SocketAddr, data: Bytes) {
        let mut s = self.shared.borrow_mut();
        s.stats.victim_datagrams += 1;
        s.stats.victim_bytes += data.len() as u64;
    }

    fn poll_send(&mut self, _now: Instant) -> Option<(SocketAddr, Vec<u8>)> {
        let mut s = self.shared.borrow_mut();
        let (to, data) = s.queue.pop_front()?;
        s.stats.copies_sent += 1;
        s.stats.bytes_sent += data.len() as u64;
        Some((to, data.to_vec()))
    }

    fn next_timeout(&self) -> Option<Instant> {
        None
    }

    fn on_timeout(&mut self, _now: Instant) {}
}

/// A node whose sends an [`Attacker`] copies.
#[derive(Debug)]
pub struct Tap<N> {
    /// The copied node.
    pub inner: N,
    shared: Rc<RefCell<Shared>>,
}

impl<N: Node> Node for Tap<N> {
    fn addr(&self) -> SocketAddr {
        self.inner.addr()
    }

    fn handle(&mut self, now: Instant, from: SocketAddr, data: Bytes) {
        self.inner.handle(now, from, data)
    }

    fn poll_send(&mut self, now: Instant) -> Option<(SocketAddr, Vec<u8>)> {
        let (to, data) = self.inner.poll_send(now)?;
        let mut s = self.shared.borrow_mut();
        if now >= s.from && s.only_to.is_none_or(|a| a == to) {
            s.queue.push_back((to, Bytes::copy_from_slice(&data)));
        }
        drop(s);
        Some((to, data))
    }

    fn next_timeout(&self) -> Option<Instant> {
        self.inner.next_timeout()
    }

    fn on_timeout(&mut self, now: Instant) {
        self.inner.on_timeout(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{step, LinkConfig, Network};
    use core::time::Duration;

    fn addr(n: u8) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, n], 4000))
    }

    /// Sends `left` datagrams of 100 bytes to `to`; if `echo`, answers
    /// every datagram with 10 bytes to its source.
    struct Chatty {
        me: SocketAddr,
        to: SocketAddr,
        echo: bool,
        left: u32,
        replies: VecDeque<SocketAddr>,
        got: u32,
    }

    impl Node for Chatty {
        fn addr(&self) -> SocketAddr {
            self.me
        }
        fn handle(&mut self, _now: Instant, from: SocketAddr, _data: Bytes) {
            self.got += 1;
            if self.echo {
                self.replies.push_back(from);
            }
        }
        fn poll_send(&mut self, _now: Instant) -> Option<(SocketAddr, Vec<u8>)> {
            if let Some(to) = self.replies.pop_front() {
                return Some((to, alloc::vec![0; 10]));
            }
            (self.left > 0).then(|| {
                self.left -= 1;
                (self.to, alloc::vec![1; 100])
            })
        }
        fn next_timeout(&self) -> Option<Instant> {
            None
        }
        fn on_timeout(&mut self, _now: Instant) {}
    }

    #[test]
    fn copies_race_the_originals_from_the_victim_and_replies_are_counted() {
        let mut net = Network::new([2; 32]);
        let slow = LinkConfig::default().with_latency(Duration::from_millis(20));
        let fast = LinkConfig::default().with_latency(Duration::from_millis(5));
        net.set_default_link(slow).unwrap();
        net.set_link(addr(9), addr(2), fast).unwrap();
        let attacker = Attacker::new(addr(9), Instant::ZERO, Some(addr(2)));
        let mut client = attacker.tap(Chatty {
            me: addr(1),
            to: addr(2),
            echo: false,
            left: 3,
            replies: VecDeque::new(),
            got: 0,
        });
        let mut server = Chatty {
            me: addr(2),
            to: addr(1),
            echo: true,
            left: 0,
            replies: VecDeque::new(),
            got: 0,
        };
        let mut attacker = attacker;
        let mut arrivals = Vec::new();
        {
            let mut nodes: [&mut dyn Node; 3] = [&mut client, &mut server, &mut attacker];
            let mut now = Instant::ZERO;
            while let Some(t) = step(&mut net, &mut nodes, now).unwrap() {
                now = t;
                arrivals.push(now);
            }
        }
        let s = attacker.stats();
        assert_eq!((s.copies_sent, s.bytes_sent), (3, 300));
        // The server answered each copy (to the victim) and each original.
        assert_eq!(server.got, 6);
        assert_eq!((s.victim_datagrams, s.victim_bytes), (3, 30));
        assert_eq!(client.inner.got, 3);
        // The copies arrived first (5 ms), the originals after (20 ms).
        assert_eq!(arrivals.first(), Some(&Instant::from_millis(5)));
    }
}
