//! The tokio adapter's handles: [`Node`], [`Session`] and [`Stream`], the
//! cheap cloneable values the application holds, and their async calls.
//!
//! Owns: the public async API, turning each call into a job for the event
//! loop (see `jobs.rs`) and awaiting its answer, and giving back messages a
//! dropped receive had been handed.
//! Never: touches the core or the socket itself: every call goes through
//! the loop's channel.

use std::future::Future;
use std::net::SocketAddr;
use std::ops::Range;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use stt::{
    CloseReason, Config, Endpoint, EndpointStats, NodeId, SessionId, SessionStats, StreamError,
    StreamId, StreamStats,
};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

use super::common::{
    self, read_ticket_file, write_ticket_file, Core, Error, Expired, PerSession, SendMode,
};
use super::event_loop;
use super::jobs::{Job, Key, Msg};
use super::udp_batch::UdpBatch;

/// A running node: the handle to its event loop. Clones share the node.
#[derive(Clone)]
pub struct Node {
    tx: mpsc::UnboundedSender<Msg>,
    local_addr: SocketAddr,
    node_id: NodeId,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("local_addr", &self.local_addr)
            .field("node_id", &self.node_id)
            .finish()
    }
}

impl Node {
    /// Binds a UDP socket at `addr` and starts the node's event loop on the
    /// current tokio runtime. The endpoint's random seed comes from the OS.
    pub async fn bind(addr: impl tokio::net::ToSocketAddrs, config: Config) -> Result<Node, Error> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| Error::Io(e.into()))?;
        Node::bind_with_seed(addr, config, seed).await
    }

    /// [`bind`](Self::bind) with the endpoint's seed given (reproducible
    /// session ids and ephemeral keys: for tests only).
    pub async fn bind_with_seed(
        addr: impl tokio::net::ToSocketAddrs,
        config: Config,
        seed: [u8; 32],
    ) -> Result<Node, Error> {
        let config = common::adapter_config(config);
        let socket = UdpSocket::bind(addr).await?;
        common::grow_socket_buffers(&socket, common::SOCKET_BUFFER);
        let local_addr = socket.local_addr()?;
        let io = UdpBatch::new((&socket).into(), config.max_datagram_size())?;
        let ep = Endpoint::new(config, seed);
        let node_id = ep.node_id();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(event_loop::run(socket, io, Core::new(ep), rx));
        Ok(Node {
            tx,
            local_addr,
            node_id,
        })
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// This node's identity.
    pub fn node_id(&self) -> NodeId {
        self.node_id
    }

    /// Turns this node's trace on with `sink` (a qlog writer, the `tracing`
    /// bridge, ...) or off with `None`, from its next datagram on (feature
    /// `trace`).
    #[cfg(feature = "trace")]
    pub async fn set_trace_sink(
        &self,
        sink: Option<Box<dyn stt::trace::TraceSink>>,
    ) -> Result<(), Error> {
        self.now(move |core| drop(core.ep.set_trace_sink(sink)))
            .await
    }

    /// Sends the loop a job that completes with `f`'s answer; `lost` gets an
    /// answer whose receiver went away.
    fn submit<R: Send + 'static>(
        &self,
        key: Key,
        f: impl FnMut(&mut Core) -> Poll<R> + Send + 'static,
        lost: impl FnOnce(&mut Core, R) + Send + 'static,
    ) -> Result<oneshot::Receiver<R>, Error> {
        let (job, rx) = Job::new(key, f, lost);
        self.tx.send(Msg::Job(job)).map_err(|_| Error::NodeGone)?;
        Ok(rx)
    }

    async fn call<R: Send + 'static>(
        &self,
        key: Key,
        f: impl FnMut(&mut Core) -> Poll<R> + Send + 'static,
    ) -> Result<R, Error> {
        self.submit(key, f, |_, _| {})?
            .await
            .map_err(|_| Error::NodeGone)
    }

    /// Runs `f` on the core once and returns what it says.
    async fn now<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Core) -> R + Send + 'static,
    ) -> Result<R, Error> {
        self.once(Key::Now, f).await
    }

    /// Runs `f` on session `s` once and returns what it says; the calls
    /// waiting on `s` then look again.
    async fn now_on<R: Send + 'static>(
        &self,
        s: SessionId,
        f: impl FnOnce(&mut stt::Session) -> Result<R, StreamError> + Send + 'static,
    ) -> Result<R, Error> {
        self.once(Key::Touch(s), move |core| core.with_session(s, f))
            .await?
    }

    async fn once<R: Send + 'static>(
        &self,
        key: Key,
        f: impl FnOnce(&mut Core) -> R + Send + 'static,
    ) -> Result<R, Error> {
        let mut f = Some(f);
        self.call(key, move |core| match f.take() {
            Some(f) => Poll::Ready(Some(f(core))),
            None => Poll::Ready(None),
        })
        .await?
        .ok_or(Error::NodeGone)
    }

    /// Opens a session with the node at `addr`; resolves once the handshake
    /// completes (or fails: [`Error::ConnectFailed`], e.g. after the
    /// configured handshake timeout when the peer is silent).
    pub async fn connect(&self, addr: SocketAddr) -> Result<Session, Error> {
        let id = self.now(move |core| core.connect(addr)).await??;
        self.call(Key::Session(id), move |core| core.poll_connect(id))
            .await??;
        self.session_handle(id).await
    }

    /// [`connect`](Self::connect), with `messages` queued on the session
    /// and, if a ticket for `addr` is held, the leading ones sent as 0-RTT
    /// early data in the first flight; returns once the handshake
    /// completed, with how many went early.
    pub async fn connect_with_early(
        &self,
        addr: SocketAddr,
        messages: Vec<(stt::StreamId, bytes::Bytes)>,
    ) -> Result<(Session, usize), Error> {
        let (id, early) = self
            .now(move |core| core.connect_with_early(addr, &messages))
            .await??;
        self.call(Key::Session(id), move |core| core.poll_connect(id))
            .await??;
        Ok((self.session_handle(id).await?, early))
    }

    /// True if a session ticket for `addr` is held (the next connect to
    /// it resumes).
    pub async fn has_ticket(&self, addr: SocketAddr) -> Result<bool, Error> {
        self.now(move |core| core.has_ticket(addr)).await
    }

    /// The session tickets this node holds, sealed for its identity: for
    /// [`import_tickets`](Self::import_tickets) of a later run with the
    /// same node seed. Bearer secrets: keep them private.
    pub async fn export_tickets(&self) -> Result<Vec<u8>, Error> {
        self.now(|core| core.export_tickets()).await
    }

    /// Takes in the tickets an earlier run exported; how many (expired
    /// ones are skipped). A refused file imports nothing.
    pub async fn import_tickets(&self, bytes: Vec<u8>) -> Result<usize, Error> {
        self.now(move |core| core.import_tickets(&bytes)).await?
    }

    /// [`export_tickets`](Self::export_tickets) written to `path`, mode
    /// 0600, replacing what was there.
    pub async fn save_tickets(&self, path: &std::path::Path) -> Result<(), Error> {
        let bytes = self.export_tickets().await?;
        Ok(write_ticket_file(path, &bytes)?)
    }

    /// [`import_tickets`](Self::import_tickets) from `path`; 0 if there is
    /// no such file.
    pub async fn load_tickets(&self, path: &std::path::Path) -> Result<usize, Error> {
        match read_ticket_file(path)? {
            Some(bytes) => self.import_tickets(bytes).await,
            None => Ok(0),
        }
    }

    /// The next session a peer opened.
    pub async fn accept(&self) -> Result<Session, Error> {
        let id = self.call(Key::Accept, |core| core.poll_accept()).await?;
        self.session_handle(id).await
    }

    async fn session_handle(&self, id: SessionId) -> Result<Session, Error> {
        let (peer, remote) = self
            .now(move |core| {
                let s = core.ep.session(id).ok_or_else(|| core.session_error(id))?;
                Ok::<_, Error>((s.peer(), s.remote_node()))
            })
            .await??;
        Ok(Session {
            node: self.clone(),
            id,
            peer,
            remote,
        })
    }

    /// A handle on session `id` (which may have ended; calls then fail).
    pub async fn session(&self, id: SessionId) -> Result<Session, Error> {
        self.session_handle(id).await
    }

    /// Ids of all sessions the node holds.
    pub async fn sessions(&self) -> Result<Vec<SessionId>, Error> {
        self.now(|core| core.ep.sessions().collect()).await
    }

    /// Sends `data` as one message on stream 0 of each session in `ids`;
    /// each session's own result (sequence number or refusal).
    pub async fn send_to_sessions(
        &self,
        ids: &[SessionId],
        data: impl Into<Bytes>,
    ) -> Result<PerSession, Error> {
        let ids = ids.to_vec();
        let data = data.into();
        self.now(move |core| core.ep.send_to_sessions(&ids, data))
            .await
    }

    /// Endpoint-wide counters.
    pub async fn stats(&self) -> Result<EndpointStats, Error> {
        self.now(|core| core.ep.stats()).await
    }

    /// Closes every session (code 0), sends the CLOSE frames and stops the
    /// event loop. Calls still waiting fail with [`Error::NodeGone`].
    pub async fn shutdown(&self) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Msg::Shutdown(tx))
            .map_err(|_| Error::NodeGone)?;
        rx.await.map_err(|_| Error::NodeGone)
    }
}

