//! The chat hub's JSON events as Socket.IO events, both ways.
//!
//! Events map one to one onto the hub's native JSON events (the table in
//! [`crate::chat::protocol`]): `2["join","lobby"]` is
//! `{"event":"join","room":"lobby"}`, `2["message",{…}]` is
//! `{"event":"message",…}`, and the hub's events come back as
//! `2["message",{"from":…,"nick":…,"to":…,"text":…}]`. An ack id becomes the
//! native `ack` field, and the hub's `ack` event becomes an ACK packet.
//!
//! On top of that plain mapping, per socket ([`Translator`]):
//!
//! - **namespace**: every packet carries the socket's namespace (`2/admin,[…]`);
//! - **binary**: `{"_binary":"<base64>"}` in a hub event becomes an attachment
//!   ([`super::binary`]), so a `file` event reaches a Socket.IO client as a
//!   real `Buffer`;
//! - **recorded events** (those carrying `"seq"`, history on) either carry the
//!   socket's offset as their last argument (connection-state recovery,
//!   [`super::recovery`]), or — with `--confirm-timeout` — become ack
//!   requests `2<n>[…]` whose answers confirm them ([`AckRequests`]).

use super::binary::{base64_to_placeholders, BINARY_KEY};
use super::packet::{Packet, MAIN_NAMESPACE};
use super::recovery::Received;
use crate::chat::protocol::SeqMap;
use bytes::Bytes;
use serde_json::{Map, Value};
use std::collections::VecDeque;

/// A Socket.IO event as a native hub event (`{"event":name,...}`), or why not.
///
/// `join`/`leave` take the room, `nick` the nickname, `who` the room, `file`
/// its data (a binary value, sent to everyone); `message`, `file` and the
/// rest also take one object with the native fields. Binary values must
/// already be `{"_binary":…}` ([`super::binary::placeholders_to_base64`]).
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
        // `socket.emit("file", buffer)`: the bytes alone, to everyone.
        (None, Some(Value::Object(o))) if name == "file" && is_binary(o) => {
            obj.insert("data".into(), Value::Object(o.clone()));
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

/// Whether a JSON object is a binary value `{"_binary":…}`.
fn is_binary(o: &Map<String, Value>) -> bool {
    o.len() == 1 && o.contains_key(BINARY_KEY)
}

/// One Socket.IO packet ready to go: its text and the binary messages after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The packet's text (an Engine.IO message of its own).
    pub text: String,
    /// Its attachments, each a binary Engine.IO message, in order.
    pub attachments: Vec<Bytes>,
}

impl Outgoing {
    fn text(text: String) -> Outgoing {
        Outgoing {
            text,
            attachments: Vec::new(),
        }
    }
}

/// What a socket does with the hub's *recorded* events (those with `"seq"`).
#[derive(Debug)]
pub enum Recorded {
    /// History is off: there are none.
    Plain,
    /// Connection-state recovery: each carries the socket's offset as its
    /// last argument.
    Offsets(Received),
    /// `--confirm-timeout`: each is an ack request; answers are confirmations
    /// (and what was confirmed is what a recovering client has).
    Ask {
        /// The requests waiting for an answer.
        requests: AckRequests,
        /// What the client confirmed so far.
        confirmed: Received,
    },
}

/// Turns one socket's hub events into Socket.IO packets.
#[derive(Debug)]
pub struct Translator {
    nsp: String,
    recorded: Recorded,
}

impl Translator {
    /// A translator for a socket in namespace `nsp`.
    pub fn new(nsp: &str, recorded: Recorded) -> Translator {
        Translator {
            nsp: nsp.to_string(),
            recorded,
        }
    }

    /// The socket's namespace.
    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// How recorded events are handled.
    pub fn recorded(&self) -> &Recorded {
        &self.recorded
    }

    /// What the client has of the recorded events, per key, as far as the
    /// server knows: what it was sent (offsets) or confirmed (ack requests).
    pub fn received(&self) -> Option<&Received> {
        match &self.recorded {
            Recorded::Plain => None,
            Recorded::Offsets(r) => Some(r),
            Recorded::Ask { confirmed, .. } => Some(confirmed),
        }
    }

