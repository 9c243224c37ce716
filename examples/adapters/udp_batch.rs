//! Batched UDP I/O for the tokio adapter, through `quinn-udp`: GSO (one
//! `sendmsg` carries a run of equal-size datagrams to one destination, the
//! kernel cuts them apart) and GRO (one `recvmsg` returns a run of them),
//! with plain one-datagram calls where the OS has neither.
//!
//! Owns: packing the core's datagrams into GSO batches in the order the core
//! wrote them, and cutting GRO buffers back into datagrams.
//! Never: looks inside a datagram or decides what to send (the core does),
//! or reorders datagrams: a datagram that cannot join the batch ends it.
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
use std::sync::atomic::{AtomicU64, Ordering};

use quinn_udp::{RecvMeta, Transmit, UdpSocketState};
use tokio::io::Interest;
use tokio::net::UdpSocket;

use super::common::Core;

/// One GSO send carries at most this many payload bytes (the UDP length
/// field bounds the unsegmented datagram the kernel is handed).
const MAX_BATCH_BYTES: usize = 65_000;
/// `EMSGSIZE` on Linux and the BSDs/macOS ("message too long").
#[cfg(any(target_os = "linux", target_os = "android"))]
const EMSGSIZE: i32 = 90;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const EMSGSIZE: i32 = 40;
/// Receive buffer: one GRO run (at most 64 KiB), or one datagram.
const RECV_BUF: usize = 64 * 1024;

/// A run of datagrams waiting in `out[..len]`.
struct Batch {
    destination: SocketAddr,
    /// Size of every datagram but possibly the last.
    segment: usize,
    count: usize,
    len: usize,
}

impl Batch {
    /// A run of one datagram of `len` bytes.
    fn first(destination: SocketAddr, len: usize) -> Self {
        Batch {
            destination,
            segment: len,
            count: 1,
            len,
        }
    }
}

/// The socket's batching state and its buffers.
pub struct UdpBatch {
    state: UdpSocketState,
    out: Vec<u8>,
    inbuf: Vec<u8>,
    /// Room the core gets for one datagram (its configured maximum).
    slot: usize,
    /// Runs the kernel refused as too large (`EMSGSIZE`): lost datagrams.
    too_large: AtomicU64,
}

impl UdpBatch {
    /// Batching for `socket` (sets it up for GRO where the OS has it).
    pub fn new(socket: &UdpSocket, max_datagram: usize) -> io::Result<Self> {
        let state = UdpSocketState::new(socket.into())?;
        Ok(UdpBatch {
            state,
            out: vec![0; MAX_BATCH_BYTES.max(max_datagram) + max_datagram],
            inbuf: vec![0; RECV_BUF],
            slot: max_datagram,
            too_large: AtomicU64::new(0),
        })
    }

    /// Sends the kernel refused as too large for the interface (each a
    /// run of datagrams, lost: the core's recovery and size search cope).
    #[allow(dead_code)] // read by tests and diagnostics, not every binary
    pub fn too_large(&self) -> u64 {
        self.too_large.load(Ordering::Relaxed)
    }

    /// Datagrams one GSO send may carry now (1 without GSO).
    fn max_segments(&self) -> usize {
        self.state
            .max_gso_segments()
            .clamp(1, (MAX_BATCH_BYTES / self.slot).max(1))
    }

    /// Sends what the core has to send, up to `limit` datagrams; true if it
    /// may have more.
    pub async fn send_some(&mut self, socket: &UdpSocket, core: &mut Core, limit: usize) -> bool {
        let now = core.clock.now();
        let mut batch: Option<Batch> = None;
        for _ in 0..limit {
            let at = batch.as_ref().map_or(0, |b| b.len);
            let Some(buf) = self.out.get_mut(at..at + self.slot) else {
                break;
            };
            let Some(t) = core.ep.poll_transmit(now, buf) else {
                self.flush(socket, batch.take()).await;
                return false;
            };
            batch = match batch.take() {
                // Joins the run: same destination, not longer than the
                // run's datagrams, and the run has no short one yet.
                Some(mut b)
                    if b.destination == t.destination
                        && t.len <= b.segment
                        && b.len == b.count * b.segment =>
                {
                    b.len += t.len;
                    b.count += 1;
                    Some(b)
                }
                Some(b) => {
                    // Ends the run: send it, then start again with this one.
                    let run = b.len;
                    self.flush(socket, Some(b)).await;
                    self.out.copy_within(run..run + t.len, 0);
                    Some(Batch::first(t.destination, t.len))
                }
                None => Some(Batch::first(t.destination, t.len)),
            };
            let full = batch.as_ref().is_some_and(|b| {
                b.count >= self.max_segments()
                    || b.len + self.slot > MAX_BATCH_BYTES
                    || b.len != b.count * b.segment
            });
            if full {
                self.flush(socket, batch.take()).await;
            }
        }
        self.flush(socket, batch.take()).await;
        true
    }

    /// Sends one run, waiting for room in the socket's buffer if need be.
    /// Other errors lose the run, which the protocol recovers from.
    async fn flush(&self, socket: &UdpSocket, batch: Option<Batch>) {
        let Some(b) = batch else { return };
        let Some(contents) = self.out.get(..b.len) else {
            return;
        };
        let transmit = Transmit {
            destination: b.destination,
            ecn: None,
            contents,
            segment_size: (b.count > 1).then_some(b.segment),
            src_ip: None,
        };
        loop {
            match socket.try_io(Interest::WRITABLE, || {
                self.state.try_send(socket.into(), &transmit)
            }) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if socket.writable().await.is_err() {
                        return;
                    }
                }
                // Too large for the interface (don't-fragment is set): a
                // lost datagram, typically a size probe. Not an error.
                Err(e) if e.raw_os_error() == Some(EMSGSIZE) => {
                    self.too_large.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                // Sent, or lost (unreachable destination and the like).
                _ => return,
            }
        }
    }

    /// Reads what the socket holds (up to `limit` reads) into the core.
    pub fn receive_some(&mut self, socket: &UdpSocket, core: &mut Core, limit: usize) {
        for _ in 0..limit {
            let mut meta = [RecvMeta::default()];
            let r = socket.try_io(Interest::READABLE, || {
                let mut bufs = [IoSliceMut::new(&mut self.inbuf)];
                self.state.recv(socket.into(), &mut bufs, &mut meta)
            });
            match r {
                Ok(n) if n > 0 => {
                    let [m] = meta;
                    let now = core.clock.now();
                    let stride = m.stride.max(1);
                    let Some(run) = self.inbuf.get_mut(..m.len) else {
                        continue;
                    };
                    for d in run.chunks_mut(stride) {
                        core.ep.handle_datagram(now, m.addr, d);
                    }
                }
                Ok(_) => return,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                // ICMP errors (port unreachable...) surface here on some
                // systems; the core's timers deal with a silent peer.
                Err(_) => {}
            }
        }
    }
}
