//! Lesson 09 — the WebSocket frame header (RFC 6455 §5.2).
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
//! +-------------------------------- - - - - - - - - - - - - - - - +
//! ```
//!
//! The 7-bit length says the payload length directly (0–125), or "the next 2
//! bytes hold it" (126), or "the next 8 bytes hold it" (127; the top bit must
//! be 0). A sender uses the shortest form that fits (§5.2 "the minimal number
//! of bytes MUST be used"). The header is therefore 2 to 14 bytes long.
//!
//! [`FrameHeader::parse`] reads the layout; [`FrameHeader::check`] then applies
//! the rules of §5.1–§5.5 one at a time, so each broken rule is its own
//! [`FrameError`] variant with the close code the RFC asks for.

use super::close::CloseCode;
use super::mask::MASK_LEN;
use bytes::BufMut;
use std::fmt;
use thiserror::Error;

/// The FIN bit: this frame is the last of its message (byte 0, bit 7).
pub const FIN: u8 = 0b1000_0000;
/// RSV1, reserved for extensions such as permessage-deflate (byte 0, bit 6).
pub const RSV1: u8 = 0b0100_0000;
/// RSV2, reserved for extensions (byte 0, bit 5).
pub const RSV2: u8 = 0b0010_0000;
/// RSV3, reserved for extensions (byte 0, bit 4).
pub const RSV3: u8 = 0b0001_0000;
/// The opcode: the low four bits of byte 0.
pub const OPCODE_BITS: u8 = 0b0000_1111;
/// The MASK bit: a masking key follows the length (byte 1, bit 7).
pub const MASK: u8 = 0b1000_0000;
/// The 7-bit payload length: the low seven bits of byte 1.
pub const LEN7_BITS: u8 = 0b0111_1111;
/// A 7-bit length of 126 means "a 16-bit length follows".
pub const LEN7_16BIT: u8 = 126;
/// A 7-bit length of 127 means "a 64-bit length follows".
pub const LEN7_64BIT: u8 = 127;
/// The largest payload length the 7-bit field holds by itself.
pub const MAX_LEN7: u64 = 125;
/// The largest payload of a control frame (§5.5: "125 bytes or less").
pub const MAX_CONTROL_PAYLOAD: usize = 125;
/// The shortest header: two bytes.
pub const MIN_HEADER_LEN: usize = 2;
/// The longest header: 2 + 8 (64-bit length) + 4 (masking key).
pub const MAX_HEADER_LEN: usize = 2 + 8 + MASK_LEN;

/// The opcode registry (§5.2, §11.8): what a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// 0x0: the next fragment of a message started earlier.
    Continuation,
    /// 0x1: a text message (UTF-8), or its first fragment.
    Text,
    /// 0x2: a binary message, or its first fragment.
    Binary,
    /// 0x3–0x7: reserved for future data frames.
    ReservedData(u8),
    /// 0x8: close the connection (§5.5.1).
    Close,
    /// 0x9: ping; the peer answers with a pong (§5.5.2).
    Ping,
    /// 0xA: pong (§5.5.3).
    Pong,
    /// 0xB–0xF: reserved for future control frames.
    ReservedControl(u8),
}

impl OpCode {
    /// The opcode for the low four bits of `bits` (higher bits are ignored).
    #[inline]
    pub fn from_bits(bits: u8) -> OpCode {
        match bits & OPCODE_BITS {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            n @ 0x3..=0x7 => OpCode::ReservedData(n),
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            n => OpCode::ReservedControl(n),
        }
    }

    /// The four-bit value on the wire.
    #[inline]
    pub fn bits(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::ReservedData(n) => n & OPCODE_BITS,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
            OpCode::ReservedControl(n) => n & OPCODE_BITS,
        }
    }

    /// Control frames (close, ping, pong and 0xB–0xF) have the high opcode bit set (§5.5).
    #[inline]
    pub fn is_control(self) -> bool {
        self.bits() & 0x8 != 0
    }

    /// The opcode's name as the RFC writes it.
    pub fn name(self) -> &'static str {
        match self {
            OpCode::Continuation => "continuation",
            OpCode::Text => "text",
            OpCode::Binary => "binary",
            OpCode::ReservedData(_) => "reserved (data)",
            OpCode::Close => "close",
            OpCode::Ping => "ping",
            OpCode::Pong => "pong",
            OpCode::ReservedControl(_) => "reserved (control)",
        }
    }
}

