//! A blocking adapter: a [`BlockingNode`] owns a `std::net::UdpSocket` and
//! the `stt` endpoint, and every call runs the event loop in the calling
//! thread until its condition holds or its deadline passes.
//!
//! Owns: the loop (socket reads with `set_read_timeout` from the core's
//! `poll_timeout`, timers, draining `poll_transmit`) and the blocking API.
//! Never: spawns a thread, or does protocol work: the core decides.
//!
//! Nothing happens between calls: while the application is not inside a
//! call, datagrams wait in the socket and acknowledgements are not sent. A
//! node that only serves should sit in [`BlockingNode::run_for`] or a
//! receive call. Sessions and streams are named by id, as in the chapter's
//! `node.create_stream(session_id, stream_id)`.
//!
//! `send`, `send_all` and `send_all_with` return once the data is queued in
//! the core, running the loop first while the stream holds more than its
//! send-queue bound (`StreamLimits::max_send_queue`) unacknowledged;
//! [`BlockingNode::flush`] runs it until the peer acknowledged everything.
#![allow(dead_code)]

#[path = "common.rs"]
mod common;

pub use common::{Core, Error, PerSession};

use std::io::ErrorKind;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::ops::Range;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::SendMode;
use stt::{
    CloseReason, Config, Endpoint, NodeId, SessionId, SessionStats, StreamError, StreamId,
    StreamStats,
};

/// Receive buffer: the largest UDP payload fits.
const RECV_BUF: usize = 64 * 1024;
/// Datagrams read in one go before timers and transmits get a turn.
const BATCH: usize = 64;

/// A node driven by blocking calls.
pub struct BlockingNode {
    socket: UdpSocket,
    core: Core,
    buf: Vec<u8>,
    out: Vec<u8>,
}

impl std::fmt::Debug for BlockingNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingNode")
            .field("socket", &self.socket)
            .field("endpoint", &self.core.ep)
            .finish()
    }
}

