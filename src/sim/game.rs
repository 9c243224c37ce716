//! Game state beside bulk: unreliable datagrams at a fixed rate on the same
//! session as a bulk stream, over a simulated bottleneck.
//!
//! Owns: a sender application that ticks datagrams (a sequence number and
//! the send time, padded to the configured size) and keeps stream 0 full, a
//! receiver that reads both and measures each datagram's one-way delay, and
//! the run and its report.
//! Never: touches the protocol beyond the public API, or reads a clock: the
//! two nodes share the simulator's virtual time, so a delay is the receive
//! instant less the send instant the datagram carries.

use alloc::vec;
use alloc::vec::Vec;
use bytes::Bytes;
use core::time::Duration;

use super::bulk::{BulkError, BulkReceiver, BulkSender, CLIENT_ADDR, SERVER_ADDR};
use super::config::LinkConfig;
use super::driver::{run_until, Node};
use super::endpoint_node::{App, EndpointNode};
use super::network::Network;
use crate::config::Config;
use crate::endpoint::Endpoint;
use crate::ids::SessionId;
use crate::streams::{DatagramLimits, DatagramOptions};
use crate::time::Instant;

/// Bytes of a game datagram's header: sequence number and send time.
const HEADER: usize = 16;

/// What to simulate.
#[derive(Clone, Debug)]
pub struct GameConfig {
    /// Both directions of the path.
    pub link: LinkConfig,
    /// Virtual time the run lasts, from the connect.
    pub duration: Duration,
    /// Seed of the network and both endpoints.
    pub seed: u64,
    /// Datagrams per second.
    pub rate_hz: u32,
    /// Bytes per datagram (at least 16: sequence number and send time).
    pub size: usize,
    /// Each datagram is dropped unsent if still queued this long after it
    /// was produced; `None`: no deadline.
    pub deadline: Option<Duration>,
    /// A bulk stream on the same session, kept this many bytes ahead of
    /// the acknowledgements; 0: no bulk stream.
    pub bulk_send_ahead: u64,
    /// Datagram limits of both endpoints.
    pub datagrams: DatagramLimits,
    /// Datagrams sent before this much of the run (the controller's
    /// start-up) are left out of [`GameReport::steady_delays`].
    pub warmup: Duration,
}

impl Default for GameConfig {
    /// 60 datagrams a second of 200 bytes, no deadline, beside a bulk
    /// stream 4 MiB ahead, for 10 s over the default link.
    fn default() -> Self {
        GameConfig {
            link: LinkConfig::default(),
            duration: Duration::from_secs(10),
            seed: 1,
            rate_hz: 60,
            size: 200,
            deadline: None,
            bulk_send_ahead: 4 << 20,
            datagrams: DatagramLimits::default(),
            warmup: Duration::from_secs(5),
        }
    }
}

/// What a game run measured.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct GameReport {
    /// Datagrams the sender's application queued.
    pub offered: u64,
    /// Datagrams the sending session put on the wire (each at most once).
    pub sent: u64,
    /// Distinct datagrams the receiving application read.
    pub received: u64,
    /// Datagrams read more than once (never, if none is resent).
    pub duplicates: u64,
    /// Datagrams the sender's session declared lost.
    pub lost: u64,
    /// Datagrams dropped unsent: expired, or pushed out of a full queue.
    pub dropped: u64,
    /// One-way delays of the datagrams read, ascending.
    pub delays: Vec<Duration>,
    /// One-way delays of the datagrams sent after the warm-up, ascending.
    pub steady_delays: Vec<Duration>,
    /// The link's one-way propagation delay.
    pub one_way_delay: Duration,
    /// Bulk payload bytes the receiving application read.
    pub bulk_bytes: u64,
    /// The bottleneck rate in bits per second (0: unlimited).
    pub link_rate: u64,
    /// The run's length.
    pub duration: Duration,
}

impl GameReport {
    /// Datagrams read over datagrams offered.
    pub fn delivered_fraction(&self) -> f64 {
        if self.offered == 0 {
            return 0.0;
        }
        self.received as f64 / self.offered as f64
    }

    /// The `p`-th percentile (0..=100) of the datagrams' one-way delays.
    pub fn delay_percentile(&self, p: u32) -> Duration {
        percentile(&self.delays, p)
    }

    /// The `p`-th percentile of the delays of datagrams sent after the
    /// warm-up.
    pub fn steady_delay_percentile(&self, p: u32) -> Duration {
        percentile(&self.steady_delays, p)
    }

