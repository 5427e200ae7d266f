//! Binary attachments (socket.io-protocol v5, "Packet encoding", binary
//! types 5 and 6): how bytes ride next to JSON.
//!
//! JSON has no bytes, so a sender takes every binary value out of the data,
//! leaves a placeholder `{"_placeholder":true,"num":N}` in its place, sends
//! the packet as text with its attachment count (`51-[…]`), then sends each
//! attachment as a binary Engine.IO message, in order:
//!
//! ```text
//! 451-["file",{"_placeholder":true,"num":0}]     a text message
//! <0x89 0x50 0x4e 0x47 …>                          a binary message: attachment 0
//! ```
//!
//! A receiver therefore cannot act on the text alone: the [`Reassembler`]
//! holds the packet until all its attachments have arrived. It is where a
//! hostile client would try to make the server buffer without end, so
//! everything is bounded: the count by [`MAX_ATTACHMENTS`] (checked on the
//! header, before any byte is kept), the bytes by a limit the session gives
//! (its `maxPayload`). Anything out of order is an error that ends only that
//! client's session.
//!
//! The chat hub speaks JSON, so between the hub and Socket.IO a binary value
//! travels as `{"_binary":"<base64>"}` ([`BINARY_KEY`]):
//! [`placeholders_to_base64`] on the way in, [`base64_to_placeholders`] on
//! the way out.

use super::packet::{
    placeholder, Packet, ParseError, MAX_ATTACHMENTS, PLACEHOLDER_KEY, PLACEHOLDER_NUM_KEY,
};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::Bytes;
use serde_json::{Map, Value};
use thiserror::Error;

/// The key of a binary value in the chat hub's JSON: `{"_binary":"<base64>"}`
/// (standard base64 with padding, RFC 4648 §4).
pub const BINARY_KEY: &str = "_binary";

/// Why a Socket.IO message from a client could not be read; its session ends.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReassemblyError {
    /// The text packet broke a rule.
    #[error(transparent)]
    Packet(#[from] ParseError),
    /// A binary message is an attachment of the packet before it.
    #[error("a binary message with no binary packet waiting for it")]
    UnexpectedBinary,
    /// A packet's attachments come right after it, before any other packet.
    #[error("a text packet while {missing} attachment(s) of the previous packet were still due")]
    AttachmentsMissing {
        /// How many were still due.
        missing: usize,
    },
    /// One packet's attachments together are bounded.
    #[error("the attachments of one packet add up to more than {max} bytes")]
    AttachmentsTooLarge {
        /// The limit.
        max: usize,
    },
}

/// A binary packet waiting for its attachments.
#[derive(Debug)]
struct Waiting {
    packet: Packet,
    announced: usize,
    bytes: usize,
}

/// Turns a client's Engine.IO messages back into whole Socket.IO packets:
/// text packets pass straight through, a binary packet waits for its
/// attachments. One per session (attachments follow their packet on the
/// same session, whatever its namespace).
#[derive(Debug)]
pub struct Reassembler {
    max_bytes: usize,
    waiting: Option<Waiting>,
}

impl Reassembler {
    /// A reassembler that holds at most `max_bytes` of one packet's attachments.
    pub fn new(max_bytes: usize) -> Reassembler {
        Reassembler {
            max_bytes,
            waiting: None,
        }
    }

    /// A text message: the packet it holds, or `None` while its attachments are due.
    pub fn text(&mut self, text: &str) -> Result<Option<Packet>, ReassemblyError> {
        if let Some(w) = &self.waiting {
            return Err(ReassemblyError::AttachmentsMissing {
                missing: w.announced - w.packet.attachments.len(),
            });
        }
        let (packet, announced) = Packet::parse(text)?;
        if announced == 0 {
            return Ok(Some(packet));
        }
        self.waiting = Some(Waiting {
            packet,
            announced,
            bytes: 0,
        });
        Ok(None)
    }

