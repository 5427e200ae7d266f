//! The chat protocol: JSON events, one per frame (TCP: lesson 02's length
//! prefix; UDP: one datagram; WebSocket: one text message).
//!
//! Every event is a JSON object whose `"event"` field names it. Every client
//! event may carry `"ack": N` (an integer the client picks); the server then
//! answers with `{"event":"ack","ack":N,...}` saying how it went: how many
//! connections the event reached, or why it was refused. That is Socket.IO's
//! acknowledgement, spelled out.
//!
//! | direction | event | fields | on the wire |
//! |---|---|---|---|
//! | client → server | `nick` | `nick` | `{"event":"nick","nick":"ana","ack":1}` |
//! | client → server | `join` | `room` | `{"event":"join","room":"lobby","ack":2}` |
//! | client → server | `leave` | `room` | `{"event":"leave","room":"lobby"}` |
//! | client → server | `message` | `text`, `to` (rooms or ids; none = everyone), `except` (rooms), `self` (also to me) | `{"event":"message","to":["lobby"],"text":"hi","ack":3}` |
//! | client → server | `file` | `data` (bytes as `{"_binary":"<base64>"}`), `name` (optional), `to`, `except`, `self` as for `message` | `{"event":"file","to":["lobby"],"name":"a.png","data":{"_binary":"iVBORw0K…"}}` |
//! | client → server | `rooms` | — | `{"event":"rooms"}` |
//! | client → server | `who` | `room` | `{"event":"who","room":"lobby"}` |
//! | client → server | `join` + `since` | `room`, `since` (replay this room's events with seq > since; needs `--history`) | `{"event":"join","room":"lobby","since":41,"ack":2}` |
//! | client → server | `resume` | `session`, `last` (key → last seq seen); only as the first event | `{"event":"resume","session":"9c0e…","last":{"lobby":41},"ack":1}` |
//! | client → server | `seen` | `seq` (key → highest seq handled, cumulative) | `{"event":"seen","seq":{"lobby":57}}` |
//! | both ways | `ping` / `pong` | — | `{"event":"ping"}` → `{"event":"pong"}` |
//! | server → client | `welcome` | `id`, `nick`, `limits` (+ `session`, `session_ttl_ms` with history on) | `{"event":"welcome","id":"3f…","nick":"guest-3f2a",…,"session":"9c0e…","session_ttl_ms":120000}` |
//! | server → client | `message` | `from`, `nick`, `to`, `text` (+ `seq` with history on) | `{"event":"message","from":"3f…","nick":"ana","to":["lobby"],"text":"hi","seq":{"lobby":42}}` |
//! | server → client | `file` | `from`, `nick`, `to`, `name` (if given), `data` (+ `seq`) | `{"event":"file","from":"3f…","nick":"ana","to":["lobby"],"data":{"_binary":"iVBORw0K…"}}` |
//! | server → client | `joined` / `left` | `room`, `id`, `nick` (+ `reason` for left, + `seq`) | `{"event":"left","room":"lobby","id":"3f…","nick":"ana","reason":"disconnect"}` |
//! | server → client | `resumed` | `id` (the original), `nick`, `rooms`, `session` (a new token), `replayed` | `{"event":"resumed","id":"3f…","nick":"ana","rooms":["lobby"],"session":"77ab…","replayed":3}` |
//! | server → client | `gap` | `key`, `from`, `to`, `kept_from`, `message` (before a replay that cannot be complete) | `{"event":"gap","key":"lobby","from":42,"to":57,"kept_from":58,"message":"…"}` |
//! | server → client | `nick` | `id`, `old`, `nick` | `{"event":"nick","id":"3f…","old":"guest-3f2a","nick":"ana"}` |
//! | server → client | `rooms` / `who` | `rooms` / `room`, `members` | `{"event":"who","room":"lobby","members":[{"id":"3f…","nick":"ana"}]}` |
//! | server → client | `ack` | `ack`, `ok`, `reached` or `error`+`message` | `{"event":"ack","ack":3,"ok":true,"reached":4}` |
//! | server → client | `error` | `code`, `message` | `{"event":"error","code":"invalid_json","message":"…"}` |
//! | server → client | `dropped` | `count` | `{"event":"dropped","count":12}` |
//! | server → client | `bye` | `code`, `message` (then the server closes) | `{"event":"bye","code":"too_many_strikes","message":"…"}` |
//!
//! With `netlab serve --history N` every *recorded* event (`message`,
//! `joined`, `left`) carries `"seq"`: for each history key it was addressed
//! to (a room, a connection id for a private message, `*` for everyone) its
//! number in that key's sequence 1, 2, 3, … A client that remembers the last
//! seq it saw per key can ask for exactly what it missed (`resume`,
//! `join` with `since`) and drop what it already has (every seq not above
//! what it saw: a duplicate).
//!
//! Bytes travel in JSON as `{"_binary":"<base64>"}` (standard base64 with
//! padding, RFC 4648 §4): a `file` event's `data`. The hub checks that it is
//! base64 and passes it on as it came; a Socket.IO client sends and receives
//! it as a real binary attachment (lesson 10, [`crate::web::socketio`]). The
//! whole event is one frame, so `--max-frame` bounds a file.
//!
//! Parsing treats every frame as hostile: [`parse_client_event`] never panics,
//! and says which rule a bad frame broke ([`Refusal`]) so the server can answer
//! with a clear error event instead of dropping the connection silently.

