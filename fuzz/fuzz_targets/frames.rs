//! Fuzz lesson 02's length-prefixed decoder: any bytes, cut into chunks of any
//! size, with any maximum, must give frames, "wait", or `TooLong` — never a
//! panic, never a frame over the maximum, never a byte invented or lost, and
//! the same frames however the bytes were cut.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use netlab::framing::{decode_frame, FrameError};

fn run(data: &[u8], chunk: usize, max: usize) -> (Vec<Vec<u8>>, bool, usize) {
    let mut inbox = BytesMut::new();
    let mut frames = Vec::new();
    for piece in data.chunks(chunk.max(1)) {
        inbox.extend_from_slice(piece);
        loop {
            match decode_frame(&mut inbox, max) {
                Ok(Some(f)) => {
                    assert!(f.len() <= max);
                    frames.push(f.to_vec());
                }
                Ok(None) => break,
                Err(FrameError::TooLong { announced, .. }) => {
                    assert!(announced as usize > max);
                    return (frames, true, inbox.len());
                }
                Err(e) => panic!("unexpected error {e}"),
            }
        }
    }
    (frames, false, inbox.len())
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let max = usize::from(selector) * 4;
    let (whole, refused, left) = run(rest, rest.len(), max);
    let consumed: usize = whole.iter().map(|f| f.len() + 4).sum();
    if !refused {
        assert_eq!(consumed + left, rest.len(), "bytes invented or lost");
    }
    for chunk in [1, 3, 7] {
        assert_eq!(run(rest, chunk, max).0, whole, "result depends on chunking");
    }
});
