//! The header message that opens each file's stream: name, size, SHA-256.
//! Decoding never trusts the name: only a plain file name passes.

use std::path::Path;

/// First bytes of a header message.
const MAGIC: &[u8; 8] = b"STTSEND1";

/// What the sender announces before a file's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) name: String,
    pub(crate) size: u64,
    pub(crate) sha256: [u8; 32],
}

impl Header {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let name = self.name.as_bytes();
        let mut v = Vec::with_capacity(8 + 8 + 32 + 2 + name.len());
        v.extend_from_slice(MAGIC);
        v.extend_from_slice(&self.size.to_be_bytes());
        v.extend_from_slice(&self.sha256);
        v.extend_from_slice(&(name.len() as u16).to_be_bytes());
        v.extend_from_slice(name);
        v
    }

    pub(crate) fn decode(b: &[u8]) -> Result<Header, String> {
        let rest = b.strip_prefix(MAGIC).ok_or("not an stt-send header")?;
        let (size, rest) = rest.split_first_chunk::<8>().ok_or("short header")?;
        let (sha256, rest) = rest.split_first_chunk::<32>().ok_or("short header")?;
        let (len, name) = rest.split_first_chunk::<2>().ok_or("short header")?;
        if name.len() != usize::from(u16::from_be_bytes(*len)) {
            return Err("header name length is wrong".into());
        }
        let name = std::str::from_utf8(name).map_err(|_| "file name is not UTF-8")?;
        Ok(Header {
            name: safe_name(name)?.to_owned(),
            size: u64::from_be_bytes(*size),
            sha256: *sha256,
        })
    }
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
            sha256: [7; 32],
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
            sha256: [0; 32],
        };
        assert!(Header::decode(&evil.encode()).is_err());
    }
}
