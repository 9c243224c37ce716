//! A session: one peer, one handshake, many streams.
//!
//! Owns: the session's state machine (handshake, established, closing,
//! draining), its keys and packet numbers, its timers, and the application's
//! calls on the session and its streams.
//! Never: routes datagrams (the endpoint does), encodes frames by hand (the
//! wire layer does), or grows a frame handler for every concern: frames go
//! to the module that owns their state (`receive.rs`), packets are built in
//! `transmit.rs`.

mod handshake;
mod keys;
mod path_io;
mod receive;
mod sent;
mod stats;
#[cfg(feature = "trace")]
mod trace;
mod transmit;

pub use handshake::Role;
pub use stats::{CongestionStats, SessionStats};

pub(crate) use handshake::HandshakeState;

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use bytes::Bytes;
use core::net::SocketAddr;
use core::ops::Range;
use core::time::Duration;

use crate::config::Config;
use crate::event::{code, CloseReason, Event, Violation};
use crate::ids::{NodeId, SessionId, StreamId};
use crate::path::{DatagramSize, MtuConfig, PathStats, PathValidator};
use crate::recovery::{send_quantum, AckTracker, Outcome, Pacer, Recovery};
use crate::streams::{Stream, StreamError, StreamManager, StreamStats};
use crate::time::Instant;
use crate::trace::{trace_event, Side, TraceEvent};
use crate::wire::TransportParams;
use keys::Keys;
use sent::SentInfo;
use stats::Counters;

/// How long a session with nothing in flight stays quiet before it frees
/// its scratch allocations: long against a busy session's gaps (so a
/// transfer never allocates for them per acknowledgement), short against
/// how long sessions sit idle.
const SCRATCH_TRIM_AFTER: Duration = Duration::from_millis(500);

/// The stream of a session's seed its path-validation key is drawn from
/// (the handshake draws stream 0).
pub(crate) const PATH_KEY_STREAM: u64 = 1;

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Noise messages in flight.
    Handshake,
    /// Keys in place; data flows.
    Established,
    /// We sent CLOSE; answer stray packets with it until `until`.
    Closing { until: Instant },
    /// The peer sent CLOSE; stay silent until `until`.
    Draining { until: Instant },
    /// Over: the endpoint removes it.
    Done,
}

