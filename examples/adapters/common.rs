//! What both example adapters share: the error type, the clock, and the
//! bookkeeping of core events that their waiting calls look at.
//!
//! Owns: `Error`, `Clock` (std time <-> `stt::Instant`), and `Core` (the
//! endpoint plus what its events said: finished handshakes, accepted
//! sessions, streams the peer opened, fates of followed datagrams, why
//! sessions closed).
//! Never: touches a socket, sleeps, or decides anything about the protocol:
//! each `poll_*` call is one attempt at an application call on the core,
//! answering `Pending` when the caller should wait for more input.
//!
//! A send the core refused (`WouldBlock`) is not tried again until the
//! core's `StreamEvent::Writable` for its stream, or until the stream or its
//! session can no longer send (then the retry answers the error): a
//! writer waiting on a full stream costs a set lookup per wake-up.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::ops::Range;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use stt::{
    CloseReason, ConnectError, DatagramError, DatagramEvent, DatagramId, DatagramOptions, Endpoint,
    Event, SessionId, StreamError, StreamEvent, StreamId,
};

/// Length of the queue of sessions not yet taken by `accept` at which the
/// ones already gone are pruned.
const ACCEPT_QUEUE_PRUNE: usize = 1024;
/// Closed sessions whose reason is remembered (oldest forgotten first).
const CLOSED_REMEMBERED: usize = 4096;
/// Datagram fate reports kept per session until read (oldest dropped
/// first), as many as the core itself keeps unread.
const FATES_KEPT: usize = 4096;

