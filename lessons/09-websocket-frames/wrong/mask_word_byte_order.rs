//! Mistake: the eight-bytes-at-a-time loop builds the key word big-endian but reads the payload little-endian, so inside each word the key is applied backwards.
//! Caught by: byte i of the payload you are given is XORed with key[i % 4]

pub use netlab::ws::frame::{decode_header, encode_header};

pub fn apply_mask(buf: &mut [u8], key: [u8; 4]) {
    let [a, b, c, d] = key;
    let word = u64::from_be_bytes([a, b, c, d, a, b, c, d]);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let bytes: [u8; 8] = (&*chunk).try_into().unwrap();
        let masked = u64::from_le_bytes(bytes) ^ word; // from_be_bytes here, or both _ne_
        chunk.copy_from_slice(&masked.to_le_bytes());
    }
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
}
