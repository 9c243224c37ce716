//! A blocking adapter: a [`BlockingNode`] owns a `std::net::UdpSocket` and
//! the `stt` endpoint, and every call runs the event loop in the calling
//! thread until its condition holds or its deadline passes.
//!
//! Owns: the loop (waiting on the socket with `ppoll(2)`, or `poll(2)`
//! where there is none, until the core's `poll_timeout`; timers; draining
//! `poll_transmit`) and the blocking API.
//! Datagrams move in batches through `udp_batch.rs` (`quinn-udp`: GSO runs
//! out, GRO and `recvmmsg` in, with one-datagram fallbacks), on a socket
//! that is non-blocking underneath and set to don't-fragment.
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
//! send-queue bound (`StreamLimits::max_send_queue`) unacknowledged: a
//! refused send is tried again only once the core says the stream is
//! `Writable`, and fails if the stream or its session ends meanwhile;
//! [`BlockingNode::flush`] runs it until the peer acknowledged everything.
#![allow(dead_code)]

#[path = "common.rs"]
mod common;
#[path = "udp_batch.rs"]
mod udp_batch;

pub use common::{Core, Error, Expired, PerSession};

use std::io::ErrorKind;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::ops::Range;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{read_ticket_file, write_ticket_file, SendMode};
use stt::{
    CloseReason, Config, Endpoint, NodeId, SessionId, SessionStats, StreamError, StreamId,
    StreamStats,
};
use udp_batch::{Sent, UdpBatch};

/// Receive calls (each up to 8 GRO runs) in one go before timers and
/// transmits get a turn.
const BATCH: usize = 16;
/// Longest wait for room in a full socket buffer before a run counts as
/// lost (on a UDP socket that room comes back within microseconds).
const SEND_WAIT: Duration = Duration::from_millis(100);