/// One session with a peer. Reached through
/// [`Endpoint::session_mut`](crate::Endpoint::session_mut).
pub struct Session {
    cfg: Arc<Config>,
    id: SessionId,
    peer_id: SessionId,
    /// The peer's validated address: everything but path probes goes here.
    peer: SocketAddr,
    /// Where the highest-numbered packet so far came from.
    latest_from: SocketAddr,
    /// Challenges, budgets and answers for addresses not yet validated.
    paths: PathValidator,
    role: Role,
    state: State,
    hs: Option<Box<HandshakeState>>,
    keys: Option<Box<Keys>>,
    remote_node: Option<NodeId>,
    peer_idle_timeout: Option<Duration>,
    next_pn: u64,
    recovery: Recovery<SentInfo>,
    acks: AckTracker,
    pacer: Pacer,
    /// The path's datagram size search; `datagram_size` is the size the
    /// window and the pacer were last told.
    mtu: DatagramSize,
    datagram_size: usize,
    streams: StreamManager,
    /// Latest time seen from the caller.
    now: Instant,
    created_at: Instant,
    last_rx: Instant,
    last_tx_eliciting: Instant,
    /// Initiator: the responder proved it has the keys.
    confirmed: bool,
    handshake_done_owed: bool,
    ping_owed: bool,
    /// The CLOSE frame (code, reason) once closing, and whether it is due.
    close_frame: Option<(u64, Bytes)>,
    close_pending: bool,
    /// When paced data may go next.
    pacing_wait: Option<Instant>,
    events: VecDeque<Event>,
    counters: Counters,
    outcomes: Vec<Outcome<SentInfo>>,
    ack_ranges: Vec<Range<u64>>,
    /// The endpoint's trace sink while lent to this session.
    #[cfg(feature = "trace")]
    pub(crate) trace: trace::SessionTrace,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("peer", &self.peer)
            .field("role", &self.role)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Session {
    fn new(
        cfg: Arc<Config>,
        id: SessionId,
        peer: SocketAddr,
        role: Role,
        path_key: [u8; 32],
        now: Instant,
    ) -> Self {
        let recovery = Recovery::new(&cfg.recovery, now);
        let acks = AckTracker::new(&cfg.recovery);
        let pacer = send_quantum::new_pacer(
            cfg.recovery.pacing_granularity,
            cfg.max_datagram_size,
            cfg.base_datagram_size,
        );
        let mtu = DatagramSize::new(
            MtuConfig::new(cfg.base_datagram_size, cfg.max_datagram_size),
            now,
        );
        let streams = StreamManager::new(cfg.streams, now);
        Session {
            id,
            peer_id: SessionId(0),
            peer,
            latest_from: peer,
            paths: PathValidator::new(path_key),
            role,
            state: State::Handshake,
            hs: None,
            keys: None,
            remote_node: None,
            peer_idle_timeout: None,
            next_pn: 0,
            recovery,
            acks,
            pacer,
            datagram_size: mtu.current(),
            mtu,
            streams,
            now,
            created_at: now,
            last_rx: now,
            last_tx_eliciting: now,
            confirmed: false,
            handshake_done_owed: false,
            ping_owed: false,
            close_frame: None,
            close_pending: false,
            pacing_wait: None,
            events: VecDeque::new(),
            counters: Counters::default(),
            outcomes: Vec::new(),
            ack_ranges: Vec::new(),
            #[cfg(feature = "trace")]
            trace: Default::default(),
            cfg,
        }
    }

    /// An initiator session whose Initial is ready to go.
    pub(crate) fn initiator(
        cfg: Arc<Config>,
        id: SessionId,
        peer: SocketAddr,
        rng_seed: [u8; 32],
        now: Instant,
    ) -> Result<Self, crate::crypto::CryptoError> {
        let first_resend = cfg.recovery.initial_rtt.saturating_mul(3);
        let hs = HandshakeState::initiator(
            &cfg.identity,
            &cfg.network_key,
            rng_seed,
            id,
            now,
            first_resend,
            cfg.cipher,
        )?;
        let path_key = crate::rand::Rng::derive(&rng_seed, PATH_KEY_STREAM);
        let mut s = Session::new(cfg, id, peer, Role::Initiator, path_key, now);
        s.hs = Some(Box::new(hs));
        Ok(s)
    }

    /// A responder session for an accepted Initial.
    pub(crate) fn responder(
        cfg: Arc<Config>,
        id: SessionId,
        peer: SocketAddr,
        peer_id: SessionId,
        hs: HandshakeState,
        path_key: [u8; 32],
        now: Instant,
    ) -> Self {
        let mut s = Session::new(cfg, id, peer, Role::Responder, path_key, now);
        s.peer_id = peer_id;
        s.hs = Some(Box::new(hs));
        s
    }

    /// Parameters this side announces in the handshake.
    pub(crate) fn local_params(cfg: &Config) -> TransportParams {
        TransportParams {
            max_data: cfg.streams.session_window,
            max_stream_data: cfg.streams.stream_window,
            idle_timeout_ms: u64::try_from(cfg.idle_timeout.as_millis()).unwrap_or(u64::MAX),
            max_message_size: cfg.streams.max_message_size,
        }
    }

    /// Installs keys and the peer's parameters: the session is established.
    fn establish(&mut self, out: handshake::Outcome) {
        let provider = self.cfg.provider;
        self.keys = Some(Box::new(Keys::new(
            provider,
            out.cipher,
            &out.secrets.tx,
            &out.secrets.rx,
        )));
        self.remote_node = Some(out.remote_node);
        let p = out.params;
        self.peer_idle_timeout =
            (p.idle_timeout_ms > 0).then(|| Duration::from_millis(p.idle_timeout_ms));
        self.streams
            .set_peer_limits(p.max_data, p.max_stream_data, p.max_message_size);
        self.state = State::Established;
        self.last_rx = self.now;
        trace_event!(
            self.trace.tracer,
            self.now,
            Some(self.id),
            TraceEvent::Established { cipher: out.cipher }
        );
        let (session, peer, node) = (self.id, self.peer, out.remote_node);
        self.events.push_back(match self.role {
            Role::Initiator => Event::Connected {
                session,
                peer,
                node,
            },
            Role::Responder => Event::Accepted {
                session,
                peer,
                node,
            },
        });
    }

    // ----- application API -----

    /// The session's local id.
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// The peer's current address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Path validation counters: challenges, validations, failures,
    /// migrations, bytes sent to addresses not yet validated.
    pub fn path_stats(&self) -> PathStats {
        self.paths.stats()
    }

    /// The peer's identity, once the handshake proved it.
    pub fn remote_node(&self) -> Option<NodeId> {
        self.remote_node
    }

    /// The packet cipher protecting this session, once established (the
    /// initiator's choice).
    pub fn cipher(&self) -> Option<crate::crypto::Cipher> {
        self.keys.as_ref().map(|k| k.cipher)
    }

    /// Which side of the handshake this session was.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Handshake completed and the session is not closing.
    pub fn is_established(&self) -> bool {
        self.state == State::Established
    }

    /// The session is closing, draining or over.
    pub fn is_closed(&self) -> bool {
        matches!(
            self.state,
            State::Closing { .. } | State::Draining { .. } | State::Done
        )
    }

    fn open(&self) -> Result<(), StreamError> {
        if self.is_closed() {
            Err(StreamError::SessionClosed)
        } else {
            Ok(())
        }
    }

    /// Creates stream `id` (the chapter's `create_stream`). Stream 0 exists
    /// already; an id in use is [`StreamError::AlreadyExists`].
    pub fn create_stream(&mut self, id: StreamId) -> Result<(), StreamError> {
        self.open()?;
        self.streams.create(self.now, id)?;
        trace_event!(
            self.trace.tracer,
            self.now,
            Some(self.id),
            TraceEvent::StreamOpened {
                stream: id,
                by: Side::Local
            }
        );
        Ok(())
    }

    /// Gets stream `id`, creating it if it does not exist yet (either side
    /// may open any id).
    pub fn open_stream(&mut self, id: StreamId) -> Result<(), StreamError> {
        match self.create_stream(id) {
            Err(StreamError::AlreadyExists(_)) => Ok(()),
            other => other,
        }
    }

    /// Stream `id`, unless missing or closed (the chapter's `get_stream`).
    pub fn stream(&self, id: StreamId) -> Option<&Stream> {
        self.streams.get(id)
    }

    /// Ids of the session's open streams, ascending (the chapter's
    /// `get_streams`).
    pub fn stream_ids(&self) -> Vec<StreamId> {
        self.streams.ids().collect()
    }

    /// Sends one message of any size up to the limit on stream `id`;
    /// returns its sequence number.
    pub fn send(&mut self, id: StreamId, data: impl Into<Bytes>) -> Result<u64, StreamError> {
        self.open()?;
        self.streams.send(self.now, id, data.into())
    }

    /// Sends bulk data cut into messages of the configured segment size
    /// (64 KiB by default); returns the sequence numbers used.
    pub fn send_all(
        &mut self,
        id: StreamId,
        data: impl Into<Bytes>,
    ) -> Result<Range<u64>, StreamError> {
        let segment = self.cfg.segment_size;
        self.send_all_with(id, data, segment)
    }

    /// [`send_all`](Self::send_all) with a segment size for this call.
    pub fn send_all_with(
        &mut self,
        id: StreamId,
        data: impl Into<Bytes>,
        segment: usize,
    ) -> Result<Range<u64>, StreamError> {
        self.open()?;
        self.streams.send_all(self.now, id, data.into(), segment)
    }

    /// The next whole message on stream `id`, if one is ready.
    /// `Err(Finished)` once the peer ended the stream and all was read.
    pub fn recv(&mut self, id: StreamId) -> Result<Option<Bytes>, StreamError> {
        let rtt = self.recovery.rtt().smoothed();
        self.streams.recv(self.now, rtt, id)
    }

    /// Sets a stream's priority, 0..=1000 (default 500).
    pub fn set_priority(&mut self, id: StreamId, priority: u16) -> Result<(), StreamError> {
        self.streams.set_priority(id, priority)
    }

    /// Closes stream `id` gracefully: queued messages are still delivered,
    /// then the peer sees its end.
    pub fn close_stream(&mut self, id: StreamId) -> Result<(), StreamError> {
        self.streams.close(id)?;
        trace_event!(
            self.trace.tracer,
            self.now,
            Some(self.id),
            TraceEvent::StreamClosed {
                stream: id,
                by: Side::Local
            }
        );
        Ok(())
    }

    /// Closes every open stream of the session.
    pub fn close_all_streams(&mut self) {
        self.streams.close_all()
    }

    /// Abandons stream `id` at once, telling the peer `code`.
    pub fn reset_stream(&mut self, id: StreamId, code: u64) -> Result<(), StreamError> {
        self.streams.reset(id, code)?;
        trace_event!(
            self.trace.tracer,
            self.now,
            Some(self.id),
            TraceEvent::StreamReset {
                stream: id,
                code,
                by: Side::Local
            }
        );
        Ok(())
    }

    /// Statistics of stream `id` (the chapter's `get_statistics`).
    pub fn stream_stats(&self, id: StreamId) -> Option<StreamStats> {
        self.streams.stats(self.now, id, self.id)
    }

    /// True when every message queued on every stream (closed ones
    /// included) was acknowledged.
    pub fn is_flushed(&self) -> bool {
        self.streams.is_flushed()
    }

    /// Closes the session with an application `code` (sent to the peer with
    /// `reason`, cut to 256 bytes). Unsent data is dropped.
    pub fn close(&mut self, code: u64, reason: &[u8]) {
        if self.is_closed() {
            return;
        }
        let reason =
            Bytes::copy_from_slice(&reason[..reason.len().min(crate::wire::MAX_REASON_LEN)]);
        let wire_code = code::from_application(code);
        self.enter_closing(wire_code, reason, CloseReason::Local { code });
    }

    /// The datagram size this session's packets use now (the path's size
    /// search moves it between the base size and the ceiling).
    pub fn datagram_size(&self) -> usize {
        self.mtu.current()
    }

    /// The path changed under the session (e.g. the peer's address moved):
    /// its datagram size goes back to the base size at once and the search
    /// for the largest size the new path carries starts again. Data already
    /// sent in larger packets is resent in smaller ones if lost, as for any
    /// loss. Called by the path-change (migration) logic.
    pub fn restart_path_mtu(&mut self, now: Instant) {
        self.now = self.now.max(now);
        self.mtu.restart(self.now);
        self.sync_datagram_size();
    }

    /// Tells the window and the pacer the search's current size, if it
    /// moved.
    fn sync_datagram_size(&mut self) {
        let size = self.mtu.current();
        if size != self.datagram_size {
            self.datagram_size = size;
            self.recovery.set_datagram_size(size);
            send_quantum::resize_pacer(&mut self.pacer, size);
            trace_event!(
                self.trace.tracer,
                self.now,
                Some(self.id),
                TraceEvent::DatagramSizeChanged { size }
            );
        }
    }

    /// Runs this session with controller `kind` instead of the endpoint's
    /// configured one, starting it afresh (window, model, phase) as on a new
    /// path. Meant for the start of a session; losses and acknowledgements
    /// already in flight are then read by the new controller.
    pub fn set_congestion_controller(&mut self, kind: crate::recovery::ControllerKind) {
        let mut config = self.cfg.recovery.clone();
        config.controller = kind;
        self.recovery.reset_controller(&config);
    }

    /// The path as recovery sees it: RTT, window, pacing and delivery
    /// rates, the controller's phase. Constant time.
    pub fn congestion_stats(&self) -> CongestionStats {
        use crate::recovery::Controller as _;
        let rtt = self.recovery.rtt();
        let cwnd = self.recovery.congestion_window();
        CongestionStats {
            latest_rtt: rtt.latest(),
            min_rtt: rtt.min(),
            smoothed_rtt: rtt.smoothed(),
            rtt_samples: self.recovery.stats().rtt_samples,
            congestion_window: cwnd,
            bytes_in_flight: self.recovery.bytes_in_flight(),
            pacing_rate: self.recovery.effective_pacing_rate(),
            delivery_rate: self.recovery.delivery_rate(),
            phase: self.recovery.controller().phase(),
        }
    }

    /// Session statistics.
    pub fn stats(&self) -> SessionStats {
        let r = self.recovery.stats();
        let m = self.mtu.stats();
        let (send_window, receive_window) = self.streams.session_windows();
        SessionStats {
            session_id: self.id,
            remote_node: self.remote_node,
            is_established: self.is_established(),
            created_at: self.created_at,
            uptime: self.now.saturating_duration_since(self.created_at),
            packets_sent: self.counters.packets_sent,
            packets_received: self.counters.packets_received,
            bytes_sent: self.counters.bytes_sent,
            bytes_received: self.counters.bytes_received,
            packets_lost: r.packets_lost,
            decrypt_failures: self.counters.decrypt_failures,
            replays_dropped: self.counters.replays_dropped,
            stale_key_drops: self.counters.stale_key_drops,
            key_updates_sent: self.keys.as_ref().map_or(0, |k| k.updates_sent),
            key_updates_received: self.keys.as_ref().map_or(0, |k| k.updates_received),
            rtt: self.recovery.rtt().smoothed(),
            congestion_window: self.recovery.congestion_window(),
            bytes_in_flight: self.recovery.bytes_in_flight(),
            packets_tracked: self.recovery.outstanding().count(),
            streams: self.streams.len(),
            send_window,
            receive_window,
            receive_buffered: self.streams.recv_buffered(),
            datagram_size: self.mtu.current(),
            mtu_probes_sent: m.probes_sent,
            mtu_probes_lost: m.probes_lost,
            mtu_black_holes: m.black_holes,
        }
    }

    // ----- lifecycle -----

    fn pto(&self) -> Duration {
        self.recovery
            .rtt()
            .pto_base(self.cfg.recovery.granularity)
            .saturating_add(self.cfg.recovery.max_ack_delay)
    }

    /// How long a closing or draining session stays to answer (or ignore)
    /// the peer's late packets: three PTO, but never past the idle timeout.
    /// The peer sets the round-trip estimate through when it acknowledges,
    /// so without the cap it could keep a closed session (and its slot)
    /// for as long as it likes; past the idle timeout the peer has given
    /// up anyway, and a late packet is merely an unknown session.
    fn close_period(&self) -> Duration {
        self.pto().saturating_mul(3).min(self.idle_timeout())
    }

    fn enter_closing(&mut self, wire_code: u64, reason: Bytes, why: CloseReason) {
        match self.state {
            State::Handshake => {
                self.state = State::Done;
                trace_event!(
                    self.trace.tracer,
                    self.now,
                    Some(self.id),
                    TraceEvent::Closed { reason: &why }
                );
                self.events.push_back(match self.role {
                    Role::Initiator => Event::ConnectFailed {
                        session: self.id,
                        reason: why,
                    },
                    Role::Responder => return,
                });
            }
            State::Established => {
                self.close_frame = Some((wire_code, reason));
                self.close_pending = true;
                self.state = State::Closing {
                    until: self.now + self.close_period(),
                };
                trace_event!(
                    self.trace.tracer,
                    self.now,
                    Some(self.id),
                    TraceEvent::Closed { reason: &why }
                );
                self.events.push_back(Event::Closed {
                    session: self.id,
                    reason: why,
                });
            }
            _ => {}
        }
    }

    /// Closes because the peer broke the protocol.
    fn violation(&mut self, v: Violation) {
        self.enter_closing(v.wire_code(), Bytes::new(), CloseReason::Violation(v));
    }

    /// The peer sent CLOSE.
    fn on_peer_close(&mut self, wire_code: u64, reason: &[u8]) {
        if self.state != State::Established {
            return;
        }
        let why = CloseReason::from_peer(wire_code, Bytes::copy_from_slice(reason));
        self.state = State::Draining {
            until: self.now + self.close_period(),
        };
        trace_event!(
            self.trace.tracer,
            self.now,
            Some(self.id),
            TraceEvent::Closed { reason: &why }
        );
        self.events.push_back(Event::Closed {
            session: self.id,
            reason: why,
        });
    }

    /// True when the endpoint may drop the session.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// True while the responder's handshake is incomplete (half-open).
    pub(crate) fn is_half_open(&self) -> bool {
        self.role == Role::Responder && self.state == State::Handshake
    }

    /// The next session event (stream events included).
    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        if let Some(e) = self.events.pop_front() {
            return Some(e);
        }
        let event = self.streams.poll_event()?;
        #[cfg(feature = "trace")]
        self.trace_stream_event(&event);
        Some(Event::Stream {
            session: self.id,
            event,
        })
    }

