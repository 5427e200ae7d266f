// Lesson 02 — exercise: encode and decode length-prefixed frames.
//
// A frame is a 4-byte big-endian length, then that many payload bytes.
// Replace each `todo!()`, then run `netlab check 02`.
// `netlab lesson 02` explains every rule the grader checks.

use bytes::{Buf, BufMut, BytesMut};
use netlab::framing::FrameError;

/// Appends one frame (length, then payload) to `dst`.
///
/// If the payload is longer than `max`, return `FrameError::TooLong` and write nothing.
pub fn encode_frame(payload: &[u8], dst: &mut BytesMut, max: usize) -> Result<(), FrameError> {
    // TODO: check the length, then `dst.put_u32(...)` and `dst.put_slice(...)`.
    todo!()
}

/// Takes one complete frame's payload off the front of `src`.
///
/// - a whole frame is there: remove it from `src`, return `Ok(Some(payload))`;
/// - not enough bytes yet: return `Ok(None)` and leave `src` as it was;
/// - the length is above `max`: return `FrameError::TooLong` at once, before
///   waiting for (or allocating room for) the payload.
pub fn decode_frame(src: &mut BytesMut, max: usize) -> Result<Option<BytesMut>, FrameError> {
    // TODO: peek at the first 4 bytes, check, then `src.advance(4)` and `src.split_to(len)`.
    todo!()
}
