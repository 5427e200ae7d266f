//! Engine.IO v4 and Socket.IO v5 packets, as they travel in WebSocket text
//! messages and in HTTP long-polling bodies: `42["chat","hi"]` is Engine.IO
//! type 4 (message) carrying Socket.IO type 2 (event) with the JSON array
//! `["chat","hi"]`.
//!
//! ```text
//! Engine.IO:  <type digit><data>                 0 open 1 close 2 ping 3 pong 4 message 5 upgrade 6 noop
//! Socket.IO:  <type digit>[<#attachments>-][<namespace>,][<ack id>][JSON]
//!             0 CONNECT 1 DISCONNECT 2 EVENT 3 ACK 4 CONNECT_ERROR 5 BINARY_EVENT 6 BINARY_ACK
//! polling:    <packet>\x1e<packet>\x1e…          a binary message is b<base64>
//! ```
//!
//! On a WebSocket each packet is one frame (a binary message is a binary
//! frame, bytes as they are); on HTTP long-polling one request or response
//! body carries several, split at the record separator `0x1e` (Engine.IO v4,
//! "Packet encoding" → "HTTP long-polling"). [`split_payload`] finds the
//! pieces; each text piece is then read with [`parse`].

use std::ops::Range;

/// The record separator between the packets of a polling payload.
pub const SEPARATOR: u8 = 0x1e;

/// The mark of a binary message in a polling payload: `b`, then base64.
pub const BINARY_MARK: u8 = b'b';

/// Most pieces of one polling body the inspector labels; the rest of the
/// body is shown as one field (a hostile body of 100,000 separators costs
/// no more than this).
pub const MAX_PAYLOAD_PIECES: usize = 256;

/// One piece of a polling payload (ranges into the body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A text packet, `<type digit><data>`: read it with [`parse`].
    Text(Range<usize>),
    /// `b` and base64: one binary message. The range is the base64 (after the `b`).
    Binary(Range<usize>),
}

impl Piece {
    /// The whole piece, `b` included.
    pub fn range(&self) -> Range<usize> {
        match self {
            Piece::Text(r) => r.clone(),
            Piece::Binary(r) => r.start - 1..r.end,
        }
    }
}

/// A polling payload, split: its pieces in order, where the separators are,
/// and where labelling stopped if the body has more than `max` pieces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Payload {
    /// The pieces, at most `max` of them.
    pub pieces: Vec<Piece>,
    /// The offset of every separator between two of those pieces.
    pub separators: Vec<usize>,
    /// Where the pieces past `max` begin (the separator before them; 0 when
    /// `max` is 0), if there are any.
    pub rest: Option<usize>,
}

/// Splits a polling payload at each `0x1e` into at most `max` pieces.
/// Never fails: whether a piece is a valid packet is for [`parse`] (text)
/// or a base64 decoder (binary) to say.
pub fn split_payload(body: &[u8], max: usize) -> Payload {
    let mut out = Payload::default();
    let mut at: usize = 0;
    loop {
        if out.pieces.len() == max {
            out.rest = Some(at.saturating_sub(1));
            out.separators.pop();
            return out;
        }
        let end = body[at..]
            .iter()
            .position(|&c| c == SEPARATOR)
            .map_or(body.len(), |p| at + p);
        out.pieces.push(match body.get(at) {
            Some(&BINARY_MARK) => Piece::Binary(at + 1..end),
            _ => Piece::Text(at..end),
        });
        if end == body.len() {
            return out;
        }
        out.separators.push(end);
        at = end + 1;
    }
}

/// Is this request target an Engine.IO long-polling request (Engine.IO v4,
/// "Transports" → "HTTP long-polling": the query has `EIO` and
/// `transport=polling`)? Its body, and its answer's, is a payload. The path
/// is not checked: Socket.IO uses `/socket.io/`, but a server may choose another.
pub fn is_polling_request(target: &[u8]) -> bool {
    super::http::query_param(target, "EIO").is_some()
        && super::http::query_param(target, "transport") == Some(&b"polling"[..])
}

/// Does a body look like a polling payload? Its first byte is an Engine.IO
/// type digit or the binary mark (so `ok`, the answer to a POST, and an
/// Engine.IO error's JSON are not).
pub fn looks_like_payload(body: &[u8]) -> bool {
    matches!(body.first(), Some(b'0'..=b'6' | &BINARY_MARK))
}