/// Everything an adapter call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The UDP socket failed (bind, or an unrecoverable send/receive error).
    #[error("socket error: {0}")]
    Io(#[from] std::io::Error),
    /// A stream call the core refused.
    #[error(transparent)]
    Stream(#[from] StreamError),
    /// A datagram call the core refused (too large, peer does not accept
    /// datagrams, session not established).
    #[error(transparent)]
    Datagram(#[from] DatagramError),
    /// `connect` could not even start a handshake.
    #[error("cannot connect: {0}")]
    Connect(#[from] ConnectError),
    /// The handshake started by `connect` failed.
    #[error("handshake failed: {0}")]
    ConnectFailed(CloseReason),
    /// The session is closing or closed, for this reason.
    #[error("session closed: {0}")]
    SessionClosed(CloseReason),
    /// A `*_timeout` call reached its deadline first.
    #[error("timed out")]
    Timeout,
    /// The node was shut down (or its event loop stopped).
    #[error("the node has shut down")]
    NodeGone,
    /// A ticket file the core refused (cut short, altered, another
    /// node's, not a ticket file).
    #[error("ticket file refused: {0}")]
    Tickets(#[from] stt::TicketImportError),
}

/// Wall-clock time as time since the UNIX epoch, as the core's ticket
/// export and import want it (a clock before 1970 reads as the epoch).
pub fn wall_clock() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

/// Most bytes a ticket file is read to (a longer one is refused as too
/// large by the core without reading the rest).
const TICKET_FILE_READ_LIMIT: u64 = 1 << 20;

/// Writes a ticket file (bearer secrets: docs/SECURITY.md "Ticket
/// files") readable and writable by its owner alone (mode 0600 on Unix),
/// replacing any file there in one step (written beside it, then renamed).
pub fn write_ticket_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    // A name of this process and call alone: two writers never share one.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.{n}.tmp", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

/// Reads a ticket file: `None` if there is none (a first run).
pub fn read_ticket_file(path: &std::path::Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    match std::fs::File::open(path) {
        Ok(f) => {
            let mut bytes = Vec::new();
            f.take(TICKET_FILE_READ_LIMIT).read_to_end(&mut bytes)?;
            Ok(Some(bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Converts between the process clock and the core's microsecond instants,
/// from one fixed epoch.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    epoch: std::time::Instant,
}

impl Clock {
    /// A clock whose epoch is now.
    pub fn new() -> Self {
        Clock {
            epoch: std::time::Instant::now(),
        }
    }

    /// The current time as the core sees it.
    pub fn now(&self) -> stt::Instant {
        self.core_instant(std::time::Instant::now())
    }

    /// A std instant as the core sees it (instants before the epoch are 0).
    pub fn core_instant(self, t: std::time::Instant) -> stt::Instant {
        let us = t.saturating_duration_since(self.epoch).as_micros();
        stt::Instant::from_micros(u64::try_from(us).unwrap_or(u64::MAX))
    }

    /// A core instant on the process clock ("never" becomes a day away).
    pub fn std_instant(self, t: stt::Instant) -> std::time::Instant {
        let day = Duration::from_secs(86_400);
        let later = Duration::from_micros(t.as_micros());
        self.epoch
            .checked_add(later)
            .unwrap_or_else(|| std::time::Instant::now() + day)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

/// How late the adapters' timers may fire: tokio's timer wheel and
/// `poll(2)` both count whole milliseconds.
pub const TIMER_GRANULARITY: Duration = Duration::from_millis(1);

/// `config` for an adapter: unless the application chose a pacing
/// granularity, the pacer learns the adapter's timer is coarse, so that it
/// lets out bursts the timer can keep up with (with 10-datagram bursts and
/// a 1 ms timer, every burst waited for the next acknowledgement instead:
/// see docs/ADAPTERS.md).
pub fn adapter_config(config: stt::Config) -> stt::Config {
    if !config.recovery().pacing_granularity.is_zero() {
        return config;
    }
    let mut recovery = config.recovery().clone();
    recovery.pacing_granularity = TIMER_GRANULARITY;
    // A coarser granularity keeps a valid configuration valid; should the
    // builder ever refuse it, the application's own choice stands.
    config
        .to_builder()
        .recovery(recovery)
        .build()
        .unwrap_or(config)
}

/// Socket buffer the adapters ask for, each way. The kernel's default (about
/// 208 KiB on Linux) holds 140 datagrams: a receiver that is a moment late
/// (another process, another thread) drops the rest of a burst, and each
/// drop halves the sender's window. The kernel caps the request at
/// `net.core.rmem_max` / `wmem_max`.
pub const SOCKET_BUFFER: usize = 4 << 20;

/// Asks for socket buffers of `bytes` each way; best effort (a smaller
/// buffer only costs throughput).
#[cfg(unix)]
pub fn grow_socket_buffers(socket: &impl std::os::fd::AsRawFd, bytes: usize) {
    let value = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    for option in [libc::SO_RCVBUF, libc::SO_SNDBUF] {
        // SAFETY: a valid socket, an int option and its size.
        unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                option,
                std::ptr::from_ref(&value).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
}

/// Elsewhere the OS's default buffers are kept.
#[cfg(not(unix))]
pub fn grow_socket_buffers<S>(_socket: &S, _bytes: usize) {}

/// Each session's own answer to `send_to_sessions`: a sequence number, or
/// why that session refused.
pub type PerSession = Vec<(SessionId, Result<u64, StreamError>)>;

/// How `poll_send` queues its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendMode {
    /// One message.
    One,
    /// Cut into messages of the configured segment size.
    All,
    /// Cut into messages of this many bytes.
    AllWith(usize),
    /// One message with a deadline (see `stt::SendOptions`).
    OneBy(stt::Instant),
}

/// Messages abandoned per session that no caller took yet, at most this
/// many (the oldest go first).
const EXPIRED_REMEMBERED: usize = 1024;

/// A message the core abandoned because of its deadline
/// (`stt::StreamEvent::MessageExpired`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expired {
    /// The stream.
    pub stream: StreamId,
    /// The message's sequence number.
    pub seq: u64,
    /// Some of it had been sent.
    pub sent: bool,
}

/// The endpoint and what its events told the adapter.
pub struct Core {
    /// The sans-IO core itself.
    pub ep: Endpoint,
    /// The adapter's clock.
    pub clock: Clock,
    /// Outcome of handshakes this side started, until `connect` reads it.
    connects: HashMap<SessionId, Result<(), CloseReason>>,
    /// Sessions peers opened, until `accept` takes them.
    accepted: VecDeque<SessionId>,
    /// Why recent sessions ended.
    closed: HashMap<SessionId, CloseReason>,
    closed_order: VecDeque<SessionId>,
    /// Streams a peer opened, per session, until `accept_stream` takes them.
    opened: HashMap<SessionId, VecDeque<StreamId>>,
    /// Messages taken out of the core for a receiver that went away before
    /// reading them; the next receive on that stream gets them first.
    unclaimed: HashMap<(SessionId, StreamId), VecDeque<Bytes>>,
    /// Streams that refused a send and have not said `Writable` since.
    blocked: HashSet<(SessionId, StreamId)>,
    /// Fates of followed datagrams (acknowledged, lost, expired, dropped),
    /// per session, until `datagram_fate` takes them.
    fates: HashMap<SessionId, VecDeque<DatagramEvent>>,
    /// Messages abandoned for their deadline, per session, until
    /// `take_expired` reads them.
    expired: HashMap<SessionId, VecDeque<Expired>>,
}

impl Core {
    /// Wraps an endpoint.
    pub fn new(ep: Endpoint) -> Self {
        Core {
            ep,
            clock: Clock::new(),
            connects: HashMap::new(),
            accepted: VecDeque::new(),
            closed: HashMap::new(),
            closed_order: VecDeque::new(),
            opened: HashMap::new(),
            unclaimed: HashMap::new(),
            blocked: HashSet::new(),
            fates: HashMap::new(),
            expired: HashMap::new(),
        }
    }

    /// The messages of `s` abandoned for their deadline since the last
    /// call, oldest first.
    pub fn take_expired(&mut self, s: SessionId) -> Vec<Expired> {
        self.expired.remove(&s).map(Vec::from).unwrap_or_default()
    }

    /// Drains the core's events into the bookkeeping, showing each to `seen`.
    pub fn absorb_events(&mut self, mut seen: impl FnMut(&Event)) {
        while let Some(e) = self.ep.poll_event() {
            seen(&e);
            match e {
                Event::Connected { session, .. } => {
                    self.connects.insert(session, Ok(()));
                }
                Event::Accepted { session, .. } => {
                    if self.accepted.len() >= ACCEPT_QUEUE_PRUNE {
                        // Nobody is accepting: forget sessions already gone.
                        let ep = &self.ep;
                        self.accepted.retain(|&s| ep.session(s).is_some());
                    }
                    self.accepted.push_back(session);
                }
                Event::ConnectFailed { session, reason } => {
                    self.connects.insert(session, Err(reason.clone()));
                    self.remember_closed(session, reason);
                }
                Event::Closed { session, reason } => {
                    // An outcome nobody read any more. (An accepted session
                    // that closed at once is still handed out by `accept`,
                    // whose caller then sees why it closed.)
                    self.connects.remove(&session);
                    self.remember_closed(session, reason);
                }
                Event::Stream {
                    session,
                    event: StreamEvent::Opened(id),
                } => self.opened.entry(session).or_default().push_back(id),
                // Ready to take more, or gone for good: either way the next
                // send answers for itself.
                Event::Stream {
                    session,
                    event:
                        StreamEvent::Writable(id)
                        | StreamEvent::Reset(id, _)
                        | StreamEvent::Finished(id),
                } => {
                    self.blocked.remove(&(session, id));
                }
                // `Readable` is read by polling the datagram queue itself.
                Event::Datagram {
                    event: DatagramEvent::Readable,
                    ..
                } => {}
                Event::Datagram { session, event } => {
                    let q = self.fates.entry(session).or_default();
                    if q.len() >= FATES_KEPT {
                        q.pop_front();
                    }
                    q.push_back(event);
                }
                Event::Stream {
                    session,
                    event:
                        StreamEvent::MessageExpired {
                            stream, seq, sent, ..
                        },
                } => {
                    let q = self.expired.entry(session).or_default();
                    if q.len() == EXPIRED_REMEMBERED {
                        q.pop_front();
                    }
                    q.push_back(Expired { stream, seq, sent });
                }
                // Stream events are read by each stream's caller, and
                // events of a later version have nothing to track here.
                _ => {}
            }
        }
    }

    fn remember_closed(&mut self, s: SessionId, reason: CloseReason) {
        self.opened.remove(&s);
        self.fates.remove(&s);
        self.expired.remove(&s);
        self.unclaimed.retain(|(sid, _), _| *sid != s);
        self.blocked.retain(|(sid, _)| *sid != s);
        if self.closed.insert(s, reason).is_none() {
            self.closed_order.push_back(s);
        }
        while self.closed_order.len() > CLOSED_REMEMBERED {
            if let Some(old) = self.closed_order.pop_front() {
                self.closed.remove(&old);
            }
        }
    }

    /// The error for a call on session `s` that is closed or unknown.
    pub fn session_error(&self, s: SessionId) -> Error {
        match self.closed.get(&s) {
            Some(r) => Error::SessionClosed(r.clone()),
            None => Error::Stream(StreamError::SessionClosed),
        }
    }

    fn stream_error(&self, s: SessionId, e: StreamError) -> Error {
        match e {
            StreamError::SessionClosed => self.session_error(s),
            e => Error::Stream(e),
        }
    }

    /// Why session `s` ended, if it did (and is remembered).
    pub fn close_reason(&self, s: SessionId) -> Option<&CloseReason> {
        self.closed.get(&s)
    }

    /// Runs `f` on session `s` now (an immediate call: create, close, stats...).
    pub fn with_session<R>(
        &mut self,
        s: SessionId,
        f: impl FnOnce(&mut stt::Session) -> Result<R, StreamError>,
    ) -> Result<R, Error> {
        let Some(session) = self.ep.session_mut(s) else {
            return Err(self.session_error(s));
        };
        f(session).map_err(|e| self.stream_error(s, e))
    }

    /// Starts a handshake with `addr`.
    pub fn connect(&mut self, addr: std::net::SocketAddr) -> Result<SessionId, Error> {
        let now = self.clock.now();
        Ok(self.ep.connect(now, addr)?)
    }

    /// Starts a handshake with `addr`, queueing `messages` on the new
    /// session; with a session ticket for `addr` the leading ones travel
    /// in the first flight as 0-RTT early data (see
    /// `Endpoint::connect_with_early`). Returns the session and how many
    /// went early.
    pub fn connect_with_early(
        &mut self,
        addr: std::net::SocketAddr,
        messages: &[(stt::StreamId, bytes::Bytes)],
    ) -> Result<(SessionId, usize), Error> {
        let now = self.clock.now();
        let c = self.ep.connect_with_early(now, addr, messages)?;
        Ok((c.session, c.early))
    }

    /// True if a session ticket for `addr` is held: the next connect to
    /// it resumes (a cheaper handshake, and 0-RTT if asked for).
    pub fn has_ticket(&self, addr: std::net::SocketAddr) -> bool {
        self.ep.has_ticket(addr, self.clock.now())
    }

    /// The session tickets held, sealed for this node
    /// (`Endpoint::export_tickets`).
    pub fn export_tickets(&self) -> Vec<u8> {
        self.ep.export_tickets(self.clock.now(), wall_clock())
    }

    /// Takes in tickets from `export_tickets` of an earlier run with the
    /// same node seed; how many were imported.
    pub fn import_tickets(&mut self, bytes: &[u8]) -> Result<usize, Error> {
        let now = self.clock.now();
        Ok(self.ep.import_tickets(now, wall_clock(), bytes)?)
    }

    /// Ready once the handshake of `s` finished, either way.
    pub fn poll_connect(&mut self, s: SessionId) -> Poll<Result<(), Error>> {
        match self.connects.remove(&s) {
            Some(Ok(())) => Poll::Ready(Ok(())),
            Some(Err(reason)) => Poll::Ready(Err(Error::ConnectFailed(reason))),
            None if self.ep.session(s).is_none() => Poll::Ready(Err(self.session_error(s))),
            None => Poll::Pending,
        }
    }

    /// The next session a peer opened that is still alive.
    pub fn poll_accept(&mut self) -> Poll<SessionId> {
        while let Some(s) = self.accepted.pop_front() {
            if self.ep.session(s).is_some() {
                return Poll::Ready(s);
            }
        }
        Poll::Pending
    }

    /// The next stream the peer opened on `s`.
    pub fn poll_accept_stream(&mut self, s: SessionId) -> Poll<Result<StreamId, Error>> {
        if let Some(id) = self.opened.get_mut(&s).and_then(|q| q.pop_front()) {
            return Poll::Ready(Ok(id));
        }
        match self.ep.session(s) {
            Some(session) if !session.is_closed() => Poll::Pending,
            _ => Poll::Ready(Err(self.session_error(s))),
        }
    }

    /// Ready with why `s` ended, once it did (`None` if that is forgotten).
    pub fn poll_closed(&mut self, s: SessionId) -> Poll<Option<CloseReason>> {
        let open = self.ep.session(s).is_some_and(|x| !x.is_closed());
        if open {
            Poll::Pending
        } else {
            Poll::Ready(self.closed.get(&s).cloned())
        }
    }

    /// Queues an unreliable datagram on `s`: dropped unsent if still queued
    /// `life` from now (`None`: no deadline); its fate is reported as a
    /// `DatagramEvent` if `report_fate`.
    pub fn send_datagram(
        &mut self,
        s: SessionId,
        data: Bytes,
        life: Option<Duration>,
        report_fate: bool,
    ) -> Result<DatagramId, Error> {
        let mut opts = DatagramOptions::new().report_fate(report_fate);
        if let Some(life) = life {
            opts = opts.deadline(self.clock.now() + life);
        }
        let Some(session) = self.ep.session_mut(s) else {
            return Err(self.session_error(s));
        };
        match session.send_datagram_with(data, opts) {
            Ok(id) => Ok(id),
            Err(DatagramError::SessionClosed) => Err(self.session_error(s)),
            Err(e) => Err(Error::Datagram(e)),
        }
    }

    /// The next datagram received on `s`; `Pending` while none waits. (A
    /// datagram handed to a receiver that went away is gone: datagrams are
    /// unreliable.)
    pub fn poll_receive_datagram(&mut self, s: SessionId) -> Poll<Result<Bytes, Error>> {
        let Some(session) = self.ep.session_mut(s) else {
            return Poll::Ready(Err(self.session_error(s)));
        };
        match session.recv_datagram() {
            Some(b) => Poll::Ready(Ok(b)),
            None if session.is_closed() => Poll::Ready(Err(self.session_error(s))),
            None => Poll::Pending,
        }
    }

    /// The next fate report of a datagram sent on `s` with `report_fate`
    /// (acknowledged, lost, expired or dropped), oldest first; `Pending`
    /// while none waits. Reports not yet read when the session ends are
    /// gone with it.
    pub fn poll_datagram_fate(&mut self, s: SessionId) -> Poll<Result<DatagramEvent, Error>> {
        if let Some(e) = self.fates.get_mut(&s).and_then(|q| q.pop_front()) {
            return Poll::Ready(Ok(e));
        }
        match self.ep.session(s) {
            Some(x) if !x.is_closed() => Poll::Pending,
            _ => Poll::Ready(Err(self.session_error(s))),
        }
    }

    /// The next message on stream `id` of `s`; `Ok(None)` once the peer
    /// ended the stream and everything was read.
    pub fn poll_receive(
        &mut self,
        s: SessionId,
        id: StreamId,
    ) -> Poll<Result<Option<Bytes>, Error>> {
        if let Some(q) = self.unclaimed.get_mut(&(s, id)) {
            if let Some(b) = q.pop_front() {
                if q.is_empty() {
                    self.unclaimed.remove(&(s, id));
                }
                return Poll::Ready(Ok(Some(b)));
            }
        }
        let Some(session) = self.ep.session_mut(s) else {
            return Poll::Ready(Err(self.session_error(s)));
        };
        match session.recv(id) {
            Ok(Some(b)) => Poll::Ready(Ok(Some(b))),
            Ok(None) if session.is_closed() => Poll::Ready(Err(self.session_error(s))),
            Ok(None) => Poll::Pending,
            Err(StreamError::Finished(_)) => Poll::Ready(Ok(None)),
            Err(e) => Poll::Ready(Err(self.stream_error(s, e))),
        }
    }

    /// Every message of stream `id` of `s` ready now, at most `max` (at
    /// least one); `Pending` while none is, `Ok(None)` once the peer ended
    /// the stream and everything was read. An error after the first message
    /// ends the batch; the next call reports it.
    pub fn poll_receive_batch(
        &mut self,
        s: SessionId,
        id: StreamId,
        max: usize,
    ) -> Poll<Result<Option<Vec<Bytes>>, Error>> {
        let first = match self.poll_receive(s, id) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(Some(b))) => b,
            Poll::Ready(Ok(None)) => return Poll::Ready(Ok(None)),
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
        };
        let mut batch = Vec::with_capacity(max.clamp(1, 64));
        batch.push(first);
        while batch.len() < max {
            match self.poll_receive(s, id) {
                Poll::Ready(Ok(Some(b))) => batch.push(b),
                _ => break,
            }
        }
        Poll::Ready(Ok(Some(batch)))
    }

    /// Gives back a message a receiver did not take: the next receive on
    /// the stream gets it first.
    pub fn unclaim(&mut self, s: SessionId, id: StreamId, data: Bytes) {
        if self.ep.session(s).is_some() {
            self.unclaimed.entry((s, id)).or_default().push_front(data);
        }
    }

    /// Queues `data` on stream `id` of `s`; `Pending` while the stream's
    /// send queue is over the core's bound (`StreamLimits::max_send_queue`),
    /// from a `WouldBlock` until the stream's `Writable` (see the module
    /// docs). Ready with the sequence numbers used.
    pub fn poll_send(
        &mut self,
        s: SessionId,
        id: StreamId,
        data: &Bytes,
        mode: SendMode,
    ) -> Poll<Result<Range<u64>, Error>> {
        let Some(session) = self.ep.session_mut(s) else {
            return Poll::Ready(Err(self.session_error(s)));
        };
        if self.blocked.contains(&(s, id)) {
            // Still refused, unless the stream or session stopped taking
            // sends without an event this adapter watches (a close by this
            // side, the peer's end of the stream): then the call fails now.
            let open =
                !session.is_closed() && session.stream_stats(id).is_some_and(|st| st.is_active);
            if open {
                return Poll::Pending;
            }
            self.blocked.remove(&(s, id));
        }
        let r = match mode {
            SendMode::One => session.send(id, data.clone()).map(|q| q..q + 1),
            SendMode::All => session.send_all(id, data.clone()),
            SendMode::AllWith(n) => session.send_all_with(id, data.clone(), n),
            SendMode::OneBy(at) => session
                .send_with(id, data.clone(), stt::SendOptions::new().deadline(at))
                .map(|q| q..q + 1),
        };
        match r {
            Ok(seqs) => Poll::Ready(Ok(seqs)),
            Err(StreamError::WouldBlock(_)) => {
                self.blocked.insert((s, id));
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(self.stream_error(s, e))),
        }
    }

    /// Ready once the peer acknowledged everything queued on stream `id` of
    /// `s` up to the first call (`target` remembers that point between calls).
    pub fn poll_flush(
        &mut self,
        s: SessionId,
        id: StreamId,
        target: &mut Option<u64>,
    ) -> Poll<Result<(), Error>> {
        let Some(session) = self.ep.session(s) else {
            return Poll::Ready(Err(self.session_error(s)));
        };
        let Some(st) = session.stream_stats(id) else {
            return Poll::Ready(Err(Error::Stream(StreamError::NotFound(id))));
        };
        // Every message takes its length plus one unit of the stream's
        // offset space, so this is the end of what was queued.
        let queued = st.bytes_sent + st.messages_sent;
        let want = *target.get_or_insert(queued);
        if queued.saturating_sub(st.unacked) >= want {
            Poll::Ready(Ok(()))
        } else if session.is_closed() {
            Poll::Ready(Err(self.session_error(s)))
        } else {
            Poll::Pending
        }
    }

    /// Ready once everything queued on every stream of `s` is acknowledged.
    pub fn poll_session_flushed(&mut self, s: SessionId) -> Poll<Result<(), Error>> {
        match self.ep.session(s) {
            None => Poll::Ready(Err(self.session_error(s))),
            Some(x) if x.is_flushed() => Poll::Ready(Ok(())),
            Some(x) if x.is_closed() => Poll::Ready(Err(self.session_error(s))),
            Some(_) => Poll::Pending,
        }
    }
}
