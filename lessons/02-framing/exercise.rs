// Lesson 02 — exercise: encode and decode length-prefixed frames.
//
// A frame is a 4-byte big-endian length, then that many payload bytes.
// Replace each `todo!()`, then run `netlab check 02`.
// `netlab lesson 02` explains every rule the grader checks.

use bytes::{Buf, BufMut, BytesMut};
use netlab::framing::FrameError;

/// Appends one frame (its length, then `payload`) to `dst`, after what `dst`
/// already holds. An empty payload is a frame too.
///
/// A payload longer than `max` (exactly `max` is fine): `FrameError::TooLong`,
/// and nothing is written.
pub fn encode_frame(payload: &[u8], dst: &mut BytesMut, max: usize) -> Result<(), FrameError> {
    todo!()
}

/// Takes the first frame's payload off the front of `src`.
///
/// - a whole frame is there: it is removed from `src` (what follows it stays),
///   and its payload returned as `Ok(Some(payload))`;
/// - not enough bytes yet, header or payload: `Ok(None)`, `src` left as it was;
/// - the header announces more than `max`: `FrameError::TooLong { announced, max }`
///   as soon as the header is there, before waiting for (or allocating room
///   for) the payload.
pub fn decode_frame(src: &mut BytesMut, max: usize) -> Result<Option<BytesMut>, FrameError> {
    todo!()
}