    /// [`Translator::packet`] for an event the hub encoded once for many
    /// receivers: on a socket that keeps no offsets or ack requests the
    /// packet depends only on the event and the namespace, so each worker
    /// thread translates it once and hands every other receiver a copy.
    /// The cache holds a clone of `json`, so its address cannot be reused by
    /// another event while it is cached.
    pub fn packet_shared(&mut self, json: &Bytes) -> Option<Outgoing> {
        if !matches!(self.recorded, Recorded::Plain) {
            return self.packet(json);
        }
        thread_local! {
            static LAST: std::cell::RefCell<Option<(Bytes, String, Option<Outgoing>)>> =
                const { std::cell::RefCell::new(None) };
        }
        LAST.with(|last| {
            let mut last = last.borrow_mut();
            if let Some((b, nsp, out)) = last.as_ref() {
                if b.as_ptr() == json.as_ptr() && b.len() == json.len() && *nsp == self.nsp {
                    return out.clone();
                }
            }
            let out = self.packet(json);
            *last = Some((json.clone(), self.nsp.clone(), out.clone()));
            out
        })
    }

    /// A native hub event as the packet the client receives (`None`: not an
    /// event at all).
    pub fn packet(&mut self, json: &[u8]) -> Option<Outgoing> {
        if let Some(r) = self.tracker() {
            follow_membership(r, json);
        }
        let seq = if contains(json, SEQ_KEY) {
            seq_in(json)
        } else {
            None
        };
        let (ack, offset) = match (&mut self.recorded, seq) {
            (Recorded::Offsets(r), Some(seq)) => {
                r.advance(&seq);
                (None, Some(r.offset()))
            }
            (Recorded::Ask { requests, .. }, Some(seq)) => (Some(requests.ask(seq)), None),
            _ => (None, None),
        };
        if contains(json, BINARY_MARK) {
            return general(json, &self.nsp, ack, offset.as_deref());
        }
        event_fast(json, &self.nsp, ack, offset.as_deref())
            .map(Outgoing::text)
            .or_else(|| general(json, &self.nsp, ack, offset.as_deref()))
    }

    /// The client answered ack request `id`: the seq map it confirms (for
    /// the hub's `seen`), once; `None` for an id never asked or already answered.
    pub fn answer(&mut self, id: u64) -> Option<SeqMap> {
        let Recorded::Ask {
            requests,
            confirmed,
        } = &mut self.recorded
        else {
            return None;
        };
        let seq = requests.answer(id)?;
        confirmed.advance(&seq);
        Some(seq)
    }

    /// The socket is now hub connection `me`, in `rooms`, holding `have`
    /// (after a welcome or a resume).
    pub fn start(&mut self, me: &str, rooms: Vec<String>, have: SeqMap) {
        if let Some(r) = self.tracker() {
            *r = Received::new(me, rooms, have);
        }
    }

    fn tracker(&mut self) -> Option<&mut Received> {
        match &mut self.recorded {
            Recorded::Plain => None,
            Recorded::Offsets(r) => Some(r),
            Recorded::Ask { confirmed, .. } => Some(confirmed),
        }
    }
}

/// Start of every event the hub writes: its serializer puts the tag first.
const EVENT_TAG: &[u8] = br#"{"event":""#;

/// How a recorded event's seq map starts in the hub's JSON. Inside a JSON
/// string a quote is escaped, so these bytes can only be a key.
const SEQ_KEY: &[u8] = br#""seq":"#;

/// How a binary value starts in the hub's JSON (a key, for the same reason).
const BINARY_MARK: &[u8] = br#""_binary":"#;

fn contains(json: &[u8], needle: &[u8]) -> bool {
    json.windows(needle.len()).any(|w| w == needle)
}

/// The name of a hub event, read from its first bytes (`{"event":"NAME"…`).
pub fn event_name(json: &[u8]) -> Option<&str> {
    let rest = json.strip_prefix(EVENT_TAG)?;
    let end = rest.iter().position(|&b| b == b'"')?;
    std::str::from_utf8(&rest[..end]).ok()
}

