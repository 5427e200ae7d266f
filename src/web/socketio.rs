//! Lesson 10 — what Socket.IO puts on the wire, spoken on `/socket.io/`.
//!
//! Two layers ride inside WebSocket text messages:
//!
//! | layer | packet | on the wire | meaning |
//! |---|---|---|---|
//! | Engine.IO v4 | open | `0{"sid":"…","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":65536}` | server → client, first |
//! | Engine.IO v4 | ping / pong | `2` / `3` | the server pings; a client that does not pong in time is dropped |
//! | Engine.IO v4 | message | `4` + a Socket.IO packet | |
//! | Socket.IO v5 | CONNECT | `40` → `40{"sid":"…"}` | join the main namespace |
//! | Socket.IO v5 | EVENT | `42["join","lobby"]`, `421["message",{"to":["lobby"],"text":"hi"}]` | an event; `1` is an ack id |
//! | Socket.IO v5 | ACK | `431[{"ok":true,"reached":2}]` | the answer to ack id 1 |
//! | Socket.IO v5 | EVENT + ACK, server asking | `420["message",{…,"seq":{"lobby":7}}]` → `430[]` | with `--confirm-timeout`: the client's callback confirms a recorded event ([`AckRequests`]) |
//! | Socket.IO v5 | CONNECT_ERROR | `44{"message":"…"}` | refused (another namespace, binary attachments) |
//!
//! Events map one to one onto the hub's native JSON events: `42["join","lobby"]`
//! is `{"event":"join","room":"lobby"}`, `42["message",{…}]` is
//! `{"event":"message",…}`, and the hub's server events come back as
//! `42["message",{"from":…,"nick":…,"to":…,"text":…}]`.
//!
//! The parser treats every packet as hostile: it never panics, and a malformed
//! packet closes only its own connection.

use crate::chat::protocol::SeqMap;
use serde_json::{Map, Value};
use std::collections::VecDeque;
use thiserror::Error;

/// How often the server pings (Engine.IO `pingInterval`), in milliseconds.
pub const PING_INTERVAL_MS: u64 = 25_000;
/// How long a client has to answer a ping (Engine.IO `pingTimeout`), in milliseconds.
pub const PING_TIMEOUT_MS: u64 = 20_000;
/// Most digits an ack id may have (u64 has 20).
pub const MAX_ACK_DIGITS: usize = 19;

/// A packet from a Socket.IO client, after the Engine.IO layer.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// Engine.IO pong (`3`).
    Pong,
    /// Engine.IO close (`1`).
    Close,
    /// Socket.IO CONNECT to the main namespace (`40`, maybe with auth).
    Connect,
    /// Socket.IO DISCONNECT (`41`).
    Disconnect,
    /// Socket.IO EVENT (`42[ack]["name",...args]`).
    Event {
        /// The ack id, if the client wants an answer.
        ack: Option<u64>,
        /// The event name.
        name: String,
        /// Its arguments.
        args: Vec<Value>,
    },
    /// Socket.IO ACK (`43id[...]`) answering a server request.
    Ack {
        /// The ack id.
        id: u64,
        /// The answer's arguments.
        args: Vec<Value>,
    },
}

/// Why a packet could not be read; the connection is closed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PacketError {
    /// The Engine.IO packet type is one digit 0–6 (Engine.IO v4 protocol, "Packet encoding").
    #[error("unknown Engine.IO packet type {0:?}: it is one digit 0-6")]
    EngineType(String),
    /// Socket.IO packet types are 0–6 (socket.io-protocol v5 "Packet format").
    #[error("unknown Socket.IO packet type {0:?}: it is one digit 0-6")]
    SocketType(String),
    /// Only the main namespace `/` is served.
    #[error("namespace {0:?} is not served here: only the main namespace / is")]
    Namespace(String),
    /// Binary attachments (types 5 and 6) are not supported.
    #[error("binary attachments (Socket.IO packet types 5 and 6) are not supported; send JSON")]
    Binary,
    /// The ack id is digits, at most [`MAX_ACK_DIGITS`] of them.
    #[error("ack id is too long (at most {MAX_ACK_DIGITS} digits)")]
    AckTooLong,
    /// EVENT data is a JSON array whose first element is the event name.
    #[error("event data must be a JSON array starting with the event name: {0}")]
    BadEvent(String),
}