/// Engine.IO packet types (engine.io-protocol v4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineType {
    /// 0 — open (server → client, with the handshake JSON).
    Open,
    /// 1 — close.
    Close,
    /// 2 — ping.
    Ping,
    /// 3 — pong.
    Pong,
    /// 4 — message: a Socket.IO packet follows.
    Message,
    /// 5 — upgrade.
    Upgrade,
    /// 6 — noop.
    Noop,
}

impl EngineType {
    /// The type for a digit, if it is one.
    pub fn from_digit(d: u8) -> Option<EngineType> {
        Some(match d {
            b'0' => EngineType::Open,
            b'1' => EngineType::Close,
            b'2' => EngineType::Ping,
            b'3' => EngineType::Pong,
            b'4' => EngineType::Message,
            b'5' => EngineType::Upgrade,
            b'6' => EngineType::Noop,
            _ => return None,
        })
    }
    /// The type's name.
    pub fn name(self) -> &'static str {
        match self {
            EngineType::Open => "open",
            EngineType::Close => "close",
            EngineType::Ping => "ping",
            EngineType::Pong => "pong",
            EngineType::Message => "message",
            EngineType::Upgrade => "upgrade",
            EngineType::Noop => "noop",
        }
    }
}

/// Socket.IO packet types (socket.io-protocol v5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketType {
    /// 0 — connect to a namespace.
    Connect,
    /// 1 — disconnect.
    Disconnect,
    /// 2 — event: `["name", args...]`.
    Event,
    /// 3 — acknowledgement of an event with an ack id.
    Ack,
    /// 4 — connection refused.
    ConnectError,
    /// 5 — event with binary attachments.
    BinaryEvent,
    /// 6 — ack with binary attachments.
    BinaryAck,
}

impl SocketType {
    /// The type for a digit, if it is one.
    pub fn from_digit(d: u8) -> Option<SocketType> {
        Some(match d {
            b'0' => SocketType::Connect,
            b'1' => SocketType::Disconnect,
            b'2' => SocketType::Event,
            b'3' => SocketType::Ack,
            b'4' => SocketType::ConnectError,
            b'5' => SocketType::BinaryEvent,
            b'6' => SocketType::BinaryAck,
            _ => return None,
        })
    }
    /// The type's name.
    pub fn name(self) -> &'static str {
        match self {
            SocketType::Connect => "CONNECT",
            SocketType::Disconnect => "DISCONNECT",
            SocketType::Event => "EVENT",
            SocketType::Ack => "ACK",
            SocketType::ConnectError => "CONNECT_ERROR",
            SocketType::BinaryEvent => "BINARY_EVENT",
            SocketType::BinaryAck => "BINARY_ACK",
        }
    }
}

/// A Socket.IO packet inside an Engine.IO message (ranges into the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketPacket {
    /// Its type.
    pub kind: SocketType,
    /// Binary attachment count, for the BINARY_ types.
    pub attachments: Option<Range<usize>>,
    /// The namespace, when not `/`.
    pub namespace: Option<Range<usize>>,
    /// The ack id.
    pub ack_id: Option<Range<usize>>,
    /// The JSON data.
    pub data: Range<usize>,
}

/// An Engine.IO packet (ranges into the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnginePacket {
    /// Its type.
    pub kind: EngineType,
    /// The data after the type digit.
    pub data: Range<usize>,
    /// The Socket.IO packet inside a message, if it parses as one.
    pub socket: Option<SocketPacket>,
}

/// Parses an Engine.IO packet from a WebSocket text message.
pub fn parse(t: &[u8]) -> Option<EnginePacket> {
    let kind = EngineType::from_digit(*t.first()?)?;
    let socket = if kind == EngineType::Message {
        parse_socket(t, 1)
    } else {
        None
    };
    Some(EnginePacket {
        kind,
        data: 1..t.len(),
        socket,
    })
}

