//! The smallest real exchange: two nodes on loopback UDP sockets, driven by
//! hand in one thread with the sans-IO calls (no adapter). Node A connects,
//! each side sends one message on stream 0, A closes, both see the close.
//!
//!     cargo run --example hello
use std::net::UdpSocket;
use std::time::{Duration, Instant as StdInstant};

use stt::{Config, Endpoint, Event, Instant, SessionId};

const NETWORK_SEED: &[u8] = b"shared_secret_32bytes_minimum!";

struct Node {
    name: &'static str,
    socket: UdpSocket,
    ep: Endpoint,
    events: Vec<Event>,
}

impl Node {
    fn new(name: &'static str, node_seed: &[u8], rng_seed: [u8; 32]) -> std::io::Result<Node> {
        let socket = UdpSocket::bind("127.0.0.1:0")?;
        socket.set_nonblocking(true)?;
        let config = Config::builder(node_seed, NETWORK_SEED)
            .build()
            .expect("valid configuration");
        Ok(Node {
            name,
            socket,
            ep: Endpoint::new(config, rng_seed),
            events: Vec::new(),
        })
    }

    /// One turn of the run loop: read what arrived, run timers, send what is
    /// due, collect events.
    fn turn(&mut self, now: Instant) -> std::io::Result<()> {
        let mut buf = [0u8; 65_536];
        loop {
            match self.socket.recv_from(&mut buf) {
                Ok((n, from)) => self.ep.handle_datagram(now, from, &mut buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        if self.ep.poll_timeout().is_some_and(|t| t <= now) {
            self.ep.handle_timeout(now);
        }
        while let Some(t) = self.ep.poll_transmit(now, &mut buf) {
            self.socket.send_to(&buf[..t.len], t.destination)?;
        }
        while let Some(e) = self.ep.poll_event() {
            println!("[{}] {:?}", self.name, e);
            self.events.push(e);
        }
        Ok(())
    }
}

fn main() -> std::io::Result<()> {
    let start = StdInstant::now();
    let now = || Instant::from_micros(start.elapsed().as_micros() as u64);
    let mut a = Node::new("a", b"node-a-seed-node-a-seed-node-a!!", [1; 32])?;
    let mut b = Node::new("b", b"node-b-seed-node-b-seed-node-b!!", [2; 32])?;
    let b_addr = b.socket.local_addr()?;

    let sa = a.ep.connect(now(), b_addr).expect("connect");
    let mut sb: Option<SessionId> = None;
    let mut got_a = None;
    let mut got_b = None;
    let mut sent = false;
    let deadline = StdInstant::now() + Duration::from_secs(10);
    while StdInstant::now() < deadline {
        a.turn(now())?;
        b.turn(now())?;
        if sb.is_none() {
            sb = b.events.iter().find_map(|e| match e {
                Event::Accepted { session, .. } => Some(*session),
                _ => None,
            });
        }
        if let (Some(sb), false) = (sb, sent) {
            if a.ep.session(sa).is_some_and(|s| s.is_established()) {
                a.ep.session_mut(sa)
                    .unwrap()
                    .send(0, &b"hello from a"[..])
                    .unwrap();
                b.ep.session_mut(sb)
                    .unwrap()
                    .send(0, &b"hello from b"[..])
                    .unwrap();
                sent = true;
            }
        }
        if let Some(sb) = sb {
            if let Some(Ok(Some(m))) = b.ep.session_mut(sb).map(|s| s.recv(0)) {
                println!("[b] received {:?}", String::from_utf8_lossy(&m));
                got_b = Some(m);
            }
        }
        if let Some(Ok(Some(m))) = a.ep.session_mut(sa).map(|s| s.recv(0)) {
            println!("[a] received {:?}", String::from_utf8_lossy(&m));
            got_a = Some(m);
        }
        if got_a.is_some() && got_b.is_some() && a.ep.session(sa).is_some_and(|s| s.is_flushed()) {
            if let Some(s) = a.ep.session_mut(sa) {
                s.close(0, b"done");
            }
        }
        let closed = |n: &Node| n.events.iter().any(|e| matches!(e, Event::Closed { .. }));
        if closed(&a) && closed(&b) {
            println!("exchange complete, close seen by both");
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    eprintln!("exchange did not complete within 10 s");
    std::process::exit(1);
}
