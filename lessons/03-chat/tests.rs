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
    assert_eq!(
        everyone(&ids(3), ConnId(2), true),
        vec![ConnId(1), ConnId(2), ConnId(3)],
        "io.emit (include_sender = true) reaches every connection, the sender included"
    );
}

#[test]
fn broadcast_emit_reaches_everyone_but_the_sender() {
    assert_eq!(
        everyone(&ids(3), ConnId(2), false),
        vec![ConnId(1), ConnId(3)],
        "socket.broadcast.emit (include_sender = false) reaches everyone but the sender, 2"
    );
    assert_eq!(
        everyone(&ids(1), ConnId(1), false),
        vec![],
        "alone in the chat, a broadcast that leaves out the sender reaches nobody"
    );
}

#[test]
fn the_order_of_connections_is_kept() {
    let order = vec![ConnId(9), ConnId(4), ConnId(7)];
    assert_eq!(
        everyone(&order, ConnId(100), false),
        order,
        "the recipients come in the order of `connected` (not sorted), and a sender who is not connected takes nobody out"
    );
}

#[test]
fn a_good_frame_gives_its_event_and_ack() {
    assert_eq!(
        event_header(br#"{"event":"join","room":"lobby","ack":7}"#),
        Ok(("join".to_string(), Some(7))),
        "a known event with an integer ack gives both; other fields (room) are not looked at here"
    );
    assert_eq!(
        event_header(br#"{"event":"rooms"}"#),
        Ok(("rooms".to_string(), None)),
        "a frame without an ack gives None for it"
    );
    assert_eq!(
        event_header(br#"{"ack":null,"event":"who"}"#),
        Ok(("who".to_string(), None)),
        "an ack of null is the same as no ack, whatever the order of the fields"
    );
}

#[test]
fn bytes_that_are_not_json_are_invalid_json() {
    assert_eq!(event_header(b"hello"), Err(ErrorCode::InvalidJson), "`hello` is not JSON: rule 1, InvalidJson");
    assert_eq!(event_header(b""), Err(ErrorCode::InvalidJson), "an empty frame is not JSON: rule 1, InvalidJson");
    assert_eq!(
        event_header(b"{\"event\":"),
        Err(ErrorCode::InvalidJson),
        "JSON cut off in the middle is not JSON: rule 1, InvalidJson"
    );
}

#[test]
fn json_that_is_not_an_object_is_refused() {
    assert_eq!(
        event_header(b"[\"join\"]"),
        Err(ErrorCode::NotAnObject),
        "an array is JSON but not an object: rule 2, NotAnObject"
    );
    assert_eq!(event_header(b"42"), Err(ErrorCode::NotAnObject), "a number is JSON but not an object: rule 2, NotAnObject");
}

#[test]
fn the_ack_must_be_a_non_negative_integer() {
    assert_eq!(
        event_header(br#"{"event":"rooms","ack":-1}"#),
        Err(ErrorCode::InvalidAck),
        "an ack of -1 is negative: rule 3, InvalidAck"
    );
    assert_eq!(
        event_header(br#"{"event":"rooms","ack":"7"}"#),
        Err(ErrorCode::InvalidAck),
        "an ack of \"7\" is a string, not an integer: rule 3, InvalidAck"
    );
    assert_eq!(
        event_header(br#"{"event":"rooms","ack":1.5}"#),
        Err(ErrorCode::InvalidAck),
        "an ack of 1.5 is not an integer: rule 3, InvalidAck"
    );
    assert_eq!(
        event_header(br#"{"ack":2,"event":5}"#),
        Err(ErrorCode::MissingEvent),
        "the ack 2 is fine but the event 5 is not a string: rule 4, MissingEvent"
    );
    assert_eq!(
        event_header(br#"{"ack":"x"}"#),
        Err(ErrorCode::InvalidAck),
        "a broken ack and no event: rule 3 (the ack) is checked before rule 4 (the event), so InvalidAck"
    );
}

#[test]
fn the_event_must_be_named_and_known() {
    assert_eq!(
        event_header(br#"{"room":"lobby"}"#),
        Err(ErrorCode::MissingEvent),
        "an object without \"event\": rule 4, MissingEvent"
    );
    assert_eq!(
        event_header(br#"{"event":["join"]}"#),
        Err(ErrorCode::MissingEvent),
        "an event that is an array, not a string: rule 4, MissingEvent"
    );
    assert_eq!(
        event_header(br#"{"event":"shutdown"}"#),
        Err(ErrorCode::UnknownEvent),
        "`shutdown` is a string but not one of the six events: rule 5, UnknownEvent"
    );
    assert_eq!(
        event_header(br#"{"event":"JOIN"}"#),
        Err(ErrorCode::UnknownEvent),
        "event names are case-sensitive: `JOIN` is not `join`, so UnknownEvent"
    );
}
