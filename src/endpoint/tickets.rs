//! Resumption at the endpoint: the tickets it issues (sealed under its
//! rotating ticket keys), the strike register that makes each ticket
//! single-use, and the bounded store of tickets it holds as an initiator.
//!
//! Owns: [`TicketConfig`], the decision to accept a presented ticket
//! (authentic, for this node, not expired, never seen), the
//! [`StrikeRegister`] and the [`TicketStore`].
//! Never: grows past its configured bounds, keeps a ticket after its
//! lifetime, or hands a stored ticket out twice.
//!
//! **The strike register's bound.** It remembers the id and issue time of
//! every ticket accepted and not yet expired, up to
//! `strike_register_size`. When it is full it forgets the entry issued
//! earliest and raises a floor to that issue time: from then on it refuses
//! every ticket issued at or before the floor, because it could no longer
//! tell whether one of them was used. Eviction therefore turns old tickets
//! away (they fall back to the full handshake) instead of opening a replay
//! window for them.

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use core::net::SocketAddr;
use core::time::Duration;

use crate::config::Config;
use crate::crypto::{ClientTicket, TicketContents, TicketError, TicketKeys, TICKET_LEN};
use crate::ids::NodeId;
use crate::rand::Rng;
use crate::time::Instant;

/// Tickets the store keeps for one peer address at most: a few, so that
/// reconnecting twice at once can resume both, never one per session.
const TICKETS_PER_PEER: usize = 2;

/// Session tickets and resumption: what an endpoint issues as a responder
/// and keeps as an initiator. Set with `ConfigBuilder::tickets`.
///
/// ```
/// let mut tickets = stt::TicketConfig::default();
/// tickets.lifetime = core::time::Duration::from_secs(600);
/// let config = stt::Config::builder(b"node-seed-0123456789", b"network-seed-0123456789")
///     .tickets(tickets)
///     .build()?;
/// assert_eq!(config.tickets().lifetime.as_secs(), 600);
/// # Ok::<(), stt::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TicketConfig {
    /// Give every peer that completes a handshake with this endpoint as
    /// responder a ticket, and accept those tickets. Default true.
    pub issue: bool,
    /// As initiator, keep the tickets peers give and present one on the
    /// next `connect` to the same address. Default true.
    pub resume: bool,
    /// How long a ticket is accepted after it was issued (responder) and
    /// kept after it arrived (initiator). Default 1 hour; at most
    /// `key_rotation`.
    pub lifetime: Duration,
    /// How often the ticket key changes. A ticket opens under the current
    /// or the previous key only, so it lives at most twice this. Default 1
    /// hour.
    pub key_rotation: Duration,
    /// Tickets kept as initiator, all peers together (at most 2 per peer
    /// address); the oldest goes first. Default 64.
    pub store_size: usize,
    /// Used tickets remembered as responder until they expire; see the
    /// module docs of `endpoint::tickets` (docs/SECURITY.md) for what a
    /// full register refuses. Default 16,384.
    pub strike_register_size: usize,
}

impl Default for TicketConfig {
    fn default() -> Self {
        TicketConfig {
            issue: true,
            resume: true,
            lifetime: Duration::from_secs(3600),
            key_rotation: Duration::from_secs(3600),
            store_size: 64,
            strike_register_size: 16_384,
        }
    }
}

/// Why a presented ticket was refused (the handshake falls back to the
/// full pattern).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not sealed by a current ticket key of this endpoint.
    Ticket(TicketError),
    /// Issued for another node (a shared ticket secret).
    OtherNode,
    /// Past its lifetime, or issued in the future.
    Expired,
    /// Seen before, or older than what the strike register still covers.
    Replay,
}

/// Ticket ids accepted and not yet expired, bounded.
#[derive(Debug)]
pub(crate) struct StrikeRegister {
    /// id -> issue time (microseconds).
    seen: BTreeMap<u64, u64>,
    /// (issue time, id), oldest first.
    by_age: BTreeSet<(u64, u64)>,
    /// Tickets issued at or before this time are refused: entries that
    /// recent were evicted for room.
    floor: Option<u64>,
    cap: usize,
}

impl StrikeRegister {
    pub(crate) fn new(cap: usize) -> Self {
        StrikeRegister {
            seen: BTreeMap::new(),
            by_age: BTreeSet::new(),
            floor: None,
            cap,
        }
    }

