//! Lesson 09 — masking (RFC 6455 §5.3).
//!
//! Every frame a client sends is *masked*: the payload is XORed with a 4-byte
//! key chosen at random for that frame, and the key travels in the header. The
//! point is not secrecy (the key is right there) but safety for the network in
//! between: a hostile script cannot choose the bytes a proxy sees on the wire,
//! so it cannot smuggle something that looks like an HTTP request into a
//! confused cache (see §10.3). Byte `i` of the payload is XORed with key byte
//! `i % 4`; XOR twice with the same key gives the original back, so masking and
//! unmasking are the same function.
//!
//! Unmasking touches every byte the server receives, so it is a hot path.
//! [`apply_mask`] XORs eight bytes at a time with a `u64` made of the key
//! repeated twice; [`apply_mask_bytewise`] is the obvious byte-at-a-time
//! routine, kept as the reference the fast one is tested against at every
//! length and every starting offset.

/// Length of a masking key in bytes (§5.2 "Masking-key: 0 or 4 bytes").
pub const MASK_LEN: usize = 4;

/// XORs `buf` with `key`, one byte at a time: the RFC's definition, word for word
/// (§5.3: `transformed-octet-i = original-octet-i XOR masking-key-octet-(i MOD 4)`).
#[inline]
pub fn apply_mask_bytewise(buf: &mut [u8], key: [u8; MASK_LEN]) {
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte ^= key[i % MASK_LEN];
    }
}

/// XORs `buf` with `key`, eight bytes at a time (the same result as
/// [`apply_mask_bytewise`], several times faster on large payloads).
///
/// In safe Rust: `chunks_exact_mut(8)` yields whole words the compiler loads
/// and stores unaligned and vectorises; the last 0–7 bytes go one by one. The
/// key pattern repeats every 4 bytes, so a word of two keys lines up with every
/// 8-byte chunk.
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; MASK_LEN]) {
    let word = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ word).to_ne_bytes());
    }
    // Every full chunk was a multiple of 4 bytes, so the tail starts at key[0].
    apply_mask_bytewise(chunks.into_remainder(), key);
}

/// The key as seen from `offset` bytes into the payload: unmasking a payload
/// in pieces (as its bytes arrive) continues the pattern where the last piece
/// stopped.
#[inline]
pub fn key_at(key: [u8; MASK_LEN], offset: usize) -> [u8; MASK_LEN] {
    let o = offset % MASK_LEN;
    [
        key[o],
        key[(o + 1) % MASK_LEN],
        key[(o + 2) % MASK_LEN],
        key[(o + 3) % MASK_LEN],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_example_masked_hello() {
        // §5.7: "A single-frame masked text message" — 0x81 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let mut payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        apply_mask(&mut payload, key);
        assert_eq!(&payload, b"Hello");
    }

    #[test]
    fn fast_equals_reference_at_every_length_and_alignment() {
        let key = [0xde, 0xad, 0xbe, 0xef];
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for start in 0..16 {
            for len in 0..(data.len() - start) {
                let mut fast = data.clone();
                let mut slow = data.clone();
                apply_mask(&mut fast[start..start + len], key);
                apply_mask_bytewise(&mut slow[start..start + len], key);
                assert_eq!(fast, slow, "start {start} len {len}");
            }
        }
    }

    #[test]
    fn masking_twice_gives_the_original() {
        let original: Vec<u8> = (0..=255).collect();
        let mut buf = original.clone();
        apply_mask(&mut buf, [1, 2, 3, 4]);
        assert_ne!(buf, original);
        apply_mask(&mut buf, [1, 2, 3, 4]);
        assert_eq!(buf, original);
    }

    #[test]
    fn masking_in_pieces_equals_masking_at_once() {
        let key = [9, 8, 7, 6];
        let data: Vec<u8> = (0..100).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, key);
        for cut in 0..data.len() {
            let mut pieces = data.clone();
            let (a, b) = pieces.split_at_mut(cut);
            apply_mask(a, key_at(key, 0));
            apply_mask(b, key_at(key, cut));
            assert_eq!(pieces, whole, "cut at {cut}");
        }
    }
}
