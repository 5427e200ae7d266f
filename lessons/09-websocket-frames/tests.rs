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

/// Your decode_header's answer for bytes that break no rule (`what` names them).
#[track_caller]
fn decoded(bytes: &[u8], what: &str) -> Option<(FrameHeader, usize)> {
    decode_header(bytes).unwrap_or_else(|e| {
        panic!("{what} breaks no rule: decode_header must return Ok(Some) for a whole header or Ok(None) for part of one, not {e:?}")
    })
}

#[test]
fn decodes_the_rfc_examples() {
    // RFC 6455 §5.7, unmasked "Hello": 0x81 0x05
    assert_eq!(
        decoded(&[0x81, 0x05, b'H', b'e'], "81 05"),
        Some((header(OpCode::Text, true, None, 5), 2)),
        "81 05 is FIN + text, unmasked, 5 bytes: a 2-byte header (the payload after it is not part of it)"
    );
    // masked "Hello": 0x81 0x85 + key 37 fa 21 3d
    assert_eq!(
        decoded(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f], "81 85 37 fa 21 3d"),
        Some((header(OpCode::Text, true, Some([0x37, 0xfa, 0x21, 0x3d]), 5), 6)),
        "81 85 is FIN + text, MASK set, 5 bytes, then the 4-byte key 37 fa 21 3d: a 6-byte header"
    );
    // first fragment "Hel" (FIN=0), then the continuation "lo" (FIN=1)
    assert_eq!(
        decoded(&[0x01, 0x03], "01 03"),
        Some((header(OpCode::Text, false, None, 3), 2)),
        "01 03 is a text frame without FIN (more fragments follow), 3 bytes"
    );
    assert_eq!(
        decoded(&[0x80, 0x02], "80 02"),
        Some((header(OpCode::Continuation, true, None, 2), 2)),
        "80 02 is FIN + continuation (opcode 0), 2 bytes"
    );
    // a ping
    assert_eq!(
        decoded(&[0x89, 0x00], "89 00"),
        Some((header(OpCode::Ping, true, None, 0), 2)),
        "89 00 is FIN + ping (opcode 9), empty"
    );
}

#[test]
fn decodes_16_and_64_bit_lengths() {
    // 256 bytes: 0x7E then 0x0100
    assert_eq!(
        decoded(&[0x82, 0x7e, 0x01, 0x00], "82 7e 01 00"),
        Some((header(OpCode::Binary, true, None, 256), 4)),
        "a 7-bit length of 126 (0x7e) means a 16-bit big-endian length follows: 01 00 = 256, a 4-byte header"
    );
    // 65536 bytes: 0x7F then 0x0000000000010000
    assert_eq!(
        decoded(&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0], "82 7f + 8 length bytes"),
        Some((header(OpCode::Binary, true, None, 65536), 10)),
        "a 7-bit length of 127 (0x7f) means a 64-bit big-endian length follows: 65536, a 10-byte header"
    );
    // the longest header: 64-bit length and a key = 14 bytes
    assert_eq!(
        decoded(&[0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 9, 8, 7, 6], "82 ff + 8 length bytes + key"),
        Some((header(OpCode::Binary, true, Some([9, 8, 7, 6]), 65536), 14)),
        "MASK and a 64-bit length: the key comes after the 8 length bytes (09 08 07 06), a 14-byte header"
    );
}

#[test]
fn decodes_reserved_bits() {
    let (h, _) = decoded(&[0xf2, 0x00], "f2 00").expect("f2 00 is a complete 2-byte header: Some, not None");
    assert!(
        h.fin && h.rsv1 && h.rsv2 && h.rsv3,
        "f2 = 1111 0010 sets FIN (0x80), RSV1 (0x40), RSV2 (0x20) and RSV3 (0x10); yours read {h:?}"
    );
    assert_eq!(h.opcode, OpCode::Binary, "the low 4 bits of f2 are 2: binary, whatever the bits above them");
}