/// Which end of the connection we are: the masking rules differ (§5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// We accepted the connection: frames we receive must be masked, frames we send are not.
    Server,
    /// We opened the connection: frames we send are masked, frames we receive must not be.
    Client,
}

/// A broken frame rule. Each variant is one rule; [`FrameError::close_code`]
/// is the status the connection is failed with.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// §5.2: RSV1–3 "MUST be 0 unless an extension is negotiated" (none is).
    #[error(
        "reserved bits set (RSV1-3 = {0:03b}) but no extension was negotiated (RFC 6455 §5.2)"
    )]
    ReservedBitsSet(u8),
    /// §5.2: opcodes 0x3–0x7 and 0xB–0xF are reserved.
    #[error("reserved opcode 0x{0:x}: only 0x0-0x2 and 0x8-0xA are defined (RFC 6455 §5.2)")]
    ReservedOpcode(u8),
    /// §5.5: "All control frames MUST have a payload length of 125 bytes or less".
    #[error(
        "control frame ({opcode}) of {len} bytes: control frames carry at most 125 (RFC 6455 §5.5)"
    )]
    ControlFrameTooLong {
        /// The control frame's opcode name.
        opcode: &'static str,
        /// Its announced length.
        len: u64,
    },
    /// §5.5: "Control frames ... MUST NOT be fragmented".
    #[error("fragmented control frame ({0} without FIN): control frames are never fragmented (RFC 6455 §5.5)")]
    FragmentedControlFrame(&'static str),
    /// §5.1: "a client MUST mask all frames that it sends to the server".
    #[error("unmasked frame from a client: clients must mask every frame (RFC 6455 §5.1)")]
    UnmaskedFrameFromClient,
    /// §5.1: "A server MUST NOT mask any frames that it sends to the client".
    #[error("masked frame from a server: servers never mask (RFC 6455 §5.1)")]
    MaskedFrameFromServer,
    /// §5.2: with a 64-bit length, "the most significant bit MUST be 0".
    #[error("64-bit payload length with its most significant bit set (RFC 6455 §5.2)")]
    LengthMsbSet,
    /// This side's limit on one frame's payload (status 1009, §7.4.1).
    #[error("frame of {len} bytes is over the limit of {max} bytes (raise it with --max-frame)")]
    FrameTooBig {
        /// The announced payload length.
        len: u64,
        /// The limit.
        max: usize,
    },
}

impl FrameError {
    /// The close status this error fails the connection with (§7.4.1).
    pub fn close_code(&self) -> CloseCode {
        match self {
            FrameError::FrameTooBig { .. } => CloseCode::MessageTooBig,
            _ => CloseCode::ProtocolError,
        }
    }
}

/// One frame header, decoded (the payload follows it on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Last frame of its message.
    pub fin: bool,
    /// Reserved bit 1 (extensions only).
    pub rsv1: bool,
    /// Reserved bit 2 (extensions only).
    pub rsv2: bool,
    /// Reserved bit 3 (extensions only).
    pub rsv3: bool,
    /// What the frame carries.
    pub opcode: OpCode,
    /// The masking key, present on every client-to-server frame.
    pub mask: Option<[u8; MASK_LEN]>,
    /// Payload length in bytes.
    pub payload_len: u64,
}

impl FrameHeader {
    /// A final, unmasked frame header with no reserved bits.
    pub fn new(opcode: OpCode, payload_len: u64) -> FrameHeader {
        FrameHeader {
            fin: true,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode,
            mask: None,
            payload_len,
        }
    }

    /// Bytes this header takes on the wire with the minimal length encoding.
    #[inline]
    pub fn encoded_len(&self) -> usize {
        let ext = match self.payload_len {
            0..=MAX_LEN7 => 0,
            126..=0xFFFF => 2,
            _ => 8,
        };
        MIN_HEADER_LEN + ext + if self.mask.is_some() { MASK_LEN } else { 0 }
    }

