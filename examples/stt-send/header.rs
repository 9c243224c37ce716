//! The messages that frame each file's stream: a header (name, size) before
//! the file's bytes and a trailer (their SHA-256) after them, so that the
//! sender hashes while it reads, in one pass, and starts sending at once.
//! Decoding never trusts the name: only a plain file name passes.

use std::path::Path;

/// First bytes of a header message.
const MAGIC: &[u8; 8] = b"STTSEND2";
/// First bytes of a trailer message.
const TRAILER: &[u8; 8] = b"STTSHA32";

/// What the sender announces before a file's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) name: String,
    pub(crate) size: u64,
}

impl Header {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let name = self.name.as_bytes();
        let mut v = Vec::with_capacity(8 + 8 + 2 + name.len());
        v.extend_from_slice(MAGIC);
        v.extend_from_slice(&self.size.to_be_bytes());
        v.extend_from_slice(&(name.len() as u16).to_be_bytes());
        v.extend_from_slice(name);
        v
    }

    pub(crate) fn decode(b: &[u8]) -> Result<Header, String> {
        let rest = b.strip_prefix(MAGIC).ok_or("not an stt-send header")?;
        let (size, rest) = rest.split_first_chunk::<8>().ok_or("short header")?;
        let (len, name) = rest.split_first_chunk::<2>().ok_or("short header")?;
        if name.len() != usize::from(u16::from_be_bytes(*len)) {
            return Err("header name length is wrong".into());
        }
        let name = std::str::from_utf8(name).map_err(|_| "file name is not UTF-8")?;
        Ok(Header {
            name: safe_name(name)?.to_owned(),
            size: u64::from_be_bytes(*size),
        })
    }
}

/// The trailer: the SHA-256 of the bytes sent.
pub(crate) fn encode_trailer(sha256: &[u8; 32]) -> Vec<u8> {
    [&TRAILER[..], &sha256[..]].concat()
}

pub(crate) fn decode_trailer(b: &[u8]) -> Result<[u8; 32], String> {
    let rest = b.strip_prefix(TRAILER).ok_or("not an stt-send trailer")?;
    rest.try_into()
        .map_err(|_| "the trailer's hash is not 32 bytes".to_string())
}

/// `name` if it is a plain file name: no directory part, no `..`, nothing a
/// file system could read as a path or a drive.
pub(crate) fn safe_name(name: &str) -> Result<&str, String> {
    let plain = !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', ':', '\0'])
        && Path::new(name).file_name().and_then(|n| n.to_str()) == Some(name);
    if plain {
        Ok(name)
    } else {
        Err(format!("refused file name {name:?}: not a plain file name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_and_bad_ones_are_refused() {
        let h = Header {
            name: "report.pdf".into(),
            size: 123_456_789,
        };
        assert_eq!(Header::decode(&h.encode()), Ok(h.clone()));
        let bytes = h.encode();
        assert!(
            Header::decode(&bytes[..bytes.len() - 1]).is_err(),
            "short name"
        );
        assert!(Header::decode(&bytes[..20]).is_err(), "cut short");
        assert!(Header::decode(b"NOTSTT01").is_err(), "no magic");
    }

    #[test]
    fn trailers_round_trip_and_bad_ones_are_refused() {
        let t = encode_trailer(&[9; 32]);
        assert_eq!(decode_trailer(&t), Ok([9; 32]));
        assert!(decode_trailer(&t[..t.len() - 1]).is_err(), "short hash");
        assert!(decode_trailer(&[&t[..], &[0]].concat()).is_err(), "long");
        let h = Header {
            name: "x".into(),
            size: 1,
        };
        assert!(decode_trailer(&h.encode()).is_err(), "a header");
    }

    #[test]
    fn only_plain_file_names_are_accepted() {
        for ok in ["a.txt", "..hidden", ".profile", "name with spaces", "x..y"] {
            assert_eq!(safe_name(ok), Ok(ok));
        }
        for bad in [
            "",
            ".",
            "..",
            "../etc/passwd",
            "a/b",
            "/abs",
            "a\\b",
            "C:evil",
            "nul\0byte",
        ] {
            assert!(safe_name(bad).is_err(), "{bad:?} accepted");
        }
        let evil = Header {
            name: "../../.ssh/authorized_keys".into(),
            size: 1,
        };
        assert!(Header::decode(&evil.encode()).is_err());
    }
}
