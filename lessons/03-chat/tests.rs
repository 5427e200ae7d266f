// Lesson 03 — the grader. Included by tests/lessons.rs (against the library)
// and exercises/tests/lesson_03.rs (against your lessons/03-chat/exercise.rs), inside
// a module where `subject` is the code under test.

use self::subject::{event_header, everyone};
use netlab::chat::id::ConnId;
use netlab::chat::protocol::ErrorCode;
use pretty_assertions::assert_eq;

fn ids(n: u128) -> Vec<ConnId> {
    (1..=n).map(ConnId).collect()
}

#[test]
fn io_emit_reaches_everyone_the_sender_too() {
    assert_eq!(everyone(&ids(3), ConnId(2), true), vec![ConnId(1), ConnId(2), ConnId(3)]);
}

#[test]
fn broadcast_emit_reaches_everyone_but_the_sender() {
    assert_eq!(everyone(&ids(3), ConnId(2), false), vec![ConnId(1), ConnId(3)]);
    assert_eq!(everyone(&ids(1), ConnId(1), false), vec![], "alone in the chat: nobody hears it");
}

#[test]
fn the_order_of_connections_is_kept() {
    let order = vec![ConnId(9), ConnId(4), ConnId(7)];
    assert_eq!(everyone(&order, ConnId(100), false), order);
}

#[test]
fn a_good_frame_gives_its_event_and_ack() {
    assert_eq!(event_header(br#"{"event":"join","room":"lobby","ack":7}"#), Ok(("join".to_string(), Some(7))));
    assert_eq!(event_header(br#"{"event":"rooms"}"#), Ok(("rooms".to_string(), None)));
    assert_eq!(event_header(br#"{"ack":null,"event":"who"}"#), Ok(("who".to_string(), None)));
}

#[test]
fn bytes_that_are_not_json_are_invalid_json() {
    assert_eq!(event_header(b"hello"), Err(ErrorCode::InvalidJson));
    assert_eq!(event_header(b""), Err(ErrorCode::InvalidJson));
    assert_eq!(event_header(b"{\"event\":"), Err(ErrorCode::InvalidJson));
}

#[test]
fn json_that_is_not_an_object_is_refused() {
    assert_eq!(event_header(b"[\"join\"]"), Err(ErrorCode::NotAnObject));
    assert_eq!(event_header(b"42"), Err(ErrorCode::NotAnObject));
}

#[test]
fn the_ack_must_be_a_non_negative_integer() {
    assert_eq!(event_header(br#"{"event":"rooms","ack":-1}"#), Err(ErrorCode::InvalidAck));
    assert_eq!(event_header(br#"{"event":"rooms","ack":"7"}"#), Err(ErrorCode::InvalidAck));
    assert_eq!(event_header(br#"{"event":"rooms","ack":1.5}"#), Err(ErrorCode::InvalidAck));
    assert_eq!(event_header(br#"{"ack":2,"event":5}"#), Err(ErrorCode::MissingEvent), "ack is fine, event is not");
}

#[test]
fn the_event_must_be_named_and_known() {
    assert_eq!(event_header(br#"{"room":"lobby"}"#), Err(ErrorCode::MissingEvent));
    assert_eq!(event_header(br#"{"event":["join"]}"#), Err(ErrorCode::MissingEvent));
    assert_eq!(event_header(br#"{"event":"shutdown"}"#), Err(ErrorCode::UnknownEvent));
    assert_eq!(event_header(br#"{"event":"JOIN"}"#), Err(ErrorCode::UnknownEvent), "names are case-sensitive");
}
