//! What a bulk run measured, and the measuring: the report, its derived
//! figures (goodput, shares, Jain's index), the time series, the RTT log
//! and the application-limited phase's record.
//!
//! Owns: [`BulkReport`], [`Sample`], [`AppPhaseReport`] and the functions
//! that read them off the client's sessions and the receiver's counts.
//! Never: drives the simulation or changes a session; it only reads the
//! public statistics of sessions handed to it, in session-index order.

use alloc::vec::Vec;
use core::time::Duration;

use crate::endpoint::Endpoint;
use crate::ids::SessionId;
use crate::time::Instant;

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
    /// Most bytes one of the server's sessions held for its application
    /// at once (`SessionStats::receive_buffered_peak`, the largest).
    pub receive_buffered_peak: u64,
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

/// Every RTT sample of the client's sessions, in microseconds.
pub(crate) struct RttLog {
    seen: Vec<u64>,
    micros: Vec<u32>,
}

impl RttLog {
    pub(crate) fn new(n: usize) -> Self {
        RttLog {
            seen: alloc::vec![0; n],
            micros: Vec::new(),
        }
    }

    /// Logs each session's latest sample if it took a new one.
    pub(crate) fn observe<'a>(
        &mut self,
        sessions: impl Iterator<Item = (&'a Endpoint, SessionId)>,
    ) {
        for (seen, (ep, id)) in self.seen.iter_mut().zip(sessions) {
            let Some(p) = ep.session(id).map(|s| s.congestion_stats()) else {
                continue;
            };
            if p.rtt_samples != *seen {
                *seen = p.rtt_samples;
                let us = u32::try_from(p.latest_rtt.as_micros()).unwrap_or(u32::MAX);
                self.micros.push(us);
            }
        }
    }

    /// The median and the 95th percentile of the samples.
    pub(crate) fn percentiles(&mut self) -> (Duration, Duration) {
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
    /// An empty record for `n` sessions.
    pub(crate) fn new(n: usize) -> Self {
        AppPhaseReport {
            max_in_flight: alloc::vec![0; n],
            cwnd_at_end: alloc::vec![0; n],
            lost_at_end: alloc::vec![0; n],
        }
    }

    /// Whether [`finish`](Self::finish) has run (a window is never 0 after).
    pub(crate) fn finished(&self) -> bool {
        !self.cwnd_at_end.iter().all(|&w| w == 0)
    }

    pub(crate) fn observe<'a>(
        &mut self,
        sessions: impl Iterator<Item = (&'a Endpoint, SessionId)>,
    ) {
        for (m, (ep, id)) in self.max_in_flight.iter_mut().zip(sessions) {
            if let Some(s) = ep.session(id) {
                *m = (*m).max(s.congestion_stats().bytes_in_flight);
            }
        }
    }

    pub(crate) fn finish<'a>(&mut self, sessions: impl Iterator<Item = (&'a Endpoint, SessionId)>) {
        for (i, (ep, id)) in sessions.enumerate() {
            if let Some(s) = ep.session(id) {
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

/// Packets declared lost over packets sent, all sessions together.
pub(crate) fn retransmitted<'a>(sessions: impl Iterator<Item = (&'a Endpoint, SessionId)>) -> f64 {
    let (mut lost, mut sent) = (0u64, 0u64);
    for (ep, id) in sessions {
        if let Some(s) = ep.session(id) {
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

/// One point of the time series for `n` sessions: the client's state, and
/// the bytes the receiver read (`received`, by session index).
pub(crate) fn sample<'a>(
    sessions: impl Iterator<Item = (&'a Endpoint, SessionId)>,
    received: &[u64],
    at: Instant,
    n: usize,
) -> Sample {
    let mut delivered = alloc::vec![0; n];
    let mut cwnd = alloc::vec![0; n];
    let mut datagram_size = alloc::vec![0; n];
    let mut pacing_rate = alloc::vec![0; n];
    let mut delivery_rate = alloc::vec![0; n];
    for (i, (ep, id)) in sessions.enumerate() {
        let Some(s) = ep.session(id) else {
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
    for (d, got) in delivered.iter_mut().zip(received) {
        *d = *got;
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

/// Datagram size probes sent and lost, all sessions together.
pub(crate) fn probes<'a>(sessions: impl Iterator<Item = (&'a Endpoint, SessionId)>) -> (u64, u64) {
    let mut probes = (0, 0);
    for (ep, id) in sessions {
        if let Some(st) = ep.session(id).map(|s| s.stats()) {
            probes.0 += st.mtu_probes_sent;
            probes.1 += st.mtu_probes_lost;
        }
    }
    probes
}

/// Packets lost and sent, per session.
pub(crate) fn counts<'a>(
    sessions: impl Iterator<Item = (&'a Endpoint, SessionId)>,
    n: usize,
) -> (Vec<u64>, Vec<u64>) {
    let mut lost = alloc::vec![0; n];
    let mut sent = alloc::vec![0; n];
    for (i, (ep, id)) in sessions.enumerate() {
        if let Some(st) = ep.session(id).map(|s| s.stats()) {
            if let (Some(l), Some(s)) = (lost.get_mut(i), sent.get_mut(i)) {
                *l = st.packets_lost;
                *s = st.packets_sent;
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
            receive_buffered_peak: 0,
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
}
