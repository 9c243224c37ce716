//! A keep-alive exchange on a resting session: the PING, its
//! acknowledgement, and the session back at rest as soon as both are done.
//!
//! Owns: the mark that the session's only business since it last rested
//! is a keep-alive (it sent a keep-alive PING, or a lone PING arrived,
//! while its controller rested), and releasing what only a busy session
//! holds once that exchange is over: nothing in flight, no acknowledgement
//! owed, nothing queued. A keep-alive then costs each side one wake-up
//! fewer than waiting out the quiet period of the idle trim; and a lone
//! PING that finds the session resting is acknowledged at once (the peer's
//! keep-alive), so the answering side wakes once.
//! Never: rests a session that did anything else since (any other
//! ack-eliciting frame sent or received clears the mark), hastens the
//! acknowledgement of anything but a lone PING to a resting session, or
//! changes when a keep-alive is sent or what it carries.

use super::{Session, State};
use crate::time::Instant;

impl Session {
    /// The keep-alive timer fired: a PING is owed. The exchange it starts
    /// ends at rest if the session rests now.
    pub(super) fn on_keep_alive_due(&mut self) {
        self.ping_owed = true;
        self.keep_alive_rest = self.recovery.is_resting();
    }

    /// A packet that elicits an acknowledgement arrived at `now`:
    /// `only_ping` if PING was its only such frame, `resting` whether the
    /// controller rested before it arrived. A lone PING to a resting
    /// session is the peer's keep-alive: it is acknowledged at once, so
    /// answering it takes one wake-up, not a second one for the
    /// acknowledgement delay.
    pub(super) fn on_eliciting_received(&mut self, now: Instant, only_ping: bool, resting: bool) {
        self.keep_alive_rest = only_ping && (resting || self.keep_alive_rest);
        if only_ping && resting {
            self.acks.ack_at_once(now);
        }
    }

    /// An ack-eliciting packet went out; `only_ping` if PING was its only
    /// ack-eliciting frame.
    pub(super) fn on_eliciting_sent(&mut self, only_ping: bool) {
        if !only_ping {
            self.keep_alive_rest = false;
        }
    }

    /// The session had nothing more to send: a keep-alive exchange that
    /// is over (nothing in flight, no acknowledgement owed, nothing
    /// queued) releases the busy part at once.
    pub(super) fn rest_after_keep_alive(&mut self) {
        if self.keep_alive_rest
            && self.state == State::Established
            && self.recovery.bytes_in_flight() == 0
            && !self.acks.ack_pending()
            && !self.ping_owed
            && !self.has_payload()
            && !self.streams.has_control()
        {
            self.keep_alive_rest = false;
            self.release_idle_memory();
        }
    }
}