/// The `"seq"` map of a recorded hub event. The hub writes it as the last
/// field, so only the tail is read.
fn seq_in(json: &[u8]) -> Option<SeqMap> {
    let at = json.windows(SEQ_KEY.len()).rposition(|w| w == SEQ_KEY)?;
    let tail = &json[at + SEQ_KEY.len()..];
    let seq = serde_json::Deserializer::from_slice(tail)
        .into_iter::<SeqMap>()
        .next()?
        .ok()?;
    (!seq.is_empty()).then_some(seq)
}

/// A `joined` or `left` about the socket itself changes which keys it sees.
fn follow_membership(r: &mut Received, json: &[u8]) {
    let name = event_name(json);
    if !matches!(name, Some("joined" | "left")) {
        return;
    }
    let Ok(v) = serde_json::from_slice::<Value>(json) else {
        return;
    };
    if v["id"].as_str() != Some(r.me()) {
        return;
    }
    if let Some(room) = v["room"].as_str() {
        if name == Some("joined") {
            r.joined(room);
        } else {
            r.left(room);
        }
    }
}

/// The text before an EVENT's array: type, namespace, ack id.
fn event_head(out: &mut Vec<u8>, nsp: &str, ack: Option<u64>) {
    out.push(b'2');
    if nsp != MAIN_NAMESPACE {
        out.extend_from_slice(nsp.as_bytes());
        out.push(b',');
    }
    if let Some(id) = ack {
        out.extend_from_slice(id.to_string().as_bytes());
    }
}

/// The fan-out fast path: a hub event `{"event":"NAME",FIELDS}` becomes
/// `2["NAME",{FIELDS}]` by moving bytes, without parsing the JSON again for
/// every receiver (the hub encoded it once for all of them). Anything else —
/// an `ack`, a name that would need escaping, another shape — returns `None`
/// and takes the general path.
fn event_fast(json: &[u8], nsp: &str, ack: Option<u64>, offset: Option<&str>) -> Option<String> {
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
    let mut out = Vec::with_capacity(json.len() + nsp.len() + 24);
    event_head(&mut out, nsp, ack);
    out.extend_from_slice(b"[\"");
    out.extend_from_slice(name);
    out.extend_from_slice(b"\",{");
    out.extend_from_slice(fields);
    if let Some(o) = offset {
        // An offset is room names, ids, digits, `*`, `:` and `,`: nothing to escape.
        out.extend_from_slice(b",\"");
        out.extend_from_slice(o.as_bytes());
        out.push(b'"');
    }
    out.push(b']');
    String::from_utf8(out).ok()
}

/// The general path: parse the hub event and build the packet.
fn general(json: &[u8], nsp: &str, ack: Option<u64>, offset: Option<&str>) -> Option<Outgoing> {
    let Ok(Value::Object(mut obj)) = serde_json::from_slice::<Value>(json) else {
        return None;
    };
    let Some(Value::String(name)) = obj.remove("event") else {
        return None;
    };
    if name == "ack" {
        let id = obj.remove("ack")?.as_u64()?;
        let packet = Packet::ack(nsp, id, vec![Value::Object(obj)], Vec::new());
        return Some(Outgoing::text(packet.encode()));
    }
    let mut body = Value::Object(obj);
    let attachments = base64_to_placeholders(&mut body);
    if attachments.is_empty() {
        // Keep the hub's field order where the bytes allow it, like the fast path.
        if let Some(text) = event_fast(json, nsp, ack, offset) {
            return Some(Outgoing::text(text));
        }
    }
    let mut args = vec![body];
    if let Some(o) = offset {
        args.push(Value::String(o.to_string()));
    }
    let packet = Packet::event(nsp, ack, &name, args, attachments);
    Some(Outgoing {
        text: packet.encode(),
        attachments: packet.attachments,
    })
}

/// A native hub event as the Engine.IO message a client of the main
/// namespace receives (`42[…]`), with no offsets and no ack requests — the
/// plain mapping lesson 10 starts from.
pub fn from_native(json: &[u8]) -> Option<String> {
    let out = Translator::new(MAIN_NAMESPACE, Recorded::Plain).packet(json)?;
    Some(format!("4{}", out.text))
}

