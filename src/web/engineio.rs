//! Lesson 10 — Engine.IO v4, the layer under Socket.IO: packets, and how
//! HTTP long-polling carries several of them in one request body.
//!
//! A default Socket.IO client does not start with a WebSocket. It opens an
//! Engine.IO *session* with plain HTTP requests (Engine.IO v4 protocol,
//! "Transports"), and only then tries to upgrade:
//!
//! | step | request | body |
//! |---|---|---|
//! | open | `GET /socket.io/?EIO=4&transport=polling` | ← `0{"sid":"…","upgrades":["websocket"],…}` |
//! | receive | `GET …&sid=…` (waits until the server has something) | ← `2` or `4hello\x1e4world` |
//! | send | `POST …&sid=…` with `4hi\x1e3` | ← `ok` |
//! | upgrade | WebSocket `…&transport=websocket&sid=…`: `2probe` → `3probe`, the poll gets `6`, then `5` | |
//!
//! An Engine.IO packet is one type digit and its data ("Packet encoding"):
//!
//! | digit | packet | data |
//! |---|---|---|
//! | `0` | open | the session's parameters, JSON (server → client) |
//! | `1` | close | — |
//! | `2` / `3` | ping / pong | optional (`probe` during the upgrade) |
//! | `4` | message | the application's text (a Socket.IO packet) |
//! | `5` | upgrade | — (the client switches to the WebSocket) |
//! | `6` | noop | — (releases a waiting poll during the upgrade) |
//!
//! On polling, packets are joined with the record separator `\x1e` ("Payload
//! encoding"), and a binary message is written `b` + its bytes in base64. On a
//! WebSocket, each packet is one frame, and a binary message is a binary frame
//! as it is. Everything here is pure and treats its input as hostile.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::Bytes;
use thiserror::Error;

/// The protocol version served here (`EIO=4`).
pub const PROTOCOL: &str = "4";
/// Separates packets in a polling payload ("Payload encoding": ASCII 30, the record separator).
pub const SEPARATOR: u8 = 0x1e;
/// Marks a binary message in a polling payload: `b` then base64.
pub const BINARY_MARK: u8 = b'b';
/// The data of the ping and pong that test a new WebSocket before the upgrade.
pub const PROBE: &str = "probe";

/// One application message carried by Engine.IO: text or bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    /// A text message (`4…` on the wire; a Socket.IO packet).
    Text(String),
    /// A binary message (a binary frame, or `b<base64>` on polling).
    Binary(Bytes),
}

impl Data {
    /// How many bytes the message holds (what limits and budgets count).
    pub fn len(&self) -> usize {
        match self {
            Data::Text(t) => t.len(),
            Data::Binary(b) => b.len(),
        }
    }

    /// Is it empty?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One Engine.IO packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// `0`: the session's parameters (server → client, first).
    Open(String),
    /// `1`: the session ends.
    Close,
    /// `2`: ping, with optional data (`probe`).
    Ping(String),
    /// `3`: pong, echoing the ping's data.
    Pong(String),
    /// `4` or a binary frame: an application message.
    Message(Data),
    /// `5`: the client now uses the new transport.
    Upgrade,
    /// `6`: nothing; answers a waiting poll during the upgrade.
    Noop,
}

/// Why an Engine.IO packet or payload could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EngineError {
    /// A packet needs at least its type digit.
    #[error("an empty Engine.IO packet: each packet starts with its type digit 0-6")]
    Empty,
    /// The type is one digit 0–6 (Engine.IO v4, "Packet encoding").
    #[error("unknown Engine.IO packet type {0:?}: it is one digit 0-6")]
    Type(String),
    /// Open, upgrade and noop carry no data from a client; close none at all.
    #[error("packet type {0} carries no data")]
    UnexpectedData(char),
    /// A `b` packet must be valid base64.
    #[error("a binary packet (b…) is not valid base64")]
    Base64,
    /// A payload holds at most this many packets.
    #[error("a payload of more than {0} packets")]
    TooManyPackets(usize),
    /// Text must be UTF-8.
    #[error("a text packet that is not UTF-8")]
    Utf8,
}

