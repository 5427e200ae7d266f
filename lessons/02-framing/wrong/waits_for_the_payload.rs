//! Mistake: decode_frame waits for the whole frame before looking at its length, so a header announcing too much is only refused once the payload has arrived (never, for 4 GiB).
//! Caught by: must be refused from its 4 bytes

use bytes::{Buf, BytesMut};
pub use netlab::framing::encode_frame;
use netlab::framing::FrameError;

pub fn decode_frame(src: &mut BytesMut, max: usize) -> Result<Option<BytesMut>, FrameError> {
    if src.len() < 4 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([src[0], src[1], src[2], src[3]]) as usize;
    if src.len() < 4 + len {
        return Ok(None); // waiting first...
    }
    if len > max {
        // ...and checking only then
        return Err(FrameError::TooLong {
            announced: len as u64,
            max,
        });
    }
    src.advance(4);
    Ok(Some(src.split_to(len)))
}