impl BlockingNode {
    /// Binds a UDP socket at `addr`. The endpoint's seed comes from the OS.
    pub fn bind(addr: impl ToSocketAddrs, config: Config) -> Result<Self, Error> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| Error::Io(e.into()))?;
        Self::bind_with_seed(addr, config, seed)
    }

    /// [`bind`](Self::bind) with the endpoint's seed given (tests only).
    pub fn bind_with_seed(
        addr: impl ToSocketAddrs,
        config: Config,
        seed: [u8; 32],
    ) -> Result<Self, Error> {
        let socket = UdpSocket::bind(addr)?;
        Ok(BlockingNode {
            socket,
            core: Core::new(Endpoint::new(config, seed)),
            buf: vec![0; RECV_BUF],
            out: vec![0; RECV_BUF],
        })
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        Ok(self.socket.local_addr()?)
    }

    /// This node's identity.
    pub fn node_id(&self) -> NodeId {
        self.core.ep.node_id()
    }

    /// The endpoint, for anything this adapter does not wrap.
    pub fn endpoint(&mut self) -> &mut Endpoint {
        &mut self.core.ep
    }

    // ----- the loop -----

    /// Sends everything the core has to send.
    fn flush_transmits(&mut self) -> Result<(), Error> {
        let now = self.core.clock.now();
        while let Some(t) = self.core.ep.poll_transmit(now, &mut self.out) {
            let Some(d) = self.out.get(..t.len) else {
                continue;
            };
            if let Err(e) = self.socket.send_to(d, t.destination) {
                if !transient(&e) {
                    return Err(e.into());
                }
            }
        }
        Ok(())
    }

    /// One turn: wait for a datagram until the core's next timer or `until`,
    /// take in what arrived, run due timers, send what is due.
    fn turn(&mut self, until: Option<Instant>) -> Result<(), Error> {
        self.flush_transmits()?;
        let timer = self
            .core
            .ep
            .poll_timeout()
            .map(|t| self.core.clock.std_instant(t));
        let wake = match (timer, until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let wait = wake.map(|w| w.saturating_duration_since(Instant::now()));
        if wait != Some(Duration::ZERO) {
            self.socket.set_read_timeout(wait)?;
            match self.socket.recv_from(&mut self.buf) {
                Ok((n, from)) => {
                    self.take_in(n, from);
                    self.drain_socket()?;
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if transient(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let now = self.core.clock.now();
        if self.core.ep.poll_timeout().is_some_and(|t| t <= now) {
            self.core.ep.handle_timeout(now);
        }
        self.core.absorb_events(|_| {});
        self.flush_transmits()
    }

    fn take_in(&mut self, n: usize, from: SocketAddr) {
        let now = self.core.clock.now();
        if let Some(d) = self.buf.get_mut(..n) {
            self.core.ep.handle_datagram(now, from, d);
        }
    }

    /// Reads what else the socket already holds, without waiting.
    fn drain_socket(&mut self) -> Result<(), Error> {
        self.socket.set_nonblocking(true)?;
        for _ in 1..BATCH {
            match self.socket.recv_from(&mut self.buf) {
                Ok((n, from)) => self.take_in(n, from),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if transient(&e) => {}
                Err(e) => {
                    self.socket.set_nonblocking(false)?;
                    return Err(e.into());
                }
            }
        }
        self.socket.set_nonblocking(false)?;
        Ok(())
    }

    /// Runs the loop until `f` is ready or `deadline` passes
    /// ([`Error::Timeout`]; no deadline: until `f` is ready).
    pub fn run_until<R>(
        &mut self,
        deadline: Option<Instant>,
        mut f: impl FnMut(&mut Core) -> Poll<Result<R, Error>>,
    ) -> Result<R, Error> {
        loop {
            self.core.absorb_events(|_| {});
            if let Poll::Ready(r) = f(&mut self.core) {
                // Whatever `f` queued goes out now.
                self.flush_transmits()?;
                return r;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(Error::Timeout);
            }
            self.turn(deadline)?;
        }
    }

    /// Serves traffic for `d` (answers, acknowledgements, timers).
    pub fn run_for(&mut self, d: Duration) -> Result<(), Error> {
        match self.run_until(Some(Instant::now() + d), |_| Poll::Pending::<Result<(), _>>) {
            Err(Error::Timeout) => Ok(()),
            other => other,
        }
    }

    fn on<R>(
        &mut self,
        s: SessionId,
        f: impl FnOnce(&mut stt::Session) -> Result<R, StreamError>,
    ) -> Result<R, Error> {
        let r = self.core.with_session(s, f);
        self.flush_transmits()?;
        r
    }

    // ----- sessions -----

    /// Opens a session with `addr`; returns once the handshake completed
    /// ([`Error::ConnectFailed`] after the handshake timeout if the peer is
    /// silent or holds another shared seed).
    pub fn connect(&mut self, addr: SocketAddr) -> Result<SessionId, Error> {
        let s = self.core.connect(addr)?;
        self.run_until(None, |core| core.poll_connect(s))?;
        Ok(s)
    }

    /// Waits for the next session a peer opens.
    pub fn accept(&mut self) -> Result<SessionId, Error> {
        self.run_until(None, |core| core.poll_accept().map(Ok))
    }

    /// [`accept`](Self::accept) waiting at most `timeout`.
    pub fn accept_timeout(&mut self, timeout: Duration) -> Result<SessionId, Error> {
        self.run_until(Some(Instant::now() + timeout), |core| {
            core.poll_accept().map(Ok)
        })
    }

    /// The next stream the peer opened on `s`, waiting at most `timeout`.
    pub fn accept_stream_timeout(
        &mut self,
        s: SessionId,
        timeout: Duration,
    ) -> Result<StreamId, Error> {
        self.run_until(Some(Instant::now() + timeout), |core| {
            core.poll_accept_stream(s)
        })
    }

    /// Session statistics.
    pub fn session_stats(&mut self, s: SessionId) -> Result<SessionStats, Error> {
        self.on(s, |x| Ok(x.stats()))
    }

    /// Sends `data` as one message on stream 0 of each session in `ids`.
    pub fn send_to_sessions(
        &mut self,
        ids: &[SessionId],
        data: impl Into<Bytes>,
    ) -> Result<PerSession, Error> {
        let r = self.core.ep.send_to_sessions(ids, data);
        self.flush_transmits()?;
        Ok(r)
    }

    /// Closes session `s` with an application `code` and `reason`; the CLOSE
    /// frame is sent before this returns. Unsent data is dropped.
    pub fn close(&mut self, s: SessionId, code: u64, reason: &[u8]) -> Result<(), Error> {
        self.on(s, |x| {
            x.close(code, reason);
            Ok(())
        })
    }

    /// Waits at most `timeout` for session `s` to end; why, if known.
    pub fn closed_timeout(
        &mut self,
        s: SessionId,
        timeout: Duration,
    ) -> Result<Option<CloseReason>, Error> {
        self.run_until(Some(Instant::now() + timeout), |core| {
            core.poll_closed(s).map(Ok)
        })
    }

    /// Closes every session (code 0) and sends the CLOSE frames.
    pub fn shutdown(mut self) -> Result<(), Error> {
        self.core.ep.close_all(0, b"shutdown");
        self.flush_transmits()
    }

    // ----- streams -----

    /// Creates stream `id` on `s` (stream 0 always exists).
    pub fn create_stream(&mut self, s: SessionId, id: StreamId) -> Result<(), Error> {
        self.on(s, |x| x.create_stream(id))
    }

    /// Stream `id`, created if it does not exist yet.
    pub fn open_stream(&mut self, s: SessionId, id: StreamId) -> Result<(), Error> {
        self.on(s, |x| x.open_stream(id))
    }

    /// True if stream `id` of `s` is open (the chapter's `get_stream`).
    pub fn has_stream(&mut self, s: SessionId, id: StreamId) -> bool {
        self.core
            .ep
            .session(s)
            .is_some_and(|x| x.stream(id).is_some())
    }

    /// Ids of the open streams of `s`, ascending.
    pub fn streams(&mut self, s: SessionId) -> Result<Vec<StreamId>, Error> {
        self.on(s, |x| Ok(x.stream_ids()))
    }

    /// Closes stream `id` gracefully.
    pub fn close_stream(&mut self, s: SessionId, id: StreamId) -> Result<(), Error> {
        self.on(s, |x| x.close_stream(id))
    }

    /// Closes every open stream of `s`.
    pub fn close_all_streams(&mut self, s: SessionId) -> Result<(), Error> {
        self.on(s, |x| {
            x.close_all_streams();
            Ok(())
        })
    }

    /// Sets a stream's priority, 0..=1000.
    pub fn set_priority(&mut self, s: SessionId, id: StreamId, p: u16) -> Result<(), Error> {
        self.on(s, |x| x.set_priority(id, p))
    }

    /// A stream's statistics.
    pub fn stream_stats(&mut self, s: SessionId, id: StreamId) -> Result<StreamStats, Error> {
        self.on(s, |x| x.stream_stats(id).ok_or(StreamError::NotFound(id)))
    }

    fn send_mode(
        &mut self,
        s: SessionId,
        id: StreamId,
        data: Bytes,
        mode: SendMode,
    ) -> Result<Range<u64>, Error> {
        self.run_until(None, |core| core.poll_send(s, id, &data, mode))
    }

    /// Queues one message; its sequence number (see the module docs).
    pub fn send(
        &mut self,
        s: SessionId,
        id: StreamId,
        data: impl Into<Bytes>,
    ) -> Result<u64, Error> {
        Ok(self.send_mode(s, id, data.into(), SendMode::One)?.start)
    }

    /// Queues bulk data cut into messages of the configured segment size.
    pub fn send_all(
        &mut self,
        s: SessionId,
        id: StreamId,
        data: impl Into<Bytes>,
    ) -> Result<Range<u64>, Error> {
        self.send_mode(s, id, data.into(), SendMode::All)
    }

    /// [`send_all`](Self::send_all) with messages of `segment` bytes.
    pub fn send_all_with(
        &mut self,
        s: SessionId,
        id: StreamId,
        data: impl Into<Bytes>,
        segment: usize,
    ) -> Result<Range<u64>, Error> {
        self.send_mode(s, id, data.into(), SendMode::AllWith(segment))
    }

    /// Runs the loop until the peer acknowledged everything queued on the
    /// stream so far, or `timeout` passes.
    pub fn flush(&mut self, s: SessionId, id: StreamId, timeout: Duration) -> Result<(), Error> {
        let mut target = None;
        self.run_until(Some(Instant::now() + timeout), |core| {
            core.poll_flush(s, id, &mut target)
        })
    }

    /// Runs the loop until everything queued on every stream of `s` is
    /// acknowledged, or `timeout` passes.
    pub fn flush_session(&mut self, s: SessionId, timeout: Duration) -> Result<(), Error> {
        self.run_until(Some(Instant::now() + timeout), |core| {
            core.poll_session_flushed(s)
        })
    }

    /// The next message on the stream, waiting as long as it takes;
    /// `Ok(None)` once the peer ended it and everything was read.
    pub fn receive(&mut self, s: SessionId, id: StreamId) -> Result<Option<Bytes>, Error> {
        self.run_until(None, |core| core.poll_receive(s, id))
    }

    /// [`receive`](Self::receive) waiting at most `timeout`
    /// ([`Error::Timeout`] then).
    pub fn receive_timeout(
        &mut self,
        s: SessionId,
        id: StreamId,
        timeout: Duration,
    ) -> Result<Option<Bytes>, Error> {
        self.run_until(Some(Instant::now() + timeout), |core| {
            core.poll_receive(s, id)
        })
    }
}

/// Errors a UDP socket reports for one datagram (ICMP unreachable and the
/// like), after which it works on: the protocol's timers handle the peer.
fn transient(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionRefused
            | ErrorKind::ConnectionReset
            | ErrorKind::Interrupted
            | ErrorKind::HostUnreachable
            | ErrorKind::NetworkUnreachable
    )
}
