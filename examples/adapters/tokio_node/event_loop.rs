//! The tokio adapter's event loop: one task that owns the socket and the
//! core.
//!
//! Owns: socket readiness, batched receives into `handle_datagram` and GSO
//! runs from `poll_transmit` (through `udp_batch.rs`), the one timer on the
//! core's `poll_timeout`, and the order of a turn: take calls, settle the
//! waiting jobs, send, wait.
//! Never: allocates or sends through a channel per datagram, or decides
//! which job runs when (the scheduler in `jobs.rs` does).

use std::io;

use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

use super::common::Core;
use super::jobs::{settle, take_calls, Job, Msg, Wake};
use super::udp_batch::{Sent, UdpBatch};

/// Receive calls, datagrams sent, or handle calls taken in one go before the
/// loop looks at its other inputs again.
pub(super) const BATCH: usize = 256;
/// Times in a row the loop lets the callers it answered run (and call
/// again) before it sends; bounds how long a stream of calls holds back
/// the datagrams.
pub(super) const YIELDS: usize = 16;

/// The node's task: owns the socket and the core until shutdown, or until
/// every handle is gone.
///
/// Per wake-up it takes in whatever the socket holds (batched receives
/// straight into `handle_datagram`), runs due timers, runs the waiting
/// jobs that what happened concerns, and sends what the core has (GSO runs
/// built straight from `poll_transmit`). The timer is one `Sleep` re-armed
/// only when the core's deadline moves.
pub(super) async fn run(
    socket: UdpSocket,
    mut io: UdpBatch,
    mut core: Core,
    mut rx: mpsc::UnboundedReceiver<Msg>,
) {
    let mut jobs: Vec<Job> = Vec::new();
    let mut wake = Wake::default();
    let mut spare = Wake::default();
    let mut more_to_send = false;
    let mut stop: Option<oneshot::Sender<()>> = None;
    let timer = tokio::time::sleep_until(tokio::time::Instant::now());
    tokio::pin!(timer);
    // The deadline `timer` is armed for; `None`: disarmed.
    let mut armed: Option<stt::Instant> = None;
    loop {
        settle(&mut core, &mut jobs, &mut wake, &mut spare);
        if let Some(done) = stop.take() {
            // Shutdown: the CLOSE frames go out, then the loop ends.
            while send_some(&socket, &mut io, &mut core, BATCH).await {}
            let _ = done.send(());
            return;
        }
        more_to_send = send_some(&socket, &mut io, &mut core, BATCH).await || more_to_send;
        let deadline = core.ep.poll_timeout();
        if deadline != armed {
            if let Some(t) = deadline {
                let at = tokio::time::Instant::from_std(core.clock.std_instant(t));
                timer.as_mut().reset(at);
            }
            armed = deadline;
        }
        tokio::select! {
            msg = rx.recv() => {
                let Some(msg) = msg else { return };
                let mut answered = take_calls(msg, &mut rx, &mut core, &mut jobs, &mut wake, &mut stop);
                // A caller just answered may call again at once (a writer
                // looping over `send_all`): let it, before sending, so its
                // next data joins this flight instead of each call's data
                // leaving in a short run of its own.
                let mut rounds = 0;
                while answered && stop.is_none() && rounds < YIELDS {
                    tokio::task::yield_now().await;
                    answered = match rx.try_recv() {
                        Ok(msg) => take_calls(msg, &mut rx, &mut core, &mut jobs, &mut wake, &mut stop),
                        Err(_) => false,
                    };
                    rounds += 1;
                }
            }
            r = socket.readable() => {
                if r.is_ok() && receive_some(&socket, &mut io, &mut core, BATCH) > 0 {
                    wake.datagrams = true;
                }
            }
            () = &mut timer, if armed.is_some() => {
                // Fired: the next deadline re-arms it.
                armed = None;
            }
            () = std::future::ready(()), if more_to_send => { more_to_send = false; }
        }
        let now = core.clock.now();
        if core.ep.poll_timeout().is_some_and(|t| t <= now) {
            core.ep.handle_timeout(now);
            wake.datagrams = true;
        }
    }
}

/// Sends what the core has to send, up to about `limit` datagrams, waiting
/// for room in the socket's buffer when it is full; true if the core may
/// have more.
async fn send_some(socket: &UdpSocket, io: &mut UdpBatch, core: &mut Core, limit: usize) -> bool {
    let now = core.clock.now();
    let mut sent = 0;
    while sent < limit {
        let Some(run) = io.next_run(core, now) else {
            return false;
        };
        sent += run.count;
        loop {
            let r = socket.try_io(Interest::WRITABLE, || {
                match io.try_send(socket.into(), &run) {
                    Sent::Done => Ok(()),
                    Sent::WouldBlock => Err(io::ErrorKind::WouldBlock.into()),
                }
            });
            if r.is_ok() || socket.writable().await.is_err() {
                break;
            }
        }
    }
    true
}

/// Reads what the socket holds, up to `limit` receive calls; the datagrams
/// taken in.
fn receive_some(socket: &UdpSocket, io: &mut UdpBatch, core: &mut Core, limit: usize) -> usize {
    let mut datagrams = 0;
    for _ in 0..limit {
        match socket.try_io(Interest::READABLE, || io.recv(socket.into(), core)) {
            Ok(n) => datagrams += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            // ICMP errors (port unreachable...) surface here on some
            // systems; the core's timers deal with a silent peer.
            Err(_) => {}
        }
    }
    datagrams
}
