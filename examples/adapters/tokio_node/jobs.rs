//! The tokio adapter's job scheduler: the calls handles send the event
//! loop, and the ones waiting there for something to change.
//!
//! Owns: `Job` (a closure that tries one call on the core and answers the
//! caller once it is ready), `Key` (what a waiting job waits on), `Wake`
//! (what changed since waiting jobs last ran), taking calls off the channel
//! and running the waiting jobs an event concerns.
//! Never: touches the socket or the timer, and runs a waiting job again
//! only when something its key names happened: a writer refused by a full
//! stream waits for that stream's `Writable` (or its end, or its
//! session's), not for every datagram.

use std::collections::HashSet;
use std::task::Poll;

use bytes::Bytes;
use stt::{Event, SessionId, StreamEvent, StreamId};
use tokio::sync::{mpsc, oneshot};

use super::common::Core;
use super::event_loop::BATCH;

/// What a waiting job waits on, so the loop knows when to run it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Key {
    /// Completes when first run.
    Now,
    /// Completes when first run, on one session: what it does there (a
    /// stream closed, the session closed) may end what waiting calls on
    /// that session wait for, so they run again after it.
    Touch(SessionId),
    /// Events of one stream (or its session): messages to read, or room to
    /// write after a refused send (`Writable`).
    Stream(SessionId, StreamId),
    /// Events of one session.
    Session(SessionId),
    /// New sessions from peers.
    Accept,
    /// Acknowledgements on a session: any datagram may bring them.
    Progress(SessionId),
}

impl Key {
    pub(super) fn session(self) -> Option<SessionId> {
        match self {
            Key::Touch(s) | Key::Stream(s, _) | Key::Session(s) | Key::Progress(s) => Some(s),
            Key::Now | Key::Accept => None,
        }
    }
}

pub(super) type Run = Box<dyn FnMut(&mut Core) -> bool + Send>;

pub(super) struct Job {
    pub(super) key: Key,
    /// Tries once; true when done (or when nobody waits any more).
    pub(super) run: Run,
}

impl Job {
    /// A job that runs `f` until it is ready and sends its answer on the
    /// returned channel; `lost` gets an answer whose receiver went away.
    pub(super) fn new<R: Send + 'static>(
        key: Key,
        mut f: impl FnMut(&mut Core) -> Poll<R> + Send + 'static,
        lost: impl FnOnce(&mut Core, R) + Send + 'static,
    ) -> (Job, oneshot::Receiver<R>) {
        let (tx, rx) = oneshot::channel();
        let mut tx = Some(tx);
        let mut lost = Some(lost);
        let run: Run = Box::new(move |core: &mut Core| {
            if tx.as_ref().is_none_or(|t| t.is_closed()) {
                return true;
            }
            match f(core) {
                Poll::Pending => false,
                Poll::Ready(r) => {
                    if let Some(t) = tx.take() {
                        if let (Err(r), Some(lost)) = (t.send(r), lost.take()) {
                            lost(core, r);
                        }
                    }
                    true
                }
            }
        });
        (Job { key, run }, rx)
    }
}

pub(super) enum Msg {
    Job(Job),
    /// A message a dropped `receive` future had already been given.
    Unclaimed(SessionId, StreamId, Bytes),
    Shutdown(oneshot::Sender<()>),
}

/// What changed since waiting jobs last ran.
#[derive(Default)]
pub(super) struct Wake {
    pub(super) datagrams: bool,
    pub(super) accept: bool,
    pub(super) sessions: HashSet<SessionId>,
    pub(super) streams: HashSet<(SessionId, StreamId)>,
}

impl Wake {
    pub(super) fn clear(&mut self) {
        self.datagrams = false;
        self.accept = false;
        self.sessions.clear();
        self.streams.clear();
    }

    pub(super) fn is_empty(&self) -> bool {
        !self.datagrams && !self.accept && self.sessions.is_empty() && self.streams.is_empty()
    }

    pub(super) fn note(&mut self, e: &Event) {
        match e {
            Event::Accepted { session, .. } => {
                self.accept = true;
                self.sessions.insert(*session);
            }
            Event::Stream { session, event } => {
                self.streams.insert((*session, event.stream()));
                if let StreamEvent::Opened(_) = event {
                    // accept_stream waits on the session.
                    self.sessions.insert(*session);
                }
            }
            _ => {
                self.sessions.insert(e.session());
            }
        }
    }

    pub(super) fn matches(&self, key: Key) -> bool {
        match key {
            Key::Now | Key::Touch(_) => true,
            Key::Accept => self.accept,
            Key::Session(s) => self.sessions.contains(&s),
            Key::Stream(s, id) => self.sessions.contains(&s) || self.streams.contains(&(s, id)),
            Key::Progress(s) => self.datagrams || self.sessions.contains(&s),
        }
    }
}

/// Runs `first` and whatever else the channel holds (up to `BATCH`
/// messages); true if a call was answered.
pub(super) fn take_calls(
    first: Msg,
    rx: &mut mpsc::UnboundedReceiver<Msg>,
    core: &mut Core,
    jobs: &mut Vec<Job>,
    wake: &mut Wake,
    stop: &mut Option<oneshot::Sender<()>>,
) -> bool {
    let mut answered = false;
    let mut next = Some(first);
    let mut n = 0;
    while let Some(msg) = next.take() {
        match msg {
            Msg::Job(mut job) => {
                if let Some(s) = job.key.session() {
                    wake.sessions.insert(s);
                }
                if (job.run)(core) {
                    answered = true;
                } else {
                    jobs.push(job);
                }
            }
            Msg::Unclaimed(s, id, b) => {
                core.unclaim(s, id, b);
                wake.streams.insert((s, id));
            }
            Msg::Shutdown(done) => {
                core.ep.close_all(0, b"shutdown");
                *stop = Some(done);
                break;
            }
        }
        n += 1;
        if n < BATCH {
            next = rx.try_recv().ok();
        }
    }
    answered
}

/// Takes in the core's events and runs the waiting jobs they concern, until
/// nothing changes any more. `spare` is the other of two `Wake` sets used in
/// turn, so that noting what changed allocates nothing once warm.
pub(super) fn settle(core: &mut Core, jobs: &mut Vec<Job>, wake: &mut Wake, spare: &mut Wake) {
    for _ in 0..16 {
        core.absorb_events(|e| wake.note(e));
        if wake.is_empty() {
            return;
        }
        std::mem::swap(wake, spare);
        jobs.retain_mut(|job| !(spare.matches(job.key) && (job.run)(core)));
        spare.clear();
    }
}
