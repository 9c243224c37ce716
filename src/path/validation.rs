//! Path validation: proof that the peer receives what is sent to a new
//! address before the session moves there (in the spirit of RFC 9000
//! sections 8.2 and 9).
//!
//! Owns: the candidate addresses the session has seen authenticated packets
//! from (at most [`MAX_CANDIDATES`]), the one challenge in flight for each,
//! each candidate's anti-amplification budget (it is sent at most
//! [`AMPLIFICATION_FACTOR`] times the bytes received from it), the
//! PATH_RESPONSEs owed to the peer (at most [`MAX_RESPONSES_OWED`]), and the
//! deadline after which a candidate has failed.
//! Never: builds or seals packets, reads a clock, draws randomness from
//! anything but the key it was given, or moves the session itself: it says
//! which address was proven, and the session switches
//! (`Session::on_path_changed`).
//!
//! # Rules
//! - The session keeps sending everything to its validated address until a
//!   candidate is proven. A spoofed, replayed-from-elsewhere or raced copy
//!   of a genuine packet can make it send challenges to another address,
//!   within that address's budget, but never its data. So there is no
//!   "old path" to re-validate: the validated one is never left.
//! - Only a packet with the highest number seen so far makes a new
//!   candidate: a reordered older packet from a stale address does not.
//! - A response proves the address its challenge was *sent to*, whatever
//!   address it arrives from (as RFC 9000 8.2.2 allows). Requiring it to
//!   come from the challenged address would let an on-path attacker who
//!   races copies of every packet stall validation forever: the genuine
//!   response would arrive second and be dropped as a replay.
//! - A challenge is sent again (same data) once per probe timeout, at most
//!   [`MAX_CHALLENGES`] times; [`VALIDATION_PTOS`] probe timeouts after the
//!   candidate appeared it has failed and is forgotten. The session never
//!   left its last validated address, so it simply stays there.
//! - While both candidate slots are taken, packets from further new
//!   addresses make no candidate (a flood of addresses cannot evict one
//!   being validated); they still count as received.
//! - A PATH_RESPONSE goes back to the address its challenge came from when
//!   that is the validated address or a candidate (within the candidate's
//!   budget); a challenge from any other address is answered on the
//!   validated address. At most [`MAX_RESPONSES_OWED`] answers wait; a newer
//!   challenge pushes out the oldest, so a flood of challenges costs no
//!   memory.

use alloc::boxed::Box;
use core::net::SocketAddr;
use core::time::Duration;

use crate::rand::Rng;
use crate::time::Instant;
use crate::wire::PATH_DATA_LEN;

/// Candidate addresses validated at once, at most.
pub const MAX_CANDIDATES: usize = 2;
/// PATH_RESPONSEs owed to the peer, at most; older ones are dropped.
pub const MAX_RESPONSES_OWED: usize = 4;
/// An address not yet validated is sent at most this many times the bytes
/// received from it.
pub const AMPLIFICATION_FACTOR: u64 = 3;
/// Times one candidate's challenge is sent, at most.
pub const MAX_CHALLENGES: u8 = 3;
/// Probe timeouts after which a candidate that has not answered has failed.
pub const VALIDATION_PTOS: u32 = 3;

/// Eight bytes of challenge data.
pub type PathData = [u8; PATH_DATA_LEN];

/// Counters of path validation, for statistics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PathStats {
    /// PATH_CHALLENGE frames sent (retries included).
    pub challenges_sent: u64,
    /// PATH_RESPONSE frames sent.
    pub responses_sent: u64,
    /// Candidates proven by a matching response.
    pub validated: u64,
    /// Candidates that did not answer in time.
    pub failed: u64,
    /// PATH_RESPONSEs whose data matched no challenge in flight.
    pub responses_ignored: u64,
    /// Challenges from the peer dropped because too many answers waited.
    pub responses_dropped: u64,
    /// New addresses that made no candidate because the slots were full.
    pub candidates_refused: u64,
    /// Bytes sent to addresses not (yet) validated.
    pub unvalidated_bytes_sent: u64,
    /// Times the session moved to a proven address.
    pub migrations: u64,
}

/// An address being validated.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    addr: SocketAddr,
    data: PathData,
    /// Bytes received from `addr` since it became a candidate.
    rx: u64,
    /// Bytes sent to `addr`; kept at most `AMPLIFICATION_FACTOR * rx`.
    tx: u64,
    /// When the challenge is due (again).
    next_send: Instant,
    sends: u8,
    /// When the candidate has failed.
    deadline: Instant,
}

