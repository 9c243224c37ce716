//! Live media over a simulated bottleneck: a source of frames at a fixed
//! rate on one stream, each worth something only until its deadline.
//!
//! Owns: the sending application (frames of a sequence number, the
//! instant they were produced and padding, sent as deadline messages, as
//! plain reliable messages, or as deadline messages whose size follows the
//! session's [`delivery_rate`](crate::Session::delivery_rate)), the
//! receiving application (times each frame it reads), and the run.
//! Never: touches the protocol beyond the public API, or reads a clock: both
//! nodes share the simulator's virtual time, so a frame's delay is the
//! instant the receiving application read it less the instant it was
//! produced. What the run measured is read in `live_report`.

use alloc::vec;
use alloc::vec::Vec;
use bytes::Bytes;
use core::time::Duration;

use super::bulk::{BulkError, CLIENT_ADDR, SERVER_ADDR};
use super::config::LinkConfig;
use super::driver::{run_until, Node};
use super::endpoint_node::{App, EndpointNode};
use super::live_report::{FrameRecord, LiveReport};
use super::network::Network;
use crate::config::Config;
use crate::endpoint::Endpoint;
use crate::event::Event;
use crate::ids::{SessionId, StreamId};
use crate::streams::{SendOptions, StreamEvent};
use crate::time::Instant;

/// Bytes of a frame's header: sequence number and production instant.
const HEADER: usize = 16;
/// The stream the frames go on.
const STREAM: StreamId = 0;
/// Frame sizes the rate-following source steps between, as fractions of
/// the configured size: 1, 1/2, 1/4, 1/8.
const ADAPTIVE_STEPS: u32 = 4;
/// Share (per cent) of the delivery rate the rate-following source may use.
const ADAPTIVE_SHARE: u64 = 80;
/// Smoothed RTT above the smallest seen by this much: a queue is building.
const QUEUE_SIGNAL: Duration = Duration::from_millis(25);
/// The rate-following source steps down at most once per this long (about
/// what a step takes to show in the smoothed RTT)...
const DOWN_HOLD: Duration = Duration::from_millis(250);
/// ...and up at most once per this long, after a quiet spell.
const UP_HOLD: Duration = Duration::from_secs(1);
/// A size that built a queue is not tried again for this long, doubled
/// each time it builds one again (up to [`MAX_RETRY_HOLD`]).
const RETRY_HOLD: Duration = Duration::from_secs(4);
const MAX_RETRY_HOLD: Duration = Duration::from_secs(16);

/// How the source sends its frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LiveMode {
    /// Each frame is a message with a deadline: resent only while it can
    /// still arrive in time, abandoned and skipped after.
    Deadline,
    /// Each frame is a plain reliable message: the baseline.
    Reliable,
    /// Deadline messages whose size follows the session's delivery rate,
    /// in steps of half.
    Adaptive,
}

/// What to simulate.
#[derive(Clone, Debug)]
pub struct LiveConfig {
    /// Both directions of the path (a rate schedule makes the drop).
    pub link: LinkConfig,
    /// Virtual time the source produces frames, from the connect.
    pub duration: Duration,
    /// Virtual time the run goes on after the source stops, so the last
    /// frames can arrive.
    pub grace: Duration,
    /// Seed of the network and both endpoints.
    pub seed: u64,
    /// Frames per second.
    pub fps: u32,
    /// Bytes per frame (at least 16: sequence number and production time);
    /// the rate-following source's largest size.
    pub frame_bytes: usize,
    /// A frame is due this long after it is produced.
    pub deadline: Duration,
    /// How frames are sent.
    pub mode: LiveMode,
}

impl Default for LiveConfig {
    /// 30 frames a second of 25,000 bytes (6 Mbit/s), due 150 ms after
    /// production, as deadline messages, for 10 s over the default link.
    fn default() -> Self {
        LiveConfig {
            link: LinkConfig::default(),
            duration: Duration::from_secs(10),
            grace: Duration::from_secs(1),
            seed: 1,
            fps: 30,
            frame_bytes: 25_000,
            deadline: Duration::from_millis(150),
            mode: LiveMode::Deadline,
        }
    }
}

/// Produces frames on its session's stream once the session is up.
#[derive(Debug)]
struct LiveSource {
    session: SessionId,
    mode: LiveMode,
    every: Duration,
    frame_bytes: usize,
    deadline: Duration,
    /// Frames are produced from the handshake's end until `end`.
    next_tick: Option<Instant>,
    end: Instant,
    /// Produced frames: (instant, bytes), by sequence number.
    produced: Vec<(Instant, u32)>,
    /// Rate-following: the frame size's step.
    follower: Follower,
    zeros: Bytes,
}

