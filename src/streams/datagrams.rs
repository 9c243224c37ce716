//! Unreliable datagrams: the bounded queues beside a session's streams.
//!
//! Owns: the send queue (bounded in bytes and in count, oldest dropped
//! first, optional per-datagram deadlines), the receive queue (bounded the
//! same way), the fates of the datagrams the application asked to follow,
//! the datagram counters, and the turn rule against the streams' priority.
//! Never: encodes frames, reads a clock or resends: a datagram is sent at
//! most once, and a lost one is reported, never queued again. Nothing is
//! allocated until the session first sends or receives a datagram, so an
//! idle session holds a few bytes for all of this.
//!
//! Memory bound: what the queues hold is capped by [`DatagramLimits`]; the
//! fates of sent datagrams wait in a list as long as their packets are in
//! flight (so the congestion window bounds it); reports not yet read by the
//! application are capped at [`MAX_PENDING_REPORTS`], oldest dropped.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use bytes::Bytes;
use core::time::Duration;

use super::scheduler::{DEFAULT_PRIORITY, MAX_PRIORITY};
use crate::time::Instant;

/// Fate reports a session keeps for the application at most; past it the
/// oldest report is dropped.
pub const MAX_PENDING_REPORTS: usize = 4096;

/// How long after the application last queued a datagram the session
/// still counts as carrying them ([`Datagrams::in_use`]): longer than the
/// gap between a game's or a voice call's datagrams, short enough that a
/// session which stopped sending them is soon a plain bulk session again.
const IN_USE_FOR: Duration = Duration::from_secs(1);

/// Bounds and defaults of a session's unreliable datagrams.
///
/// ```
/// let mut limits = stt::DatagramLimits::default();
/// limits.send_queue_len = 8; // a game: never more than 8 states queued
/// let config = stt::Config::builder(b"node-seed-0123456789", b"network-seed-0123456789")
///     .datagrams(limits)
///     .build()?;
/// assert_eq!(config.datagrams().send_queue_len, 8);
/// # Ok::<(), stt::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DatagramLimits {
    /// Largest DATAGRAM frame (type, length and data) this side accepts,
    /// announced in the handshake; 0 refuses datagrams, and a peer that
    /// sends one anyway breaks the protocol. Held to `recv_queue_bytes`
    /// plus the frame's overhead. Default 65,535.
    pub max_frame_size: u64,
    /// Bytes of datagrams waiting to be sent, at most; a datagram that
    /// would go past it pushes out the oldest ones (counted in
    /// `SessionStats::datagrams_send_dropped`). Default 256 KiB.
    pub send_queue_bytes: usize,
    /// Datagrams waiting to be sent, at most (oldest dropped first, as for
    /// bytes). Default 256.
    pub send_queue_len: usize,
    /// Bytes of received datagrams held until the application reads them;
    /// past it the oldest are dropped (counted in
    /// `SessionStats::datagrams_recv_dropped`). Default 256 KiB.
    pub recv_queue_bytes: usize,
    /// Received datagrams held, at most (oldest dropped first). Default 256.
    pub recv_queue_len: usize,
    /// Priority of datagrams against the session's streams, 0..=1000 like
    /// a stream's (held to 1000); default 500, a new stream's. Above the
    /// highest stream with data, datagrams fill each packet first; below
    /// it, they take what the streams leave; equal, the two lead packets by
    /// turns.
    pub priority: u16,
}

impl Default for DatagramLimits {
    fn default() -> Self {
        DatagramLimits {
            max_frame_size: 65_535,
            send_queue_bytes: 256 << 10,
            send_queue_len: 256,
            recv_queue_bytes: 256 << 10,
            recv_queue_len: 256,
            priority: DEFAULT_PRIORITY,
        }
    }
}

impl DatagramLimits {
    /// The DATAGRAM frame size this side announces: what the receive queue
    /// can hold (a datagram of `recv_queue_bytes` plus its frame overhead)
    /// and no more than asked.
    pub(crate) fn announced_frame_size(&self) -> u64 {
        let queue = crate::wire::datagram_frame_len(self.recv_queue_bytes) as u64;
        self.max_frame_size.min(queue)
    }
}

/// The handle of a datagram the session accepted, for its fate reports:
/// numbered from 0 in the order of `send_datagram` calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DatagramId(u64);

impl DatagramId {
    /// The number: 0 for the session's first datagram, then one up per
    /// call.
    pub fn get(self) -> u64 {
        self.0
    }
}

