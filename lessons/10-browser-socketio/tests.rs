// Lesson 10 — the grader. Included by tests/lessons.rs (against the library)
// and tests/exercises.rs (against your lessons/10-browser-socketio/exercise.rs),
// inside a module where `subject` is the code under test.
//
// The expected packets are written out by hand from the socket.io-protocol v5
// and engine.io-protocol v4 documents ("Packet encoding", "Packet format").

use self::subject::{encode_ack, encode_event, parse};
use netlab::web::socketio::{Incoming, PacketError};
use pretty_assertions::assert_eq;
use serde_json::{json, Value};

fn event(ack: Option<u64>, name: &str, args: Vec<Value>) -> Incoming {
    Incoming::Event { ack, name: name.to_string(), args }
}

#[test]
fn encodes_events_with_and_without_an_ack_id() {
    assert_eq!(encode_event(None, "nick", &[json!("ana")]), r#"42["nick","ana"]"#);
    assert_eq!(encode_event(Some(1), "join", &[json!("lobby")]), r#"421["join","lobby"]"#);
    assert_eq!(
        encode_event(Some(1), "message", &[json!({"text": "hi", "to": ["lobby"]})]),
        r#"421["message",{"text":"hi","to":["lobby"]}]"#
    );
    assert_eq!(encode_event(None, "rooms", &[]), r#"42["rooms"]"#);
    // socket.io-client numbers its acks from 0: id 0 is an id, not "no id".
    assert_eq!(encode_event(Some(0), "who", &[json!("lobby")]), r#"420["who","lobby"]"#);
    assert_eq!(encode_event(Some(4711), "x", &[]), r#"424711["x"]"#);
}

#[test]
fn encodes_any_json_arguments_and_escapes_the_name() {
    assert_eq!(
        encode_event(None, "say \"hi\"", &[json!(1), json!(null), json!([true, 2.5]), json!("a\nb")]),
        r#"42["say \"hi\"",1,null,[true,2.5],"a\nb"]"#
    );
}

#[test]
fn encodes_acks() {
    assert_eq!(encode_ack(1, &[json!({"ok": true, "reached": 2})]), r#"431[{"ok":true,"reached":2}]"#);
    assert_eq!(encode_ack(7, &[]), "437[]");
    assert_eq!(encode_ack(12, &[json!("a"), json!(2)]), r#"4312["a",2]"#);
    assert_eq!(encode_ack(0, &[json!(null)]), "430[null]");
}

#[test]
fn parses_engine_io_packets() {
    assert_eq!(parse("3"), Ok(Incoming::Pong));
    assert_eq!(parse("1"), Ok(Incoming::Close));
    assert!(matches!(parse("9"), Err(PacketError::EngineType(_))));
    assert!(matches!(parse(""), Err(PacketError::EngineType(_))));
    assert!(matches!(parse("x42[\"a\"]"), Err(PacketError::EngineType(_))));
}

#[test]
fn parses_connect_and_disconnect() {
    assert_eq!(parse("40"), Ok(Incoming::Connect));
    assert_eq!(parse(r#"40{"token":"abc"}"#), Ok(Incoming::Connect));
    assert_eq!(parse("40/,"), Ok(Incoming::Connect));
    assert_eq!(parse("41"), Ok(Incoming::Disconnect));
}

#[test]
fn parses_events_with_and_without_an_ack_id() {
    assert_eq!(parse(r#"42["nick","ana"]"#), Ok(event(None, "nick", vec![json!("ana")])));
    assert_eq!(parse(r#"421["join","lobby"]"#), Ok(event(Some(1), "join", vec![json!("lobby")])));
    assert_eq!(parse(r#"420["who","lobby"]"#), Ok(event(Some(0), "who", vec![json!("lobby")])));
    assert_eq!(
        parse(r#"4213["message",{"text":"hi","to":["lobby"]},7]"#),
        Ok(event(Some(13), "message", vec![json!({"to": ["lobby"], "text": "hi"}), json!(7)]))
    );
    assert_eq!(parse(r#"42["rooms"]"#), Ok(event(None, "rooms", vec![])));
    // The main namespace may be written out as "/,".
    assert_eq!(parse(r#"42/,5["a"]"#), Ok(event(Some(5), "a", vec![])));
}

#[test]
fn parses_acks_from_the_client() {
    assert_eq!(parse(r#"431["ok"]"#), Ok(Incoming::Ack { id: 1, args: vec![json!("ok")] }));
    assert_eq!(parse("4399[]"), Ok(Incoming::Ack { id: 99, args: vec![] }));
    assert!(matches!(parse(r#"43["no id"]"#), Err(PacketError::BadEvent(_))), "an ACK needs an id");
}

#[test]
fn ack_ids_have_at_most_19_digits() {
    // 19 digits: the longest id allowed (it fits in a u64).
    assert_eq!(parse(r#"421234567890123456789["a"]"#), Ok(event(Some(1_234_567_890_123_456_789), "a", vec![])));
    assert_eq!(parse(r#"439999999999999999999[]"#), Ok(Incoming::Ack { id: 9_999_999_999_999_999_999, args: vec![] }));
    // 20 digits: refused before any arithmetic can overflow.
    assert_eq!(parse(r#"4212345678901234567890["a"]"#), Err(PacketError::AckTooLong));
    assert_eq!(parse(r#"4399999999999999999999[]"#), Err(PacketError::AckTooLong));
    let huge = format!("42{}[\"a\"]", "9".repeat(10_000));
    assert_eq!(parse(&huge), Err(PacketError::AckTooLong));
}

#[test]
fn refuses_binary_attachments_and_other_namespaces() {
    assert_eq!(parse(r#"451-["upload",{"_placeholder":true,"num":0}]"#), Err(PacketError::Binary));
    assert_eq!(parse(r#"461-7[{"_placeholder":true,"num":0}]"#), Err(PacketError::Binary));
    assert!(matches!(parse("40/admin,"), Err(PacketError::Namespace(ns)) if ns == "/admin"));
    assert!(matches!(parse(r#"42/chat,["a"]"#), Err(PacketError::Namespace(ns)) if ns == "/chat"));
}

#[test]
fn refuses_unknown_socket_io_types_and_bad_event_data() {
    assert!(matches!(parse("4"), Err(PacketError::SocketType(_))));
    assert!(matches!(parse("47[]"), Err(PacketError::SocketType(_))));
    assert!(matches!(parse("4x"), Err(PacketError::SocketType(_))));
    for bad in [r#"42{"a":1}"#, "42[1]", "42[]", r#"42["a""#, "42", "42 hello"] {
        assert!(matches!(parse(bad), Err(PacketError::BadEvent(_))), "{bad:?} is not an EVENT");
    }
}

#[test]
fn hostile_text_is_an_error_not_a_panic() {
    for bad in ["4é", "42é", "4\u{1F600}", "42/é,[]", "42/", "4/", "43", "42[\"a\"]]", "\u{0}"] {
        assert!(parse(bad).is_err(), "{bad:?} must be refused");
    }
}

#[test]
fn what_is_encoded_parses_back() {
    let args = [json!({"text": "hi", "to": ["lobby"]}), json!([1, "two", null]), json!("ünïcødé \"quoted\"")];
    for ack in [None, Some(0), Some(1), Some(42), Some(1_234_567_890_123_456_789)] {
        for n in 0..=args.len() {
            for name in ["message", "with \"quotes\"", "é"] {
                let wire = encode_event(ack, name, &args[..n]);
                assert_eq!(parse(&wire), Ok(event(ack, name, args[..n].to_vec())), "{wire}");
            }
        }
    }
    for id in [0, 3, 1_234_567_890_123_456_789] {
        let wire = encode_ack(id, &args);
        assert_eq!(parse(&wire), Ok(Incoming::Ack { id, args: args.to_vec() }), "{wire}");
    }
}