use super::id::ConnId;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The names of the events a client may send, as they appear on the wire.
pub const CLIENT_EVENTS: &[&str] = &[
    "nick", "join", "leave", "message", "file", "rooms", "who", "resume", "seen", "ping", "pong",
];

/// Longest file name a `file` event may carry, in bytes (most file systems
/// allow 255).
pub const MAX_FILE_NAME: usize = 255;

/// Bytes inside a JSON event: `{"_binary":"<base64>"}` (standard alphabet,
/// padded; RFC 4648 §4). A Socket.IO client sees a binary attachment instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binary {
    /// The bytes, in base64.
    #[serde(rename = "_binary")]
    pub base64: String,
}

impl Binary {
    /// The bytes of `data`, written in base64.
    pub fn new(data: &[u8]) -> Binary {
        use base64::Engine as _;
        Binary {
            base64: base64::engine::general_purpose::STANDARD.encode(data),
        }
    }

    /// The bytes, or `None` if the text is not valid base64.
    pub fn decode(&self) -> Option<Vec<u8>> {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(&self.base64)
            .ok()
    }
}

/// Per history key (a room, a connection id, `*`), a sequence number.
pub type SeqMap = BTreeMap<String, u64>;

/// An event a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ClientEvent {
    /// Change my nickname.
    Nick {
        /// The new nickname.
        nick: String,
    },
    /// Join a room (Socket.IO: `socket.join(room)`).
    Join {
        /// The room.
        room: String,
        /// Also replay this room's recorded events with a seq above this one
        /// (needs a server with history).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
    },
    /// Leave a room (Socket.IO: `socket.leave(room)`).
    Leave {
        /// The room.
        room: String,
    },
    /// Say something.
    Message {
        /// Target rooms or connection ids; empty means everyone.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        to: Vec<String>,
        /// Rooms whose members must not receive it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        except: Vec<String>,
        /// The text.
        text: String,
        /// Deliver to the sender too (Socket.IO's `io.to(...)` rather than `socket.to(...)`).
        #[serde(default, rename = "self", skip_serializing_if = "std::ops::Not::not")]
        include_self: bool,
    },
    /// Send bytes (a file) to rooms or connections, like `message`.
    File {
        /// Target rooms or connection ids; empty means everyone.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        to: Vec<String>,
        /// Rooms whose members must not receive it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        except: Vec<String>,
        /// The file's name, if it has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The bytes (boxed: they make the variant the largest, and every
        /// event is as large as its largest variant).
        data: Box<Binary>,
        /// Deliver to the sender too.
        #[serde(default, rename = "self", skip_serializing_if = "std::ops::Not::not")]
        include_self: bool,
    },
    /// Which rooms am I in?
    Rooms,
    /// Who is in this room (one I am in)?
    Who {
        /// The room.
        room: String,
    },
    /// Become the session this token belongs to again, and get what it missed
    /// (must be the first event on a connection).
    Resume {
        /// The token from the last `welcome` or `resumed`.
        session: String,
        /// Per history key, the last seq this client saw.
        #[serde(default)]
        last: SeqMap,
    },
    /// Confirms recorded events up to these seqs (cumulative, per key).
    Seen {
        /// Per history key, the highest seq handled.
        seq: SeqMap,
    },
    /// Are you there? (answered with `pong`)
    Ping,
    /// The answer to the server's `ping`.
    Pong,
}

/// A client event with its optional ack id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFrame {
    /// The event.
    pub event: ClientEvent,
    /// The ack id, if the client wants to hear how it went.
    pub ack: Option<u64>,
}

impl ClientFrame {
    /// The frame as JSON bytes (what a client sends).
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_value(&self.event).expect("events always serialize");
        if let (Some(ack), Value::Object(map)) = (self.ack, &mut v) {
            map.insert("ack".into(), ack.into());
        }
        serde_json::to_vec(&v).expect("values always serialize")
    }
}

