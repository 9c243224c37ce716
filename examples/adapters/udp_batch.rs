//! Batched UDP I/O for both adapters, through `quinn-udp`: GSO (one
//! `sendmsg` carries a run of equal-size datagrams to one destination, the
//! kernel cuts them apart), GRO and `recvmmsg` (one call returns several
//! runs of datagrams), with plain one-datagram calls where the OS has none
//! of these. The socket is the caller's: this file never waits on it, so the
//! tokio adapter wraps each call in `try_io` and the blocking one in
//! `poll(2)`.
//!
//! Owns: packing the core's datagrams into GSO runs in the order the core
//! wrote them (built in place: `poll_transmit` writes straight into the run's
//! buffer), cutting received runs back into datagrams handed straight to
//! `handle_datagram`, and the rule for a send the kernel refuses as too big.
//! Never: looks inside a datagram or decides what to send (the core does),
//! reorders datagrams (one that cannot join a run ends it), or allocates
//! after construction.
//!
//! Datagrams leave with the don't-fragment bit set: `UdpSocketState::new`
//! sets `IP_MTU_DISCOVER` to `IP_PMTUDISC_PROBE` (and the IPv6 twin) on
//! Linux, so a datagram the path cannot carry is dropped rather than
//! fragmented, and the core's datagram size probes learn the truth. A send
//! the kernel refuses as too large (`EMSGSIZE`, the local interface's MTU)
//! is counted and dropped like a lost datagram; the core resends what
//! mattered at a size that fits. A GSO run's segment size is its first
//! datagram's length and a datagram of another size ends the run, so
//! segments follow the session's current datagram size.

use std::io::{self, IoSliceMut};
use std::net::SocketAddr;

use quinn_udp::{RecvMeta, Transmit, UdpSockRef, UdpSocketState};

use super::common::Core;

/// One GSO send carries at most this many payload bytes (the UDP length
/// field bounds the unsegmented datagram the kernel is handed).
const MAX_RUN_BYTES: usize = 65_000;
/// Room for one received GRO run (at most 64 KiB).
const GRO_RUN: usize = 64 * 1024;
/// Datagrams one `recvmmsg` may return where there is no GRO.
const RECV_SLOTS: usize = 16;

/// A run of datagrams ready in the send buffer, `out[..len]`.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub destination: SocketAddr,
    /// Size of every datagram but possibly the last.
    segment: usize,
    /// Datagrams in the run.
    pub count: usize,
    len: usize,
}

impl Run {
    /// A run of one datagram of `len` bytes.
    fn first(destination: SocketAddr, len: usize) -> Self {
        Run {
            destination,
            segment: len,
            count: 1,
            len,
        }
    }

    /// Whether a datagram of `len` bytes to `to` may join: same destination,
    /// not longer than the run's datagrams, and no short one in it yet
    /// (GSO cuts at `segment`; only the last piece may be shorter).
    fn admits(&self, to: SocketAddr, len: usize) -> bool {
        self.destination == to && len <= self.segment && self.len == self.count * self.segment
    }
}

/// What a send of one run came to.
#[derive(Debug)]
pub enum Sent {
    /// The kernel took it (or it is lost in a way the protocol recovers
    /// from: an unreachable destination, a datagram over the path's MTU).
    Done,
    /// The socket's buffer is full: wait until it is writable, send again.
    WouldBlock,
}

/// The socket's batching state and its buffers.
pub struct UdpBatch {
    state: UdpSocketState,
    /// The run being built; past it, at most one datagram that ended it.
    out: Vec<u8>,
    /// That datagram: where it starts in `out`, its destination and size.
    /// Invariant: it starts right after the run it ended, and moves to the
    /// front of `out` only once that run was handed to the kernel.
    carry: Option<(usize, SocketAddr, usize)>,
    /// Receive buffer: `slots` slots of `inbuf.len() / slots` bytes. With
    /// GRO, one slot of 64 KiB: one call returns a run of up to 64
    /// datagrams, and the buffer stays in cache (eight such slots made the
    /// kernel's copy into them a fifth of the adapter's CPU time: the 512
    /// KiB no longer fitted in L2). Without GRO, `recvmmsg` slots of one
    /// datagram each.
    inbuf: Vec<u8>,
    slots: usize,
    /// Room the core gets for one datagram (its configured ceiling, so a
    /// datagram size that grows at run time always fits).
    slot: usize,
    /// Datagrams dropped because the kernel called them too big (EMSGSIZE):
    /// a probe over the path's MTU is lost like any datagram, never an error
    /// that ends the node.
    pub oversized: u64,
}

