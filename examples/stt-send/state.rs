//! What a sender keeps between runs: its key (so it is the same node
//! every run) and its session tickets (so its next session with a
//! listener resumes), both files readable by their owner alone.
//!
//! Owns: where they live, and reading, creating and writing them.
//! Never: fails a transfer over a ticket file: one that cannot be read
//! or is refused is reported and the run goes on with a full handshake.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::tokio_node::{Error, Node};
use crate::Fail;

/// The sender's key file, beside its ticket file.
const KEY_FILE: &str = "sender.key";

/// The default ticket file: `$XDG_STATE_HOME/stt-send/tickets`, else
/// `$HOME/.local/state/stt-send/tickets`; `None` if neither is set.
pub(crate) fn default_tickets() -> Option<PathBuf> {
    let dir = match std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").filter(|d| !d.is_empty())?)
            .join(".local")
            .join("state"),
    };
    Some(dir.join("stt-send").join("tickets"))
}

/// The directory a ticket file lives in.
fn dir_of(tickets: &Path) -> &Path {
    match tickets.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The sender's node seed, kept in `sender.key` beside `tickets` (32
/// random bytes, made on first use, mode 0600; its directory 0700 if
/// made here). The ticket file is sealed for this identity.
pub(crate) fn sender_seed(tickets: &Path) -> Result<Vec<u8>, Fail> {
    let dir = dir_of(tickets);
    if !dir.exists() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir)
            .map_err(|e| Fail::Input(format!("cannot create {}: {e}", dir.display())))?;
    }
    let path = dir.join(KEY_FILE);
    let shown = path.display();
    match std::fs::read(&path) {
        Ok(bytes) if bytes.len() == 32 => Ok(bytes),
        Ok(_) => Err(Fail::Input(format!("{shown}: not a 32-byte sender key"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = crate::random_bytes(32)?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(&path) {
                Ok(mut f) => f
                    .write_all(&key)
                    .map(|()| key)
                    .map_err(|e| Fail::Input(format!("cannot write {shown}: {e}"))),
                // Another sender made it first: use that one.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    match std::fs::read(&path) {
                        Ok(bytes) if bytes.len() == 32 => Ok(bytes),
                        _ => Err(Fail::Input(format!("{shown}: not a 32-byte sender key"))),
                    }
                }
                Err(e) => Err(Fail::Input(format!("cannot write {shown}: {e}"))),
            }
        }
        Err(e) => Err(Fail::Input(format!("cannot read {shown}: {e}"))),
    }
}

/// Imports the tickets in `path` (none on a first run). A file that is
/// refused is reported and left to be replaced at the end of the run.
pub(crate) async fn load(node: &Node, path: &Path, verbose: bool) {
    match node.load_tickets(path).await {
        Ok(n) if verbose => eprintln!("tickets: {n} loaded from {}", path.display()),
        Ok(_) => {}
        Err(e @ Error::Tickets(_)) => {
            eprintln!(
                "stt-send: {}: {e}; starting without tickets",
                path.display()
            )
        }
        Err(Error::Io(e)) => eprintln!("stt-send: cannot read {}: {e}", path.display()),
        Err(e) => eprintln!("stt-send: cannot read {}: {e}", path.display()),
    }
}

/// Writes the tickets the node holds now to `path` (mode 0600).
pub(crate) async fn save(node: &Node, path: &Path, verbose: bool) {
    match node.save_tickets(path).await {
        Ok(()) if verbose => eprintln!("tickets: saved to {}", path.display()),
        Ok(()) => {}
        Err(Error::Io(e)) => eprintln!("stt-send: cannot write {}: {e}", path.display()),
        Err(e) => eprintln!("stt-send: cannot write {}: {e}", path.display()),
    }
}
