//! Mistake: the ack is read as an i64 and cast to u64, so -1 is accepted (as 18446744073709551615) instead of refused.
//! Caught by: an ack of -1 is negative

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
        Some(v) => Some(v.as_i64().ok_or(ErrorCode::InvalidAck)? as u64), // should be as_u64()
    };
    match map.get("event") {
        Some(Value::String(name)) if CLIENT_EVENTS.contains(&name.as_str()) => {
            Ok((name.clone(), ack))
        }
        Some(Value::String(_)) => Err(ErrorCode::UnknownEvent),
        _ => Err(ErrorCode::MissingEvent),
    }
}
