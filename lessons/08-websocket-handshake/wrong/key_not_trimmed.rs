//! Mistake: the key is hashed with the spaces around the header value, so a key sent as `Sec-WebSocket-Key:  abc== ` gets the wrong answer.
//! Caught by: trim them before hashing

// Part 2 done right: this fixture is about part 1.
pub use netlab::ws::blocking::accept_handshake;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
pub use netlab::ws::handshake::token_list_contains;
use netlab::ws::handshake::WEBSOCKET_GUID;
use sha1::{Digest, Sha1};

pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes()); // should be key.trim()
    sha.update(WEBSOCKET_GUID.as_bytes());
    STANDARD.encode(sha.finalize())
}
