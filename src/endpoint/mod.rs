//! The endpoint: one node. Routes datagrams to sessions by session id,
//! accepts new sessions, and gathers what sessions want to send and tell.
//!
//! Owns: the session table, half-open handshake bookkeeping, Retry cookies,
//! stateless resets (`reset.rs`), session tickets, the strike register and
//! the ticket store (`tickets.rs`, `resume.rs`), the timer index, the
//! queues of transmits and events, and the spare allocations its sessions
//! gave back (kept in `session/spares.rs`, lent to each session called).
//! Never: reads a socket or a clock, or keeps state for a datagram that did
//! not prove the network key (or, under load, its address).

mod accept;
mod reset;
mod resume;
mod table;
#[cfg(test)]
mod tests;
mod ticket_file;
mod tickets;
pub(crate) mod timers;
#[cfg(feature = "trace")]
mod trace;

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::Arc;
use alloc::vec::Vec;
use bytes::Bytes;
use core::net::SocketAddr;

use crate::config::Config;
use crate::crypto::{CookieKey, CryptoError};
use crate::event::Event;
use crate::ids::{NodeId, SessionId, StreamId};
use crate::rand::Rng;
use crate::session::{Session, Spares};
use crate::streams::StreamError;
use crate::time::Instant;
use crate::trace::{trace_event, trace_swap, DropReason, TraceEvent};
use crate::wire::{peek_dst, Packet};
use reset::Resets;
use table::{Entry, Table};
pub use ticket_file::TicketImportError;
pub use tickets::TicketConfig;
use tickets::Tickets;
use timers::Timers;

/// Stateless datagrams (Retry, stateless reset) queued at most; more are
/// dropped.
const MAX_QUEUED_STATELESS: usize = 256;

/// Datagrams one session sends in a row before the next ready session's
/// turn. Sessions take turns in bursts rather than a datagram each: a burst
/// keeps one session's state (and, at the receiver, its reassembly buffers)
/// in cache, as a GSO batch would, while a turn stays short next to any
/// round trip. 64 is the most segments Linux puts in one GSO send; 64 x
/// 1,452 bytes (more than one 64 KiB message) is 0.74 ms at 1 Gbit/s.
/// Shorter turns cost throughput when many sessions send at once (what
/// `examples/pair --sessions 100` measures against one session); longer
/// ones make the others wait longer for theirs.
const SESSION_BURST: u32 = 64;

/// Events the drained event queue keeps room for; more is freed.
const KEPT_EVENT_CAPACITY: usize = 1024;

/// A datagram written by [`Endpoint::poll_transmit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transmit {
    /// Where to send it.
    pub destination: SocketAddr,
    /// Its length in the caller's buffer.
    pub len: usize,
}

/// Why `connect` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The endpoint holds `max_sessions` already.
    #[error("too many sessions")]
    TooManySessions,
    /// The handshake could not start.
    #[error("handshake setup failed: {0}")]
    Crypto(#[from] CryptoError),
}

/// What [`Endpoint::connect_with_early`] started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EarlyConnect {
    /// The new session.
    pub session: SessionId,
    /// How many of the messages, from the first, travel in the first
    /// flight as early data (0 without a ticket for the address).
    pub early: usize,
}

/// Endpoint-wide counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EndpointStats {
    /// Datagrams handed to `handle_datagram`.
    pub datagrams_received: u64,
    /// Datagrams whose header did not parse.
    pub malformed: u64,
    /// Datagrams for no known session.
    pub unknown_session: u64,
    /// Initials that failed authentication (wrong network key).
    pub handshakes_rejected: u64,
    /// Initials dropped: not accepting, or no room.
    pub initials_dropped: u64,
    /// Retry packets sent instead of keeping state.
    pub retries_sent: u64,
    /// Sessions accepted.
    pub sessions_accepted: u64,
    /// Stateless resets sent in answer to packets for unknown sessions.
    pub stateless_resets_sent: u64,
    /// Session tickets given to peers (as responder).
    pub tickets_issued: u64,
    /// Sessions accepted with a ticket: the resumed handshake (counted in
    /// `sessions_accepted` too).
    pub sessions_resumed: u64,
    /// Tickets refused (unknown key, expired, replayed, forged): those
    /// handshakes fell back to the full one.
    pub tickets_refused: u64,
    /// Sessions started with a stored ticket (as initiator).
    pub resumptions_attempted: u64,
}