impl Packet {
    /// The packet's type digit.
    pub fn digit(&self) -> u8 {
        match self {
            Packet::Open(_) => b'0',
            Packet::Close => b'1',
            Packet::Ping(_) => b'2',
            Packet::Pong(_) => b'3',
            Packet::Message(_) => b'4',
            Packet::Upgrade => b'5',
            Packet::Noop => b'6',
        }
    }

    /// Reads one text packet (a WebSocket text frame, or one part of a polling payload).
    pub fn parse_text(s: &str) -> Result<Packet, EngineError> {
        let Some(&digit) = s.as_bytes().first() else {
            return Err(EngineError::Empty);
        };
        if !(b'0'..=b'6').contains(&digit) {
            return Err(EngineError::Type(s.chars().take(8).collect()));
        }
        // The digit is ASCII, so the data starts on a character boundary.
        let data = &s[1..];
        let none = |p: Packet| {
            if data.is_empty() {
                Ok(p)
            } else {
                Err(EngineError::UnexpectedData(digit as char))
            }
        };
        match digit {
            b'0' => Ok(Packet::Open(data.to_string())),
            b'1' => none(Packet::Close),
            b'2' => Ok(Packet::Ping(data.to_string())),
            b'3' => Ok(Packet::Pong(data.to_string())),
            b'4' => Ok(Packet::Message(Data::Text(data.to_string()))),
            b'5' => none(Packet::Upgrade),
            b'6' => none(Packet::Noop),
            _ => Err(EngineError::Type(s.chars().take(8).collect())),
        }
    }

    /// Writes the packet as a WebSocket frame's text; `None` for a binary
    /// message, which goes as a binary frame of its bytes alone.
    pub fn to_text(&self) -> Option<String> {
        let d = self.digit() as char;
        Some(match self {
            Packet::Open(s) | Packet::Ping(s) | Packet::Pong(s) => format!("{d}{s}"),
            Packet::Message(Data::Text(t)) => {
                let mut out = String::with_capacity(t.len() + 1);
                out.push('4');
                out.push_str(t);
                out
            }
            Packet::Message(Data::Binary(_)) => return None,
            Packet::Close | Packet::Upgrade | Packet::Noop => d.to_string(),
        })
    }

    /// Appends the packet to a polling payload, with the separator before it
    /// unless it is the first.
    pub fn append_to(&self, payload: &mut Vec<u8>) {
        if !payload.is_empty() {
            payload.push(SEPARATOR);
        }
        match self {
            Packet::Message(Data::Binary(b)) => {
                payload.push(BINARY_MARK);
                let start = payload.len();
                payload.resize(start + base64::encoded_len(b.len(), true).unwrap_or(0), 0);
                let n = BASE64
                    .encode_slice(b, &mut payload[start..])
                    .expect("sized above");
                payload.truncate(start + n);
            }
            // The type digit, then the data: the same bytes as `to_text`,
            // written in place rather than through a String of their own.
            Packet::Open(s) | Packet::Ping(s) | Packet::Pong(s) => {
                payload.push(self.digit());
                payload.extend_from_slice(s.as_bytes());
            }
            Packet::Message(Data::Text(t)) => {
                payload.push(self.digit());
                payload.extend_from_slice(t.as_bytes());
            }
            Packet::Close | Packet::Upgrade | Packet::Noop => payload.push(self.digit()),
        }
    }

    /// At most how many bytes [`Packet::append_to`] adds (separator
    /// included), to size a payload's buffer up front.
    pub fn payload_len(&self) -> usize {
        // Separator, type digit or `b`, then the data (base64: 4 bytes per 3).
        2 + match self {
            Packet::Open(s) | Packet::Ping(s) | Packet::Pong(s) => s.len(),
            Packet::Message(Data::Text(t)) => t.len(),
            Packet::Message(Data::Binary(b)) => b.len().div_ceil(3) * 4,
            Packet::Close | Packet::Upgrade | Packet::Noop => 0,
        }
    }
}

