//! Lesson 02 — framing with a length prefix.
//!
//! TCP delivers a stream of bytes, not messages (lesson 01). To send messages
//! over it, both sides agree on a *framing*: here every message is preceded by
//! its length as a 4-byte big-endian unsigned integer.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                  Length (32 bits, big-endian)                 |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Payload (Length bytes) ...                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The rules a decoder must get right, each one tested:
//! - an empty frame (length 0) is valid;
//! - fewer bytes than a whole frame is *not an error*: wait for more
//!   ([`decode_frame`] returns `Ok(None)` and leaves the buffer alone);
//! - a length above the configured maximum is an error at once, before a
//!   single byte of the announced size is allocated (a hostile peer can
//!   announce 4 GiB with four bytes);
//! - end of stream in the middle of a frame means the peer hung up mid-message:
//!   a clear error ([`FrameError::Truncated`]), never a silently lost message.
//!
//! The byte logic lives in two functions over buffers ([`encode_frame`],
//! [`decode_frame`]) so lessons, fuzzers and benchmarks can call them without a
//! socket; [`FrameCodec`] plugs them into tokio-util's `Framed`.

use bytes::{Buf, BufMut, BytesMut};
use thiserror::Error;
use tokio_util::codec::{Decoder, Encoder};

/// Size of the length prefix in bytes (a `u32`, big-endian: "network byte order").
pub const HEADER_LEN: usize = 4;

/// Default largest payload a peer may announce: 8 MiB. Big enough for any chat
/// message or file chunk in the lessons, small enough that a few hundred
/// connections each buffering one maximal frame cannot exhaust memory.
pub const DEFAULT_MAX_FRAME: usize = 8 * 1024 * 1024;

/// Most buffer space [`decode_frame`] makes ahead for a frame still
/// arriving: 64 KiB. Never the announced size: a hostile peer can announce
/// 4 GiB with four bytes, so memory follows the bytes that actually arrive.
pub const RESERVE_AHEAD: usize = 64 * 1024;

/// Everything that can go wrong while reading or writing frames.
#[derive(Debug, Error)]
pub enum FrameError {
    /// The header announced a payload larger than this side accepts.
    #[error("frame too long: the header announces {announced} bytes but the limit is {max} bytes (raise it with --max-frame)")]
    TooLong {
        /// Length the 4-byte header announced.
        announced: u64,
        /// Largest length this side accepts.
        max: usize,
    },
    /// The stream ended in the middle of a frame.
    #[error("the peer closed the connection in the middle of a frame: {have} of {need} bytes had arrived")]
    Truncated {
        /// Bytes of the frame (header included) that arrived.
        have: usize,
        /// Bytes the frame needed (header included); 4 while the header itself is incomplete.
        need: usize,
    },
    /// The socket failed underneath the codec.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// Appends one frame (header + payload) to `dst`.
///
/// Fails only if the payload is longer than `max` (the receiver would refuse it)
/// or than a `u32` can announce.
pub fn encode_frame(payload: &[u8], dst: &mut BytesMut, max: usize) -> Result<(), FrameError> {
    if payload.len() > max || payload.len() > u32::MAX as usize {
        return Err(FrameError::TooLong {
            announced: payload.len() as u64,
            max: max.min(u32::MAX as usize),
        });
    }
    dst.reserve(HEADER_LEN + payload.len());
    dst.put_u32(payload.len() as u32);
    dst.put_slice(payload);
    Ok(())
}

/// Takes one complete frame's payload off the front of `src`.
///
/// - `Ok(Some(payload))`: a whole frame was there; its bytes were removed from `src`.
/// - `Ok(None)`: not enough bytes yet; `src` is untouched (but may have grown
///   its capacity by up to [`RESERVE_AHEAD`], so the next read takes more of
///   the frame).
/// - `Err(TooLong)`: the header announces more than `max`; nothing was allocated.
pub fn decode_frame(src: &mut BytesMut, max: usize) -> Result<Option<BytesMut>, FrameError> {
    if src.len() < HEADER_LEN {
        return Ok(None);
    }
    let announced = u32::from_be_bytes([src[0], src[1], src[2], src[3]]) as usize;
    if announced > max {
        return Err(FrameError::TooLong {
            announced: announced as u64,
            max,
        });
    }
    let need = HEADER_LEN + announced;
    if src.len() < need {
        // Make room for more of this frame, but at most RESERVE_AHEAD: the
        // buffer grows as the payload actually arrives, so four bytes
        // announcing 8 MiB cost nothing until 8 MiB are sent.
        src.reserve((need - src.len()).min(RESERVE_AHEAD));
        return Ok(None);
    }
    src.advance(HEADER_LEN);
    Ok(Some(src.split_to(announced)))
}

/// The length-prefixed codec for tokio-util's `Framed`, `FramedRead` and `FramedWrite`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameCodec {
    max_frame: usize,
}