/// One session with a peer. Clones share it.
#[derive(Clone, Debug)]
pub struct Session {
    node: Node,
    id: SessionId,
    peer: SocketAddr,
    remote: Option<NodeId>,
}

impl Session {
    /// The session's id.
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// The peer's address when the handle was made.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The peer's proven identity.
    pub fn remote_node(&self) -> Option<NodeId> {
        self.remote
    }

    /// The node this session belongs to.
    pub fn node(&self) -> &Node {
        &self.node
    }

    fn handle(&self, id: StreamId) -> Stream {
        Stream {
            node: self.node.clone(),
            session: self.id,
            id,
        }
    }

    async fn on<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut stt::Session) -> Result<R, StreamError> + Send + 'static,
    ) -> Result<R, Error> {
        let s = self.id;
        self.node.now_on(s, f).await
    }

    /// Runs `f` on the core's session inside the event loop: several calls
    /// that must take effect together, with no datagram sent in between.
    pub async fn with<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut stt::Session) -> Result<R, StreamError> + Send + 'static,
    ) -> Result<R, Error> {
        self.on(f).await
    }

    /// Creates stream `id` (stream 0 always exists); an id in use is
    /// `StreamError::AlreadyExists`.
    pub async fn create_stream(&self, id: StreamId) -> Result<Stream, Error> {
        self.on(move |s| s.create_stream(id)).await?;
        Ok(self.handle(id))
    }

    /// Stream `id`, created if it does not exist yet.
    pub async fn open_stream(&self, id: StreamId) -> Result<Stream, Error> {
        self.on(move |s| s.open_stream(id)).await?;
        Ok(self.handle(id))
    }

    /// Stream `id` if it is open (not closed by this side, not gone).
    pub async fn stream(&self, id: StreamId) -> Result<Option<Stream>, Error> {
        let exists = self.on(move |s| Ok(s.stream(id).is_some())).await?;
        Ok(exists.then(|| self.handle(id)))
    }

    /// The session's open streams, by ascending id.
    pub async fn streams(&self) -> Result<Vec<Stream>, Error> {
        let ids = self.on(|s| Ok(s.stream_ids())).await?;
        Ok(ids.into_iter().map(|id| self.handle(id)).collect())
    }

    /// The next stream the peer opened (by sending on it).
    pub async fn accept_stream(&self) -> Result<Stream, Error> {
        let s = self.id;
        let id = self
            .node
            .call(Key::Session(s), move |core| core.poll_accept_stream(s))
            .await??;
        Ok(self.handle(id))
    }

    /// Closes stream `id` gracefully (queued data is still delivered).
    pub async fn close_stream(&self, id: StreamId) -> Result<(), Error> {
        self.on(move |s| s.close_stream(id)).await
    }

    /// Closes every open stream of the session.
    pub async fn close_all_streams(&self) -> Result<(), Error> {
        self.on(|s| {
            s.close_all_streams();
            Ok(())
        })
        .await
    }

    /// True if this session was resumed from a ticket (a cheaper
    /// handshake keyed by an earlier session with the same node).
    pub async fn is_resumed(&self) -> Result<bool, Error> {
        self.on(|s| Ok(s.is_resumed())).await
    }

    /// Session statistics.
    pub async fn stats(&self) -> Result<SessionStats, Error> {
        self.on(|s| Ok(s.stats())).await
    }

    /// Queues an unreliable datagram (never resent; see
    /// `stt::Session::send_datagram`), dropped unsent if still queued
    /// `life` from now; a `DatagramEvent` reports its fate if `report_fate`.
    pub async fn send_datagram(
        &self,
        data: impl Into<Bytes>,
        life: Option<Duration>,
        report_fate: bool,
    ) -> Result<stt::DatagramId, Error> {
        let (s, data) = (self.id, data.into());
        self.node
            .once(Key::Touch(s), move |core| {
                core.send_datagram(s, data, life, report_fate)
            })
            .await?
    }

    /// The messages abandoned for their deadline since the last call
    /// (`stt::StreamEvent::MessageExpired`), oldest first.
    pub async fn expired(&self) -> Result<Vec<Expired>, Error> {
        let s = self.id;
        self.node
            .once(Key::Touch(s), move |core| Ok(core.take_expired(s)))
            .await?
    }

    /// The next datagram received. A datagram is gone once handed out: a
    /// receive cancelled after that loses it, as the network might have.
    pub async fn receive_datagram(&self) -> Result<Bytes, Error> {
        let s = self.id;
        self.node
            .call(Key::Session(s), move |core| core.poll_receive_datagram(s))
            .await?
    }

    /// The next fate of a datagram sent with `report_fate`: acknowledged,
    /// lost, expired or dropped, in the order the core reported them.
    pub async fn datagram_fate(&self) -> Result<stt::DatagramEvent, Error> {
        let s = self.id;
        self.node
            .call(Key::Session(s), move |core| core.poll_datagram_fate(s))
            .await?
    }

    /// The largest datagram payload the session takes now (it follows the
    /// path's datagram size); `None` if the peer accepts no datagrams.
    pub async fn max_datagram_payload(&self) -> Result<Option<usize>, Error> {
        self.on(|s| Ok(s.max_datagram_payload())).await
    }

    /// What the path delivers, bytes per second, and its smoothed RTT: what
    /// a source picking its own bitrate follows.
    pub async fn rate(&self) -> Result<(u64, Duration), Error> {
        self.on(|s| Ok((s.delivery_rate(), s.rtt()))).await
    }

    /// Waits until everything queued on every stream is acknowledged.
    pub async fn flush(&self) -> Result<(), Error> {
        let s = self.id;
        self.node
            .call(Key::Progress(s), move |core| core.poll_session_flushed(s))
            .await?
    }

    /// Closes the session with an application `code` and `reason` (unsent
    /// data is dropped: [`flush`](Self::flush) first to avoid that).
    pub async fn close(&self, code: u64, reason: &[u8]) -> Result<(), Error> {
        let reason = reason.to_vec();
        self.on(move |s| {
            s.close(code, &reason);
            Ok(())
        })
        .await
    }

    /// Waits until the session ended; why, if known.
    pub async fn closed(&self) -> Result<Option<CloseReason>, Error> {
        let s = self.id;
        self.node
            .call(Key::Session(s), move |core| core.poll_closed(s))
            .await
    }
}

