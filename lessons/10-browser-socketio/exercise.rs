// Lesson 10 — exercise: Socket.IO packets with ack ids, written and read.
//
// Replace each `todo!()`, then run `netlab check 10`.
// `netlab lesson 10` has the packet grammar and a whole conversation on the wire.

use netlab::web::socketio::{Incoming, PacketError, MAX_ACK_DIGITS};
use serde_json::Value;

/// An EVENT packet: `42`, then the ack id if there is one, then the JSON array
/// `[name, ...args]`.
///
/// `encode_event(Some(1), "message", &[json!({"text":"hi"})])` is
/// `421["message",{"text":"hi"}]`; `encode_event(None, "nick", &[json!("ana")])`
/// is `42["nick","ana"]`.
pub fn encode_event(ack: Option<u64>, name: &str, args: &[Value]) -> String {
    // TODO: the name is a JSON string too (quotes inside it must be escaped):
    // build a Vec<Value> starting with Value::String(name) and let serde_json write it.
    todo!()
}

/// An ACK packet answering ack id `id`: `43`, the id, then the JSON array of the
/// answer's arguments — `431[{"ok":true}]`, or `437[]` with no arguments.
pub fn encode_ack(id: u64, args: &[Value]) -> String {
    // TODO: one format! and a JSON array.
    todo!()
}

/// Reads one WebSocket text message from a Socket.IO client.
///
/// Engine.IO first: `3` is `Incoming::Pong`, `1` is `Incoming::Close`, `4` is a
/// message carrying a Socket.IO packet; anything else is
/// `PacketError::EngineType`. Then the Socket.IO packet:
///
/// - its type digit: `0` CONNECT (any data after it is auth, ignored), `1`
///   DISCONNECT, `2` EVENT, `3` ACK; `5` and `6` are `PacketError::Binary`;
///   anything else (or nothing) is `PacketError::SocketType`;
/// - an optional namespace `/name,`: only the main one (`/,`) is allowed, any
///   other is `PacketError::Namespace`;
/// - an optional ack id: ASCII digits; more than `MAX_ACK_DIGITS` (19) of them
///   is `PacketError::AckTooLong`;
/// - the data: for EVENT a JSON array whose first element is the name (a string),
///   for ACK a JSON array of arguments; anything else is `PacketError::BadEvent`
///   (with any text you like inside). An ACK without an id is `BadEvent` too.
///
/// Never panic: the text comes from anyone on the network.
pub fn parse(text: &str) -> Result<Incoming, PacketError> {
    // TODO: look at one character at a time with `strip_prefix`; count the
    // digits with `bytes().take_while(u8::is_ascii_digit)` before parsing them;
    // `serde_json::from_str::<Value>` reads the data.
    let _ = MAX_ACK_DIGITS;
    todo!()
}
