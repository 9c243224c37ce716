//! The ticket file: the session tickets an endpoint holds as initiator,
//! written out ([`Endpoint::export_tickets`]) and read back
//! ([`Endpoint::import_tickets`]), so a node started again resumes its
//! sessions as the one before it would have.
//!
//! Owns: the file's format and its checks on the way in.
//! Never: panics on any input, reads past `MAX_FILE_LEN` bytes, trusts
//! an entry that did not authenticate, or imports a ticket whose
//! lifetime is over.
//!
//! # Format (version 1)
//!
//! ```text
//! magic    6     "sttTIX"
//! version  u8    1
//! zero     u8
//! salt     16    BLAKE2s-256("stt ticket file salt" ‖ F ‖ plaintext), first 16 bytes
//! sealed   ..    ChaCha20-Poly1305 of the plaintext under
//!                BLAKE2s-256("stt ticket file key" ‖ F ‖ salt), nonce 0,
//!                associated data the 24 bytes above; then the 16-byte tag
//! ```
//!
//! `F` = BLAKE2s-256(`"stt ticket file v1"` ‖ the node's static private
//! key): only the node that wrote a file can read it, and an altered or
//! planted entry fails authentication. The plaintext is a `u16` count,
//! then per ticket: its expiry (`u64` microseconds since the UNIX epoch),
//! the responder's static key (32), the resumption secret (32), the peer
//! address (`4` ‖ IPv4 (4) ‖ port, or `6` ‖ IPv6 (16) ‖ port ‖ scope id
//! `u32`), the ticket's length (`u16`, 1..=256) and the ticket. Integers
//! are big-endian.
//!
//! The expiry is wall-clock time because [`Instant`]'s epoch is the
//! caller's (usually the process start) and does not survive a restart.

use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use core::time::Duration;

use zeroize::Zeroize;

use super::Endpoint;
use crate::crypto::{blake2s256, Cipher, ClientTicket, PacketKey, Provider, TAG_LEN};
use crate::ids::NodeId;
use crate::time::Instant;

const MAGIC: &[u8; 6] = b"sttTIX";
const VERSION: u8 = 1;
/// Magic, version, zero byte, salt.
const HEAD_LEN: usize = 6 + 1 + 1 + 16;
/// Tickets a file holds at most (the newest, if the store holds more).
pub(crate) const MAX_FILE_TICKETS: usize = 1024;
/// Bytes of a ticket at most (what a Resume packet can carry).
const MAX_TICKET_LEN: usize = 256;
/// Bytes of one entry at most.
const MAX_ENTRY_LEN: usize = 8 + 32 + 32 + 1 + 16 + 2 + 4 + 2 + MAX_TICKET_LEN;
/// Bytes of a ticket file at most: anything longer is refused unread.
pub(crate) const MAX_FILE_LEN: usize = HEAD_LEN + 2 + MAX_FILE_TICKETS * MAX_ENTRY_LEN + TAG_LEN;

/// Why [`Endpoint::import_tickets`] refused a ticket file. Nothing is
/// imported from a refused file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TicketImportError {
    /// Longer than any ticket file can be.
    #[error("ticket file too large ({len} bytes, at most {max})")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The most a ticket file holds.
        max: usize,
    },
    /// Shorter than its header and tag: cut off.
    #[error("ticket file truncated")]
    Truncated,
    /// Does not start as a ticket file.
    #[error("not a ticket file")]
    NotTickets,
    /// A ticket file of a version this build does not read.
    #[error("ticket file version {0} is not supported")]
    Version(u8),
    /// Did not authenticate: altered, cut short, or written by another
    /// node (another static key).
    #[error("ticket file does not authenticate (altered, or another node's)")]
    Auth,
    /// Authenticated, but its entries do not parse.
    #[error("ticket file entries malformed")]
    Malformed,
}

/// A wall-clock reading as microseconds since the UNIX epoch.
fn wall_micros(wall: Duration) -> u64 {
    u64::try_from(wall.as_micros()).unwrap_or(u64::MAX)
}