/// One stream of a session. Clones share it.
#[derive(Clone, Debug)]
pub struct Stream {
    node: Node,
    session: SessionId,
    id: StreamId,
}

impl Stream {
    /// The stream's id.
    pub fn id(&self) -> StreamId {
        self.id
    }

    /// The session it belongs to.
    pub fn session_id(&self) -> SessionId {
        self.session
    }

    async fn send_mode(&self, data: Bytes, mode: SendMode) -> Result<Range<u64>, Error> {
        let (s, id) = (self.session, self.id);
        self.node
            .call(Key::Stream(s, id), move |core| {
                core.poll_send(s, id, &data, mode)
            })
            .await?
    }

    /// Queues one message; its sequence number. Waits while the stream's
    /// send queue is over its bound (see the module docs).
    pub async fn send(&self, data: impl Into<Bytes>) -> Result<u64, Error> {
        Ok(self.send_mode(data.into(), SendMode::One).await?.start)
    }

    /// Queues one message worth nothing `life` from now: it is resent
    /// only while it can still arrive by then, and abandoned after (see
    /// `stt::Session::send_with` and `Session::expired`).
    pub async fn send_within(&self, data: impl Into<Bytes>, life: Duration) -> Result<u64, Error> {
        let (s, id, data) = (self.session, self.id, data.into());
        let mut at = None;
        let seqs = self
            .node
            .call(Key::Stream(s, id), move |core| {
                let by = *at.get_or_insert_with(|| core.clock.now() + life);
                core.poll_send(s, id, &data, SendMode::OneBy(by))
            })
            .await??;
        Ok(seqs.start)
    }

