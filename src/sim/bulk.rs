//! Bulk transfers over a simulated bottleneck: the scenario behind goodput
//! and fairness figures.
//!
//! Owns: a sender application that keeps every session's stream 0 full, a
//! receiver application that reads and counts what arrives, the run that
//! puts them on nodes joined by paths that meet at one bottleneck. The
//! report and its measuring live in `bulk_report.rs`.
//! Never: touches the protocol beyond the public API, reads a clock or the
//! OS's randomness. A config replays to the same report, bit for bit.
//!
//! Topology: by default one client endpoint opens `sessions` sessions to one
//! server endpoint; both directions of the path use the same [`LinkConfig`],
//! so all sessions share the client-to-server bottleneck (rate and queue) and
//! the acknowledgements cross an identical path back. With
//! [`BulkConfig::extra_delays`] each session gets its own client endpoint
//! (its own address) and its own path, `link` plus its extra one-way delay
//! in each direction, and all those paths share one bottleneck per
//! direction: a dumbbell of flows with different round trips and one queue.
//! Payload bytes are counted when the server's application reads them;
//! "link rate" is the bottleneck rate in UDP payload bits.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use bytes::Bytes;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;

use super::bulk_report::{self as measure, AppPhaseReport, BulkReport, RttLog};
use super::config::{ConfigError, LinkConfig};
use super::driver::{step, RunError};
use super::endpoint_node::{App, EndpointNode};
use super::network::Network;
use crate::config::Config;
use crate::endpoint::Endpoint;
use crate::event::Event;
use crate::ids::SessionId;
use crate::recovery::{ControllerKind, RecoveryConfig};
use crate::streams::{StreamEvent, StreamLimits};
use crate::time::Instant;

/// Zeros to send: messages are slices of it, so queueing costs no copy.
static ZEROS: [u8; MAX_MESSAGE] = [0; MAX_MESSAGE];
/// Largest bulk message.
const MAX_MESSAGE: usize = 64 * 1024;
/// Length of the tag message that opens each session's stream 0.
const TAG_LEN: usize = 8;

/// What to simulate.
#[derive(Clone, Debug)]
pub struct BulkConfig {
    /// Both directions of the path.
    pub link: LinkConfig,
    /// Sessions from the client to the server, all started at once.
    pub sessions: usize,
    /// Virtual time the transfer runs, from the first connect.
    pub duration: Duration,
    /// Seed of the network and both endpoints.
    pub seed: u64,
    /// Bulk message size, at most 64 KiB (larger values are cut to it).
    pub message_size: usize,
    /// Unacknowledged bytes the sender keeps queued per session, so it is
    /// never application-limited. Default `u64::MAX`: as much as the
    /// stream takes (`StreamLimits::max_send_queue` answers `WouldBlock`
    /// past it), so the sender never caps what the windows allow.
    pub send_ahead: u64,
    /// Interval of the time series in the report.
    pub sample_every: Duration,
    /// Recovery settings of both endpoints (congestion controller, ...).
    pub recovery: RecoveryConfig,
    /// Stream limits of both endpoints.
    pub streams: StreamLimits,
    /// Datagram size search of both endpoints: `(base, ceiling)`; `None`
    /// keeps the endpoint defaults.
    pub datagram_sizes: Option<(usize, usize)>,
    /// Controllers of the client's sessions, by connect order, overriding
    /// `recovery.controller` (sessions past the list's end keep it).
    pub controllers: Vec<ControllerKind>,
    /// An application-limited phase before the bulk transfer: each session
    /// first sends `rate` bits per second of 1250-byte messages for
    /// `duration`, then as much as it can.
    pub app_limited: Option<AppLimited>,
    /// Extra one-way delay of each session's own access path, by connect
    /// order, added to `link.latency` in both directions (sessions past the
    /// list's end get none). Empty (the default): all sessions on one client
    /// endpoint and one path. Not empty: every session on its own client
    /// endpoint and path, all paths through one shared bottleneck with the
    /// rate and queue of `link` (size the queue for the RTT you mean: the
    /// sessions' round trips differ). The delay is added after the
    /// bottleneck, so the queue sees each flow as sent.
    pub extra_delays: Vec<Duration>,
}

/// See [`BulkConfig::app_limited`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppLimited {
    /// Bits per second the application offers.
    pub rate: u64,
    /// How long it does.
    pub duration: Duration,
}

