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
