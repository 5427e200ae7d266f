//! Mistake: event names are compared without regard to case, so `JOIN` is taken for `join`.
//! Caught by: event names are case-sensitive

use netlab::chat::protocol::{ErrorCode, CLIENT_EVENTS};
pub use netlab::chat::routing::everyone;
use serde_json::Value;

pub fn event_header(payload: &[u8]) -> Result<(String, Option<u64>), ErrorCode> {
    let value: Value = serde_json::from_slice(payload).map_err(|_| ErrorCode::InvalidJson)?;
    let Value::Object(map) = value else {
        return Err(ErrorCode::NotAnObject);
    };
    let ack = match map.get("ack") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or(ErrorCode::InvalidAck)?),
    };
    match map.get("event") {
        Some(Value::String(name)) if CLIENT_EVENTS.iter().any(|e| e.eq_ignore_ascii_case(name)) => {
            Ok((name.clone(), ack))
        }
        Some(Value::String(_)) => Err(ErrorCode::UnknownEvent),
        _ => Err(ErrorCode::MissingEvent),
    }
}