/// Size of the application-limited phase's messages.
const APP_MESSAGE: usize = 1250;

impl Default for BulkConfig {
    /// One session for 10 s over the default link, 64 KiB messages, as
    /// much sent ahead as the stream takes, a sample every 100 ms, default
    /// recovery and limits.
    fn default() -> Self {
        BulkConfig {
            link: LinkConfig::default(),
            sessions: 1,
            duration: Duration::from_secs(10),
            seed: 1,
            message_size: MAX_MESSAGE,
            send_ahead: u64::MAX,
            sample_every: Duration::from_millis(100),
            recovery: RecoveryConfig::default(),
            streams: StreamLimits::default(),
            datagram_sizes: None,
            controllers: Vec::new(),
            app_limited: None,
            extra_delays: Vec::new(),
        }
    }
}

/// Why a bulk run could not produce a report.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BulkError {
    /// The link config is invalid.
    #[error("invalid link: {0}")]
    Link(#[from] ConfigError),
    /// The endpoint config was refused.
    #[error("invalid endpoint config: {0}")]
    Config(#[from] crate::config::ConfigError),
    /// The client could not open a session.
    #[error("connect failed: {0}")]
    Connect(#[from] crate::endpoint::ConnectError),
    /// The simulation stopped advancing.
    #[error("{0}")]
    Run(#[from] RunError),
}

/// Keeps stream 0 of every session `send_ahead` bytes ahead of the
/// acknowledgements, after an 8-byte tag naming the session's index.
#[derive(Debug)]
pub struct BulkSender {
    /// Sessions in connect order.
    pub sessions: Vec<SessionId>,
    message: Bytes,
    send_ahead: u64,
    /// Application-limited phase: bytes per second, end, and bytes each
    /// session queued in it.
    app: Option<(u64, Instant)>,
    app_queued: Vec<u64>,
    next_wake: Option<Instant>,
    /// Tag of this sender's first session (senders on several endpoints
    /// number their sessions in one sequence).
    first_tag: u64,
}

impl BulkSender {
    /// A sender of `message_size`-byte messages (cut to 64 KiB), keeping
    /// `send_ahead` bytes unacknowledged per session.
    pub fn new(message_size: usize, send_ahead: u64) -> Self {
        let n = message_size.clamp(1, MAX_MESSAGE);
        BulkSender {
            sessions: Vec::new(),
            message: Bytes::from_static(ZEROS.get(..n).unwrap_or(&[])),
            send_ahead,
            app: None,
            app_queued: Vec::new(),
            next_wake: None,
            first_tag: 0,
        }
    }

    /// Numbers this sender's sessions from `first` on, so that a receiver
    /// counting several senders' sessions tells them apart.
    pub fn with_first_tag(mut self, first: u64) -> Self {
        self.first_tag = first;
        self
    }

    /// Sends only `rate` bits per second of small messages until `until`.
    pub fn limit_until(&mut self, rate: u64, until: Instant) {
        self.app = Some((rate / 8, until));
    }

    /// Opens a session to `peer` and queues its tag.
    pub fn connect(
        &mut self,
        now: Instant,
        ep: &mut Endpoint,
        peer: SocketAddr,
    ) -> Result<SessionId, crate::endpoint::ConnectError> {
        let id = ep.connect(now, peer)?;
        let index = self.first_tag + self.sessions.len() as u64;
        if let Some(s) = ep.session_mut(id) {
            // Tag first, so the receiver can tell sessions apart.
            let _ = s.send(0, Bytes::copy_from_slice(&index.to_be_bytes()));
        }
        self.sessions.push(id);
        Ok(id)
    }

    fn top_up(&mut self, now: Instant, ep: &mut Endpoint) {
        self.next_wake = None;
        if let Some((rate, until)) = self.app {
            if now < until {
                self.app_queued.resize(self.sessions.len(), 0);
                let due = rate.saturating_mul(now.as_micros()) / 1_000_000;
                for (&id, queued) in self.sessions.iter().zip(self.app_queued.iter_mut()) {
                    let Some(s) = ep.session_mut(id) else {
                        continue;
                    };
                    while *queued < due {
                        let m = Bytes::from_static(ZEROS.get(..APP_MESSAGE).unwrap_or(&[]));
                        if s.send(0, m).is_err() {
                            break;
                        }
                        *queued += APP_MESSAGE as u64;
                    }
                }
                let step = (APP_MESSAGE as u64 * 1_000_000 / rate.max(1)).max(1);
                self.next_wake = Some((now + Duration::from_micros(step)).min(until));
                return;
            }
        }
        for &id in &self.sessions {
            let Some(s) = ep.session_mut(id) else {
                continue;
            };
            while s.stream(0).is_some_and(|st| st.unacked() < self.send_ahead) {
                if s.send(0, self.message.clone()).is_err() {
                    break;
                }
            }
        }
    }
}

impl App for BulkSender {
    fn on_wake(&mut self, now: Instant, ep: &mut Endpoint) {
        while ep.poll_event().is_some() {}
        self.top_up(now, ep);
    }

    fn wakeup(&self) -> Option<Instant> {
        self.next_wake
    }
}

/// Reads everything that arrives on any stream and counts payload bytes
/// per session, keyed by the sender's tag.
#[derive(Debug, Default)]
pub struct BulkReceiver {
    /// Sender's session index of each local session, once its tag arrived.
    index: BTreeMap<SessionId, usize>,
    /// Payload bytes read, by sender's session index.
    pub delivered: Vec<u64>,
}

impl BulkReceiver {
    fn read(&mut self, ep: &mut Endpoint, session: SessionId, stream: u32) {
        let Some(s) = ep.session_mut(session) else {
            return;
        };
        while let Ok(Some(m)) = s.recv(stream) {
            match self.index.get(&session) {
                Some(&i) => {
                    if let Some(d) = self.delivered.get_mut(i) {
                        *d += m.len() as u64;
                    }
                }
                None => {
                    let mut tag = [0u8; TAG_LEN];
                    if let Some(b) = m.get(..TAG_LEN) {
                        tag.copy_from_slice(b);
                    }
                    // Bounded by the sender's own session count.
                    let i = usize::try_from(u64::from_be_bytes(tag)).unwrap_or(usize::MAX);
                    if i < 1 << 16 {
                        if self.delivered.len() <= i {
                            self.delivered.resize(i + 1, 0);
                        }
                        self.index.insert(session, i);
                    }
                }
            }
        }
    }
}

impl App for BulkReceiver {
    fn on_wake(&mut self, _now: Instant, ep: &mut Endpoint) {
        while let Some(e) = ep.poll_event() {
            if let Event::Stream {
                session,
                event: StreamEvent::Readable(stream),
            } = e
            {
                self.read(ep, session, stream);
            }
        }
    }
}

/// The nodes of a bulk run: one or more clients, then the server.
enum BulkNode {
    Client(EndpointNode<BulkSender>),
    Server(EndpointNode<BulkReceiver>),
}

impl super::driver::Node for BulkNode {
    fn addr(&self) -> SocketAddr {
        match self {
            BulkNode::Client(n) => n.addr(),
            BulkNode::Server(n) => n.addr(),
        }
    }
    fn handle(&mut self, now: Instant, from: SocketAddr, data: Bytes) {
        match self {
            BulkNode::Client(n) => n.handle(now, from, data),
            BulkNode::Server(n) => n.handle(now, from, data),
        }
    }
    fn poll_send(&mut self, now: Instant) -> Option<(SocketAddr, Vec<u8>)> {
        match self {
            BulkNode::Client(n) => n.poll_send(now),
            BulkNode::Server(n) => n.poll_send(now),
        }
    }
    fn next_timeout(&self) -> Option<Instant> {
        match self {
            BulkNode::Client(n) => n.next_timeout(),
            BulkNode::Server(n) => n.next_timeout(),
        }
    }
    fn on_timeout(&mut self, now: Instant) {
        match self {
            BulkNode::Client(n) => n.on_timeout(now),
            BulkNode::Server(n) => n.on_timeout(now),
        }
    }
}

/// Every client session in index order, with the endpoint holding it:
/// clients come first in `nodes`, each with its sessions in connect order.
fn client_sessions(nodes: &[BulkNode]) -> impl Iterator<Item = (&Endpoint, SessionId)> + '_ {
    nodes
        .iter()
        .filter_map(|n| match n {
            BulkNode::Client(c) => Some(c),
            BulkNode::Server(_) => None,
        })
        .flat_map(|c| c.app.sessions.iter().map(move |&id| (c.endpoint(), id)))
}

/// What the server's application has read, by session index.
fn received(nodes: &[BulkNode]) -> &[u64] {
    nodes
        .iter()
        .find_map(|n| match n {
            BulkNode::Server(s) => Some(&s.app.delivered[..]),
            BulkNode::Client(_) => None,
        })
        .unwrap_or(&[])
}

/// A node's or network's 32-byte seed: the run's seed, then `role`.
pub(super) fn seed32(seed: u64, role: u8) -> [u8; 32] {
    let mut s = [role; 32];
    if let Some(head) = s.get_mut(..8) {
        head.copy_from_slice(&seed.to_be_bytes());
    }
    s
}

/// The client's and the server's addresses in a bulk run.
pub const CLIENT_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 4001);
/// See [`CLIENT_ADDR`].
pub const SERVER_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 4002);

