//! Mistake: decode_frame refuses a frame of exactly `max` bytes (`>=` instead of `>`), though the limit itself is allowed.
//! Caught by: a frame of exactly the limit (64 of 64 bytes) is allowed

use bytes::{Buf, BytesMut};
pub use netlab::framing::encode_frame;
use netlab::framing::FrameError;

pub fn decode_frame(src: &mut BytesMut, max: usize) -> Result<Option<BytesMut>, FrameError> {
    if src.len() < 4 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([src[0], src[1], src[2], src[3]]) as usize;
    // should be `len > max`
    if len >= max {
        return Err(FrameError::TooLong {
            announced: len as u64,
            max,
        });
    }
    if src.len() < 4 + len {
        return Ok(None);
    }
    src.advance(4);
    Ok(Some(src.split_to(len)))
}