    /// Bulk goodput over what the link has left beside the datagrams'
    /// payload (1.0: the bulk stream had all the rest).
    pub fn bulk_share(&self, datagram_size: usize) -> f64 {
        let secs = self.duration.as_secs_f64();
        if self.link_rate == 0 || secs == 0.0 {
            return 0.0;
        }
        let dgram_bits = self.offered as f64 * datagram_size as f64 * 8.0 / secs;
        let rest = self.link_rate as f64 - dgram_bits;
        self.bulk_bytes as f64 * 8.0 / secs / rest
    }
}

/// The `p`-th percentile of ascending `v` (nearest rank).
fn percentile(v: &[Duration], p: u32) -> Duration {
    let n = v.len();
    if n == 0 {
        return Duration::ZERO;
    }
    let i = (n * p.min(100) as usize).div_ceil(100).clamp(1, n) - 1;
    v.get(i).copied().unwrap_or_default()
}

/// Ticks datagrams on its session and keeps a bulk stream full.
#[derive(Debug)]
struct GameSender {
    bulk: Option<BulkSender>,
    session: SessionId,
    every: Duration,
    size: usize,
    deadline: Option<Duration>,
    next_tick: Instant,
    end: Instant,
    seq: u64,
    /// The session takes datagrams: the tick clock runs.
    open: bool,
}

impl App for GameSender {
    fn on_wake(&mut self, now: Instant, ep: &mut Endpoint) {
        match self.bulk.as_mut() {
            Some(b) => b.on_wake(now, ep),
            None => while ep.poll_event().is_some() {},
        }
        if !self.open {
            // The game's clock starts when the session opens: its first
            // update is queued with the session's first stream data, so
            // the controller knows from its first round that the session
            // carries datagrams.
            let opened = ep
                .session(self.session)
                .is_some_and(|s| s.max_datagram_payload().is_some());
            if !opened {
                return;
            }
            self.open = true;
            self.next_tick = now;
        }
        while self.next_tick <= now && self.next_tick < self.end {
            self.next_tick += self.every;
            let Some(s) = ep.session_mut(self.session) else {
                continue;
            };
            let mut d = vec![0u8; self.size.max(HEADER)];
            d[..8].copy_from_slice(&self.seq.to_be_bytes());
            d[8..16].copy_from_slice(&now.as_micros().to_be_bytes());
            let mut opts = DatagramOptions::new();
            if let Some(life) = self.deadline {
                opts = opts.deadline(now + life);
            }
            if s.send_datagram_with(Bytes::from(d), opts).is_ok() {
                self.seq += 1;
            }
        }
    }

    fn wakeup(&self) -> Option<Instant> {
        let tick = (self.open && self.next_tick < self.end).then_some(self.next_tick);
        let bulk = self.bulk.as_ref().and_then(|b| b.wakeup());
        tick.into_iter().chain(bulk).min()
    }
}

/// Reads the bulk stream and the datagrams, timing each datagram.
#[derive(Debug, Default)]
struct GameReceiver {
    bulk: BulkReceiver,
    seen: Vec<bool>,
    delays: Vec<Duration>,
    steady: Vec<Duration>,
    /// Datagrams sent from this instant on count as steady.
    steady_from: Instant,
    duplicates: u64,
}

impl App for GameReceiver {
    fn on_wake(&mut self, now: Instant, ep: &mut Endpoint) {
        self.bulk.on_wake(now, ep);
        let ids: Vec<SessionId> = ep.sessions().collect();
        for id in ids {
            let Some(s) = ep.session_mut(id) else {
                continue;
            };
            while let Some(d) = s.recv_datagram() {
                let (Some(seq), Some(at)) = (d.get(..8), d.get(8..16)) else {
                    continue;
                };
                let mut b = [0u8; 8];
                b.copy_from_slice(seq);
                let Ok(seq) = usize::try_from(u64::from_be_bytes(b)) else {
                    continue;
                };
                b.copy_from_slice(at);
                let sent = Instant::from_micros(u64::from_be_bytes(b));
                if seq >= 1 << 24 {
                    continue;
                }
                if self.seen.len() <= seq {
                    self.seen.resize(seq + 1, false);
                }
                if self.seen[seq] {
                    self.duplicates += 1;
                    continue;
                }
                self.seen[seq] = true;
                let delay = now.saturating_duration_since(sent);
                self.delays.push(delay);
                if sent >= self.steady_from {
                    self.steady.push(delay);
                }
            }
        }
    }
}

