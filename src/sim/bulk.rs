//! Bulk transfers over a simulated bottleneck: the scenario behind goodput
//! and fairness figures.
//!
//! Owns: a sender application that keeps every session's stream 0 full, a
//! receiver application that reads and counts what arrives, the run that
//! puts them on two nodes joined by one path, and the report (goodput over
//! link rate, per-session shares, Jain's fairness index, time series of
//! delivered bytes and congestion windows).
//! Never: touches the protocol beyond the public API, reads a clock or the
//! OS's randomness. A config replays to the same report, bit for bit.
//!
//! Topology: one client endpoint opens `sessions` sessions to one server
//! endpoint; both directions of the path use the same [`LinkConfig`], so all
//! sessions share the client-to-server bottleneck (rate and queue) and the
//! acknowledgements cross an identical path back. Payload bytes are counted
//! when the server's application reads them; "link rate" is the bottleneck
//! rate in UDP payload bits.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use bytes::Bytes;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;

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
    /// never application-limited.
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
    /// One session for 10 s over the default link, 64 KiB messages, 16 MiB
    /// sent ahead, a sample every 100 ms, default recovery and limits.
    fn default() -> Self {
        BulkConfig {
            link: LinkConfig::default(),
            sessions: 1,
            duration: Duration::from_secs(10),
            seed: 1,
            message_size: MAX_MESSAGE,
            send_ahead: 16 << 20,
            sample_every: Duration::from_millis(100),
            recovery: RecoveryConfig::default(),
            streams: StreamLimits::default(),
            datagram_sizes: None,
            controllers: Vec::new(),
            app_limited: None,
        }
    }
}

/// One point of the time series.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// When it was taken.
    pub at: Instant,
    /// Payload bytes the server had read so far, per session.
    pub delivered: Vec<u64>,
    /// The client's congestion window, per session, in bytes.
    pub cwnd: Vec<u64>,
    /// The client's datagram size, per session, in bytes.
    pub datagram_size: Vec<usize>,
    /// The client's pacing rate, per session, bytes per second.
    pub pacing_rate: Vec<u64>,
    /// The client's delivery-rate estimate, per session, bytes per second.
    pub delivery_rate: Vec<u64>,
}

/// What the application-limited phase left behind, per session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppPhaseReport {
    /// Most bytes in flight seen during the phase.
    pub max_in_flight: Vec<u64>,
    /// Congestion window when the phase ended.
    pub cwnd_at_end: Vec<u64>,
    /// Packets lost by the end of the phase.
    pub lost_at_end: Vec<u64>,
}

/// What a bulk run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct BulkReport {
    /// Bottleneck rate in bits per second (0 if the link had none).
    pub link_rate: u64,
    /// Virtual time the run lasted.
    pub duration: Duration,
    /// Payload bytes read by the server, per session (client connect order).
    pub delivered: Vec<u64>,
    /// Packets the client's sessions declared lost, per session.
    pub packets_lost: Vec<u64>,
    /// Packets the client's sessions sent, per session.
    pub packets_sent: Vec<u64>,
    /// Datagrams the bottleneck dropped (queue full) client to server.
    pub queue_drops: u64,
    /// The client's datagram size at the end, per session.
    pub datagram_size: Vec<usize>,
    /// Datagram size probes the client's sessions sent and lost, in all.
    pub mtu_probes: (u64, u64),
    /// The time series.
    pub samples: Vec<Sample>,
    /// Median of the RTT samples the client's sessions took.
    pub rtt_p50: Duration,
    /// 95th percentile of those samples.
    pub rtt_p95: Duration,
    /// Bytes the client's sessions declared lost (and so sent again), over
    /// bytes they sent, all sessions together.
    pub retransmit_fraction: f64,
    /// The application-limited phase, if the run had one.
    pub app_phase: Option<AppPhaseReport>,
}

