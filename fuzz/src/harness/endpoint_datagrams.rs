//! `endpoint_datagrams`: two real endpoints fed arbitrary datagrams, and
//! mutations of real ones, before any session, in the middle of a
//! handshake and after it. Nothing may panic, state stays within the
//! configured caps, and a session both sides still hold keeps working once
//! the attack stops.

use arbitrary::{Arbitrary, Unstructured};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use stt::{Event, SessionId};

use super::net::{built, config, Fault, Net};

/// Ops read from one input: room for a handshake flood, a rebinding and
/// an attack on the session that follows, while an input stays a few
/// million instructions (every datagram an endpoint handles costs about
/// 0.1 M in the fuzz build).
const MAX_OPS: usize = 24;
/// Simulated time the ops may let pass in all (`Advance`): past the
/// handshake timeout (2 s) with keep-alives (1 s) between, but not dozens
/// of keep-alive rounds of up to eight sessions; the idle timeout (5 s)
/// comes in the recovery check that ends every run.
const MAX_ADVANCE: Duration = Duration::from_secs(4);

/// Where the run starts.
#[derive(Debug, Arbitrary, Clone, Copy)]
pub enum Stage {
    /// Two fresh endpoints.
    Fresh,
    /// `a` connected; its Initial reached `b`, whose Response is in flight.
    InitialDelivered,
    /// The Response reached `a`, whose Finish is in flight.
    ResponseDelivered,
    /// Both sides established, a message exchanged.
    Established,
}

/// A change to a datagram.
#[derive(Debug, Arbitrary)]
pub enum Mutation {
    /// Flip one bit.
    Flip(u16, u8),
    /// Overwrite one byte.
    Set(u16, u8),
    /// Cut to this length.
    Truncate(u16),
    /// Append bytes.
    Extend(Vec<u8>),
    /// Overwrite the 8 bytes at this offset with a session id of the run.
    SetId(u16, u8),
}

/// One attacker or network action.
#[derive(Debug, Arbitrary)]
pub enum Op {
    /// Arbitrary bytes to one side, from address number `from`.
    Raw(bool, u8, Vec<u8>),
    /// A real datagram (from the reference run or this run), mutated.
    Mutate(bool, u8, u16, Vec<Mutation>),
    /// A real datagram, unchanged, from any address.
    Replay(bool, u8, u16),
    /// One network step.
    Step,
    /// Time passes.
    Advance(u16),
    /// The next datagram suffers a fault.
    Fault(u8),
    /// The application of one side sends a message to every session.
    Send(bool, u16),
    /// `a` starts another session.
    Connect,
    /// `a`'s address as `b` sees it changes (NAT rebinding when `k` is
    /// odd: same IP, new port; a new network when even); the old address
    /// still delivers, as both paths would for a while.
    Rebind(u8),
}

/// One run: where to start and what to do.
#[derive(Debug, Arbitrary)]
pub struct Input {
    /// Where the run starts.
    pub stage: Stage,
    /// What happens.
    pub ops: Vec<Op>,
}

/// Datagrams of a complete reference run with the same seeds: handshake
/// (direct, with a Retry, and resumed with a ticket), messages, close. Being deterministic, they are
/// authentic for the sessions of every run.
pub fn reference() -> &'static [(bool, Vec<u8>)] {
    static R: OnceLock<Vec<(bool, Vec<u8>)>> = OnceLock::new();
    R.get_or_init(|| {
        let mut n = Net::standard();
        let (sa, sb) = n.connect();
        n.a.session_mut(sa).unwrap().send(0, &b"ping"[..]).unwrap();
        n.b.session_mut(sb)
            .unwrap()
            .send(0, vec![3u8; 3000])
            .unwrap();
        n.drive_until(Duration::from_secs(5), |n| n.quiet());
        n.a.session_mut(sa).unwrap().close(9, b"bye");
        n.advance(Duration::from_secs(1));
        let mut out = n.sent.clone();
        // A responder that demands cookies: Retry and Initial-with-token.
        let b = config("b").max_half_open(0).build().unwrap();
        let mut n = Net::new(built("a"), b);
        n.a.connect(n.now, n.b_addr).unwrap();
        n.advance(Duration::from_millis(100));
        out.extend(n.sent);
        // A resumed handshake: NEW_TICKET, then Resume and Resumed (last,
        // so the indices of the datagrams above stay as they were).
        let mut n = Net::standard();
        n.connect();
        n.drive_until(Duration::from_secs(2), |n| n.quiet());
        n.sent.clear();
        n.connect();
        n.drive_until(Duration::from_secs(2), |n| n.quiet());
        out.extend(n.sent);
        out
    })
}