/// How one datagram is sent: an optional deadline, and whether its fate is
/// reported.
///
/// ```
/// let opts = stt::DatagramOptions::new()
///     .deadline(stt::Instant::from_millis(150))
///     .report_fate(true);
/// assert_eq!(opts.deadline, Some(stt::Instant::from_millis(150)));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DatagramOptions {
    /// Drop the datagram, unsent, if it is still queued at this time (a
    /// [`DatagramEvent::Expired`] if its fate is reported). `None`: it
    /// waits until sent or pushed out of the queue.
    pub deadline: Option<Instant>,
    /// Report what became of it: [`DatagramEvent::Acknowledged`],
    /// [`DatagramEvent::Lost`], [`DatagramEvent::Expired`] or
    /// [`DatagramEvent::Dropped`], exactly one.
    pub report_fate: bool,
}

impl DatagramOptions {
    /// No deadline, no fate report.
    pub fn new() -> Self {
        DatagramOptions::default()
    }

    /// Sets the deadline.
    pub fn deadline(mut self, at: Instant) -> Self {
        self.deadline = Some(at);
        self
    }

    /// Asks for (or not) a report of the datagram's fate.
    pub fn report_fate(mut self, yes: bool) -> Self {
        self.report_fate = yes;
        self
    }
}

/// Something that happened to the session's datagrams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DatagramEvent {
    /// Datagrams wait to be read with `Session::recv_datagram` (sent once
    /// until reads empty the queue).
    Readable,
    /// The packet that carried it was acknowledged: the peer has it.
    Acknowledged(DatagramId),
    /// The packet that carried it was declared lost. It is not resent.
    Lost(DatagramId),
    /// Its deadline passed before it could be sent; it never left.
    Expired(DatagramId),
    /// It never left: pushed out of a full send queue by newer ones, or
    /// larger than the path's datagram size became.
    Dropped(DatagramId),
}

/// Errors of datagram calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DatagramError {
    /// The handshake has not completed: the peer's limits are not known.
    #[error("the session is not established yet")]
    NotEstablished,
    /// The peer did not accept datagrams in its handshake parameters.
    #[error("the peer does not accept datagrams")]
    NotAccepted,
    /// The datagram is larger than `Session::max_datagram_payload` (the
    /// path's datagram size, the peer's limit or the send queue's).
    #[error("datagram of {size} bytes exceeds the maximum of {max}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The largest payload the session can send now.
        max: usize,
    },
    /// The session is closing or closed.
    #[error("the session is closed")]
    SessionClosed,
    /// Priority outside 0..=1000.
    #[error("priority {0} is outside 0..=1000")]
    InvalidPriority(u16),
}

/// Datagram counters of one session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DatagramCounters {
    pub sent: u64,
    pub received: u64,
    pub send_dropped: u64,
    pub expired: u64,
    pub lost: u64,
    pub acked: u64,
    pub recv_dropped: u64,
}

/// A datagram that left the send queue without being sent, with its
/// payload length: what the session traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unsent {
    /// Its deadline passed while it was queued.
    Expired(DatagramId, usize),
    /// Pushed out of the full queue, or too large for the path.
    Dropped(DatagramId, usize),
}

/// A datagram waiting to be sent.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub data: Bytes,
    pub id: DatagramId,
    deadline: Option<Instant>,
    report: bool,
}

/// Everything a session that has used datagrams holds for them.
#[derive(Debug, Default)]
struct Queues {
    // Invariant: `send_bytes` is the sum of `send`'s lengths, and
    // `recv_bytes` of `recv`'s.
    send: VecDeque<Outgoing>,
    send_bytes: usize,
    recv: VecDeque<Bytes>,
    recv_bytes: usize,
    /// Earliest deadline in `send`, or earlier (a datagram since sent).
    earliest: Option<Instant>,
    /// (packet number, datagram) of followed datagrams in flight, by
    /// packet number.
    in_flight: VecDeque<(u64, DatagramId)>,
    reports: VecDeque<DatagramEvent>,
    /// A `Readable` is owed; `notified`: one went and reads have not
    /// emptied the queue since.
    readable_owed: bool,
    notified: bool,
    next_id: u64,
    counters: DatagramCounters,
    /// When the application last queued a datagram.
    last_queued: Option<Instant>,
}