    /// Queues bulk data cut into messages of the configured segment size
    /// (64 KiB by default); the sequence numbers used. Returns once queued
    /// (see the module docs); [`flush`](Self::flush) waits for the peer.
    pub async fn send_all(&self, data: impl Into<Bytes>) -> Result<Range<u64>, Error> {
        self.send_mode(data.into(), SendMode::All).await
    }

    /// [`send_all`](Self::send_all) with messages of `segment` bytes.
    pub async fn send_all_with(
        &self,
        data: impl Into<Bytes>,
        segment: usize,
    ) -> Result<Range<u64>, Error> {
        self.send_mode(data.into(), SendMode::AllWith(segment))
            .await
    }

    /// Waits until the peer acknowledged everything queued on the stream
    /// before this call.
    pub async fn flush(&self) -> Result<(), Error> {
        let (s, id) = (self.session, self.id);
        let mut target = None;
        self.node
            .call(Key::Progress(s), move |core| {
                core.poll_flush(s, id, &mut target)
            })
            .await?
    }

    /// The next message; `Ok(None)` once the peer ended the stream and
    /// every message was read. Cancel-safe.
    pub async fn receive(&self) -> Result<Option<Bytes>, Error> {
        self.receiving(|core, s, id| core.poll_receive(s, id))?
            .await
    }

