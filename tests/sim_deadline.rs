//! Deadline messages through the simulator: frames with a deadline on a
//! lossy path, and a source faster than its link. Every message arrives
//! exactly once or is skipped, always in order; a skipped one never holds
//! up later ones; a reliable stream beside them loses nothing; and the
//! counts both sides keep agree with the events.
//!
//! Virtual time is deterministic: these are not timing assertions.
#![cfg(feature = "sim")]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use stt::sim::{run_until, App, EndpointNode, LinkConfig, Network};
use stt::{Config, Endpoint, Event, Instant, SendOptions, SessionId, StreamEvent, StreamId};

const NET: &[u8] = b"sim deadline network key........";
const VIDEO: StreamId = 1;
const RELIABLE: StreamId = 2;
const DEADLINE: Duration = Duration::from_millis(150);

fn addr(n: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, n], 7000 + u16::from(n)))
}

/// Frame `seq`'s bytes: its number, then a pattern, so a mix-up shows.
fn frame(seq: u64, len: usize) -> Bytes {
    let mut v = seq.to_be_bytes().to_vec();
    v.extend((0..len - 8).map(|i| (i as u64 * 7 + seq) as u8));
    v.into()
}

fn config(name: &str) -> Config {
    let seed = format!("{name:-<32}");
    Config::builder(seed.as_bytes(), NET).build().unwrap()
}

/// The sender: a frame every `period` until `frames` went, each with a
/// deadline `DEADLINE` after it is produced; every tenth period a small
/// reliable message.
struct Source {
    session: Option<SessionId>,
    period: Duration,
    size: usize,
    frames: u64,
    next: u64,
    start: Option<Instant>,
    /// (seq, some of it was sent) of each `MessageExpired`.
    expired: Vec<(u64, bool)>,
    trouble: Vec<String>,
}

impl App for Source {
    fn on_wake(&mut self, now: Instant, ep: &mut Endpoint) {
        while let Some(e) = ep.poll_event() {
            match e {
                Event::Connected { session, .. } => self.session = Some(session),
                Event::Stream {
                    event:
                        StreamEvent::MessageExpired {
                            stream, seq, sent, ..
                        },
                    ..
                } => {
                    assert_eq!(stream, VIDEO, "only deadline messages expire");
                    self.expired.push((seq, sent));
                }
                Event::Stream { .. } => {}
                other => self.trouble.push(format!("{other:?}")),
            }
        }
        let Some(s) = self.session.and_then(|id| ep.session_mut(id)) else {
            return;
        };
        let start = *self.start.get_or_insert(now);
        while self.next < self.frames && start + self.period * self.next as u32 <= now {
            let made = start + self.period * self.next as u32;
            let opts = SendOptions::new().deadline(made + DEADLINE);
            match s.send_with(VIDEO, frame(self.next, self.size), opts) {
                Ok(seq) => assert_eq!(seq, self.next),
                Err(e) => self.trouble.push(format!("send: {e}")),
            }
            if self.next % 10 == 0 {
                if let Err(e) = s.send(RELIABLE, frame(self.next / 10, 100)) {
                    self.trouble.push(format!("send reliable: {e}"));
                }
            }
            self.next += 1;
        }
    }

    fn wakeup(&self) -> Option<Instant> {
        let start = self.start?;
        (self.next < self.frames).then(|| start + self.period * self.next as u32)
    }
}

/// The receiver: reads everything, noting when each frame arrived.
#[derive(Default)]
struct Sink {
    /// Per stream: (seq carried in the message, arrival time).
    got: BTreeMap<StreamId, Vec<(u64, Instant)>>,
    session: Option<SessionId>,
    trouble: Vec<String>,
}

impl App for Sink {
    fn on_wake(&mut self, now: Instant, ep: &mut Endpoint) {
        while let Some(e) = ep.poll_event() {
            match e {
                Event::Accepted { session, .. } => self.session = Some(session),
                Event::Stream {
                    session,
                    event: StreamEvent::Readable(id),
                } => {
                    let Some(s) = ep.session_mut(session) else {
                        continue;
                    };
                    while let Ok(Some(m)) = s.recv(id) {
                        let len = if id == VIDEO { m.len() } else { 100 };
                        let seq = u64::from_be_bytes(m[..8].try_into().unwrap());
                        if m != frame(seq, len) {
                            self.trouble
                                .push(format!("stream {id}: message {seq} garbled"));
                        }
                        self.got.entry(id).or_default().push((seq, now));
                    }
                }
                Event::Stream { .. } => {}
                other => self.trouble.push(format!("{other:?}")),
            }
        }
    }
}

struct Run {
    source: Source,
    sink: Sink,
    sent_stats: stt::StreamStats,
    recv_stats: stt::StreamStats,
    start: Instant,
}