/// A session's datagram state: a few bytes until first used.
#[derive(Debug)]
pub(crate) struct Datagrams {
    /// Largest DATAGRAM frame the peer accepts (0: none), held to 32 bits
    /// (no packet is larger).
    pub peer_max_frame: u32,
    priority: u16,
    /// At equal priority: datagrams led the last packet both wanted.
    led_last: bool,
    q: Option<Box<Queues>>,
}

impl Datagrams {
    /// Nothing queued, datagrams at `priority` (held to 1000).
    pub fn new(priority: u16) -> Self {
        Datagrams {
            peer_max_frame: 0,
            priority: priority.min(MAX_PRIORITY),
            led_last: false,
            q: None,
        }
    }

    fn queues(&mut self) -> &mut Queues {
        self.q.get_or_insert_with(Default::default)
    }

    /// Priority against the streams.
    pub fn priority(&self) -> u16 {
        self.priority
    }

    /// Sets the priority against the streams.
    pub fn set_priority(&mut self, priority: u16) -> Result<(), DatagramError> {
        if priority > MAX_PRIORITY {
            return Err(DatagramError::InvalidPriority(priority));
        }
        self.priority = priority;
        Ok(())
    }

    /// Queues `data` (its size already checked) and returns its handle; the
    /// oldest queued datagrams go if the queue is then over its bounds. One
    /// whose deadline is already past is expired at once. Each datagram
    /// that goes unsent is shown to `unsent`.
    pub fn push(
        &mut self,
        now: Instant,
        data: Bytes,
        opts: DatagramOptions,
        limits: &DatagramLimits,
        mut unsent: impl FnMut(Unsent),
    ) -> DatagramId {
        let q = self.queues();
        let id = DatagramId(q.next_id);
        q.next_id += 1;
        q.last_queued = Some(now);
        if opts.deadline.is_some_and(|d| d <= now) {
            unsent(Unsent::Expired(id, data.len()));
            q.counters.expired += 1;
            if opts.report_fate {
                q.report(DatagramEvent::Expired(id));
            }
            return id;
        }
        if let Some(d) = opts.deadline {
            q.earliest = Some(q.earliest.map_or(d, |e| e.min(d)));
        }
        q.send_bytes += data.len();
        q.send.push_back(Outgoing {
            data,
            id,
            deadline: opts.deadline,
            report: opts.report_fate,
        });
        while q.send.len() > limits.send_queue_len.max(1) || q.send_bytes > limits.send_queue_bytes
        {
            let Some(old) = q.send.pop_front() else {
                break;
            };
            q.drop_unsent(old, &mut unsent);
        }
        id
    }

    /// True if the application queued a datagram less than a second
    /// before `now`: the session carries them, and its streams and its
    /// controller make room for them (see `Session::poll_transmit`).
    #[inline]
    pub fn in_use(&self, now: Instant) -> bool {
        self.q
            .as_ref()
            .and_then(|q| q.last_queued)
            .is_some_and(|t| now.saturating_duration_since(t) < IN_USE_FOR)
    }

    /// True if a datagram waits to be sent.
    #[inline]
    pub fn has_pending(&self) -> bool {
        self.q.as_ref().is_some_and(|q| !q.send.is_empty())
    }

    /// When a queued datagram's deadline passes next (perhaps earlier: a
    /// datagram since sent).
    #[inline]
    pub fn next_deadline(&self) -> Option<Instant> {
        self.q.as_ref().and_then(|q| q.earliest)
    }

    /// Drops every queued datagram whose deadline is at or before `now`,
    /// showing each to `unsent`. Called for every packet built: the common
    /// case (no deadline due) is one comparison, inlined.
    #[inline(always)]
    pub fn expire(&mut self, now: Instant, unsent: impl FnMut(Unsent)) {
        if self.next_deadline().is_some_and(|e| e <= now) {
            self.expire_due(now, unsent);
        }
    }

    fn expire_due(&mut self, now: Instant, mut unsent: impl FnMut(Unsent)) {
        let Some(q) = self.q.as_mut() else {
            return;
        };
        let mut earliest = None;
        let mut i = 0;
        while i < q.send.len() {
            match q.send[i].deadline {
                Some(d) if d <= now => {
                    if let Some(old) = q.send.remove(i) {
                        unsent(Unsent::Expired(old.id, old.data.len()));
                        q.send_bytes -= old.data.len();
                        q.counters.expired += 1;
                        if old.report {
                            q.report(DatagramEvent::Expired(old.id));
                        }
                    }
                }
                d => {
                    if let Some(d) = d {
                        earliest = Some(earliest.map_or(d, |e: Instant| e.min(d)));
                    }
                    i += 1;
                }
            }
        }
        q.earliest = earliest;
    }

