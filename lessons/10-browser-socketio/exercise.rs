// Lesson 10 — exercise: what a default Socket.IO client really sends first.
// HTTP long-polling payloads (several Engine.IO packets in one request body),
// and the state machine that moves a session from polling to a WebSocket.
//
// Replace each `todo!()`, then run `netlab check 10`.
// `netlab lesson 10` has a client's first second on the wire, and the
// upgrade drawn as a state machine.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use netlab::web::engineio::{Data, EngineError, Packet, TransportEvent, Upgrade, UpgradeStep};

/// The byte between two packets of a polling payload: ASCII 30, the
/// "record separator" (Engine.IO v4, "Packet encoding" → "HTTP long-polling").
pub const SEPARATOR: u8 = 0x1e;

/// Joins packets into one polling payload, the body of a GET's answer or of
/// a POST (Engine.IO v4, "Packet encoding" → "HTTP long-polling"):
///
/// - `SEPARATOR` goes *between* two packets (never before the first, never
///   after the last; no packets at all is an empty body);
/// - a text packet is its type digit and its data, as on a WebSocket:
///   `Packet::to_text` writes exactly that;
/// - a binary message (`Packet::Message(Data::Binary(bytes))`) has no text
///   form (`to_text` gives `None`): it is written `b` and then its bytes in
///   base64 — the standard alphabet (`+` and `/`) with `=` padding, as
///   `BASE64` above does.
///
/// `[Message(Text("hello")), Ping(""), Message(Binary([1, 2, 3, 4]))]` is
/// `4hello\x1e2\x1ebAQIDBA==`.
pub fn encode_payload(packets: &[Packet]) -> Vec<u8> {
    todo!()
}

/// Splits a polling payload (a POST body, from anyone on the network) into
/// packets. The rules, checked part by part in order — the first part that
/// breaks one is the answer:
///
/// - the body is cut at every `SEPARATOR` byte, and every piece is one
///   packet: an empty piece (an empty body, two separators in a row, one at
///   either end) is `EngineError::Empty`;
/// - at most `max_packets` pieces are read: the next one is
///   `EngineError::TooManyPackets(max_packets)`, whatever it holds;
/// - a piece that starts with `b` is a binary message: the rest is base64
///   (standard alphabet, padded), else `EngineError::Base64`;
/// - any other piece is text: UTF-8 (else `EngineError::Utf8`), then one
///   packet, which `Packet::parse_text` reads (with its own errors).
///
/// Never panic, and never allocate more than the body's size.
pub fn decode_payload(body: &[u8], max_packets: usize) -> Result<Vec<Packet>, EngineError> {
    todo!()
}

/// One step of the upgrade (Engine.IO v4, "Upgrade"): where a session's
/// transport goes when `event` happens in `state`, or `UpgradeStep::Refuse`
/// when the event is not allowed there (the server answers `400`, or closes
/// the WebSocket, and the state stays as it was).
///
/// - `Polling`: only HTTP requests carry packets. Polls are fine; a WebSocket
///   with this session's `sid` that sends `2probe` starts the probe.
/// - `Probing`: the WebSocket answered `3probe`. The client may still have a
///   GET waiting (it is answered `6`, noop) and may still POST what it sends
///   meanwhile. It finishes with `5` on the WebSocket; if the WebSocket
///   closes first, the session goes back to polling. A session has one
///   WebSocket at a time.
/// - `Upgraded`: only the WebSocket carries packets, for good.
pub fn upgrade_step(state: Upgrade, event: TransportEvent) -> UpgradeStep {
    todo!()
}