/// A node driven by blocking calls.
pub struct BlockingNode {
    socket: UdpSocket,
    core: Core,
    io: UdpBatch,
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
        let config = common::adapter_config(config);
        let socket = UdpSocket::bind(addr)?;
        common::grow_socket_buffers(&socket, common::SOCKET_BUFFER);
        // Non-blocking underneath: the loop waits in `ppoll(2)`, so that one
        // receive call can take whatever is queued and never waits for more.
        socket.set_nonblocking(true)?;
        let io = UdpBatch::new((&socket).into(), config.max_datagram_size())?;
        Ok(BlockingNode {
            socket,
            core: Core::new(Endpoint::new(config, seed)),
            io,
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

    /// Sends everything the core has to send, in GSO runs.
    fn flush_transmits(&mut self) -> Result<(), Error> {
        let now = self.core.clock.now();
        while let Some(run) = self.io.next_run(&mut self.core, now) {
            let start = Instant::now();
            while let Sent::WouldBlock = self.io.try_send((&self.socket).into(), &run) {
                // Full socket buffer: wait for room, then try again (after
                // `SEND_WAIT` in all the run is lost, as on a full link).
                let Some(left) = SEND_WAIT.checked_sub(start.elapsed()) else {
                    break;
                };
                wait::writable(&self.socket, left)?;
            }
        }
        Ok(())
    }

    /// One turn: wait for datagrams until the core's next timer or `until`,
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
        if wait != Some(Duration::ZERO) && wait::readable(&self.socket, wait)? {
            self.drain_socket()?;
        }
        let now = self.core.clock.now();
        if self.core.ep.poll_timeout().is_some_and(|t| t <= now) {
            self.core.ep.handle_timeout(now);
        }
        self.core.absorb_events(|_| {});
        self.flush_transmits()
    }

    /// Reads what the socket already holds, without waiting.
    fn drain_socket(&mut self) -> Result<(), Error> {
        for _ in 0..BATCH {
            match self.io.recv((&self.socket).into(), &mut self.core) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if transient(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
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

    /// [`connect`](Self::connect), with `messages` queued on the session
    /// and, if a ticket for `addr` is held, the leading ones sent as 0-RTT
    /// early data in the first flight; returns once the handshake
    /// completed, with how many went early.
    pub fn connect_with_early(
        &mut self,
        addr: SocketAddr,
        messages: &[(stt::StreamId, bytes::Bytes)],
    ) -> Result<(SessionId, usize), Error> {
        let (s, early) = self.core.connect_with_early(addr, messages)?;
        self.run_until(None, |core| core.poll_connect(s))?;
        Ok((s, early))
    }

    /// True if a session ticket for `addr` is held (the next connect to
    /// it resumes).
    pub fn has_ticket(&self, addr: SocketAddr) -> bool {
        self.core.has_ticket(addr)
    }

    /// The session tickets this node holds, sealed for its identity: for
    /// [`import_tickets`](Self::import_tickets) of a later run with the
    /// same node seed. Bearer secrets: keep them private.
    pub fn export_tickets(&self) -> Vec<u8> {
        self.core.export_tickets()
    }

    /// Takes in the tickets an earlier run exported; how many (expired
    /// ones are skipped). A refused file imports nothing.
    pub fn import_tickets(&mut self, bytes: &[u8]) -> Result<usize, Error> {
        self.core.import_tickets(bytes)
    }

    /// [`export_tickets`](Self::export_tickets) written to `path`, mode
    /// 0600, replacing what was there.
    pub fn save_tickets(&self, path: &std::path::Path) -> Result<(), Error> {
        Ok(write_ticket_file(path, &self.export_tickets())?)
    }

    /// [`import_tickets`](Self::import_tickets) from `path`; 0 if there is
    /// no such file.
    pub fn load_tickets(&mut self, path: &std::path::Path) -> Result<usize, Error> {
        match read_ticket_file(path)? {
            Some(bytes) => self.import_tickets(&bytes),
            None => Ok(0),
        }
    }

    /// True if session `s` was resumed from a ticket.
    pub fn is_resumed(&mut self, s: SessionId) -> Result<bool, Error> {
        self.on(s, |x| Ok(x.is_resumed()))
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

    // ----- datagrams and the path's rate -----

    /// Queues an unreliable datagram (never resent; see
    /// `stt::Session::send_datagram`), dropped unsent if still queued
    /// `life` from now; a `DatagramEvent` reports its fate if `report_fate`.
    pub fn send_datagram(
        &mut self,
        s: SessionId,
        data: impl Into<Bytes>,
        life: Option<Duration>,
        report_fate: bool,
    ) -> Result<stt::DatagramId, Error> {
        let r = self.core.send_datagram(s, data.into(), life, report_fate);
        self.flush_transmits()?;
        r
    }

    /// The next datagram received on `s`, waiting at most `timeout`
    /// ([`Error::Timeout`] then; `None`: as long as it takes).
    pub fn receive_datagram(
        &mut self,
        s: SessionId,
        timeout: Option<Duration>,
    ) -> Result<Bytes, Error> {
        let deadline = timeout.map(|t| Instant::now() + t);
        self.run_until(deadline, |core| core.poll_receive_datagram(s))
    }

    /// The next fate of a datagram sent on `s` with `report_fate`
    /// (acknowledged, lost, expired or dropped), waiting at most `timeout`
    /// ([`Error::Timeout`] then; `None`: as long as it takes).
    pub fn datagram_fate(
        &mut self,
        s: SessionId,
        timeout: Option<Duration>,
    ) -> Result<stt::DatagramEvent, Error> {
        let deadline = timeout.map(|t| Instant::now() + t);
        self.run_until(deadline, |core| core.poll_datagram_fate(s))
    }

    /// The largest datagram payload `s` takes now (it follows the path's
    /// datagram size); `None` if the peer accepts no datagrams.
    pub fn max_datagram_payload(&mut self, s: SessionId) -> Result<Option<usize>, Error> {
        self.on(s, |x| Ok(x.max_datagram_payload()))
    }

    /// What the path of `s` delivers, bytes per second, and its smoothed
    /// RTT: what a source picking its own bitrate follows.
    pub fn rate(&mut self, s: SessionId) -> Result<(u64, Duration), Error> {
        self.on(s, |x| Ok((x.delivery_rate(), x.rtt())))
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

    /// Queues one message worth nothing `life` from now: it is resent
    /// only while it can still arrive by then, and abandoned after (see
    /// `stt::Session::send_with` and [`expired`](Self::expired)).
    pub fn send_within(
        &mut self,
        s: SessionId,
        id: StreamId,
        data: impl Into<Bytes>,
        life: Duration,
    ) -> Result<u64, Error> {
        let at = self.core.clock.now() + life;
        Ok(self
            .send_mode(s, id, data.into(), SendMode::OneBy(at))?
            .start)
    }

    /// The messages of `s` abandoned for their deadline since the last
    /// call (`stt::StreamEvent::MessageExpired`), oldest first.
    pub fn expired(&mut self, s: SessionId) -> Vec<Expired> {
        self.core.absorb_events(|_| {});
        self.core.take_expired(s)
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

/// Waiting for the non-blocking socket: `ppoll(2)` or `poll(2)` where there
/// is one.
mod wait {
    use std::net::UdpSocket;
    use std::time::Duration;

    /// Waits at most `timeout` (`None`: as long as it takes) until the
    /// socket has something to read; whether it has.
    pub fn readable(socket: &UdpSocket, timeout: Option<Duration>) -> std::io::Result<bool> {
        imp::wait(socket, true, timeout)
    }

    /// Waits at most `timeout` until the socket has room to send.
    pub fn writable(socket: &UdpSocket, timeout: Duration) -> std::io::Result<bool> {
        imp::wait(socket, false, Some(timeout))
    }

    #[cfg(unix)]
    mod imp {
        use std::os::fd::AsRawFd;

        pub fn wait(
            socket: &std::net::UdpSocket,
            read: bool,
            timeout: Option<std::time::Duration>,
        ) -> std::io::Result<bool> {
            let events = if read { libc::POLLIN } else { libc::POLLOUT };
            let mut fd = libc::pollfd {
                fd: socket.as_raw_fd(),
                events,
                revents: 0,
            };
            let n = poll_one(&mut fd, timeout);
            if n < 0 {
                let e = std::io::Error::last_os_error();
                return match e.kind() {
                    std::io::ErrorKind::Interrupted => Ok(false),
                    _ => Err(e),
                };
            }
            // An error condition (POLLERR) counts as readable: the receive
            // call then reports it.
            Ok(n > 0)
        }

        /// `ppoll(2)`, to the microsecond: with `poll(2)`'s whole
        /// milliseconds a pacing wake-up due in 300 us waited a whole
        /// millisecond, the sender idle for the rest of it.
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
        fn poll_one(fd: &mut libc::pollfd, timeout: Option<std::time::Duration>) -> libc::c_int {
            let ts = timeout.map(|t| libc::timespec {
                tv_sec: libc::time_t::try_from(t.as_secs()).unwrap_or(libc::time_t::MAX),
                // Below 10^9: fits a 32-bit `c_long` too.
                tv_nsec: t.subsec_nanos() as libc::c_long,
            });
            let ts = ts.as_ref().map_or(std::ptr::null(), std::ptr::from_ref);
            // SAFETY: one valid pollfd, its count, a timeout that outlives
            // the call (or null: no timeout), no signal mask.
            unsafe { libc::ppoll(fd, 1, ts, std::ptr::null()) }
        }

        /// `poll(2)` elsewhere: whole milliseconds, rounded up, so that a
        /// timer due in 300 us does not turn into a busy loop of
        /// zero-length waits.
        #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
        fn poll_one(fd: &mut libc::pollfd, timeout: Option<std::time::Duration>) -> libc::c_int {
            let ms = timeout.map_or(-1, |t| {
                let ms = t.as_micros().div_ceil(1000);
                libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX)
            });
            // SAFETY: one valid pollfd, its count, a timeout.
            unsafe { libc::poll(fd, 1, ms) }
        }
    }

    #[cfg(not(unix))]
    mod imp {
        /// Without `poll(2)`: a blocking peek with a read timeout (or a
        /// short sleep to wait for room), then back to non-blocking.
        pub fn wait(
            socket: &std::net::UdpSocket,
            read: bool,
            timeout: Option<std::time::Duration>,
        ) -> std::io::Result<bool> {
            if !read {
                std::thread::sleep(
                    timeout
                        .unwrap_or_default()
                        .min(std::time::Duration::from_millis(1)),
                );
                return Ok(true);
            }
            socket.set_nonblocking(false)?;
            socket.set_read_timeout(timeout.filter(|t| !t.is_zero()))?;
            let mut b = [0u8; 1];
            let r = socket.peek_from(&mut b);
            socket.set_nonblocking(true)?;
            match r {
                Ok(_) => Ok(true),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    Ok(false)
                }
                Err(_) => Ok(true),
            }
        }
    }
}
