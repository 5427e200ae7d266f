//! Mistake: a 64-bit length is taken as it comes, though RFC 6455 §5.2 says its most significant bit MUST be 0.
//! Caught by: MUST be 0

pub use netlab::ws::frame::encode_header;
use netlab::ws::frame::{FrameError, FrameHeader, OpCode};
pub use netlab::ws::mask::apply_mask;

pub fn decode_header(src: &[u8]) -> Result<Option<(FrameHeader, usize)>, FrameError> {
    let [b0, b1, rest @ ..] = src else {
        return Ok(None);
    };
    let (payload_len, ext) = match b1 & 0x7f {
        126 => match rest {
            [a, b, ..] => (u16::from_be_bytes([*a, *b]) as u64, 2),
            _ => return Ok(None),
        },
        127 => match rest.get(..8) {
            Some(b) => (u64::from_be_bytes(b.try_into().unwrap()), 8), // no check of the top bit
            None => return Ok(None),
        },
        n => (n as u64, 0),
    };
    let mask = if b1 & 0x80 != 0 {
        match rest.get(ext..ext + 4) {
            Some(k) => Some([k[0], k[1], k[2], k[3]]),
            None => return Ok(None),
        }
    } else {
        None
    };
    let header = FrameHeader {
        fin: b0 & 0x80 != 0,
        rsv1: b0 & 0x40 != 0,
        rsv2: b0 & 0x20 != 0,
        rsv3: b0 & 0x10 != 0,
        opcode: OpCode::from_bits(*b0),
        mask,
        payload_len,
    };
    Ok(Some((header, 2 + ext + if mask.is_some() { 4 } else { 0 })))
}