    /// [`receive`](Self::receive) waiting at most `timeout`:
    /// [`Error::Timeout`] then (nothing is lost).
    pub async fn receive_timeout(&self, timeout: Duration) -> Result<Option<Bytes>, Error> {
        within(timeout, self.receive()).await
    }

    /// Every message ready now, at most `max` (at least one: waits for the
    /// first as [`receive`](Self::receive) does); `Ok(None)` once the peer
    /// ended the stream and every message was read. One call into the
    /// event loop for the lot: a reader of bulk data that takes what
    /// arrived in one go makes a sixteenth of the calls (and of the
    /// wake-ups of whatever it hands the data to). Cancel-safe.
    pub async fn receive_batch(&self, max: usize) -> Result<Option<Vec<Bytes>>, Error> {
        self.receiving(move |core, s, id| core.poll_receive_batch(s, id, max))?
            .await
    }

    /// [`receive_batch`](Self::receive_batch) waiting at most `timeout`:
    /// [`Error::Timeout`] then (nothing is lost).
    pub async fn receive_batch_timeout(
        &self,
        max: usize,
        timeout: Duration,
    ) -> Result<Option<Vec<Bytes>>, Error> {
        within(timeout, self.receive_batch(max)).await
    }

    /// One receive call into the loop: `poll` runs until it has messages
    /// (or the end, or an error). Whatever it took after the caller left
    /// goes back in front of the stream's queue, in the loop or from the
    /// dropped future.
    fn receiving<T: GiveBack + Send + 'static>(
        &self,
        mut poll: impl FnMut(&mut Core, SessionId, StreamId) -> Poll<Result<Option<T>, Error>>
            + Send
            + 'static,
    ) -> Result<Receiving<T>, Error> {
        let (s, id) = (self.session, self.id);
        let rx = self.node.submit(
            Key::Stream(s, id),
            move |core| poll(core, s, id),
            move |core, r| {
                if let Ok(Some(taken)) = r {
                    taken.unclaim(core, s, id);
                }
            },
        )?;
        Ok(Receiving {
            rx,
            tx: self.node.tx.clone(),
            session: s,
            stream: id,
        })
    }

    /// Sets the stream's priority, 0..=1000 (default 500; higher goes first).
    pub async fn set_priority(&self, priority: u16) -> Result<(), Error> {
        let id = self.id;
        self.on(move |s| s.set_priority(id, priority)).await
    }

    /// The stream's statistics.
    pub async fn stats(&self) -> Result<StreamStats, Error> {
        let id = self.id;
        self.on(move |s| s.stream_stats(id).ok_or(StreamError::NotFound(id)))
            .await
    }

    /// Closes the stream gracefully: queued data is still delivered, then
    /// the peer sees its end.
    pub async fn close(&self) -> Result<(), Error> {
        let id = self.id;
        self.on(move |s| s.close_stream(id)).await
    }

    /// Abandons the stream at once, telling the peer `code`.
    pub async fn reset(&self, code: u64) -> Result<(), Error> {
        let id = self.id;
        self.on(move |s| s.reset_stream(id, code)).await
    }

    async fn on<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut stt::Session) -> Result<R, StreamError> + Send + 'static,
    ) -> Result<R, Error> {
        let s = self.session;
        self.node.now_on(s, f).await
    }
}

