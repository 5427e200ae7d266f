//! Lesson 10 — Socket.IO v5, the layer above Engine.IO, spoken on `/socket.io/`.
//!
//! Engine.IO (open, ping/pong, close, and the
//! polling or WebSocket transport) carries *messages*; each text message
//! holds one Socket.IO packet, and binary messages carry attachments:
//!
//! | packet | on the wire (inside Engine.IO's `4`) | meaning |
//! |---|---|---|
//! | CONNECT | `0` → `0{"sid":"…"}` | join the main namespace `/` |
//! | CONNECT, another namespace | `0/admin,` → `0/admin,{"sid":"…"}` | join `/admin` too (one session, several sockets) |
//! | CONNECT, recovering | `0{"pid":"…","offset":"…"}` → `0{"sid":"…","pid":"…"}` | connection-state recovery ([`recovery`]) |
//! | CONNECT_ERROR | `4/nope,{"message":"Invalid namespace"}` | refused |
//! | DISCONNECT | `1/admin,` | leave `/admin`; the other namespaces stay |
//! | EVENT | `2["join","lobby"]`, `21["message",{"to":["lobby"],"text":"hi"}]` | an event; `1` is an ack id |
//! | ACK | `31[{"ok":true,"reached":2}]` | the answer to ack id 1 |
//! | BINARY_EVENT | `51-["file",{"_placeholder":true,"num":0}]` + 1 binary message | an event holding bytes ([`binary`]) |
//! | BINARY_ACK | `61-3[{"_placeholder":true,"num":0}]` + 1 binary message | an answer holding bytes |
//!
//! The pieces, each pure (no I/O: lessons, tests and fuzzers call them
//! directly), each treating its input as hostile:
//!
//! - [`packet`]: one packet as text — type, attachment count, namespace, ack id, JSON;
//! - [`binary`]: placeholders, and the [`Reassembler`] that holds a binary
//!   packet until its attachments have arrived;
//! - [`native`]: the chat hub's JSON events as Socket.IO events, both ways;
//! - [`recovery`]: `pid` and offsets, mapped onto the hub's sessions.
//!
//! The chat server's socket.io application, which puts these together on an
//! Engine.IO session, is [`crate::transport::socketio`].
//!
//! Below, [`parse`], [`encode_event`] and [`encode_ack`] are lesson 10's
//! first reader and writer: one Engine.IO text message (its `4` included) in
//! the main namespace, without attachments — the part a student writes first.

pub mod binary;
pub mod native;
pub mod packet;
pub mod recovery;

pub use binary::{Reassembler, ReassemblyError};
pub use native::{
    from_native, from_native_asking, to_native, AckRequests, Outgoing, Recorded, Translator,
    MAX_ACK_REQUESTS,
};
pub use packet::{Packet, PacketType, ParseError, MAIN_NAMESPACE, MAX_ACK_DIGITS, MAX_ATTACHMENTS};

use serde_json::Value;
use thiserror::Error;

/// How often the server pings (Engine.IO `pingInterval`), in milliseconds.
pub const PING_INTERVAL_MS: u64 = 25_000;
/// How long a client has to answer a ping (Engine.IO `pingTimeout`), in milliseconds.
pub const PING_TIMEOUT_MS: u64 = 20_000;

/// A packet from a Socket.IO client as lesson 10's first reader sees it:
/// Engine.IO's pong and close, and the main namespace's Socket.IO packets.
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

/// Why lesson 10's first reader refused a message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PacketError {
    /// The Engine.IO packet type is one digit 0–6 (Engine.IO v4 protocol, "Packet encoding").
    #[error("unknown Engine.IO packet type {0:?}: it is one digit 0-6")]
    EngineType(String),
    /// Socket.IO packet types are 0–6 (socket.io-protocol v5 "Packet format").
    #[error("unknown Socket.IO packet type {0:?}: it is one digit 0-6")]
    SocketType(String),
    /// The first reader knows only the main namespace `/`.
    #[error("namespace {0:?} is not read here: only the main namespace / is")]
    Namespace(String),
    /// The first reader knows no binary attachments (types 5 and 6).
    #[error("binary attachments (Socket.IO packet types 5 and 6) are not read here")]
    Binary,
    /// The ack id is digits, at most [`MAX_ACK_DIGITS`] of them.
    #[error("ack id is too long (at most {MAX_ACK_DIGITS} digits)")]
    AckTooLong,
    /// EVENT data is a JSON array whose first element is the event name.
    #[error("event data must be a JSON array starting with the event name: {0}")]
    BadEvent(String),
}