/// Why a leave notice was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    /// The connection left the room.
    Leave,
    /// The connection went away.
    Disconnect,
}

/// A member of a room, as `who` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Its connection id: 32 hex digits for a netlab connection; with
    /// `--redis` (lesson 12) also a Node Socket.IO socket's id on another server.
    pub id: String,
    /// Its nickname.
    pub nick: String,
}

/// The limits a client is told in its welcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireLimits {
    /// Longest nickname.
    pub max_nick: usize,
    /// Longest room name.
    pub max_room: usize,
    /// Most rooms.
    pub max_rooms: usize,
    /// Longest text in bytes.
    pub max_text: usize,
    /// Sustained events per second.
    pub rate: u32,
    /// Events at once.
    pub burst: u32,
}

/// An event the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ServerEvent {
    /// First event on every connection: who you are.
    Welcome {
        /// Your id (also the name of your own room).
        id: ConnId,
        /// Your nickname until you pick one.
        nick: String,
        /// What you may do.
        limits: WireLimits,
        /// The token that resumes this session after a disconnect (history on only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<String>,
        /// How long a disconnected session waits to be resumed, in milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_ttl_ms: Option<u64>,
    },
    /// Someone said something.
    Message {
        /// Sender's id.
        from: ConnId,
        /// Sender's nickname.
        nick: String,
        /// What it was addressed to (empty: everyone).
        to: Vec<String>,
        /// The text.
        text: String,
        /// Its number in each history key it was recorded under (history on only).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        seq: SeqMap,
    },
    /// Someone sent bytes (a file).
    File {
        /// Sender's id.
        from: ConnId,
        /// Sender's nickname.
        nick: String,
        /// What it was addressed to (empty: everyone).
        to: Vec<String>,
        /// The file's name, if it has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The bytes.
        data: Binary,
        /// Its number in each history key it was recorded under (history on
        /// only). Written last, like every `seq`.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        seq: SeqMap,
    },
    /// A connection joined a room you are in.
    Joined {
        /// The room.
        room: String,
        /// Who.
        id: ConnId,
        /// Their nickname.
        nick: String,
        /// Its number in each history key it was recorded under (history on only).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        seq: SeqMap,
    },
    /// A connection left a room you are in.
    Left {
        /// The room.
        room: String,
        /// Who.
        id: ConnId,
        /// Their nickname.
        nick: String,
        /// Left, or went away.
        reason: LeaveReason,
        /// Its number in each history key it was recorded under (history on only).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        seq: SeqMap,
    },
    /// Someone in one of your rooms changed nickname.
    Nick {
        /// Who.
        id: ConnId,
        /// The old nickname.
        old: String,
        /// The new nickname.
        nick: String,
    },
    /// The answer to `rooms`.
    Rooms {
        /// Your rooms, your own id room first.
        rooms: Vec<String>,
    },
    /// The answer to `who`.
    Who {
        /// The room asked about.
        room: String,
        /// Its members, by id.
        members: Vec<Member>,
        /// With rooms shared over Redis (lesson 12): why the list may miss
        /// members of other servers (some did not answer in time, or Redis
        /// is away). Absent: the answer is whole.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        partial: Option<String>,
    },
    /// The outcome of an event that carried an ack id.
    Ack {
        /// The client's ack id.
        ack: u64,
        /// Whether the event was accepted.
        ok: bool,
        /// How many connections it reached (accepted events).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reached: Option<usize>,
        /// Which rule refused it (refused events).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<ErrorCode>,
        /// Why, in words.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// An event was refused and had no ack id (or could not be read at all).
    Error {
        /// Which rule it broke.
        code: ErrorCode,
        /// Why, in words, and what to do.
        message: String,
    },
    /// Your outbound queue was full: this many older events were dropped.
    Dropped {
        /// Events lost.
        count: u64,
    },
    /// The server is closing this connection, and why.
    Bye {
        /// Which rule.
        code: ErrorCode,
        /// Why, in words.
        message: String,
    },
    /// The answer to `resume`: this connection is the old session again.
    Resumed {
        /// The session's original id.
        id: ConnId,
        /// Its nickname.
        nick: String,
        /// Its named rooms, sorted.
        rooms: Vec<String>,
        /// A fresh token for the next resume (the old one no longer works).
        session: String,
        /// How many missed events follow.
        replayed: u64,
    },
    /// Events `from..=to` of `key` are older than the history keeps: they
    /// cannot be replayed (sent before the replay of what remains).
    Gap {
        /// The history key.
        key: String,
        /// First missed seq that is gone.
        from: u64,
        /// Last missed seq that is gone.
        to: u64,
        /// The oldest seq still kept (the replay starts there).
        kept_from: u64,
        /// The same in words.
        message: String,
    },
    /// Are you there? (answer with `pong`)
    Ping,
    /// The answer to a client's `ping`.
    Pong,
    /// An event another server broadcast (lesson 12), passed on as it came:
    /// `{"event": name, …}`. Its fields are whatever that server wrote (a
    /// Node Socket.IO server's ids are not 32 hex digits), so it is not read
    /// into one of the shapes above; every other event reads as this too
    /// when it does not fit its shape.
    #[serde(untagged)]
    Relayed(Relayed),
}