    /// True if datagrams lead the next packet, given the priority of the
    /// first stream with data (`None`: none has any). At equal priority
    /// the lead alternates, one packet each.
    pub fn leads(&mut self, top_stream: Option<u16>) -> bool {
        match top_stream {
            None => true,
            Some(p) if p != self.priority => self.priority > p,
            Some(_) => {
                self.led_last = !self.led_last;
                self.led_last
            }
        }
    }

    /// Length of the datagram at the head of the send queue.
    pub fn head_len(&self) -> Option<usize> {
        self.q.as_ref()?.send.front().map(|o| o.data.len())
    }

    /// Takes the datagram at the head of the send queue.
    pub fn pop(&mut self) -> Option<Outgoing> {
        let q = self.q.as_mut()?;
        let o = q.send.pop_front()?;
        q.send_bytes -= o.data.len();
        Some(o)
    }

    /// Drops the datagram at the head of the send queue unsent (it no
    /// longer fits the path), showing it to `unsent`.
    pub fn drop_head(&mut self, mut unsent: impl FnMut(Unsent)) {
        let Some(q) = self.q.as_mut() else {
            return;
        };
        if let Some(o) = q.send.pop_front() {
            q.drop_unsent(o, &mut unsent);
        }
    }

    /// `o` went out in packet `pn`.
    pub fn on_sent(&mut self, pn: u64, o: &Outgoing) {
        let q = self.queues();
        q.counters.sent += 1;
        if o.report {
            q.in_flight.push_back((pn, o.id));
        }
    }

    /// Packet `pn`, which carried `count` datagrams, was acknowledged
    /// (`acked`) or declared lost.
    pub fn on_outcome(&mut self, pn: u64, count: u8, acked: bool) {
        let q = self.queues();
        let n = u64::from(count);
        if acked {
            q.counters.acked += n;
        } else {
            q.counters.lost += n;
        }
        let at = q.in_flight.partition_point(|(p, _)| *p < pn);
        while let Some(&(p, id)) = q.in_flight.get(at) {
            if p != pn {
                break;
            }
            q.in_flight.remove(at);
            q.report(if acked {
                DatagramEvent::Acknowledged(id)
            } else {
                DatagramEvent::Lost(id)
            });
        }
    }

    /// A datagram arrived: held for the application, pushing out the oldest
    /// ones past the receive bounds.
    pub fn on_received(&mut self, data: &[u8], limits: &DatagramLimits) {
        let q = self.queues();
        q.counters.received += 1;
        q.recv_bytes += data.len();
        q.recv.push_back(Bytes::copy_from_slice(data));
        while q.recv.len() > limits.recv_queue_len.max(1) || q.recv_bytes > limits.recv_queue_bytes
        {
            let Some(old) = q.recv.pop_front() else {
                break;
            };
            q.recv_bytes -= old.len();
            q.counters.recv_dropped += 1;
        }
        if !q.notified && !q.recv.is_empty() {
            q.notified = true;
            q.readable_owed = true;
        }
    }

    /// The oldest received datagram not yet read.
    pub fn recv(&mut self) -> Option<Bytes> {
        let q = self.q.as_mut()?;
        let d = q.recv.pop_front();
        if let Some(d) = &d {
            q.recv_bytes -= d.len();
        }
        if q.recv.is_empty() {
            q.notified = false;
            q.readable_owed = false;
        }
        d
    }

    /// The next report for the application.
    pub fn poll_event(&mut self) -> Option<DatagramEvent> {
        let q = self.q.as_mut()?;
        if q.readable_owed {
            q.readable_owed = false;
            return Some(DatagramEvent::Readable);
        }
        q.reports.pop_front()
    }

    /// The counters (all zero until first used).
    pub fn counters(&self) -> DatagramCounters {
        self.q
            .as_ref()
            .map_or_else(Default::default, |q| q.counters)
    }

    /// Datagrams and bytes waiting to be sent.
    pub fn queued(&self) -> (usize, usize) {
        self.q
            .as_ref()
            .map_or((0, 0), |q| (q.send.len(), q.send_bytes))
    }
}

impl Queues {
    fn report(&mut self, e: DatagramEvent) {
        if self.reports.len() >= MAX_PENDING_REPORTS {
            self.reports.pop_front();
        }
        self.reports.push_back(e);
    }

