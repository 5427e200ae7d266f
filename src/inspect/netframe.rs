//! netlab's own length-prefixed frames (lesson 02, `crate::framing`): a 4-byte
//! big-endian length, then that many payload bytes — and, inside, the chat
//! events (JSON) the hub sends.
//!
//! A TCP port cannot say "this is netlab framing", so the inspector calls a
//! payload netlab frames only when the lengths tile it exactly: every prefix
//! announces a frame that ends where the next begins, and the last ends at the
//! payload's end.

use crate::framing::HEADER_LEN;
use std::ops::Range;

/// The most frames one payload is split into before the inspector gives up.
pub const MAX_FRAMES_PER_SEGMENT: usize = 4096;

/// One frame found in a payload: where its header and payload live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameSpan {
    /// The 4-byte length prefix.
    pub header: Range<usize>,
    /// The payload.
    pub payload: Range<usize>,
}

/// The frames that tile `b` exactly, or `None` if `b` is not a run of whole frames.
pub fn tile(b: &[u8]) -> Option<Vec<FrameSpan>> {
    if b.len() < HEADER_LEN {
        return None;
    }
    let mut out = Vec::new();
    let mut at = 0;
    while at < b.len() {
        if out.len() == MAX_FRAMES_PER_SEGMENT || b.len() - at < HEADER_LEN {
            return None;
        }
        let len = u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize;
        let end = (at + HEADER_LEN).checked_add(len)?;
        if end > b.len() {
            return None;
        }
        out.push(FrameSpan {
            header: at..at + HEADER_LEN,
            payload: at + HEADER_LEN..end,
        });
        at = end;
    }
    Some(out)
}

/// A chat event: a JSON object; `type` (or `event`) names it.
pub fn chat_event(payload: &[u8]) -> Option<serde_json::Map<String, serde_json::Value>> {
    if !payload.starts_with(b"{") {
        return None;
    }
    match serde_json::from_slice(payload) {
        Ok(serde_json::Value::Object(m)) => Some(m),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_tile_exactly_or_not_at_all() {
        let b = b"\x00\x00\x00\x05hello\x00\x00\x00\x00\x00\x00\x00\x02hi";
        let t = tile(b).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].payload, 4..9);
        assert_eq!(t[1].payload, 13..13, "an empty frame");
        assert_eq!(&b[t[2].payload.clone()], b"hi");
        assert_eq!(tile(b"\x00\x00\x00\x05hell"), None, "cut short");
        assert_eq!(tile(b"\x00\x00\x00\x01hi"), None, "a stray byte after");
        assert_eq!(tile(b"\xff\xff\xff\xffxx"), None, "4 GiB announced");
        assert_eq!(tile(b"GET"), None);
    }

    #[test]
    fn chat_events_are_json_objects() {
        let m = chat_event(br#"{"type":"message","room":"lobby","text":"hi"}"#).unwrap();
        assert_eq!(m["type"], "message");
        assert!(chat_event(b"[1,2]").is_none());
        assert!(chat_event(b"{nope").is_none());
    }
}