impl BulkReport {
    /// Goodput in bits per second over the whole run, per session.
    pub fn session_goodput(&self) -> Vec<f64> {
        let secs = self.duration.as_secs_f64().max(f64::MIN_POSITIVE);
        self.delivered
            .iter()
            .map(|&b| b as f64 * 8.0 / secs)
            .collect()
    }

    /// Total goodput in bits per second over the whole run.
    pub fn goodput(&self) -> f64 {
        self.session_goodput().iter().sum()
    }

    /// Total goodput over the link rate (0 without a rate).
    pub fn goodput_fraction(&self) -> f64 {
        if self.link_rate == 0 {
            return 0.0;
        }
        self.goodput() / self.link_rate as f64
    }

    /// Jain's fairness index of the sessions' goodputs: 1 when equal, `1/n`
    /// when one session has everything (1 with no traffic at all).
    pub fn jain_index(&self) -> f64 {
        let x = self.session_goodput();
        let sum: f64 = x.iter().sum();
        let squares: f64 = x.iter().map(|v| v * v).sum();
        if squares == 0.0 {
            return 1.0;
        }
        sum * sum / (x.len() as f64 * squares)
    }

    /// Smallest session goodput over the largest (1 when equal).
    pub fn min_max_ratio(&self) -> f64 {
        let x = self.session_goodput();
        let max = x.iter().copied().fold(0.0, f64::max);
        let min = x.iter().copied().fold(f64::INFINITY, f64::min);
        if max == 0.0 {
            1.0
        } else {
            min / max
        }
    }
}

/// Why a bulk run could not produce a report.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
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
        }
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
        let index = self.sessions.len() as u64;
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

/// The two nodes of a bulk run.
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