/// Most sessions a run with [`BulkConfig::extra_delays`] places, one client
/// address each (the receiver tells at most 2^16 sessions apart anyway).
const MAX_CLIENTS: usize = 1 << 16;

/// Address of client `i`: [`CLIENT_ADDR`] for the first, then one address
/// per client in 10.1.0.0/16.
fn client_addr(i: usize) -> SocketAddr {
    match i {
        0 => CLIENT_ADDR,
        _ => {
            let [_, _, hi, lo] = u32::try_from(i).unwrap_or(u32::MAX).to_be_bytes();
            SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 1, hi, lo)), 4001)
        }
    }
}

/// Runs one bulk scenario and reports what it measured.
pub fn run_bulk(cfg: &BulkConfig) -> Result<BulkReport, BulkError> {
    run_bulk_with(cfg, |_, _| {})
}

/// [`run_bulk`] with `setup` called on the client's and the server's
/// endpoints before the first connect (e.g. to install a trace sink). With
/// [`BulkConfig::extra_delays`], the client's is the first client endpoint,
/// the one of session 0.
pub fn run_bulk_with(
    cfg: &BulkConfig,
    setup: impl FnOnce(&mut Endpoint, &mut Endpoint),
) -> Result<BulkReport, BulkError> {
    const NET_KEY: &[u8] = b"stt simulated bulk transfer key.";
    let build = |name: &[u8]| {
        let mut node_seed = [0u8; 32];
        for (d, s) in node_seed.iter_mut().zip(name.iter().cycle()) {
            *d = *s;
        }
        let mut b = Config::builder(&node_seed, NET_KEY)
            .recovery(cfg.recovery.clone())
            .streams(cfg.streams);
        if let Some((base, ceiling)) = cfg.datagram_sizes {
            b = b.max_datagram_size(ceiling).base_datagram_size(base);
        }
        b.build()
    };
    let n = cfg.sessions.max(1);
    // One client per session when sessions have paths of their own.
    let clients = if cfg.extra_delays.is_empty() {
        1
    } else {
        n.min(MAX_CLIENTS)
    };
    let n = if clients > 1 { clients } else { n };
    let mut server = Endpoint::new(build(b"bulk server ")?, seed32(cfg.seed, 2));
    let mut first = Endpoint::new(build(b"bulk client ")?, seed32(cfg.seed, 1));
    setup(&mut first, &mut server);
    let mut net = Network::new(seed32(cfg.seed, 3));
    let start = Instant::ZERO;
    let app_end = cfg.app_limited.map(|a| start + a.duration);
    let mut nodes = Vec::with_capacity(clients + 1);
    let mut first = Some(first);
    for c in 0..clients {
        let addr = client_addr(c);
        let extra = cfg.extra_delays.get(c).copied().unwrap_or_default();
        net.set_path(
            addr,
            SERVER_ADDR,
            cfg.link.with_latency(cfg.link.latency + extra),
        )?;
        let ep = match first.take() {
            Some(ep) => ep,
            None => {
                let mut seed = seed32(cfg.seed, 1);
                if let Some(tail) = seed.get_mut(8..16) {
                    tail.copy_from_slice(&(c as u64).to_be_bytes());
                }
                Endpoint::new(build(b"bulk client ")?, seed)
            }
        };
        let mut sender = BulkSender::new(cfg.message_size, cfg.send_ahead).with_first_tag(c as u64);
        if let (Some(a), Some(end)) = (cfg.app_limited, app_end) {
            sender.limit_until(a.rate, end);
        }
        let mut client = EndpointNode::new(ep, addr, sender);
        let here = if clients > 1 { c..c + 1 } else { 0..n };
        for i in here {
            let id = client.with(|ep, app| app.connect(start, ep, SERVER_ADDR))?;
            if let Some(&kind) = cfg.controllers.get(i) {
                if let Some(s) = client.endpoint_mut().session_mut(id) {
                    s.set_congestion_controller(kind);
                }
            }
        }
        nodes.push(BulkNode::Client(client));
    }
    if clients > 1 {
        // One queue where the access paths meet, in each direction.
        let up: Vec<_> = (0..clients)
            .map(|c| (client_addr(c), SERVER_ADDR))
            .collect();
        let down: Vec<_> = up.iter().map(|&(a, b)| (b, a)).collect();
        net.share_bottleneck(&up);
        net.share_bottleneck(&down);
    }
    let server = EndpointNode::new(server, SERVER_ADDR, BulkReceiver::default());
    nodes.push(BulkNode::Server(server));

    let end = start + cfg.duration;
    let every = cfg.sample_every.max(Duration::from_millis(1));
    let mut next_sample = start;
    let mut samples = Vec::new();
    let mut now = start;
    let mut rtt = RttLog::new(n);
    let mut app_phase = app_end.map(|_| AppPhaseReport::new(n));
    loop {
        let next = step(&mut net, &mut nodes, now)?;
        rtt.observe(client_sessions(&nodes));
        if let (Some(end), Some(phase)) = (app_end, app_phase.as_mut()) {
            if now < end {
                phase.observe(client_sessions(&nodes));
            }
            if now >= end && !phase.finished() {
                phase.finish(client_sessions(&nodes));
            }
        }
        if now >= next_sample {
            samples.push(measure::sample(
                client_sessions(&nodes),
                received(&nodes),
                now,
                n,
            ));
            next_sample = now + every;
        }
        if now >= end {
            break;
        }
        let mut wake = next.unwrap_or(end).min(next_sample).min(end);
        if let Some(e) = app_end.filter(|&e| e > now) {
            wake = wake.min(e);
        }
        now = wake.max(now);
    }
    let last = measure::sample(client_sessions(&nodes), received(&nodes), now, n);
    let (lost, sent) = measure::counts(client_sessions(&nodes), n);
    let queue_drops = (0..clients)
        .map(|c| net.stats(client_addr(c), SERVER_ADDR).dropped_queue)
        .sum();
    let (rtt_p50, rtt_p95) = rtt.percentiles();
    let receive_buffered_peak = nodes
        .iter()
        .filter_map(|n| match n {
            BulkNode::Server(s) => Some(s.endpoint()),
            BulkNode::Client(_) => None,
        })
        .flat_map(|ep| ep.sessions().filter_map(|id| ep.session(id)))
        .map(|s| s.stats().receive_buffered_peak)
        .max()
        .unwrap_or(0);
    Ok(BulkReport {
        receive_buffered_peak,
        rtt_p50,
        rtt_p95,
        retransmit_fraction: measure::retransmitted(client_sessions(&nodes)),
        app_phase,
        link_rate: cfg.link.rate_bits_per_sec.unwrap_or(0),
        duration: now.saturating_duration_since(start),
        delivered: last.delivered,
        packets_lost: lost,
        packets_sent: sent,
        queue_drops,
        datagram_size: last.datagram_size,
        mtu_probes: measure::probes(client_sessions(&nodes)),
        samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_run_on_a_narrow_link_fills_it_and_replays() {
        let cfg = BulkConfig {
            link: LinkConfig::default()
                .with_latency(Duration::from_millis(10))
                .with_rate(5_000_000)
                .with_queue_bytes(25_000),
            sessions: 2,
            duration: Duration::from_secs(3),
            sample_every: Duration::from_millis(500),
            ..BulkConfig::default()
        };
        let r = run_bulk(&cfg).unwrap();
        let f = r.goodput_fraction();
        assert!((0.75..1.0).contains(&f), "{f}");
        assert!(r.delivered.iter().all(|&d| d > 0), "{r:?}");
        assert_eq!(r.samples.len(), 7, "every 500 ms from 0 to 3 s");
        assert!(r
            .samples
            .windows(2)
            .all(|w| w[0].delivered[0] <= w[1].delivered[0]));
        assert_eq!(run_bulk(&cfg).unwrap(), r);
    }
}