/// How the rate-following source picks its frame size: the session's
/// delivery rate caps it, and signs of a queue (the smoothed RTT well above
/// its floor, a frame abandoned) step it down.
///
/// An application-limited source's delivery rate only measures what it
/// sends, so the rate alone never says "more would fit", and after the
/// path slows down it still shows the old rate for a while (the estimate
/// is a maximum over recent probing cycles). So the source steps down (at
/// least one step, to what fits the rate if that is lower) when a queue
/// shows, and steps up by probing: one step after a quiet second, while
/// the rate shows room for the larger size, and not to a size that built
/// a queue in the last few seconds.
#[derive(Debug)]
struct Follower {
    /// 0: the full size; each step halves it.
    step: u32,
    /// When the step last changed.
    changed: Instant,
    /// The smallest smoothed RTT seen.
    floor: Option<Duration>,
    /// A frame was abandoned since the last choice.
    expired: bool,
    /// The last step that built a queue, until when it is not tried again,
    /// and that hold.
    failed: Option<(u32, Instant, Duration)>,
}

impl Follower {
    /// The step for the next frame of a source of `full` bytes a frame at
    /// `fps`, given the session's delivery rate and smoothed RTT.
    fn choose(&mut self, now: Instant, rate: u64, srtt: Duration, full: u64, fps: u64) -> u32 {
        let floor = *self.floor.get_or_insert(srtt);
        self.floor = Some(floor.min(srtt));
        let budget = rate.saturating_mul(ADAPTIVE_SHARE) / 100;
        let bits = |step: u32| (full >> step).saturating_mul(fps);
        let queue = srtt > floor + QUEUE_SIGNAL || core::mem::take(&mut self.expired);
        if queue && now >= self.changed + DOWN_HOLD {
            let fits = (0..ADAPTIVE_STEPS)
                .find(|&s| bits(s) <= budget)
                .unwrap_or(ADAPTIVE_STEPS - 1);
            let hold = match self.failed {
                Some((s, _, hold)) if s == self.step => (hold * 2).min(MAX_RETRY_HOLD),
                _ => RETRY_HOLD,
            };
            self.failed = Some((self.step, now + hold, hold));
            self.step = (self.step + 1).max(fits).min(ADAPTIVE_STEPS - 1);
            self.changed = now;
        } else if !queue
            && self.step > 0
            && now >= self.changed + UP_HOLD
            && bits(self.step - 1) <= rate
            && self
                .failed
                .is_none_or(|(s, until, _)| self.step - 1 > s || now >= until)
        {
            self.step -= 1;
            self.changed = now;
        }
        self.step
    }
}

impl LiveSource {
    /// The frame size for the next frame.
    fn size(&mut self, now: Instant, ep: &Endpoint) -> usize {
        if self.mode != LiveMode::Adaptive {
            return self.frame_bytes;
        }
        let Some(s) = ep.session(self.session) else {
            return self.frame_bytes;
        };
        let full = self.frame_bytes as u64;
        let fps = 1_000_000 / (self.every.as_micros().max(1) as u64);
        let step = self
            .follower
            .choose(now, s.delivery_rate(), s.rtt(), full, fps);
        usize::try_from(full >> step).unwrap_or(usize::MAX)
    }

    fn produce(&mut self, now: Instant, ep: &mut Endpoint) {
        let Some(mut tick) = self.next_tick else {
            return;
        };
        while tick <= now && tick < self.end {
            tick += self.every;
            let size = self.size(now, ep).max(HEADER);
            let seq = self.produced.len() as u64;
            let mut f = vec![0u8; HEADER];
            f[..8].copy_from_slice(&seq.to_be_bytes());
            f[8..16].copy_from_slice(&now.as_micros().to_be_bytes());
            f.extend_from_slice(self.zeros.get(..size - HEADER).unwrap_or(&[]));
            let Some(s) = ep.session_mut(self.session) else {
                continue;
            };
            let sent = match self.mode {
                LiveMode::Reliable => s.send(STREAM, Bytes::from(f)),
                LiveMode::Deadline | LiveMode::Adaptive => s.send_with(
                    STREAM,
                    Bytes::from(f),
                    SendOptions::new().deadline(now + self.deadline),
                ),
            };
            if sent.is_ok() {
                self.produced
                    .push((now, u32::try_from(size).unwrap_or(u32::MAX)));
            }
        }
        self.next_tick = Some(tick);
    }
}

impl App for LiveSource {
    fn on_wake(&mut self, now: Instant, ep: &mut Endpoint) {
        while let Some(e) = ep.poll_event() {
            match e {
                Event::Connected { session, .. }
                    if session == self.session && self.next_tick.is_none() =>
                {
                    self.next_tick = Some(now);
                    self.follower.changed = now;
                }
                Event::Stream {
                    event: StreamEvent::MessageExpired { .. },
                    ..
                } => self.follower.expired = true,
                _ => {}
            }
        }
        self.produce(now, ep);
    }

    fn wakeup(&self) -> Option<Instant> {
        self.next_tick.filter(|&t| t < self.end)
    }
}

/// Reads the frames and times each one.
#[derive(Debug, Default)]
struct LiveSink {
    /// Delay of each frame read, by sequence number (`None`: not read).
    delays: Vec<Option<Duration>>,
    /// Frames read out of sequence order (never, on an ordered stream).
    out_of_order: u64,
}

