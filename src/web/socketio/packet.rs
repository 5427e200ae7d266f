//! One Socket.IO packet (socket.io-protocol v5, "Packet format"), as text:
//!
//! ```text
//! <type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]
//! ```
//!
//! | part | when | example |
//! |---|---|---|
//! | type | always: one digit, [`PacketType`] | `2` |
//! | attachments | binary types (5, 6) only: how many binary messages follow, then `-` | `1-` |
//! | namespace | any namespace but the main one `/`, then `,` | `/admin,` |
//! | ack id | when the sender wants an answer (digits) | `13` |
//! | data | JSON: CONNECT an object, EVENT `[name, ...args]`, ACK `[...args]` | `["hi",1]` |
//!
//! So `2/admin,13["hi",1]` is an EVENT named `hi` in namespace `/admin`
//! asking for an answer under id 13, and `51-["file",{"_placeholder":true,"num":0}]`
//! is an EVENT whose argument is the binary message that comes next
//! (see [`super::binary`]).
//!
//! This text travels inside an Engine.IO *message* (`4…` on a WebSocket or in
//! a polling payload); Engine.IO's own packets (open, ping, pong, close) never
//! reach this layer. [`Packet::parse`] treats its input as hostile: it never
//! panics, and each broken rule is its own [`ParseError`].

use bytes::Bytes;
use serde_json::{Map, Value};
use thiserror::Error;

/// Most digits an ack id may have (u64 has 20).
pub const MAX_ACK_DIGITS: usize = 19;

/// The main namespace, which every client joins unless it names another.
pub const MAIN_NAMESPACE: &str = "/";

/// Longest namespace name, `/` included. Names are chosen by the server
/// (`--namespace`); this only bounds what a client can make us echo back.
pub const MAX_NAMESPACE_LEN: usize = 64;

/// Most binary attachments one packet may announce: socket.io-parser's own
/// default (`maxAttachments: 10`). The count is read before any attachment
/// arrives, so a packet announcing more is refused before anything is buffered.
pub const MAX_ATTACHMENTS: usize = 10;

/// The key that marks a placeholder object: `{"_placeholder":true,"num":0}`.
pub const PLACEHOLDER_KEY: &str = "_placeholder";

/// The key of a placeholder's attachment index.
pub const PLACEHOLDER_NUM_KEY: &str = "num";

/// Socket.IO packet types (socket.io-protocol v5, "Packet types"): the
/// first digit of every packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `0`: join a namespace (client → server, maybe with auth data); the
    /// server answers with CONNECT carrying `{"sid":…}`.
    Connect,
    /// `1`: leave a namespace (either side).
    Disconnect,
    /// `2`: an event `[name, ...args]`, maybe with an ack id.
    Event,
    /// `3`: the answer to an event that carried an ack id.
    Ack,
    /// `4`: the server refuses a CONNECT: `{"message":…}`.
    ConnectError,
    /// `5`: an EVENT whose data holds binary: placeholders in the JSON, the
    /// bytes in binary messages that follow.
    BinaryEvent,
    /// `6`: an ACK whose data holds binary, the same way.
    BinaryAck,
}

impl PacketType {
    /// The type's digit on the wire.
    pub fn digit(self) -> u8 {
        match self {
            PacketType::Connect => b'0',
            PacketType::Disconnect => b'1',
            PacketType::Event => b'2',
            PacketType::Ack => b'3',
            PacketType::ConnectError => b'4',
            PacketType::BinaryEvent => b'5',
            PacketType::BinaryAck => b'6',
        }
    }

    /// The type a digit stands for, if any.
    pub fn from_digit(digit: u8) -> Option<PacketType> {
        Some(match digit {
            b'0' => PacketType::Connect,
            b'1' => PacketType::Disconnect,
            b'2' => PacketType::Event,
            b'3' => PacketType::Ack,
            b'4' => PacketType::ConnectError,
            b'5' => PacketType::BinaryEvent,
            b'6' => PacketType::BinaryAck,
            _ => return None,
        })
    }

    /// Whether attachments follow a packet of this type (5 and 6).
    pub fn is_binary(self) -> bool {
        matches!(self, PacketType::BinaryEvent | PacketType::BinaryAck)
    }
}

