//! The payload of a Resume packet: a session ticket, message 1 of the
//! resume pattern, and message 1 of the full handshake as the fallback.
//!
//! ```text
//! ticket_len  varint   1 ..= MAX_TICKET_LEN
//! ticket      bytes    opaque to the initiator
//! resume_len  varint   at most 1,120 (a Noise message)
//! resume_msg  bytes    Noise NNpsk0 message 1
//! full_msg    rest     Noise XXpsk0 message 1, as in an Initial
//! ```
//!
//! Owns: that layout.
//! Never: looks inside the ticket or the Noise messages, allocates, or
//! panics.

use super::codec::{varint_len, Reader, Writer};
use super::frame::MAX_TICKET_LEN;
use super::WireError;

/// Longest Noise message either field may hold (the crypto layer's
/// `MAX_HANDSHAKE_MSG`).
const MAX_MSG_LEN: usize = 96 + 1024;

/// The three parts of a Resume packet's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResumePayload<'a> {
    /// The ticket the responder issued.
    pub ticket: &'a [u8],
    /// Message 1 of the resume pattern.
    pub resume_msg: &'a [u8],
    /// Message 1 of the full handshake, for the responder that refuses
    /// the ticket.
    pub full_msg: &'a [u8],
}

impl<'a> ResumePayload<'a> {
    /// Bytes [`ResumePayload::encode`] writes.
    pub fn encoded_len(&self) -> usize {
        varint_len(self.ticket.len() as u64)
            + self.ticket.len()
            + varint_len(self.resume_msg.len() as u64)
            + self.resume_msg.len()
            + self.full_msg.len()
    }

    /// Writes the payload, or nothing on error.
    pub fn encode(&self, w: &mut Writer) -> Result<(), WireError> {
        if self.ticket.is_empty() || self.ticket.len() > MAX_TICKET_LEN {
            return Err(WireError::TicketLength);
        }
        if self.resume_msg.len() > MAX_MSG_LEN {
            return Err(WireError::Truncated);
        }
        if w.remaining() < self.encoded_len() {
            return Err(WireError::BufferTooSmall);
        }
        w.all_or_nothing(|w| {
            w.put_varint(self.ticket.len() as u64)?;
            w.put_slice(self.ticket)?;
            w.put_varint(self.resume_msg.len() as u64)?;
            w.put_slice(self.resume_msg)?;
            w.put_slice(self.full_msg)
        })
    }

    /// Splits a Resume packet's payload.
    pub fn parse(payload: &'a [u8]) -> Result<ResumePayload<'a>, WireError> {
        let mut r = Reader::new(payload);
        let len = r.varint()?;
        if len == 0 || len > MAX_TICKET_LEN as u64 {
            return Err(WireError::TicketLength);
        }
        // Bounded above: the casts cannot truncate.
        let ticket = r.bytes(len as usize)?;
        let len = r.varint()?;
        if len > MAX_MSG_LEN as u64 {
            return Err(WireError::Truncated);
        }
        let resume_msg = r.bytes(len as usize)?;
        let full_msg = r.peek_rest();
        Ok(ResumePayload {
            ticket,
            resume_msg,
            full_msg,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_resume_payload() {
        let p = ResumePayload {
            ticket: &[0xaa, 0xbb],
            resume_msg: &[1, 2, 3],
            full_msg: &[9, 9],
        };
        let mut buf = [0u8; 16];
        let mut w = Writer::new(&mut buf);
        p.encode(&mut w).unwrap();
        let n = w.written();
        assert_eq!(&buf[..n], &[0x02, 0xaa, 0xbb, 0x03, 1, 2, 3, 9, 9]);
        assert_eq!(n, p.encoded_len());
        assert_eq!(ResumePayload::parse(&buf[..n]), Ok(p));
    }

    #[test]
    fn malformed_payloads_are_refused() {
        assert_eq!(ResumePayload::parse(&[]), Err(WireError::Truncated));
        assert_eq!(ResumePayload::parse(&[0]), Err(WireError::TicketLength));
        assert_eq!(
            ResumePayload::parse(&[0x41, 0x01]),
            Err(WireError::TicketLength)
        );
        assert_eq!(ResumePayload::parse(&[2, 1]), Err(WireError::Truncated));
        assert_eq!(
            ResumePayload::parse(&[1, 1, 0x44, 0x61]),
            Err(WireError::Truncated)
        );
        let empty = ResumePayload::parse(&[1, 7, 0]).unwrap();
        assert_eq!((empty.resume_msg, empty.full_msg), (&[][..], &[][..]));
        let mut buf = [0u8; 4];
        let p = ResumePayload {
            ticket: &[],
            resume_msg: &[],
            full_msg: &[],
        };
        assert_eq!(
            p.encode(&mut Writer::new(&mut buf)),
            Err(WireError::TicketLength)
        );
    }
}
