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
    encode_frame(payload, &mut dst, max).unwrap_or_else(|e| {
        panic!("a {}-byte payload is within the limit of {max}: encode_frame must accept it, not fail with {e:?}", payload.len())
    });
    dst.to_vec()
}

#[test]
fn encode_puts_a_big_endian_length_before_the_payload() {
    netlab::assert_bytes_eq!(
        encoded(b"hello", 100),
        [0, 0, 0, 5, b'h', b'e', b'l', b'l', b'o'],
        "\"hello\" is framed as its length, 5, in 4 big-endian bytes (00 00 00 05), then its 5 bytes"
    );
    netlab::assert_bytes_eq!(
        encoded(&[9; 300], 1000)[..4],
        [0, 0, 1, 44],
        "a 300-byte payload announces 300 = 0x0000012c, most significant byte first"
    );
}

#[test]
fn encode_appends_and_keeps_what_was_there() {
    let mut dst = BytesMut::from(&b"xy"[..]);
    encode_frame(b"z", &mut dst, 10).expect("a 1-byte payload is within the limit of 10");
    netlab::assert_bytes_eq!(
        dst,
        b"xy\x00\x00\x00\x01z",
        "encode_frame appends: the \"xy\" already in dst stays first, then the frame of \"z\""
    );
}

#[test]
fn an_empty_frame_is_just_a_zero_length() {
    netlab::assert_bytes_eq!(
        encoded(b"", 10),
        [0, 0, 0, 0],
        "an empty payload is still a frame: just the length 0 in 4 bytes"
    );
    let mut src = BytesMut::from(&[0u8, 0, 0, 0][..]);
    let got = decode_frame(&mut src, 10).expect("a zero-length frame is valid, not an error");
    assert_eq!(
        got.map(|p| p.to_vec()),
        Some(vec![]),
        "the 4 bytes 00 00 00 00 are a whole frame with an empty payload: Ok(Some(empty)), not Ok(None)"
    );
    assert!(src.is_empty(), "the empty frame's 4 header bytes must be taken off the buffer");
}

#[test]
fn encode_refuses_a_payload_over_the_limit_and_writes_nothing() {
    let mut dst = BytesMut::new();
    let err = encode_frame(&[0; 11], &mut dst, 10)
        .expect_err("an 11-byte payload is over the limit of 10: encode_frame must refuse it");
    assert!(
        matches!(err, FrameError::TooLong { .. }),
        "a payload over the limit must be refused with FrameError::TooLong, not {err:?}"
    );
    netlab::assert_bytes_eq!(dst, [], "a refused payload must leave dst untouched: no part of it may be sent");
    encode_frame(&[0; 10], &mut dst, 10)
        .expect("a payload of exactly the limit (10 of 10 bytes) is allowed: only longer ones are refused");
}

#[test]
fn decode_waits_for_every_cut_of_a_frame() {
    let bytes = frame(b"split me");
    for cut in 0..bytes.len() {
        let mut src = BytesMut::from(&bytes[..cut]);
        let got = decode_frame(&mut src, 100).unwrap_or_else(|e| {
            panic!("after only {cut} of {} bytes the frame is incomplete, which is not an error: decode_frame must wait with Ok(None), not fail with {e:?}", bytes.len())
        });
        assert_eq!(
            got,
            None,
            "after only {cut} of {} bytes the frame is incomplete: decode_frame must return Ok(None) and wait for more",
            bytes.len()
        );
        netlab::assert_bytes_eq!(
            src,
            bytes[..cut],
            "an incomplete frame must stay in the buffer untouched, so that the next read can complete it"
        );
    }
    let mut src = BytesMut::from(&bytes[..]);
    let got = decode_frame(&mut src, 100).expect("a whole frame is not an error");
    assert_eq!(
        got.map(|p| p.to_vec()),
        Some(b"split me".to_vec()),
        "once all {} bytes are there, the payload comes out whole",
        bytes.len()
    );
}

#[test]
fn decode_takes_frames_one_at_a_time_in_order() {
    let mut src = BytesMut::new();
    for p in [&b"first"[..], b"", b"third one"] {
        src.extend_from_slice(&frame(p));
    }
    src.extend_from_slice(&[0, 0, 0, 9, b'p']); // the start of a fourth
    let mut got = Vec::new();
    while let Some(p) = decode_frame(&mut src, 100).expect("whole frames followed by a partial one are not an error") {
        got.push(String::from_utf8(p.to_vec()).unwrap());
    }
    assert_eq!(
        got,
        vec!["first", "", "third one"],
        "the three whole frames come out one per call, in the order they were sent, the empty one too"
    );
    netlab::assert_bytes_eq!(
        src,
        [0, 0, 0, 9, b'p'],
        "the start of the fourth frame must stay in the buffer until the rest of it arrives"
    );
}

#[test]
fn decode_accepts_max_and_refuses_max_plus_one_from_the_header_alone() {
    let mut src = BytesMut::from(&frame(&[1; 64])[..]);
    let got = decode_frame(&mut src, 64)
        .expect("a frame of exactly the limit (64 of 64 bytes) is allowed: only longer ones are refused");
    assert_eq!(got.map(|p| p.len()), Some(64), "a whole 64-byte frame with a limit of 64 comes out whole");

    // Only the header of a 65-byte frame: the error must come now, not after 65 bytes.
    let mut src = BytesMut::from(&[0u8, 0, 0, 65][..]);
    match decode_frame(&mut src, 64) {
        Err(FrameError::TooLong { announced, max }) => assert_eq!(
            (announced, max),
            (65, 64),
            "FrameError::TooLong carries the length the header announced and the limit"
        ),
        other => panic!(
            "a header announcing 65 bytes with a limit of 64 must be refused from its 4 bytes, before the payload arrives: expected Err(FrameError::TooLong), got {other:?}"
        ),
    }
}

#[test]
fn a_4_gib_header_is_refused_without_allocating() {
    let mut src = BytesMut::from(&[0xffu8, 0xff, 0xff, 0xff][..]);
    let capacity_before = src.capacity();
    let result = decode_frame(&mut src, 8 * 1024 * 1024);
    assert!(
        matches!(result, Err(FrameError::TooLong { announced: 0xffff_ffff, .. })),
        "a header announcing 4 GiB (ff ff ff ff) must be refused from its 4 bytes with FrameError::TooLong, before any payload arrives; got {result:?}"
    );
    assert!(
        src.capacity() <= capacity_before.max(64),
        "the decoder reserved room for a frame it refused: a hostile peer would make it allocate 4 GiB with 4 bytes"
    );
}

#[test]
fn what_encode_writes_decode_reads_back() {
    for len in [0usize, 1, 2, 255, 256, 65_535, 65_536, 100_000] {
        let payload: Vec<u8> = (0..len).map(|i| (i % 256) as u8).collect();
        let mut buf = BytesMut::new();
        encode_frame(&payload, &mut buf, 1 << 20).expect("a payload within the limit of 1 MiB");
        assert_eq!(buf.len(), 4 + len, "a {len}-byte payload is framed as 4 length bytes, then the {len} bytes");
        let got = decode_frame(&mut buf, 1 << 20)
            .expect("what encode_frame wrote is a valid frame")
            .unwrap_or_else(|| panic!("the whole {len}-byte frame is in the buffer: decode_frame must return it, not Ok(None)"));
        assert!(
            got.as_ref() == payload.as_slice(),
            "the {len}-byte payload must come back unchanged; the first difference is at offset {:?}",
            netlab::course::hexdiff::first_difference(&got, &payload)
        );
        assert!(buf.is_empty(), "decoding the only frame must take all of its bytes off the buffer");
    }
}