/// A JSON object with an `"event"` name: an event from another server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Relayed(pub serde_json::Map<String, Value>);

impl Relayed {
    /// The event's name.
    pub fn name(&self) -> &str {
        self.0
            .get("event")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

impl ServerEvent {
    /// The event as JSON bytes, ready to be framed once and sent to many.
    pub fn to_bytes(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(self).expect("server events always serialize"))
    }

    /// The seq map of a recorded event (`None` if it was not recorded: history
    /// off, or an event history does not keep).
    pub fn seq(&self) -> Option<&SeqMap> {
        match self {
            ServerEvent::Message { seq, .. }
            | ServerEvent::File { seq, .. }
            | ServerEvent::Joined { seq, .. }
            | ServerEvent::Left { seq, .. }
                if !seq.is_empty() =>
            {
                Some(seq)
            }
            _ => None,
        }
    }

    /// Whether history records this kind of event (messages, files, joins, leaves).
    pub fn is_recordable(&self) -> bool {
        matches!(
            self,
            ServerEvent::Message { .. }
                | ServerEvent::File { .. }
                | ServerEvent::Joined { .. }
                | ServerEvent::Left { .. }
        )
    }

    /// The same event carrying `seq` (for recordable events; others unchanged).
    pub fn with_seq(&self, new: SeqMap) -> ServerEvent {
        let mut e = self.clone();
        if let ServerEvent::Message { seq, .. }
        | ServerEvent::File { seq, .. }
        | ServerEvent::Joined { seq, .. }
        | ServerEvent::Left { seq, .. } = &mut e
        {
            *seq = new;
        }
        e
    }
}

/// The machine-readable name of each rule, as sent in `error`, `ack` and `bye`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not JSON.
    InvalidJson,
    /// The JSON is not an object.
    NotAnObject,
    /// No `"event"` string field.
    MissingEvent,
    /// An event name the server does not know.
    UnknownEvent,
    /// The event's fields are missing or of the wrong type.
    InvalidFields,
    /// `ack` is not a non-negative integer.
    InvalidAck,
    /// The frame is longer than the server accepts.
    FrameTooLong,
    /// A frame's first byte came, the rest did not come within the frame timeout.
    FrameTimeout,
    /// The server's memory budget cannot hold what this connection sent.
    MemoryFull,
    /// This connection's source address holds as many connections as one address may.
    AddressFull,
    /// The nickname breaks the naming rules.
    InvalidNick,
    /// Another live or resumable connection holds this nickname (any case).
    NickTaken,
    /// The room name breaks the naming rules.
    InvalidRoom,
    /// The room name is a connection id: those rooms cannot be joined or left.
    ReservedRoom,
    /// Joining would exceed the room limit.
    TooManyRooms,
    /// The sender is not in the room it addressed.
    NotAMember,
    /// The text is longer than allowed.
    TextTooLong,
    /// Events are arriving faster than the rate limit.
    RateLimited,
    /// Too many violations: the connection is closed.
    TooManyStrikes,
    /// The server holds as many connections as it may.
    ServerFull,
    /// The sender's address holds as many sessions as one address may.
    AddressLimit,
    /// The session token is unknown, expired or already used.
    SessionUnknown,
    /// `resume` came after other events on this connection.
    ResumeNotFirst,
    /// The event needs history, and the server keeps none.
    HistoryOff,
    /// The session was resumed on another connection: this one is closed.
    SessionResumed,
    /// Recorded events stayed unconfirmed through every resend: the peer is treated as dead.
    NoConfirmation,
    /// The peer sent nothing, not even a pong, within the heartbeat timeout.
    HeartbeatTimeout,
    /// Server code disconnected it (Socket.IO's `disconnectSockets`), here
    /// or from another server over Redis (lesson 12).
    Disconnected,
}

