//! Lesson 12 — what crosses Redis between servers: the wire format of
//! Socket.IO's Redis adapter (`@socket.io/redis-adapter` 8.x), so a netlab
//! server and a Node one can share rooms on the same Redis.
//!
//! **Channels** (for key `socket.io` and namespace `/`):
//!
//! | channel | carries |
//! |---|---|
//! | `socket.io#/#` | a broadcast to everyone, or to several rooms |
//! | `socket.io#/#lobby#` | a broadcast to exactly one room (so a server with nobody in `lobby` can skip it unread) |
//! | `socket.io-request#/#` | a question to every server (`who is in lobby?`), or a command (`make these sockets join`) |
//! | `socket.io-response#/#` | the answers |
//!
//! Every server subscribes to the pattern `socket.io#/#*` and to the request
//! and response channels.
//!
//! **A broadcast** is the MessagePack array `[uid, packet, opts]`:
//! - `uid`: the publishing server's random id; a server ignores its own;
//! - `packet`: the Socket.IO packet, `{"type": 2, "data": ["message", {…}], "nsp": "/"}`;
//! - `opts`: who gets it, `{"rooms": [...], "except": [...], "flags": {...}}`
//!   (empty `rooms`: everyone). Each server delivers it to *its own*
//!   connections in those rooms; nobody knows another server's members.
//!
//! **Requests and responses** are JSON objects with a numeric `type`
//! ([`RequestType`]) and a `requestId` that the answers repeat.

use super::msgpack::{self, MsgpackError};
use crate::chat::rooms::Target;
use serde_json::{Map, Value};
use thiserror::Error;

/// The key every channel name starts with, unless `--redis-key` says otherwise.
pub const DEFAULT_KEY: &str = "socket.io";

/// Socket.IO's packet type of an event (`2`, as in `42[...]` on the wire).
pub const PACKET_EVENT: u64 = 2;

/// The largest message taken from Redis by default: a bigger one is counted
/// and dropped before it is decoded.
pub const DEFAULT_MAX_MESSAGE: usize = 1 << 20;

/// The kinds of request between servers, numbered as the Node adapter numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestType {
    /// The ids of the sockets in some rooms.
    Sockets = 0,
    /// Every room a server has.
    AllRooms = 1,
    /// Make sockets join rooms.
    RemoteJoin = 2,
    /// Make sockets leave rooms.
    RemoteLeave = 3,
    /// Disconnect sockets.
    RemoteDisconnect = 4,
    /// The sockets in some rooms, with their rooms and data (`fetchSockets`).
    RemoteFetch = 5,
    /// An event for the other servers' own code (`serverSideEmit`).
    ServerSideEmit = 6,
    /// A broadcast whose receivers answer (`emitWithAck`).
    Broadcast = 7,
    /// How many clients a broadcast with acks reached on one server.
    BroadcastClientCount = 8,
    /// One client's answer to a broadcast with acks.
    BroadcastAck = 9,
}

impl RequestType {
    /// The type numbered `n`, if there is one.
    pub fn from_number(n: u64) -> Option<RequestType> {
        use RequestType::*;
        Some(match n {
            0 => Sockets,
            1 => AllRooms,
            2 => RemoteJoin,
            3 => RemoteLeave,
            4 => RemoteDisconnect,
            5 => RemoteFetch,
            6 => ServerSideEmit,
            7 => Broadcast,
            8 => BroadcastClientCount,
            9 => BroadcastAck,
            _ => return None,
        })
    }
}

/// The channel names of one namespace under one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channels {
    /// `key#nsp#`: broadcasts (and the prefix of the one-room channels).
    pub broadcast: String,
    /// `key-request#nsp#`.
    pub request: String,
    /// `key-response#nsp#`.
    pub response: String,
}

impl Channels {
    /// The channels for namespace `nsp` under `key`.
    pub fn new(key: &str, nsp: &str) -> Channels {
        Channels {
            broadcast: format!("{key}#{nsp}#"),
            request: format!("{key}-request#{nsp}#"),
            response: format!("{key}-response#{nsp}#"),
        }
    }

    /// The pattern that matches every broadcast channel of the namespace.
    pub fn pattern(&self) -> String {
        format!("{}*", self.broadcast)
    }

