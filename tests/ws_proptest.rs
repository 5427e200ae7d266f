//! Property tests for the WebSocket codec: whatever is encoded comes back, however
//! the bytes are cut; hostile bytes never panic; the fast paths equal their
//! simple reference routines.

use bytes::BytesMut;
use netlab::ws::frame::{FrameHeader, OpCode, Role};
use netlab::ws::mask::{apply_mask, apply_mask_bytewise};
use netlab::ws::message::Utf8Validator;
use netlab::ws::protocol::{Limits, Receiver, Sender};
use netlab::ws::Message;
use proptest::prelude::*;

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        ".{0,300}".prop_map(Message::text),
        proptest::collection::vec(any::<u8>(), 0..3000).prop_map(Message::binary),
        proptest::collection::vec(any::<u8>(), 0..=125).prop_map(|v| Message::Ping(v.into())),
        proptest::collection::vec(any::<u8>(), 0..=125).prop_map(|v| Message::Pong(v.into())),
    ]
}

/// Splits `bytes` at the given cut points (taken modulo the length, sorted).
fn chunks(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    if bytes.is_empty() {
        return vec![];
    }
    let mut points: Vec<usize> = cuts.iter().map(|c| c % bytes.len()).collect();
    points.push(0);
    points.push(bytes.len());
    points.sort_unstable();
    points.dedup();
    points
        .windows(2)
        .map(|w| bytes[w[0]..w[1]].to_vec())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn encode_then_any_chunking_then_decode_gives_the_messages_back(
        msgs in proptest::collection::vec(message(), 0..12),
        fragment in 1usize..400,
        cuts in proptest::collection::vec(any::<usize>(), 0..40),
    ) {
        let mut sender = Sender::new(Role::Client);
        let mut wire = BytesMut::new();
        for m in &msgs {
            sender.fragmented(m, fragment, &mut wire);
        }
        let mut receiver = Receiver::new(Role::Server, Limits::default());
        let mut inbox = BytesMut::new();
        let mut got = Vec::new();
        for chunk in chunks(&wire, &cuts) {
            inbox.extend_from_slice(&chunk);
            while let Some(m) = receiver.read(&mut inbox).unwrap() {
                got.push(m);
            }
        }
        prop_assert_eq!(got, msgs);
        prop_assert!(inbox.is_empty());
    }

    #[test]
    fn server_frames_round_trip_to_a_client(msgs in proptest::collection::vec(message(), 0..12), cuts in proptest::collection::vec(any::<usize>(), 0..20)) {
        let mut sender = Sender::new(Role::Server);
        let mut wire = BytesMut::new();
        for m in &msgs {
            sender.message(m, &mut wire);
        }
        let mut receiver = Receiver::new(Role::Client, Limits::default());
        let mut inbox = BytesMut::new();
        let mut got = Vec::new();
        for chunk in chunks(&wire, &cuts) {
            inbox.extend_from_slice(&chunk);
            while let Some(m) = receiver.read(&mut inbox).unwrap() {
                got.push(m);
            }
        }
        prop_assert_eq!(got, msgs);
    }

    #[test]
    fn any_header_round_trips_with_the_shortest_length(
        fin: bool, rsv1: bool, rsv2: bool, rsv3: bool,
        op in 0u8..16,
        mask: Option<[u8; 4]>,
        len in prop_oneof![0u64..=130, 65_530u64..=65_540, 0u64..(1 << 63)],
    ) {
        let h = FrameHeader { fin, rsv1, rsv2, rsv3, opcode: OpCode::from_bits(op), mask, payload_len: len };
        let mut bytes = Vec::new();
        h.emit(&mut bytes);
        let ext = if len <= 125 { 0 } else if len <= 0xffff { 2 } else { 8 };
        prop_assert_eq!(bytes.len(), 2 + ext + if mask.is_some() { 4 } else { 0 });
        prop_assert_eq!(FrameHeader::parse(&bytes).unwrap(), Some((h, bytes.len())));
    }

    #[test]
    fn fast_mask_equals_the_bytewise_definition(data in proptest::collection::vec(any::<u8>(), 0..600), key: [u8; 4], start in 0usize..16) {
        let start = start.min(data.len());
        let mut fast = data.clone();
        let mut slow = data;
        apply_mask(&mut fast[start..], key);
        apply_mask_bytewise(&mut slow[start..], key);
        prop_assert_eq!(fast, slow);
    }

    #[test]
    fn incremental_utf8_agrees_with_the_standard_library(
        bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            ".{0,40}".prop_map(|s: String| s.into_bytes()),
            (".{0,40}", any::<u8>(), 0usize..40).prop_map(|(s, b, at): (String, u8, usize)| {
                let mut v = s.into_bytes();
                let at = at.min(v.len());
                v.insert(at, b);
                v
            }),
        ],
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut v = Utf8Validator::new();
        let mut result = Ok(());
        for chunk in chunks(&bytes, &cuts) {
            result = v.feed(&chunk);
            if result.is_err() {
                break;
            }
        }
        if result.is_ok() {
            result = v.finish();
        }
        match std::str::from_utf8(&bytes) {
            Ok(_) => prop_assert!(result.is_ok()),
            Err(e) => prop_assert_eq!(result.map_err(|e| e.offset), Err(e.valid_up_to())),
        }
    }

    #[test]
    fn hostile_bytes_never_panic_and_chunking_does_not_change_the_verdict(
        bytes in proptest::collection::vec(any::<u8>(), 0..2000),
        cuts in proptest::collection::vec(any::<usize>(), 0..20),
        server: bool,
    ) {
        let role = if server { Role::Server } else { Role::Client };
        let limits = Limits { max_frame: 1000, max_message: 1500 };
        let run = |pieces: Vec<Vec<u8>>| {
            let mut r = Receiver::new(role, limits);
            let mut inbox = BytesMut::new();
            let mut out = Vec::new();
            for p in pieces {
                inbox.extend_from_slice(&p);
                loop {
                    match r.read(&mut inbox) {
                        Ok(Some(m)) => out.push(Ok(m)),
                        Ok(None) => break,
                        Err(e) => {
                            out.push(Err(e));
                            return out;
                        }
                    }
                }
            }
            out
        };
        let whole = run(vec![bytes.clone()]);
        let pieces = run(chunks(&bytes, &cuts));
        prop_assert_eq!(whole, pieces);
    }
}