impl ErrorCode {
    /// The code as it appears on the wire, e.g. `not_a_member`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::NotAnObject => "not_an_object",
            ErrorCode::MissingEvent => "missing_event",
            ErrorCode::UnknownEvent => "unknown_event",
            ErrorCode::InvalidFields => "invalid_fields",
            ErrorCode::InvalidAck => "invalid_ack",
            ErrorCode::FrameTooLong => "frame_too_long",
            ErrorCode::FrameTimeout => "frame_timeout",
            ErrorCode::MemoryFull => "memory_full",
            ErrorCode::AddressFull => "address_full",
            ErrorCode::InvalidNick => "invalid_nick",
            ErrorCode::NickTaken => "nick_taken",
            ErrorCode::InvalidRoom => "invalid_room",
            ErrorCode::ReservedRoom => "reserved_room",
            ErrorCode::TooManyRooms => "too_many_rooms",
            ErrorCode::NotAMember => "not_a_member",
            ErrorCode::TextTooLong => "text_too_long",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::TooManyStrikes => "too_many_strikes",
            ErrorCode::ServerFull => "server_full",
            ErrorCode::AddressLimit => "address_limit",
            ErrorCode::SessionUnknown => "session_unknown",
            ErrorCode::ResumeNotFirst => "resume_not_first",
            ErrorCode::HistoryOff => "history_off",
            ErrorCode::SessionResumed => "session_resumed",
            ErrorCode::NoConfirmation => "no_confirmation",
            ErrorCode::HeartbeatTimeout => "heartbeat_timeout",
            ErrorCode::Disconnected => "disconnected",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the hub refused a client event: each variant is one rule of the protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A frame must hold JSON.
    #[error("the frame is not valid JSON ({0}); send one JSON object per frame")]
    InvalidJson(String),
    /// The JSON must be an object.
    #[error("the frame is JSON but not an object; send {{\"event\": ..., ...}}")]
    NotAnObject,
    /// Every event names itself.
    #[error("the object has no \"event\" string field; say which event it is, e.g. {{\"event\":\"join\",\"room\":\"lobby\"}}")]
    MissingEvent,
    /// Only the events in the protocol table exist.
    #[error("unknown event `{0}`; the events are nick, join, leave, message, file, rooms, who, resume, seen, ping, pong")]
    UnknownEvent(String),
    /// Fields must match the event.
    #[error("bad fields for `{event}`: {detail}")]
    InvalidFields {
        /// The event.
        event: String,
        /// What serde said.
        detail: String,
    },
    /// An ack id is an integer from 0 to 2^64-1.
    #[error("\"ack\" must be a non-negative integer")]
    InvalidAck,
    /// Frames have a size limit.
    #[error("the frame announces {announced} bytes; the limit is {max} (the connection is closed: framing cannot resynchronise)")]
    FrameTooLong {
        /// What the header said.
        announced: u64,
        /// The limit.
        max: usize,
    },
    /// A frame must arrive whole soon after its first byte.
    #[error("the frame was not complete {timeout_ms} ms after its first byte (only {have} of {need} bytes arrived); closing (a stalled frame holds a slot)")]
    FrameTimeout {
        /// The limit.
        timeout_ms: u64,
        /// Bytes of the frame (header included) that arrived.
        have: usize,
        /// Bytes the frame needed (header included).
        need: usize,
    },
    /// The server has a memory budget shared by every connection.
    #[error("the server's memory budget ({max} bytes for every connection together) cannot hold this frame now; closing, try again later")]
    MemoryFull {
        /// The budget.
        max: usize,
    },
    /// One source address may hold a limited number of connections.
    #[error("your address already has {max} connections open, the most one address may have; close one and try again")]
    AddressFull {
        /// The cap.
        max: usize,
    },
    /// Nicknames follow the naming rules.
    #[error("invalid nickname: {0}")]
    InvalidNick(super::limits::NameError),
    /// One nickname, one connection: nobody can pass for someone else by name.
    #[error("the nickname `{0}` is taken: another connection on this server holds it (nicknames are unique, whatever their case); pick another")]
    NickTaken(String),
    /// Room names follow the naming rules.
    #[error("invalid room name: {0}")]
    InvalidRoom(super::limits::NameError),
    /// Id rooms belong to their connection.
    #[error("`{0}` is shaped like a connection id (32 hex digits; with --redis also Socket.IO's 20 base64url characters): each connection's own room cannot be joined or left")]
    ReservedRoom(String),
    /// A connection may be in a limited number of rooms.
    #[error("you are already in {max} rooms, the limit; leave one first")]
    TooManyRooms {
        /// The limit.
        max: usize,
    },
    /// You may only speak into (or ask about) rooms you are in.
    #[error("you are not in room `{0}`; join it first")]
    NotAMember(String),
    /// Message text has a size limit.
    #[error("the text is {len} bytes; at most {max} are allowed")]
    TextTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Events per second are limited.
    #[error("too many events: at most {rate}/s (bursts of {burst}); slow down")]
    RateLimited {
        /// Sustained rate.
        rate: u32,
        /// Burst.
        burst: u32,
    },
    /// Repeated violations end the connection.
    #[error("{strikes} violations; closing the connection")]
    TooManyStrikes {
        /// How many.
        strikes: u32,
    },
    /// The server has a connection limit.
    #[error("the server holds its maximum of {max} connections; try again later")]
    ServerFull {
        /// The limit.
        max: usize,
    },
    /// One address may hold only so many sessions (UDP: `--udp-max-per-ip`).
    #[error("this address already holds {max} UDP sessions, the most one address may; end one (bye) or wait for one to expire")]
    AddressLimit {
        /// The limit.
        max: usize,
    },
    /// A token resumes only a live session, once.
    #[error("no session has this token (unknown, expired or already used); start fresh and join your rooms again with `since`")]
    SessionUnknown,
    /// Resume replaces a connection's identity, so it must come before anything else.
    #[error("`resume` must be the first event on a connection (before join, nick or message); reconnect and send it first")]
    ResumeNotFirst,
    /// Resume, `since` and `seen` need recorded events.
    #[error(
        "this server keeps no history, so `{0}` cannot work; start the server with --history N"
    )]
    HistoryOff(&'static str),
    /// A session lives on one connection at a time.
    #[error("this session was resumed on another connection; this one is closed")]
    SessionResumed,
    /// Server→client confirmations: unconfirmed after every resend.
    #[error("no confirmation after {retries} retries; closing (the session stays resumable: reconnect and send resume)")]
    NoConfirmation {
        /// Resends made.
        retries: u32,
    },
    /// Heartbeats: nothing from the peer within the timeout.
    #[error("nothing received within {timeout_ms} ms of a ping (heartbeat timeout); closing")]
    HeartbeatTimeout {
        /// The timeout.
        timeout_ms: u64,
    },
    /// Server code asked for this connection to be disconnected.
    #[error("disconnected by the server ({by}); you may reconnect")]
    Disconnected {
        /// Who asked, e.g. `another server over Redis`.
        by: String,
    },
}