/// Reads one WebSocket text message from a Socket.IO client.
pub fn parse(text: &str) -> Result<Incoming, PacketError> {
    let mut chars = text.chars();
    match chars.next() {
        Some('3') if text.len() == 1 => Ok(Incoming::Pong),
        Some('1') if text.len() == 1 => Ok(Incoming::Close),
        Some('4') => parse_socket(&text[1..]),
        _ => Err(PacketError::EngineType(text.chars().take(8).collect())),
    }
}

fn parse_socket(s: &str) -> Result<Incoming, PacketError> {
    let kind = s.as_bytes().first().copied();
    let mut rest = s.get(1..).unwrap_or("");
    // An optional namespace: "/name," (the main one, "/", is written as nothing).
    if rest.starts_with('/') {
        let (nsp, after) = rest.split_once(',').unwrap_or((rest, ""));
        if nsp != "/" {
            return Err(PacketError::Namespace(nsp.chars().take(64).collect()));
        }
        rest = after;
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits > MAX_ACK_DIGITS {
        return Err(PacketError::AckTooLong);
    }
    let ack = if digits > 0 {
        Some(
            rest[..digits]
                .parse::<u64>()
                .map_err(|_| PacketError::AckTooLong)?,
        )
    } else {
        None
    };
    let data = &rest[digits..];
    match kind {
        Some(b'0') => Ok(Incoming::Connect),
        Some(b'1') => Ok(Incoming::Disconnect),
        Some(b'2') => {
            let args = array(data)?;
            let mut it = args.into_iter();
            match it.next() {
                Some(Value::String(name)) => Ok(Incoming::Event {
                    ack,
                    name,
                    args: it.collect(),
                }),
                _ => Err(PacketError::BadEvent(
                    "the first element is not a string".into(),
                )),
            }
        }
        Some(b'3') => Ok(Incoming::Ack {
            id: ack.ok_or_else(|| PacketError::BadEvent("an ACK needs an id".into()))?,
            args: array(data)?,
        }),
        Some(b'5') | Some(b'6') => Err(PacketError::Binary),
        _ => Err(PacketError::SocketType(s.chars().take(8).collect())),
    }
}

fn array(data: &str) -> Result<Vec<Value>, PacketError> {
    match serde_json::from_str::<Value>(data) {
        Ok(Value::Array(a)) => Ok(a),
        Ok(_) => Err(PacketError::BadEvent("not an array".into())),
        Err(e) => Err(PacketError::BadEvent(e.to_string())),
    }
}

/// An EVENT packet (socket.io-protocol v5 "Packet format"): `42`, the ack id
/// when the sender wants an answer, then the JSON array `[name, ...args]` —
/// `421["message",{"text":"hi"}]`. Used both ways: clients emit, the server
/// emits and may ask for an answer.
pub fn encode_event(ack: Option<u64>, name: &str, args: &[Value]) -> String {
    let mut out = String::with_capacity(16 + name.len());
    out.push_str("42");
    if let Some(id) = ack {
        out.push_str(&id.to_string());
    }
    out.push('[');
    // A name is a JSON string: quotes and control characters are escaped.
    out.push_str(&Value::String(name.to_string()).to_string());
    for a in args {
        out.push(',');
        out.push_str(&a.to_string());
    }
    out.push(']');
    out
}

/// An ACK packet answering ack id `id`: `43`, the id, then the JSON array of
/// the answer's arguments — `431[{"ok":true}]`.
pub fn encode_ack(id: u64, args: &[Value]) -> String {
    let mut out = format!("43{id}[");
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&a.to_string());
    }
    out.push(']');
    out
}

