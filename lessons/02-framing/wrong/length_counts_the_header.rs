//! Mistake: the length prefix announces the whole frame (4 header bytes + payload) instead of the payload alone.
//! Caught by: "hello" is framed as its length, 5

use bytes::{BufMut, BytesMut};
pub use netlab::framing::decode_frame;
use netlab::framing::FrameError;

pub fn encode_frame(payload: &[u8], dst: &mut BytesMut, max: usize) -> Result<(), FrameError> {
    if payload.len() > max {
        return Err(FrameError::TooLong {
            announced: payload.len() as u64,
            max,
        });
    }
    dst.put_u32(4 + payload.len() as u32); // the header counted in
    dst.put_slice(payload);
    Ok(())
}