impl Refusal {
    /// The rule's wire name.
    pub fn code(&self) -> ErrorCode {
        match self {
            Refusal::InvalidJson(_) => ErrorCode::InvalidJson,
            Refusal::NotAnObject => ErrorCode::NotAnObject,
            Refusal::MissingEvent => ErrorCode::MissingEvent,
            Refusal::UnknownEvent(_) => ErrorCode::UnknownEvent,
            Refusal::InvalidFields { .. } => ErrorCode::InvalidFields,
            Refusal::InvalidAck => ErrorCode::InvalidAck,
            Refusal::FrameTooLong { .. } => ErrorCode::FrameTooLong,
            Refusal::FrameTimeout { .. } => ErrorCode::FrameTimeout,
            Refusal::MemoryFull { .. } => ErrorCode::MemoryFull,
            Refusal::AddressFull { .. } => ErrorCode::AddressFull,
            Refusal::InvalidNick(_) => ErrorCode::InvalidNick,
            Refusal::NickTaken(_) => ErrorCode::NickTaken,
            Refusal::InvalidRoom(_) => ErrorCode::InvalidRoom,
            Refusal::ReservedRoom(_) => ErrorCode::ReservedRoom,
            Refusal::TooManyRooms { .. } => ErrorCode::TooManyRooms,
            Refusal::NotAMember(_) => ErrorCode::NotAMember,
            Refusal::TextTooLong { .. } => ErrorCode::TextTooLong,
            Refusal::RateLimited { .. } => ErrorCode::RateLimited,
            Refusal::TooManyStrikes { .. } => ErrorCode::TooManyStrikes,
            Refusal::ServerFull { .. } => ErrorCode::ServerFull,
            Refusal::AddressLimit { .. } => ErrorCode::AddressLimit,
            Refusal::SessionUnknown => ErrorCode::SessionUnknown,
            Refusal::ResumeNotFirst => ErrorCode::ResumeNotFirst,
            Refusal::HistoryOff(_) => ErrorCode::HistoryOff,
            Refusal::SessionResumed => ErrorCode::SessionResumed,
            Refusal::NoConfirmation { .. } => ErrorCode::NoConfirmation,
            Refusal::HeartbeatTimeout { .. } => ErrorCode::HeartbeatTimeout,
            Refusal::Disconnected { .. } => ErrorCode::Disconnected,
        }
    }

