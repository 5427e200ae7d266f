//! Engine.IO v4 and Socket.IO v5 packets, as they travel in WebSocket text
//! messages: `42["chat","hi"]` is Engine.IO type 4 (message) carrying Socket.IO
//! type 2 (event) with the JSON array `["chat","hi"]`.
//!
//! ```text
//! Engine.IO:  <type digit><data>                 0 open 1 close 2 ping 3 pong 4 message 5 upgrade 6 noop
//! Socket.IO:  <type digit>[<#attachments>-][<namespace>,][<ack id>][JSON]
//!             0 CONNECT 1 DISCONNECT 2 EVENT 3 ACK 4 CONNECT_ERROR 5 BINARY_EVENT 6 BINARY_ACK
//! ```

use std::ops::Range;

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
}
