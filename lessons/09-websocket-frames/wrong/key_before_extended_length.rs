//! Mistake: the masking key is always read from bytes 2..6, as in a short frame, though with a 16- or 64-bit length it comes after the extended length.
//! Caught by: the key comes after the 8 length bytes

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
            Some(b) => {
                let len = u64::from_be_bytes(b.try_into().unwrap());
                if len >> 63 != 0 {
                    return Err(FrameError::LengthMsbSet);
                }
                (len, 8)
            }
            None => return Ok(None),
        },
        n => (n as u64, 0),
    };
    let mask = if b1 & 0x80 != 0 {
        // should be rest.get(ext..ext + 4)
        match rest.get(0..4) {
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
    let len = 2 + ext + if mask.is_some() { 4 } else { 0 };
    if src.len() < len {
        return Ok(None);
    }
    Ok(Some((header, len)))
}