/// Why a Socket.IO packet could not be read: each variant is one rule.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// A packet starts with its type digit.
    #[error("an empty Socket.IO packet: each packet starts with its type digit 0-6")]
    Empty,
    /// Socket.IO packet types are 0–6 ("Packet types").
    #[error("unknown Socket.IO packet type {0:?}: it is one digit 0-6")]
    Type(String),
    /// A binary packet (5, 6) says how many attachments follow, then `-`.
    #[error(
        "a binary packet (type 5 or 6) must give its attachment count, then '-' (e.g. 51-[...])"
    )]
    AttachmentCount,
    /// The count is bounded before anything is buffered.
    #[error(
        "the packet announces {announced} attachments; at most {MAX_ATTACHMENTS} are accepted"
    )]
    TooManyAttachments {
        /// What the packet announced.
        announced: u64,
    },
    /// A namespace is `/` and a name, at most [`MAX_NAMESPACE_LEN`] bytes.
    #[error("a namespace name longer than {MAX_NAMESPACE_LEN} bytes")]
    NamespaceTooLong,
    /// The ack id is digits, at most [`MAX_ACK_DIGITS`] of them.
    #[error("ack id is too long (at most {MAX_ACK_DIGITS} digits)")]
    AckTooLong,
    /// The data is JSON.
    #[error("the packet's data is not JSON: {0}")]
    Json(String),
    /// The data has the shape its type needs (socket.io-parser `isPayloadValid`).
    #[error("{kind:?} data {rule}")]
    Payload {
        /// The packet's type.
        kind: PacketType,
        /// The rule it broke, in words.
        rule: &'static str,
    },
    /// An ACK answers an id.
    #[error("an ACK needs the ack id it answers (e.g. 31[...])")]
    AckWithoutId,
    /// A placeholder names one of the packet's attachments by its index.
    #[error("a malformed placeholder: {0}")]
    Placeholder(String),
}

/// One Socket.IO packet: its type, namespace, ack id, JSON data, and — for
/// the binary types — its attachments.
///
/// Binary data lives in two places between parsing and encoding: the JSON
/// keeps a placeholder `{"_placeholder":true,"num":N}` where each binary
/// value was, and [`Packet::attachments`] holds the bytes, attachment `N` at
/// index `N` — exactly the shape on the wire, so encoding writes the JSON as
/// it is and sends the attachments after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// The packet type.
    pub kind: PacketType,
    /// The namespace, `/` for the main one.
    pub nsp: String,
    /// The ack id, if the sender wants an answer (or this answers one).
    pub id: Option<u64>,
    /// The JSON data, if any (placeholders where the binary values were).
    pub data: Option<Value>,
    /// The binary attachments (binary types only), in placeholder order.
    pub attachments: Vec<Bytes>,
}

impl Packet {
    /// A CONNECT to namespace `nsp`, with optional auth data (client → server).
    pub fn connect(nsp: &str, auth: Option<Value>) -> Packet {
        Packet::plain(PacketType::Connect, nsp, None, auth)
    }

    /// The server's CONNECT answer: `{"sid":…}`, and `pid` when connection
    /// state recovery is on (socket.io 4.6+).
    pub fn connected(nsp: &str, sid: &str, pid: Option<&str>) -> Packet {
        let mut data = Map::new();
        data.insert("sid".into(), Value::String(sid.to_string()));
        if let Some(pid) = pid {
            data.insert("pid".into(), Value::String(pid.to_string()));
        }
        Packet::plain(PacketType::Connect, nsp, None, Some(Value::Object(data)))
    }

    /// A CONNECT_ERROR saying why: `{"message":…}`.
    pub fn connect_error(nsp: &str, message: &str) -> Packet {
        let data = serde_json::json!({ "message": message });
        Packet::plain(PacketType::ConnectError, nsp, None, Some(data))
    }

    /// A DISCONNECT from namespace `nsp`.
    pub fn disconnect(nsp: &str) -> Packet {
        Packet::plain(PacketType::Disconnect, nsp, None, None)
    }

    /// An EVENT `[name, ...args]`; BINARY_EVENT when there are attachments
    /// (then `args` holds their placeholders).
    pub fn event(
        nsp: &str,
        id: Option<u64>,
        name: &str,
        args: Vec<Value>,
        attachments: Vec<Bytes>,
    ) -> Packet {
        let mut data = Vec::with_capacity(args.len() + 1);
        data.push(Value::String(name.to_string()));
        data.extend(args);
        let kind = if attachments.is_empty() {
            PacketType::Event
        } else {
            PacketType::BinaryEvent
        };
        Packet {
            kind,
            nsp: nsp.to_string(),
            id,
            data: Some(Value::Array(data)),
            attachments,
        }
    }