/// The Engine.IO open packet: the session id, the heartbeat's timing in
/// milliseconds, and the largest message the client may send.
pub fn open(sid: &str, heartbeat: &Heartbeat, max_payload: usize) -> String {
    format!(
        "0{}",
        serde_json::json!({"sid": sid, "upgrades": [], "pingInterval": heartbeat.interval.as_millis() as u64, "pingTimeout": heartbeat.timeout.as_millis() as u64, "maxPayload": max_payload})
    )
}

/// Engine.IO's server-driven heartbeat: a ping every `interval`; no pong
/// within `timeout` and the client is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// Time between pings (`pingInterval`).
    pub interval: std::time::Duration,
    /// Time a client has to answer one (`pingTimeout`).
    pub timeout: std::time::Duration,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Heartbeat {
            interval: std::time::Duration::from_millis(PING_INTERVAL_MS),
            timeout: std::time::Duration::from_millis(PING_TIMEOUT_MS),
        }
    }
}

/// The Socket.IO CONNECT answer for the main namespace.
pub fn connected(sid: &str) -> String {
    format!("40{}", serde_json::json!({ "sid": sid }))
}

/// A CONNECT_ERROR saying why.
pub fn connect_error(why: &str) -> String {
    format!("44{}", serde_json::json!({ "message": why }))
}

/// A Socket.IO event as a native hub event (`{"event":name,...}`), or why not.
///
/// `join`/`leave` take the room, `nick` the nickname, `who` the room; `message`
/// and the rest take one object with the native fields.
pub fn to_native(name: &str, args: &[Value], ack: Option<u64>) -> Result<Vec<u8>, String> {
    let mut obj = Map::new();
    obj.insert("event".into(), Value::String(name.to_string()));
    let field = match name {
        "join" | "leave" | "who" => Some("room"),
        "nick" => Some("nick"),
        _ => None,
    };
    match (field, args.first()) {
        (Some(f), Some(Value::String(v))) => {
            obj.insert(f.into(), Value::String(v.clone()));
        }
        (_, Some(Value::Object(fields))) => {
            for (k, v) in fields {
                if k != "event" && k != "ack" {
                    obj.insert(k.clone(), v.clone());
                }
            }
        }
        (_, None) => {}
        (_, Some(_)) => return Err(format!("`{name}` takes a string or an object")),
    }
    if let Some(a) = ack {
        obj.insert("ack".into(), a.into());
    }
    serde_json::to_vec(&Value::Object(obj)).map_err(|e| e.to_string())
}

/// A native hub event as the Socket.IO packet a client receives: acks become
/// ACK packets, everything else an EVENT named after it.
pub fn from_native(json: &[u8]) -> Option<String> {
    event_fast(json, None).or_else(|| packet_for(json, None))
}

/// Start of every event the hub writes: its serializer puts the tag first.
const EVENT_TAG: &[u8] = br#"{"event":""#;

/// The fan-out fast path: a hub event `{"event":"NAME",FIELDS}` becomes
/// `42["NAME",{FIELDS}]` by moving bytes, without parsing the JSON again for
/// every receiver (the hub encoded it once for all of them). Anything else —
/// an `ack`, a name that would need escaping, another shape — returns `None`
/// and takes the general path.
fn event_fast(json: &[u8], ack: Option<u64>) -> Option<String> {
    let rest = json.strip_prefix(EVENT_TAG)?;
    let end = rest.iter().position(|&b| b == b'"')?;
    let (name, after) = (&rest[..end], &rest[end + 1..]);
    if name.is_empty()
        || name == b"ack"
        || !name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
    {
        return None;
    }
    let fields = match after.first()? {
        b'}' if after.len() == 1 => &b"}"[..],
        b',' if after.last() == Some(&b'}') => &after[1..],
        _ => return None,
    };
    let mut out = Vec::with_capacity(json.len() + 24);
    out.extend_from_slice(b"42");
    if let Some(id) = ack {
        out.extend_from_slice(id.to_string().as_bytes());
    }
    out.extend_from_slice(b"[\"");
    out.extend_from_slice(name);
    out.extend_from_slice(b"\",{");
    out.extend_from_slice(fields);
    out.push(b']');
    String::from_utf8(out).ok()
}

