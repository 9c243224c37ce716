//! Command-line arguments of stt-send, declared with clap's derive (help
//! text, typed values and errors generated), and hex seeds.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

/// Send files to another machine over an encrypted stt session, one stream
/// per file, each verified by SHA-256 on arrival. Without a command: a demo
/// with both ends on loopback and an 8 MiB file.
#[derive(Debug, Parser)]
#[command(name = "stt-send")]
pub(crate) struct Args {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    /// Shared network seed, at least 16 bytes.
    #[arg(long, global = true, value_name = "HEX", env = "STT_SHARED_SEED",
          hide_env_values = true, value_parser = seed_arg)]
    pub(crate) seed: Option<Seed>,
    /// This node's identity seed (default: a listener's is random; a
    /// sender's is kept in `sender.key` beside its ticket file, or random
    /// with --no-tickets).
    #[arg(long, global = true, value_name = "HEX", value_parser = seed_arg)]
    pub(crate) node_seed: Option<Seed>,
    /// Say more on stderr: for a sender, whether each session resumed
    /// and what became of its tickets.
    #[arg(short, long, global = true)]
    pub(crate) verbose: bool,
    /// Write one qlog file per session into DIR (stt built with feature
    /// `trace`).
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) qlog: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Receive files into DIR.
    Listen {
        /// Address to listen on, IP:PORT (port 0: any free port).
        addr: SocketAddr,
        /// Directory the files are written into.
        #[arg(long, value_name = "DIR", default_value = ".")]
        out: PathBuf,
        /// Exit after the first sender is done (status 1 if a file failed).
        #[arg(long)]
        once: bool,
    },
    /// Send files to a listener.
    Send {
        /// The listener's address, IP:PORT.
        addr: SocketAddr,
        /// Files to send, each on its own stream.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Sessions to spread the files over, round robin (at most one per
        /// file): one endpoint, one socket, N handshakes.
        #[arg(long, value_name = "N", default_value_t = 1,
              value_parser = clap::value_parser!(u32).range(1..=1000))]
        sessions: u32,
        /// Session tickets kept across runs, so the next send to the same
        /// listener resumes (a cheaper handshake). Written mode 0600; the
        /// sender's key is kept beside it. Default:
        /// $XDG_STATE_HOME/stt-send/tickets (~/.local/state/stt-send/).
        #[arg(long, value_name = "PATH", conflicts_with = "no_tickets")]
        tickets: Option<PathBuf>,
        /// Neither read nor write a ticket file (every run pays the full
        /// handshake; the identity is random unless --node-seed).
        #[arg(long)]
        no_tickets: bool,
    },
}

/// A seed given in hex (at least 16 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seed(pub(crate) Vec<u8>);

/// Parses the command line (`args` without the program name).
pub(crate) fn parse_args(args: Vec<OsString>) -> Result<Args, clap::Error> {
    Args::try_parse_from(std::iter::once(OsString::from("stt-send")).chain(args))
}

/// A usage error in clap's style, for checks clap cannot make itself.
pub(crate) fn usage_error(msg: impl std::fmt::Display) -> clap::Error {
    Args::command().error(clap::error::ErrorKind::ValueValidation, msg)
}

fn seed_arg(s: &str) -> Result<Seed, String> {
    if s.len() % 2 != 0 {
        return Err(format!("{s:?} is not an even number of hex digits"));
    }
    let bytes = (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| format!("{s:?} is not an even number of hex digits"))?;
    if bytes.len() < 16 {
        return Err(format!(
            "{} bytes is too short (at least 16, i.e. 32 hex digits)",
            bytes.len()
        ));
    }
    Ok(Seed(bytes))
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;

    #[test]
    fn the_declaration_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn hex_seeds_are_checked() {
        let ok = seed_arg("00112233445566778899aabbccddeeff").unwrap();
        assert_eq!(ok.0.len(), 16);
        assert_eq!(hex(&ok.0), "00112233445566778899aabbccddeeff");
        assert!(seed_arg("0011").is_err(), "too short");
        assert!(seed_arg("0g112233445566778899aabbccddeeff").is_err());
        assert!(seed_arg("001").is_err(), "odd length");
    }

    #[test]
    fn arguments_parse() {
        let args = |v: &[&str]| parse_args(v.iter().map(OsString::from).collect());
        assert!(matches!(args(&[]), Ok(Args { command: None, .. })));
        assert_eq!(
            args(&["--help"]).map(|_| ()).unwrap_err().kind(),
            ErrorKind::DisplayHelp
        );
        match args(&[
            "send",
            "127.0.0.1:7400",
            "a",
            "b",
            "--node-seed",
            &"ab".repeat(16),
        ]) {
            Ok(Args {
                command:
                    Some(Command::Send {
                        addr,
                        files,
                        sessions,
                        tickets: None,
                        no_tickets: false,
                    }),
                node_seed: Some(n),
                ..
            }) => {
                assert_eq!(sessions, 1, "one session unless asked");
                assert_eq!(addr.port(), 7400);
                assert_eq!(files, [PathBuf::from("a"), PathBuf::from("b")]);
                assert_eq!(n.0, vec![0xab; 16]);
            }
            other => panic!("send did not parse: {other:?}"),
        }
        match args(&["send", "127.0.0.1:1", "a", "b", "--sessions", "2"]) {
            Ok(Args {
                command: Some(Command::Send { sessions, .. }),
                ..
            }) => assert_eq!(sessions, 2),
            other => panic!("send --sessions did not parse: {other:?}"),
        }
        match args(&["send", "127.0.0.1:1", "a", "--tickets", "t", "-v"]) {
            Ok(Args {
                command: Some(Command::Send { tickets, .. }),
                verbose: true,
                ..
            }) => assert_eq!(tickets, Some(PathBuf::from("t"))),
            other => panic!("send --tickets did not parse: {other:?}"),
        }
        assert_eq!(
            args(&["send", "127.0.0.1:1", "a", "--tickets", "t", "--no-tickets"])
                .map(|_| ())
                .unwrap_err()
                .kind(),
            ErrorKind::ArgumentConflict
        );
        match args(&["listen", "[::1]:9", "--out", "dir", "--once"]) {
            Ok(Args {
                command: Some(Command::Listen { addr, out, once }),
                ..
            }) => {
                assert!(addr.is_ipv6() && once);
                assert_eq!(out, PathBuf::from("dir"));
            }
            other => panic!("listen did not parse: {other:?}"),
        }
        match args(&["listen", "127.0.0.1:1"]) {
            Ok(Args {
                command: Some(Command::Listen { out, once, .. }),
                ..
            }) => assert!(out.as_os_str() == "." && !once),
            other => panic!("listen did not parse: {other:?}"),
        }
        let kind = |v: &[&str]| args(v).map(|_| ()).unwrap_err().kind();
        assert_eq!(
            kind(&["send", "127.0.0.1:1"]),
            ErrorKind::MissingRequiredArgument
        );
        assert_eq!(kind(&["listen", "nowhere"]), ErrorKind::ValueValidation);
        assert_eq!(
            kind(&["send", "127.0.0.1:1", "f", "--sessions", "0"]),
            ErrorKind::ValueValidation
        );
        assert_eq!(kind(&["fly"]), ErrorKind::InvalidSubcommand);
        assert_eq!(
            kind(&["listen", "127.0.0.1:1", "--bogus"]),
            ErrorKind::UnknownArgument
        );
        assert_eq!(
            kind(&["send", "127.0.0.1:1", "f", "--seed", "0011"]),
            ErrorKind::ValueValidation
        );
    }
}