    /// An ACK answering `id` with `args`; BINARY_ACK when there are attachments.
    pub fn ack(nsp: &str, id: u64, args: Vec<Value>, attachments: Vec<Bytes>) -> Packet {
        let kind = if attachments.is_empty() {
            PacketType::Ack
        } else {
            PacketType::BinaryAck
        };
        Packet {
            kind,
            nsp: nsp.to_string(),
            id: Some(id),
            data: Some(Value::Array(args)),
            attachments,
        }
    }

    fn plain(kind: PacketType, nsp: &str, id: Option<u64>, data: Option<Value>) -> Packet {
        Packet {
            kind,
            nsp: nsp.to_string(),
            id,
            data,
            attachments: Vec::new(),
        }
    }

    /// An EVENT's name (the first element of its data).
    pub fn event_name(&self) -> Option<&str> {
        match (&self.kind, &self.data) {
            (PacketType::Event | PacketType::BinaryEvent, Some(Value::Array(a))) => {
                a.first()?.as_str()
            }
            _ => None,
        }
    }

    /// An EVENT's arguments (after the name), or an ACK's.
    pub fn args(&self) -> &[Value] {
        match (&self.kind, &self.data) {
            (PacketType::Event | PacketType::BinaryEvent, Some(Value::Array(a))) => {
                a.get(1..).unwrap_or(&[])
            }
            (PacketType::Ack | PacketType::BinaryAck, Some(Value::Array(a))) => a,
            _ => &[],
        }
    }

    /// The packet as text: type, attachment count (binary types), namespace,
    /// ack id, data. The attachments go after it as binary messages.
    pub fn encode(&self) -> String {
        let data = self.data.as_ref().map(Value::to_string);
        let mut out =
            String::with_capacity(8 + self.nsp.len() + data.as_ref().map_or(0, String::len));
        out.push(self.kind.digit() as char);
        if self.kind.is_binary() {
            out.push_str(&self.attachments.len().to_string());
            out.push('-');
        }
        if self.nsp != MAIN_NAMESPACE {
            out.push_str(&self.nsp);
            out.push(',');
        }
        if let Some(id) = self.id {
            out.push_str(&id.to_string());
        }
        if let Some(d) = data {
            out.push_str(&d);
        }
        out
    }

    /// Reads one text packet. For a binary type the attachments are still to
    /// come: the packet has none yet, and the count it announced is returned
    /// beside it (0 for the other types); its placeholders were checked
    /// against that count already.
    pub fn parse(text: &str) -> Result<(Packet, usize), ParseError> {
        let bytes = text.as_bytes();
        let Some(&digit) = bytes.first() else {
            return Err(ParseError::Empty);
        };
        let kind = PacketType::from_digit(digit)
            .ok_or_else(|| ParseError::Type(text.chars().take(8).collect()))?;
        let mut at = 1;
        let mut announced = 0;
        if kind.is_binary() {
            let digits = count_digits(&bytes[at..]);
            if digits == 0 || bytes.get(at + digits) != Some(&b'-') {
                return Err(ParseError::AttachmentCount);
            }
            if digits > MAX_ACK_DIGITS {
                return Err(ParseError::TooManyAttachments {
                    announced: u64::MAX,
                });
            }
            let n: u64 = text[at..at + digits]
                .parse()
                .map_err(|_| ParseError::AttachmentCount)?;
            if n > MAX_ATTACHMENTS as u64 {
                return Err(ParseError::TooManyAttachments { announced: n });
            }
            announced = n as usize;
            at += digits + 1;
        }
        // The namespace: "/name," (or "/name" ending the packet); none means "/".
        let mut nsp = MAIN_NAMESPACE;
        if bytes.get(at) == Some(&b'/') {
            let end = text[at..].find(',').map_or(text.len(), |i| at + i);
            if end - at > MAX_NAMESPACE_LEN {
                return Err(ParseError::NamespaceTooLong);
            }
            nsp = &text[at..end];
            at = (end + 1).min(text.len());
        }
        let digits = count_digits(&bytes[at..]);
        if digits > MAX_ACK_DIGITS {
            return Err(ParseError::AckTooLong);
        }
        let id = if digits > 0 {
            Some(
                text[at..at + digits]
                    .parse::<u64>()
                    .map_err(|_| ParseError::AckTooLong)?,
            )
        } else {
            None
        };
        at += digits;
        let data = match &text[at..] {
            "" => None,
            json => Some(
                serde_json::from_str::<Value>(json).map_err(|e| ParseError::Json(e.to_string()))?,
            ),
        };
        check_payload(kind, id, data.as_ref())?;
        if kind.is_binary() {
            if let Some(d) = &data {
                check_placeholders(d, announced)?;
            }
        }
        let packet = Packet::plain(kind, nsp, id, data);
        Ok((packet, announced))
    }
}

