//! Property tests for the Socket.IO packet parser: hostile text never panics,
//! every EVENT a client can write is read back as written, and every hub event
//! a Socket.IO client receives says exactly what the native event says.

use netlab::chat::protocol::ServerEvent;
use netlab::web::socketio::{from_native, from_native_asking, parse, AckRequests, Incoming};
use proptest::prelude::*;
use serde_json::{json, Value};

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
}