    /// A binary message: the attachment of the packet waiting; the packet
    /// once it is the last one.
    pub fn binary(&mut self, data: Bytes) -> Result<Option<Packet>, ReassemblyError> {
        let Some(w) = self.waiting.as_mut() else {
            return Err(ReassemblyError::UnexpectedBinary);
        };
        w.bytes = w.bytes.saturating_add(data.len());
        if w.bytes > self.max_bytes {
            self.waiting = None;
            return Err(ReassemblyError::AttachmentsTooLarge {
                max: self.max_bytes,
            });
        }
        w.packet.attachments.push(data);
        if w.packet.attachments.len() < w.announced {
            return Ok(None);
        }
        Ok(self.waiting.take().map(|w| w.packet))
    }

    /// Bytes of attachments held for a packet not yet complete.
    pub fn buffered(&self) -> usize {
        self.waiting.as_ref().map_or(0, |w| w.bytes)
    }
}

/// Replaces every placeholder in `data` with `{"_binary":"<base64>"}` of
/// the attachment it names (a client's packet on its way to the chat hub).
/// Placeholders were checked by [`Packet::parse`]; one naming no attachment
/// is left as it is.
pub fn placeholders_to_base64(data: &mut Value, attachments: &[Bytes]) {
    match data {
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| placeholders_to_base64(v, attachments)),
        Value::Object(map) if map.get(PLACEHOLDER_KEY) == Some(&Value::Bool(true)) => {
            let num = map.get(PLACEHOLDER_NUM_KEY).and_then(Value::as_u64);
            if let Some(bytes) = num.and_then(|n| attachments.get(usize::try_from(n).ok()?)) {
                *data = base64_value(bytes);
            }
        }
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| placeholders_to_base64(v, attachments)),
        _ => {}
    }
}

/// `{"_binary":"<base64>"}` of `bytes`.
pub fn base64_value(bytes: &[u8]) -> Value {
    let mut map = Map::new();
    map.insert(BINARY_KEY.into(), Value::String(BASE64.encode(bytes)));
    Value::Object(map)
}

/// Takes every `{"_binary":"<base64>"}` out of `data`, in document order,
/// leaving placeholders, and returns the bytes (a hub event on its way to a
/// Socket.IO client). At most [`MAX_ATTACHMENTS`] are taken; a value that is
/// not valid base64, or past the limit, stays JSON.
pub fn base64_to_placeholders(data: &mut Value) -> Vec<Bytes> {
    let mut out = Vec::new();
    take_base64(data, &mut out);
    out
}