/// How many ASCII digits `bytes` starts with.
fn count_digits(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| b.is_ascii_digit()).count()
}

/// The data each type may carry (socket.io-parser's `isPayloadValid`), and
/// the ack id an ACK needs.
fn check_payload(
    kind: PacketType,
    id: Option<u64>,
    data: Option<&Value>,
) -> Result<(), ParseError> {
    let bad = |rule| Err(ParseError::Payload { kind, rule });
    match (kind, data) {
        (PacketType::Connect, None | Some(Value::Object(_))) => Ok(()),
        (PacketType::Connect, Some(_)) => bad("must be a JSON object (the auth data), or nothing"),
        (PacketType::Disconnect, None) => Ok(()),
        (PacketType::Disconnect, Some(_)) => bad("must be empty"),
        (PacketType::ConnectError, Some(Value::Object(_) | Value::String(_))) => Ok(()),
        (PacketType::ConnectError, _) => bad("must be an object or a string"),
        (PacketType::Event | PacketType::BinaryEvent, Some(Value::Array(a))) => match a.first() {
            Some(Value::String(_)) => Ok(()),
            _ => bad("must be a JSON array starting with the event name (a string)"),
        },
        (PacketType::Event | PacketType::BinaryEvent, _) => {
            bad("must be a JSON array starting with the event name (a string)")
        }
        (PacketType::Ack | PacketType::BinaryAck, Some(Value::Array(_))) => match id {
            Some(_) => Ok(()),
            None => Err(ParseError::AckWithoutId),
        },
        (PacketType::Ack | PacketType::BinaryAck, _) => {
            bad("must be a JSON array (the answer's arguments)")
        }
    }
}

/// Every placeholder in `data` names an attachment `0..count` by an integer
/// `num` (socket.io-parser throws "illegal attachments" otherwise).
/// Checked when the header arrives, before any attachment is buffered.
pub fn check_placeholders(data: &Value, count: usize) -> Result<(), ParseError> {
    match data {
        Value::Array(items) => items.iter().try_for_each(|v| check_placeholders(v, count)),
        Value::Object(map) if map.get(PLACEHOLDER_KEY) == Some(&Value::Bool(true)) => {
            match map.get(PLACEHOLDER_NUM_KEY).and_then(Value::as_u64) {
                Some(n) if n < count as u64 => Ok(()),
                Some(n) => Err(ParseError::Placeholder(format!(
                    "num {n} is out of range: the packet announced {count} attachments"
                ))),
                None => Err(ParseError::Placeholder(
                    "num must be a non-negative integer".into(),
                )),
            }
        }
        Value::Object(map) => map.values().try_for_each(|v| check_placeholders(v, count)),
        _ => Ok(()),
    }
}

/// The placeholder standing for attachment `num`.
pub fn placeholder(num: usize) -> Value {
    let mut map = Map::new();
    map.insert(PLACEHOLDER_KEY.into(), Value::Bool(true));
    map.insert(PLACEHOLDER_NUM_KEY.into(), Value::from(num));
    Value::Object(map)
}