    /// Reads a header from the start of `src`.
    ///
    /// `Ok(None)`: not all of the header has arrived yet (a header is 2–14
    /// bytes; how many depends on its first two). `Ok(Some((header, len)))`:
    /// the header and how many bytes it took. Only the layout is checked here
    /// (the 64-bit length's top bit); the protocol rules are [`FrameHeader::check`].
    #[inline]
    pub fn parse(src: &[u8]) -> Result<Option<(FrameHeader, usize)>, FrameError> {
        let [b0, b1, rest @ ..] = src else {
            return Ok(None);
        };
        let masked = b1 & MASK != 0;
        let (payload_len, ext) = match b1 & LEN7_BITS {
            LEN7_16BIT => match rest {
                [a, b, ..] => (u64::from(u16::from_be_bytes([*a, *b])), 2),
                _ => return Ok(None),
            },
            LEN7_64BIT => match rest.get(..8) {
                Some(b) => {
                    let mut word = [0u8; 8];
                    word.copy_from_slice(b);
                    let len = u64::from_be_bytes(word);
                    if len >> 63 != 0 {
                        return Err(FrameError::LengthMsbSet);
                    }
                    (len, 8)
                }
                None => return Ok(None),
            },
            n => (u64::from(n), 0),
        };
        let mask = if masked {
            match rest.get(ext..ext + MASK_LEN) {
                Some(k) => Some([k[0], k[1], k[2], k[3]]),
                None => return Ok(None),
            }
        } else {
            None
        };
        let header = FrameHeader {
            fin: b0 & FIN != 0,
            rsv1: b0 & RSV1 != 0,
            rsv2: b0 & RSV2 != 0,
            rsv3: b0 & RSV3 != 0,
            opcode: OpCode::from_bits(*b0),
            mask,
            payload_len,
        };
        let len = MIN_HEADER_LEN + ext + if masked { MASK_LEN } else { 0 };
        Ok(Some((header, len)))
    }

    /// Applies the frame rules of §5.1–§5.5, one at a time, for a frame
    /// received by `role` with a payload limit of `max_frame` bytes.
    #[inline]
    pub fn check(&self, role: Role, max_frame: usize) -> Result<(), FrameError> {
        let rsv = (u8::from(self.rsv1) << 2) | (u8::from(self.rsv2) << 1) | u8::from(self.rsv3);
        if rsv != 0 {
            return Err(FrameError::ReservedBitsSet(rsv));
        }
        if let OpCode::ReservedData(n) | OpCode::ReservedControl(n) = self.opcode {
            return Err(FrameError::ReservedOpcode(n));
        }
        if self.opcode.is_control() {
            if self.payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(FrameError::ControlFrameTooLong {
                    opcode: self.opcode.name(),
                    len: self.payload_len,
                });
            }
            if !self.fin {
                return Err(FrameError::FragmentedControlFrame(self.opcode.name()));
            }
        }
        match (role, self.mask.is_some()) {
            (Role::Server, false) => return Err(FrameError::UnmaskedFrameFromClient),
            (Role::Client, true) => return Err(FrameError::MaskedFrameFromServer),
            _ => {}
        }
        if self.payload_len > max_frame as u64 {
            return Err(FrameError::FrameTooBig {
                len: self.payload_len,
                max: max_frame,
            });
        }
        Ok(())
    }

    /// Appends the header to `dst`, with the payload length in its shortest form.
    #[inline]
    pub fn emit<B: BufMut>(&self, dst: &mut B) {
        let mut b0 = self.opcode.bits();
        for (set, bit) in [
            (self.fin, FIN),
            (self.rsv1, RSV1),
            (self.rsv2, RSV2),
            (self.rsv3, RSV3),
        ] {
            if set {
                b0 |= bit;
            }
        }
        let mask_bit = if self.mask.is_some() { MASK } else { 0 };
        dst.put_u8(b0);
        match self.payload_len {
            n @ 0..=MAX_LEN7 => dst.put_u8(mask_bit | n as u8),
            n @ 126..=0xFFFF => {
                dst.put_u8(mask_bit | LEN7_16BIT);
                dst.put_u16(n as u16);
            }
            n => {
                dst.put_u8(mask_bit | LEN7_64BIT);
                dst.put_u64(n);
            }
        }
        if let Some(key) = self.mask {
            dst.put_slice(&key);
        }
    }
}