/// Joins packets into one polling payload ("Payload encoding").
pub fn encode_payload<'a>(packets: impl IntoIterator<Item = &'a Packet>) -> Vec<u8> {
    let mut out = Vec::new();
    for p in packets {
        p.append_to(&mut out);
    }
    out
}

/// Splits a polling payload (a POST body) into packets: at most `max_packets`
/// of them, each parsed as hostile input. The body's size was bounded by the
/// caller (`maxPayload`), so nothing here allocates more than the body.
pub fn decode_payload(body: &[u8], max_packets: usize) -> Result<Vec<Packet>, EngineError> {
    let mut packets = Vec::new();
    for part in body.split(|&b| b == SEPARATOR) {
        if packets.len() == max_packets {
            return Err(EngineError::TooManyPackets(max_packets));
        }
        packets.push(decode_part(part)?);
    }
    Ok(packets)
}

/// One part of a payload: `b<base64>` or a text packet.
fn decode_part(part: &[u8]) -> Result<Packet, EngineError> {
    if let Some(b64) = part.strip_prefix(&[BINARY_MARK]) {
        let bytes = BASE64.decode(b64).map_err(|_| EngineError::Base64)?;
        return Ok(Packet::Message(Data::Binary(bytes.into())));
    }
    let text = std::str::from_utf8(part).map_err(|_| EngineError::Utf8)?;
    Packet::parse_text(text)
}

/// The transport a session uses, as the upgrade moves it along
/// (Engine.IO v4, "Upgrade"): polling, probing a WebSocket, then the
/// WebSocket for good. A pure state machine: the I/O follows what it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upgrade {
    /// Only HTTP long-polling carries packets.
    Polling,
    /// A WebSocket answered `3probe`; polls get `6` (noop) and nothing else.
    Probing,
    /// The client sent `5`: only the WebSocket carries packets from now on.
    Upgraded,
}

/// What the upgrade state machine says about an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpgradeStep {
    /// Fine; the state moved (or stayed).
    Ok(Upgrade),
    /// Not allowed in this state: refuse it (`400`, or close the WebSocket).
    Refuse,
}

/// Something that happens to a session's transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportEvent {
    /// A polling GET or POST arrived.
    Poll,
    /// A WebSocket with this session's `sid` arrived to probe (it will send
    /// `2probe`); the first one claims the upgrade.
    Probe,
    /// The probing WebSocket sent `5`.
    UpgradePacket,
    /// The probing WebSocket closed before `5`.
    ProbeFailed,
}

impl Upgrade {
    /// The next state after `event`, or `Refuse`: [`upgrade_step`].
    pub fn on(self, event: TransportEvent) -> UpgradeStep {
        upgrade_step(self, event)
    }
}