impl Candidate {
    fn allows(&self, len: usize) -> bool {
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        self.tx.saturating_add(len) <= self.rx.saturating_mul(AMPLIFICATION_FACTOR)
    }
}

/// What to send to a candidate address now: a datagram carrying these
/// frames, to `to`, outside the congestion window (it is a handful of
/// bytes, bounded by the budget).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// The candidate address.
    pub to: SocketAddr,
    /// The candidate's challenge, if due.
    pub challenge: Option<PathData>,
    /// A response owed to a challenge that came from `to`.
    pub response: Option<PathData>,
}

impl Probe {
    /// Frame bytes the probe carries.
    pub fn frames_len(&self) -> usize {
        let one = 1 + PATH_DATA_LEN;
        one * (usize::from(self.challenge.is_some()) + usize::from(self.response.is_some()))
    }
}

/// The path validation state of one session. A few hundred bytes, fixed:
/// no allocation, whatever the peer or an attacker sends.
#[derive(Debug, Clone)]
pub struct PathValidator {
    /// Key of the challenge data (never the handshake's seed itself).
    key: [u8; 32],
    draws: u64,
    /// Candidates and owed responses; `None` while both are empty, which is
    /// nearly always, so an idle session does not carry their room.
    /// Invariant: never `Some` of an empty `Pending` after a public call.
    pending: Option<Box<Pending>>,
    /// Boxed on the first count: most sessions never see another address.
    stats: Option<Box<PathStats>>,
}

/// What validation holds while addresses are in play.
#[derive(Debug, Clone)]
struct Pending {
    candidates: heapless::Vec<Candidate, MAX_CANDIDATES>,
    responses: heapless::Deque<(SocketAddr, PathData), MAX_RESPONSES_OWED>,
}

/// Stands for "nothing pending" in reads.
static NOTHING_PENDING: Pending = Pending {
    candidates: heapless::Vec::new(),
    responses: heapless::Deque::new(),
};

impl PathValidator {
    /// Validation whose challenge data is drawn from `key` (a secret
    /// derived from the session's seed).
    pub fn new(key: [u8; 32]) -> Self {
        PathValidator {
            key,
            draws: 0,
            pending: None,
            stats: None,
        }
    }

    fn pending(&self) -> &Pending {
        self.pending.as_deref().unwrap_or(&NOTHING_PENDING)
    }

    fn pending_mut(&mut self) -> &mut Pending {
        self.pending.get_or_insert_with(|| {
            Box::new(Pending {
                candidates: heapless::Vec::new(),
                responses: heapless::Deque::new(),
            })
        })
    }

    /// Frees the pending state once it holds nothing (keeps the invariant).
    fn release_if_empty(&mut self) {
        if let Some(p) = &self.pending {
            if p.candidates.is_empty() && p.responses.is_empty() {
                self.pending = None;
            }
        }
    }

    /// Counters.
    pub fn stats(&self) -> PathStats {
        self.stats.as_deref().copied().unwrap_or_default()
    }

    /// Addresses being validated.
    #[cfg(test)]
    pub fn candidates(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.pending().candidates.iter().map(|c| c.addr)
    }

    /// Fresh, unpredictable challenge data: stream `draws + 1` of the key
    /// (each draw its own stream, so none repeats).
    fn fresh_data(&mut self) -> PathData {
        self.draws = self.draws.wrapping_add(1);
        let block = Rng::derive(&self.key, self.draws);
        let mut data = [0u8; PATH_DATA_LEN];
        data.copy_from_slice(&block[..PATH_DATA_LEN]);
        data
    }

    /// An authenticated, non-replayed packet of `len` bytes arrived from
    /// `from` while the session's validated address is `active`. `highest`
    /// says its number is the largest seen so far; `pto` is the session's
    /// current probe timeout.
    pub fn on_received(
        &mut self,
        now: Instant,
        active: SocketAddr,
        from: SocketAddr,
        len: usize,
        highest: bool,
        pto: Duration,
    ) {
        if from == active {
            return;
        }
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        if let Some(c) = self
            .pending
            .as_deref_mut()
            .and_then(|p| p.candidates.iter_mut().find(|c| c.addr == from))
        {
            c.rx = c.rx.saturating_add(len);
            return;
        }
        if !highest {
            return;
        }
        let data = self.fresh_data();
        let candidate = Candidate {
            addr: from,
            data,
            rx: len,
            tx: 0,
            next_send: now,
            sends: 0,
            deadline: now + pto.saturating_mul(VALIDATION_PTOS),
        };
        if self.pending_mut().candidates.push(candidate).is_err() {
            counts(&mut self.stats).candidates_refused += 1;
        }
    }