    /// The refusal as the event a client sees: an `ack` if it asked for one, else an `error`.
    pub fn to_event(&self, ack: Option<u64>) -> ServerEvent {
        match ack {
            Some(ack) => ServerEvent::Ack {
                ack,
                ok: false,
                reached: None,
                error: Some(self.code()),
                message: Some(self.to_string()),
            },
            None => ServerEvent::Error {
                code: self.code(),
                message: self.to_string(),
            },
        }
    }
}

/// Lesson 03: the first checks on a client frame — is it a JSON object, does
/// it carry a valid `ack`, does it name a known event? Returns the event name
/// and the ack id, or the rule the frame broke (checked in that order).
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
        Some(Value::String(name)) if CLIENT_EVENTS.contains(&name.as_str()) => {
            Ok((name.clone(), ack))
        }
        Some(Value::String(_)) => Err(ErrorCode::UnknownEvent),
        _ => Err(ErrorCode::MissingEvent),
    }
}

/// Reads one client frame. On failure, returns the ack id (if one could be
/// read) with the rule that was broken, so the refusal can still be acked.
pub fn parse_client_event(payload: &[u8]) -> Result<ClientFrame, (Option<u64>, Refusal)> {
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| (None, Refusal::InvalidJson(e.to_string())))?;
    let Value::Object(mut map) = value else {
        return Err((None, Refusal::NotAnObject));
    };
    let ack = match map.remove("ack") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or((None, Refusal::InvalidAck))?),
    };
    let name = match map.get("event") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err((ack, Refusal::MissingEvent)),
    };
    if !CLIENT_EVENTS.contains(&name.as_str()) {
        // Echo at most a short, printable part of a hostile name back.
        let shown: String = name.chars().take(32).filter(|c| !c.is_control()).collect();
        return Err((ack, Refusal::UnknownEvent(shown)));
    }
    let event = serde_json::from_value(Value::Object(Map::from_iter(map))).map_err(|e| {
        (
            ack,
            Refusal::InvalidFields {
                event: name.clone(),
                detail: e.to_string(),
            },
        )
    })?;
    Ok(ClientFrame { event, ack })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn a_join_with_ack_parses() {
        let f = parse_client_event(br#"{"event":"join","room":"lobby","ack":7}"#).unwrap();
        assert_eq!(
            f,
            ClientFrame {
                event: ClientEvent::Join {
                    room: "lobby".into(),
                    since: None
                },
                ack: Some(7)
            }
        );
    }

    #[test]
    fn message_defaults_are_everyone_and_not_self() {
        let f = parse_client_event(br#"{"event":"message","text":"hi"}"#).unwrap();
        assert_eq!(
            f.event,
            ClientEvent::Message {
                to: vec![],
                except: vec![],
                text: "hi".into(),
                include_self: false
            }
        );
        let f = parse_client_event(
            br#"{"event":"message","text":"hi","to":["a","b"],"except":["c"],"self":true}"#,
        )
        .unwrap();
        assert_eq!(
            f.event,
            ClientEvent::Message {
                to: vec!["a".into(), "b".into()],
                except: vec!["c".into()],
                text: "hi".into(),
                include_self: true
            }
        );
    }

    #[test]
    fn every_kind_of_bad_frame_names_its_rule() {
        let code = |b: &[u8]| parse_client_event(b).unwrap_err().1.code();
        assert_eq!(code(b"{not json"), ErrorCode::InvalidJson);
        assert_eq!(code(b""), ErrorCode::InvalidJson);
        assert_eq!(code(b"\xff\xfe"), ErrorCode::InvalidJson);
        assert_eq!(code(b"[1,2]"), ErrorCode::NotAnObject);
        assert_eq!(code(br#"{"room":"x"}"#), ErrorCode::MissingEvent);
        assert_eq!(code(br#"{"event":5}"#), ErrorCode::MissingEvent);
        assert_eq!(code(br#"{"event":"launch"}"#), ErrorCode::UnknownEvent);
        assert_eq!(code(br#"{"event":"join"}"#), ErrorCode::InvalidFields);
        assert_eq!(
            code(br#"{"event":"join","room":5}"#),
            ErrorCode::InvalidFields
        );
        assert_eq!(
            code(br#"{"event":"rooms","ack":-1}"#),
            ErrorCode::InvalidAck
        );
        assert_eq!(
            code(br#"{"event":"rooms","ack":"x"}"#),
            ErrorCode::InvalidAck
        );
    }

    #[test]
    fn a_refused_event_keeps_its_ack_id() {
        let (ack, r) = parse_client_event(br#"{"event":"fly","ack":3}"#).unwrap_err();
        assert_eq!(ack, Some(3));
        assert_eq!(r, Refusal::UnknownEvent("fly".into()));
    }

    #[test]
    fn server_events_have_the_documented_wire_form() {
        let id = ConnId(0xab);
        let e = ServerEvent::Message {
            from: id,
            nick: "ana".into(),
            to: vec!["lobby".into()],
            text: "hi".into(),
            seq: SeqMap::new(),
        };
        assert_eq!(
            std::str::from_utf8(&e.to_bytes()).unwrap(),
            r#"{"event":"message","from":"000000000000000000000000000000ab","nick":"ana","to":["lobby"],"text":"hi"}"#
        );
        let ack = ServerEvent::Ack {
            ack: 3,
            ok: true,
            reached: Some(4),
            error: None,
            message: None,
        };
        assert_eq!(
            std::str::from_utf8(&ack.to_bytes()).unwrap(),
            r#"{"event":"ack","ack":3,"ok":true,"reached":4}"#
        );
    }

    #[test]
    fn error_codes_display_as_their_wire_names() {
        for code in [
            ErrorCode::NotAMember,
            ErrorCode::InvalidJson,
            ErrorCode::ServerFull,
            ErrorCode::TooManyStrikes,
        ] {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::Value::from(code.as_str())
            );
        }
    }

    #[test]
    fn client_frames_round_trip() {
        let f = ClientFrame {
            event: ClientEvent::Leave { room: "x".into() },
            ack: Some(9),
        };
        assert_eq!(parse_client_event(&f.to_json()).unwrap(), f);
    }

    #[test]
    fn the_missed_event_additions_have_their_documented_wire_form() {
        let f = parse_client_event(
            br#"{"event":"resume","session":"9c0e","last":{"lobby":41,"*":7},"ack":1}"#,
        )
        .unwrap();
        assert_eq!(
            f.event,
            ClientEvent::Resume {
                session: "9c0e".into(),
                last: SeqMap::from([("lobby".into(), 41), ("*".into(), 7)])
            }
        );
        let f = parse_client_event(br#"{"event":"join","room":"lobby","since":41}"#).unwrap();
        assert_eq!(
            f.event,
            ClientEvent::Join {
                room: "lobby".into(),
                since: Some(41)
            }
        );
        let f = parse_client_event(br#"{"event":"seen","seq":{"lobby":57}}"#).unwrap();
        assert_eq!(
            f.event,
            ClientEvent::Seen {
                seq: SeqMap::from([("lobby".into(), 57)])
            }
        );
        assert_eq!(
            parse_client_event(br#"{"event":"ping"}"#).unwrap().event,
            ClientEvent::Ping
        );
        let code = |b: &[u8]| parse_client_event(b).unwrap_err().1.code();
        assert_eq!(
            code(br#"{"event":"join","room":"a","since":-1}"#),
            ErrorCode::InvalidFields
        );
        assert_eq!(
            code(br#"{"event":"seen","seq":{"a":"x"}}"#),
            ErrorCode::InvalidFields
        );
        assert_eq!(code(br#"{"event":"resume"}"#), ErrorCode::InvalidFields);
        let left = ServerEvent::Left {
            room: "lobby".into(),
            id: ConnId(1),
            nick: "ana".into(),
            reason: LeaveReason::Disconnect,
            seq: SeqMap::from([("lobby".into(), 3)]),
        };
        assert_eq!(
            std::str::from_utf8(&left.to_bytes()).unwrap(),
            r#"{"event":"left","room":"lobby","id":"00000000000000000000000000000001","nick":"ana","reason":"disconnect","seq":{"lobby":3}}"#
        );
        assert_eq!(left.seq(), Some(&SeqMap::from([("lobby".into(), 3)])));
        let gap = ServerEvent::Gap {
            key: "lobby".into(),
            from: 42,
            to: 57,
            kept_from: 58,
            message: "m".into(),
        };
        assert_eq!(
            std::str::from_utf8(&gap.to_bytes()).unwrap(),
            r#"{"event":"gap","key":"lobby","from":42,"to":57,"kept_from":58,"message":"m"}"#
        );
        assert_eq!(gap.seq(), None);
        assert_eq!(&ServerEvent::Pong.to_bytes()[..], br#"{"event":"pong"}"#);
        for (code, wire) in [
            (ErrorCode::SessionUnknown, "session_unknown"),
            (ErrorCode::ResumeNotFirst, "resume_not_first"),
            (ErrorCode::HistoryOff, "history_off"),
            (ErrorCode::SessionResumed, "session_resumed"),
            (ErrorCode::NickTaken, "nick_taken"),
            (ErrorCode::AddressLimit, "address_limit"),
        ] {
            assert_eq!(code.as_str(), wire);
            assert_eq!(serde_json::to_value(code).unwrap(), Value::from(wire));
        }
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_refused_or_parsed_never_a_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let _ = parse_client_event(&bytes);
        }
    }
}