impl App for LiveSink {
    fn on_wake(&mut self, now: Instant, ep: &mut Endpoint) {
        while let Some(e) = ep.poll_event() {
            let Event::Stream {
                session,
                event: StreamEvent::Readable(stream),
            } = e
            else {
                continue;
            };
            let Some(s) = ep.session_mut(session) else {
                continue;
            };
            while let Ok(Some(m)) = s.recv(stream) {
                let (Some(seq), Some(at)) = (m.get(..8), m.get(8..16)) else {
                    continue;
                };
                let mut b = [0u8; 8];
                b.copy_from_slice(seq);
                let seq = u64::from_be_bytes(b);
                b.copy_from_slice(at);
                let produced = Instant::from_micros(u64::from_be_bytes(b));
                // Bounded: at most a frame a millisecond for a day.
                let Ok(i) = usize::try_from(seq) else {
                    continue;
                };
                if i >= 1 << 27 {
                    continue;
                }
                if i + 1 < self.delays.len() {
                    self.out_of_order += 1;
                }
                if self.delays.len() <= i {
                    self.delays.resize(i + 1, None);
                }
                self.delays[i] = Some(now.saturating_duration_since(produced));
            }
        }
    }
}

/// Runs one live scenario and reports what it measured.
pub fn run_live(cfg: &LiveConfig) -> Result<LiveReport, BulkError> {
    run_live_with(cfg, |_, _| {})
}

/// [`run_live`] with `setup` called on the client's (sending) and the
/// server's endpoints before the connect (e.g. to install a trace sink).
pub fn run_live_with(
    cfg: &LiveConfig,
    setup: impl FnOnce(&mut Endpoint, &mut Endpoint),
) -> Result<LiveReport, BulkError> {
    const NET_KEY: &[u8] = b"stt simulated live media key....";
    let build = |name: &[u8; 32]| Config::builder(name, NET_KEY).build();
    let seed = |role: u8| super::bulk::seed32(cfg.seed, role);
    let mut net = Network::new(seed(3));
    net.set_path(CLIENT_ADDR, SERVER_ADDR, cfg.link)?;
    let start = Instant::ZERO;
    let end = start + cfg.duration;
    let mut client_ep = Endpoint::new(build(b"live client node seed...........")?, seed(1));
    let mut server_ep = Endpoint::new(build(b"live server node seed...........")?, seed(2));
    setup(&mut client_ep, &mut server_ep);
    let session = client_ep.connect(start, SERVER_ADDR)?;
    let frame_bytes = cfg.frame_bytes.max(HEADER);
    let source = LiveSource {
        session,
        mode: cfg.mode,
        every: Duration::from_micros(1_000_000 / u64::from(cfg.fps.max(1))),
        frame_bytes,
        deadline: cfg.deadline,
        next_tick: None,
        end,
        produced: Vec::new(),
        follower: Follower {
            step: 0,
            changed: start,
            floor: None,
            expired: false,
            failed: None,
        },
        zeros: Bytes::from(vec![0u8; frame_bytes]),
    };
    let mut client = EndpointNode::new(client_ep, CLIENT_ADDR, source);
    let mut server = EndpointNode::new(server_ep, SERVER_ADDR, LiveSink::default());
    {
        let mut nodes: [&mut dyn Node; 2] = [&mut client, &mut server];
        run_until(&mut net, &mut nodes, start, end + cfg.grace, |_, _| false)?;
    }
    let stream = client
        .endpoint()
        .session(session)
        .and_then(|s| s.stream_stats(STREAM));
    let (_, source) = client.into_parts();
    let (_, sink) = server.into_parts();
    let frames = source
        .produced
        .iter()
        .enumerate()
        .map(|(i, &(produced, bytes))| FrameRecord {
            produced,
            bytes,
            delay: sink.delays.get(i).copied().flatten(),
        })
        .collect();
    Ok(LiveReport::new(
        cfg,
        frames,
        stream.map_or(0, |s| s.messages_expired),
        sink.out_of_order,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(mode: LiveMode) -> LiveConfig {
        LiveConfig {
            link: LinkConfig::default()
                .with_latency(Duration::from_millis(20))
                .with_rate(20_000_000)
                .with_queue_bytes(100_000),
            duration: Duration::from_secs(2),
            frame_bytes: 12_000,
            mode,
            ..LiveConfig::default()
        }
    }

    #[test]
    fn a_clean_link_delivers_frames_on_time_and_replays() {
        for mode in [LiveMode::Deadline, LiveMode::Reliable, LiveMode::Adaptive] {
            let r = run_live(&cfg(mode)).unwrap();
            assert!(r.produced() >= 55, "{mode:?}: {}", r.produced());
            assert_eq!((r.delivered_late(), r.out_of_order), (0, 0), "{mode:?}");
            // Every frame is on time, or (with a deadline) abandoned.
            assert!(r.on_time() + r.expired >= r.produced(), "{mode:?}");
            assert!(r.on_time() * 10 >= r.produced() * 9, "{mode:?}");
            assert!(r.delay_percentile(50) >= Duration::from_millis(20));
            assert_eq!(run_live(&cfg(mode)).unwrap(), r);
        }
        let r = run_live(&cfg(LiveMode::Reliable)).unwrap();
        assert_eq!((r.on_time(), r.expired), (r.produced(), 0));
    }
}