    /// The peer challenged us with `data` in a packet from `from`.
    pub fn on_challenge(&mut self, from: SocketAddr, data: PathData) {
        let responses = &mut self.pending_mut().responses;
        let full = responses.is_full();
        if full {
            responses.pop_front();
        }
        let _ = responses.push_back((from, data));
        if full {
            counts(&mut self.stats).responses_dropped += 1;
        }
    }

    /// The peer answered with `data`. Returns the address that is now
    /// proven (the one the matching challenge was sent to), which leaves
    /// the candidates; `None` if it matches no challenge sent.
    pub fn on_response(&mut self, data: PathData) -> Option<SocketAddr> {
        let found = self
            .pending()
            .candidates
            .iter()
            .position(|c| c.sends > 0 && c.data == data);
        let Some(i) = found else {
            counts(&mut self.stats).responses_ignored += 1;
            return None;
        };
        let c = self.pending_mut().candidates.swap_remove(i);
        self.release_if_empty();
        counts(&mut self.stats).validated += 1;
        Some(c.addr)
    }

    /// The session moved to `addr`: count it, and drop `addr`'s candidacy
    /// if it had one.
    pub fn on_migrated(&mut self, addr: SocketAddr) {
        counts(&mut self.stats).migrations += 1;
        if let Some(p) = self.pending.as_deref_mut() {
            p.candidates.retain(|c| c.addr != addr);
        }
        self.release_if_empty();
    }

    /// When [`on_timeout`](Self::on_timeout) must run, or a challenge
    /// becomes due; a challenge due already is for the next transmit, not a
    /// timer (so a budget that stalls it cannot make a busy loop).
    pub fn next_timeout(&self, now: Instant) -> Option<Instant> {
        let mut t: Option<Instant> = None;
        for c in &self.pending().candidates {
            let mut at = c.deadline;
            if c.sends < MAX_CHALLENGES && c.next_send > now {
                at = at.min(c.next_send);
            }
            t = Some(t.map_or(at, |t| t.min(at)));
        }
        t
    }

    /// Forgets the candidates whose deadline passed at `now`, telling
    /// `on_failed` each address; returns how many failed.
    pub fn on_timeout(&mut self, now: Instant, mut on_failed: impl FnMut(SocketAddr)) -> usize {
        let Some(p) = self.pending.as_deref_mut() else {
            return 0;
        };
        let before = p.candidates.len();
        p.candidates.retain(|c| {
            let alive = c.deadline > now;
            if !alive {
                on_failed(c.addr);
            }
            alive
        });
        let failed = before - p.candidates.len();
        self.release_if_empty();
        if failed > 0 {
            counts(&mut self.stats).failed += failed as u64;
        }
        failed
    }

    /// A response owed on the validated address `active` (one asked from
    /// there, or from an address that is no candidate), taken from the
    /// queue: the caller puts it in its next packet.
    pub fn take_response_for(&mut self, active: SocketAddr) -> Option<PathData> {
        let p = self.pending.as_deref_mut()?;
        let mut found = None;
        for _ in 0..p.responses.len() {
            let Some((addr, data)) = p.responses.pop_front() else {
                break;
            };
            let is_candidate = p.candidates.iter().any(|c| c.addr == addr);
            if addr == active || !is_candidate {
                found = Some(data);
                break;
            }
            let _ = p.responses.push_back((addr, data));
        }
        if found.is_some() {
            counts(&mut self.stats).responses_sent += 1;
            self.release_if_empty();
        }
        found
    }

    /// True if a response is owed on the validated address.
    pub fn has_response_for(&self, active: SocketAddr) -> bool {
        let Some(p) = self.pending.as_deref() else {
            return false;
        };
        p.responses
            .iter()
            .any(|(a, _)| *a == active || !p.candidates.iter().any(|c| c.addr == *a))
    }

    /// The next probe due at `now` whose datagram (`overhead` bytes of
    /// header and tag plus its frames) fits its address's budget.
    pub fn next_probe(&self, now: Instant, overhead: usize) -> Option<Probe> {
        let p = self.pending.as_deref()?;
        p.candidates.iter().find_map(|c| {
            let challenge = (c.sends < MAX_CHALLENGES && c.next_send <= now).then_some(c.data);
            let response = p
                .responses
                .iter()
                .find(|(a, _)| *a == c.addr)
                .map(|(_, d)| *d);
            let probe = Probe {
                to: c.addr,
                challenge,
                response,
            };
            let len = overhead + probe.frames_len();
            (probe.frames_len() > 0 && c.allows(len)).then_some(probe)
        })
    }