impl FrameCodec {
    /// A codec that accepts frames up to [`DEFAULT_MAX_FRAME`] bytes.
    pub fn new() -> Self {
        Self::with_max_frame(DEFAULT_MAX_FRAME)
    }

    /// A codec that accepts frames up to `max_frame` bytes (capped at `u32::MAX`).
    pub fn with_max_frame(max_frame: usize) -> Self {
        Self {
            max_frame: max_frame.min(u32::MAX as usize),
        }
    }

    /// The largest payload this codec accepts or sends.
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }
}

impl Default for FrameCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder for FrameCodec {
    type Item = BytesMut;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        decode_frame(src, self.max_frame)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => Err(truncated(src)),
        }
    }
}

/// Bytes the frame at the front of `src` occupies once whole (header and
/// payload): what a server must be ready to hold for it. 0 for an empty
/// buffer; [`HEADER_LEN`] while the header itself is incomplete.
pub fn pending_len(src: &[u8]) -> usize {
    match src {
        [] => 0,
        [a, b, c, d, ..] => {
            HEADER_LEN.saturating_add(u32::from_be_bytes([*a, *b, *c, *d]) as usize)
        }
        _ => HEADER_LEN,
    }
}

/// The error for a buffer that holds the start of a frame but not all of it.
pub fn truncated(src: &[u8]) -> FrameError {
    let need = if src.len() < HEADER_LEN {
        HEADER_LEN
    } else {
        HEADER_LEN + u32::from_be_bytes([src[0], src[1], src[2], src[3]]) as usize
    };
    FrameError::Truncated {
        have: src.len(),
        need,
    }
}

impl<T: AsRef<[u8]>> Encoder<T> for FrameCodec {
    type Error = FrameError;

