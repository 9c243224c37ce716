//! A session: one peer, one handshake, many streams.
//!
//! Owns: the [`Session`] state and its state machine (handshake,
//! established, closing, draining), the session-wide calls (identity and
//! accessors) and what the endpoint asks of it. Each concern has its own
//! file: `start.rs` (built, then established), `close.rs` (closing and
//! draining), `receive.rs` (packets in, frames routed), `transmit.rs`
//! (packets built), `outcomes.rs` (acknowledged and lost packets' contents
//! to their owners), `timers.rs` (deadlines and what is due),
//! `stream_calls.rs` (the application's stream calls), `tickets.rs`
//! (resumption secrets and tickets to and from the endpoint), `datagrams.rs`
//! (unreliable datagrams, the rate and RTT accessors), `stats.rs`,
//! `path_io.rs`, `keys.rs`, `handshake.rs`, `trace.rs`, `keep_alive.rs`
//! (a keep-alive exchange ends at rest), `spares.rs` (the endpoint's
//! spare allocations, lent for a call), `layout.rs` (the size of each
//! part, for the idle-memory breakdown).
//! Never: routes datagrams (the endpoint does), encodes frames by hand (the
//! wire layer does), or grows a frame handler for every concern: frames go
//! to the module that owns their state.

mod close;
mod datagrams;
mod deadlines;
mod handshake;
mod keep_alive;
mod keys;
pub mod layout;
mod outcomes;
mod path_io;
mod receive;
mod sent;
mod spares;
mod start;
mod stats;
mod stream_calls;
mod tickets;
mod timers;
#[cfg(feature = "trace")]
mod trace;
mod transmit;

pub use crate::ids::Role;
pub use stats::{CongestionStats, SessionStats};

pub(crate) use handshake::{Early, HandshakeState};

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use bytes::Bytes;
use core::net::SocketAddr;
use core::ops::Range;

use crate::config::Config;
use crate::event::Event;
use crate::ids::{NodeId, SessionId};
use crate::path::{DatagramSize, MtuConfig, PathStats, PathValidator};
use crate::queue::Queue;
use crate::recovery::{send_quantum, AckTracker, Outcome, Pacer, Recovery};
use crate::streams::{Datagrams, StreamManager};
use crate::time::Instant;
use crate::trace::{trace_event, TraceEvent};
use keys::Keys;
use sent::SentInfo;
pub(crate) use spares::Spares;
use stats::Counters;

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

/// Buffers a session reuses from packet to packet, boxed together so an
/// idle session pays one pointer for them.
#[derive(Debug, Default)]
struct Scratch {
    /// Acknowledged and lost packets' records, as recovery hands them back.
    outcomes: Vec<Outcome<SentInfo>>,
    /// The ranges of the next ACK frame.
    ack_ranges: Vec<Range<u64>>,
}

