//! The receiving end: accepts sessions, one task per stream; each file is
//! written under a temporary name, checked (size, SHA-256), then renamed.
//!
//! Writing and hashing run on a thread per file, fed through a bounded
//! channel that the stream's task awaits (never blocks on), in batches of
//! the messages ready at once: the thread that drives the endpoint only
//! moves packets, and a file of any size costs the listener the channel's
//! batches plus the stream's receive window.

use std::fs::File;
use std::io::{IoSlice, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use stt::CloseReason;

use crate::args::hex;
use crate::header::{decode_trailer, Header};
use crate::tokio_node::{Error, Node, Session, Stream};
use crate::{transfer, Fail, IDLE};

/// Messages (64 KiB each from `send_all`) taken from the stream in one
/// call and handed to the file's writer together: one wake-up of the writer
/// thread per batch, not per message (16,384 hand-offs and as many futex
/// wake-ups per GiB before).
const BATCH: usize = 16;
/// Bytes gathered before they go to the writer together: the messages
/// ready at once are often one or two, and each hand-off wakes the writer
/// thread (tokio's park: a futex wait and wake).
const HAND_OFF: usize = 1 << 20;
/// Hand-offs queued towards a file's writer (each under `HAND_OFF` plus
/// one batch: at most about 4 MiB besides the one it writes and the one
/// being gathered).
const WRITE_AHEAD: usize = 2;

/// Serves sessions until stopped; with `once`, until the first session
/// ends, returning whether all its files arrived intact.
pub(crate) async fn listen(node: Node, out: PathBuf, once: bool) -> Result<bool, Fail> {
    loop {
        let session = node.accept().await.map_err(transfer)?;
        eprintln!(
            "session from {} (node {})",
            session.peer(),
            fmt_node(&session)
        );
        let task = tokio::spawn(serve_session(session, out.clone()));
        if once {
            let (ok, failed) = task.await.map_err(transfer)?;
            return Ok(failed == 0 && ok > 0);
        }
    }
}

/// Where a listener without `--node-seed` keeps its stateless reset key.
const RESET_KEY_FILE: &str = ".stt-send-reset-key";

/// The listener's reset key, stored in `out` so a restarted listener
/// holds the same one: read from [`RESET_KEY_FILE`], or drawn at random
/// and written there (readable by its owner only) on the first start.
pub(crate) fn stored_reset_key(out: &Path) -> Result<[u8; 32], Fail> {
    let path = out.join(RESET_KEY_FILE);
    let shown = path.display();
    match std::fs::read(&path) {
        Ok(bytes) => <[u8; 32]>::try_from(bytes.as_slice())
            .map_err(|_| Fail::Input(format!("{shown}: not a 32-byte reset key"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| Fail::Transfer(e.to_string()))?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            options
                .open(&path)
                .and_then(|mut f| f.write_all(&key))
                .map_err(|e| Fail::Input(format!("cannot write {shown}: {e}")))?;
            Ok(key)
        }
        Err(e) => Err(Fail::Input(format!("cannot read {shown}: {e}"))),
    }
}

fn fmt_node(s: &Session) -> String {
    s.remote_node()
        .map(|n| hex(&n.0[..8]))
        .unwrap_or_else(|| "?".into())
}

/// Receives files on stream 0 and on every stream the peer opens; (files
/// ok, files failed).
async fn serve_session(session: Session, out: PathBuf) -> (usize, usize) {
    let mut tasks = tokio::task::JoinSet::new();
    // Stream 0 is open from the start and raises no "opened" event: it is
    // watched from here, and carries a file if a message arrives on it.
    if let Ok(Some(zero)) = session.stream(0).await {
        tasks.spawn(receive_on_stream_0(zero, out.clone()));
    }
    let why = loop {
        match session.accept_stream().await {
            Ok(stream) => {
                let out = out.clone();
                tasks.spawn(async move { Some(receive_file(stream, &out, None).await) });
            }
            Err(e) => break e,
        }
    };
    let (mut ok, mut failed) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(None) => {}
            Ok(Some(Ok(()))) => ok += 1,
            _ => failed += 1,
        }
    }
    match why {
        Error::SessionClosed(CloseReason::Peer { code: 0, .. }) => {
            eprintln!(
                "session from {} done: {ok} file(s) ok, {failed} failed",
                session.peer()
            )
        }
        e => eprintln!("session from {} ended: {e}", session.peer()),
    }
    (ok, failed)
}

/// Stream 0's file, if the sender puts one there: `None` when the session
/// ends with nothing sent on stream 0 (most senders never use it). Waits
/// for the first message as long as the session lives.
async fn receive_on_stream_0(stream: Stream, out: PathBuf) -> Option<Result<(), String>> {
    let first = stream.receive().await.ok()??;
    Some(receive_file(stream, &out, Some(first)).await)
}

