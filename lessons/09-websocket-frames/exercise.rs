// Lesson 09 — exercise: the WebSocket frame header and masking.
//
// Replace each `todo!()`, then run `netlab check 09`.
// `netlab lesson 09` draws the header these functions read and write.

use netlab::ws::frame::{FrameError, FrameHeader, OpCode};

/// Reads a frame header (RFC 6455 §5.2) from the front of `src`.
///
/// - the header is complete: `Ok(Some((header, bytes_it_took)))` (2 to 14 bytes);
/// - not all of it has arrived yet: `Ok(None)`;
/// - a 64-bit length with its most significant bit set: `Err(FrameError::LengthMsbSet)`.
///
/// Fields are read as they are: reserved bits and opcodes (`OpCode::from_bits`)
/// are decoded, not refused; that is checked elsewhere.
pub fn decode_header(src: &[u8]) -> Result<Option<(FrameHeader, usize)>, FrameError> {
    todo!()
}

/// Appends `header` to `dst` (RFC 6455 §5.2), after what `dst` holds, with
/// MASK set exactly when `header.mask` is a key, and the length in its
/// shortest form, as §5.2 requires: 0–125 in the 7 bits, up to 65,535 in
/// 16 bits, above that in 64 bits.
pub fn encode_header(header: &FrameHeader, dst: &mut Vec<u8>) {
    todo!()
}

/// Masks `buf` with `key` as RFC 6455 §5.3 defines it, the key's first byte
/// going with `buf[0]`. Masking and unmasking are the same operation:
/// applying it twice gives `buf` back.
pub fn apply_mask(buf: &mut [u8], key: [u8; 4]) {
    todo!()
}