fn parse_socket(t: &[u8], start: usize) -> Option<SocketPacket> {
    let kind = SocketType::from_digit(*t.get(start)?)?;
    let mut at = start + 1;
    let digits = |from: usize| from + t[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut attachments = None;
    if matches!(kind, SocketType::BinaryEvent | SocketType::BinaryAck) {
        let end = digits(at);
        if t.get(end) != Some(&b'-') || end == at {
            return None;
        }
        attachments = Some(at..end);
        at = end + 1;
    }
    let mut namespace = None;
    if t.get(at) == Some(&b'/') {
        let end = t[at..]
            .iter()
            .position(|&c| c == b',')
            .map_or(t.len(), |p| at + p);
        namespace = Some(at..end);
        at = (end + 1).min(t.len());
    }
    let end = digits(at);
    let ack_id = (end > at).then_some(at..end);
    Some(SocketPacket {
        kind,
        attachments,
        namespace,
        ack_id,
        data: end..t.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_examples() {
        let t = br#"42["chat","hi"]"#;
        let p = parse(t).unwrap();
        assert_eq!(p.kind, EngineType::Message);
        let s = p.socket.unwrap();
        assert_eq!(s.kind, SocketType::Event);
        assert_eq!(&t[s.data], br#"["chat","hi"]"#);
        // An event with an ack id in namespace /admin: 2/admin,12["x"]
        let t = br#"42/admin,12["x"]"#;
        let s = parse(t).unwrap().socket.unwrap();
        assert_eq!(&t[s.namespace.unwrap()], b"/admin");
        assert_eq!(&t[s.ack_id.unwrap()], b"12");
        assert_eq!(&t[s.data], br#"["x"]"#);
        // Binary event with one attachment: 451-["up",{"_placeholder":true,"num":0}]
        let t = br#"451-["up",{"_placeholder":true,"num":0}]"#;
        let s = parse(t).unwrap().socket.unwrap();
        assert_eq!(s.kind, SocketType::BinaryEvent);
        assert_eq!(&t[s.attachments.unwrap()], b"1");
        assert_eq!(parse(b"2").unwrap().kind, EngineType::Ping);
        assert_eq!(parse(b"3probe").unwrap().kind, EngineType::Pong);
        assert!(parse(b"9").is_none());
        assert!(parse(b"").is_none());
    }

    #[test]
    fn polling_payloads_split_at_the_record_separator() {
        // Engine.IO v4, "Packet encoding" → "HTTP long-polling": its examples.
        let body = b"4hello\x1e2\x1e4world";
        let p = split_payload(body, MAX_PAYLOAD_PIECES);
        assert_eq!(
            p.pieces,
            vec![Piece::Text(0..6), Piece::Text(7..8), Piece::Text(9..15)]
        );
        assert_eq!(p.separators, vec![6, 8]);
        assert_eq!(p.rest, None);
        let body = b"4hello\x1ebAQIDBA==";
        let p = split_payload(body, MAX_PAYLOAD_PIECES);
        assert_eq!(p.pieces, vec![Piece::Text(0..6), Piece::Binary(8..16)]);
        assert_eq!(p.pieces[1].range(), 7..16);
        assert_eq!(&body[8..16], b"AQIDBA==");
        // Only a leading `b` marks binary: `4bAQ` is a text message.
        assert_eq!(split_payload(b"4bAQ", 4).pieces, vec![Piece::Text(0..4)]);
        // Empty pieces are pieces (a parser refuses them; the view shows them).
        let p = split_payload(b"\x1e\x1e", 4);
        assert_eq!(
            p.pieces,
            vec![Piece::Text(0..0), Piece::Text(1..1), Piece::Text(2..2)]
        );
        assert_eq!(p.separators, vec![0, 1]);
        assert!(looks_like_payload(b"0{") && looks_like_payload(b"bAQ"));
        assert!(!looks_like_payload(b"ok") && !looks_like_payload(br#"{"code":1}"#));
        assert!(!looks_like_payload(b""));
        assert!(is_polling_request(
            b"/socket.io/?EIO=4&transport=polling&t=ig6wxs7g"
        ));
        assert!(is_polling_request(
            b"/custom/?transport=polling&EIO=4&sid=S"
        ));
        assert!(!is_polling_request(
            b"/socket.io/?EIO=4&transport=websocket"
        ));
        assert!(!is_polling_request(b"/socket.io/?transport=polling"));
        assert!(!is_polling_request(b"/?transport=pollingX&EIO=4"));
    }

    #[test]
    fn a_hostile_payload_is_cut_at_the_piece_limit() {
        let seps = vec![SEPARATOR; 100_000];
        let p = split_payload(&seps, MAX_PAYLOAD_PIECES);
        assert_eq!(p.pieces.len(), MAX_PAYLOAD_PIECES);
        assert_eq!(p.separators.len(), MAX_PAYLOAD_PIECES - 1);
        assert_eq!(p.rest, Some(MAX_PAYLOAD_PIECES - 1));
        // At the edge: exactly `max` pieces need no rest.
        assert_eq!(split_payload(b"3\x1e3", 2).rest, None);
        let p = split_payload(b"3\x1e3\x1e3", 2);
        assert_eq!(
            (p.pieces.len(), p.separators.clone(), p.rest),
            (2, vec![1], Some(3))
        );
        assert_eq!(split_payload(b"3", 0).rest, Some(0));
    }
}