/// Whether a namespace name is one the server may offer: `/` then up to
/// [`MAX_NAMESPACE_LEN`]` - 1` visible ASCII characters, no `,` (it ends the
/// namespace on the wire), no `?`/`#` (they would end the path in a URL).
pub fn valid_namespace(nsp: &str) -> bool {
    nsp.starts_with('/')
        && nsp.len() <= MAX_NAMESPACE_LEN
        && nsp
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b',' | b'?' | b'#'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn parse(s: &str) -> Result<Packet, ParseError> {
        Packet::parse(s).map(|(p, _)| p)
    }

    #[test]
    fn packets_from_the_protocol_document() {
        // socket.io-protocol v5, "Exchange protocol" examples.
        assert_eq!(parse("0").unwrap(), Packet::connect("/", None));
        assert_eq!(
            parse("0/admin,{\"token\":\"123\"}").unwrap(),
            Packet::connect("/admin", Some(json!({"token":"123"})))
        );
        assert_eq!(
            parse("0{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}").unwrap().data,
            Some(json!({"sid":"oSO0OpakMV_3jnilAAAA"}))
        );
        assert_eq!(parse("1/admin,").unwrap(), Packet::disconnect("/admin"));
        assert_eq!(
            parse("2[\"foo\"]").unwrap(),
            Packet::event("/", None, "foo", vec![], vec![])
        );
        assert_eq!(
            parse("2/admin,12[\"bar\"]").unwrap(),
            Packet::event("/admin", Some(12), "bar", vec![], vec![])
        );
        assert_eq!(
            parse("3/admin,13[\"bar\"]").unwrap(),
            Packet::ack("/admin", 13, vec![json!("bar")], vec![])
        );
        assert_eq!(
            parse("4{\"message\":\"Not authorized\"}").unwrap(),
            Packet::connect_error("/", "Not authorized")
        );
        // A namespace that ends the packet, with no comma.
        assert_eq!(parse("1/admin").unwrap(), Packet::disconnect("/admin"));
        // The main namespace written out.
        assert_eq!(parse("2/,[\"a\"]").unwrap().nsp, "/");
    }

    #[test]
    fn binary_headers_announce_their_attachments() {
        let (p, n) = Packet::parse("51-[\"hello\",{\"_placeholder\":true,\"num\":0}]").unwrap();
        assert_eq!(
            (p.kind, n, p.nsp.as_str()),
            (PacketType::BinaryEvent, 1, "/")
        );
        assert_eq!(p.event_name(), Some("hello"));
        assert_eq!(p.args(), &[placeholder(0)]);
        let (p, n) = Packet::parse(
            "62-/admin,15[{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":0}]",
        )
        .unwrap();
        assert_eq!(
            (p.kind, n, p.nsp.as_str(), p.id),
            (PacketType::BinaryAck, 2, "/admin", Some(15))
        );
        // Zero attachments is a count too (socket.io-parser emits it at once).
        assert_eq!(Packet::parse("50-[\"x\"]").unwrap().1, 0);
        // The count and its '-' are required.
        assert_eq!(parse("5[\"x\"]"), Err(ParseError::AttachmentCount));
        assert_eq!(parse("51[\"x\"]"), Err(ParseError::AttachmentCount));
        assert_eq!(parse("5-[\"x\"]"), Err(ParseError::AttachmentCount));
        assert_eq!(parse("5"), Err(ParseError::AttachmentCount));
    }

    #[test]
    fn the_attachment_count_is_bounded_at_the_edge() {
        let data = |n: usize| {
            let args: Vec<Value> = (0..n).map(placeholder).collect();
            json!(["f", args]).to_string()
        };
        let max = MAX_ATTACHMENTS;
        assert_eq!(
            Packet::parse(&format!("5{max}-{}", data(max))).unwrap().1,
            max
        );
        assert_eq!(
            parse(&format!("5{}-{}", max + 1, data(max + 1))),
            Err(ParseError::TooManyAttachments {
                announced: max as u64 + 1
            })
        );
        // A count too long to be a number at all.
        assert!(matches!(
            parse(&format!("5{}-[\"f\"]", "9".repeat(30))),
            Err(ParseError::TooManyAttachments { .. })
        ));
    }

    #[test]
    fn placeholders_must_name_an_announced_attachment() {
        let bad = |s: &str| matches!(parse(s), Err(ParseError::Placeholder(_)));
        assert!(
            bad("51-[\"f\",{\"_placeholder\":true,\"num\":1}]"),
            "out of range"
        );
        assert!(
            bad("51-[\"f\",{\"_placeholder\":true,\"num\":-1}]"),
            "negative"
        );
        assert!(
            bad("51-[\"f\",{\"_placeholder\":true,\"num\":0.5}]"),
            "not an integer"
        );
        assert!(
            bad("51-[\"f\",{\"_placeholder\":true,\"num\":\"0\"}]"),
            "a string"
        );
        assert!(bad("51-[\"f\",{\"_placeholder\":true}]"), "no num");
        assert!(
            bad("51-[\"f\",{\"a\":[{\"_placeholder\":true,\"num\":3}]}]"),
            "nested"
        );
        assert!(
            bad("50-[\"f\",{\"_placeholder\":true,\"num\":0}]"),
            "none announced"
        );
        // Only `_placeholder: true` marks a placeholder; other objects are data.
        assert!(parse("51-[\"f\",{\"_placeholder\":false,\"num\":9}]").is_ok());
        // In a plain EVENT a placeholder-looking object is just data.
        assert!(parse("2[\"f\",{\"_placeholder\":true,\"num\":9}]").is_ok());
    }

    #[test]
    fn data_must_fit_its_type() {
        let payload = |s: &str| matches!(parse(s), Err(ParseError::Payload { .. }));
        assert!(payload("0[1]"));
        assert!(payload("0\"x\""));
        assert!(payload("1{}"));
        assert!(payload("2{\"a\":1}"));
        assert!(payload("2[1]"));
        assert!(payload("2[]"));
        assert!(payload("2"));
        assert!(payload("3{}"));
        assert!(payload("4[1]"));
        assert!(payload("4"));
        assert_eq!(parse("3[\"no id\"]"), Err(ParseError::AckWithoutId));
        assert!(matches!(parse("2[\"a\""), Err(ParseError::Json(_))));
        assert!(matches!(parse("2[\"a\"]]"), Err(ParseError::Json(_))));
    }

    #[test]
    fn hostile_headers_are_errors_not_panics() {
        assert_eq!(parse(""), Err(ParseError::Empty));
        assert!(matches!(parse("7[]"), Err(ParseError::Type(_))));
        assert!(matches!(parse("é"), Err(ParseError::Type(_))));
        assert_eq!(
            parse(&format!("2/{},[\"a\"]", "n".repeat(MAX_NAMESPACE_LEN))),
            Err(ParseError::NamespaceTooLong)
        );
        assert!(parse(&format!("2/{},[\"a\"]", "n".repeat(MAX_NAMESPACE_LEN - 1))).is_ok());
        assert_eq!(
            parse(&format!("2{}[\"a\"]", "9".repeat(MAX_ACK_DIGITS + 1))),
            Err(ParseError::AckTooLong)
        );
        assert_eq!(
            parse(&format!("2{}[\"a\"]", "9".repeat(MAX_ACK_DIGITS)))
                .unwrap()
                .id,
            Some(9_999_999_999_999_999_999)
        );
        for s in [
            "2/é",
            "2/é,[\"a\"]",
            "5é",
            "51é",
            "51-/",
            "2/",
            "0/,",
            "3/a,",
            "51-/a,9",
        ] {
            let _ = parse(s);
        }
        // A namespace of a multi-byte character: no slicing inside it.
        assert!(parse("0/ü").is_ok());
    }

    #[test]
    fn what_is_encoded_parses_back() {
        let packets = [
            Packet::connect("/", None),
            Packet::connect("/admin", Some(json!({"token":"x"}))),
            Packet::connected("/", "abc", Some("pid")),
            Packet::connect_error("/admin", "Invalid namespace"),
            Packet::disconnect("/admin"),
            Packet::event("/", Some(0), "message", vec![json!({"text":"hi"})], vec![]),
            Packet::event(
                "/admin",
                Some(7),
                "file",
                vec![placeholder(0), json!({"b": placeholder(1)})],
                vec![Bytes::from_static(b"\x00\x01"), Bytes::new()],
            ),
            Packet::ack(
                "/",
                3,
                vec![json!(1), placeholder(0)],
                vec![Bytes::from_static(b"z")],
            ),
            Packet::ack("/x", 4, vec![], vec![]),
        ];
        for p in packets {
            let text = p.encode();
            let (mut back, n) = Packet::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(n, p.attachments.len(), "{text}");
            back.attachments = p.attachments.clone();
            assert_eq!(back, p, "{text}");
        }
        assert_eq!(
            Packet::event(
                "/admin",
                Some(1),
                "f",
                vec![placeholder(0)],
                vec![Bytes::new()]
            )
            .encode(),
            "51-/admin,1[\"f\",{\"_placeholder\":true,\"num\":0}]"
        );
        assert_eq!(Packet::disconnect("/").encode(), "1");
        assert_eq!(
            Packet::connected("/admin", "s", None).encode(),
            "0/admin,{\"sid\":\"s\"}"
        );
    }

    #[test]
    fn namespace_names_the_server_may_offer() {
        assert!(valid_namespace("/"));
        assert!(valid_namespace("/admin"));
        assert!(valid_namespace("/a/b-c_d.e"));
        assert!(!valid_namespace("admin"));
        assert!(!valid_namespace("/a,b"));
        assert!(!valid_namespace("/a b"));
        assert!(!valid_namespace("/a?x"));
        assert!(!valid_namespace("/ü"));
        assert!(valid_namespace(&format!(
            "/{}",
            "n".repeat(MAX_NAMESPACE_LEN - 1)
        )));
        assert!(!valid_namespace(&format!(
            "/{}",
            "n".repeat(MAX_NAMESPACE_LEN)
        )));
    }
}
