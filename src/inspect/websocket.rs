//! WebSocket frame headers (RFC 6455 §5.2), with the payload shown unmasked.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! | Masking-key (continued)       |          Payload Data         |
//! ```

use super::wire::{be16, need, WireError};
use crate::layers::Protocol;

/// Bit FIN: the final fragment of a message.
pub const FIN: u8 = 0x80;
/// Bits RSV1–3: reserved for extensions.
pub const RSV: u8 = 0x70;
/// Bit MASK: the payload is XOR-masked (every client-to-server frame).
pub const MASK: u8 = 0x80;

/// Frame opcodes (RFC 6455 §5.2, §11.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    /// 0x0 — continuation of a fragmented message.
    Continuation,
    /// 0x1 — text (UTF-8).
    Text,
    /// 0x2 — binary.
    Binary,
    /// 0x8 — close.
    Close,
    /// 0x9 — ping.
    Ping,
    /// 0xA — pong.
    Pong,
    /// Reserved (0x3–0x7, 0xB–0xF).
    Reserved(u8),
}

impl From<u8> for Opcode {
    fn from(v: u8) -> Self {
        match v {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xa => Opcode::Pong,
            o => Opcode::Reserved(o),
        }
    }
}

impl From<Opcode> for u8 {
    fn from(v: Opcode) -> u8 {
        match v {
            Opcode::Continuation => 0,
            Opcode::Text => 1,
            Opcode::Binary => 2,
            Opcode::Close => 8,
            Opcode::Ping => 9,
            Opcode::Pong => 0xa,
            Opcode::Reserved(o) => o,
        }
    }
}

impl Opcode {
    /// The opcode's name.
    pub fn name(self) -> &'static str {
        match self {
            Opcode::Continuation => "Continuation",
            Opcode::Text => "Text",
            Opcode::Binary => "Binary",
            Opcode::Close => "Connection Close",
            Opcode::Ping => "Ping",
            Opcode::Pong => "Pong",
            Opcode::Reserved(_) => "Reserved",
        }
    }
}

/// A view of one frame's header (and as much payload as was captured).
#[derive(Debug, Clone)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps `buffer` after checking that the whole header (with extended length
    /// and masking key) is there. The payload may be cut short.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let f = Frame { buffer };
        need(Protocol::WebSocket, 2, f.buffer.as_ref().len())?;
        need(Protocol::WebSocket, f.header_len(), f.buffer.as_ref().len())?;
        if f.payload_len() >> 63 != 0 {
            return Err(WireError::Malformed {
                protocol: Protocol::WebSocket,
                rule:
                    "the most significant bit of a 64-bit payload length must be 0 (RFC 6455 §5.2)",
            });
        }
        Ok(f)
    }
    /// FIN.
    pub fn fin(&self) -> bool {
        self.buffer.as_ref()[0] & FIN != 0
    }
    /// RSV1–3 as three bits.
    pub fn rsv(&self) -> u8 {
        (self.buffer.as_ref()[0] & RSV) >> 4
    }
    /// The opcode.
    pub fn opcode(&self) -> Opcode {
        (self.buffer.as_ref()[0] & 0x0f).into()
    }
    /// MASK.
    pub fn masked(&self) -> bool {
        self.buffer.as_ref()[1] & MASK != 0
    }
    /// The 7-bit length field (126 and 127 announce an extended length).
    pub fn len7(&self) -> u8 {
        self.buffer.as_ref()[1] & 0x7f
    }
    /// Bytes of extended length after the first two (0, 2 or 8).
    pub fn ext_len_bytes(&self) -> usize {
        match self.len7() {
            126 => 2,
            127 => 8,
            _ => 0,
        }
    }
    /// The header length: 2, the extended length, and 4 for a masking key.
    pub fn header_len(&self) -> usize {
        2 + self.ext_len_bytes() + if self.masked() { 4 } else { 0 }
    }
    /// The payload length (valid after `new_checked`).
    pub fn payload_len(&self) -> u64 {
        let b = self.buffer.as_ref();
        match self.len7() {
            126 => u64::from(be16(b, 2..4)),
            127 => u64::from_be_bytes([b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9]]),
            n => u64::from(n),
        }
    }
    /// The masking key, if MASK is set.
    pub fn masking_key(&self) -> Option<[u8; 4]> {
        self.masked().then(|| {
            let at = 2 + self.ext_len_bytes();
            let b = self.buffer.as_ref();
            [b[at], b[at + 1], b[at + 2], b[at + 3]]
        })
    }
    /// The payload bytes that were captured (still masked), at most `payload_len`.
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let start = self.header_len();
        let end = (start as u64)
            .saturating_add(self.payload_len())
            .min(b.len() as u64) as usize;
        &b[start..end]
    }
    /// Whether the whole payload was captured.
    pub fn is_complete(&self) -> bool {
        self.payload().len() as u64 == self.payload_len()
    }
}

/// XORs `data` with the masking key, byte `i` with `key[i % 4]` (RFC 6455 §5.3).
/// `offset` is the position of `data[0]` within the payload.
pub fn unmask(data: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= key[(i + offset) % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_5_7_examples() {
        // A single-frame unmasked text message: 0x81 0x05 "Hello".
        let f = Frame::new_checked(&b"\x81\x05Hello"[..]).unwrap();
        assert!(f.fin());
        assert_eq!(f.opcode(), Opcode::Text);
        assert!(!f.masked());
        assert_eq!(f.payload_len(), 5);
        assert_eq!(f.payload(), b"Hello");
        // A single-frame masked text message: key 37 fa 21 3d, "Hello".
        let bytes = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let f = Frame::new_checked(&bytes[..]).unwrap();
        assert!(f.masked());
        assert_eq!(f.masking_key(), Some([0x37, 0xfa, 0x21, 0x3d]));
        let mut p = f.payload().to_vec();
        unmask(&mut p, f.masking_key().unwrap(), 0);
        assert_eq!(p, b"Hello");
        // First fragment of an unmasked text message: 0x01 0x03 "Hel".
        let f = Frame::new_checked(&b"\x01\x03Hel"[..]).unwrap();
        assert!(!f.fin());
        // Unmasked ping "Hello": 0x89 0x05.
        assert_eq!(
            Frame::new_checked(&b"\x89\x05Hello"[..]).unwrap().opcode(),
            Opcode::Ping
        );
        // 256 bytes binary in one unmasked frame: 0x82 0x7E 0x0100.
        let f = Frame::new_checked(&[0x82, 0x7e, 0x01, 0x00][..]).unwrap();
        assert_eq!(f.payload_len(), 256);
        assert!(!f.is_complete());
        // 64 KiB: 0x82 0x7F 0x0000000000010000.
        let f = Frame::new_checked(&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0][..]).unwrap();
        assert_eq!(f.payload_len(), 65536);
    }

    #[test]
    fn header_cut_short() {
        assert!(Frame::new_checked(&[0x81][..]).is_err());
        // Found by fuzzing: a 64-bit length with its top bit set.
        let huge = [0x82, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert!(matches!(
            Frame::new_checked(&huge[..]),
            Err(WireError::Malformed { .. })
        ));
        assert!(matches!(
            Frame::new_checked(&[0x81, 0xfe, 0x01][..]),
            Err(WireError::Truncated {
                needed: 8,
                had: 3,
                ..
            })
        ));
    }
}
