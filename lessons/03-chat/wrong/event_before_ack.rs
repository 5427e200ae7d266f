//! Mistake: the event is checked before the ack (rule 4 before rule 3), so a frame with a broken ack and no event is MissingEvent instead of InvalidAck.
//! Caught by: rule 3 (the ack) is checked before rule 4 (the event)

use netlab::chat::protocol::{ErrorCode, CLIENT_EVENTS};
pub use netlab::chat::routing::everyone;
use serde_json::Value;

pub fn event_header(payload: &[u8]) -> Result<(String, Option<u64>), ErrorCode> {
    let value: Value = serde_json::from_slice(payload).map_err(|_| ErrorCode::InvalidJson)?;
    let Value::Object(map) = value else {
        return Err(ErrorCode::NotAnObject);
    };
    let Some(Value::String(name)) = map.get("event") else {
        return Err(ErrorCode::MissingEvent); // rule 4, too early
    };
    let ack = match map.get("ack") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or(ErrorCode::InvalidAck)?),
    };
    if !CLIENT_EVENTS.contains(&name.as_str()) {
        return Err(ErrorCode::UnknownEvent);
    }
    Ok((name.clone(), ack))
}