fn seed32(seed: u64, role: u8) -> [u8; 32] {
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

/// Runs one bulk scenario and reports what it measured.
pub fn run_bulk(cfg: &BulkConfig) -> Result<BulkReport, BulkError> {
    run_bulk_with(cfg, |_, _| {})
}

/// [`run_bulk`] with `setup` called on the client's and the server's
/// endpoints before the first connect (e.g. to install a trace sink).
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
    let mut client = Endpoint::new(build(b"bulk client ")?, seed32(cfg.seed, 1));
    let mut server = Endpoint::new(build(b"bulk server ")?, seed32(cfg.seed, 2));
    setup(&mut client, &mut server);
    let mut net = Network::new(seed32(cfg.seed, 3));
    net.set_path(CLIENT_ADDR, SERVER_ADDR, cfg.link)?;

    let start = Instant::ZERO;
    let mut sender = BulkSender::new(cfg.message_size, cfg.send_ahead);
    let app_end = cfg.app_limited.map(|a| {
        sender.limit_until(a.rate, start + a.duration);
        start + a.duration
    });
    let mut client = EndpointNode::new(client, CLIENT_ADDR, sender);
    for i in 0..cfg.sessions.max(1) {
        let id = client.with(|ep, app| app.connect(start, ep, SERVER_ADDR))?;
        if let Some(&kind) = cfg.controllers.get(i) {
            if let Some(s) = client.endpoint_mut().session_mut(id) {
                s.set_congestion_controller(kind);
            }
        }
    }
    let server = EndpointNode::new(server, SERVER_ADDR, BulkReceiver::default());
    let mut nodes = [BulkNode::Client(client), BulkNode::Server(server)];

    let n = cfg.sessions.max(1);
    let end = start + cfg.duration;
    let every = cfg.sample_every.max(Duration::from_millis(1));
    let mut next_sample = start;
    let mut samples = Vec::new();
    let mut now = start;
    let mut rtt = RttLog::new(n);
    let mut app_phase = app_end.map(|_| AppPhaseReport {
        max_in_flight: alloc::vec![0; n],
        cwnd_at_end: alloc::vec![0; n],
        lost_at_end: alloc::vec![0; n],
    });
    loop {
        let next = step(&mut net, &mut nodes, now)?;
        if let BulkNode::Client(c) = &nodes[0] {
            rtt.observe(c);
            if let (Some(end), Some(phase)) = (app_end, app_phase.as_mut()) {
                if now < end {
                    phase.observe(c);
                }
                if now >= end && phase.cwnd_at_end.iter().all(|&w| w == 0) {
                    phase.finish(c);
                }
            }
        }
        if now >= next_sample {
            samples.push(sample(&nodes, now, n));
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
    let last = sample(&nodes, now, n);
    let (lost, sent) = client_counts(&nodes, n);
    let mtu_probes = client_probes(&nodes);
    let stats = net.stats(CLIENT_ADDR, SERVER_ADDR);
    let (rtt_p50, rtt_p95) = rtt.percentiles();
    let retransmit_fraction = match &nodes[0] {
        BulkNode::Client(c) => retransmitted(c),
        BulkNode::Server(_) => 0.0,
    };
    Ok(BulkReport {
        rtt_p50,
        rtt_p95,
        retransmit_fraction,
        app_phase,
        link_rate: cfg.link.rate_bits_per_sec.unwrap_or(0),
        duration: now.saturating_duration_since(start),
        delivered: last.delivered,
        packets_lost: lost,
        packets_sent: sent,
        queue_drops: stats.dropped_queue,
        datagram_size: last.datagram_size,
        mtu_probes,
        samples,
    })
}

/// Every RTT sample of the client's sessions, in microseconds.
struct RttLog {
    seen: Vec<u64>,
    micros: Vec<u32>,
}

impl RttLog {
    fn new(n: usize) -> Self {
        RttLog {
            seen: alloc::vec![0; n],
            micros: Vec::new(),
        }
    }

    fn observe(&mut self, c: &EndpointNode<BulkSender>) {
        for (seen, id) in self.seen.iter_mut().zip(&c.app.sessions) {
            let Some(p) = c.endpoint().session(*id).map(|s| s.congestion_stats()) else {
                continue;
            };
            if p.rtt_samples != *seen {
                *seen = p.rtt_samples;
                let us = u32::try_from(p.latest_rtt.as_micros()).unwrap_or(u32::MAX);
                self.micros.push(us);
            }
        }
    }

    fn percentiles(&mut self) -> (Duration, Duration) {
        self.micros.sort_unstable();
        let at = |q: usize| {
            let len = self.micros.len();
            if len == 0 {
                return Duration::ZERO;
            }
            let i = ((len - 1) * q / 100).min(len - 1);
            Duration::from_micros(u64::from(self.micros[i]))
        };
        (at(50), at(95))
    }
}

impl AppPhaseReport {
    fn observe(&mut self, c: &EndpointNode<BulkSender>) {
        for (m, id) in self.max_in_flight.iter_mut().zip(&c.app.sessions) {
            if let Some(s) = c.endpoint().session(*id) {
                *m = (*m).max(s.congestion_stats().bytes_in_flight);
            }
        }
    }

    fn finish(&mut self, c: &EndpointNode<BulkSender>) {
        for (i, id) in c.app.sessions.iter().enumerate() {
            if let Some(s) = c.endpoint().session(*id) {
                if let (Some(w), Some(l)) =
                    (self.cwnd_at_end.get_mut(i), self.lost_at_end.get_mut(i))
                {
                    *w = s.congestion_stats().congestion_window.max(1);
                    *l = s.stats().packets_lost;
                }
            }
        }
    }
}

fn retransmitted(c: &EndpointNode<BulkSender>) -> f64 {
    let (mut lost, mut sent) = (0u64, 0u64);
    for id in &c.app.sessions {
        if let Some(s) = c.endpoint().session(*id) {
            let st = s.stats();
            lost += st.packets_lost;
            sent += st.packets_sent;
        }
    }
    if sent == 0 {
        0.0
    } else {
        lost as f64 / sent as f64
    }
}

fn sample(nodes: &[BulkNode; 2], at: Instant, n: usize) -> Sample {
    let mut delivered = alloc::vec![0; n];
    let mut cwnd = alloc::vec![0; n];
    let mut datagram_size = alloc::vec![0; n];
    let mut pacing_rate = alloc::vec![0; n];
    let mut delivery_rate = alloc::vec![0; n];
    for node in nodes {
        match node {
            BulkNode::Client(c) => {
                for (i, id) in c.app.sessions.iter().enumerate() {
                    let Some(s) = c.endpoint().session(*id) else {
                        continue;
                    };
                    let p = s.congestion_stats();
                    if let (Some(w), Some(r), Some(d), Some(size)) = (
                        cwnd.get_mut(i),
                        pacing_rate.get_mut(i),
                        delivery_rate.get_mut(i),
                        datagram_size.get_mut(i),
                    ) {
                        *w = p.congestion_window;
                        *r = p.pacing_rate;
                        *d = p.delivery_rate;
                        *size = s.datagram_size();
                    }
                }
            }
            BulkNode::Server(s) => {
                for (d, got) in delivered.iter_mut().zip(&s.app.delivered) {
                    *d = *got;
                }
            }
        }
    }
    Sample {
        at,
        delivered,
        cwnd,
        datagram_size,
        pacing_rate,
        delivery_rate,
    }
}

fn client_probes(nodes: &[BulkNode; 2]) -> (u64, u64) {
    let mut probes = (0, 0);
    if let BulkNode::Client(c) = &nodes[0] {
        for id in &c.app.sessions {
            if let Some(st) = c.endpoint().session(*id).map(|s| s.stats()) {
                probes.0 += st.mtu_probes_sent;
                probes.1 += st.mtu_probes_lost;
            }
        }
    }
    probes
}

fn client_counts(nodes: &[BulkNode; 2], n: usize) -> (Vec<u64>, Vec<u64>) {
    let mut lost = alloc::vec![0; n];
    let mut sent = alloc::vec![0; n];
    if let BulkNode::Client(c) = &nodes[0] {
        for (i, id) in c.app.sessions.iter().enumerate() {
            if let Some(st) = c.endpoint().session(*id).map(|s| s.stats()) {
                if let (Some(l), Some(s)) = (lost.get_mut(i), sent.get_mut(i)) {
                    *l = st.packets_lost;
                    *s = st.packets_sent;
                }
            }
        }
    }
    (lost, sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(delivered: Vec<u64>) -> BulkReport {
        BulkReport {
            link_rate: 8_000,
            duration: Duration::from_secs(2),
            packets_lost: alloc::vec![0; delivered.len()],
            packets_sent: alloc::vec![0; delivered.len()],
            delivered,
            queue_drops: 0,
            datagram_size: Vec::new(),
            mtu_probes: (0, 0),
            samples: Vec::new(),
            rtt_p50: Duration::ZERO,
            rtt_p95: Duration::ZERO,
            retransmit_fraction: 0.0,
            app_phase: None,
        }
    }

    #[test]
    fn report_figures() {
        // 1000 bytes over 2 s is 4000 bit/s: half of an 8000 bit/s link.
        let r = report(alloc::vec![1000]);
        assert_eq!(r.session_goodput(), [4000.0]);
        assert_eq!(r.goodput_fraction(), 0.5);
        assert_eq!((r.jain_index(), r.min_max_ratio()), (1.0, 1.0));
        let r = report(alloc::vec![1000, 0]);
        assert_eq!((r.jain_index(), r.min_max_ratio()), (0.5, 0.0));
        let r = report(alloc::vec![300, 100]);
        assert!((r.jain_index() - 0.8).abs() < 1e-12);
        assert!((r.min_max_ratio() - 1.0 / 3.0).abs() < 1e-12);
        let idle = BulkReport {
            link_rate: 0,
            ..report(alloc::vec![0, 0])
        };
        assert_eq!((idle.goodput_fraction(), idle.jain_index()), (0.0, 1.0));
    }

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