fn address(n: &Net, to_b: bool, from: u8) -> Option<SocketAddr> {
    match from % 8 {
        0 => None,
        k => {
            let _ = (n, to_b);
            Some(SocketAddr::from(([198, 51, 100, k], 4000 + u16::from(k))))
        }
    }
}

/// Datagram `i` of the reference run followed by this run's, and whether
/// it is a protected packet of the reference run. Those are authentic
/// packets the sender never sent in this run (possible in reality only if
/// both nodes reuse their endpoint seeds, see docs/SECURITY.md): they may
/// legitimately deliver data in the sender's name, so a run that used one
/// skips the liveness check.
fn source(n: &Net, i: u16) -> Option<(Vec<u8>, bool)> {
    let r = reference();
    let i = usize::from(i) % (r.len() + n.sent.len()).max(1);
    match r.get(i) {
        Some((_, d)) => Some((d.clone(), d.first().is_some_and(|b| b & 0x80 == 0))),
        None => n.sent.get(i - r.len()).map(|(_, d)| (d.clone(), false)),
    }
}

fn ids(n: &Net) -> Vec<SessionId> {
    let mut v: Vec<SessionId> = n.a.sessions().chain(n.b.sessions()).collect();
    v.push(SessionId(0));
    v
}

fn mutate(n: &Net, d: &mut Vec<u8>, m: &Mutation) {
    match m {
        Mutation::Flip(at, bit) => {
            if !d.is_empty() {
                let i = usize::from(*at) % d.len();
                d[i] ^= 1 << (bit % 8);
            }
        }
        Mutation::Set(at, v) => {
            if !d.is_empty() {
                let i = usize::from(*at) % d.len();
                d[i] = *v;
            }
        }
        Mutation::Truncate(len) => d.truncate(usize::from(*len)),
        Mutation::Extend(more) => d.extend_from_slice(&more[..more.len().min(2048)]),
        Mutation::SetId(at, which) => {
            let ids = ids(n);
            let id = ids[usize::from(*which) % ids.len()];
            let at = usize::from(*at % 32);
            if d.len() >= at + 8 {
                d[at..at + 8].copy_from_slice(&id.0.to_be_bytes());
            }
        }
    }
}

fn setup(stage: Stage) -> Net {
    let mut n = Net::standard();
    match stage {
        Stage::Fresh => {}
        Stage::InitialDelivered | Stage::ResponseDelivered => {
            n.a.connect(n.now, n.b_addr).unwrap();
            // Initial out, delivered; Response out.
            n.step();
            n.step();
            if let Stage::ResponseDelivered = stage {
                n.step();
            }
        }
        Stage::Established => {
            let (sa, sb) = n.connect();
            n.a.session_mut(sa).unwrap().send(0, &b"hello"[..]).unwrap();
            n.drive_until(Duration::from_secs(2), |n| n.quiet());
            let _ = sb;
        }
    }
    n
}

