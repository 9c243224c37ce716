//! `pair_ops`: the application API of both sides of a real session, played
//! by the fuzzer over a faulty network (drops, duplicates, reordering,
//! delays, time jumps). At the end the network turns lossless and the pair
//! runs until quiet; then the delivery contract must hold: every message
//! sent on a stream that was neither reset nor closed by its receiver
//! arrives exactly once, whole, in order, and nothing arrives that was not
//! sent.

use arbitrary::{Arbitrary, Unstructured};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use stt::{CloseReason, Event, SessionId, StreamError};

use super::net::{Fault, Net};

/// What one run may ask for.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Total bytes queued by sends.
    pub bytes: usize,
    /// Messages queued by sends (a `send_all` of tiny segments is made of
    /// fewer, longer ones near the limit).
    pub messages: usize,
    /// Largest `send_all` one op asks for (its segments range from one
    /// byte up).
    pub send_all: usize,
    /// Simulated time the `Advance` ops may let pass in all.
    pub advance: Duration,
    /// Ops read from the input.
    pub ops: usize,
}

/// The limits of fuzzed inputs, so one stays a few million instructions
/// (each datagram sent and received costs about 0.1 M, and each message is
/// framed, parsed, summarised for the trace and checked): enough for a
/// message to span many packets, several streams to share the link and
/// one stream to fill its flow window (32 KiB at first), and time past
/// the idle timeout (5 s), so keep-alives, probes and idle ends happen.
pub const FUZZ: Limits = Limits {
    bytes: 36 << 10,
    messages: 128,
    send_all: 36 << 10,
    advance: Duration::from_secs(8),
    ops: 128,
};

/// Wider limits (megabytes, messages of the maximum size, minutes of
/// simulated time; tens of millions of instructions an input), under
/// which `tests/fuzz_regressions.rs` also replays the reproducers of
/// `tests/fuzz_regressions/pair_ops/`: several need more than [`FUZZ`]
/// allows to reach the state they pin.
pub const WIDE: Limits = Limits {
    bytes: 2 << 20,
    messages: usize::MAX,
    send_all: 256 << 10,
    advance: Duration::from_secs(1_024),
    ops: 512,
};

/// One operation. `side` true is `a`, false is `b`.
#[derive(Debug, Arbitrary)]
pub enum Op {
    /// `send` one message of `size` bytes.
    Send(bool, u8, u16),
    /// `send_all` of `size` bytes in segments of `segment` bytes.
    SendAll(bool, u8, u32, u16),
    /// Read every ready message of a stream.
    Recv(bool, u8),
    /// Close a stream gracefully.
    CloseStream(bool, u8),
    /// Reset a stream.
    Reset(bool, u8, u8),
    /// Set a stream's priority.
    SetPriority(bool, u8, u16),
    /// Create a stream.
    CreateStream(bool, u8),
    /// Lose the next datagram.
    DropNext,
    /// Deliver the next datagram twice.
    DuplicateNext,
    /// Deliver the next datagram after later ones.
    ReorderNext,
    /// Deliver the next datagram this many milliseconds late.
    DelayNext(u8),
    /// Let time pass.
    Advance(u16),
    /// One network step.
    Step,
}

/// Per direction and stream: what was sent, what arrived, and whether the
/// contract still applies.
#[derive(Default)]
struct Flow {
    /// Lengths of the messages sent, by sequence number.
    sent: Vec<usize>,
    /// Messages received so far.
    received: usize,
    /// Reset by either side, or closed by the receiver: only order and
    /// integrity are checked.
    exempt: bool,
}

/// The bytes of message `seq` on (`from_a`, `stream`): a header naming it,
/// then a pattern, so a misdelivered message is recognised.
fn content(from_a: bool, stream: u32, seq: u64, len: usize) -> Vec<u8> {
    let mut tag = Vec::with_capacity(13);
    tag.push(u8::from(from_a));
    tag.extend_from_slice(&stream.to_be_bytes());
    tag.extend_from_slice(&seq.to_be_bytes());
    let salt = (stream as u8).wrapping_mul(31) ^ (seq as u8).wrapping_mul(17) ^ u8::from(from_a);
    tag.truncate(len);
    let mut out = tag;
    out.reserve_exact(len - out.len());
    out.extend((out.len()..len).map(|i| (i as u8).wrapping_mul(7) ^ salt));
    out
}

struct World {
    n: Net,
    sa: SessionId,
    sb: SessionId,
    flows: BTreeMap<(bool, u32), Flow>,
    send_all: usize,
    budget: usize,
    messages_left: usize,
    time_left: Duration,
}

fn stream_id(s: u8) -> u32 {
    u32::from(s % 6)
}

impl World {
    fn session(&mut self, side: bool) -> Option<&mut stt::Session> {
        if side {
            self.n.a.session_mut(self.sa)
        } else {
            self.n.b.session_mut(self.sb)
        }
    }