/// One file: header, data, verification, answer. `first` is the header
/// when the caller has read it already.
async fn receive_file(stream: Stream, out: &Path, first: Option<Bytes>) -> Result<(), String> {
    let r = receive_file_inner(&stream, out, first).await;
    let answer = match &r {
        Ok((_, sha)) => format!("OK {}", hex(sha)),
        Err(e) => format!("ERROR {e}"),
    };
    match &r {
        Ok((h, _)) => eprintln!(
            "  received {} ({} bytes, sha256 ok)",
            out.join(&h.name).display(),
            h.size
        ),
        Err(e) => eprintln!("  stream {}: {e}", stream.id()),
    }
    // The answer is best effort when the session is already gone.
    if stream.send(answer.into_bytes()).await.is_ok() {
        let _ = stream.flush().await;
    }
    let _ = stream.close().await;
    r.map(|_| ())
}

/// The file's header and SHA-256, once written, checked and in place.
async fn receive_file_inner(
    stream: &Stream,
    out: &Path,
    first: Option<Bytes>,
) -> Result<(Header, [u8; 32]), String> {
    let first = match first {
        Some(m) => m,
        None => stream
            .receive_timeout(IDLE)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("stream ended before its header")?,
    };
    let header = Header::decode(&first)?;
    if header.name == RESET_KEY_FILE {
        return Err(format!(
            "refused file name {RESET_KEY_FILE:?}: the listener's own"
        ));
    }
    let part = out.join(format!(
        ".{}.stt-part-{}-{}",
        header.name,
        stream.session_id(),
        stream.id()
    ));
    let file = File::create(&part).map_err(|e| format!("cannot create {}: {e}", part.display()))?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<Bytes>>(WRITE_AHEAD);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(write_and_hash(file, rx));
    });
    let mut got = 0u64;
    let received: Result<[u8; 32], String> = async {
        // The file's bytes, then one message: its SHA-256. Whatever the
        // sender puts after it is not read. Messages go to the writer once
        // `HAND_OFF` bytes are together (or the file is complete).
        let mut pending: Vec<Bytes> = Vec::with_capacity(BATCH);
        let mut pending_bytes = 0usize;
        loop {
            let batch = stream
                .receive_batch_timeout(BATCH, IDLE)
                .await
                .map_err(|e| e.to_string())?
                .ok_or(if got < header.size {
                    "stream ended before the whole file arrived"
                } else {
                    "stream ended before the file's hash"
                })?;
            let mut data = Vec::with_capacity(batch.len());
            let mut trailer = None;
            for m in batch {
                if got < header.size {
                    got += m.len() as u64;
                    if got > header.size {
                        return Err(format!("more than the {} bytes announced", header.size));
                    }
                    data.push(m);
                } else {
                    trailer = Some(m);
                    break;
                }
            }
            pending_bytes += data.iter().map(Bytes::len).sum::<usize>();
            pending.extend(data);
            if pending_bytes >= HAND_OFF || (trailer.is_some() && !pending.is_empty()) {
                let full = std::mem::replace(&mut pending, Vec::with_capacity(BATCH));
                pending_bytes = 0;
                tx.send(full)
                    .await
                    .map_err(|_| "the file writer stopped".to_string())?;
            }
            if let Some(t) = trailer {
                break decode_trailer(&t);
            }
        }
    }
    .await;
    drop(tx);
    let written = done_rx
        .await
        .map_err(|_| "the file writer died".to_string())?;
    let check = received.and_then(|announced| {
        let (n, sha) = written.map_err(|e| format!("cannot write {}: {e}", part.display()))?;
        if n != header.size {
            Err(format!(
                "size mismatch: {n} bytes, {} announced",
                header.size
            ))
        } else if sha != announced {
            Err(format!(
                "sha256 mismatch: got {}, announced {}",
                hex(&sha),
                hex(&announced)
            ))
        } else {
            Ok(sha)
        }
    });
    match check {
        Ok(sha) => {
            let dest = out.join(&header.name);
            std::fs::rename(&part, &dest)
                .map_err(|e| format!("cannot move into {}: {e}", dest.display()))?;
            Ok((header, sha))
        }
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e)
        }
    }
}

