// Lesson 08 — exercise: the server's half of the WebSocket handshake.
//
// Replace each `todo!()`, then run `netlab check 08`.
// `netlab lesson 08` explains every rule the grader checks.

use base64::Engine as _;
use sha1::{Digest, Sha1};

/// The GUID every WebSocket server appends to the client's key (RFC 6455 §1.3).
pub const WEBSOCKET_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key`, as
/// RFC 6455 §4.2.2 (step 5) builds it from the key and `WEBSOCKET_GUID`.
/// The key is used as the text received (its base64 is never decoded),
/// without the spaces around it. §1.3's example: `dGhlIHNhbXBsZSBub25jZQ==` gives
/// `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=`.
pub fn accept_key(key: &str) -> String {
    todo!()
}

/// Does a header value such as `keep-alive, Upgrade` list `token`?
/// The value is a comma-separated list (RFC 9110 §5.6.1): pieces may have
/// spaces around them, and a piece matches only as a whole token, compared
/// without regard to ASCII case (RFC 6455 §4.2.1): `upgrades` does not list
/// `upgrade`.
pub fn token_list_contains(value: &str, token: &str) -> bool {
    todo!()
}

// Part 2 — the handshake on a real socket (`netlab lesson 08`, "Exercise, part 2").
// The grader connects over 127.0.0.1 and plays the client. Your `accept_key`
// and `token_list_contains` above are yours to use.

use netlab::ws::blocking::HandshakeOutcome;
use std::net::TcpStream;

/// The most bytes a request head may take, request line and empty line included.
pub const MAX_HEAD: usize = 8 * 1024;

/// Runs the server's side of the WebSocket opening handshake on `stream`
/// (RFC 6455 §4.2): reads the client's request head, checks it, answers it.
///
/// - the head is everything up to and including the first empty line
///   (`\r\n\r\n`); it may arrive in any number of pieces. A head still not
///   ended after `MAX_HEAD` bytes is refused with `431` (or `400`) at once:
///   never read more than `MAX_HEAD` bytes while looking for its end;
/// - the request must be (§4.2.1): `GET <path> HTTP/1.1`; a `Host` header;
///   `Upgrade` listing the token `websocket` and `Connection` listing the
///   token `upgrade` (comma-separated lists, any case); `Sec-WebSocket-Version`
///   exactly `13`; a `Sec-WebSocket-Key` that is base64 of exactly 16 bytes.
///   Header names are compared without regard to case;
/// - all good: write `HTTP/1.1 101 Switching Protocols` with the headers
///   `Upgrade: websocket`, `Connection: Upgrade` and `Sec-WebSocket-Accept`
///   for the key (§4.2.2), then the empty line, and return
///   `Accepted { path, leftover }`: the request's path, and the bytes you read
///   after the head (the client may send its first frames right behind its
///   request; bytes you did not read stay in the stream);
/// - a rule broken: write an HTTP error response (a status line, headers, the
///   empty line; a body only with its `Content-Length`) and return
///   `Refused { status }`. `400 Bad Request` fits every broken rule; the more
///   precise codes are accepted too: `405` for another method, `505` for
///   another HTTP version, `426 Upgrade Required` for a missing
///   `Upgrade: websocket` or a wrong version. A wrong version's answer must
///   carry `Sec-WebSocket-Version: 13`, the version spoken here (§4.4);
/// - the client hanging up before its head ends: an error of kind
///   `ErrorKind::UnexpectedEof`, nothing written; any other read or write
///   error (a read timeout the caller set, say) is returned.
pub fn accept_handshake(stream: &mut TcpStream) -> std::io::Result<HandshakeOutcome> {
    todo!()
}