/// Applies `op`; true if it injected a protected packet of the reference
/// run (see [`source`]).
fn apply(n: &mut Net, op: &Op, time_left: &mut Duration) -> bool {
    let mut foreign = false;
    match op {
        Op::Raw(to_b, from, bytes) => {
            let from = address(n, *to_b, *from);
            n.inject(*to_b, from, bytes.clone());
        }
        Op::Mutate(to_b, from, src, muts) => {
            if let Some((mut d, f)) = source(n, *src) {
                foreign = f;
                for m in muts.iter().take(8) {
                    mutate(n, &mut d, m);
                }
                let from = address(n, *to_b, *from);
                n.inject(*to_b, from, d);
            }
        }
        Op::Replay(to_b, from, src) => {
            if let Some((d, f)) = source(n, *src) {
                foreign = f;
                let from = address(n, *to_b, *from);
                n.inject(*to_b, from, d);
            }
        }
        Op::Step => {
            n.step();
        }
        Op::Advance(ms) => {
            let d = Duration::from_millis(u64::from(*ms % 3_000)).min(*time_left);
            *time_left -= d;
            n.advance(d);
        }
        Op::Fault(k) => {
            if n.faults.len() < 16 {
                n.faults.push(match k % 4 {
                    0 => Fault::Drop,
                    1 => Fault::Duplicate,
                    2 => Fault::Reorder,
                    _ => Fault::Delay(Duration::from_millis(u64::from(*k))),
                });
            }
        }
        Op::Send(from_a, len) => {
            let ep = if *from_a { &mut n.a } else { &mut n.b };
            let ids: Vec<SessionId> = ep.sessions().collect();
            let _ = ep.send_to_sessions(&ids, vec![7u8; usize::from(*len % 2048)]);
        }
        Op::Connect => {
            let _ = n.a.connect(n.now, n.b_addr);
        }
        Op::Rebind(k) => {
            n.a_addr = if k % 2 == 1 {
                SocketAddr::from(([192, 0, 2, 1], 1000 + u16::from(*k)))
            } else {
                SocketAddr::from(([203, 0, 113, 1 + k % 64], 1000))
            };
        }
    }
    n.collect_events();
    foreign
}

/// Caps from [`config`]: what no input may exceed.
fn check_bounds(n: &Net) {
    assert!(n.a.sessions().count() <= 8);
    assert!(n.b.sessions().count() <= 8);
    for ep in [&n.a, &n.b] {
        for id in ep.sessions() {
            let s = ep.session(id).unwrap();
            assert!(s.stats().streams <= 16);
            let p = s.path_stats();
            assert!(p.migrations <= p.validated, "{p:?}");
            assert!(
                p.unvalidated_bytes_sent <= 3 * s.stats().bytes_received,
                "{p:?}"
            );
        }
    }
    assert!(n.in_flight() < 100_000, "datagrams multiply");
}

/// Once the attack stops, a session `a` still holds either carries a
/// message to `b` or ends (idle timeout, close) within bounded time.
fn check_recovers(n: &mut Net) {
    n.faults.clear();
    n.drive_until(Duration::from_secs(3), |n| n.quiet());
    let Some(sa) =
        n.a.sessions()
            .find(|id| n.a.session(*id).is_some_and(|s| s.is_established()))
    else {
        return;
    };
    let msg = b"after the storm".to_vec();
    n.a.session_mut(sa).unwrap().send(0, msg.clone()).unwrap();
    let ok = n.drive_until(Duration::from_secs(30), |n| {
        let gone = n.a.session(sa).is_none_or(|s| !s.is_established());
        let ids: Vec<SessionId> = n.b.sessions().collect();
        let arrived = ids.into_iter().any(|id| {
            let s = n.b.session_mut(id).unwrap();
            std::iter::from_fn(|| s.recv(0).ok().flatten()).any(|m| m[..] == msg[..])
        });
        gone || arrived
    });
    assert!(
        ok,
        "an established session neither works nor ends: {:?}",
        n.events_a
    );
}

/// The input as the harness reads it, for humans.
pub fn describe(data: &[u8]) -> String {
    format!("{:#?}", Input::arbitrary(&mut Unstructured::new(data)))
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(input) = Input::arbitrary(&mut u) else {
        return;
    };
    let mut n = setup(input.stage);
    let mut foreign = false;
    let mut time_left = MAX_ADVANCE;
    for op in input.ops.iter().take(MAX_OPS) {
        foreign |= apply(&mut n, op, &mut time_left);
        check_bounds(&n);
    }
    if !foreign {
        check_recovers(&mut n);
    }
    check_bounds(&n);
    // Every event names a session that existed; Connected/Accepted name
    // proven nodes only.
    for e in n.events_a.iter().chain(n.events_b.iter()) {
        if let Event::Connected { node, .. } | Event::Accepted { node, .. } = e {
            assert!(*node == n.a.node_id() || *node == n.b.node_id());
        }
    }
}