fn write_and_hash(
    mut file: File,
    mut rx: tokio::sync::mpsc::Receiver<Vec<Bytes>>,
) -> std::io::Result<(u64, [u8; 32])> {
    let mut h = Sha256::new();
    let mut n = 0u64;
    while let Some(batch) = rx.blocking_recv() {
        for m in &batch {
            h.update(m);
            n += m.len() as u64;
        }
        // The batch goes to the file as it is, a `writev` per hand-off: a
        // `BufWriter` in between copied every byte once more (7 % of the
        // listener's CPU went to that copy and the reassembly's).
        write_all_vectored(&mut file, &batch)?;
    }
    file.sync_all()?;
    Ok((n, h.finalize().into()))
}

/// Writes every byte of `parts`, in order, with as few `writev` calls as
/// the file takes (`Write::write_all_vectored` is not stable yet).
fn write_all_vectored(w: &mut impl Write, parts: &[Bytes]) -> std::io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
    let mut rest = &mut slices[..];
    // Drops the leading empty slices: parts with no bytes at all then
    // write nothing, where `write_vectored` would answer 0 (`WriteZero`).
    IoSlice::advance_slices(&mut rest, 0);
    while !rest.is_empty() {
        match w.write_vectored(rest) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(k) => IoSlice::advance_slices(&mut rest, k),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::encode_trailer;
    use crate::tokio_node::Node;
    use std::time::Duration;

    /// A sender that follows the protocol's stream rules and puts its file
    /// on stream 0, which raises no "opened" event: the listener still
    /// receives it, answers on it, and counts the session a success.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_file_on_stream_0_is_received() {
        let dir = std::env::temp_dir().join(format!("stt-send-zero-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let shared = [7u8; 32];
        let cfg = |listener| crate::config(&None, &shared, listener, 1, None).unwrap();
        let listener = Node::bind("127.0.0.1:0", cfg(true)).await.unwrap();
        let serving = tokio::spawn(listen(listener.clone(), dir.clone(), true));
        let sender = Node::bind("127.0.0.1:0", cfg(false)).await.unwrap();
        let session = sender.connect(listener.local_addr()).await.unwrap();
        let zero = session.stream(0).await.unwrap().expect("stream 0 is open");
        let data = b"stream 0 carries a file like any other".to_vec();
        let sha: [u8; 32] = Sha256::digest(&data).into();
        let header = Header {
            name: "zero.txt".into(),
            size: data.len() as u64,
        };
        zero.send(header.encode()).await.unwrap();
        zero.send(data.clone()).await.unwrap();
        zero.send(encode_trailer(&sha)).await.unwrap();
        let answer = zero
            .receive_timeout(Duration::from_secs(10))
            .await
            .unwrap()
            .expect("an answer");
        assert_eq!(answer, format!("OK {}", hex(&sha)).as_bytes());
        session.close(0, b"done").await.unwrap();
        let ok = tokio::time::timeout(Duration::from_secs(10), serving)
            .await
            .expect("the listener saw the session end")
            .unwrap()
            .unwrap();
        assert!(ok, "the session's file counted as received");
        assert_eq!(std::fs::read(dir.join("zero.txt")).unwrap(), data);
        let _ = sender.shutdown().await;
        let _ = listener.shutdown().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A writer that takes at most `limit` bytes per call, and sometimes
    /// none with `Interrupted`, as a file may.
    struct Stingy {
        out: Vec<u8>,
        limit: usize,
        calls: usize,
    }

    impl Write for Stingy {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.calls % 3 == 0 {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let k = b.len().min(self.limit);
            self.out.extend_from_slice(&b[..k]);
            Ok(k)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn vectored_writes_keep_every_byte_in_order() {
        let parts: Vec<Bytes> = (0u8..5)
            .map(|i| Bytes::from(vec![i; 7 + i as usize]))
            .chain([Bytes::new()])
            .collect();
        let mut w = Stingy {
            out: Vec::new(),
            limit: 4,
            calls: 0,
        };
        write_all_vectored(&mut w, &parts).unwrap();
        assert_eq!(w.out, parts.concat());
        let mut empty = Stingy {
            out: Vec::new(),
            limit: 4,
            calls: 0,
        };
        write_all_vectored(&mut empty, &[]).unwrap();
        write_all_vectored(&mut empty, &[Bytes::new(), Bytes::new()]).unwrap();
        assert!(empty.out.is_empty());
    }

    #[test]
    fn the_stored_reset_key_is_made_once_and_read_back() {
        let dir = std::env::temp_dir().join(format!("stt-send-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = std::fs::remove_file(dir.join(RESET_KEY_FILE));
        let first = stored_reset_key(&dir).unwrap();
        assert_eq!(
            stored_reset_key(&dir).unwrap(),
            first,
            "a restart reads it back"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(RESET_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "readable by its owner only");
        }
        std::fs::write(dir.join(RESET_KEY_FILE), b"short").unwrap();
        assert!(matches!(stored_reset_key(&dir), Err(Fail::Input(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