    /// Entries held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.seen.len()
    }

    /// Records ticket `id` issued at `issued`; false if it was seen before
    /// or is not newer than the floor. Entries issued before
    /// `expired_before` are forgotten first (their tickets are refused by
    /// age anyway).
    pub(crate) fn insert(&mut self, id: u64, issued: u64, expired_before: u64) -> bool {
        while let Some(&(t, old)) = self.by_age.first() {
            if t >= expired_before {
                break;
            }
            self.by_age.remove(&(t, old));
            self.seen.remove(&old);
        }
        if self.floor.is_some_and(|f| issued <= f) || self.seen.contains_key(&id) {
            return false;
        }
        if self.cap == 0 {
            return false;
        }
        if self.seen.len() >= self.cap && self.by_age.first().is_some_and(|&(t, _)| issued <= t) {
            // Recording it would evict something at least as new: it would
            // fall below the floor anyway.
            return false;
        }
        while self.seen.len() >= self.cap {
            let Some((t, old)) = self.by_age.pop_first() else {
                break;
            };
            self.seen.remove(&old);
            self.floor = Some(self.floor.map_or(t, |f| f.max(t)));
        }
        if self.floor.is_some_and(|f| issued <= f) {
            return false;
        }
        self.seen.insert(id, issued);
        self.by_age.insert((issued, id));
        true
    }
}

/// One ticket the initiator holds.
#[derive(Debug, Clone)]
pub(crate) struct Held {
    pub peer: SocketAddr,
    pub ticket: ClientTicket,
    /// Not handed out from this instant on (its arrival plus the
    /// configured lifetime, or what an imported ticket had left).
    pub expires: Instant,
}

/// The initiator's tickets: at most `cap`, at most
/// [`TICKETS_PER_PEER`] per address, oldest out first, each handed out
/// once.
#[derive(Debug)]
pub(crate) struct TicketStore {
    /// Oldest first.
    held: VecDeque<Held>,
    cap: usize,
}

impl TicketStore {
    pub(crate) fn new(cap: usize) -> Self {
        TicketStore {
            held: VecDeque::new(),
            cap,
        }
    }

    /// Tickets held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.held.len()
    }

    /// The tickets held, oldest first (expired ones included).
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Held> + '_ {
        self.held.iter()
    }

    /// Keeps `ticket` for `peer` until `expires`, pushing out that peer's
    /// oldest past the per-peer bound and the store's oldest past its own.
    pub(crate) fn insert(&mut self, peer: SocketAddr, ticket: ClientTicket, expires: Instant) {
        if self.cap == 0 {
            return;
        }
        let for_peer = self.held.iter().filter(|h| h.peer == peer).count();
        if for_peer >= TICKETS_PER_PEER {
            if let Some(i) = self.held.iter().position(|h| h.peer == peer) {
                self.held.remove(i);
            }
        }
        while self.held.len() >= self.cap {
            self.held.pop_front();
        }
        self.held.push_back(Held {
            peer,
            ticket,
            expires,
        });
    }

    /// True if a ticket for `peer` that has not expired by `now` is held.
    pub(crate) fn contains(&self, peer: SocketAddr, now: Instant) -> bool {
        self.held.iter().any(|h| h.peer == peer && now < h.expires)
    }

    /// The newest ticket for `peer` that has not expired by `now`, taken
    /// out of the store (single use). Expired ones for that peer go too.
    pub(crate) fn take(&mut self, peer: SocketAddr, now: Instant) -> Option<ClientTicket> {
        self.held.retain(|h| h.peer != peer || now < h.expires);
        let i = self.held.iter().rposition(|h| h.peer == peer)?;
        self.held.remove(i).map(|h| h.ticket)
    }
}

/// The streams of the endpoint's seed its ticket master secret and its
/// ticket ids are drawn from (apart from the stream session ids and
/// ephemeral keys come from, which tickets leave as they are).
const MASTER_STREAM: u64 = 3;
const ID_STREAM: u64 = 4;

/// One endpoint's ticket state: keys, register, store.
#[derive(Debug)]
pub(crate) struct Tickets {
    pub keys: TicketKeys,
    pub register: StrikeRegister,
    pub store: TicketStore,
    /// Ticket ids.
    ids: Rng,
    lifetime: Duration,
}