/// Like [`from_native`], but a recorded event (one carrying `"seq"`) becomes
/// an ack request, `42<n>["message",{…,"seq":{…}}]`: the client's callback
/// answers `43<n>[…]`, and `requests` remembers which seq map `n` stands for.
pub fn from_native_asking(json: &[u8], requests: &mut AckRequests) -> Option<String> {
    // Inside a JSON string a quote is escaped, so `"seq":` can only be a key.
    if !json.windows(SEQ_KEY.len()).any(|w| w == SEQ_KEY) {
        return from_native(json);
    }
    packet_for(json, Some(requests))
}

/// How a recorded event's seq map starts in the hub's JSON.
const SEQ_KEY: &[u8] = br#""seq":"#;

fn packet_for(json: &[u8], requests: Option<&mut AckRequests>) -> Option<String> {
    let Ok(Value::Object(mut obj)) = serde_json::from_slice::<Value>(json) else {
        return None;
    };
    let Some(Value::String(name)) = obj.remove("event") else {
        return None;
    };
    if name == "ack" {
        let id = obj.remove("ack")?.as_u64()?;
        return Some(encode_ack(id, &[Value::Object(obj)]));
    }
    let ack = match (requests, seq_of(&obj)) {
        (Some(r), Some(seq)) => Some(r.ask(seq)),
        _ => None,
    };
    // Keep the hub's field order where the bytes allow it, like the fast path.
    event_fast(json, ack).or_else(|| Some(encode_event(ack, &name, &[Value::Object(obj)])))
}

/// The `"seq"` map of a recorded event (history key → sequence number), if any.
fn seq_of(obj: &Map<String, Value>) -> Option<SeqMap> {
    let Some(Value::Object(seq)) = obj.get("seq") else {
        return None;
    };
    let map: SeqMap = seq
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
        .collect();
    (!map.is_empty()).then_some(map)
}

/// Most ack requests a connection keeps waiting for an answer. Confirmations
/// are cumulative per history key, so forgetting the oldest loses nothing a
/// later answer does not confirm too; the bound keeps a client that never
/// answers from growing the server's memory.
pub const MAX_ACK_REQUESTS: usize = 1024;

/// The server's side of its ack requests on one connection: which seq map
/// each ack id it sent stands for (ids count up from 0, like socket.io's).
#[derive(Debug, Default)]
pub struct AckRequests {
    next: u64,
    pending: VecDeque<(u64, SeqMap)>,
}

impl AckRequests {
    /// A fresh ack id standing for `seq`; the oldest request is forgotten
    /// beyond [`MAX_ACK_REQUESTS`].
    pub fn ask(&mut self, seq: SeqMap) -> u64 {
        let id = self.next;
        self.next += 1;
        if self.pending.len() == MAX_ACK_REQUESTS {
            self.pending.pop_front();
        }
        self.pending.push_back((id, seq));
        id
    }

    /// The seq map ack id `id` stood for, once: `None` for an id never sent,
    /// already answered, or forgotten.
    pub fn answer(&mut self, id: u64) -> Option<SeqMap> {
        // Ids are pushed in increasing order, so the queue is sorted.
        let at = self.pending.binary_search_by_key(&id, |(i, _)| *i).ok()?;
        self.pending.remove(at).map(|(_, seq)| seq)
    }

