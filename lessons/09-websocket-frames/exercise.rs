// Lesson 09 — exercise: the WebSocket frame header and masking.
//
// Replace each `todo!()`, then run `netlab check 09`.
// `netlab lesson 09` draws the header these functions read and write.

use netlab::ws::frame::{FrameError, FrameHeader, OpCode};

/// Reads a frame header from the front of `src`.
///
/// - the header is complete: `Ok(Some((header, bytes_it_took)))` (2 to 14 bytes);
/// - not all of it has arrived yet: `Ok(None)`;
/// - a 64-bit length with its most significant bit set: `Err(FrameError::LengthMsbSet)`.
///
/// Byte 0: FIN (0x80), RSV1 (0x40), RSV2 (0x20), RSV3 (0x10), opcode (low 4 bits,
/// see `OpCode::from_bits`). Byte 1: MASK (0x80), 7-bit length (126: a 16-bit
/// big-endian length follows; 127: a 64-bit one). Then the 4-byte key if MASK is set.
pub fn decode_header(src: &[u8]) -> Result<Option<(FrameHeader, usize)>, FrameError> {
    // TODO: read byte 1 first to learn how long the header is, then check `src.len()`.
    todo!()
}

/// Appends `header` to `dst`, using the shortest length form
/// (0–125 in 7 bits, up to 65535 in 16 bits, else 64 bits).
pub fn encode_header(header: &FrameHeader, dst: &mut Vec<u8>) {
    // TODO: build byte 0 from the flags and `header.opcode.bits()`, then byte 1
    // and the extended length (`to_be_bytes`), then the key if there is one.
    todo!()
}

/// XORs `buf` with the masking key: byte `i` with `key[i % 4]`.
/// (Masking and unmasking are the same operation.)
pub fn apply_mask(buf: &mut [u8], key: [u8; 4]) {
    // TODO: one loop does it; for speed, try eight bytes at a time with u64.
    todo!()
}