    fn record_sent(&mut self, from_a: bool, stream: u32, first_seq: u64, lens: &[usize]) {
        let flow = self.flows.entry((from_a, stream)).or_default();
        assert_eq!(
            first_seq,
            flow.sent.len() as u64,
            "sequence numbers from 0, no gaps"
        );
        flow.sent.extend_from_slice(lens);
    }

    fn exempt(&mut self, from_a: bool, stream: u32) {
        self.flows.entry((from_a, stream)).or_default().exempt = true;
    }

    /// Reads every ready message of `stream` on `side` and checks each.
    fn recv(&mut self, side: bool, stream: u32) {
        let from_a = !side;
        let mut got = Vec::new();
        if let Some(s) = self.session(side) {
            for _ in 0..100_000 {
                match s.recv(stream) {
                    Ok(Some(m)) => got.push(m),
                    _ => break,
                }
            }
        }
        for m in got {
            let flow = self.flows.entry((from_a, stream)).or_default();
            let seq = flow.received;
            let Some(&len) = flow.sent.get(seq) else {
                panic!("stream {stream}: message {seq} arrived but was never sent");
            };
            assert!(
                m[..] == content(from_a, stream, seq as u64, len)[..],
                "stream {stream}: message {seq} arrived altered or out of order"
            );
            flow.received += 1;
        }
    }

    fn apply(&mut self, op: &Op) {
        if std::env::var_os("STT_FUZZ_DEBUG").is_some() {
            eprintln!("{} op {op:?}", self.n.now);
        }
        match *op {
            Op::Send(side, s, size) => {
                let size = usize::from(size);
                if size > self.budget || self.messages_left == 0 {
                    return;
                }
                let stream = stream_id(s);
                let seq_next = self.flows.get(&(side, stream)).map_or(0, |f| f.sent.len());
                let data = content(side, stream, seq_next as u64, size);
                if let Some(Ok(seq)) = self.session(side).map(|x| x.send(stream, data)) {
                    self.budget -= size;
                    self.messages_left -= 1;
                    self.record_sent(side, stream, seq, &[size]);
                }
            }
            Op::SendAll(side, s, size, segment) => {
                let size = (size as usize) % self.send_all;
                if size > self.budget || self.messages_left == 0 {
                    return;
                }
                let segment = usize::from(segment)
                    .max(1)
                    .max(size.div_ceil(self.messages_left));
                let stream = stream_id(s);
                let first = self.flows.get(&(side, stream)).map_or(0, |f| f.sent.len());
                let lens: Vec<usize> = (0..size.div_ceil(segment))
                    .map(|i| segment.min(size - i * segment))
                    .collect();
                let mut data = Vec::with_capacity(size);
                for (i, len) in lens.iter().enumerate() {
                    data.extend(content(side, stream, (first + i) as u64, *len));
                }
                match self
                    .session(side)
                    .map(|x| x.send_all_with(stream, data, segment))
                {
                    Some(Ok(seqs)) => {
                        assert_eq!(seqs.end - seqs.start, lens.len() as u64);
                        self.budget -= size;
                        self.messages_left -= lens.len();
                        self.record_sent(side, stream, seqs.start, &lens);
                    }
                    Some(Err(StreamError::InvalidSegmentSize)) => {
                        panic!("segment {segment} refused")
                    }
                    _ => {}
                }
            }
            Op::Recv(side, s) => self.recv(side, stream_id(s)),
            Op::CloseStream(side, s) => {
                let stream = stream_id(s);
                if let Some(Ok(())) = self.session(side).map(|x| x.close_stream(stream)) {
                    // The closer's unread data is dropped: the peer's
                    // messages to it are exempt; its own still go out.
                    self.exempt(!side, stream);
                }
            }
            Op::Reset(side, s, code) => {
                let stream = stream_id(s);
                if let Some(Ok(())) = self
                    .session(side)
                    .map(|x| x.reset_stream(stream, u64::from(code)))
                {
                    self.exempt(true, stream);
                    self.exempt(false, stream);
                }
            }
            Op::SetPriority(side, s, p) => {
                let _ = self
                    .session(side)
                    .map(|x| x.set_priority(stream_id(s), p % 1001));
            }
            Op::CreateStream(side, s) => {
                let _ = self.session(side).map(|x| x.create_stream(stream_id(s)));
            }
            Op::DropNext => self.fault(Fault::Drop),
            Op::DuplicateNext => self.fault(Fault::Duplicate),
            Op::ReorderNext => self.fault(Fault::Reorder),
            Op::DelayNext(ms) => self.fault(Fault::Delay(Duration::from_millis(u64::from(ms) * 4))),
            Op::Advance(ms) => {
                let d = Duration::from_millis(u64::from(ms % 2_000)).min(self.time_left);
                self.time_left -= d;
                self.n.advance(d);
            }
            Op::Step => {
                self.n.step();
            }
        }
        self.note_resets();
    }

    fn fault(&mut self, f: Fault) {
        if self.n.faults.len() < 64 {
            self.n.faults.push(f);
        }
    }