#[test]
fn an_incomplete_header_is_not_an_error() {
    let full = [0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 9, 8, 7, 6];
    for cut in 0..full.len() {
        assert_eq!(
            decoded(&full[..cut], "a cut header"),
            None,
            "only {cut} of this header's 14 bytes have arrived: Ok(None), wait for more"
        );
    }
    assert_eq!(
        decoded(&[0x81, 0xfe, 0x01], "81 fe 01"),
        None,
        "the 16-bit length announced by 0x7e has only 1 of its 2 bytes: Ok(None), wait for more"
    );
}

#[test]
fn a_64_bit_length_with_its_top_bit_set_is_refused() {
    let bytes = [0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1];
    assert_eq!(
        decode_header(&bytes),
        Err(FrameError::LengthMsbSet),
        "RFC 6455 §5.2: the most significant bit of a 64-bit length MUST be 0, so a length starting 0x80 is refused"
    );
}

#[test]
fn encodes_the_rfc_examples() {
    netlab::assert_bytes_eq!(
        encoded(&header(OpCode::Text, true, None, 5)),
        [0x81, 0x05],
        "FIN + text (0x81), unmasked, 5 bytes (0x05)"
    );
    netlab::assert_bytes_eq!(
        encoded(&header(OpCode::Text, true, Some([0x37, 0xfa, 0x21, 0x3d]), 5)),
        [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d],
        "masked: MASK (0x80) | 5 = 0x85, then the 4-byte key"
    );
    netlab::assert_bytes_eq!(
        encoded(&header(OpCode::Text, false, None, 3)),
        [0x01, 0x03],
        "a first fragment has no FIN: just the opcode 1"
    );
    netlab::assert_bytes_eq!(
        encoded(&header(OpCode::Continuation, true, None, 2)),
        [0x80, 0x02],
        "FIN + continuation (opcode 0)"
    );
    netlab::assert_bytes_eq!(encoded(&header(OpCode::Close, true, None, 2)), [0x88, 0x02], "FIN + close (opcode 8)");
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
        netlab::assert_bytes_eq!(
            encoded(&header(OpCode::Binary, true, None, len)),
            wire,
            "a length of {len} in the shortest form: 0 to 125 in the 7 bits, 126 to 65535 as 0x7e + 16 bits, above as 0x7f + 64 bits, big-endian"
        );
    }
}

#[test]
fn encode_appends_after_what_is_there() {
    let mut v = vec![0xaa];
    encode_header(&header(OpCode::Pong, true, None, 1), &mut v);
    netlab::assert_bytes_eq!(v, [0xaa, 0x8a, 0x01], "encode_header appends: the 0xaa already there stays first");
}

#[test]
fn what_encode_writes_decode_reads_back() {
    for len in [0u64, 1, 125, 126, 127, 65535, 65536, 1 << 40] {
        for mask in [None, Some([1, 2, 3, 4])] {
            for (op, fin) in [(OpCode::Text, true), (OpCode::Binary, false), (OpCode::Continuation, true)] {
                let h = header(op, fin, mask, len);
                let bytes = encoded(&h);
                assert_eq!(
                    decoded(&bytes, "what encode_header wrote"),
                    Some((h, bytes.len())),
                    "decode_header must read back exactly what encode_header wrote, all {} bytes of it",
                    bytes.len()
                );
            }
        }
    }
}

#[test]
fn unmasks_the_rfc_hello() {
    let mut payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
    apply_mask(&mut payload, [0x37, 0xfa, 0x21, 0x3d]);
    netlab::assert_bytes_eq!(
        payload,
        b"Hello",
        "RFC 6455 §5.7: 7f 9f 4d 51 58 XORed with the key 37 fa 21 3d, byte i with key[i % 4], is \"Hello\""
    );
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
            netlab::assert_bytes_eq!(
                got,
                want,
                "masking the {len} bytes at {start}..{}: byte i of the payload you are given is XORed with key[i % 4], counting i from 0 at the slice's start, whatever its length or address; nothing outside it changes",
                start + len
            );
        }
    }
}