/// The upgrade state machine as a table (Engine.IO v4, "Upgrade"; tested
/// below, and the exercise of lesson 10):
///
/// | state \ event | `Poll` | `Probe` | `UpgradePacket` | `ProbeFailed` |
/// |---|---|---|---|---|
/// | `Polling` | `Polling` | `Probing` | refuse | refuse |
/// | `Probing` | `Probing` (the poll gets `6`) | refuse | `Upgraded` | `Polling` |
/// | `Upgraded` | refuse | refuse | refuse | refuse |
pub fn upgrade_step(state: Upgrade, event: TransportEvent) -> UpgradeStep {
    use TransportEvent::*;
    use Upgrade::*;
    match (state, event) {
        (Polling, Poll) => UpgradeStep::Ok(Polling),
        // During the probe a poll is still answered (with a noop), and a
        // POST still carries what the client sends meanwhile.
        (Probing, Poll) => UpgradeStep::Ok(Probing),
        (Polling, Probe) => UpgradeStep::Ok(Probing),
        (Probing, UpgradePacket) => UpgradeStep::Ok(Upgraded),
        (Probing, ProbeFailed) => UpgradeStep::Ok(Polling),
        // After the upgrade, polling is over; one WebSocket per session.
        (Upgraded, _) | (Probing, Probe) | (Polling, UpgradePacket | ProbeFailed) => {
            UpgradeStep::Refuse
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn packets_from_the_protocol_document() {
        assert_eq!(Packet::parse_text("2"), Ok(Packet::Ping(String::new())));
        assert_eq!(
            Packet::parse_text("2probe"),
            Ok(Packet::Ping("probe".into()))
        );
        assert_eq!(
            Packet::parse_text("3probe"),
            Ok(Packet::Pong("probe".into()))
        );
        assert_eq!(
            Packet::parse_text("4hello"),
            Ok(Packet::Message(Data::Text("hello".into())))
        );
        assert_eq!(Packet::parse_text("5"), Ok(Packet::Upgrade));
        assert_eq!(Packet::parse_text("6"), Ok(Packet::Noop));
        assert_eq!(Packet::parse_text("1"), Ok(Packet::Close));
        assert_eq!(
            Packet::parse_text("1x"),
            Err(EngineError::UnexpectedData('1'))
        );
        assert_eq!(Packet::parse_text(""), Err(EngineError::Empty));
        assert!(matches!(Packet::parse_text("7"), Err(EngineError::Type(_))));
        assert!(matches!(Packet::parse_text("é"), Err(EngineError::Type(_))));
    }

    #[test]
    fn payloads_from_the_protocol_document() {
        // "Payload encoding": `4hello\x1e4€\x1ebAQIDBA==`.
        let packets = vec![
            Packet::Message(Data::Text("hello".into())),
            Packet::Message(Data::Text("€".into())),
            Packet::Message(Data::Binary(Bytes::from_static(&[1, 2, 3, 4]))),
        ];
        let wire = "4hello\x1e4€\x1ebAQIDBA==".as_bytes();
        assert_eq!(encode_payload(&packets), wire);
        assert_eq!(decode_payload(wire, 16), Ok(packets));
        assert_eq!(encode_payload(&[Packet::Ping(String::new())]), b"2");
        assert_eq!(
            decode_payload(b"3\x1e1", 16),
            Ok(vec![Packet::Pong(String::new()), Packet::Close])
        );
    }

    #[test]
    fn hostile_payloads_are_refused() {
        assert_eq!(
            decode_payload(b"b!!!not base64", 16),
            Err(EngineError::Base64)
        );
        assert_eq!(decode_payload(b"4\xff", 16), Err(EngineError::Utf8));
        // 100k separators: empty packets, refused at the first.
        let seps = vec![SEPARATOR; 100_000];
        assert_eq!(decode_payload(&seps, 1 << 20), Err(EngineError::Empty));
        assert_eq!(decode_payload(b"", 16), Err(EngineError::Empty));
        // The packet count is bounded, at the edge.
        assert_eq!(decode_payload(b"3\x1e3\x1e3", 3).map(|p| p.len()), Ok(3));
        assert_eq!(
            decode_payload(b"3\x1e3\x1e3\x1e3", 3),
            Err(EngineError::TooManyPackets(3))
        );
    }

    #[test]
    fn the_upgrade_state_machine() {
        use TransportEvent::*;
        use Upgrade::*;
        let run = |events: &[TransportEvent]| {
            events.iter().try_fold(Polling, |s, &e| match s.on(e) {
                UpgradeStep::Ok(next) => Ok(next),
                UpgradeStep::Refuse => Err((s, e)),
            })
        };
        assert_eq!(run(&[Poll, Poll, Probe, Poll, UpgradePacket]), Ok(Upgraded));
        assert_eq!(run(&[Probe, ProbeFailed, Poll]), Ok(Polling));
        // A poll after the upgrade, a second probe, a stray `5`: refused.
        assert_eq!(run(&[Probe, UpgradePacket, Poll]), Err((Upgraded, Poll)));
        assert_eq!(run(&[Probe, Probe]), Err((Probing, Probe)));
        assert_eq!(run(&[UpgradePacket]), Err((Polling, UpgradePacket)));
        assert_eq!(run(&[Probe, UpgradePacket, Probe]), Err((Upgraded, Probe)));
    }
}