/// Reads a frame header from the start of `src` (see [`FrameHeader::parse`]).
pub fn decode_header(src: &[u8]) -> Result<Option<(FrameHeader, usize)>, FrameError> {
    FrameHeader::parse(src)
}

/// Appends `header` to `dst` with the minimal length encoding (see [`FrameHeader::emit`]).
pub fn encode_header(header: &FrameHeader, dst: &mut Vec<u8>) {
    header.emit(dst)
}

impl fmt::Display for FrameHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "FIN={} RSV={}{}{} opcode=0x{:x} ({}) MASK={}",
            u8::from(self.fin),
            u8::from(self.rsv1),
            u8::from(self.rsv2),
            u8::from(self.rsv3),
            self.opcode.bits(),
            self.opcode.name(),
            u8::from(self.mask.is_some()),
        )?;
        if let Some(k) = self.mask {
            write!(f, " key={:02x}{:02x}{:02x}{:02x}", k[0], k[1], k[2], k[3])?;
        }
        write!(f, " len={}", self.payload_len)
    }
}

/// Draws the first two header bytes bit by bit, the way lesson 09 does:
///
/// ```text
/// F R R R opcode  M len7
/// 1 0 0 0 0 0 0 1 1 0 0 0 0 1 0 1   FIN, text, masked, 5 bytes
/// ```
pub fn draw_bits(header: &FrameHeader) -> String {
    let mut bytes = Vec::with_capacity(MAX_HEADER_LEN);
    header.emit(&mut bytes);
    let bits = |b: u8| -> String {
        (0..8)
            .rev()
            .map(|i| if b >> i & 1 == 1 { "1" } else { "0" })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let len7 = bytes[1] & LEN7_BITS;
    let len_note = match len7 {
        LEN7_16BIT => format!("126 → 16-bit length {} follows", header.payload_len),
        LEN7_64BIT => format!("127 → 64-bit length {} follows", header.payload_len),
        n => format!("length {n}"),
    };
    format!(
        "F R R R opcode  M len7\n{} {}   {}, {}, {}, {}",
        bits(bytes[0]),
        bits(bytes[1]),
        if header.fin {
            "FIN"
        } else {
            "more fragments follow"
        },
        header.opcode.name(),
        if header.mask.is_some() {
            "masked"
        } else {
            "unmasked"
        },
        len_note
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn emitted(h: &FrameHeader) -> Vec<u8> {
        let mut v = Vec::new();
        h.emit(&mut v);
        v
    }

    #[test]
    fn rfc_5_7_unmasked_hello() {
        // §5.7: "A single-frame unmasked text message": 0x81 0x05 "Hello"
        let (h, n) = FrameHeader::parse(&[0x81, 0x05, b'H']).unwrap().unwrap();
        assert_eq!(n, 2);
        assert_eq!(h, FrameHeader::new(OpCode::Text, 5));
        assert_eq!(emitted(&h), vec![0x81, 0x05]);
    }

    #[test]
    fn rfc_5_7_masked_hello_and_fragments() {
        let (h, n) = FrameHeader::parse(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d])
            .unwrap()
            .unwrap();
        assert_eq!(
            (h.mask, h.payload_len, n),
            (Some([0x37, 0xfa, 0x21, 0x3d]), 5, 6)
        );
        // "A fragmented unmasked text message": 0x01 0x03 "Hel", 0x80 0x02 "lo"
        let (first, _) = FrameHeader::parse(&[0x01, 0x03]).unwrap().unwrap();
        assert_eq!((first.fin, first.opcode), (false, OpCode::Text));
        let (last, _) = FrameHeader::parse(&[0x80, 0x02]).unwrap().unwrap();
        assert_eq!((last.fin, last.opcode), (true, OpCode::Continuation));
    }

    #[test]
    fn rfc_5_7_long_lengths() {
        // "256 bytes binary message in a single unmasked frame": 0x82 0x7E 0x0100
        let h = FrameHeader::new(OpCode::Binary, 256);
        assert_eq!(emitted(&h), vec![0x82, 0x7e, 0x01, 0x00]);
        // "64KiB binary message": 0x82 0x7F 0x0000000000010000
        let h = FrameHeader::new(OpCode::Binary, 65536);
        assert_eq!(emitted(&h), vec![0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(FrameHeader::parse(&emitted(&h)).unwrap(), Some((h, 10)));
    }

    #[test]
    fn lengths_use_the_shortest_form_at_every_boundary() {
        for (len, wire_len) in [
            (0, 2),
            (125, 2),
            (126, 4),
            (65535, 4),
            (65536, 10),
            (1 << 40, 10),
        ] {
            let h = FrameHeader::new(OpCode::Binary, len);
            let bytes = emitted(&h);
            assert_eq!(bytes.len(), wire_len, "length {len}");
            assert_eq!(h.encoded_len(), wire_len);
            assert_eq!(FrameHeader::parse(&bytes).unwrap(), Some((h, wire_len)));
        }
    }

    #[test]
    fn every_cut_of_a_header_waits() {
        let h = FrameHeader {
            mask: Some([1, 2, 3, 4]),
            ..FrameHeader::new(OpCode::Binary, 70000)
        };
        let bytes = emitted(&h);
        assert_eq!(bytes.len(), MAX_HEADER_LEN);
        for cut in 0..bytes.len() {
            assert_eq!(
                FrameHeader::parse(&bytes[..cut]).unwrap(),
                None,
                "cut {cut}"
            );
        }
    }

    #[test]
    fn the_64_bit_length_must_not_have_its_top_bit_set() {
        let bytes = [0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(FrameHeader::parse(&bytes), Err(FrameError::LengthMsbSet));
    }

    #[test]
    fn each_rule_is_checked() {
        let masked = |h: FrameHeader| FrameHeader {
            mask: Some([0; 4]),
            ..h
        };
        let ok = masked(FrameHeader::new(OpCode::Text, 10));
        assert_eq!(ok.check(Role::Server, 100), Ok(()));
        assert_eq!(
            FrameHeader { rsv1: true, ..ok }.check(Role::Server, 100),
            Err(FrameError::ReservedBitsSet(0b100))
        );
        assert_eq!(
            masked(FrameHeader::new(OpCode::from_bits(0x3), 0)).check(Role::Server, 100),
            Err(FrameError::ReservedOpcode(3))
        );
        assert_eq!(
            masked(FrameHeader::new(OpCode::from_bits(0xB), 0)).check(Role::Server, 100),
            Err(FrameError::ReservedOpcode(0xB))
        );
        assert!(matches!(
            masked(FrameHeader::new(OpCode::Ping, 126)).check(Role::Server, 1000),
            Err(FrameError::ControlFrameTooLong { len: 126, .. })
        ));
        assert_eq!(
            masked(FrameHeader::new(OpCode::Ping, 125)).check(Role::Server, 1000),
            Ok(())
        );
        assert_eq!(
            FrameHeader {
                fin: false,
                ..masked(FrameHeader::new(OpCode::Pong, 0))
            }
            .check(Role::Server, 100),
            Err(FrameError::FragmentedControlFrame("pong"))
        );
        assert_eq!(
            FrameHeader::new(OpCode::Text, 1).check(Role::Server, 100),
            Err(FrameError::UnmaskedFrameFromClient)
        );
        assert_eq!(
            ok.check(Role::Client, 100),
            Err(FrameError::MaskedFrameFromServer)
        );
        assert_eq!(
            masked(FrameHeader::new(OpCode::Binary, 100)).check(Role::Server, 100),
            Ok(())
        );
        assert_eq!(
            masked(FrameHeader::new(OpCode::Binary, 101)).check(Role::Server, 100),
            Err(FrameError::FrameTooBig { len: 101, max: 100 })
        );
    }

    #[test]
    fn opcodes_round_trip_through_the_table() {
        for bits in 0..16u8 {
            assert_eq!(OpCode::from_bits(bits).bits(), bits);
            assert_eq!(OpCode::from_bits(bits).is_control(), bits >= 8);
        }
    }

    #[test]
    fn emit_fills_every_field() {
        let h = FrameHeader {
            fin: false,
            rsv1: true,
            rsv2: false,
            rsv3: true,
            opcode: OpCode::Binary,
            mask: Some([0xa, 0xb, 0xc, 0xd]),
            payload_len: 3,
        };
        assert_eq!(emitted(&h), vec![0b0101_0010, 0x83, 0xa, 0xb, 0xc, 0xd]);
        assert_eq!(FrameHeader::parse(&emitted(&h)).unwrap(), Some((h, 6)));
    }
}
