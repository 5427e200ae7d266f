//! The length-prefixed codec against outside truth: tokio-util's own
//! `LengthDelimitedCodec` (same wire format) in both directions, and a property
//! test over any payloads cut into any chunks.

use bytes::{Bytes, BytesMut};
use netlab::framing::{FrameCodec, FrameError, HEADER_LEN};
use pretty_assertions::assert_eq;
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

/// tokio-util's codec configured for the same format: 4-byte big-endian length, payload only.
fn ldc(max: usize) -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_length(HEADER_LEN)
        .big_endian()
        .max_frame_length(max)
        .new_codec()
}

fn sample_payloads() -> Vec<Vec<u8>> {
    vec![
        vec![],
        b"a".to_vec(),
        b"hello".to_vec(),
        vec![0xff; 255],
        vec![7; 256],
        (0..70_000u32).map(|i| i as u8).collect(),
    ]
}

#[test]
fn our_encoder_output_decodes_with_length_delimited_codec() {
    let mut ours = FrameCodec::new();
    let mut wire = BytesMut::new();
    for p in sample_payloads() {
        ours.encode(&p[..], &mut wire).unwrap();
    }
    let mut theirs = ldc(1 << 20);
    let mut got = Vec::new();
    while let Some(f) = theirs.decode(&mut wire).unwrap() {
        got.push(f.to_vec());
    }
    assert_eq!(got, sample_payloads());
}

#[test]
fn length_delimited_codec_output_decodes_with_ours() {
    let mut theirs = ldc(1 << 20);
    let mut wire = BytesMut::new();
    for p in sample_payloads() {
        theirs.encode(Bytes::from(p), &mut wire).unwrap();
    }
    let mut ours = FrameCodec::new();
    let mut got = Vec::new();
    while let Some(f) = ours.decode(&mut wire).unwrap() {
        got.push(f.to_vec());
    }
    assert_eq!(got, sample_payloads());
}

#[test]
fn both_codecs_write_identical_bytes() {
    for p in sample_payloads() {
        let (mut a, mut b) = (BytesMut::new(), BytesMut::new());
        FrameCodec::new().encode(&p[..], &mut a).unwrap();
        ldc(1 << 20).encode(Bytes::from(p), &mut b).unwrap();
        assert!(a == b, "encodings differ");
    }
}

#[test]
fn both_codecs_refuse_the_same_oversized_header() {
    let header = [0, 0, 0x01, 0x01]; // 257 bytes announced
    let mut ours = BytesMut::from(&header[..]);
    assert!(matches!(
        FrameCodec::with_max_frame(256).decode(&mut ours),
        Err(FrameError::TooLong {
            announced: 257,
            max: 256
        })
    ));
    let mut theirs = BytesMut::from(&header[..]);
    assert!(ldc(256).decode(&mut theirs).is_err());
}

proptest! {
    /// Any sequence of payloads, written back to back and fed to the decoder in
    /// any chunk sizes, decodes to the same sequence — and nothing is left over.
    #[test]
    fn any_payloads_in_any_chunks_decode_to_the_same_sequence(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..600), 0..20),
        cuts in prop::collection::vec(1usize..97, 1..50),
    ) {
        let mut codec = FrameCodec::with_max_frame(600);
        let mut wire = BytesMut::new();
        for p in &payloads {
            codec.encode(&p[..], &mut wire).unwrap();
        }
        let wire = wire.freeze();
        let mut inbox = BytesMut::new();
        let mut got: Vec<Vec<u8>> = Vec::new();
        let mut pos = 0;
        let mut i = 0;
        while pos < wire.len() {
            let step = cuts[i % cuts.len()].min(wire.len() - pos);
            inbox.extend_from_slice(&wire[pos..pos + step]);
            pos += step;
            i += 1;
            while let Some(f) = codec.decode(&mut inbox).unwrap() {
                got.push(f.to_vec());
            }
        }
        prop_assert_eq!(codec.decode_eof(&mut inbox).unwrap(), None);
        prop_assert_eq!(got, payloads);
    }

    /// Whatever bytes arrive, the decoder returns a frame, waits, or refuses —
    /// it never panics and never takes more than it was given.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64), max in 0usize..32) {
        let mut src = BytesMut::from(&bytes[..]);
        let mut codec = FrameCodec::with_max_frame(max);
        let mut consumed = 0;
        loop {
            let before = src.len();
            match codec.decode(&mut src) {
                Ok(Some(f)) => { prop_assert!(f.len() <= max); consumed += before - src.len(); }
                Ok(None) => break,
                Err(FrameError::TooLong { announced, .. }) => { prop_assert!(announced as usize > max); break; }
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
        prop_assert_eq!(consumed + src.len(), bytes.len());
    }
}