impl Endpoint {
    /// The session tickets this endpoint holds as initiator, sealed for
    /// this node alone (a key derived from its static key), to be handed
    /// to [`import_tickets`](Self::import_tickets) by a later endpoint
    /// with the same node seed, typically after a restart. `wall` is the
    /// wall-clock time now as time since the UNIX epoch
    /// (`SystemTime::now().duration_since(UNIX_EPOCH)`): it dates the
    /// tickets' expiry across the restart. Expired tickets are left out;
    /// at most 1,024, the newest.
    ///
    /// The bytes are bearer secrets: whoever holds them and the node's
    /// seed can resume as this node, and they must stay private
    /// (docs/SECURITY.md, "Ticket files"). Exporting leaves the tickets
    /// in this endpoint's store: a ticket used by both this endpoint and
    /// an importer is refused the second time and falls back to the
    /// full handshake.
    pub fn export_tickets(&self, now: Instant, wall: Duration) -> Vec<u8> {
        let wall = wall_micros(wall);
        let live: Vec<_> = self
            .tickets
            .store
            .iter()
            .filter(|h| now < h.expires && (1..=MAX_TICKET_LEN).contains(&h.ticket.ticket.len()))
            .collect();
        let live = &live[live.len().saturating_sub(MAX_FILE_TICKETS)..];
        let mut plain = Vec::with_capacity(2 + live.len() * MAX_ENTRY_LEN + TAG_LEN);
        plain.extend_from_slice(&(live.len() as u16).to_be_bytes());
        for h in live {
            let left = h.expires.saturating_duration_since(now);
            let expires = wall.saturating_add(wall_micros(left));
            plain.extend_from_slice(&expires.to_be_bytes());
            plain.extend_from_slice(&h.ticket.node.0);
            plain.extend_from_slice(&h.ticket.resumption);
            match h.peer {
                SocketAddr::V4(a) => {
                    plain.push(4);
                    plain.extend_from_slice(&a.ip().octets());
                    plain.extend_from_slice(&a.port().to_be_bytes());
                }
                SocketAddr::V6(a) => {
                    plain.push(6);
                    plain.extend_from_slice(&a.ip().octets());
                    plain.extend_from_slice(&a.port().to_be_bytes());
                    plain.extend_from_slice(&a.scope_id().to_be_bytes());
                }
            }
            plain.extend_from_slice(&(h.ticket.ticket.len() as u16).to_be_bytes());
            plain.extend_from_slice(&h.ticket.ticket);
        }
        let mut file_key = self.file_key();
        let salt = blake2s256(&[b"stt ticket file salt", &file_key, &plain]);
        let mut out = Vec::with_capacity(HEAD_LEN + plain.len() + TAG_LEN);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(0);
        out.extend_from_slice(&salt[..16]);
        let body_at = out.len();
        out.extend_from_slice(&plain);
        out.resize(out.len() + TAG_LEN, 0);
        plain.zeroize();
        let key = sealing_key(self.cfg.provider, &file_key, &salt[..16]);
        file_key.zeroize();
        let (head, body) = out.split_at_mut(body_at);
        if key.seal(0, head, body).is_err() {
            // Sealing does not fail with a key this size; were it to, an
            // empty export is refused on import instead of leaking.
            body.zeroize();
            out.truncate(body_at);
        }
        out
    }

    /// Reads a ticket file written by
    /// [`export_tickets`](Self::export_tickets) of an endpoint with the
    /// same node seed, and puts its tickets in this endpoint's store
    /// (bounded as ever: `TicketConfig::store_size`, two per address).
    /// `wall` is the wall-clock time now, as for `export_tickets`.
    /// Tickets whose lifetime is over are skipped; none lives longer than
    /// this endpoint's `TicketConfig::lifetime` from now. Returns how many
    /// were imported (none if `TicketConfig::resume` is off).
    ///
    /// Any input is safe: a file that is cut short, altered, another
    /// node's, or not a ticket file at all is refused with its reason,
    /// and nothing of it is imported.
    pub fn import_tickets(
        &mut self,
        now: Instant,
        wall: Duration,
        data: &[u8],
    ) -> Result<usize, TicketImportError> {
        if data.len() > MAX_FILE_LEN {
            return Err(TicketImportError::TooLarge {
                len: data.len(),
                max: MAX_FILE_LEN,
            });
        }
        let Some(magic) = data.get(..MAGIC.len()) else {
            return Err(if MAGIC.starts_with(data) {
                TicketImportError::Truncated
            } else {
                TicketImportError::NotTickets
            });
        };
        if magic != MAGIC {
            return Err(TicketImportError::NotTickets);
        }
        match data.get(MAGIC.len()) {
            None => return Err(TicketImportError::Truncated),
            Some(&VERSION) => {}
            Some(&v) => return Err(TicketImportError::Version(v)),
        }
        if data.len() < HEAD_LEN + 2 + TAG_LEN {
            return Err(TicketImportError::Truncated);
        }
        let (head, sealed) = data.split_at(HEAD_LEN);
        let mut file_key = self.file_key();
        let key = sealing_key(self.cfg.provider, &file_key, &head[8..HEAD_LEN]);
        file_key.zeroize();
        let mut buf = sealed.to_vec();
        let entries = match key.open(0, head, &mut buf) {
            Ok(plain) => parse(plain),
            Err(_) => Err(TicketImportError::Auth),
        };
        buf.zeroize();
        let entries = entries?;
        if !self.cfg.tickets.resume {
            return Ok(0);
        }
        let wall = wall_micros(wall);
        let lifetime = self.cfg.tickets.lifetime;
        let mut imported = 0;
        for (expires, peer, ticket) in entries {
            if expires <= wall {
                continue;
            }
            let left = Duration::from_micros(expires - wall).min(lifetime);
            let mut ticket = ticket;
            ticket.received = now;
            self.tickets.store.insert(peer, ticket, now + left);
            imported += 1;
        }
        Ok(imported)
    }