/// What a receive call was handed: given back, in order, if its caller
/// left before taking it (in the loop when the future was already gone,
/// through the loop's channel when the future is dropped holding it).
trait GiveBack: Sized {
    /// Back in front of stream `id`'s queue, from inside the loop.
    fn unclaim(self, core: &mut Core, s: SessionId, id: StreamId);
    /// The same from outside the loop.
    fn give_back(self, tx: &mpsc::UnboundedSender<Msg>, s: SessionId, id: StreamId);
}

impl GiveBack for Bytes {
    fn unclaim(self, core: &mut Core, s: SessionId, id: StreamId) {
        core.unclaim(s, id, self);
    }
    fn give_back(self, tx: &mpsc::UnboundedSender<Msg>, s: SessionId, id: StreamId) {
        let _ = tx.send(Msg::Unclaimed(s, id, self));
    }
}

impl GiveBack for Vec<Bytes> {
    // Each goes in front of the stream's queue: last first.
    fn unclaim(self, core: &mut Core, s: SessionId, id: StreamId) {
        for b in self.into_iter().rev() {
            core.unclaim(s, id, b);
        }
    }
    fn give_back(self, tx: &mpsc::UnboundedSender<Msg>, s: SessionId, id: StreamId) {
        for b in self.into_iter().rev() {
            let _ = tx.send(Msg::Unclaimed(s, id, b));
        }
    }
}

/// `f`'s result, or [`Error::Timeout`] after `timeout` (a cancel-safe `f`
/// loses nothing then).
async fn within<T>(
    timeout: Duration,
    f: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    tokio::time::timeout(timeout, f)
        .await
        .unwrap_or(Err(Error::Timeout))
}

/// The future of [`Stream::receive`] and [`Stream::receive_batch`]: if
/// dropped after the loop handed it messages, gives them back.
struct Receiving<T: GiveBack> {
    rx: oneshot::Receiver<Result<Option<T>, Error>>,
    tx: mpsc::UnboundedSender<Msg>,
    session: SessionId,
    stream: StreamId,
}

impl<T: GiveBack> Future for Receiving<T> {
    type Output = Result<Option<T>, Error>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(Error::NodeGone)))
    }
}

impl<T: GiveBack> Drop for Receiving<T> {
    fn drop(&mut self) {
        if let Ok(Ok(Some(b))) = self.rx.try_recv() {
            b.give_back(&self.tx, self.session, self.stream);
        }
    }
}