/// Reads one Engine.IO text message from a Socket.IO client: `3`, `1`, or
/// `4` and a main-namespace Socket.IO packet without attachments.
pub fn parse(text: &str) -> Result<Incoming, PacketError> {
    match text.as_bytes().first() {
        Some(b'3') if text.len() == 1 => Ok(Incoming::Pong),
        Some(b'1') if text.len() == 1 => Ok(Incoming::Close),
        Some(b'4') => parse_socket(&text[1..]),
        _ => Err(PacketError::EngineType(text.chars().take(8).collect())),
    }
}

fn parse_socket(s: &str) -> Result<Incoming, PacketError> {
    let (p, _) = Packet::parse(s).map_err(|e| match e {
        ParseError::Empty | ParseError::Type(_) => {
            PacketError::SocketType(s.chars().take(8).collect())
        }
        ParseError::AttachmentCount
        | ParseError::TooManyAttachments { .. }
        | ParseError::Placeholder(_) => PacketError::Binary,
        ParseError::NamespaceTooLong => {
            PacketError::Namespace(s.chars().skip(1).take(64).collect())
        }
        ParseError::AckTooLong => PacketError::AckTooLong,
        other => PacketError::BadEvent(other.to_string()),
    })?;
    if p.nsp != MAIN_NAMESPACE {
        return Err(PacketError::Namespace(p.nsp));
    }
    let args = |p: &Packet| p.args().to_vec();
    match p.kind {
        PacketType::Connect => Ok(Incoming::Connect),
        PacketType::Disconnect => Ok(Incoming::Disconnect),
        PacketType::Event => Ok(Incoming::Event {
            ack: p.id,
            name: p.event_name().unwrap_or_default().to_string(),
            args: args(&p),
        }),
        PacketType::Ack => Ok(Incoming::Ack {
            id: p.id.unwrap_or_default(),
            args: args(&p),
        }),
        PacketType::BinaryEvent | PacketType::BinaryAck => Err(PacketError::Binary),
        PacketType::ConnectError => Err(PacketError::SocketType(s.chars().take(8).collect())),
    }
}

/// An EVENT as an Engine.IO message (socket.io-protocol v5 "Packet format"):
/// `42`, the ack id when the sender wants an answer, then the JSON array
/// `[name, ...args]` — `421["message",{"text":"hi"}]`.
pub fn encode_event(ack: Option<u64>, name: &str, args: &[Value]) -> String {
    let p = Packet::event(MAIN_NAMESPACE, ack, name, args.to_vec(), Vec::new());
    format!("4{}", p.encode())
}

/// An ACK answering ack id `id`, as an Engine.IO message: `43`, the id, then
/// the JSON array of the answer's arguments — `431[{"ok":true}]`.
pub fn encode_ack(id: u64, args: &[Value]) -> String {
    let p = Packet::ack(MAIN_NAMESPACE, id, args.to_vec(), Vec::new());
    format!("4{}", p.encode())
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

/// The Socket.IO CONNECT answer for the main namespace, as an Engine.IO message.
pub fn connected(sid: &str) -> String {
    format!("4{}", Packet::connected(MAIN_NAMESPACE, sid, None).encode())
}

/// A CONNECT_ERROR saying why, as an Engine.IO message.
pub fn connect_error(why: &str) -> String {
    format!("4{}", Packet::connect_error(MAIN_NAMESPACE, why).encode())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_first_reader_keeps_to_the_main_namespace_without_binary() {
        assert_eq!(parse("3"), Ok(Incoming::Pong));
        assert_eq!(parse("40"), Ok(Incoming::Connect));
        assert_eq!(parse("40{\"token\":\"x\"}"), Ok(Incoming::Connect));
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
        assert!(matches!(parse("40/admin,"), Err(PacketError::Namespace(n)) if n == "/admin"));
        assert_eq!(
            parse("451-[\"x\",{\"_placeholder\":true,\"num\":0}]"),
            Err(PacketError::Binary)
        );
        assert!(matches!(parse("9"), Err(PacketError::EngineType(_))));
        assert!(matches!(parse(""), Err(PacketError::EngineType(_))));
        assert!(matches!(parse("4"), Err(PacketError::SocketType(_))));
        assert!(matches!(parse("44{}"), Err(PacketError::SocketType(_))));
        assert!(matches!(
            parse("42{\"a\":1}"),
            Err(PacketError::BadEvent(_))
        ));
        assert!(matches!(parse("43[\"a\"]"), Err(PacketError::BadEvent(_))));
        assert_eq!(
            parse("4212345678901234567890[\"a\"]"),
            Err(PacketError::AckTooLong)
        );
        assert!(parse("4/é").is_err() && parse("42/é").is_err());
        assert_eq!(
            encode_event(Some(1), "join", &[json!("lobby")]),
            r#"421["join","lobby"]"#
        );
        assert_eq!(encode_ack(0, &[json!(null)]), "430[null]");
        assert_eq!(connected("s"), r#"40{"sid":"s"}"#);
        assert_eq!(connect_error("no"), r#"44{"message":"no"}"#);
    }
}