    /// The key this node's ticket files derive their keys from.
    fn file_key(&self) -> [u8; 32] {
        self.cfg.identity.derive_key(b"stt ticket file v1")
    }
}

/// The AEAD key of one file, from the node's file key and the file's salt.
fn sealing_key(provider: Provider, file_key: &[u8; 32], salt: &[u8]) -> PacketKey {
    let mut k = blake2s256(&[b"stt ticket file key", file_key, salt]);
    let key = PacketKey::with_cipher(provider, Cipher::ChaCha20Poly1305, &k);
    k.zeroize();
    key
}

/// Reads big-endian fields off an authenticated plaintext.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TicketImportError> {
        if self.0.len() < n {
            return Err(TicketImportError::Malformed);
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], TicketImportError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
}

/// The entries of a plaintext: expiry (wall microseconds), address,
/// ticket (its `received` to be set by the caller).
fn parse(plain: &[u8]) -> Result<Vec<(u64, SocketAddr, ClientTicket)>, TicketImportError> {
    let mut c = Cursor(plain);
    let count = usize::from(u16::from_be_bytes(c.array()?));
    if count > MAX_FILE_TICKETS {
        return Err(TicketImportError::Malformed);
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let expires = u64::from_be_bytes(c.array()?);
        let node = NodeId(c.array()?);
        let resumption: [u8; 32] = c.array()?;
        let peer = match c.array::<1>()?[0] {
            4 => {
                let ip: [u8; 4] = c.array()?;
                let port = u16::from_be_bytes(c.array()?);
                SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), port)
            }
            6 => {
                let ip: [u8; 16] = c.array()?;
                let port = u16::from_be_bytes(c.array()?);
                let scope = u32::from_be_bytes(c.array()?);
                SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(ip), port, 0, scope))
            }
            _ => return Err(TicketImportError::Malformed),
        };
        let len = usize::from(u16::from_be_bytes(c.array()?));
        if !(1..=MAX_TICKET_LEN).contains(&len) {
            return Err(TicketImportError::Malformed);
        }
        let ticket = c.take(len)?.to_vec();
        out.push((
            expires,
            peer,
            ClientTicket {
                ticket,
                resumption,
                node,
                received: Instant::ZERO,
            },
        ));
    }
    if !c.0.is_empty() {
        return Err(TicketImportError::Malformed);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use alloc::vec;
    use proptest::prelude::*;

    fn endpoint(seed: u8) -> Endpoint {
        let cfg = Config::builder(&[seed; 32], &[9; 32]).build().unwrap();
        Endpoint::new(cfg, [seed; 32])
    }

    const WALL: Duration = Duration::from_secs(1_800_000_000);

    /// An endpoint of node 1 holding three tickets: two for a v4 peer
    /// (one with 10 s left, one with 50 min) and one for a v6 peer.
    fn holder() -> Endpoint {
        let mut e = endpoint(1);
        let v4: SocketAddr = "10.0.0.2:2000".parse().unwrap();
        let v6: SocketAddr = "[fe80::1%3]:4000".parse().unwrap();
        let t = |n: u8| ClientTicket {
            ticket: vec![n; 132],
            resumption: [n; 32],
            node: NodeId([n; 32]),
            received: Instant::ZERO,
        };
        let at = |s| Instant::ZERO + Duration::from_secs(s);
        e.tickets.store.insert(v4, t(1), at(10));
        e.tickets.store.insert(v6, t(2), at(3000));
        e.tickets.store.insert(v4, t(3), at(3000));
        e
    }

    fn held(e: &Endpoint) -> Vec<(SocketAddr, u8, u64)> {
        e.tickets
            .store
            .iter()
            .map(|h| (h.peer, h.ticket.ticket[0], h.expires.as_micros()))
            .collect()
    }

    #[test]
    fn a_file_round_trips_with_its_expiry_carried_over_wall_time() {
        let file = holder().export_tickets(Instant::ZERO, WALL);
        assert_eq!(&file[..8], b"sttTIX\x01\x00");
        // The new process's clock starts at 5 s; 100 s passed on the wall.
        let mut e = endpoint(1);
        let now = Instant::ZERO + Duration::from_secs(5);
        let n = e.import_tickets(now, WALL + Duration::from_secs(100), &file);
        assert_eq!(n, Ok(2), "the ticket with 10 s left is skipped");
        let left = Duration::from_secs(2900).as_micros() as u64;
        let now_us = now.as_micros();
        assert_eq!(
            held(&e),
            vec![
                ("[fe80::1%3]:4000".parse().unwrap(), 2, now_us + left),
                ("10.0.0.2:2000".parse().unwrap(), 3, now_us + left),
            ]
        );
        let peer = "10.0.0.2:2000".parse().unwrap();
        let t = e.tickets.store.take(peer, now).unwrap();
        assert_eq!((t.resumption, t.node), ([3; 32], NodeId([3; 32])));
        assert_eq!(t.received, now);
        // Wall time that ran backwards never stretches a ticket past this
        // endpoint's lifetime.
        let mut e = endpoint(1);
        e.import_tickets(Instant::ZERO, WALL - Duration::from_secs(86_400), &file)
            .unwrap();
        assert!(held(&e).iter().all(|h| h.2 <= 3_600_000_000));
    }

    #[test]
    fn refusals_are_typed() {
        let file = holder().export_tickets(Instant::ZERO, WALL);
        let mut e = endpoint(1);
        let mut import = |d: &[u8]| e.import_tickets(Instant::ZERO, WALL, d);
        assert_eq!(import(&[]), Err(TicketImportError::Truncated));
        assert_eq!(import(b"sttT"), Err(TicketImportError::Truncated));
        assert_eq!(import(b"sttTIX"), Err(TicketImportError::Truncated));
        assert_eq!(import(b"hello world"), Err(TicketImportError::NotTickets));
        assert_eq!(import(&file[..30]), Err(TicketImportError::Truncated));
        assert_eq!(
            import(&file[..file.len() - 1]),
            Err(TicketImportError::Auth)
        );
        let mut v2 = file.clone();
        v2[6] = 2;
        assert_eq!(import(&v2), Err(TicketImportError::Version(2)));
        for i in [7, 10, 30, file.len() - 1] {
            let mut bad = file.clone();
            bad[i] ^= 0x40;
            assert_eq!(import(&bad), Err(TicketImportError::Auth), "byte {i}");
        }
        let big = vec![0u8; MAX_FILE_LEN + 1];
        assert!(matches!(
            import(&big),
            Err(TicketImportError::TooLarge { .. })
        ));
        // Another node's file does not open.
        let mut other = endpoint(2);
        assert_eq!(
            other.import_tickets(Instant::ZERO, WALL, &file),
            Err(TicketImportError::Auth)
        );
        assert_eq!(held(&e), vec![], "nothing imported from a refused file");
        // An empty store exports a file that imports nothing.
        let empty = endpoint(1).export_tickets(Instant::ZERO, WALL);
        assert_eq!(e.import_tickets(Instant::ZERO, WALL, &empty), Ok(0));
    }

    #[test]
    fn the_store_bound_holds_on_import() {
        let cfg = crate::TicketConfig {
            store_size: 1,
            ..Default::default()
        };
        let c = Config::builder(&[1; 32], &[9; 32])
            .tickets(cfg)
            .build()
            .unwrap();
        let mut e = Endpoint::new(c, [1; 32]);
        let file = holder().export_tickets(Instant::ZERO, WALL);
        assert_eq!(e.import_tickets(Instant::ZERO, WALL, &file), Ok(3));
        assert_eq!(e.tickets.store.len(), 1);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn import_never_panics_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut e = endpoint(1);
            let r = e.import_tickets(Instant::ZERO, WALL, &data);
            prop_assert!(r.is_err() || data.starts_with(b"sttTIX\x01"));
        }

        #[test]
        fn import_refuses_every_altered_or_cut_file(at in 0usize..2000, bit in 0u8..8, cut in any::<bool>()) {
            let file = holder().export_tickets(Instant::ZERO, WALL);
            let mut d = file.clone();
            let at = at % file.len();
            if cut {
                d.truncate(at);
            } else {
                d[at] ^= 1 << bit;
            }
            let mut e = endpoint(1);
            prop_assert!(e.import_tickets(Instant::ZERO, WALL, &d).is_err());
            prop_assert_eq!(e.tickets.store.len(), 0);
        }
    }
}
