//! A hand-driven peer: runs the real handshake with an [`Endpoint`] through
//! `stt::__private::crypto` and `stt::__private::wire` (internals, not API), then seals whatever plaintext it is told
//! to. It is what a hostile holder of the network key can do, and it needs
//! no test hook in the core.

use std::net::SocketAddr;
use std::time::Duration;

use stt::__private::crypto::{
    network_key, Handshake, Identity, PacketKey, Provider, MAX_HANDSHAKE_MSG, TAG_LEN,
};
use stt::__private::wire::{
    decode_packet_number, Frame, Frames, LongHeader, LongType, Packet, ShortHeader,
    TransportParams, Writer, SHORT_HEADER_LEN, VERSION,
};
use stt::{Endpoint, Instant, NodeId, SessionId};

/// Why the raw handshake did not complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawError {
    /// A crypto call failed.
    Crypto(stt::__private::crypto::CryptoError),
    /// The endpoint did not answer as expected.
    NoResponse,
    /// The Response did not parse.
    BadResponse,
}

impl From<stt::__private::crypto::CryptoError> for RawError {
    fn from(e: stt::__private::crypto::CryptoError) -> Self {
        RawError::Crypto(e)
    }
}

/// Encodes `frames` one after the other into a plaintext payload.
pub fn encode_frames(frames: &[Frame<'_>]) -> Vec<u8> {
    let len: usize = frames.iter().map(|f| f.encoded_len()).sum();
    let mut out = vec![0u8; len];
    let mut w = Writer::new(&mut out);
    for f in frames {
        f.encode(&mut w).expect("frame encodes");
    }
    out
}

/// The codes of the CLOSE frames in decrypted `plaintexts` (what a peer
/// was told), in order.
pub fn close_codes(plaintexts: &[Vec<u8>]) -> Vec<u64> {
    plaintexts
        .iter()
        .flat_map(|p| Frames::new(p).filter_map(Result::ok).collect::<Vec<_>>())
        .filter_map(|f| match f {
            Frame::Close { code, .. } => Some(code),
            _ => None,
        })
        .collect()
}

/// A long-header datagram.
pub fn long_datagram(
    ty: LongType,
    dst: SessionId,
    src: SessionId,
    token: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let header = LongHeader {
        ty,
        version: VERSION,
        dst,
        src,
        token,
    };
    let mut out = vec![0u8; header.encoded_len() + payload.len()];
    let mut w = Writer::new(&mut out);
    header.encode(&mut w).expect("header encodes");
    w.put_slice(payload).expect("sized exactly");
    out
}

/// The Initial a node (`node_seed`, network `shared_seed`) sends from
/// session `src`; its Noise state is dropped, so nothing can follow it.
pub fn initial(node_seed: &[u8], shared_seed: &[u8], src: SessionId, rng: [u8; 32]) -> Vec<u8> {
    initial_with_token(node_seed, shared_seed, src, rng, &[])
}

/// [`initial`] echoing a Retry `token`.
pub fn initial_with_token(
    node_seed: &[u8],
    shared_seed: &[u8],
    src: SessionId,
    rng: [u8; 32],
    token: &[u8],
) -> Vec<u8> {
    let identity = Identity::from_seed(node_seed);
    let mut hs = Handshake::initiator(&identity, &network_key(shared_seed), rng).expect("noise");
    let mut buf = [0u8; MAX_HANDSHAKE_MSG];
    let n = hs.write_message(&[], &mut buf).expect("message 1");
    long_datagram(LongType::Initial, SessionId(0), src, token, &buf[..n])
}

/// What a recorded handshake was made for: the endpoint's node, the time,
/// the peer's address, node seed, network seed and parameters.
type Key = (
    NodeId,
    Instant,
    SocketAddr,
    Vec<u8>,
    Vec<u8>,
    TransportParams,
);

/// A handshake as it went once: what the peer sent, what the endpoint
/// answered, and the peer it left (see [`RawPeer::connect_recorded`]): the
/// peer's half of the key agreement (two key generations, three
/// Diffie-Hellman operations) is then done once per thread.
#[derive(Clone)]
struct Script {
    initial: Vec<u8>,
    response: Vec<u8>,
    finish: Vec<u8>,
    peer: RawPeer,
}

/// Bytes of a peer's scratch buffer: any datagram the endpoint may write.
const SCRATCH: usize = 65_536;

thread_local! {
    static RECORDED: std::cell::RefCell<Option<(Key, Script)>> =
        const { std::cell::RefCell::new(None) };
    /// A scratch buffer handed back by [`RawPeer::recycle`], so that a
    /// harness building a peer per input zeroes one only once per thread.
    static SPARE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A zeroed-once scratch buffer of [`SCRATCH`] bytes: the spare one if
/// there is one (its contents are stale, which no reader depends on: every
/// datagram is read only up to the length the endpoint wrote).
fn scratch() -> Vec<u8> {
    let b = SPARE.with(|s| std::mem::take(&mut *s.borrow_mut()));
    if b.len() == SCRATCH {
        b
    } else {
        vec![0u8; SCRATCH]
    }
}

/// The initiator side of one session with an endpoint.
#[derive(Clone)]
pub struct RawPeer {
    /// Where this peer sends from.
    pub addr: SocketAddr,
    /// This peer's session id (the endpoint's dst).
    pub id: SessionId,
    /// The endpoint's session id (this peer's dst).
    pub peer_id: SessionId,
    /// The endpoint's node id, proven in the handshake.
    pub peer_node: NodeId,
    /// The endpoint's transport parameters.
    pub peer_params: TransportParams,
    tx: PacketKey,
    rx: PacketKey,
    /// Next packet number this peer uses.
    pub next_pn: u64,
    rx_largest: Option<u64>,
    /// Packet numbers received from the endpoint.
    pub received: Vec<u64>,
    /// Data of the latest PATH_CHALLENGEs the endpoint sent (at most 4),
    /// seen by [`drain_any`](Self::drain_any).
    pub challenges: Vec<[u8; 8]>,
    /// Scratch for the endpoint's datagrams, allocated once per peer.
    buf: Vec<u8>,
}

impl RawPeer {
    /// Runs the three-message handshake with `ep` from `addr` at `now` with
    /// the given seeds and parameters. Returns the peer; the endpoint's
    /// session is then established (its `Accepted` event is queued).
    pub fn connect(
        ep: &mut Endpoint,
        now: Instant,
        addr: SocketAddr,
        node_seed: &[u8],
        shared_seed: &[u8],
        params: TransportParams,
    ) -> Result<RawPeer, RawError> {
        Self::handshake(ep, now, addr, node_seed, shared_seed, params).map(|(peer, _)| peer)
    }

    /// [`connect`](Self::connect) for a caller that builds the same
    /// endpoint (same configuration, random seed and state) every time:
    /// the first call on a thread runs the handshake and records it; later
    /// calls with the same arguments replay the peer's messages and reuse
    /// its keys, so only the endpoint does its half of the key agreement.
    ///
    /// Panics if the endpoint answers the replayed Initial differently from
    /// the recorded one: the caller broke the contract above, or the core
    /// is not deterministic.
    pub fn connect_recorded(
        ep: &mut Endpoint,
        now: Instant,
        addr: SocketAddr,
        node_seed: &[u8],
        shared_seed: &[u8],
        params: TransportParams,
    ) -> Result<RawPeer, RawError> {
        let key = (
            ep.node_id(),
            now,
            addr,
            node_seed.to_vec(),
            shared_seed.to_vec(),
            params,
        );
        if let Some(peer) = Self::replay(ep, &key) {
            return Ok(peer);
        }
        let (peer, script) = Self::handshake(ep, now, addr, node_seed, shared_seed, params)?;
        RECORDED.with(|r| *r.borrow_mut() = Some((key, script)));
        Ok(peer)
    }

    /// Plays the handshake recorded for `key` to `ep`, if there is one.
    fn replay(ep: &mut Endpoint, key: &Key) -> Option<RawPeer> {
        let (now, addr) = (key.1, key.2);
        let script = RECORDED.with(|r| match &*r.borrow() {
            Some((k, s)) if k == key => Some(s.clone()),
            _ => None,
        })?;
        let mut d = script.initial.clone();
        ep.handle_datagram(now, addr, &mut d);
        let mut out = scratch();
        let mut response = None;
        while let Some(t) = ep.poll_transmit(now, &mut out) {
            if t.destination == addr && out[0] & 0x80 != 0 {
                response = Some(out[..t.len].to_vec());
            }
        }
        assert_eq!(
            response.as_deref(),
            Some(&script.response[..]),
            "the endpoint answered the recorded handshake differently"
        );
        let mut d = script.finish.clone();
        ep.handle_datagram(now, addr, &mut d);
        let mut peer = script.peer;
        peer.buf = out;
        Some(peer)
    }

    /// The real three-message handshake; returns the peer and the script
    /// to replay it.
    fn handshake(
        ep: &mut Endpoint,
        now: Instant,
        addr: SocketAddr,
        node_seed: &[u8],
        shared_seed: &[u8],
        params: TransportParams,
    ) -> Result<(RawPeer, Script), RawError> {
        let id = SessionId(0x5157_0000_0000_0001);
        let identity = Identity::from_seed(node_seed);
        let mut hs = Handshake::initiator(&identity, &network_key(shared_seed), [7; 32])?;
        let mut buf = [0u8; MAX_HANDSHAKE_MSG];
        let n = hs.write_message(&[], &mut buf)?;
        let initial = long_datagram(LongType::Initial, SessionId(0), id, &[], &buf[..n]);
        let mut d = initial.clone();
        ep.handle_datagram(now, addr, &mut d);
        let mut out = scratch();
        let mut response = None;
        while let Some(t) = ep.poll_transmit(now, &mut out) {
            if t.destination == addr && out[0] & 0x80 != 0 {
                response = Some(out[..t.len].to_vec());
            }
        }
        let response = response.ok_or(RawError::NoResponse)?;
        let Ok(Packet::Long { header, payload }) = Packet::parse(&response) else {
            return Err(RawError::BadResponse);
        };
        if header.ty != LongType::Response || header.dst != id {
            return Err(RawError::BadResponse);
        }
        let n = hs.read_message(payload, &mut buf)?;
        let peer_params = TransportParams::parse(&buf[..n]).map_err(|_| RawError::BadResponse)?;
        let peer_node = hs.remote_node().ok_or(RawError::BadResponse)?;
        let mut ours = vec![0u8; params.encoded_len()];
        params
            .encode(&mut Writer::new(&mut ours))
            .expect("params encode");
        let n = hs.write_message(&ours, &mut buf)?;
        let finish = long_datagram(LongType::Finish, header.src, id, &[], &buf[..n]);
        let mut d = finish.clone();
        ep.handle_datagram(now, addr, &mut d);
        let secrets = hs.into_secrets()?;
        let p = Provider::default();
        let peer = RawPeer {
            addr,
            id,
            peer_id: header.src,
            peer_node,
            peer_params,
            tx: PacketKey::new(p, &secrets.tx),
            rx: PacketKey::new(p, &secrets.rx),
            next_pn: 0,
            rx_largest: None,
            received: Vec::new(),
            challenges: Vec::new(),
            buf: out,
        };
        let script = Script {
            initial,
            response,
            finish,
            peer: RawPeer {
                buf: Vec::new(),
                ..peer.clone()
            },
        };
        Ok((peer, script))
    }

    /// Ends this peer, keeping its scratch buffer for the next one built
    /// on this thread.
    pub fn recycle(self) {
        if self.buf.len() == SCRATCH {
            SPARE.with(|s| *s.borrow_mut() = self.buf);
        }
    }

    /// A short datagram carrying `plain`, sealed as packet `pn`.
    pub fn seal_pn(&self, pn: u64, plain: &[u8]) -> Vec<u8> {
        let header = ShortHeader {
            key_phase: false,
            dst: self.peer_id,
            pn_truncated: pn as u32,
        };
        let mut d = vec![0u8; SHORT_HEADER_LEN + plain.len() + TAG_LEN];
        header
            .encode(&mut Writer::new(&mut d[..SHORT_HEADER_LEN]))
            .expect("header");
        d[SHORT_HEADER_LEN..SHORT_HEADER_LEN + plain.len()].copy_from_slice(plain);
        let (head, body) = d.split_at_mut(SHORT_HEADER_LEN);
        self.tx.seal(pn, head, body).expect("seal");
        d
    }

    /// A short datagram carrying `plain` under the next packet number.
    pub fn seal(&mut self, plain: &[u8]) -> Vec<u8> {
        let d = self.seal_pn(self.next_pn, plain);
        self.next_pn += 1;
        d
    }

    /// Seals `frames` and hands them to `ep`.
    pub fn send(&mut self, ep: &mut Endpoint, now: Instant, frames: &[Frame<'_>]) {
        let mut d = self.seal(&encode_frames(frames));
        ep.handle_datagram(now, self.addr, &mut d);
    }

    /// Opens a short datagram from the endpoint; its plaintext, if it is
    /// one for this peer and authenticates.
    pub fn open(&mut self, datagram: &mut [u8]) -> Option<Vec<u8>> {
        let Ok(Packet::Short { header, .. }) = Packet::parse(datagram) else {
            return None;
        };
        if header.dst != self.id {
            return None;
        }
        let pn = decode_packet_number(self.rx_largest, header.pn_truncated);
        let (head, body) = datagram.split_at_mut(SHORT_HEADER_LEN);
        let plain = self.rx.open(pn, head, body).ok()?.to_vec();
        self.rx_largest = Some(self.rx_largest.map_or(pn, |l| l.max(pn)));
        self.received.push(pn);
        Some(plain)
    }

    /// Everything `ep` wants to send to this peer now, opened.
    pub fn drain(&mut self, ep: &mut Endpoint, now: Instant) -> Vec<Vec<u8>> {
        let mut out = std::mem::take(&mut self.buf);
        let mut got = Vec::new();
        for _ in 0..10_000 {
            let Some(t) = ep.poll_transmit(now, &mut out) else {
                break;
            };
            if t.destination != self.addr {
                continue;
            }
            if let Some(p) = self.open(&mut out[..t.len]) {
                got.push(p);
            }
        }
        self.buf = out;
        got
    }

    /// Like [`drain`](Self::drain), for a peer that owns every address the
    /// endpoint sends to (it moved, or is challenged at several): opens
    /// them all and records the data of each PATH_CHALLENGE.
    pub fn drain_any(&mut self, ep: &mut Endpoint, now: Instant) -> Vec<Vec<u8>> {
        let mut out = std::mem::take(&mut self.buf);
        let mut got = Vec::new();
        for _ in 0..10_000 {
            let Some(t) = ep.poll_transmit(now, &mut out) else {
                break;
            };
            let Some(p) = self.open(&mut out[..t.len]) else {
                continue;
            };
            for f in stt::__private::wire::Frames::new(&p).map_while(Result::ok) {
                if let stt::__private::wire::Frame::PathChallenge(d) = f {
                    if self.challenges.len() >= 4 {
                        self.challenges.remove(0);
                    }
                    self.challenges.push(d);
                }
            }
            got.push(p);
        }
        self.buf = out;
        got
    }

    /// An ACK frame's ranges (largest first) covering every packet number
    /// received so far, at most 64 ranges.
    pub fn ack_ranges(&self) -> Vec<std::ops::Range<u64>> {
        let mut pns = self.received.clone();
        pns.sort_unstable();
        pns.dedup();
        let mut ranges: Vec<std::ops::Range<u64>> = Vec::new();
        for pn in pns {
            match ranges.last_mut() {
                Some(r) if r.end == pn => r.end = pn + 1,
                _ => ranges.push(pn..pn + 1),
            }
        }
        ranges.reverse();
        ranges.truncate(65);
        ranges
    }

    /// An ACK of everything received, as plaintext.
    pub fn ack_plaintext(&self) -> Vec<u8> {
        let ranges = self.ack_ranges();
        if ranges.is_empty() {
            return Vec::new();
        }
        let mut out = vec![0u8; stt::__private::wire::ack_len(0, &ranges)];
        stt::__private::wire::encode_ack(&mut Writer::new(&mut out), 0, &ranges)
            .expect("ack encodes");
        out
    }
}

/// A standard delay for "a while later" in hostile scenarios.
pub const LATER: Duration = Duration::from_millis(50);