    /// A reset announced by the peer exempts both directions of the stream.
    fn note_resets(&mut self) {
        self.n.collect_events();
        let mut reset = BTreeSet::new();
        for e in self.n.events_a.iter().chain(self.n.events_b.iter()) {
            if let Event::Stream {
                event: stt::StreamEvent::Reset(id, _),
                ..
            } = e
            {
                reset.insert(*id);
            }
        }
        for id in reset {
            self.exempt(true, id);
            self.exempt(false, id);
        }
    }

    fn closed_reasons(&self) -> Vec<&CloseReason> {
        self.n
            .events_a
            .iter()
            .chain(self.n.events_b.iter())
            .filter_map(|e| match e {
                Event::Closed { reason, .. } => Some(reason),
                _ => None,
            })
            .collect()
    }

    fn ended(&self) -> Option<&CloseReason> {
        self.n
            .events_a
            .iter()
            .chain(self.n.events_b.iter())
            .find_map(|e| match e {
                Event::Closed { reason, .. } => Some(reason),
                _ => None,
            })
    }
}

/// The input as the harness reads it, for humans.
pub fn describe(data: &[u8]) -> String {
    let mut u = Unstructured::new(data);
    let mut ops = Vec::new();
    while !u.is_empty() && ops.len() < WIDE.ops {
        match Op::arbitrary(&mut u) {
            Ok(x) => ops.push(x),
            Err(_) => break,
        }
    }
    format!("{ops:#?}")
}

/// Runs one input under the [`FUZZ`] limits.
pub fn run(data: &[u8]) {
    run_with(data, FUZZ);
}

/// Runs one input under the [`WIDE`] limits.
pub fn run_wide(data: &[u8]) {
    run_with(data, WIDE);
}

/// Runs one input under `limits`.
pub fn run_with(data: &[u8], limits: Limits) {
    let mut u = Unstructured::new(data);
    let mut n = Net::standard();
    let (sa, sb) = n.connect();
    let mut w = World {
        n,
        sa,
        sb,
        flows: BTreeMap::new(),
        send_all: limits.send_all,
        budget: limits.bytes,
        messages_left: limits.messages,
        time_left: limits.advance,
    };
    // An exhausted Unstructured keeps yielding default ops: stop at the end.
    for _ in 0..limits.ops {
        if u.is_empty() {
            break;
        }
        let Ok(op) = Op::arbitrary(&mut u) else {
            break;
        };
        w.apply(&op);
    }
    // Lossless from here on; both applications read everything, every
    // simulated second (a sender blocked on a window the reader frees
    // goes on without a minute of keep-alives first), for at most 2,000 s.
    w.n.faults.clear();
    let mut quiet = false;
    for _ in 0..2_000 {
        quiet = w.n.drive_until(Duration::from_secs(1), |n| n.quiet());
        if std::env::var_os("STT_FUZZ_DEBUG").is_some() {
            let f = |s: &stt::Session| {
                (
                    s.is_flushed(),
                    s.stream_ids()
                        .iter()
                        .map(|id| s.stream_stats(*id).map(|x| (*id, x.unacked, x.sequence)))
                        .collect::<Vec<_>>(),
                )
            };
            let a = w.n.a.session(sa).map(f);
            let b = w.n.b.session(sb).map(f);
            eprintln!(
                "now={} quiet={quiet} flight={}\nA {a:?}\nB {b:?}",
                w.n.now,
                w.n.in_flight()
            );
        }
        if !read_all(&mut w) && quiet {
            break;
        }
    }
    // An idle timeout may end either side; the side still holding its
    // session then learns of it from the other's stateless reset. Any
    // other end, or a reset without an idle timeout, is a bug.
    let reasons = w.closed_reasons();
    let timed_out = reasons
        .iter()
        .any(|r| matches!(r, CloseReason::IdleTimeout));
    for reason in &reasons {
        match reason {
            CloseReason::IdleTimeout => {}
            CloseReason::StatelessReset if timed_out => {}
            other => panic!("session ended unexpectedly: {other:?}"),
        }
    }
    let alive = w.ended().is_none();
    assert!(
        !alive || quiet,
        "the pair never went quiet on a lossless network"
    );
    for ((from_a, stream), flow) in &w.flows {
        assert!(flow.received <= flow.sent.len());
        if alive && !flow.exempt {
            assert_eq!(
                flow.received,
                flow.sent.len(),
                "stream {stream} from {}: messages lost",
                if *from_a { "a" } else { "b" }
            );
        }
    }
}

/// Reads every stream of both sides; true if anything new arrived.
fn read_all(w: &mut World) -> bool {
    let before: usize = w.flows.values().map(|f| f.received).sum();
    for s in 0..6 {
        w.recv(true, s);
        w.recv(false, s);
    }
    w.note_resets();
    let after: usize = w.flows.values().map(|f| f.received).sum();
    before != after
}
