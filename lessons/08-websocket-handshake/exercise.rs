// Lesson 08 — exercise: the server's half of the WebSocket handshake.
//
// Replace each `todo!()`, then run `netlab check 08`.
// `netlab lesson 08` explains every rule the grader checks.

use base64::Engine as _;
use sha1::{Digest, Sha1};

/// The GUID every WebSocket server appends to the client's key (RFC 6455 §1.3).
pub const WEBSOCKET_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key`:
/// base64( SHA-1( key + GUID ) ). Use the key as text (do not decode it);
/// ignore spaces around it.
pub fn accept_key(key: &str) -> String {
    // TODO: `Sha1::new()`, `.update(...)` with the key and the GUID, `.finalize()`,
    // then `base64::engine::general_purpose::STANDARD.encode(...)`.
    todo!()
}

/// Does a header value such as `keep-alive, Upgrade` list `token`?
/// Tokens are separated by commas, may have spaces around them, and are
/// compared without regard to case.
pub fn token_list_contains(value: &str, token: &str) -> bool {
    // TODO: split on ',', trim each piece, compare with `eq_ignore_ascii_case`.
    todo!()
}
