// Lesson 02 — the grader. Included by tests/lessons.rs (against the library)
// and exercises/tests/lesson_02.rs (against your lessons/02-framing/exercise.rs), inside
// a module where `subject` is the code under test.

use self::subject::{decode_frame, encode_frame};
use bytes::BytesMut;
use netlab::framing::FrameError;
use pretty_assertions::assert_eq;

/// A frame written out by hand: the outside truth the grader compares with.
fn frame(payload: &[u8]) -> Vec<u8> {
    let n = payload.len() as u32;
    let mut v = vec![(n >> 24) as u8, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    v.extend_from_slice(payload);
    v
}

fn encoded(payload: &[u8], max: usize) -> Vec<u8> {
    let mut dst = BytesMut::new();
    encode_frame(payload, &mut dst, max).unwrap();
    dst.to_vec()
}

#[test]
fn encode_puts_a_big_endian_length_before_the_payload() {
    assert_eq!(encoded(b"hello", 100), vec![0, 0, 0, 5, b'h', b'e', b'l', b'l', b'o']);
    assert_eq!(encoded(&[9; 300], 1000)[..4].to_vec(), vec![0, 0, 1, 44], "300 = 0x0000012c");
}

#[test]
fn encode_appends_and_keeps_what_was_there() {
    let mut dst = BytesMut::from(&b"xy"[..]);
    encode_frame(b"z", &mut dst, 10).unwrap();
    assert_eq!(dst.to_vec(), b"xy\x00\x00\x00\x01z".to_vec());
}

#[test]
fn an_empty_frame_is_just_a_zero_length() {
    assert_eq!(encoded(b"", 10), vec![0, 0, 0, 0]);
    let mut src = BytesMut::from(&[0u8, 0, 0, 0][..]);
    assert_eq!(decode_frame(&mut src, 10).unwrap().map(|p| p.to_vec()), Some(vec![]));
    assert!(src.is_empty(), "the empty frame's header must be consumed");
}

#[test]
fn encode_refuses_a_payload_over_the_limit_and_writes_nothing() {
    let mut dst = BytesMut::new();
    let err = encode_frame(&[0; 11], &mut dst, 10).unwrap_err();
    assert!(matches!(err, FrameError::TooLong { .. }), "got {err:?}");
    assert_eq!(dst.len(), 0);
    encode_frame(&[0; 10], &mut dst, 10).expect("exactly the limit is allowed");
}

#[test]
fn decode_waits_for_every_cut_of_a_frame() {
    let bytes = frame(b"split me");
    for cut in 0..bytes.len() {
        let mut src = BytesMut::from(&bytes[..cut]);
        let got = decode_frame(&mut src, 100).unwrap();
        assert_eq!(got, None, "after only {cut} of {} bytes", bytes.len());
        assert_eq!(src.to_vec(), bytes[..cut].to_vec(), "an incomplete frame must be left in the buffer");
    }
    let mut src = BytesMut::from(&bytes[..]);
    assert_eq!(decode_frame(&mut src, 100).unwrap().map(|p| p.to_vec()), Some(b"split me".to_vec()));
}

#[test]
fn decode_takes_frames_one_at_a_time_in_order() {
    let mut src = BytesMut::new();
    for p in [&b"first"[..], b"", b"third one"] {
        src.extend_from_slice(&frame(p));
    }
    src.extend_from_slice(&[0, 0, 0, 9, b'p']); // the start of a fourth
    let mut got = Vec::new();
    while let Some(p) = decode_frame(&mut src, 100).unwrap() {
        got.push(String::from_utf8(p.to_vec()).unwrap());
    }
    assert_eq!(got, vec!["first", "", "third one"]);
    assert_eq!(src.to_vec(), vec![0, 0, 0, 9, b'p'], "the partial fourth frame stays");
}

#[test]
fn decode_accepts_max_and_refuses_max_plus_one_from_the_header_alone() {
    let mut src = BytesMut::from(&frame(&[1; 64])[..]);
    assert_eq!(decode_frame(&mut src, 64).unwrap().map(|p| p.len()), Some(64));

    // Only the header of a 65-byte frame: the error must come now, not after 65 bytes.
    let mut src = BytesMut::from(&[0u8, 0, 0, 65][..]);
    match decode_frame(&mut src, 64) {
        Err(FrameError::TooLong { announced, max }) => assert_eq!((announced, max), (65, 64)),
        other => panic!("expected FrameError::TooLong, got {other:?}"),
    }
}

#[test]
fn a_4_gib_header_is_refused_without_allocating() {
    let mut src = BytesMut::from(&[0xffu8, 0xff, 0xff, 0xff][..]);
    let capacity_before = src.capacity();
    let result = decode_frame(&mut src, 8 * 1024 * 1024);
    assert!(matches!(result, Err(FrameError::TooLong { announced: 0xffff_ffff, .. })), "got {result:?}");
    assert!(src.capacity() <= capacity_before.max(64), "the decoder reserved room for a frame it refused");
}

#[test]
fn what_encode_writes_decode_reads_back() {
    for len in [0usize, 1, 2, 255, 256, 65_535, 65_536, 100_000] {
        let payload: Vec<u8> = (0..len).map(|i| (i % 256) as u8).collect();
        let mut buf = BytesMut::new();
        encode_frame(&payload, &mut buf, 1 << 20).unwrap();
        assert_eq!(buf.len(), 4 + len);
        let got = decode_frame(&mut buf, 1 << 20).unwrap().expect("a whole frame");
        assert!(got.as_ref() == payload.as_slice(), "payload of {len} bytes changed in the round trip");
        assert!(buf.is_empty());
    }
}