/// One node of an STT network: the sans-IO core an application drives.
pub struct Endpoint {
    cfg: Arc<Config>,
    rng: Rng,
    /// Fuzzing builds only: a random stream of its own for handshake
    /// seeds, so an endpoint's k-th handshake draws the same ephemeral key
    /// in every run from the same seed whatever else drew from `rng`
    /// before it, and a fuzz target multiplies it once per process
    /// (`crypto/fuzz_memo.rs`).
    #[cfg(fuzzing)]
    handshake_rng: Rng,
    cookie: CookieKey,
    /// The sessions by the slot in their id's low bits, each with its
    /// flags (ready, dirty, stale, half-open) and indexed deadline.
    sessions: Table,
    /// Responder sessions still in their handshake: local id -> (peer
    /// address, initiator's id), and the reverse, to spot duplicates.
    half_open: BTreeMap<SessionId, (SocketAddr, SessionId)>,
    half_open_by_peer: BTreeMap<(SocketAddr, SessionId), SessionId>,
    /// Datagrams the session at the front of the ready queue sent in its
    /// turn.
    burst: u32,
    book: Book,
    timers: Timers,
    /// Scratch list of sessions due in `handle_timeout`.
    due: Vec<SessionId>,
    /// What resting sessions gave back, lent to each session called.
    spares: Spares,
    stateless: VecDeque<(SocketAddr, Vec<u8>)>,
    /// Peers' reset tokens, and the resets this node sends.
    resets: Resets,
    /// Ticket keys, the strike register and the ticket store.
    tickets: Tickets,
    stats: EndpointStats,
    /// The trace sink, when not lent to a session (`trace_lent`).
    #[cfg(feature = "trace")]
    trace: crate::trace::Tracer,
    #[cfg(feature = "trace")]
    trace_lent: Option<SessionId>,
}

/// The endpoint's work lists and event queue: what follows an interaction
/// with a session. An id enters a list only when its flag in the session's
/// [`Entry`] goes from false to true, so a list holds each session once;
/// lists are read through the table, and an id whose session is gone is
/// skipped there.
#[derive(Default)]
struct Book {
    /// Sessions that may have something to send, in turn order.
    ready: VecDeque<SessionId>,
    /// Sessions changed through `session_mut` since the last refresh.
    dirty: Vec<SessionId>,
    /// Sessions whose deadline may have moved since it was last indexed:
    /// re-indexed when the timers are consulted (`poll_timeout`,
    /// `handle_timeout`) rather than after every datagram in and out.
    stale: Vec<SessionId>,
    events: VecDeque<Event>,
}

/// What [`Book::after`] leaves for the endpoint to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    /// Nothing.
    Keep,
    /// The session finished its handshake: out of the half-open maps, and
    /// its peer's reset token into the index.
    Established,
    /// The session is over: out of the table.
    Done,
    /// The endpoint has ticket work with it (`resume.rs`).
    Ticket,
}

/// What [`Endpoint::call`] does once the call on a session returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// Book what followed ([`Book::after`]) and queue the session to send.
    Book,
    /// Book what followed without queueing it: it has nothing to send.
    BookIdle,
    /// Only note that its deadline may have moved: it sent a datagram,
    /// which changes nothing else the endpoint acts on (its events are
    /// booked when its turn ends).
    Reindex,
}

impl Book {
    /// After any interaction with session `e`: collect its events, mark it
    /// ready to send (if `ready`) and its deadline stale, and say whether
    /// it left the half-open state or ended.
    fn after(&mut self, e: &mut Entry, ready: bool) -> After {
        let id = e.session.id();
        if ready && !e.in_ready {
            e.in_ready = true;
            self.ready.push_back(id);
        }
        while let Some(ev) = e.session.poll_event() {
            self.events.push_back(ev);
        }
        if e.session.is_done() {
            return After::Done;
        }
        self.mark_stale(e);
        let mut after = After::Keep;
        if e.half_open && !e.session.is_half_open() {
            e.half_open = false;
            after = After::Established;
        }
        if !e.reset_indexed && e.session.peer_reset_token().is_some() {
            e.reset_indexed = true;
            after = After::Established;
        }
        if after == After::Keep && e.session.ticket_work() {
            after = After::Ticket;
        }
        after
    }