    /// Where a broadcast to `rooms` is published: the one-room channel for
    /// exactly one room, the namespace's channel otherwise.
    pub fn for_rooms(&self, rooms: &[String]) -> String {
        match rooms {
            [one] => format!("{}{one}#", self.broadcast),
            _ => self.broadcast.clone(),
        }
    }

    /// The room a broadcast channel names (`Some("")`: the namespace's own
    /// channel; `None`: not one of this namespace's broadcast channels).
    pub fn room_of<'a>(&self, channel: &'a str) -> Option<&'a str> {
        let rest = channel.strip_prefix(self.broadcast.as_str())?;
        if rest.is_empty() {
            return Some("");
        }
        rest.strip_suffix('#')
    }
}

/// Why a message from Redis was dropped.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MessageError {
    /// Bigger than the limit.
    #[error("a {len}-byte message is over the {max}-byte limit (--redis-max-message)")]
    TooBig {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not MessagePack.
    #[error("not MessagePack: {0}")]
    Msgpack(#[from] MsgpackError),
    /// Not JSON.
    #[error("not JSON: {0}")]
    Json(String),
    /// MessagePack or JSON, but not shaped like the adapter's messages.
    #[error("not an adapter message: {0}")]
    Shape(&'static str),
}

/// A broadcast as the adapter publishes it: `[uid, packet, opts]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Broadcast {
    /// The publishing server.
    pub uid: String,
    /// The packet's namespace.
    pub nsp: String,
    /// The event's name and arguments: `["message", {…}]`.
    pub data: Vec<Value>,
    /// Rooms to reach (empty: everyone).
    pub rooms: Vec<String>,
    /// Rooms whose members are left out.
    pub except: Vec<String>,
}

impl Broadcast {
    /// The MessagePack bytes, exactly as the Node adapter would write them.
    /// Keys go in the order JavaScript wrote them (`type`, `data`, `nsp`).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        msgpack::write_array_header(3, &mut out);
        msgpack::write_str(&self.uid, &mut out);
        msgpack::write_map_header(3, &mut out);
        msgpack::write_str("type", &mut out);
        msgpack::write_value(&Value::from(PACKET_EVENT), &mut out);
        msgpack::write_str("data", &mut out);
        msgpack::write_array_header(self.data.len(), &mut out);
        for v in &self.data {
            msgpack::write_value(v, &mut out);
        }
        msgpack::write_str("nsp", &mut out);
        msgpack::write_str(&self.nsp, &mut out);
        msgpack::write_map_header(3, &mut out);
        for (key, rooms) in [("rooms", &self.rooms), ("except", &self.except)] {
            msgpack::write_str(key, &mut out);
            msgpack::write_array_header(rooms.len(), &mut out);
            for r in rooms {
                msgpack::write_str(r, &mut out);
            }
        }
        msgpack::write_str("flags", &mut out);
        msgpack::write_map_header(0, &mut out);
        out
    }

    /// Who on server `me` gets this broadcast: its rooms minus its except,
    /// this server's connections only (what arrived from Redis never goes
    /// back out); `None` when `me` published it itself (it delivered then).
    pub fn local_target(&self, me: &str) -> Option<Target> {
        (self.uid != me).then(|| Target {
            rooms: self.rooms.clone(),
            except: self.except.clone(),
            skip: None,
            local: true,
        })
    }

    /// Reads a broadcast from a message of at most `max` bytes.
    pub fn decode(bytes: &[u8], max: usize) -> Result<Broadcast, MessageError> {
        if bytes.len() > max {
            return Err(MessageError::TooBig {
                len: bytes.len(),
                max,
            });
        }
        let Value::Array(mut parts) = msgpack::decode(bytes)? else {
            return Err(MessageError::Shape(
                "a broadcast is an array [uid, packet, opts]",
            ));
        };
        if parts.len() < 3 {
            return Err(MessageError::Shape(
                "a broadcast has three parts [uid, packet, opts]",
            ));
        }
        let opts = parts.swap_remove(2);
        let packet = parts.swap_remove(1);
        let Value::String(uid) = parts.swap_remove(0) else {
            return Err(MessageError::Shape("the uid is a string"));
        };
        let Value::Object(mut packet) = packet else {
            return Err(MessageError::Shape("the packet is an object"));
        };
        // The adapter writes event packets; the emitter too. A packet with
        // no namespace is for `/` (the Node adapter's rule).
        if packet.get("type").and_then(Value::as_u64) != Some(PACKET_EVENT) {
            return Err(MessageError::Shape(
                "only event packets (type 2) are broadcast",
            ));
        }
        let nsp = match packet.remove("nsp") {
            None | Some(Value::Null) => "/".to_string(),
            Some(Value::String(s)) => s,
            Some(_) => return Err(MessageError::Shape("the namespace is a string")),
        };
        let data = match packet.remove("data") {
            Some(Value::Array(d)) if matches!(d.first(), Some(Value::String(_))) => d,
            _ => return Err(MessageError::Shape("data is [event name, ...arguments]")),
        };
        let Value::Object(opts) = opts else {
            return Err(MessageError::Shape("opts is an object"));
        };
        Ok(Broadcast {
            uid,
            nsp,
            data,
            rooms: room_list(&opts, "rooms")?,
            except: room_list(&opts, "except")?,
        })
    }
}