/// Runs one game scenario and reports what it measured.
pub fn run_game(cfg: &GameConfig) -> Result<GameReport, BulkError> {
    run_game_with(cfg, |_, _| {})
}

/// [`run_game`] with `setup` called on the client's (sending) and the
/// server's endpoints before the connect (e.g. to install a trace sink).
pub fn run_game_with(
    cfg: &GameConfig,
    setup: impl FnOnce(&mut Endpoint, &mut Endpoint),
) -> Result<GameReport, BulkError> {
    const NET_KEY: &[u8] = b"stt simulated game traffic key..";
    let build = |name: &[u8; 32]| {
        Config::builder(name, NET_KEY)
            .datagrams(cfg.datagrams)
            .build()
    };
    let seed = |role: u8| super::bulk::seed32(cfg.seed, role);
    let mut net = Network::new(seed(3));
    net.set_path(CLIENT_ADDR, SERVER_ADDR, cfg.link)?;
    let start = Instant::ZERO;
    let end = start + cfg.duration;
    let mut client_ep = Endpoint::new(build(b"game client node seed...........")?, seed(1));
    let mut server_ep = Endpoint::new(build(b"game server node seed...........")?, seed(2));
    setup(&mut client_ep, &mut server_ep);
    let mut bulk =
        (cfg.bulk_send_ahead > 0).then(|| BulkSender::new(64 << 10, cfg.bulk_send_ahead));
    let session = match bulk.as_mut() {
        Some(b) => b.connect(start, &mut client_ep, SERVER_ADDR)?,
        None => client_ep.connect(start, SERVER_ADDR)?,
    };
    let every = Duration::from_micros(1_000_000 / u64::from(cfg.rate_hz.max(1)));
    let sender = GameSender {
        bulk,
        session,
        every,
        size: cfg.size,
        deadline: cfg.deadline,
        next_tick: start,
        end,
        seq: 0,
        open: false,
    };
    let mut client = EndpointNode::new(client_ep, CLIENT_ADDR, sender);
    let receiver = GameReceiver {
        steady_from: start + cfg.warmup,
        ..GameReceiver::default()
    };
    let mut server = EndpointNode::new(server_ep, SERVER_ADDR, receiver);
    {
        let mut nodes: [&mut dyn Node; 2] = [&mut client, &mut server];
        run_until(&mut net, &mut nodes, start, end, |_, _| false)?;
    }
    let stats = client.endpoint().session(session).map(|s| s.stats());
    let (ep, sender) = client.into_parts();
    drop(ep);
    let (_, mut receiver) = server.into_parts();
    receiver.delays.sort_unstable();
    receiver.steady.sort_unstable();
    Ok(GameReport {
        offered: sender.seq,
        sent: stats.map_or(0, |s| s.datagrams_sent),
        received: receiver.delays.len() as u64,
        duplicates: receiver.duplicates,
        lost: stats.map_or(0, |s| s.datagrams_lost),
        dropped: stats.map_or(0, |s| s.datagrams_expired + s.datagrams_send_dropped),
        delays: receiver.delays,
        steady_delays: receiver.steady,
        one_way_delay: cfg.link.latency,
        bulk_bytes: receiver.bulk.delivered.iter().sum(),
        link_rate: cfg.link.rate_bits_per_sec.unwrap_or(0),
        duration: cfg.duration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datagrams_alone_on_a_clean_link_all_arrive_once_and_replay() {
        let cfg = GameConfig {
            link: LinkConfig::default()
                .with_latency(Duration::from_millis(10))
                .with_rate(2_000_000),
            duration: Duration::from_secs(2),
            bulk_send_ahead: 0,
            ..GameConfig::default()
        };
        let r = run_game(&cfg).unwrap();
        assert!(r.offered >= 110, "{r:?}");
        assert_eq!(r.sent, r.offered);
        assert_eq!(r.duplicates, 0);
        // The last few may still be in flight when time runs out.
        assert!(
            r.received + 2 >= r.offered,
            "{} of {}",
            r.received,
            r.offered
        );
        assert!(r.delay_percentile(50) >= Duration::from_millis(10));
        assert!(r.delay_percentile(99) < Duration::from_millis(15));
        assert_eq!(run_game(&cfg).unwrap(), r);
    }
}
