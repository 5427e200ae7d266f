//! What lessons 02, 09 and 12 state as bytes and numbers, checked against the
//! code that produces them: every hex example in the text is encoded or
//! decoded by the library and must come out as printed, and every limit the
//! text names is the constant the code uses.

use bytes::BytesMut;
use netlab::cluster::message::{Broadcast, DEFAULT_MAX_MESSAGE};
use netlab::framing::{self, FrameError};
use netlab::ws::frame::{self, FrameHeader, OpCode};
use std::path::Path;
use std::time::Duration;

fn lesson(dir: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("lessons")
        .join(dir)
        .join("README.md");
    std::fs::read_to_string(path).unwrap()
}

/// `"00 00 00 05 68 …"` → bytes.
fn hex(text: &str) -> Vec<u8> {
    text.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap_or_else(|_| panic!("{b:?} is not a hex byte")))
        .collect()
}

/// Asserts the lesson says `claim` word for word (so a test here is tied to a sentence there).
fn says(text: &str, claim: &str) {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(claim), "the lesson no longer says {claim:?}");
}

#[test]
fn lesson_02_frames_are_the_bytes_the_text_prints() {
    let text = lesson("02-framing");
    let framed = |payload: &[u8]| {
        let mut out = BytesMut::new();
        framing::encode_frame(payload, &mut out, framing::DEFAULT_MAX_FRAME).unwrap();
        out.to_vec()
    };
    says(&text, "\"hello\" is sent as `00 00 00 05 68 65 6c 6c 6f`");
    assert_eq!(framed(b"hello"), hex("00 00 00 05 68 65 6c 6c 6f"));
    says(&text, "so 300 is `00 00 01 2c`");
    assert_eq!(framed(&[0; 300])[..4], hex("00 00 01 2c"));
    says(&text, "An empty message is `00 00 00 00`");
    assert_eq!(framed(b""), hex("00 00 00 00"));
}

#[test]
fn lesson_02_limits_and_errors_are_the_codes() {
    let text = lesson("02-framing");
    says(&text, "(default 8 MiB, `--max-frame`)");
    assert_eq!(framing::DEFAULT_MAX_FRAME, 8 * 1024 * 1024);
    // "4 GiB follow", refused from the header alone.
    let mut hostile = BytesMut::from(&hex("ff ff ff ff")[..]);
    assert!(matches!(
        framing::decode_frame(&mut hostile, framing::DEFAULT_MAX_FRAME),
        Err(FrameError::TooLong { announced, .. }) if announced == u64::from(u32::MAX)
    ));
    // The error the lesson quotes, word for word.
    let quoted =
        "the peer closed the connection in the middle of a frame: 8 of 14 bytes had arrived";
    says(&text, quoted);
    assert_eq!(
        FrameError::Truncated { have: 8, need: 14 }.to_string(),
        quoted
    );
}

#[test]
fn lesson_09_header_sizes_and_shortest_forms_are_the_encoders() {
    let text = lesson("09-websocket-frames");
    says(&text, "So a header is 2 to 14 bytes.");
    assert_eq!((frame::MIN_HEADER_LEN, frame::MAX_HEADER_LEN), (2, 14));
    says(
        &text,
        "0–125: the length itself; 126: a 16-bit length follows; 127: a 64-bit length follows",
    );
    assert_eq!(
        (frame::MAX_LEN7, frame::LEN7_16BIT, frame::LEN7_64BIT),
        (125, 126, 127)
    );
    let header = |len: u64| {
        let mut out = Vec::new();
        frame::encode_header(&FrameHeader::new(OpCode::Binary, len), &mut out);
        out[1..].to_vec() // byte 0 is FIN + opcode; the text shows the length bytes
    };
    says(&text, "125 bytes → `0x7D`; 126 bytes → `0x7E 0x00 0x7E`; 65 536 bytes → `0x7F` + eight bytes `00 00 00 00 00 01 00 00`");
    assert_eq!(header(125), hex("7D"));
    assert_eq!(header(126), hex("7E 00 7E"));
    assert_eq!(header(65_536), hex("7F 00 00 00 00 00 01 00 00"));
}