    fn encode(&mut self, item: T, dst: &mut BytesMut) -> Result<(), FrameError> {
        encode_frame(item.as_ref(), dst, self.max_frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut v = (payload.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn encodes_big_endian_length_then_payload() {
        let mut dst = BytesMut::new();
        encode_frame(b"hi", &mut dst, 10).unwrap();
        assert_eq!(&dst[..], &[0, 0, 0, 2, b'h', b'i']);
    }

    #[test]
    fn empty_frame_is_valid_both_ways() {
        let mut dst = BytesMut::new();
        encode_frame(b"", &mut dst, 10).unwrap();
        assert_eq!(&dst[..], &[0, 0, 0, 0]);
        let got = decode_frame(&mut dst, 10).unwrap().unwrap();
        assert!(got.is_empty());
        assert!(dst.is_empty());
    }

    #[test]
    fn one_byte_payload_and_one_byte_at_a_time() {
        let bytes = frame(b"z");
        assert_eq!(bytes, vec![0, 0, 0, 1, b'z']);
        let mut src = BytesMut::new();
        for (i, b) in bytes.iter().enumerate() {
            assert!(
                decode_frame(&mut src, 1).unwrap().is_none(),
                "after {i} bytes"
            );
            src.extend_from_slice(&[*b]);
        }
        assert_eq!(&decode_frame(&mut src, 1).unwrap().unwrap()[..], b"z");
    }

    #[test]
    fn every_split_of_the_payload_waits() {
        let bytes = frame(b"payload");
        for cut in HEADER_LEN..bytes.len() {
            let mut src = BytesMut::from(&bytes[..cut]);
            assert!(
                decode_frame(&mut src, 100).unwrap().is_none(),
                "cut at {cut}"
            );
            assert_eq!(&src[..], &bytes[..cut]);
        }
    }

    #[test]
    fn every_split_of_the_header_waits() {
        let bytes = frame(b"abc");
        for cut in 0..bytes.len() {
            let mut src = BytesMut::from(&bytes[..cut]);
            assert!(
                decode_frame(&mut src, 100).unwrap().is_none(),
                "cut at {cut}"
            );
            assert_eq!(&src[..], &bytes[..cut], "buffer must be left alone");
        }
    }

    #[test]
    fn many_frames_in_one_buffer_come_out_in_order() {
        let mut src = BytesMut::new();
        for p in [&b"one"[..], b"", b"three"] {
            src.extend_from_slice(&frame(p));
        }
        src.extend_from_slice(&[0, 0]); // the start of a fourth header
        let mut got = Vec::new();
        while let Some(f) = decode_frame(&mut src, 100).unwrap() {
            got.push(f.to_vec());
        }
        assert_eq!(got, vec![b"one".to_vec(), vec![], b"three".to_vec()]);
        assert_eq!(&src[..], &[0, 0]);
    }

    #[test]
    fn max_is_accepted_and_max_plus_one_is_refused() {
        let mut src = BytesMut::from(&frame(&[7; 16])[..]);
        assert_eq!(decode_frame(&mut src, 16).unwrap().unwrap().len(), 16);

        let mut src = BytesMut::from(&frame(&[7; 17])[..]);
        let err = decode_frame(&mut src, 16).unwrap_err();
        assert!(matches!(
            err,
            FrameError::TooLong {
                announced: 17,
                max: 16
            }
        ));

        let mut dst = BytesMut::new();
        assert!(encode_frame(&[0; 17], &mut dst, 16).is_err());
        assert!(dst.is_empty(), "a refused frame writes nothing");
    }

    #[test]
    fn a_4_gib_header_allocates_nothing() {
        let mut src = BytesMut::from(&[0xff, 0xff, 0xff, 0xff][..]);
        let before = src.capacity();
        let err = decode_frame(&mut src, DEFAULT_MAX_FRAME).unwrap_err();
        assert!(matches!(
            err,
            FrameError::TooLong {
                announced: 0xffff_ffff,
                ..
            }
        ));
        assert_eq!(src.capacity(), before);
    }

    #[test]
    fn a_legal_but_huge_header_reserves_only_a_little_ahead() {
        // 8 MiB announced, within the limit: the buffer must not grow to 8 MiB
        // before the payload arrives.
        let mut src = BytesMut::from(&(DEFAULT_MAX_FRAME as u32).to_be_bytes()[..]);
        assert!(decode_frame(&mut src, DEFAULT_MAX_FRAME).unwrap().is_none());
        assert!(
            src.capacity() <= 2 * RESERVE_AHEAD,
            "reserved {} bytes for a bare header",
            src.capacity()
        );
    }

    #[test]
    fn pending_len_is_the_whole_frame_to_be() {
        assert_eq!(pending_len(&[]), 0);
        assert_eq!(pending_len(&[0, 0]), HEADER_LEN);
        assert_eq!(pending_len(&frame(b"abc")[..5]), HEADER_LEN + 3);
        assert_eq!(pending_len(&[0xff; 4]), HEADER_LEN + 0xffff_ffff);
    }

    #[test]
    fn eof_mid_frame_is_a_clear_error() {
        let mut codec = FrameCodec::with_max_frame(100);
        let mut src = BytesMut::from(&frame(b"hello")[..7]);
        match codec.decode_eof(&mut src) {
            Err(FrameError::Truncated { have: 7, need: 9 }) => {}
            other => panic!("expected Truncated, got {other:?}"),
        }
        let mut half_header = BytesMut::from(&[0u8, 0][..]);
        assert!(matches!(
            codec.decode_eof(&mut half_header),
            Err(FrameError::Truncated { have: 2, need: 4 })
        ));
        let mut empty = BytesMut::new();
        assert!(codec.decode_eof(&mut empty).unwrap().is_none());
    }
}
