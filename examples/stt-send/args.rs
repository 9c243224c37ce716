//! Command-line arguments of stt-send: a small hand-written parser (see the
//! crate docs for why not clap), and hex seeds.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::Fail;

pub(crate) const USAGE: &str = "\
usage:
  stt-send                                  demo: both ends on loopback, an 8 MiB file
  stt-send listen ADDR [--out DIR] [--once] receive files into DIR (default: .)
  stt-send send ADDR FILE...                send files to a listener

options:
  --seed HEX        shared network seed, at least 16 bytes (or env STT_SHARED_SEED)
  --node-seed HEX   this node's identity seed (default: random)
  --once            listen: exit after the first sender is done (status 1 if a file failed)
  --qlog DIR        write one qlog file per session into DIR (feature trace)
  -h, --help        this text";

pub(crate) enum Command {
    Demo,
    Listen {
        addr: SocketAddr,
        out: PathBuf,
        once: bool,
    },
    Send {
        addr: SocketAddr,
        files: Vec<PathBuf>,
    },
}

pub(crate) struct Args {
    pub(crate) command: Command,
    pub(crate) seed: Option<Vec<u8>>,
    pub(crate) node_seed: Option<Vec<u8>>,
}

pub(crate) fn parse_args(args: Vec<OsString>) -> Result<Option<Args>, Fail> {
    let mut positional = Vec::new();
    let (mut seed, mut node_seed, mut out, mut once) = (None, None, None, false);
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .ok_or_else(|| Fail::Usage(format!("{flag} needs a value")))
        };
        match a.to_str() {
            Some("-h" | "--help") => return Ok(None),
            Some("--seed") => seed = Some(hex_arg("--seed", &value("--seed")?)?),
            Some("--node-seed") => {
                node_seed = Some(hex_arg("--node-seed", &value("--node-seed")?)?)
            }
            Some("--out") => out = Some(PathBuf::from(value("--out")?)),
            Some("--once") => once = true,
            Some(s) if s.starts_with("--") => {
                return Err(Fail::Usage(format!("unknown option {s}")))
            }
            _ => positional.push(a),
        }
    }
    if seed.is_none() {
        if let Some(v) = std::env::var_os("STT_SHARED_SEED") {
            seed = Some(hex_arg("STT_SHARED_SEED", &v)?);
        }
    }
    let mut pos = positional.into_iter();
    let addr = |a: Option<OsString>| -> Result<SocketAddr, Fail> {
        let a = a.ok_or_else(|| Fail::Usage("missing ADDR".into()))?;
        let s = a.to_string_lossy();
        s.parse()
            .map_err(|_| Fail::Usage(format!("ADDR must be IP:PORT, not {s:?}")))
    };
    let command = match pos.next() {
        None => Command::Demo,
        Some(c) if c == "listen" => {
            let addr = addr(pos.next())?;
            if let Some(extra) = pos.next() {
                return Err(Fail::Usage(format!("unexpected {extra:?}")));
            }
            let out = out.unwrap_or_else(|| PathBuf::from("."));
            Command::Listen { addr, out, once }
        }
        Some(c) if c == "send" => {
            let addr = addr(pos.next())?;
            let files: Vec<PathBuf> = pos.map(PathBuf::from).collect();
            if files.is_empty() {
                return Err(Fail::Usage("send needs at least one FILE".into()));
            }
            Command::Send { addr, files }
        }
        Some(c) => return Err(Fail::Usage(format!("unknown command {c:?}"))),
    };
    Ok(Some(Args {
        command,
        seed,
        node_seed,
    }))
}

pub(crate) fn hex_arg(what: &str, v: &std::ffi::OsStr) -> Result<Vec<u8>, Fail> {
    let s = v.to_string_lossy();
    let bad = || Fail::Usage(format!("{what}: {s:?} is not an even number of hex digits"));
    if s.len() % 2 != 0 {
        return Err(bad());
    }
    let bytes = (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(bad)?;
    if bytes.len() < 16 {
        return Err(Fail::Usage(format!(
            "{what}: {} bytes is too short (at least 16, i.e. 32 hex digits)",
            bytes.len()
        )));
    }
    Ok(bytes)
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_seeds_are_checked() {
        let ok = hex_arg("--seed", "00112233445566778899aabbccddeeff".as_ref()).unwrap();
        assert_eq!(ok.len(), 16);
        assert_eq!(hex(&ok), "00112233445566778899aabbccddeeff");
        assert!(hex_arg("--seed", "0011".as_ref()).is_err(), "too short");
        assert!(hex_arg("--seed", "0g112233445566778899aabbccddeeff".as_ref()).is_err());
        assert!(hex_arg("--seed", "001".as_ref()).is_err(), "odd length");
    }

    #[test]
    fn arguments_parse() {
        let args = |v: &[&str]| parse_args(v.iter().map(OsString::from).collect());
        assert!(matches!(
            args(&[]),
            Ok(Some(Args {
                command: Command::Demo,
                ..
            }))
        ));
        assert!(matches!(args(&["--help"]), Ok(None)));
        match args(&[
            "send",
            "127.0.0.1:7400",
            "a",
            "b",
            "--node-seed",
            &"ab".repeat(16),
        ]) {
            Ok(Some(Args {
                command: Command::Send { addr, files },
                node_seed: Some(n),
                ..
            })) => {
                assert_eq!(addr.port(), 7400);
                assert_eq!(files, [PathBuf::from("a"), PathBuf::from("b")]);
                assert_eq!(n, vec![0xab; 16]);
            }
            _ => panic!("send did not parse"),
        }
        match args(&["listen", "[::1]:9", "--out", "dir", "--once"]) {
            Ok(Some(Args {
                command: Command::Listen { addr, out, once },
                ..
            })) => {
                assert!(addr.is_ipv6() && once);
                assert_eq!(out, PathBuf::from("dir"));
            }
            _ => panic!("listen did not parse"),
        }
        assert!(matches!(
            args(&["send", "127.0.0.1:1"]),
            Err(Fail::Usage(_))
        ));
        assert!(matches!(args(&["listen", "nowhere"]), Err(Fail::Usage(_))));
        assert!(matches!(args(&["fly"]), Err(Fail::Usage(_))));
        assert!(matches!(
            args(&["listen", "127.0.0.1:1", "--bogus"]),
            Err(Fail::Usage(_))
        ));
    }
}