impl UdpBatch {
    /// Batching for `socket` (sets it up for GRO and don't-fragment where
    /// the OS has them); the core writes datagrams of up to `max_datagram`.
    pub fn new(socket: UdpSockRef<'_>, max_datagram: usize) -> io::Result<Self> {
        let state = UdpSocketState::new(socket)?;
        let (slots, slot) = if state.gro_segments() > 1 {
            (1, GRO_RUN.max(max_datagram))
        } else {
            (
                RECV_SLOTS.clamp(1, quinn_udp::BATCH_SIZE.max(1)),
                max_datagram,
            )
        };
        Ok(UdpBatch {
            state,
            out: vec![0; MAX_RUN_BYTES.max(max_datagram) + max_datagram],
            carry: None,
            inbuf: vec![0; slots * slot],
            slots,
            slot: max_datagram,
            oversized: 0,
        })
    }

    /// Datagrams one GSO send may carry now (1 without GSO).
    fn max_segments(&self) -> usize {
        self.state
            .max_gso_segments()
            .clamp(1, (MAX_RUN_BYTES / self.slot).max(1))
    }

    /// The next run of datagrams from the core (the datagram that ended the
    /// previous run first), built in place; `None` when the core has nothing
    /// to send. The run must be sent (or given up) before the next call.
    pub fn next_run(&mut self, core: &mut Core, now: stt::Instant) -> Option<Run> {
        let mut run = match self.carry.take() {
            Some((at, to, len)) => {
                self.out.copy_within(at..at + len, 0);
                Run::first(to, len)
            }
            None => {
                let t = core.ep.poll_transmit(now, self.out.get_mut(..self.slot)?)?;
                Run::first(t.destination, t.len)
            }
        };
        let max = self.max_segments();
        while run.count < max && run.len + self.slot <= MAX_RUN_BYTES {
            let at = run.len;
            let Some(buf) = self.out.get_mut(at..at + self.slot) else {
                break;
            };
            let Some(t) = core.ep.poll_transmit(now, buf) else {
                break;
            };
            if !run.admits(t.destination, t.len) {
                self.carry = Some((at, t.destination, t.len));
                break;
            }
            run.len += t.len;
            run.count += 1;
            if t.len < run.segment {
                // A short datagram ends a run.
                break;
            }
        }
        Some(run)
    }

    /// One attempt to hand `run` to the kernel.
    pub fn try_send(&mut self, socket: UdpSockRef<'_>, run: &Run) -> Sent {
        let Some(contents) = self.out.get(..run.len) else {
            return Sent::Done;
        };
        let transmit = Transmit {
            destination: run.destination,
            ecn: None,
            contents,
            segment_size: (run.count > 1).then_some(run.segment),
            src_ip: None,
        };
        match self.state.try_send(socket, &transmit) {
            Ok(()) => Sent::Done,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Sent::WouldBlock,
            Err(e) if is_emsgsize(&e) => {
                self.oversized += run.count as u64;
                Sent::Done
            }
            // Unreachable destination and the like: lost, which the
            // protocol's timers recover from.
            Err(_) => Sent::Done,
        }
    }

    /// One receive call: every datagram it returns goes straight into the
    /// core. Ok(datagrams taken in); `WouldBlock` when the socket is empty.
    pub fn recv(&mut self, socket: UdpSockRef<'_>, core: &mut Core) -> io::Result<usize> {
        let mut meta = [RecvMeta::default(); RECV_SLOTS];
        let room = self.inbuf.len() / self.slots;
        let n = {
            let mut chunks = self.inbuf.chunks_mut(room);
            let mut bufs: [IoSliceMut<'_>; RECV_SLOTS] =
                std::array::from_fn(|_| IoSliceMut::new(chunks.next().unwrap_or_default()));
            let (Some(bufs), Some(meta)) = (bufs.get_mut(..self.slots), meta.get_mut(..self.slots))
            else {
                return Ok(0);
            };
            self.state.recv(socket, bufs, meta)?
        };
        let now = core.clock.now();
        let mut datagrams = 0;
        for (i, m) in meta.iter().take(n).enumerate() {
            let Some(run) = self.inbuf.get_mut(i * room..i * room + m.len.min(room)) else {
                continue;
            };
            for d in run.chunks_mut(m.stride.max(1)) {
                core.ep.handle_datagram(now, m.addr, d);
                datagrams += 1;
            }
        }
        Ok(datagrams)
    }
}

/// The kernel refused a datagram as larger than the path (or interface)
/// allows.
fn is_emsgsize(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::EMSGSIZE)
    }
    #[cfg(windows)]
    {
        // WSAEMSGSIZE
        e.raw_os_error() == Some(10040)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = e;
        false
    }
}