fn take_base64(data: &mut Value, out: &mut Vec<Bytes>) {
    match data {
        Value::Array(items) => items.iter_mut().for_each(|v| take_base64(v, out)),
        Value::Object(map) => {
            if map.len() == 1 && out.len() < MAX_ATTACHMENTS {
                if let Some(Value::String(b64)) = map.get(BINARY_KEY) {
                    if let Ok(bytes) = BASE64.decode(b64) {
                        *data = placeholder(out.len());
                        out.push(Bytes::from(bytes));
                        return;
                    }
                }
            }
            map.values_mut().for_each(|v| take_base64(v, out));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::socketio::packet::PacketType;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    const FILE: &str = "51-[\"file\",{\"_placeholder\":true,\"num\":0}]";

    #[test]
    fn a_binary_event_waits_for_its_attachment() {
        let mut r = Reassembler::new(1024);
        assert_eq!(r.text(FILE), Ok(None));
        let p = r.binary(Bytes::from_static(b"\x89PNG")).unwrap().unwrap();
        assert_eq!(p.kind, PacketType::BinaryEvent);
        assert_eq!(p.event_name(), Some("file"));
        assert_eq!(p.attachments, vec![Bytes::from_static(b"\x89PNG")]);
        // Then the next packet reads as usual.
        assert_eq!(r.text("2[\"a\"]").unwrap().unwrap().event_name(), Some("a"));
    }

    #[test]
    fn several_attachments_arrive_in_order() {
        let mut r = Reassembler::new(1024);
        let head =
            "62-/admin,4[{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":0}]";
        assert_eq!(r.text(head), Ok(None));
        assert_eq!(r.binary(Bytes::from_static(b"first")), Ok(None));
        assert_eq!(r.buffered(), 5);
        let p = r.binary(Bytes::from_static(b"second")).unwrap().unwrap();
        assert_eq!(
            (p.kind, p.nsp.as_str(), p.id),
            (PacketType::BinaryAck, "/admin", Some(4))
        );
        assert_eq!(
            p.attachments,
            vec![Bytes::from_static(b"first"), Bytes::from_static(b"second")]
        );
        assert_eq!(r.buffered(), 0);
    }

    #[test]
    fn out_of_order_messages_are_errors() {
        let mut r = Reassembler::new(1024);
        assert_eq!(
            r.binary(Bytes::from_static(b"x")),
            Err(ReassemblyError::UnexpectedBinary)
        );
        let mut r = Reassembler::new(1024);
        assert_eq!(
            r.text("52-[\"f\",{\"_placeholder\":true,\"num\":1}]"),
            Ok(None)
        );
        assert_eq!(r.binary(Bytes::from_static(b"x")), Ok(None));
        assert_eq!(
            r.text("2[\"a\"]"),
            Err(ReassemblyError::AttachmentsMissing { missing: 1 })
        );
        // Errors from the header are the packet's own rules.
        let mut r = Reassembler::new(1024);
        assert!(matches!(
            r.text("51-[\"f\",{\"_placeholder\":true,\"num\":1}]"),
            Err(ReassemblyError::Packet(ParseError::Placeholder(_)))
        ));
        assert_eq!(
            r.binary(Bytes::new()),
            Err(ReassemblyError::UnexpectedBinary)
        );
    }

    #[test]
    fn the_bytes_of_one_packet_are_bounded_at_the_edge() {
        let head = "52-[\"f\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]";
        let mut r = Reassembler::new(10);
        r.text(head).unwrap();
        r.binary(Bytes::from(vec![0; 4])).unwrap();
        assert_eq!(
            r.binary(Bytes::from(vec![0; 6]))
                .unwrap()
                .unwrap()
                .attachments
                .len(),
            2
        );
        let mut r = Reassembler::new(10);
        r.text(head).unwrap();
        r.binary(Bytes::from(vec![0; 4])).unwrap();
        assert_eq!(
            r.binary(Bytes::from(vec![0; 7])),
            Err(ReassemblyError::AttachmentsTooLarge { max: 10 })
        );
        assert_eq!(r.buffered(), 0, "nothing is kept after the refusal");
    }

    #[test]
    fn zero_attachments_is_a_whole_packet() {
        let mut r = Reassembler::new(0);
        assert_eq!(
            r.text("50-[\"f\"]").unwrap().unwrap().kind,
            PacketType::BinaryEvent
        );
    }

    #[test]
    fn binary_crosses_into_the_hubs_json_and_back() {
        let attachments = vec![Bytes::from_static(b"\x00\xffhi"), Bytes::from_static(b"")];
        let mut data = json!([{"to":["lobby"],"data": placeholder(0), "more": [placeholder(1)]}]);
        placeholders_to_base64(&mut data, &attachments);
        assert_eq!(
            data,
            json!([{"to":["lobby"],"data":{"_binary":"AP9oaQ=="},"more":[{"_binary":""}]}])
        );
        let back = base64_to_placeholders(&mut data);
        assert_eq!(back, attachments);
        assert_eq!(
            data,
            json!([{"to":["lobby"],"data": placeholder(0), "more": [placeholder(1)]}])
        );
        // Not base64, or another shape: left as JSON.
        let mut other =
            json!({"a":{"_binary":"!!"},"b":{"_binary":"AA==","x":1},"c":{"_binary":5}});
        let before = other.clone();
        assert!(base64_to_placeholders(&mut other).is_empty());
        assert_eq!(other, before);
    }

    #[test]
    fn at_most_max_attachments_are_taken_out() {
        let mut data = Value::Array(
            (0..MAX_ATTACHMENTS + 1)
                .map(|_| base64_value(b"x"))
                .collect(),
        );
        let taken = base64_to_placeholders(&mut data);
        assert_eq!(taken.len(), MAX_ATTACHMENTS);
        assert_eq!(data[MAX_ATTACHMENTS], base64_value(b"x"));
        assert_eq!(data[MAX_ATTACHMENTS - 1], placeholder(MAX_ATTACHMENTS - 1));
    }
}