    /// How many requests wait for an answer.
    pub fn waiting(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn packets_from_the_protocol_documents() {
        assert_eq!(parse("3"), Ok(Incoming::Pong));
        assert_eq!(parse("40"), Ok(Incoming::Connect));
        assert_eq!(parse("40{\"token\":\"x\"}"), Ok(Incoming::Connect));
        assert_eq!(
            parse("42[\"hello\",1]"),
            Ok(Incoming::Event {
                ack: None,
                name: "hello".into(),
                args: vec![json!(1)]
            })
        );
        assert_eq!(
            parse("4213[\"join\",\"lobby\"]"),
            Ok(Incoming::Event {
                ack: Some(13),
                name: "join".into(),
                args: vec![json!("lobby")]
            })
        );
        assert!(matches!(parse("42/,[\"a\"]"), Ok(Incoming::Event { .. })));
        assert_eq!(
            parse("431[\"ok\"]"),
            Ok(Incoming::Ack {
                id: 1,
                args: vec![json!("ok")]
            })
        );
        assert!(matches!(parse("40/admin,"), Err(PacketError::Namespace(_))));
        assert_eq!(
            parse("451-[\"x\",{\"_placeholder\":true,\"num\":0}]"),
            Err(PacketError::Binary)
        );
        assert!(matches!(parse("9"), Err(PacketError::EngineType(_))));
        assert!(matches!(parse(""), Err(PacketError::EngineType(_))));
        assert!(matches!(parse("4"), Err(PacketError::SocketType(_))));
        assert!(matches!(
            parse("42{\"a\":1}"),
            Err(PacketError::BadEvent(_))
        ));
        assert!(matches!(parse("42[1]"), Err(PacketError::BadEvent(_))));
        // 19 digits is the limit; 20 is refused before parsing.
        assert!(matches!(
            parse("421234567890123456789[\"a\"]"),
            Ok(Incoming::Event {
                ack: Some(1234567890123456789),
                ..
            })
        ));
        assert_eq!(
            parse("4212345678901234567890[\"a\"]"),
            Err(PacketError::AckTooLong)
        );
        assert!(parse("4/é").is_err() && parse("42/é").is_err());
    }

    #[test]
    fn events_map_to_native_and_back() {
        let native = |n: &str, a: Value, ack| {
            serde_json::from_slice::<Value>(&to_native(n, a.as_array().unwrap(), ack).unwrap())
                .unwrap()
        };
        assert_eq!(
            native("join", json!(["lobby"]), Some(1)),
            json!({"event":"join","room":"lobby","ack":1})
        );
        assert_eq!(
            native("nick", json!(["ana"]), None),
            json!({"event":"nick","nick":"ana"})
        );
        assert_eq!(
            native("message", json!([{"to":["lobby"],"text":"hi"}]), Some(2)),
            json!({"event":"message","to":["lobby"],"text":"hi","ack":2})
        );
        assert!(to_native("join", &[json!(5)], None).is_err());
        assert_eq!(
            from_native(br#"{"event":"ack","ack":2,"ok":true,"reached":1}"#).unwrap(),
            r#"432[{"ok":true,"reached":1}]"#
        );
        assert_eq!(
            from_native(br#"{"event":"joined","room":"lobby","id":"ab","nick":"ana"}"#).unwrap(),
            r#"42["joined",{"room":"lobby","id":"ab","nick":"ana"}]"#
        );
        assert_eq!(from_native(b"[1]"), None);
    }

    #[test]
    fn the_fast_path_says_what_the_general_path_says() {
        let json = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        let hub_event = crate::chat::protocol::ServerEvent::Message {
            from: "0123456789abcdef0123456789abcdef".parse().unwrap(),
            nick: "ana \"the\" ünïcødé".into(),
            to: vec!["lobby".into()],
            text: "hi,}]\"".into(),
            seq: Default::default(),
        }
        .to_bytes();
        for native in [
            &hub_event[..],
            br#"{"event":"joined","room":"lobby","id":"ab","nick":"ana"}"#,
            br#"{"event":"pong"}"#,
            br#"{"event":"dropped","count":3}"#,
        ] {
            let fast = event_fast(native, None).expect("the fast path takes hub events");
            let general = packet_for(native, None).unwrap();
            assert_eq!(json(&fast[2..]), json(&general[2..]), "{fast} vs {general}");
            assert_eq!(from_native(native).unwrap(), fast);
        }
        // What the fast path leaves to the general one.
        for other in [
            &br#"{"event":"ack","ack":1,"ok":true}"#[..],
            br#"{"event":"we\"ird","a":1}"#,
            br#"{"a":1,"event":"late"}"#,
            br#"{"event":"x"#,
            br#"{"event":"x",1"#,
        ] {
            assert_eq!(
                event_fast(other, None),
                None,
                "{}",
                String::from_utf8_lossy(other)
            );
        }
        assert_eq!(
            from_native(br#"{"event":"we\"ird","a":1}"#).unwrap(),
            r#"42["we\"ird",{"a":1}]"#
        );
    }

    #[test]
    fn recorded_events_become_ack_requests() {
        let mut requests = AckRequests::default();
        let recorded = br#"{"event":"message","from":"ab","nick":"ana","to":["lobby"],"text":"hi","seq":{"lobby":7}}"#;
        assert_eq!(
            from_native_asking(recorded, &mut requests).unwrap(),
            r#"420["message",{"from":"ab","nick":"ana","to":["lobby"],"text":"hi","seq":{"lobby":7}}]"#
        );
        let two_keys =
            br#"{"event":"joined","room":"lobby","id":"ab","nick":"ana","seq":{"lobby":8,"*":2}}"#;
        assert!(from_native_asking(two_keys, &mut requests)
            .unwrap()
            .starts_with("421[\"joined\""));
        // Not recorded (no seq, or an empty one): a plain EVENT, no id used up.
        assert_eq!(
            from_native_asking(br#"{"event":"rooms","rooms":["ab"]}"#, &mut requests).unwrap(),
            r#"42["rooms",{"rooms":["ab"]}]"#
        );
        assert!(
            from_native_asking(br#"{"event":"message","text":"x","seq":{}}"#, &mut requests)
                .unwrap()
                .starts_with("42[")
        );
        assert_eq!(requests.waiting(), 2);
        // Each answer once; unknown ids are nothing.
        let lobby = |n| SeqMap::from([("lobby".to_string(), n)]);
        assert_eq!(requests.answer(0), Some(lobby(7)));
        assert_eq!(requests.answer(0), None);
        assert_eq!(requests.answer(99), None);
        let mut both = lobby(8);
        both.insert("*".into(), 2);
        assert_eq!(requests.answer(1), Some(both));
        assert_eq!(requests.waiting(), 0);
    }

    #[test]
    fn ack_requests_are_bounded_at_the_edge() {
        let mut requests = AckRequests::default();
        let seq = |n| SeqMap::from([("lobby".to_string(), n)]);
        for n in 0..MAX_ACK_REQUESTS as u64 {
            assert_eq!(requests.ask(seq(n)), n);
        }
        assert_eq!(requests.waiting(), MAX_ACK_REQUESTS);
        // One more: the oldest (id 0) is forgotten, the newest kept.
        let last = requests.ask(seq(5000));
        assert_eq!(requests.waiting(), MAX_ACK_REQUESTS);
        assert_eq!(requests.answer(0), None);
        assert_eq!(requests.answer(1), Some(seq(1)));
        assert_eq!(requests.answer(last), Some(seq(5000)));
        // Answers out of order are found too.
        assert_eq!(requests.answer(700), Some(seq(700)));
        assert_eq!(requests.answer(2), Some(seq(2)));
    }
}