impl Tickets {
    pub(crate) fn new(cfg: &Config, seed: &[u8; 32]) -> Self {
        let t = cfg.tickets;
        let master = match &cfg.ticket_secret {
            Some(s) => **s,
            None => Rng::derive(seed, MASTER_STREAM),
        };
        Tickets {
            keys: TicketKeys::new(&master, t.key_rotation, cfg.provider),
            register: StrikeRegister::new(t.strike_register_size),
            store: TicketStore::new(t.store_size),
            ids: Rng::from_seed(Rng::derive(seed, ID_STREAM)),
            lifetime: t.lifetime,
        }
    }

    /// Seals a ticket for a session that just finished its handshake as
    /// responder.
    pub(crate) fn issue(&mut self, now: Instant, contents: &TicketContents) -> [u8; TICKET_LEN] {
        let id = self.ids.next_u64();
        self.keys.seal(now, id, contents)
    }

    /// A presented ticket opened and checked, but not yet struck: authentic
    /// under a current key, issued by `node`, within its lifetime. Returns
    /// its id, for [`Tickets::strike`] once the handshake it came with
    /// authenticates.
    pub(crate) fn check(
        &self,
        node: NodeId,
        now: Instant,
        ticket: &[u8],
    ) -> Result<(u64, TicketContents), Refusal> {
        let (id, contents) = self.keys.open(now, ticket).map_err(Refusal::Ticket)?;
        if contents.responder != node {
            return Err(Refusal::OtherNode);
        }
        let issued = contents.issued.as_micros();
        let now_us = now.as_micros();
        if issued > now_us || now_us - issued >= self.lifetime_us() {
            return Err(Refusal::Expired);
        }
        Ok((id, contents))
    }

    /// Records ticket `id` as used; `Err` if it was used before (or is
    /// older than the register still covers).
    pub(crate) fn strike(&mut self, now: Instant, id: u64, issued: Instant) -> Result<(), Refusal> {
        let floor = now.as_micros().saturating_sub(self.lifetime_us());
        if self.register.insert(id, issued.as_micros(), floor) {
            Ok(())
        } else {
            Err(Refusal::Replay)
        }
    }

    fn lifetime_us(&self) -> u64 {
        u64::try_from(self.lifetime.as_micros()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn register_refuses_repeats_and_what_it_evicted() {
        let mut r = StrikeRegister::new(3);
        assert!(r.insert(1, 10, 0));
        assert!(!r.insert(1, 10, 0), "a repeat");
        assert!(r.insert(2, 20, 0));
        assert!(r.insert(3, 30, 0));
        assert!(r.insert(4, 40, 0), "room made by evicting id 1");
        assert_eq!(r.len(), 3);
        assert!(!r.insert(1, 10, 0), "evicted, but below the floor");
        assert!(!r.insert(5, 10, 0), "never seen, but below the floor");
        assert!(!r.insert(6, 15, 0), "as old as the oldest held: no room");
        assert!(
            r.insert(6, 25, 0),
            "evicts id 2, and is above the new floor"
        );
        assert!(!r.insert(2, 20, 0));
        assert_eq!(r.len(), 3);
        // Expired entries leave without raising the floor.
        assert!(r.insert(7, 50, 45));
        assert_eq!(r.len(), 1);
        assert!(r.insert(8, 46, 45));
        assert!(!StrikeRegister::new(0).insert(1, 1, 0));
    }

    fn ticket(n: u8, at: u64) -> ClientTicket {
        ClientTicket {
            ticket: vec![n],
            resumption: [n; 32],
            node: NodeId([n; 32]),
            received: Instant::from_micros(at),
        }
    }

    #[test]
    fn store_is_bounded_per_peer_and_in_all_and_single_use() {
        let a: SocketAddr = "10.0.0.1:1".parse().unwrap();
        let b: SocketAddr = "10.0.0.2:1".parse().unwrap();
        let mut s = TicketStore::new(3);
        let life = Duration::from_secs(10);
        let until = Instant::ZERO + life;
        for n in 0..5 {
            s.insert(a, ticket(n, 0), until);
        }
        assert_eq!(s.len(), 2, "two per peer");
        s.insert(b, ticket(10, 0), until);
        s.insert(b, ticket(11, 0), until);
        assert_eq!(s.len(), 3, "three in all");
        let now = Instant::from_micros(1);
        assert_eq!(s.take(a, now).map(|t| t.ticket.clone()), Some(vec![4]));
        assert!(s.take(a, now).is_none());
        assert_eq!(s.take(b, now).map(|t| t.ticket.clone()), Some(vec![11]));
        let late = Instant::from_micros(10_000_000);
        assert!(s.take(b, late).is_none(), "expired");
        assert_eq!(s.len(), 0);
    }
}