#[test]
fn lesson_09_rfc_examples_decode_as_the_text_says() {
    let text = lesson("09-websocket-frames");
    // Each example line of the lesson, as printed there.
    let examples = [
        (
            "81 05 48 65 6c 6c 6f",
            "\"Hello\", unmasked (server → client)",
        ),
        (
            "81 85 37 fa 21 3d 7f 9f 4d 51 58",
            "\"Hello\", masked with key 37 fa 21 3d",
        ),
        ("89 05 48 65 6c 6c 6f", "a ping carrying \"Hello\""),
    ];
    for (bytes, what) in examples {
        let line = text
            .lines()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("the lesson no longer shows {what:?}"));
        assert!(line.starts_with(bytes), "{line}");
        let wire = hex(bytes);
        let (h, used) = frame::decode_header(&wire).unwrap().unwrap();
        let mut payload = wire[used..].to_vec();
        if let Some(key) = h.mask {
            assert_eq!(key, [0x37, 0xfa, 0x21, 0x3d], "{what}");
            netlab::ws::mask::apply_mask(&mut payload, key);
        }
        assert!(h.fin, "{what}: a single frame is final");
        assert_eq!(payload, b"Hello", "{what}");
        let expected = if what.starts_with("a ping") {
            OpCode::Ping
        } else {
            OpCode::Text
        };
        assert_eq!(h.opcode, expected, "{what}");
    }
    // The fragmented message: "Hel" (text, not final) then "lo" (continuation, final).
    let wire = hex("01 03 48 65 6c 80 02 6c 6f");
    let (first, used) = frame::decode_header(&wire).unwrap().unwrap();
    assert_eq!(
        (first.fin, first.opcode, first.payload_len),
        (false, OpCode::Text, 3)
    );
    let rest = &wire[used + 3..];
    let (second, used2) = frame::decode_header(rest).unwrap().unwrap();
    assert_eq!(
        (second.fin, second.opcode, second.payload_len),
        (true, OpCode::Continuation, 2)
    );
    assert_eq!([&wire[used..used + 3], &rest[used2..]].concat(), b"Hello");
}

/// The hex dump of lesson 12's "One broadcast, byte by byte", as bytes.
fn lesson_12_dump(text: &str) -> Vec<u8> {
    let start = text
        .find("## One broadcast, byte by byte")
        .expect("the section");
    let section = &text[start..];
    section
        .lines()
        .skip_while(|l| !l.starts_with("  0000  93"))
        .take_while(|l| !l.trim().is_empty())
        .flat_map(|l| {
            // "  0010  64 61 … 66  data..message..f": the 16 columns after the offset.
            l[8..].split("  ").next().unwrap().split(' ').map(move |b| {
                u8::from_str_radix(b, 16).unwrap_or_else(|_| panic!("{b:?} in {l:?}"))
            })
        })
        .collect()
}

#[test]
fn lesson_12_broadcast_dump_is_what_the_adapter_encodes() {
    let text = lesson("12-many-servers");
    let dump = lesson_12_dump(&text);
    says(&text, "175 bytes, where the same as compact JSON is 221");
    assert_eq!(dump.len(), 175);
    let message = Broadcast::decode(&dump, DEFAULT_MAX_MESSAGE).expect("the dump decodes");
    assert_eq!(message.uid, "VTLVYN");
    assert_eq!(message.nsp, "/");
    assert_eq!(
        message.encode(),
        dump,
        "re-encoded by netlab, the lesson's bytes come out identical"
    );
    // The same three parts as compact JSON: 221 bytes.
    let json = serde_json::json!([
        message.uid,
        {"type": 2, "data": message.data, "nsp": message.nsp},
        {"rooms": ["lobby"], "except": ["8e15fc071b1fdb9f25893b495f5630f5"], "flags": {}}
    ]);
    assert_eq!(serde_json::to_string(&json).unwrap().len(), 221, "{json}");
}

#[test]
fn lesson_12_backoff_is_the_links() {
    let text = lesson("12-many-servers");
    says(
        &text,
        "reconnects with backoff (100 ms, doubling, at most 5 s)",
    );
    assert_eq!(
        (
            netlab::transport::redis::MIN_BACKOFF,
            netlab::transport::redis::MAX_BACKOFF
        ),
        (Duration::from_millis(100), Duration::from_secs(5))
    );
}