/// Like [`from_native`], but a recorded event (one carrying `"seq"`) becomes
/// an ack request, `42<n>["message",{…,"seq":{…}}]`: the client's callback
/// answers `43<n>[…]`, and `requests` remembers which seq map `n` stands for.
pub fn from_native_asking(json: &[u8], requests: &mut AckRequests) -> Option<String> {
    let mut t = Translator::new(
        MAIN_NAMESPACE,
        Recorded::Ask {
            requests: std::mem::take(requests),
            confirmed: Received::default(),
        },
    );
    let out = t.packet(json);
    if let Recorded::Ask { requests: r, .. } = t.recorded {
        *requests = r;
    }
    Some(format!("4{}", out?.text))
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
    use crate::web::socketio::packet::{placeholder, PacketType};
    use pretty_assertions::assert_eq;
    use serde_json::json;

    const ME: &str = "0123456789abcdef0123456789abcdef";

    fn plain(nsp: &str) -> Translator {
        Translator::new(nsp, Recorded::Plain)
    }

    #[test]
    fn a_shared_event_is_translated_once_per_thread_and_per_namespace() {
        let hello = Bytes::from_static(br#"{"event":"message","nick":"ana","text":"hi"}"#);
        let bye = Bytes::from(br#"{"event":"message","nick":"ana","text":"bye"}"#.to_vec());
        let (mut a, mut b, mut admin) = (plain("/"), plain("/"), plain("/admin"));
        let first = a.packet_shared(&hello).unwrap().text;
        assert_eq!(first, r#"2["message",{"nick":"ana","text":"hi"}]"#);
        assert_eq!(b.packet_shared(&hello).unwrap().text, first);
        // Another namespace, another event: translated anew.
        assert_eq!(
            admin.packet_shared(&hello).unwrap().text,
            r#"2/admin,["message",{"nick":"ana","text":"hi"}]"#
        );
        assert_eq!(
            a.packet_shared(&bye).unwrap().text,
            r#"2["message",{"nick":"ana","text":"bye"}]"#
        );
        // A socket that keeps offsets never shares: each gets its own offset.
        let mut o = offsets(&["lobby"]);
        assert_eq!(o.packet_shared(&hello), o.packet(&hello));
    }

    fn offsets(rooms: &[&str]) -> Translator {
        let received = Received::new(ME, rooms.iter().map(|r| r.to_string()), SeqMap::new());
        Translator::new("/", Recorded::Offsets(received))
    }

    fn text(t: &mut Translator, json: &[u8]) -> String {
        let out = t.packet(json).unwrap();
        assert!(out.attachments.is_empty());
        out.text
    }

    #[test]
    fn events_map_to_native() {
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
        assert_eq!(
            native("file", json!([{"_binary":"AA=="}]), None),
            json!({"event":"file","data":{"_binary":"AA=="}})
        );
        assert_eq!(
            native(
                "file",
                json!([{"to":["lobby"],"name":"a.png","data":{"_binary":"AA=="}}]),
                None
            ),
            json!({"event":"file","to":["lobby"],"name":"a.png","data":{"_binary":"AA=="}})
        );
        assert!(to_native("join", &[json!(5)], None).is_err());
    }

    #[test]
    fn hub_events_become_socketio_events_in_their_namespace() {
        let mut t = plain("/");
        assert_eq!(
            text(&mut t, br#"{"event":"ack","ack":2,"ok":true,"reached":1}"#),
            r#"32[{"ok":true,"reached":1}]"#
        );
        assert_eq!(
            text(
                &mut t,
                br#"{"event":"joined","room":"lobby","id":"ab","nick":"ana"}"#
            ),
            r#"2["joined",{"room":"lobby","id":"ab","nick":"ana"}]"#
        );
        assert_eq!(t.packet(b"[1]"), None);
        let mut admin = plain("/admin");
        assert_eq!(
            text(
                &mut admin,
                br#"{"event":"joined","room":"lobby","id":"ab","nick":"ana"}"#
            ),
            r#"2/admin,["joined",{"room":"lobby","id":"ab","nick":"ana"}]"#
        );
        assert_eq!(
            text(&mut admin, br#"{"event":"ack","ack":2,"ok":true}"#),
            r#"3/admin,2[{"ok":true}]"#
        );
        assert_eq!(
            text(&mut admin, br#"{"event":"we\"ird","a":1}"#),
            r#"2/admin,["we\"ird",{"a":1}]"#
        );
        // What the legacy helpers write: Engine.IO's `4` first, main namespace.
        assert_eq!(
            from_native(br#"{"event":"pong"}"#).unwrap(),
            r#"42["pong",{}]"#
        );
    }

    #[test]
    fn the_fast_path_says_what_the_general_path_says() {
        let json = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        let hub_event = crate::chat::protocol::ServerEvent::Message {
            from: ME.parse().unwrap(),
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
            for (nsp, ack, offset) in [("/", None, None), ("/admin", Some(3), Some("lobby:4"))] {
                let fast =
                    event_fast(native, nsp, ack, offset).expect("the fast path takes hub events");
                // The general path, with the fast one out of its way.
                let mut obj: Map<String, Value> = serde_json::from_slice(native).unwrap();
                let name = obj.remove("event").unwrap();
                let mut args = vec![Value::Object(obj)];
                args.extend(offset.map(|o| json!(o)));
                let general =
                    Packet::event(nsp, ack, name.as_str().unwrap(), args, vec![]).encode();
                let (a, b) = (fast.find('[').unwrap(), general.find('[').unwrap());
                assert_eq!(fast[..a], general[..b]);
                assert_eq!(json(&fast[a..]), json(&general[b..]), "{fast} vs {general}");
            }
        }
        for other in [
            &br#"{"event":"ack","ack":1,"ok":true}"#[..],
            br#"{"event":"we\"ird","a":1}"#,
            br#"{"a":1,"event":"late"}"#,
            br#"{"event":"x"#,
            br#"{"event":"x",1"#,
        ] {
            assert_eq!(
                event_fast(other, "/", None, None),
                None,
                "{}",
                String::from_utf8_lossy(other)
            );
        }
    }

    #[test]
    fn binary_values_become_attachments() {
        let mut t = plain("/admin");
        let file = br#"{"event":"file","from":"ab","nick":"ana","to":["lobby"],"data":{"_binary":"AP8="}}"#;
        let out = t.packet(file).unwrap();
        assert_eq!(
            out.text,
            r#"51-/admin,["file",{"data":{"_placeholder":true,"num":0},"from":"ab","nick":"ana","to":["lobby"]}]"#
        );
        assert_eq!(out.attachments, vec![Bytes::from_static(b"\x00\xff")]);
        let (p, n) = Packet::parse(&out.text).unwrap();
        assert_eq!((p.kind, n), (PacketType::BinaryEvent, 1));
        assert_eq!(p.args()[0]["data"], placeholder(0));
    }

    #[test]
    fn recorded_events_carry_the_sockets_offset_last() {
        let mut t = offsets(&["lobby"]);
        let msg = |n: u64| {
            format!(
                r#"{{"event":"message","from":"ab","nick":"ana","to":["lobby","dev"],"text":"hi","seq":{{"dev":9,"lobby":{n}}}}}"#
            )
        };
        assert_eq!(
            text(&mut t, msg(7).as_bytes()),
            r#"2["message",{"from":"ab","nick":"ana","to":["lobby","dev"],"text":"hi","seq":{"dev":9,"lobby":7}},"lobby:7"]"#
        );
        // Cumulative: a later event on another key keeps the first.
        let everyone =
            br#"{"event":"message","from":"ab","nick":"ana","to":[],"text":"all","seq":{"*":3}}"#;
        assert!(text(&mut t, everyone).ends_with(r#","*:3,lobby:7"]"#));
        // Its own join makes a room count; its own leave forgets it.
        let joined = format!(
            r#"{{"event":"joined","room":"dev","id":"{ME}","nick":"me","seq":{{"dev":10}}}}"#
        );
        assert!(text(&mut t, joined.as_bytes()).ends_with(r#","*:3,dev:10,lobby:7"]"#));
        let left = format!(
            r#"{{"event":"left","room":"lobby","id":"{ME}","nick":"me","reason":"leave","seq":{{"lobby":8}}}}"#
        );
        assert!(text(&mut t, left.as_bytes()).ends_with(r#","*:3,dev:10"]"#));
        // Someone else's join changes nothing; unrecorded events carry no offset.
        let other = br#"{"event":"joined","room":"x","id":"ab","nick":"ana","seq":{"x":1}}"#;
        assert!(text(&mut t, other).ends_with(r#","*:3,dev:10"]"#));
        assert_eq!(
            text(&mut t, br#"{"event":"rooms","rooms":["ab"]}"#),
            r#"2["rooms",{"rooms":["ab"]}]"#
        );
        assert_eq!(t.received().unwrap().offset(), "*:3,dev:10");
        // A binary recorded event: the offset is still the last argument.
        let file = br#"{"event":"file","from":"ab","nick":"ana","to":["dev"],"data":{"_binary":"AA=="},"seq":{"dev":11}}"#;
        let out = t.packet(file).unwrap();
        assert!(
            out.text.starts_with("51-[\"file\"") && out.text.ends_with(r#","*:3,dev:11"]"#),
            "{}",
            out.text
        );
    }

    #[test]
    fn recorded_events_become_ack_requests_when_asking() {
        let mut t = Translator::new(
            "/",
            Recorded::Ask {
                requests: AckRequests::default(),
                confirmed: Received::new(ME, ["lobby".to_string()], SeqMap::new()),
            },
        );
        let recorded = br#"{"event":"message","from":"ab","nick":"ana","to":["lobby"],"text":"hi","seq":{"lobby":7}}"#;
        assert_eq!(
            text(&mut t, recorded),
            r#"20["message",{"from":"ab","nick":"ana","to":["lobby"],"text":"hi","seq":{"lobby":7}}]"#
        );
        assert!(text(
            &mut t,
            br#"{"event":"joined","room":"lobby","id":"ab","nick":"ana","seq":{"lobby":8,"*":2}}"#
        )
        .starts_with("21[\"joined\""));
        assert_eq!(
            text(&mut t, br#"{"event":"rooms","rooms":["ab"]}"#),
            r#"2["rooms",{"rooms":["ab"]}]"#
        );
        assert!(text(&mut t, br#"{"event":"message","text":"x","seq":{}}"#).starts_with("2["));
        let lobby = |n| SeqMap::from([("lobby".to_string(), n)]);
        assert_eq!(t.answer(0), Some(lobby(7)));
        assert_eq!(t.answer(0), None);
        assert_eq!(t.answer(99), None);
        assert_eq!(t.received().unwrap().seq(), &lobby(7), "what was confirmed");
        let mut both = lobby(8);
        both.insert("*".into(), 2);
        assert_eq!(t.answer(1), Some(both.clone()));
        assert_eq!(t.received().unwrap().seq(), &both);
        // The legacy helper says the same, with Engine.IO's `4`.
        let mut requests = AckRequests::default();
        assert!(from_native_asking(recorded, &mut requests)
            .unwrap()
            .starts_with("420[\"message\""));
        assert_eq!(requests.waiting(), 1);
    }

    #[test]
    fn ack_requests_are_bounded_at_the_edge() {
        let mut requests = AckRequests::default();
        let seq = |n| SeqMap::from([("lobby".to_string(), n)]);
        for n in 0..MAX_ACK_REQUESTS as u64 {
            assert_eq!(requests.ask(seq(n)), n);
        }
        assert_eq!(requests.waiting(), MAX_ACK_REQUESTS);
        let last = requests.ask(seq(5000));
        assert_eq!(requests.waiting(), MAX_ACK_REQUESTS);
        assert_eq!(requests.answer(0), None);
        assert_eq!(requests.answer(1), Some(seq(1)));
        assert_eq!(requests.answer(last), Some(seq(5000)));
        assert_eq!(requests.answer(700), Some(seq(700)));
        assert_eq!(requests.answer(2), Some(seq(2)));
    }

    #[test]
    fn the_seq_map_is_read_from_the_tail() {
        assert_eq!(
            seq_in(br#"{"event":"message","text":"\"seq\":{\"x\":1}","seq":{"a":2}}"#),
            Some(SeqMap::from([("a".into(), 2)]))
        );
        assert_eq!(seq_in(br#"{"event":"x","seq":{}}"#), None);
        assert_eq!(seq_in(br#"{"event":"x","seq":{"a":-1}}"#), None);
        assert_eq!(
            event_name(br#"{"event":"welcome","id":"x"}"#),
            Some("welcome")
        );
        assert_eq!(event_name(b"{}"), None);
    }
}
