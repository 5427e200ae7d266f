//! Property tests for the Socket.IO packet parser: hostile text never panics,
//! every EVENT a client can write is read back as written, every packet —
//! any namespace, any attachments — encodes and parses back to itself, and
//! every hub event a Socket.IO client receives says exactly what the native
//! event says.

use bytes::Bytes;
use netlab::chat::protocol::ServerEvent;
use netlab::web::socketio::binary::{base64_to_placeholders, placeholders_to_base64};
use netlab::web::socketio::packet::placeholder;
use netlab::web::socketio::recovery::{encode_offset, parse_offset};
use netlab::web::socketio::{
    from_native, from_native_asking, parse, AckRequests, Incoming, Packet, PacketType, Reassembler,
    MAX_ATTACHMENTS,
};
use proptest::prelude::*;
use serde_json::{json, Value};

/// Namespaces as a server may name them (and `/`).
fn namespace() -> impl Strategy<Value = String> {
    prop_oneof![Just("/".to_string()), "/[a-z0-9_./-]{1,20}"]
}

/// Plain JSON values (no placeholders), a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An EVENT or ACK, with 0 to MAX_ATTACHMENTS attachments whose
/// placeholders sit at random places among the arguments.
fn packet() -> impl Strategy<Value = Packet> {
    (
        namespace(),
        prop::option::of(0u64..10_000_000_000_000_000_000),
        "[a-z]{1,10}",
        prop::collection::vec(json_value(), 0..4),
        prop::collection::vec(
            prop::collection::vec(any::<u8>(), 0..16),
            0..=MAX_ATTACHMENTS,
        ),
        any::<bool>(),
    )
        .prop_map(|(nsp, id, name, mut args, blobs, is_ack)| {
            // Each attachment's placeholder goes in its own argument, nested
            // in an object every other time.
            for (i, _) in blobs.iter().enumerate() {
                let p = placeholder(i);
                let at = (i * 7) % (args.len() + 1);
                args.insert(at, if i % 2 == 0 { p } else { json!({ "file": p }) });
            }
            let attachments: Vec<Bytes> = blobs.into_iter().map(Bytes::from).collect();
            if is_ack {
                Packet::ack(&nsp, id.unwrap_or(0), args, attachments)
            } else {
                Packet::event(&nsp, id, &name, args, attachments)
            }
        })
}

proptest! {
    #[test]
    fn hostile_text_never_panics(s in "\\PC{0,64}", prefix in prop::sample::select(vec!["", "4", "42", "43", "40/", "42/x,", "421"])) {
        let _ = parse(&format!("{prefix}{s}"));
    }

    #[test]
    fn an_event_reads_back_as_written(
        name in "[a-z]{1,12}",
        ack in prop::option::of(0u64..10_000_000_000_000_000_000),
        text in "\\PC{0,32}",
        n in any::<i64>(),
    ) {
        let args = vec![json!(text), json!(n), json!({"k": [1, null, true]})];
        let mut data = vec![Value::String(name.clone())];
        data.extend(args.clone());
        let wire = format!("42{}{}", ack.map(|a| a.to_string()).unwrap_or_default(), Value::Array(data));
        prop_assert_eq!(parse(&wire), Ok(Incoming::Event { ack, name, args }));
    }

    #[test]
    fn a_hub_message_becomes_the_same_socketio_event(
        nick in "\\PC{0,16}",
        text in "\\PC{0,48}",
        rooms in prop::collection::vec("[a-z\"\\\\,\\]\\}]{1,8}", 0..3),
        seq in prop::option::of(1u64..1_000_000),
        asking in any::<bool>(),
    ) {
        let event = ServerEvent::Message {
            from: "0123456789abcdef0123456789abcdef".parse().unwrap(),
            nick,
            to: rooms,
            text,
            seq: seq.map(|n| [("lobby".to_string(), n)].into()).unwrap_or_default(),
        };
        let native = event.to_bytes();
        let mut requests = AckRequests::default();
        let packet = if asking {
            from_native_asking(&native, &mut requests)
        } else {
            from_native(&native)
        }
        .unwrap();
        // Asked exactly when recorded and asking: 42, then ack id 0, then the array.
        let asked = asking && seq.is_some();
        let array = packet.strip_prefix(if asked { "420" } else { "42" }).unwrap();
        prop_assert!(array.starts_with('['), "{}", packet);
        let mut want: serde_json::Map<String, Value> = serde_json::from_slice(&native).unwrap();
        want.remove("event");
        prop_assert_eq!(
            serde_json::from_str::<Value>(array).unwrap(),
            json!(["message", Value::Object(want)])
        );
        prop_assert_eq!(requests.waiting(), usize::from(asked));
    }

    #[test]
    fn every_packet_encodes_and_parses_back(p in packet()) {
        let text = p.encode();
        let mut r = Reassembler::new(usize::MAX);
        let mut got = r.text(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        for a in &p.attachments {
            prop_assert!(got.is_none(), "whole before its attachments: {}", text);
            got = r.binary(a.clone()).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        }
        prop_assert_eq!(got, Some(p.clone()), "{}", text);
        // Binary exactly when there are attachments.
        let binary = matches!(p.kind, PacketType::BinaryEvent | PacketType::BinaryAck);
        prop_assert_eq!(binary, !p.attachments.is_empty());
    }

    #[test]
    fn binary_survives_the_trip_through_the_hubs_json(p in packet()) {
        let mut data = p.data.clone().unwrap();
        placeholders_to_base64(&mut data, &p.attachments);
        prop_assert!(!data.to_string().contains("_placeholder"));
        let in_hub = data.clone();
        // Back out: the attachments are numbered in document order, so the
        // same bytes sit at the same places (whatever the sender's numbering).
        let back = base64_to_placeholders(&mut data);
        prop_assert_eq!(back.len(), p.attachments.len());
        placeholders_to_base64(&mut data, &back);
        prop_assert_eq!(data, in_hub);
    }

    #[test]
    fn hostile_messages_never_panic_the_reassembler(
        messages in prop::collection::vec(
            prop_oneof![
                "\\PC{0,40}".prop_map(Ok),
                prop::sample::select(vec![
                    "51-[\"f\",{\"_placeholder\":true,\"num\":0}]",
                    "52-/a,3[{\"_placeholder\":true,\"num\":1}]",
                    "61-1[{\"_placeholder\":true,\"num\":0}]",
                    "511-[\"f\"]",
                    "2/a,[\"x\"]",
                ]).prop_map(|s| Ok(s.to_string())),
                prop::collection::vec(any::<u8>(), 0..8).prop_map(Err),
            ],
            0..12,
        ),
        max in 0usize..32,
    ) {
        let mut r = Reassembler::new(max);
        for m in messages {
            let _ = match m {
                Ok(text) => r.text(&text),
                Err(bytes) => r.binary(Bytes::from(bytes)),
            };
            prop_assert!(r.buffered() <= max);
        }
    }

    #[test]
    fn offsets_round_trip(seq in prop::collection::btree_map("(\\*|[a-zA-Z0-9._-]{1,16})", any::<u64>(), 0..8)) {
        prop_assert_eq!(parse_offset(&encode_offset(&seq)), Ok(seq));
    }
}