    fn mark_stale(&mut self, e: &mut Entry) {
        if !e.stale {
            e.stale = true;
            self.stale.push(e.session.id());
        }
    }
}

impl core::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Endpoint")
            .field("node_id", &self.cfg.node_id())
            .field("sessions", &self.sessions.len())
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// An endpoint. `seed` is its only source of randomness (session ids,
    /// ephemeral keys, cookie secret): give a fresh secret one in
    /// production; reuse one in tests to replay a run exactly.
    pub fn new(config: Config, seed: [u8; 32]) -> Self {
        let mut rng = Rng::from_seed(seed);
        let cookie = CookieKey::new(&rng.seed32());
        let tickets = Tickets::new(&config, &seed);
        let max_sessions = config.max_sessions;
        Endpoint {
            rng,
            #[cfg(fuzzing)]
            handshake_rng: Rng::from_seed(crate::crypto::blake2s256(&[
                b"stt fuzz handshakes",
                &seed,
            ])),
            cookie,
            sessions: Table::new(config.max_sessions),
            cfg: Arc::new(config),
            half_open: BTreeMap::new(),
            half_open_by_peer: BTreeMap::new(),
            burst: 0,
            book: Book::default(),
            timers: Timers::default(),
            due: Vec::new(),
            spares: Spares::new(max_sessions),
            stateless: VecDeque::new(),
            resets: Resets::new(&seed),
            tickets,
            stats: EndpointStats::default(),
            #[cfg(feature = "trace")]
            trace: Default::default(),
            #[cfg(feature = "trace")]
            trace_lent: None,
        }
    }

    /// This node's identity.
    pub fn node_id(&self) -> NodeId {
        self.cfg.node_id()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Endpoint-wide counters.
    pub fn stats(&self) -> EndpointStats {
        self.stats
    }

    /// An id for a new session, or `None` if the table is full: the slot
    /// the session will take in the low bits, random bits above, never 0
    /// (0 means "no id" in Initials).
    fn fresh_id(&mut self) -> Option<SessionId> {
        loop {
            let id = self.sessions.next_id(self.rng.next_u64())?;
            if id.0 != 0 {
                return Some(id);
            }
        }
    }

    /// The seed of a new handshake's ephemeral key.
    fn handshake_seed(&mut self) -> [u8; 32] {
        #[cfg(fuzzing)]
        {
            self.handshake_rng.seed32()
        }
        #[cfg(not(fuzzing))]
        {
            self.rng.seed32()
        }
    }

    /// Counts a datagram the endpoint dropped for `reason` in the counter
    /// that reason has in [`EndpointStats`], and traces it (one event per
    /// count, which `tests/trace.rs` checks).
    #[cfg_attr(not(feature = "trace"), allow(unused_variables))]
    fn count_drop(&mut self, now: Instant, reason: DropReason, len: usize) {
        match reason {
            DropReason::Malformed => self.stats.malformed += 1,
            DropReason::UnknownSession => self.stats.unknown_session += 1,
            DropReason::HandshakeRejected => self.stats.handshakes_rejected += 1,
            DropReason::OverBudget => self.stats.initials_dropped += 1,
            // Reasons a session counts in its own statistics.
            DropReason::Replay | DropReason::AuthFailure | DropReason::StaleKey => {}
        }
        trace_event!(
            self.trace,
            now,
            None,
            TraceEvent::DatagramDropped { reason, len }
        );
    }

    /// Starts a session with the node at `addr`. The returned id names it
    /// from now on; [`Event::Connected`] or [`Event::ConnectFailed`] follows.
    /// Messages may be queued on it right away.
    pub fn connect(&mut self, now: Instant, addr: SocketAddr) -> Result<SessionId, ConnectError> {
        self.start(now, addr, &[]).map(|c| c.session)
    }

    /// [`connect`](Self::connect), with `messages` queued on the new
    /// session in order, each on its stream (opened if need be). If this
    /// endpoint holds a session ticket for `addr`, the leading messages
    /// that fit the first flight (about 900 bytes, whole messages only)
    /// also travel in it as 0-RTT early data: the peer can read them half
    /// a round trip after `connect` and answer at once. The peer's
    /// application sees them flagged ([`Event::EarlyMessages`]); if the
    /// peer refuses the ticket they arrive after the handshake like any
    /// message and this side hears [`Event::EarlyRefused`].
    ///
    /// Early data can be replayed by whoever records the first flight
    /// (docs/SECURITY.md says when): send early only requests that are
    /// harmless to repeat.
    pub fn connect_with_early(
        &mut self,
        now: Instant,
        addr: SocketAddr,
        messages: &[(StreamId, Bytes)],
    ) -> Result<EarlyConnect, ConnectError> {
        self.start(now, addr, messages)
    }

    fn start(
        &mut self,
        now: Instant,
        addr: SocketAddr,
        early: &[(StreamId, Bytes)],
    ) -> Result<EarlyConnect, ConnectError> {
        let mut sent_early = 0;
        if self.sessions.len() >= self.cfg.max_sessions {
            return Err(ConnectError::TooManySessions);
        }
        let id = self.fresh_id().ok_or(ConnectError::TooManySessions)?;
        let seed = self.handshake_seed();
        let ticket = match self.cfg.tickets.resume {
            true => self.tickets.store.take(addr, now),
            false => None,
        };
        let s = match ticket {
            Some(t) => {
                self.stats.resumptions_attempted += 1;
                let early = self.early_frames(&t, id, early);
                sent_early = early.counts.iter().map(|(_, n)| *n as usize).sum();
                Session::initiator_resuming(self.cfg.clone(), id, addr, seed, now, &t, &early)?
            }
            None => Session::initiator(self.cfg.clone(), id, addr, seed, now)?,
        };
        if self.sessions.insert(s).is_none() {
            return Err(ConnectError::TooManySessions);
        }
        trace_event!(
            self.trace,
            now,
            Some(id),
            TraceEvent::SessionStarted {
                role: crate::ids::Role::Initiator,
                peer: addr
            }
        );
        self.call(id, Then::Book, |e| {
            for (stream, data) in early {
                let s = &mut e.session;
                // A stream id past the limit fails here as it would on
                // a later `send`; the messages that queued stay queued.
                if s.open_stream(*stream).is_ok() {
                    let _ = s.send(*stream, data.clone());
                }
            }
        });
        Ok(EarlyConnect {
            session: id,
            early: sent_early,
        })
    }

    /// Takes in one datagram received from `from`. The buffer is used as
    /// scratch space (packets are decrypted in place).
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, data: &mut [u8]) {
        self.stats.datagrams_received += 1;
        self.refresh();
        let Ok((long, dst)) = peek_dst(data) else {
            self.count_drop(now, DropReason::Malformed, data.len());
            return;
        };
        let len = data.len();
        if long {
            let Ok(Packet::Long { header, payload }) = Packet::parse(data) else {
                self.count_drop(now, DropReason::Malformed, len);
                return;
            };
            if header.dst.0 == 0 {
                match header.ty {
                    crate::wire::LongType::Initial => {
                        self.on_initial(now, from, &header, payload, len);
                        return;
                    }
                    crate::wire::LongType::Resume => {
                        self.on_resume(now, from, &header, payload, len);
                        return;
                    }
                    _ => {}
                }
            }
            let called = self.call(dst, Then::Book, |e| {
                e.session.handle_long(now, from, &header, payload, len);
            });
            if called.is_none() {
                self.count_drop(now, DropReason::UnknownSession, len);
            }
        } else {
            let header = match Packet::parse(data) {
                Ok(Packet::Short { header, .. }) => header,
                _ => {
                    self.count_drop(now, DropReason::Malformed, len);
                    return;
                }
            };
            let called = self.call(dst, Then::Book, |e| {
                e.session.handle_short(now, from, header, data);
            });
            if called.is_none() {
                self.on_unknown_short(now, from, dst, data);
            }
        }
    }

    /// **Not API; fuzzing builds only** (`cfg(fuzzing)`, which cargo-fuzz
    /// sets and no cargo feature can): hands `plaintext` to session `session` as if it had arrived
    /// from the peer's current address as packet `pn` and passed
    /// authentication, so fuzzers and tests can reach the frame handlers
    /// without holding the keys. Everything after decryption (replay
    /// window, frame dispatch, violations) runs exactly as for a real
    /// packet. Returns false if the session does not exist.
    #[cfg(fuzzing)]
    #[doc(hidden)]
    pub fn fuzz_inject_plaintext(
        &mut self,
        now: Instant,
        session: SessionId,
        pn: u64,
        plaintext: &[u8],
    ) -> bool {
        self.stats.datagrams_received += 1;
        self.refresh();
        self.fuzz_inject_plaintext_from(now, session, None, pn, plaintext)
    }

    /// **Not API; fuzzing builds only** (`cfg(fuzzing)`):
    /// [`fuzz_inject_plaintext`](Self::fuzz_inject_plaintext) as if the
    /// packet came from `from` (the peer's current address if `None`), so
    /// fuzzers reach path validation and migration.
    #[cfg(fuzzing)]
    #[doc(hidden)]
    pub fn fuzz_inject_plaintext_from(
        &mut self,
        now: Instant,
        session: SessionId,
        from: Option<SocketAddr>,
        pn: u64,
        plaintext: &[u8],
    ) -> bool {
        self.call(session, Then::Book, |e| {
            e.session.fuzz_inject_plaintext(now, from, pn, plaintext);
        })
        .is_some()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called:
    /// the earliest of the sessions' deadlines and, while the endpoint
    /// keeps allocations its resting sessions gave back for the next ones
    /// to wake, when those not taken again are freed (a second or two
    /// after they were given).
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.refresh();
        self.reindex_stale();
        match (self.timers.next(), self.spares.forget_at()) {
            (Some(t), Some(s)) => Some(t.min(s)),
            (t, s) => t.or(s),
        }
    }

    /// Runs every timer due at `now`. Each due session runs once per call:
    /// some deadlines (an acknowledgement owed) are met by the next
    /// `poll_transmit`, not here.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.refresh();
        self.reindex_stale();
        let mut due = core::mem::take(&mut self.due);
        while let Some(id) = self.timers.pop_due(now) {
            due.push(id);
        }
        for id in due.drain(..) {
            self.call(id, Then::Book, |e| {
                // Popped from the index: no longer indexed.
                e.deadline = None;
                e.session.handle_timeout(now);
            });
        }
        self.due = due;
        self.spares.on_time(now);
    }

    /// Writes the next datagram to send into `buf` (at least the configured
    /// datagram size) and says where it goes.
    #[inline]
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        self.refresh();
        if let Some((destination, d)) = self.stateless.pop_front() {
            if d.len() <= buf.len() {
                buf[..d.len()].copy_from_slice(&d);
                return Some(Transmit {
                    destination,
                    len: d.len(),
                });
            }
        }
        while let Some(&id) = self.book.ready.front() {
            let sent = self.call(id, Then::Reindex, |e| e.session.poll_transmit(now, buf));
            if let Some(Some((len, destination))) = sent {
                self.burst += 1;
                if self.burst >= SESSION_BURST {
                    // Round-robin: its next turn comes after the others'.
                    self.book.ready.rotate_left(1);
                    self.burst = 0;
                }
                return Some(Transmit { destination, len });
            }
            // Its turn is over: it had nothing more to send (or ended
            // while queued).
            self.book.ready.pop_front();
            self.burst = 0;
            if sent.is_some() {
                self.call(id, Then::BookIdle, |e| e.in_ready = false);
            }
        }
        self.spares.on_time(now);
        None
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.refresh();
        let e = self.book.events.pop_front();
        if e.is_none() && self.book.events.capacity() > KEPT_EVENT_CAPACITY {
            // A burst grew the queue past what the endpoint keeps: give it
            // back once drained (a burst that size allocates once more).
            self.book.events = VecDeque::new();
        }
        e
    }

    /// The session `id`, if it exists.
    pub fn session(&self, id: SessionId) -> Option<&Session> {
        self.sessions.get(id).map(|e| &e.session)
    }

    /// The session `id`, for calls that change it (streams, sends, close).
    pub fn session_mut(&mut self, id: SessionId) -> Option<&mut Session> {
        #[cfg(feature = "trace")]
        self.lend_trace(id);
        let e = self.sessions.get_mut(id)?;
        if !e.dirty {
            e.dirty = true;
            self.book.dirty.push(id);
        }
        Some(&mut e.session)
    }

    /// Ids of all sessions, ascending. Sorts them on each call: meant for
    /// the application's bookkeeping, not for a per-datagram loop.
    pub fn sessions(&self) -> impl Iterator<Item = SessionId> + '_ {
        let mut ids: Vec<SessionId> = self.sessions.ids().collect();
        ids.sort_unstable();
        ids.into_iter()
    }

    /// Sends `data` as one message on stream 0 of each session in `ids`
    /// (the chapter's `send_to_sessions`). Returns each session's result.
    pub fn send_to_sessions(
        &mut self,
        ids: &[SessionId],
        data: impl Into<Bytes>,
    ) -> Vec<(SessionId, Result<u64, StreamError>)> {
        let data = data.into();
        ids.iter()
            .map(|&id| {
                let r = match self.session_mut(id) {
                    Some(s) => s.send(0, data.clone()),
                    None => Err(StreamError::SessionClosed),
                };
                (id, r)
            })
            .collect()
    }

    /// Closes every session with `code` (application close).
    pub fn close_all(&mut self, code: u64, reason: &[u8]) {
        let ids: Vec<SessionId> = self.sessions().collect();
        for id in ids {
            if let Some(s) = self.session_mut(id) {
                s.close(code, reason);
            }
        }
    }

    // ----- bookkeeping -----

    /// Brings sessions changed through `session_mut` up to date, in the
    /// order they were changed.
    #[inline]
    fn refresh(&mut self) {
        #[cfg(feature = "trace")]
        self.reclaim_trace();
        if !self.book.dirty.is_empty() {
            self.refresh_dirty();
        }
    }

    fn refresh_dirty(&mut self) {
        let mut dirty = core::mem::take(&mut self.book.dirty);
        for id in dirty.drain(..) {
            self.call(id, Then::Book, |e| e.dirty = false);
        }
        self.book.dirty = dirty;
    }

    /// Runs `f` on session `id`'s entry with the trace sink lent to the
    /// session, then does what `then` says (book what followed, settle it)
    /// and takes the sink back. `None` if there is no session `id`.
    ///
    /// Every call through which the endpoint changes a session goes
    /// through here, so the sink is back with the endpoint when it
    /// returns. Generic over `f`: each caller gets its own inlined copy,
    /// with no allocation or dynamic dispatch on the per-datagram path.
    #[inline]
    fn call<R>(&mut self, id: SessionId, then: Then, f: impl FnOnce(&mut Entry) -> R) -> Option<R> {
        let e = self.sessions.get_mut(id)?;
        trace_swap!(self.trace, e.session);
        e.session.swap_spares(&mut self.spares);
        let r = f(e);
        let after = match then {
            Then::Book => self.book.after(e, true),
            Then::BookIdle => self.book.after(e, false),
            Then::Reindex => {
                self.book.mark_stale(e);
                After::Keep
            }
        };
        e.session.swap_spares(&mut self.spares);
        trace_swap!(self.trace, e.session);
        self.settle(id, after);
        Some(r)
    }

    /// Does what [`Book::after`] left to do for session `id`.
    #[inline]
    fn settle(&mut self, id: SessionId, after: After) {
        match after {
            After::Keep => {}
            After::Established => {
                // A resumed responder has its keys (and its peer's token)
                // but stays half-open until the initiator's first packet.
                if !self.sessions.get(id).is_some_and(|e| e.half_open) {
                    self.forget_half_open(id);
                }
                self.index_reset_token(id);
                self.ticket_work(id);
            }
            After::Ticket => self.ticket_work(id),
            After::Done => self.remove(id),
        }
    }

    fn remove(&mut self, id: SessionId) {
        let Some(e) = self.sessions.remove(id) else {
            return;
        };
        self.timers.set(id, e.deadline, None);
        if e.half_open {
            self.forget_half_open(id);
        }
        // A session's keys, and the token with them, are set once and kept
        // until it leaves the table: the token it was filed under.
        if let Some(token) = e.session.peer_reset_token().filter(|_| e.reset_indexed) {
            self.unindex_reset_token(id, &token.0);
        }
    }

    fn forget_half_open(&mut self, id: SessionId) {
        if let Some(key) = self.half_open.remove(&id) {
            self.half_open_by_peer.remove(&key);
        }
    }

    fn reindex_stale(&mut self) {
        for id in self.book.stale.drain(..) {
            let Some(e) = self.sessions.get_mut(id) else {
                continue;
            };
            e.stale = false;
            let next = e.session.next_timeout();
            self.timers.set(id, e.deadline, next);
            e.deadline = next;
        }
    }
}
