// Lesson 03 — exercise: who hears an emit, and the first checks on a frame.
//
// Replace each `todo!()`, then run `netlab check 03`.
// `netlab lesson 03` explains every rule the grader checks.

use netlab::chat::id::ConnId;
use netlab::chat::protocol::ErrorCode;

/// Who an emit from `sender` to everyone reaches, in the order of `connected`.
///
/// `include_sender == true` is Socket.IO's `io.emit`; `false` is
/// `socket.broadcast.emit` (everyone but the sender).
pub fn everyone(connected: &[ConnId], sender: ConnId, include_sender: bool) -> Vec<ConnId> {
    todo!()
}

/// The first checks on a client frame; the first rule broken, in this order,
/// is the error:
/// 1. the bytes are JSON, else `ErrorCode::InvalidJson`;
/// 2. the JSON is an object, else `ErrorCode::NotAnObject`;
/// 3. `"ack"`, if present and not null, is a non-negative integer, else `ErrorCode::InvalidAck`;
/// 4. `"event"` is a string, else `ErrorCode::MissingEvent`;
/// 5. it is one of nick, join, leave, message, rooms, who (case counts),
///    else `ErrorCode::UnknownEvent`.
///
/// Returns the event name and the ack id (`None` without one, or with `null`).
pub fn event_header(payload: &[u8]) -> Result<(String, Option<u64>), ErrorCode> {
    todo!()
}