fn run(link: LinkConfig, seed: u8, size: usize, frames: u64) -> Run {
    let mut net = Network::new([seed; 32]);
    net.set_path(addr(1), addr(2), link).unwrap();
    let client = Endpoint::new(config("client"), [seed; 32]);
    let server = Endpoint::new(config("server"), [seed ^ 0xff; 32]);
    let source = Source {
        session: None,
        period: Duration::from_micros(33_333),
        size,
        frames,
        next: 0,
        start: None,
        expired: Vec::new(),
        trouble: Vec::new(),
    };
    let mut client = EndpointNode::new(client, addr(1), source);
    client.with(|ep, _| ep.connect(Instant::ZERO, addr(2)).map(|_| ()).unwrap());
    let mut server = EndpointNode::new(server, addr(2), Sink::default());
    // Frames for `frames` periods, then time for the last ones to settle.
    let end = Instant::ZERO + Duration::from_millis(frames * 34 + 3000);
    {
        let mut nodes: [&mut dyn stt::sim::Node; 2] = [&mut client, &mut server];
        run_until(&mut net, &mut nodes, Instant::ZERO, end, |_, _| false).expect("runs");
    }
    let (cep, source) = client.into_parts();
    let (sep, sink) = server.into_parts();
    let stats = |ep: &Endpoint, id: Option<SessionId>| {
        ep.session(id.expect("connected"))
            .and_then(|s| s.stream_stats(VIDEO))
            .expect("the video stream")
    };
    Run {
        sent_stats: stats(&cep, source.session),
        recv_stats: stats(&sep, sink.session),
        start: source.start.expect("started"),
        source,
        sink,
    }
}

/// What every run must show, whatever the path did.
fn check(r: &Run, frames: u64) -> (usize, usize) {
    assert!(r.source.trouble.is_empty(), "{:?}", r.source.trouble);
    assert!(r.sink.trouble.is_empty(), "{:?}", r.sink.trouble);
    assert_eq!(r.source.next, frames, "every frame was offered");
    // Exactly once or skipped, in order.
    let video = r.sink.got.get(&VIDEO).cloned().unwrap_or_default();
    assert!(
        video.windows(2).all(|w| w[0].0 < w[1].0),
        "in order, once each"
    );
    // The counts agree with the events and with what arrived.
    let events = r.source.expired.len() as u64;
    assert_eq!(r.sent_stats.messages_expired, events);
    assert_eq!(r.recv_stats.messages_received, video.len() as u64);
    assert_eq!(
        r.recv_stats.messages_received + r.recv_stats.messages_skipped,
        frames,
        "every frame delivered or skipped"
    );
    assert!(
        r.recv_stats.messages_skipped <= events,
        "only abandoned ones are skipped"
    );
    // The reliable stream beside them lost nothing.
    let reliable: Vec<u64> = r.sink.got[&RELIABLE].iter().map(|(s, _)| *s).collect();
    assert_eq!(reliable, (0..frames.div_ceil(10)).collect::<Vec<_>>());
    let on_time = video
        .iter()
        .filter(|(seq, at)| *at <= r.start + Duration::from_micros(33_333) * *seq as u32 + DEADLINE)
        .count();
    (video.len(), on_time)
}

#[test]
fn frames_with_deadlines_on_a_lossy_path_arrive_once_or_are_skipped_in_order() {
    let frames = 150;
    let link = LinkConfig::default()
        .with_latency(Duration::from_millis(30))
        .with_rate(20_000_000)
        .with_queue_bytes(150_000)
        .with_loss(0.05);
    for seed in [1, 2] {
        let r = run(link, seed, 12_000, frames);
        let (delivered, on_time) = check(&r, frames);
        eprintln!(
            "seed {seed}: delivered {delivered} on time {on_time} expired {:?} skipped {}",
            r.source.expired.len(),
            r.recv_stats.messages_skipped
        );
        assert!(
            on_time as f64 >= 0.9 * frames as f64,
            "on time {on_time} of {frames}"
        );
    }
}

#[test]
fn a_source_faster_than_its_link_drops_frames_unsent_and_later_ones_still_arrive() {
    // 12 kB at 30 a second is 2.9 Mbit/s into a 2 Mbit/s link.
    let frames = 90;
    let link = LinkConfig::default()
        .with_latency(Duration::from_millis(20))
        .with_rate(2_000_000)
        .with_queue_bytes(20_000);
    let r = run(link, 3, 12_000, frames);
    let (delivered, _) = check(&r, frames);
    let unsent = r.source.expired.iter().filter(|(_, sent)| !sent).count();
    eprintln!("delivered {delivered} expired {:?}", r.source.expired.len());
    assert!(unsent > 0, "some frames never left");
    assert!(
        delivered > 0,
        "later frames were not held up by the dropped ones"
    );
    let last = r.sink.got[&VIDEO].last().unwrap().0;
    assert!(
        last + 10 >= frames,
        "delivery went on to the end (last {last})"
    );
}