    /// `o`, taken from the send queue, is dropped unsent.
    fn drop_unsent(&mut self, o: Outgoing, unsent: &mut impl FnMut(Unsent)) {
        unsent(Unsent::Dropped(o.id, o.data.len()));
        self.send_bytes -= o.data.len();
        self.counters.send_dropped += 1;
        if o.report {
            self.report(DatagramEvent::Dropped(o.id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn limits(len: usize, bytes: usize) -> DatagramLimits {
        DatagramLimits {
            send_queue_len: len,
            send_queue_bytes: bytes,
            recv_queue_len: len,
            recv_queue_bytes: bytes,
            ..DatagramLimits::default()
        }
    }

    fn events(d: &mut Datagrams) -> Vec<DatagramEvent> {
        core::iter::from_fn(|| d.poll_event()).collect()
    }

    const T0: Instant = Instant::from_millis(1);
    const FOLLOW: DatagramOptions = DatagramOptions {
        deadline: None,
        report_fate: true,
    };

    #[test]
    fn nothing_is_allocated_until_used() {
        let d = Datagrams::new(500);
        assert!(d.q.is_none());
        assert!(!d.has_pending());
        assert_eq!(d.counters(), DatagramCounters::default());
        assert!(core::mem::size_of::<Datagrams>() <= 16);
    }

    #[test]
    fn in_use_for_a_second_after_the_last_queued() {
        let mut d = Datagrams::new(500);
        assert!(!d.in_use(T0));
        d.push(
            T0,
            Bytes::from_static(b"x"),
            FOLLOW,
            &limits(8, 1000),
            |_| {},
        );
        let _ = d.pop();
        assert!(
            d.in_use(T0 + Duration::from_millis(999)),
            "sent, still in use"
        );
        assert!(!d.in_use(T0 + Duration::from_secs(1)));
    }

    #[test]
    fn a_full_send_queue_drops_the_oldest_and_counts() {
        let mut d = Datagrams::new(500);
        let l = limits(3, 1000);
        let ids: Vec<_> = (0..5u8)
            .map(|i| d.push(T0, Bytes::from(alloc::vec![i; 10]), FOLLOW, &l, |_| {}))
            .collect();
        assert_eq!(d.queued(), (3, 30));
        assert_eq!(d.counters().send_dropped, 2);
        assert_eq!(
            events(&mut d),
            [
                DatagramEvent::Dropped(ids[0]),
                DatagramEvent::Dropped(ids[1])
            ]
        );
        assert_eq!(d.pop().map(|o| o.id), Some(ids[2]));
        // The byte bound: the oldest go until the bytes fit.
        let l = limits(100, 700);
        d.push(T0, Bytes::from(alloc::vec![0; 600]), FOLLOW, &l, |_| {});
        assert_eq!(d.queued(), (3, 620));
        d.push(T0, Bytes::from(alloc::vec![0; 100]), FOLLOW, &l, |_| {});
        assert_eq!(d.queued(), (2, 700));
        d.push(T0, Bytes::from(alloc::vec![0; 1]), FOLLOW, &l, |_| {});
        assert_eq!(d.queued(), (2, 101), "the 600 went");
    }

    #[test]
    fn deadlines_expire_unsent_datagrams() {
        let mut d = Datagrams::new(500);
        let l = limits(10, 1000);
        let late = FOLLOW.deadline(Instant::from_millis(10));
        let a = d.push(T0, Bytes::from_static(b"a"), late, &l, |_| {});
        let b = d.push(T0, Bytes::from_static(b"b"), FOLLOW, &l, |_| {});
        let c = d.push(
            T0,
            Bytes::from_static(b"c"),
            FOLLOW.deadline(Instant::from_millis(20)),
            &l,
            |_| {},
        );
        let mut unsent = Vec::new();
        assert_eq!(d.next_deadline(), Some(Instant::from_millis(10)));
        d.expire(Instant::from_millis(9), |u| unsent.push(u));
        assert_eq!(d.queued().0, 3);
        d.expire(Instant::from_millis(10), |u| unsent.push(u));
        assert_eq!(d.queued().0, 2);
        assert_eq!(d.next_deadline(), Some(Instant::from_millis(20)));
        d.expire(Instant::from_millis(30), |u| unsent.push(u));
        assert_eq!(unsent, [Unsent::Expired(a, 1), Unsent::Expired(c, 1)]);
        assert_eq!(d.next_deadline(), None);
        assert_eq!(d.pop().map(|o| o.id), Some(b));
        assert_eq!(
            events(&mut d),
            [DatagramEvent::Expired(a), DatagramEvent::Expired(c)]
        );
        // Already late when sent: expired at once, never queued.
        let e = d.push(
            Instant::from_millis(50),
            Bytes::from_static(b"e"),
            late,
            &l,
            |_| {},
        );
        assert!(!d.has_pending());
        assert_eq!(events(&mut d), [DatagramEvent::Expired(e)]);
        assert_eq!(d.counters().expired, 3);
    }

    #[test]
    fn a_head_too_large_for_the_path_is_dropped_and_uncounted_once() {
        let mut d = Datagrams::new(500);
        let l = limits(10, 1000);
        let a = d.push(T0, Bytes::from(alloc::vec![0; 300]), FOLLOW, &l, |_| {});
        d.push(T0, Bytes::from(alloc::vec![0; 200]), FOLLOW, &l, |_| {});
        let mut unsent = Vec::new();
        d.drop_head(|u| unsent.push(u));
        assert_eq!(unsent, [Unsent::Dropped(a, 300)]);
        assert_eq!(d.queued(), (1, 200));
        assert_eq!(events(&mut d), [DatagramEvent::Dropped(a)]);
        assert_eq!(d.counters().send_dropped, 1);
    }

    #[test]
    fn fates_follow_their_packets_and_unfollowed_ones_are_only_counted() {
        let mut d = Datagrams::new(500);
        let l = limits(10, 1000);
        let a = d.push(T0, Bytes::from_static(b"a"), FOLLOW, &l, |_| {});
        let _b = d.push(
            T0,
            Bytes::from_static(b"b"),
            DatagramOptions::new(),
            &l,
            |_| {},
        );
        let c = d.push(T0, Bytes::from_static(b"c"), FOLLOW, &l, |_| {});
        let oa = d.pop().unwrap();
        d.on_sent(7, &oa);
        let ob = d.pop().unwrap();
        d.on_sent(7, &ob);
        let oc = d.pop().unwrap();
        d.on_sent(8, &oc);
        d.on_outcome(8, 1, false);
        d.on_outcome(7, 2, true);
        d.on_outcome(9, 0, true);
        assert_eq!(
            events(&mut d),
            [DatagramEvent::Lost(c), DatagramEvent::Acknowledged(a)]
        );
        let k = d.counters();
        assert_eq!((k.sent, k.acked, k.lost), (3, 2, 1));
    }

    #[test]
    fn receive_queue_is_bounded_and_readable_is_sent_once() {
        let mut d = Datagrams::new(500);
        let l = limits(2, 1000);
        d.on_received(b"1", &l);
        d.on_received(b"2", &l);
        d.on_received(b"3", &l);
        assert_eq!(events(&mut d), [DatagramEvent::Readable]);
        assert_eq!(d.counters().recv_dropped, 1);
        assert_eq!(d.recv().as_deref(), Some(&b"2"[..]));
        d.on_received(b"4", &l);
        assert_eq!(events(&mut d), [], "not drained yet: no new event");
        assert_eq!(d.recv().as_deref(), Some(&b"3"[..]));
        assert_eq!(d.recv().as_deref(), Some(&b"4"[..]));
        assert_eq!(d.recv(), None);
        d.on_received(b"5", &l);
        assert_eq!(events(&mut d), [DatagramEvent::Readable]);
        assert_eq!(d.counters().received, 5);
    }

    #[test]
    fn priority_against_the_streams() {
        let mut d = Datagrams::new(500);
        assert!(d.leads(None));
        assert!(d.leads(Some(499)));
        assert!(!d.leads(Some(501)));
        let turns: Vec<bool> = (0..4).map(|_| d.leads(Some(500))).collect();
        assert_eq!(turns, [true, false, true, false]);
        assert_eq!(
            d.set_priority(1001),
            Err(DatagramError::InvalidPriority(1001))
        );
        d.set_priority(1000).unwrap();
        assert!(d.leads(Some(1000)), "the alternation goes on");
        assert_eq!(Datagrams::new(5000).priority(), MAX_PRIORITY);
    }

    #[test]
    fn announced_size_fits_the_receive_queue() {
        assert_eq!(DatagramLimits::default().announced_frame_size(), 65_535);
        let small = limits(4, 1000);
        assert_eq!(small.announced_frame_size(), 1003);
        let off = DatagramLimits {
            max_frame_size: 0,
            ..DatagramLimits::default()
        };
        assert_eq!(off.announced_frame_size(), 0);
    }
}