    /// `probe` left as a datagram of `len` bytes at `now`.
    pub fn on_probe_sent(&mut self, now: Instant, probe: &Probe, len: usize, pto: Duration) {
        let Some(p) = self.pending.as_deref_mut() else {
            return;
        };
        let Some(c) = p.candidates.iter_mut().find(|c| c.addr == probe.to) else {
            return;
        };
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        c.tx = c.tx.saturating_add(len);
        let stats = counts(&mut self.stats);
        stats.unvalidated_bytes_sent = stats.unvalidated_bytes_sent.saturating_add(len);
        if probe.challenge.is_some() {
            c.sends += 1;
            c.next_send = now + pto;
            counts(&mut self.stats).challenges_sent += 1;
        }
        if let Some(data) = probe.response {
            if let Some(i) = p
                .responses
                .iter()
                .position(|(a, d)| *a == probe.to && *d == data)
            {
                // Rotate the answered entry out, keeping the others' order.
                for _ in 0..i {
                    if let Some(e) = p.responses.pop_front() {
                        let _ = p.responses.push_back(e);
                    }
                }
                p.responses.pop_front();
                counts(&mut self.stats).responses_sent += 1;
            }
        }
        self.release_if_empty();
    }
}

/// The counters, allocated on the first count.
fn counts(stats: &mut Option<Box<PathStats>>) -> &mut PathStats {
    stats.get_or_insert_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OVERHEAD: usize = 29;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, 1], port))
    }

    fn t(ms: u64) -> Instant {
        Instant::from_micros(ms * 1000)
    }

    const PTO: Duration = Duration::from_millis(100);

    #[test]
    fn a_new_address_is_challenged_and_proven_by_the_echo() {
        let mut v = PathValidator::new([1; 32]);
        v.on_received(t(0), addr(1), addr(2), 100, true, PTO);
        let p = v.next_probe(t(0), OVERHEAD).expect("challenge due");
        assert_eq!(p.to, addr(2));
        let data = p.challenge.unwrap();
        v.on_probe_sent(t(0), &p, OVERHEAD + p.frames_len(), PTO);
        assert_eq!(v.stats().challenges_sent, 1);
        // Not due again before a PTO.
        assert_eq!(v.next_probe(t(50), OVERHEAD), None);
        assert_eq!(v.on_response(data), Some(addr(2)));
        assert_eq!(v.candidates().count(), 0);
        assert_eq!(v.stats().validated, 1);
    }

    #[test]
    fn wrong_data_is_ignored_and_an_unsent_challenge_proves_nothing() {
        let mut v = PathValidator::new([1; 32]);
        v.on_received(t(0), addr(1), addr(2), 100, true, PTO);
        // The candidate's data before it was ever sent: no proof.
        let unsent = v.pending().candidates[0].data;
        assert_eq!(v.on_response(unsent), None);
        let p = v.next_probe(t(0), OVERHEAD).unwrap();
        v.on_probe_sent(t(0), &p, 50, PTO);
        let mut wrong = p.challenge.unwrap();
        wrong[0] ^= 1;
        assert_eq!(v.on_response(wrong), None);
        assert_eq!(v.stats().responses_ignored, 2);
        assert_eq!(v.candidates().count(), 1);
    }

    #[test]
    fn challenge_data_is_fresh_per_candidate_and_fixed_by_the_key() {
        let mut a = PathValidator::new([3; 32]);
        let mut b = PathValidator::new([3; 32]);
        for v in [&mut a, &mut b] {
            v.on_received(t(0), addr(1), addr(2), 100, true, PTO);
            v.on_received(t(0), addr(1), addr(3), 100, true, PTO);
        }
        assert_ne!(
            a.pending().candidates[0].data,
            a.pending().candidates[1].data
        );
        assert_eq!(
            a.pending().candidates[0].data,
            b.pending().candidates[0].data
        );
        let c = PathValidator::new([4; 32]).fresh_data();
        assert_ne!(c, a.pending().candidates[0].data);
    }

    #[test]
    fn reordered_older_packets_make_no_candidate() {
        let mut v = PathValidator::new([1; 32]);
        v.on_received(t(0), addr(1), addr(2), 100, false, PTO);
        assert_eq!(v.candidates().count(), 0);
        assert_eq!(v.next_probe(t(0), OVERHEAD), None);
        // The validated address itself is never a candidate.
        v.on_received(t(0), addr(1), addr(1), 100, true, PTO);
        assert_eq!(v.candidates().count(), 0);
    }

    #[test]
    fn the_budget_caps_bytes_sent_to_a_candidate_at_three_times_received() {
        let mut v = PathValidator::new([1; 32]);
        // 20 bytes received: 60 may go, one 38-byte probe fits, two do not.
        v.on_received(t(0), addr(1), addr(2), 20, true, PTO);
        let p = v.next_probe(t(0), OVERHEAD).unwrap();
        v.on_probe_sent(t(0), &p, 38, PTO);
        assert_eq!(v.next_probe(t(100), OVERHEAD), None, "budget spent");
        // Stalled by the budget: no timer for it, only the deadline.
        assert_eq!(v.next_timeout(t(100)), Some(t(300)));
        v.on_received(t(100), addr(1), addr(2), 20, false, PTO);
        assert!(v.next_probe(t(100), OVERHEAD).is_some());
        assert!(v.stats().unvalidated_bytes_sent <= 3 * 40);
    }

    #[test]
    fn an_unanswered_candidate_is_retried_then_fails() {
        let mut v = PathValidator::new([1; 32]);
        v.on_received(t(0), addr(1), addr(2), 1000, true, PTO);
        let mut sent = 0;
        for ms in (0..300).step_by(10) {
            if let Some(p) = v.next_probe(t(ms), OVERHEAD) {
                v.on_probe_sent(t(ms), &p, 38, PTO);
                sent += 1;
            }
            v.on_timeout(t(ms), |a| panic!("{a} failed early"));
        }
        assert_eq!(sent, usize::from(MAX_CHALLENGES));
        assert_eq!(v.candidates().count(), 1);
        assert_eq!(v.next_timeout(t(290)), Some(t(300)));
        let mut failed = None;
        assert_eq!(v.on_timeout(t(300), |a| failed = Some(a)), 1);
        assert_eq!(failed, Some(addr(2)));
        assert_eq!(v.candidates().count(), 0);
        assert_eq!(v.stats().failed, 1);
        assert_eq!(v.next_timeout(t(300)), None);
    }

    #[test]
    fn candidate_slots_are_bounded_and_not_evicted() {
        let mut v = PathValidator::new([1; 32]);
        for port in 2..100 {
            v.on_received(t(0), addr(1), addr(port), 100, true, PTO);
        }
        let c: heapless::Vec<SocketAddr, 4> = v.candidates().collect();
        assert_eq!(&c[..], &[addr(2), addr(3)]);
        assert_eq!(v.stats().candidates_refused, 96);
    }

    #[test]
    fn a_flood_of_challenges_keeps_only_the_newest_answers() {
        let mut v = PathValidator::new([1; 32]);
        for i in 0..1000u32 {
            let mut d = [0u8; 8];
            d[..4].copy_from_slice(&i.to_le_bytes());
            v.on_challenge(addr(1), d);
        }
        assert_eq!(v.pending().responses.len(), MAX_RESPONSES_OWED);
        assert_eq!(
            v.stats().responses_dropped,
            1000 - MAX_RESPONSES_OWED as u64
        );
        let first = v.take_response_for(addr(1)).unwrap();
        assert_eq!(u32::from_le_bytes(first[..4].try_into().unwrap()), 996);
    }

    #[test]
    fn answers_go_back_where_the_challenge_came_from() {
        let mut v = PathValidator::new([1; 32]);
        v.on_received(t(0), addr(1), addr(2), 100, true, PTO);
        v.on_challenge(addr(2), [7; 8]);
        v.on_challenge(addr(9), [9; 8]);
        // The candidate's answer rides its probe, not the validated path.
        assert_eq!(v.take_response_for(addr(1)), Some([9; 8]));
        assert!(!v.has_response_for(addr(1)));
        assert_eq!(v.take_response_for(addr(1)), None);
        let p = v.next_probe(t(0), OVERHEAD).unwrap();
        assert_eq!(p.response, Some([7; 8]));
        assert!(p.challenge.is_some());
        v.on_probe_sent(t(0), &p, OVERHEAD + p.frames_len(), PTO);
        assert_eq!(v.stats().responses_sent, 2);
        assert_eq!(v.next_probe(t(0), OVERHEAD), None);
    }
}