    fn idle_timeout(&self) -> Duration {
        match self.peer_idle_timeout {
            Some(p) => p.min(self.cfg.idle_timeout),
            None => self.cfg.idle_timeout,
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next run.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        let mut t: Option<Instant> = None;
        let mut at = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t| t.min(x)));
            }
        };
        match self.state {
            State::Done => return None,
            State::Closing { until } | State::Draining { until } => return Some(until),
            State::Handshake => at(Some(self.created_at + self.cfg.handshake_timeout)),
            State::Established => {
                at(Some(self.last_rx + self.idle_timeout()));
                if let Some(k) = self.cfg.keep_alive {
                    at(Some(self.last_tx_eliciting.max(self.last_rx) + k));
                }
                at(self.recovery.timeout());
                at(self.acks.ack_deadline());
                at(self.pacing_wait);
                at(self.mtu.timeout());
                at(self.paths.next_timeout(self.now));
                at(self.scratch_trim_at());
            }
        }
        if let Some(hs) = &self.hs {
            at(hs.resend_at);
        }
        t
    }

    /// Runs the timers due at `now`.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        match self.state {
            State::Done => return,
            State::Closing { until } | State::Draining { until } => {
                if now >= until {
                    self.state = State::Done;
                }
                return;
            }
            State::Handshake => {
                if now >= self.created_at + self.cfg.handshake_timeout {
                    self.enter_closing(0, Bytes::new(), CloseReason::HandshakeTimeout);
                    return;
                }
            }
            State::Established => {
                if now >= self.last_rx + self.idle_timeout() {
                    self.state = State::Done;
                    trace_event!(
                        self.trace.tracer,
                        self.now,
                        Some(self.id),
                        TraceEvent::Closed {
                            reason: &CloseReason::IdleTimeout
                        }
                    );
                    self.events.push_back(Event::Closed {
                        session: self.id,
                        reason: CloseReason::IdleTimeout,
                    });
                    return;
                }
                if let Some(k) = self.cfg.keep_alive {
                    if now >= self.last_tx_eliciting.max(self.last_rx) + k {
                        self.ping_owed = true;
                    }
                }
                self.trim_scratch(now);
                // The size search's quiet period: a new search starts now
                // (its probes wait for data), so the timer is not due again.
                self.mtu.on_timeout(now);
                if self.recovery.timeout().is_some_and(|t| t <= now) {
                    let mut out = core::mem::take(&mut self.outcomes);
                    let action = self.recovery.on_timeout(now, &mut out);
                    #[cfg(feature = "trace")]
                    self.trace_outcomes(&out);
                    self.apply_outcomes(&mut out);
                    self.outcomes = out;
                    if let crate::recovery::TimeoutAction::Probe { packets } = action {
                        self.ping_owed = true;
                        trace_event!(
                            self.trace.tracer,
                            self.now,
                            Some(self.id),
                            TraceEvent::ProbeTimeout {
                                count: self.recovery.pto_count(),
                                probes: packets
                            }
                        );
                    }
                    #[cfg(feature = "trace")]
                    self.trace_metrics();
                }
                if self.pacing_wait.is_some_and(|t| t <= now) {
                    self.pacing_wait = None;
                }
                // A candidate that did not answer is forgotten; the session
                // never left its validated address, so it stays there.
                #[cfg(feature = "trace")]
                let (tracer, at, id) = (&mut self.trace.tracer, self.now, self.id);
                self.paths.on_timeout(now, |addr| {
                    trace_event!(
                        tracer,
                        at,
                        Some(id),
                        TraceEvent::PathValidationFailed { addr }
                    );
                });
            }
        }
        if let Some(hs) = &mut self.hs {
            if hs.resend_at.is_some_and(|t| t <= now) {
                hs.on_resend_timer(now);
            }
        }
    }

    /// When a quiet session gives back its scratch allocations: the
    /// acknowledgement outcome buffer (an outcome is ~250 bytes) and an empty
    /// event queue. `None` while anything is in flight or nothing is held.
    fn scratch_trim_at(&self) -> Option<Instant> {
        let holds = self.outcomes.capacity() != 0
            || (self.events.is_empty() && self.events.capacity() != 0);
        (holds && self.recovery.bytes_in_flight() == 0)
            .then(|| self.last_tx_eliciting.max(self.last_rx) + SCRATCH_TRIM_AFTER)
    }

    /// Frees the scratch allocations once the session has been quiet for
    /// [`SCRATCH_TRIM_AFTER`]. Never on a busy session: trimming on every
    /// empty flight made a bulk transfer allocate on most acknowledgements.
    fn trim_scratch(&mut self, now: Instant) {
        if self.scratch_trim_at().is_some_and(|t| now >= t) {
            self.outcomes = Vec::new();
            if self.events.is_empty() {
                self.events = VecDeque::new();
            }
        }
    }

    /// Hands acknowledged and lost packets' contents to their owners.
    fn apply_outcomes(&mut self, out: &mut Vec<Outcome<SentInfo>>) {
        // Acknowledged stream units are handed over in runs: consecutive
        // packets usually carry adjacent units of one stream, and one call
        // for the run costs what one call for a packet did (a stream
        // lookup, the buffer's bookkeeping). Acknowledging a..b then b..c
        // and acknowledging a..c leave a stream in the same state.
        let mut run: Option<(StreamId, Range<u64>)> = None;
        let now = self.now;
        for o in out.drain(..) {
            match o {
                Outcome::Acked(info) => {
                    let len = usize::from(info.len);
                    if info.size_probe {
                        self.mtu.on_probe_acked(now, info.pn, len);
                    } else {
                        self.mtu.on_packet_acked(info.pn, len);
                    }
                    for (id, units) in info.chunks {
                        match &mut run {
                            Some((rid, r)) if *rid == id && r.end == units.start => {
                                r.end = units.end;
                            }
                            _ => {
                                if let Some((rid, r)) = run.replace((id, units)) {
                                    self.streams.on_chunk_acked(rid, r);
                                }
                            }
                        }
                    }
                    for c in info.controls {
                        self.streams.on_control_acked(c);
                    }
                    if let Some(l) = info.ack_largest {
                        self.acks.on_ack_acked(l);
                    }
                    if info.handshake_done {
                        self.handshake_done_owed = false;
                    }
                }
                Outcome::Lost(info) => {
                    let len = usize::from(info.len);
                    if info.size_probe {
                        self.mtu.on_probe_lost(now, info.pn, len);
                    } else {
                        self.mtu.on_packet_lost(now, info.pn, len);
                    }
                    // Acknowledgements first, so the order of events on a
                    // stream stays the order of the outcomes.
                    if let Some((rid, r)) = run.take() {
                        self.streams.on_chunk_acked(rid, r);
                    }
                    for (id, units) in info.chunks {
                        self.streams.on_chunk_lost(id, units);
                    }
                    for c in info.controls {
                        self.streams.requeue_control(c);
                    }
                    if info.handshake_done && self.role == Role::Responder {
                        self.handshake_done_owed = true;
                    }
                }
            }
        }
        if let Some((rid, r)) = run {
            self.streams.on_chunk_acked(rid, r);
        }
        self.sync_datagram_size();
    }
}