/// `opts.rooms` or `opts.except`: an array of room names (numbers are
/// rooms too in Socket.IO; they are read as their decimal text).
fn room_list(opts: &Map<String, Value>, key: &str) -> Result<Vec<String>, MessageError> {
    match opts.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|r| match r {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(MessageError::Shape("room names are strings")),
            })
            .collect(),
        Some(_) => Err(MessageError::Shape("rooms and except are arrays")),
    }
}

/// A request or response: a JSON object (`{` first) or, from newer
/// adapters, a MessagePack map.
pub fn decode_request(bytes: &[u8], max: usize) -> Result<Map<String, Value>, MessageError> {
    if bytes.len() > max {
        return Err(MessageError::TooBig {
            len: bytes.len(),
            max,
        });
    }
    let value = if bytes.first() == Some(&b'{') {
        serde_json::from_slice(bytes).map_err(|e| MessageError::Json(e.to_string()))?
    } else {
        msgpack::decode(bytes)?
    };
    match value {
        Value::Object(m) => Ok(m),
        _ => Err(MessageError::Shape("a request is an object")),
    }
}

/// A hub event's native JSON (`{"event":"message",…}`) as a Socket.IO
/// event's data: `["message", {…}]` (the same mapping lesson 10's
/// Socket.IO endpoint uses).
pub fn data_of_native(native: &Value) -> Option<Vec<Value>> {
    let Value::Object(obj) = native else {
        return None;
    };
    let mut obj = obj.clone();
    let Some(Value::String(name)) = obj.remove("event") else {
        return None;
    };
    Some(vec![Value::String(name), Value::Object(obj)])
}

