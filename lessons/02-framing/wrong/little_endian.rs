//! Mistake: the length prefix is written and read little-endian (least significant byte first) instead of big-endian, network byte order.
//! Caught by: in 4 big-endian bytes (00 00 00 05)

use bytes::{Buf, BufMut, BytesMut};
use netlab::framing::FrameError;

pub fn encode_frame(payload: &[u8], dst: &mut BytesMut, max: usize) -> Result<(), FrameError> {
    if payload.len() > max {
        return Err(FrameError::TooLong {
            announced: payload.len() as u64,
            max,
        });
    }
    dst.put_u32_le(payload.len() as u32); // should be put_u32
    dst.put_slice(payload);
    Ok(())
}

pub fn decode_frame(src: &mut BytesMut, max: usize) -> Result<Option<BytesMut>, FrameError> {
    if src.len() < 4 {
        return Ok(None);
    }
    let len = u32::from_le_bytes([src[0], src[1], src[2], src[3]]) as usize; // should be from_be_bytes
    if len > max {
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
