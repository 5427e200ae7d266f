// Lesson 09 — the grader. Included by tests/lessons.rs (against the library)
// and exercises/tests/lesson_09.rs (against your lessons/09-websocket-frames/exercise.rs),
// inside a module where `subject` is the code under test.

use self::subject::{apply_mask, decode_header, encode_header};
use netlab::ws::frame::{FrameError, FrameHeader, OpCode};
use pretty_assertions::assert_eq;

fn header(opcode: OpCode, fin: bool, mask: Option<[u8; 4]>, payload_len: u64) -> FrameHeader {
    FrameHeader { fin, rsv1: false, rsv2: false, rsv3: false, opcode, mask, payload_len }
}

fn encoded(h: &FrameHeader) -> Vec<u8> {
    let mut v = Vec::new();
    encode_header(h, &mut v);
    v
}

#[test]
fn decodes_the_rfc_examples() {
    // RFC 6455 §5.7, unmasked "Hello": 0x81 0x05
    assert_eq!(decode_header(&[0x81, 0x05, b'H', b'e']).unwrap(), Some((header(OpCode::Text, true, None, 5), 2)));
    // masked "Hello": 0x81 0x85 + key 37 fa 21 3d
    assert_eq!(
        decode_header(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f]).unwrap(),
        Some((header(OpCode::Text, true, Some([0x37, 0xfa, 0x21, 0x3d]), 5), 6))
    );
    // first fragment "Hel" (FIN=0), then the continuation "lo" (FIN=1)
    assert_eq!(decode_header(&[0x01, 0x03]).unwrap(), Some((header(OpCode::Text, false, None, 3), 2)));
    assert_eq!(decode_header(&[0x80, 0x02]).unwrap(), Some((header(OpCode::Continuation, true, None, 2), 2)));
    // a ping
    assert_eq!(decode_header(&[0x89, 0x00]).unwrap(), Some((header(OpCode::Ping, true, None, 0), 2)));
}

#[test]
fn decodes_16_and_64_bit_lengths() {
    // 256 bytes: 0x7E then 0x0100
    assert_eq!(decode_header(&[0x82, 0x7e, 0x01, 0x00]).unwrap(), Some((header(OpCode::Binary, true, None, 256), 4)));
    // 65536 bytes: 0x7F then 0x0000000000010000
    assert_eq!(
        decode_header(&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]).unwrap(),
        Some((header(OpCode::Binary, true, None, 65536), 10))
    );
    // the longest header: 64-bit length and a key = 14 bytes
    assert_eq!(
        decode_header(&[0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 9, 8, 7, 6]).unwrap(),
        Some((header(OpCode::Binary, true, Some([9, 8, 7, 6]), 65536), 14))
    );
}

#[test]
fn decodes_reserved_bits() {
    let (h, _) = decode_header(&[0xf2, 0x00]).unwrap().unwrap();
    assert!(h.fin && h.rsv1 && h.rsv2 && h.rsv3, "{h:?}");
    assert_eq!(h.opcode, OpCode::Binary);
}

#[test]
fn an_incomplete_header_is_not_an_error() {
    let full = [0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 9, 8, 7, 6];
    for cut in 0..full.len() {
        assert_eq!(decode_header(&full[..cut]).unwrap(), None, "only {cut} of 14 header bytes");
    }
    assert_eq!(decode_header(&[0x81, 0xfe, 0x01]).unwrap(), None, "16-bit length cut short");
}

#[test]
fn a_64_bit_length_with_its_top_bit_set_is_refused() {
    let bytes = [0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1];
    assert_eq!(decode_header(&bytes), Err(FrameError::LengthMsbSet));
}

#[test]
fn encodes_the_rfc_examples() {
    assert_eq!(encoded(&header(OpCode::Text, true, None, 5)), vec![0x81, 0x05]);
    assert_eq!(encoded(&header(OpCode::Text, true, Some([0x37, 0xfa, 0x21, 0x3d]), 5)), vec![0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d]);
    assert_eq!(encoded(&header(OpCode::Text, false, None, 3)), vec![0x01, 0x03]);
    assert_eq!(encoded(&header(OpCode::Continuation, true, None, 2)), vec![0x80, 0x02]);
    assert_eq!(encoded(&header(OpCode::Close, true, None, 2)), vec![0x88, 0x02]);
}

#[test]
fn encodes_the_shortest_length_at_every_boundary() {
    let cases: [(u64, Vec<u8>); 6] = [
        (0, vec![0x82, 0x00]),
        (125, vec![0x82, 0x7d]),
        (126, vec![0x82, 0x7e, 0x00, 0x7e]),
        (65535, vec![0x82, 0x7e, 0xff, 0xff]),
        (65536, vec![0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]),
        (1 << 32, vec![0x82, 0x7f, 0, 0, 0, 1, 0, 0, 0, 0]),
    ];
    for (len, wire) in cases {
        assert_eq!(encoded(&header(OpCode::Binary, true, None, len)), wire, "length {len}");
    }
}

#[test]
fn encode_appends_after_what_is_there() {
    let mut v = vec![0xaa];
    encode_header(&header(OpCode::Pong, true, None, 1), &mut v);
    assert_eq!(v, vec![0xaa, 0x8a, 0x01]);
}

#[test]
fn what_encode_writes_decode_reads_back() {
    for len in [0u64, 1, 125, 126, 127, 65535, 65536, 1 << 40] {
        for mask in [None, Some([1, 2, 3, 4])] {
            for (op, fin) in [(OpCode::Text, true), (OpCode::Binary, false), (OpCode::Continuation, true)] {
                let h = header(op, fin, mask, len);
                let bytes = encoded(&h);
                assert_eq!(decode_header(&bytes).unwrap(), Some((h, bytes.len())));
            }
        }
    }
}

#[test]
fn unmasks_the_rfc_hello() {
    let mut payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
    apply_mask(&mut payload, [0x37, 0xfa, 0x21, 0x3d]);
    assert_eq!(&payload, b"Hello");
}

#[test]
fn masking_matches_the_definition_at_every_length_and_offset() {
    let key = [0xde, 0xad, 0xbe, 0xef];
    let data: Vec<u8> = (0..100u32).map(|i| (i * 13 + 1) as u8).collect();
    for start in 0..8 {
        for len in 0..(data.len() - start) {
            let mut got = data.clone();
            apply_mask(&mut got[start..start + len], key);
            // The definition (RFC 6455 §5.3), written out here.
            let mut want = data.clone();
            for i in 0..len {
                want[start + i] ^= key[i % 4];
            }
            assert_eq!(got, want, "slice starting at {start}, {len} bytes");
        }
    }
}