/// One session with a peer. Reached through
/// [`Endpoint::session_mut`](crate::Endpoint::session_mut).
pub struct Session {
    cfg: Arc<Config>,
    id: SessionId,
    peer_id: SessionId,
    /// The peer's validated address: everything but path probes goes here.
    peer: SocketAddr,
    /// Where the highest-numbered packet so far came from, when that is
    /// not `peer` (boxed: nearly always it is `peer`, and an idle session
    /// pays a pointer).
    latest_from: Option<Box<SocketAddr>>,
    /// Challenges, budgets and answers for addresses not yet validated.
    paths: PathValidator,
    role: Role,
    state: State,
    hs: Option<Box<HandshakeState>>,
    /// Packet keys once established, held in the record itself: every
    /// packet in or out reads them, a keep-alive included, so they share
    /// the record's allocation (and its pages) instead of hanging off a
    /// pointer of their own.
    keys: Option<Keys>,
    /// The peer's idle timeout in milliseconds, as its transport
    /// parameters gave it (0: none).
    peer_idle_timeout_ms: u64,
    next_pn: u64,
    recovery: Recovery<SentInfo>,
    acks: AckTracker,
    /// Built on the first packet paced, released with the idle trim
    /// (a quiet session's bucket is full, which a new pacer's is too).
    pacer: Option<Box<Pacer>>,
    /// The path's datagram size search; `datagram_size` is the size the
    /// window and the pacer were last told.
    mtu: DatagramSize,
    /// (A UDP payload's size: under 64 KiB.)
    datagram_size: u16,
    streams: StreamManager,
    /// Unreliable datagrams: a few bytes until the session uses them.
    dgrams: Datagrams,
    /// Latest time seen from the caller.
    now: Instant,
    created_at: Instant,
    last_rx: Instant,
    last_tx_eliciting: Instant,
    /// Initiator: the responder proved it has the keys.
    confirmed: bool,
    handshake_done_owed: bool,
    ping_owed: bool,
    /// Its only business since it last rested is a keep-alive exchange
    /// (`keep_alive.rs`).
    keep_alive_rest: bool,
    /// The CLOSE frame (code, reason) once closing, and whether it is due.
    close_frame: Option<Box<(u64, Bytes)>>,
    close_pending: bool,
    /// The peer reads STREAM_SKIP (its transport parameters said so):
    /// deadlines are acted on. A peer that does not gets every message
    /// reliably.
    peer_skips: bool,
    /// When paced data may go next.
    pacing_wait: Option<Instant>,
    events: Queue<Event>,
    counters: Counters,
    /// Buffers reused from packet to packet; `None` once the idle trim
    /// gave them back.
    scratch: Option<Box<Scratch>>,
    /// The endpoint's spare allocations while lent to this session (see
    /// `spares.rs`).
    spares: Option<Box<spares::SessionSpares>>,
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
        let recovery = Recovery::with_config(cfg.recovery.clone(), now);
        let acks = AckTracker::new(&cfg.recovery);
        let mtu = DatagramSize::new(
            MtuConfig::new(cfg.base_datagram_size, cfg.max_datagram_size),
            now,
        );
        let streams = StreamManager::new(cfg.streams.clone(), now);
        let dgrams = Datagrams::new(cfg.datagrams.priority);
        Session {
            id,
            peer_id: SessionId(0),
            peer,
            latest_from: None,
            paths: PathValidator::new(path_key),
            role,
            state: State::Handshake,
            hs: None,
            keys: None,
            peer_idle_timeout_ms: 0,
            next_pn: 0,
            recovery,
            acks,
            pacer: None,
            datagram_size: mtu.current_u16(),
            mtu,
            streams,
            dgrams,
            now,
            created_at: now,
            last_rx: now,
            last_tx_eliciting: now,
            confirmed: false,
            handshake_done_owed: false,
            ping_owed: false,
            keep_alive_rest: false,
            close_frame: None,
            close_pending: false,
            peer_skips: false,
            pacing_wait: None,
            events: Queue::new(),
            counters: Counters::default(),
            scratch: None,
            spares: None,
            #[cfg(feature = "trace")]
            trace: Default::default(),
            cfg,
        }
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
        self.keys.as_ref().map(|k| k.remote_node)
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
        if self.mtu.current_u16() != self.datagram_size {
            self.datagram_size = self.mtu.current_u16();
            let size = self.mtu.current();
            self.recovery.set_datagram_size(size);
            if let Some(pacer) = &mut self.pacer {
                send_quantum::resize_pacer(pacer, size);
            }
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
        let mut config = (*self.cfg.recovery).clone();
        config.controller = kind;
        self.recovery.reset_controller(&config);
    }

    /// The pacer, built for the current datagram size if there is none.
    fn pacer(&mut self) -> &mut Pacer {
        let (granularity, max) = (
            self.cfg.recovery.pacing_granularity,
            self.cfg.max_datagram_size,
        );
        let size = usize::from(self.datagram_size);
        if self.pacer.is_none() {
            let pacer = send_quantum::new_pacer(granularity, max, size);
            self.pacer = Some(crate::spare::rebox(self.spare_pacer(), pacer));
        }
        self.pacer.as_mut().expect("built just above")
    }

    /// The pacer's timer burst, without building a pacer for it (a
    /// session polled while idle must not allocate).
    fn timer_burst(&self) -> u64 {
        match &self.pacer {
            Some(pacer) => pacer.timer_burst(),
            None => send_quantum::new_pacer(
                self.cfg.recovery.pacing_granularity,
                self.cfg.max_datagram_size,
                usize::from(self.datagram_size),
            )
            .timer_burst(),
        }
    }

    /// The scratch buffers, taken out (made if the idle trim released
    /// them); put them back in `self.scratch` when done.
    fn take_scratch(&mut self) -> Box<Scratch> {
        self.scratch
            .take()
            .or_else(|| self.spare_scratch())
            .unwrap_or_default()
    }

    // ----- lifecycle -----

    /// True when the endpoint may drop the session.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// True while the responder's handshake is incomplete (half-open), or
    /// a resumed session has not yet heard the initiator's first packet.
    pub(crate) fn is_half_open(&self) -> bool {
        self.role == Role::Responder
            && (self.state == State::Handshake
                || (self.state == State::Established && !self.confirmed))
    }

    /// The next session event (stream events included).
    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        if let Some(e) = self.events.pop_front() {
            return Some(e);
        }
        if let Some(event) = self.dgrams.poll_event() {
            return Some(Event::Datagram {
                session: self.id,
                event,
            });
        }
        let event = self.streams.poll_event()?;
        #[cfg(feature = "trace")]
        self.trace_stream_event(&event);
        Some(Event::Stream {
            session: self.id,
            event,
        })
    }
}