/// A Socket.IO event's data as a native hub event: `["message", {…}]` is
/// `{"event":"message",…}`; any other arguments go under `"args"`.
pub fn native_of_data(data: &[Value]) -> Option<Map<String, Value>> {
    let (Value::String(name), args) = data.split_first()? else {
        return None;
    };
    let mut obj = Map::new();
    obj.insert("event".into(), Value::String(name.clone()));
    match args {
        [] => {}
        [Value::Object(fields)] => {
            for (k, v) in fields {
                if k != "event" {
                    obj.insert(k.clone(), v.clone());
                }
            }
        }
        many => {
            obj.insert("args".into(), Value::Array(many.to_vec()));
        }
    }
    Some(obj)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    #[test]
    fn channel_names_are_the_node_adapters() {
        let c = Channels::new("socket.io", "/");
        assert_eq!(c.broadcast, "socket.io#/#");
        assert_eq!(c.pattern(), "socket.io#/#*");
        assert_eq!(c.request, "socket.io-request#/#");
        assert_eq!(c.response, "socket.io-response#/#");
        assert_eq!(c.for_rooms(&["lobby".into()]), "socket.io#/#lobby#");
        assert_eq!(c.for_rooms(&["a".into(), "b".into()]), "socket.io#/#");
        assert_eq!(c.for_rooms(&[]), "socket.io#/#");
        assert_eq!(c.room_of("socket.io#/#lobby#"), Some("lobby"));
        assert_eq!(c.room_of("socket.io#/#"), Some(""));
        assert_eq!(c.room_of("socket.io#/admin#x#"), None);
        // A room with a `#` in its name still comes back whole.
        assert_eq!(c.room_of("socket.io#/#a#b#"), Some("a#b"));
    }

    #[test]
    fn a_broadcast_is_the_bytes_node_writes() {
        let b = Broadcast {
            uid: "abc123".into(),
            nsp: "/".into(),
            data: vec![json!("hi"), json!(1)],
            rooms: vec!["r".into()],
            except: vec![],
        };
        // What notepack.encode(["abc123",{type:2,data:["hi",1],nsp:"/"},
        // {rooms:["r"],except:[],flags:{}}]) gives, byte for byte.
        let mut want = vec![0x93, 0xa6];
        want.extend_from_slice(b"abc123");
        want.extend_from_slice(&[0x83, 0xa4]);
        want.extend_from_slice(b"type");
        want.extend_from_slice(&[0x02, 0xa4]);
        want.extend_from_slice(b"data");
        want.extend_from_slice(&[0x92, 0xa2, b'h', b'i', 0x01, 0xa3]);
        want.extend_from_slice(b"nsp");
        want.extend_from_slice(&[0xa1, b'/', 0x83, 0xa5]);
        want.extend_from_slice(b"rooms");
        want.extend_from_slice(&[0x91, 0xa1, b'r', 0xa6]);
        want.extend_from_slice(b"except");
        want.extend_from_slice(&[0x90, 0xa5]);
        want.extend_from_slice(b"flags");
        want.push(0x80);
        assert_eq!(b.encode(), want);
        assert_eq!(Broadcast::decode(&want, 1 << 20), Ok(b));
    }

    #[test]
    fn what_is_not_a_broadcast_says_why() {
        let enc = |v: Value| msgpack::encode(&v);
        assert_eq!(
            Broadcast::decode(&enc(json!({"a": 1})), 100),
            Err(MessageError::Shape(
                "a broadcast is an array [uid, packet, opts]"
            ))
        );
        assert_eq!(
            Broadcast::decode(&enc(json!(["u", {"type": 3, "data": ["x"]}, {}])), 100),
            Err(MessageError::Shape(
                "only event packets (type 2) are broadcast"
            ))
        );
        assert_eq!(
            Broadcast::decode(&enc(json!(["u", {"type": 2, "data": [7]}, {}])), 100),
            Err(MessageError::Shape("data is [event name, ...arguments]"))
        );
        assert_eq!(
            Broadcast::decode(&[0u8; 11], 10),
            Err(MessageError::TooBig { len: 11, max: 10 })
        );
        // No namespace means `/`; a numeric room is its decimal text.
        let b = Broadcast::decode(
            &enc(json!(["u", {"type": 2, "data": ["x"]}, {"rooms": [7], "except": ["e"]}])),
            100,
        )
        .unwrap();
        assert_eq!(
            (b.nsp.as_str(), b.rooms, b.except),
            ("/", vec!["7".to_string()], vec!["e".to_string()])
        );
    }

    #[test]
    fn events_map_both_ways() {
        let native = json!({"event": "message", "nick": "ana", "text": "hi"});
        let data = data_of_native(&native).unwrap();
        assert_eq!(
            data,
            vec![json!("message"), json!({"nick": "ana", "text": "hi"})]
        );
        assert_eq!(Value::Object(native_of_data(&data).unwrap()), native);
        assert_eq!(
            Value::Object(native_of_data(&[json!("score"), json!(1), json!(2)]).unwrap()),
            json!({"event": "score", "args": [1, 2]})
        );
        assert_eq!(native_of_data(&[json!(1)]), None);
    }

    #[test]
    fn requests_are_json_or_msgpack() {
        let json_req = br#"{"type":1,"requestId":"x","uid":"u"}"#;
        assert_eq!(decode_request(json_req, 100).unwrap()["type"], json!(1));
        let mp = msgpack::encode(&json!({"type": 7, "requestId": "y"}));
        assert_eq!(decode_request(&mp, 100).unwrap()["requestId"], json!("y"));
        assert!(decode_request(b"{nope", 100).is_err());
        assert_eq!(RequestType::from_number(5), Some(RequestType::RemoteFetch));
        assert_eq!(RequestType::from_number(10), None);
    }
}
